"""Browser-facing protections, on by default: Host checks, cross-origin writes, safe headers.

* **Host header** (DNS rebinding): a request whose ``Host`` is not an allowed host gets 403.
  Allowed by default: ``localhost``, loopback addresses, private-network IP literals, and the
  address the server is bound to. ``--allowed-hosts`` (or ``TRACKLINE_SERVER_ALLOWED_HOSTS`` /
  ``MLFLOW_SERVER_ALLOWED_HOSTS``) takes comma-separated names or ``fnmatch`` patterns; ``*``
  turns the check off. ``/health`` and ``/version`` are always answered.
* **Cross-origin writes** (drive-by requests from a web page): a POST, PUT, PATCH or DELETE
  carrying an ``Origin`` that is neither the server's own nor an allowed origin gets 403.
  Allowed by default: ``http(s)://localhost``, ``127.0.0.1`` and ``[::1]`` on any port;
  ``--cors-allowed-origins`` (or ``TRACKLINE_SERVER_CORS_ALLOWED_ORIGINS``) adds more, ``*``
  allows any. API clients (trackline's, MLflow's) send no ``Origin`` and are unaffected.
* **Headers** on every response: ``X-Content-Type-Options: nosniff`` and
  ``X-Frame-Options: SAMEORIGIN``.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityMiddleware", "SecurityPolicy"]

_EXEMPT_PATHS = frozenset({"/health", "/version"})
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_EXTRA_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"SAMEORIGIN")]


def _split_setting(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _env_list(*names: str) -> list[str] | None:
    for name in names:
        if os.environ.get(name):
            return _split_setting(os.environ[name])
    return None


def _hostname(host_header: str) -> str:
    """The host name of a Host header value, without port or IPv6 brackets, lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host


def _is_private_literal(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


@dataclass(frozen=True)
class SecurityPolicy:
    """Which hosts and origins the server answers; built once per app."""

    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    any_host: bool = False
    any_origin: bool = False
    _host_patterns: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def build(
        cls,
        allowed_hosts: Sequence[str] | None = None,
        allowed_origins: Sequence[str] | None = None,
        bind_host: str | None = None,
    ) -> SecurityPolicy:
        """The policy from explicit settings, else the environment, else the defaults."""
        hosts = list(allowed_hosts) if allowed_hosts is not None else None
        if hosts is None:
            hosts = _env_list("TRACKLINE_SERVER_ALLOWED_HOSTS", "MLFLOW_SERVER_ALLOWED_HOSTS")
        origins = list(allowed_origins) if allowed_origins is not None else None
        if origins is None:
            origins = _env_list(
                "TRACKLINE_SERVER_CORS_ALLOWED_ORIGINS", "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS"
            )
        host_list = [*_LOOPBACK_NAMES, *(hosts or [])]
        if bind_host and bind_host not in ("0.0.0.0", "::", ""):
            host_list.append(bind_host)
        normalized = tuple(
            dict.fromkeys(_hostname(h) if "*" not in h else h.lower() for h in host_list)
        )
        return cls(
            allowed_hosts=normalized,
            allowed_origins=tuple(o.rstrip("/").lower() for o in origins or () if o != "*"),
            any_host="*" in (hosts or ()),
            any_origin="*" in (origins or ()),
            _host_patterns=tuple(h for h in normalized if any(c in h for c in "*?[")),
        )

    def host_allowed(self, host_header: str | None) -> bool:
        if self.any_host:
            return True
        if not host_header:
            return False
        host = _hostname(host_header)
        if host in self.allowed_hosts or _is_private_literal(host):
            return True
        return any(fnmatch.fnmatchcase(host, pattern) for pattern in self._host_patterns)

    def origin_allowed(self, origin: str, host_header: str | None) -> bool:
        if self.any_origin:
            return True
        parts = urlsplit(origin.lower())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        if host_header and parts.netloc == host_header.strip().lower():
            return True  # same origin: the page was served by this server
        if parts.hostname in _LOOPBACK_NAMES:
            return True
        return origin.rstrip("/").lower() in self.allowed_origins


class SecurityMiddleware:
    """Pure ASGI middleware enforcing a :class:`SecurityPolicy` (streams pass through)."""

    def __init__(self, app: ASGIApp, policy: SecurityPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope["headers"])
        host = headers.get("host")
        path: str = scope.get("path", "")
        if path not in _EXEMPT_PATHS and not self.policy.host_allowed(host):
            await _forbid(
                send,
                f"Host {host!r} is not allowed (a possible DNS rebinding attack). Start the "
                "server with --allowed-hosts to accept it.",
            )
            return
        origin = headers.get("origin")
        if (
            origin is not None
            and scope["method"] in _WRITE_METHODS
            and not self.policy.origin_allowed(origin, host)
        ):
            await _forbid(
                send,
                f"Cross-origin {scope['method']} from {origin!r} refused. Start the server with "
                "--cors-allowed-origins to accept it.",
            )
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in _EXTRA_HEADERS if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}


async def _forbid(send: Send, message: str) -> None:
    body = json.dumps({"error_code": "PERMISSION_DENIED", "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *_EXTRA_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
