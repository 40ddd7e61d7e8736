"""The HTTP session of the REST client: one keep-alive :class:`httpx.Client` per tracking server,
with authentication, TLS settings, retries and MLflow's error mapping.

Configuration comes from the environment, under MLflow's names or their ``TRACKLINE_`` twins
(the twin wins when both are set):

===========================================  ===================================================
variable (also ``TRACKLINE_…``)              meaning
===========================================  ===================================================
``MLFLOW_TRACKING_USERNAME`` / ``…PASSWORD``  HTTP Basic authentication
``MLFLOW_TRACKING_TOKEN``                    ``Authorization: Bearer <token>`` (Basic wins)
``MLFLOW_TRACKING_INSECURE_TLS``             ``true``: do not verify the server's certificate
``MLFLOW_TRACKING_SERVER_CERT_PATH``         CA bundle to verify the server's certificate with
``MLFLOW_TRACKING_CLIENT_CERT_PATH``         client certificate (PEM, key included) to present
``MLFLOW_HTTP_REQUEST_MAX_RETRIES``          retries of a failed request (default 5)
``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR``       first pause between retries, doubled each time (2 s)
``MLFLOW_HTTP_REQUEST_BACKOFF_JITTER``       random extra pause, up to this many seconds (1 s)
``MLFLOW_HTTP_REQUEST_TIMEOUT``              seconds to wait for the server (default 120)
===========================================  ===================================================

Credentials are read on every request (a refreshed token is picked up) and never appear in
``repr``, in URLs shown to the user or in error messages: a ``user:password@`` part of the
tracking URI is moved into the Basic credentials, and any credential echoed back by a server
is masked before an error message is built from its answer.

Only transient failures are retried: connection errors and the HTTP statuses 408, 429, 500,
502, 503 and 504, with exponential backoff (honouring ``Retry-After``). A 4xx never is. A
retried request is sent unchanged (same body, same headers), so a server that deduplicates by
content or by an idempotency key can tell the copies apart from new requests.

JSON calls to a plain ``http://`` server (no proxy configured for it) travel over the
session's own keep-alive connections (:mod:`trackline.store.rest.pool`): a fraction of
httpx's cost per request, which is most of a synchronous ``log_metric``. Everything else --
TLS, proxies, redirects, streamed artifact transfers, an injected transport -- goes through
httpx, with the same headers, authentication, retries and errors either way.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import ssl
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit
from urllib.request import getproxies, proxy_bypass

import httpx

from trackline.exceptions import (
    BAD_REQUEST,
    ENDPOINT_NOT_FOUND,
    INTERNAL_ERROR,
    NOT_IMPLEMENTED,
    PERMISSION_DENIED,
    TEMPORARILY_UNAVAILABLE,
    UNAUTHENTICATED,
    InvalidParameterValue,
    MlflowException,
)
from trackline.store.rest.codec import decode
from trackline.store.rest.pool import ConnectionPool, Reply, StaleConnection
from trackline.version import __version__

__all__ = [
    "DEFAULT_BACKOFF_FACTOR",
    "DEFAULT_BACKOFF_JITTER",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "RETRY_STATUSES",
    "USER_AGENT",
    "HttpSession",
    "Resolver",
    "RetryPolicy",
    "env_setting",
    "redact_url",
    "tls_verify",
]

USER_AGENT = f"trackline/{__version__}"
DEFAULT_MAX_RETRIES = 5
DEFAULT_BACKOFF_FACTOR = 2.0
DEFAULT_BACKOFF_JITTER = 1.0
DEFAULT_TIMEOUT = 120.0
#: The longest single pause between two attempts, in seconds.
MAX_BACKOFF = 120.0
#: HTTP statuses worth another attempt (MLflow's client retries the same ones).
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Statuses whose request was refused before the server did anything with it.
_REFUSED_STATUSES = frozenset({408, 429})
#: Transport errors raised before any byte of the request left: a retry cannot duplicate.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Transport errors worth another attempt.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

#: The error code for an HTTP status when the answer carries none.
_CODE_BY_STATUS = {
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: PERMISSION_DENIED,
    404: ENDPOINT_NOT_FOUND,
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    501: NOT_IMPLEMENTED,
    503: TEMPORARILY_UNAVAILABLE,
    504: "DEADLINE_EXCEEDED",
}
_MAX_SHOWN_BODY = 500
_URL_CACHE_SIZE = 256
_MASK = "***"

#: Called with the error of a request that was retried after an attempt that may have reached
#: the server; returns the answer to use instead (the earlier attempt did the work) or None.
Resolver = Callable[[MlflowException], "dict[str, Any] | None"]


def env_setting(name: str) -> str | None:
    """The value of ``TRACKLINE_<name>``, else ``MLFLOW_<name>``; None when neither is set
    (an empty value counts as unset)."""
    for prefix in ("TRACKLINE_", "MLFLOW_"):
        value = os.environ.get(prefix + name)
        if value:
            return value
    return None


def _env_number(name: str, default: float, *, integer: bool = False) -> float:
    text = env_setting(name)
    if text is None:
        return default
    kind = "a non-negative integer" if integer else "a non-negative number"
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = -1
    if not value >= 0:  # also catches NaN
        raise InvalidParameterValue(
            f"MLFLOW_{name} (or TRACKLINE_{name}) must be {kind}, got {text!r}."
        )
    return value


def _env_flag(name: str) -> bool:
    return (env_setting(name) or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed request is sent again."""

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_factor: float = DEFAULT_BACKOFF_FACTOR
    backoff_jitter: float = DEFAULT_BACKOFF_JITTER

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The policy the ``…_HTTP_REQUEST_MAX_RETRIES/BACKOFF_FACTOR/BACKOFF_JITTER``
        variables describe."""
        return cls(
            max_retries=int(
                _env_number("HTTP_REQUEST_MAX_RETRIES", DEFAULT_MAX_RETRIES, integer=True)
            ),
            backoff_factor=_env_number("HTTP_REQUEST_BACKOFF_FACTOR", DEFAULT_BACKOFF_FACTOR),
            backoff_jitter=_env_number("HTTP_REQUEST_BACKOFF_JITTER", DEFAULT_BACKOFF_JITTER),
        )

    def pause(self, retry: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first): the backoff
        ``factor * 2**retry`` plus jitter, at least what ``Retry-After`` asks, at most
        :data:`MAX_BACKOFF`."""
        seconds = self.backoff_factor * (2 ** min(retry, 32))
        if self.backoff_jitter:
            seconds += random.uniform(0, self.backoff_jitter)
        if retry_after is not None and retry_after.strip().isdigit():
            seconds = max(seconds, float(retry_after))
        return float(min(seconds, MAX_BACKOFF))


