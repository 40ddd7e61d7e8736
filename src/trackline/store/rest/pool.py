"""Plain keep-alive HTTP/1.1 connections for the REST client's JSON calls.

httpx spends about half a millisecond of Python on a request (request and response models,
the auth flow, hooks, its connection pool). A training loop that logs each step
synchronously makes one request per step, so for plain-HTTP tracking servers
:class:`~trackline.store.rest.http.HttpSession` sends its JSON calls over a
:class:`ConnectionPool` and keeps httpx for everything else (TLS, proxies, redirects,
streamed artifact transfers, the in-process transports of tests).

A request leaves in one ``send`` (head and body together: a server woken twice per request
answers later) and its answer is read by a small HTTP/1.1 reader: status line, headers,
then a body framed by ``Content-Length``, by chunks, or by the end of the connection.

Failures are raised as httpx's exceptions, so that the session retries them exactly as it
retries httpx's: :class:`httpx.ConnectError` and :class:`httpx.ConnectTimeout` when nothing
was sent; :class:`httpx.ReadTimeout`, :class:`httpx.ReadError` or
:class:`httpx.RemoteProtocolError` when the request may have reached the server; and
:class:`StaleConnection` when a kept-alive connection turned out to be closed by the server
before it answered anything (the session resends such a request at once on a new connection).
"""

from __future__ import annotations

import io
import os
import re
import select
import socket
from collections.abc import Mapping

import httpx

__all__ = ["MAX_IDLE", "ConnectionPool", "Headers", "Reply", "StaleConnection"]

#: Idle connections kept per pool (one per thread that calls at once is plenty).
MAX_IDLE = 8
#: The longest status or header line read, and the most header lines (http.client's limits).
_MAX_LINE = 65536
_MAX_HEADERS = 100

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: Line breaks and other control characters, which must not reach the request's head.
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) (\d{3})(?: [^\r\n]*)?\r?\n")
_CLOSED = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


class StaleConnection(httpx.RemoteProtocolError):
    """A kept-alive connection was closed by the server before any answer came back (idle
    connections time out on the server). The request may have been read; it is resent at
    once on a new connection, as a retry that may repeat work."""


class _Closed(Exception):
    """The server closed the connection before the first byte of an answer."""


class Headers(dict[str, str]):
    """Response headers by lower-case name (repeats joined by ``", "``); ``get`` takes any
    case."""

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The header's value, or ``default``."""
        return super().get(name.lower(), default)


class Reply:
    """A complete answer: status, headers and body."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Headers, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.content.decode("utf-8", "replace")

    @property
    def is_success(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status_code < 300

    def read(self) -> bytes:
        """The body (already read)."""
        return self.content

    def close(self) -> None:
        """Nothing to release: the connection went back to its pool."""


class _Connection:
    """A connected socket and the buffered reader of its answers."""

    __slots__ = ("file", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.file: io.BufferedReader = sock.makefile("rb")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


class ConnectionPool:
    """Keep-alive connections to one ``host:port``, safe to use from several threads (each
    call takes an idle connection or opens one, and gives it back when the answer is read)."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        shown = f"[{host}]" if ":" in host else host
        self._host_line = f"Host: {shown}:{port}\r\n" if port != 80 else f"Host: {shown}\r\n"
        self._idle: list[_Connection] = []
        self._pid = os.getpid()

    def request(
        self, method: str, target: str, body: bytes | None, headers: Mapping[str, str]
    ) -> Reply:
        """Send one request and read its whole answer; raise httpx's exceptions."""
        data = self._encode(method, target, body, headers)
        conn, reused = self._checkout()
        try:
            conn.sock.sendall(data)
        except BaseException as exc:
            conn.close()
            if reused and isinstance(exc, _CLOSED):
                raise StaleConnection(f"The kept-alive connection was closed: {exc}") from exc
            _raise_network_error(exc, httpx.WriteTimeout, httpx.WriteError)
            raise
        try:
            status, found, content, keep = _read_answer(conn.file, method)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, _Closed):
                if reused:
                    raise StaleConnection(f"The kept-alive connection was closed: {exc}") from exc
                raise httpx.RemoteProtocolError(
                    "The server closed the connection without an answer."
                ) from exc
            _raise_network_error(exc, httpx.ReadTimeout, httpx.ReadError)
            raise
        if keep and len(self._idle) < MAX_IDLE:
            self._idle.append(conn)
        else:
            conn.close()
        return Reply(status, found, content)

    def _encode(
        self, method: str, target: str, body: bytes | None, headers: Mapping[str, str]
    ) -> bytes:
        lines = [f"{method} {target} HTTP/1.1\r\n", self._host_line]
        unsafe = _UNSAFE.search(target) is not None
        for name, value in headers.items():
            unsafe = unsafe or _UNSAFE.search(name) is not None or _UNSAFE.search(value) is not None
            lines.append(f"{name}: {value}\r\n")
        if body is not None or method in _BODY_METHODS:
            lines.append(f"Content-Length: {len(body or b'')}\r\n")
        lines.append("\r\n")
        try:
            if unsafe:
                raise ValueError("a line break or a control character")
            head = "".join(lines).encode("latin-1")
        except ValueError as exc:  # UnicodeEncodeError too
            raise httpx.LocalProtocolError(f"Invalid request target or header: {exc}") from None
        return head + body if body else head

    def _checkout(self) -> tuple[_Connection, bool]:
        """An idle connection that is still open, or a new one (connected here, so that a
        failure to connect is told apart from a failure after sending)."""
        if self._pid != os.getpid():  # a forked child must not share its parent's sockets
            self._idle = []
            self._pid = os.getpid()
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                break
            if _still_open(conn.sock):
                return conn, True
            conn.close()
        try:
            sock = socket.create_connection((self.host, self.port), self.timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"{type(exc).__name__}: {exc}") from exc
        except OSError as exc:
            raise httpx.ConnectError(f"{exc}") from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # pragma: no cover - a platform without it
            pass
        return _Connection(sock), False

    def close(self) -> None:
        """Close the idle connections."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _still_open(sock: socket.socket) -> bool:
    """Whether an idle connection can take a request: nothing to read on it (readable
    while idle means the server closed it, or sent something unasked)."""
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return not poller.poll(0)
        readable, _, _ = select.select([sock], [], [], 0)
        return not readable
    except (OSError, ValueError):
        return False


def _raise_network_error(
    exc: BaseException, timeout: type[httpx.TimeoutException], error: type[httpx.NetworkError]
) -> None:
    """Raise httpx's exception for a socket failure; return for any other exception."""
    if isinstance(exc, TimeoutError):
        raise timeout(f"{type(exc).__name__}: {exc}") from exc
    if isinstance(exc, OSError):
        raise error(f"{type(exc).__name__}: {exc}") from exc


