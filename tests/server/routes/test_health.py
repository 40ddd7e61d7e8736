"""``/health``, ``/version`` and ``server-info``."""

from __future__ import annotations

import httpx
import pytest

from trackline.version import __version__


def test_health_and_version_are_plain_text(client: httpx.Client) -> None:
    health = client.get("/health")
    assert (health.status_code, health.text) == (200, "OK")
    assert health.headers["content-type"].startswith("text/plain")
    assert client.get("/version").text == __version__


@pytest.mark.parametrize("prefix", ["/api/3.0/mlflow", "/ajax-api/3.0/mlflow"])
def test_server_info_has_no_multipart(client: httpx.Client, prefix: str) -> None:
    info = client.get(f"{prefix}/server-info").json()
    assert info["store_type"] == "SqlStore"
    assert info["multipart_uploads_enabled"] is False
    assert info["multipart_downloads_enabled"] is False
    assert info["workspaces_enabled"] is False
