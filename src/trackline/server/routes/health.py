"""Liveness and identity: ``/health``, ``/version`` and ``/api/3.0/mlflow/server-info``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from trackline.server.routes import Endpoint, ServerContext, response_message
from trackline.server.wire import Field, Message, Params
from trackline.version import __version__

__all__ = ["ENDPOINTS", "ROUTES", "health", "version"]


async def health(request: Request) -> PlainTextResponse:
    """Liveness probe: ``OK`` while the server answers."""
    return PlainTextResponse("OK")


async def version(request: Request) -> PlainTextResponse:
    """The trackline version this server runs."""
    return PlainTextResponse(__version__)


def server_info(ctx: ServerContext, req: Params) -> dict[str, Any]:
    """What the server supports; clients fall back to defaults when a field is absent."""
    return {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    }


ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/version", version, methods=["GET"]),
]

ENDPOINTS = [
    Endpoint(
        "server-info",
        ("GET",),
        Message("ServerInfoRequest"),
        response_message(
            "ServerInfo",
            Field("store_type", "string"),
            Field("workspaces_enabled", "bool"),
            Field("trace_archival_enabled", "bool"),
            Field("multipart_uploads_enabled", "bool"),
            Field("multipart_downloads_enabled", "bool"),
            Field("presigned_upload_run_id_supported", "bool"),
            Field("presigned_upload_model_id_supported", "bool"),
        ),
        server_info,
        "The server's capabilities (no multipart or presigned artifact transfers).",
        prefixes=("/api/3.0/mlflow", "/ajax-api/3.0/mlflow"),
        blocking=False,
    ),
]