def _protocol_error(text: str) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError(f"Malformed answer from the server: {text}")


def _line(file: io.BufferedReader) -> bytes:
    line = file.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise _protocol_error("a line is too long")
    return line


def _read_answer(file: io.BufferedReader, method: str) -> tuple[int, Headers, bytes, bool]:
    """Status, headers, body and whether the connection stays open, of one answer (any
    interim 1xx answers skipped)."""
    try:
        line = _line(file)
    except (ConnectionResetError, ConnectionAbortedError) as exc:
        raise _Closed(f"{type(exc).__name__}: {exc}") from exc
    if not line:
        raise _Closed("the connection ended")
    while True:
        matched = _STATUS_LINE.fullmatch(line)
        if matched is None:
            raise _protocol_error(f"status line {line[:80]!r}")
        minor, status = matched.group(1), int(matched.group(2))
        headers = _read_headers(file)
        if status >= 200 or status == 101:
            break
        line = _line(file)  # an interim answer (1xx): the real one follows
    connection = (headers.get("connection") or "").lower()
    keep = "close" not in connection and (minor == b"1" or "keep-alive" in connection)
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return status, headers, b"", keep
    if "chunked" in (headers.get("transfer-encoding") or "").lower():
        return status, headers, _read_chunks(file), keep
    length = headers.get("content-length")
    if length is None:
        return status, headers, file.read(), False  # framed by the end of the connection
    if not length.isdigit():
        raise _protocol_error(f"Content-Length {length!r}")
    content = file.read(int(length))
    if len(content) != int(length):
        raise _protocol_error("the connection closed inside the body")
    return status, headers, content, keep


def _read_headers(file: io.BufferedReader) -> Headers:
    headers = Headers()
    for _ in range(_MAX_HEADERS + 1):
        line = _line(file)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise _protocol_error("the connection closed inside the headers")
        name, colon, value = line.partition(b":")
        if not colon:
            raise _protocol_error(f"header line {line[:80]!r}")
        key = name.strip().lower().decode("latin-1")
        text = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    raise _protocol_error("too many headers")


def _read_chunks(file: io.BufferedReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_text = _line(file).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _protocol_error(f"chunk size {size_text[:20]!r}") from None
        if size == 0:
            while _line(file) not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(parts)
        chunk = file.read(size)
        if len(chunk) != size:
            raise _protocol_error("the connection closed inside a chunk")
        parts.append(chunk)
        _line(file)  # the CRLF after the chunk