def tls_verify() -> ssl.SSLContext | bool:
    """What httpx should verify the server's certificate with, from the environment: False
    for ``…_TRACKING_INSECURE_TLS=true``, a context on ``…_TRACKING_SERVER_CERT_PATH`` and/or
    with ``…_TRACKING_CLIENT_CERT_PATH``, else True (the system's trust store)."""
    insecure = _env_flag("TRACKING_INSECURE_TLS")
    ca_path = env_setting("TRACKING_SERVER_CERT_PATH")
    client_cert = env_setting("TRACKING_CLIENT_CERT_PATH")
    if insecure and ca_path:
        raise InvalidParameterValue(
            "MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH cannot both be "
            "set: the first turns verification off, the second says how to verify."
        )
    if not (ca_path or client_cert):
        return not insecure
    try:
        context = ssl.create_default_context(cafile=ca_path)
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if client_cert:
            context.load_cert_chain(client_cert)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidParameterValue(f"Cannot load the TLS certificates configured: {exc}") from None
    return context


def redact_url(url: str) -> str:
    """``url`` without any ``user:password@`` part."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _url_credentials(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url)
    if parts.username is None:
        return None
    return unquote(parts.username), unquote(parts.password or "")


class _EnvAuth(httpx.Auth):
    """Basic or Bearer authentication from the environment, read on every request."""

    def __init__(self, url_credentials: tuple[str, str] | None) -> None:
        self._url_credentials = url_credentials
        self._cache: tuple[tuple[str | None, ...], str | None, tuple[str, ...]] | None = None

    def _settings(self) -> tuple[str | None, ...]:
        return (
            env_setting("TRACKING_USERNAME"),
            env_setting("TRACKING_PASSWORD"),
            env_setting("TRACKING_TOKEN"),
        )

    def current(self) -> tuple[str | None, tuple[str, ...]]:
        """The ``Authorization`` header to send (or None) and the secrets to mask."""
        settings = self._settings()
        cached = self._cache
        if cached is not None and cached[0] == settings:
            return cached[1], cached[2]
        username, password, token = settings
        if not (username and password) and self._url_credentials is not None:
            username, password = self._url_credentials
        header: str | None = None
        secrets: list[str] = []
        if username and password:
            basic = base64.b64encode(f"{username}:{password}".encode()).decode()
            header = f"Basic {basic}"
            secrets += [password, basic]
        elif token:
            header = f"Bearer {token}"
            secrets.append(token)
        if token and token not in secrets:
            secrets.append(token)
        masked = tuple(sorted((s for s in secrets if s), key=len, reverse=True))
        self._cache = (settings, header, masked)
        return header, masked

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        header, _ = self.current()
        if header is not None:
            request.headers["Authorization"] = header
        yield request

    def __repr__(self) -> str:
        return "<credentials from the environment>"


#: Characters left as they are in the path of a request (as httpx leaves them).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
#: Headers of every request sent over the keep-alive pool (httpx's client sends the same).
_BASE_HEADERS = {"User-Agent": USER_AGENT, "Accept": "*/*"}


def _keepalive_pool(
    scheme: str,
    host: str | None,
    port: int | None,
    transport: httpx.BaseTransport | None,
    timeout: float,
) -> ConnectionPool | None:
    """The keep-alive pool for JSON calls to a plain-HTTP server that httpx would reach
    directly (no injected transport, no proxy for the host), else None."""
    if scheme != "http" or host is None or transport is not None:
        return None
    proxies = getproxies()
    if ("http" in proxies or "all" in proxies) and not proxy_bypass(host):
        return None
    return ConnectionPool(host, port or 80, timeout)


def _query_pairs(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query-string pairs as httpx makes them: a list repeats its key; True and False are
    ``true`` and ``false``, None is empty."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if item is True or item is False:
                text = "true" if item else "false"
            else:
                text = "" if item is None else str(item)
            pairs.append((key, text))
    return pairs


@dataclass
class _Attempts:
    """What happened to the earlier attempts of one request."""

    count: int = 0
    #: Whether an earlier attempt may have reached the server (and done the work).
    maybe_applied: bool = False


class HttpSession:
    """Calls to one tracking server over a keep-alive :class:`httpx.Client`.

    ``base_url`` is the tracking URI (``http(s)://host[:port][/prefix]``); ``transport``
    replaces httpx's network transport (tests pass an in-process one); ``timeout`` defaults
    to ``…_HTTP_REQUEST_TIMEOUT`` or 120 s; ``retry`` to :meth:`RetryPolicy.from_env`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidParameterValue(
                f"A tracking server URI must be http(s)://host[:port][/path], got "
                f"{redact_url(base_url)!r}."
            )
        self.base_url = redact_url(base_url).rstrip("/")
        self.retry = retry if retry is not None else RetryPolicy.from_env()
        if timeout is None:
            timeout = _env_number("HTTP_REQUEST_TIMEOUT", DEFAULT_TIMEOUT)
        self.timeout = float(timeout)
        self._sleep = sleep
        self._urls: dict[str, httpx.URL] = {}
        self._targets: dict[str, str] = {}
        self._base_path = urlsplit(self.base_url).path.rstrip("/")
        self._pool = _keepalive_pool(
            parts.scheme, parts.hostname, parts.port, transport, self.timeout
        )
        self._auth = _EnvAuth(_url_credentials(base_url))
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            transport=transport,
            verify=tls_verify() if transport is None else True,
            timeout=self.timeout,
            headers={"User-Agent": USER_AGENT},
            auth=self._auth,
            follow_redirects=True,
        )

    def __repr__(self) -> str:
        return f"HttpSession({self.base_url!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        if self._pool is not None:
            self._pool.close()
        self._client.close()

    # -- requests --------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        resolve: Resolver | None = None,
    ) -> dict[str, Any]:
        """Send a JSON call and return the decoded answer (``{}`` for an empty one).

        ``path`` is relative to the tracking URI (``api/2.0/mlflow/runs/get``); ``body`` is
        the encoded JSON body, ``params`` the query string (lists repeat the key). An error
        answer raises the :class:`~trackline.exceptions.MlflowException` subclass of its
        ``error_code``, unless the request was retried after an attempt that may have done
        the work and ``resolve`` turns the error into an answer.
        """
        response, attempts = self._send(method, path, body, params, headers)
        if response.status_code == 200:
            return self._decode(response, path)
        error = self._error(response, path)
        if resolve is not None and attempts.maybe_applied:
            resolved = resolve(error)
            if resolved is not None:
                return resolved
        raise error

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        content: Callable[[], Iterable[bytes]] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """Send a request with a streamed body and yield the answer unread (for file transfers).

        ``content()`` makes the body; it is called again for every attempt, so a retried
        upload starts again from the beginning of its file. Authentication, TLS and retries
        are those of :meth:`call`. An answer other than 2xx raises the
        :class:`~trackline.exceptions.MlflowException` of its ``error_code``.
        """
        response, _ = self._send(method, path, None, params, headers, content, stream=True)
        assert isinstance(response, httpx.Response)  # streams never take the keep-alive pool
        try:
            if not response.is_success:
                response.read()
                raise self._error(response, path)
            yield response
        finally:
            response.close()

    def _send(
        self,
        method: str,
        path: str,
        body: bytes | None,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        content: Callable[[], Iterable[bytes]] | None = None,
        *,
        stream: bool = False,
    ) -> tuple[httpx.Response | Reply, _Attempts]:
        request_headers = dict(headers or {})
        if body is not None:
            request_headers["Content-Type"] = "application/json"
        attempts = _Attempts()
        policy = self.retry
        pool = self._pool if content is None and not stream else None
        resent = False
        while True:
            retries_left = attempts.count < policy.max_retries
            response: httpx.Response | Reply
            try:
                if pool is not None:
                    response = self._pool_send(pool, method, path, body, params, request_headers)
                else:
                    request = self._client.build_request(
                        method,
                        self._url(path),
                        content=body if content is None else content(),
                        params=params,
                        headers=request_headers,
                    )
                    response = self._client.send(request, stream=stream)
            except _TRANSIENT as exc:
                if isinstance(exc, StaleConnection) and not resent:
                    resent = attempts.maybe_applied = True  # once, at once, on a new connection
                    continue
                if not retries_left:
                    raise self._unreachable(method, path, exc, attempts.count + 1) from None
                attempts.maybe_applied |= not isinstance(exc, _NOT_SENT)
                self._sleep(policy.pause(attempts.count))
                attempts.count += 1
                continue
            except httpx.HTTPError as exc:
                raise self._unreachable(method, path, exc, attempts.count + 1) from None
            status = response.status_code
            if status not in RETRY_STATUSES or not retries_left:
                return response, attempts
            response.read()
            response.close()
            attempts.maybe_applied |= status not in _REFUSED_STATUSES
            self._sleep(policy.pause(attempts.count, response.headers.get("Retry-After")))
            attempts.count += 1

    def _pool_send(
        self,
        pool: ConnectionPool,
        method: str,
        path: str,
        body: bytes | None,
        params: Mapping[str, Any] | None,
        headers: dict[str, str],
    ) -> httpx.Response | Reply:
        """One attempt over the keep-alive pool; a redirect is followed by httpx."""
        target = self._targets.get(path)
        if target is None:
            target = quote(f"{self._base_path}/{path.lstrip('/')}", safe=_PATH_SAFE)
            if len(self._targets) < _URL_CACHE_SIZE:
                self._targets[path] = target
        if params:
            target = f"{target}?{urlencode(_query_pairs(params), quote_via=quote)}"
        sent = {**_BASE_HEADERS, **headers}
        authorization, _ = self._auth.current()
        if authorization is not None:
            sent["Authorization"] = authorization
        reply = pool.request(method, target, body, sent)
        if 300 <= reply.status_code < 400 and reply.headers.get("Location"):
            request = self._client.build_request(
                method, self._url(path), content=body, params=params, headers=headers
            )
            return self._client.send(request)
        return reply

    def _url(self, path: str) -> httpx.URL:
        """The absolute URL of ``path``, parsed once per path (parsing is most of httpx's
        per-request cost)."""
        url = self._urls.get(path)
        if url is None:
            url = httpx.URL(f"{self.base_url}/{path.lstrip('/')}")
            if len(self._urls) < _URL_CACHE_SIZE:
                self._urls[path] = url
        return url

    # -- answers ---------------------------------------------------------------------------

    def _mask(self, text: str) -> str:
        _, secrets = self._auth.current()
        for secret in secrets:
            text = text.replace(secret, _MASK)
        return text

    def _decode(self, response: httpx.Response | Reply, path: str) -> dict[str, Any]:
        content = response.content
        if not content.strip():
            return {}
        try:
            data = decode(content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            shown = self._mask(response.text[:_MAX_SHOWN_BODY])
            raise MlflowException(
                f"The tracking server answered {path} with a body that is not a JSON object: "
                f"{shown!r}",
                error_code=INTERNAL_ERROR,
            )
        return data

    def _error(self, response: httpx.Response | Reply, path: str) -> MlflowException:
        status = response.status_code
        try:
            data = decode(response.content)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("error_code"), str):
            message = data.get("message")
            text = message if isinstance(message, str) else json.dumps(message)
            return MlflowException(self._mask(text), error_code=data["error_code"])
        code = _CODE_BY_STATUS.get(status, BAD_REQUEST if status < 500 else INTERNAL_ERROR)
        shown = self._mask(response.text[:_MAX_SHOWN_BODY])
        return MlflowException(
            f"API request to {self.base_url}/{path} failed with HTTP status {status}: {shown!r}",
            error_code=code,
        )

    def _unreachable(
        self, method: str, path: str, exc: httpx.HTTPError, attempts: int
    ) -> MlflowException:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        detail = self._mask(f"{type(exc).__name__}: {exc}")
        return MlflowException(
            f"{method} {self.base_url}/{path} failed{tries}: {detail}",
            error_code=TEMPORARILY_UNAVAILABLE,
        )
