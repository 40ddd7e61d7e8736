"""The UI's state-changing calls: JSON POSTs that only this server's own pages may send.

Every action is ``POST /ui-api/...`` with a JSON object body and runs only when the request
comes from a page of this very server:

* its ``Origin`` header equals the server's own origin (scheme and ``Host``), or it has no
  ``Origin`` but ``Sec-Fetch-Site: same-origin``; anything else is 403. This is stricter than
  the API's check (:mod:`trackline.server.security`, which runs first and lets any loopback
  origin write): a page on another local port cannot drive the UI's calls;
* its body is ``Content-Type: application/json``, which a cross-site HTML form cannot send
  and a cross-site script can only send after a CORS preflight that this server never
  grants.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from trackline.exceptions import InvalidParameterValue
from trackline.server.errors import error_response
from trackline.ui import urls
from trackline.ui.context import UiContext
from trackline.ui.rendering import json_response

__all__ = ["Action", "Body", "action_route", "basic_user", "same_origin"]

#: The largest body an action reads.
MAX_ACTION_BYTES = 1024 * 1024


class Body:
    """An action's JSON body with typed accessors that raise INVALID_PARAMETER_VALUE, the
    request's path parameters and its author (``user``: the HTTP Basic username, None without
    one; the registry records it in its audit trail, as the API's calls do)."""

    def __init__(
        self, data: Mapping[str, Any], path: Mapping[str, str], user: str | None = None
    ) -> None:
        self.data = data
        self.path = path
        self.user = user

    def string(self, name: str, *, allow_empty: bool = False) -> str:
        """A required string field."""
        value = self.data.get(name)
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            raise InvalidParameterValue(f"'{name}' must be a non-empty string")
        return value

    def flag(self, name: str) -> bool:
        """An optional boolean field (false when absent)."""
        value = self.data.get(name, False)
        if not isinstance(value, bool):
            raise InvalidParameterValue(f"'{name}' must be true or false")
        return value

    def optional(self, name: str) -> str | None:
        """An optional string field (None when absent or empty)."""
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise InvalidParameterValue(f"'{name}' must be a string")
        return value

    def strings(self, name: str) -> list[str]:
        """A required non-empty list of strings."""
        value = self.data.get(name)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise InvalidParameterValue(f"'{name}' must be a non-empty list of strings")
        return value


Action = Callable[[UiContext, Body], Mapping[str, Any]]


def same_origin(request: Request) -> bool:
    """Whether a request was sent by a page of this server (see the module docstring)."""
    origin = request.headers.get("origin")
    host = request.headers.get("host", "").strip().lower()
    if origin is None:
        return request.headers.get("sec-fetch-site") == "same-origin"
    parts = urlsplit(origin.strip().lower())
    return bool(host) and parts.scheme == request.url.scheme and parts.netloc == host


def basic_user(request: Request) -> str | None:
    """The username of the request's HTTP Basic credentials, or None."""
    scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def _forbidden() -> Response:
    body = {
        "error_code": "PERMISSION_DENIED",
        "message": "The UI's actions are only accepted from this server's own pages.",
    }
    return Response(json.dumps(body), status_code=403, media_type="application/json")


async def _read_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise InvalidParameterValue("The UI's actions take a JSON body (application/json)")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_ACTION_BYTES:
            raise InvalidParameterValue("The request body is too large")
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise InvalidParameterValue("The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidParameterValue("The request body must be a JSON object")
    return data


def action_route(path: str, action: Action, ctx: UiContext, summary: str) -> BaseRoute:
    """``POST /ui-api`` + ``path`` running ``action`` for same-origin JSON requests."""

    async def endpoint(request: Request) -> Response:
        if not same_origin(request):
            return _forbidden()
        try:
            data = await _read_body(request)
            body = Body(data, dict(request.path_params), basic_user(request))
            result = await run_in_threadpool(action, ctx, body)
        except Exception as exc:
            return error_response(exc)
        return json_response(dict(result))

    endpoint.__doc__ = summary
    endpoint.__name__ = action.__name__
    return Route(urls.API_PREFIX + path, endpoint, methods=["POST"])
