"""security.md §4.2: the path-traversal payload list against every artifact route.

Each payload goes, in each way a client can encode it, into the URL path of the proxied file
routes (GET, PUT, DELETE), the ``path`` query of the proxied listing, ``artifacts/list`` and
``get-artifact``, and an experiment's ``artifact_location``. Every request must be answered
with a 4xx, and nothing outside the destination may be created, changed or deleted: the whole
test folder (with a canary file beside the destination, a decoy ``etc/passwd`` at every level
a traversal could reach, and a symlinked secret) is snapshotted before and after. Requests are
sent to the ASGI app as a server would pass them on (the path decoded once, the raw form
beside it), because an HTTP client would normalize ``..`` segments away before sending.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import anyio
import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from starlette.applications import Starlette

from trackline.artifacts.paths import check_artifact_path
from trackline.server import create_app

from .conftest import SyncASGITransport, check_error

PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
JSON_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
OTHER_RUN = "0" * 32

#: security.md §4.2, one string per case (the list's "a/%00/b   a%00.txt" are two, etc.).
PAYLOADS = [
    "../etc/passwd", "..%2fetc%2fpasswd", "%2e%2e/etc/passwd", "%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252fetc", "%25252e%25252e%25252f", "..%252f..%252fetc",
    "..%5c..%5cwindows\\win.ini", "..\\..\\windows\\win.ini", "....//....//etc/passwd",
    ".%2e/.%2e/etc", "%c0%ae%c0%ae/etc", "..%u2215..%u2215etc", "..\u2215..\u2215etc",
    "\uff0e\uff0e/etc", "..;/..;/etc/passwd", "a;/../../etc", "a#/../../etc",
    "a?x=/../../etc", "/etc/passwd", "//etc/passwd", "///etc/passwd", "file:///etc/passwd",
    "file://localhost/etc", "file://./etc", "file:/etc", "C:\\Windows\\win.ini",
    "C:/Windows/win.ini", "\\\\?\\C:\\x", "\\\\host\\share", "~/.ssh/id_rsa", "a/%00/b",
    "a%00.txt", "a/\x00/b", "./../x", "a/b/../../..", "", ".", "x" * 4096,
    "http:///#/../../etc/", "http:///?/../../etc/", "mlflow-artifacts://h/../../",
    "dbfs:/a?/a", "//proc/self/cwd/", "s3://bucket/../../other", "models:/m/1/../../x",
    f"runs:/{OTHER_RUN}/x",
]  # fmt: skip
#: Payloads that name the root itself: a legitimate listing, not an attack, where a path
#: may be empty (the listings); everywhere else they must be refused too.
ROOT_NAMES = ("", ".")

#: Characters a raw HTTP request target cannot carry as they are (a server never sees them
#: unencoded): controls, space, non-ASCII and '#' (which starts the fragment a client keeps).
_RAW_SAFE = frozenset(chr(c) for c in range(0x21, 0x7F)) - {"#"}


def _raw(payload: str) -> str:
    """The payload as an attacker would type it into a URL: only what must be encoded is."""
    return "".join(c if c in _RAW_SAFE else quote(c, safe="") for c in payload)


def _encodings(payload: str) -> list[str]:
    """The ways the payload can reach a URL path: raw, quoted as a client quotes a file name,
    and quoted whole (``/`` as ``%2F``)."""
    return list(dict.fromkeys([_raw(payload), quote(payload, safe="/"), quote(payload, safe="")]))


def _snapshot(root: Path, scratch: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root`` (symlinks not followed) with what would show a change,
    except in the folder ``scratch``."""
    found: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == scratch.parent:
            dirnames[:] = [d for d in dirnames if d != scratch.name]
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if name.startswith("trackline.db"):
                continue  # the server's own database changes with every request
            info = path.lstat()
            content = b""
            if path.is_file() and not path.is_symlink():
                content = path.read_bytes()
            target = os.readlink(path) if path.is_symlink() else ""
            found[str(path.relative_to(root))] = (info.st_mode, info.st_size,
                                                  info.st_mtime_ns, content, target)  # fmt: skip
    return found


def _system_passwd() -> tuple[Any, ...]:
    path = Path("/etc/passwd")
    if not path.exists():
        return ()
    return (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())


class Server:
    """The app with a destination nested deep enough that any traversal the payloads could
    make stays inside the test's folder, where decoys and a canary wait."""

    def __init__(self, tmp_path: Path, sqlite_uri: str) -> None:
        self.top = tmp_path
        self.destination = tmp_path / "n1" / "n2" / "n3" / "n4" / "n5" / "mlartifacts"
        self.destination.mkdir(parents=True)
        self.scratch = self.destination / "exp"  # where payloads below a folder may land
        self.scratch.mkdir()
        for level in [tmp_path, *self.destination.parents][:7]:
            decoy = level / "etc" / "passwd"
            decoy.parent.mkdir(exist_ok=True)
            decoy.write_text("decoy\n")
        (self.destination.parent / "canary.txt").write_text("canary\n")
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "secret.txt").write_text("secret\n")
        self.app: Starlette = create_app(sqlite_uri, artifacts_destination=str(self.destination))
        store = self.app.state.context.store
        experiment_id = store.create_experiment("exp")
        self.run_id = store.create_run(experiment_id, "u", 0, [], "r").info.run_id
        self.run_root = self.destination / experiment_id / self.run_id / "artifacts"
        self.run_root.mkdir(parents=True)
        (self.run_root / "ok.txt").write_text("ok\n")
        (self.run_root / "link_dir").symlink_to(outside, target_is_directory=True)
        (self.run_root / "link_file").symlink_to(outside / "secret.txt")
        self.rel_root = f"{experiment_id}/{self.run_id}/artifacts"
        # a registered model version stored at the run's root, and a logged model
        registry = self.app.state.context.registry
        registry.create_registered_model("safe-model")
        registry.create_model_version(
            "safe-model", f"mlflow-artifacts:/{self.rel_root}", self.run_id
        )
        model = store.create_logged_model(experiment_id, name="m")
        self.model_id = model.model_id
        self.model_root = self.destination / model.artifact_location.removeprefix(
            "mlflow-artifacts:/"
        )
        self.model_root.mkdir(parents=True)
        (self.model_root / "MLmodel").write_text("flavors: {}\n")
        # a run whose whole experiment folder is a symlink out of the destination
        linked = store.create_experiment("linked")
        self.linked_run_id = store.create_run(linked, "u", 0, [], "r").info.run_id
        (self.destination / linked).symlink_to(outside, target_is_directory=True)

    def call(self, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
        """Send ``target`` (path and query, as on the request line) the way uvicorn would."""
        path, _, query = target.partition("?")
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": unquote(path),
            "raw_path": path.encode("ascii"), "query_string": query.encode("ascii"),
            "root_path": "", "headers": [(b"host", b"127.0.0.1")],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        }  # fmt: skip
        answer: dict[str, Any] = {"body": b""}
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await anyio.sleep_forever()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        anyio.run(self.app, scope, receive, send)
        status: int = answer["status"]
        return status, answer["body"]


@pytest.fixture
def server(tmp_path: Path, sqlite_uri: str) -> Iterator[Server]:
    """The server and a snapshot check around the test: nothing outside the destination
    (and nothing inside it) may change, and the system's ``/etc/passwd`` neither."""
    made = Server(tmp_path, sqlite_uri)
    before = _snapshot(tmp_path, made.scratch)
    passwd = _system_passwd()
    yield made
    made.app.state.context.store.close()
    assert _snapshot(tmp_path, made.scratch) == before
    assert _system_passwd() == passwd


def _refused(status: int, body: bytes, what: str) -> None:
    assert 400 <= status < 500, f"{what}: {status} {body[:300]!r}"


def test_payloads_in_the_url_path_of_the_file_routes(server: Server) -> None:
    for payload in PAYLOADS:
        for encoded in _encodings(payload):
            for prefix in PREFIXES:
                target = f"{prefix}/artifacts/{encoded}"
                for method in ("GET", "PUT", "DELETE"):
                    status, body = server.call(method, target, b"planted\n")
                    _refused(status, body, f"{method} {target}")


def test_payloads_below_a_folder_stay_in_the_destination(server: Server) -> None:
    """``exp/<payload>``: some are ordinary names there (``exp/file:/etc`` is a folder named
    ``file:``), so they may be written; none may reach outside (the fixture's snapshot)."""
    for payload in PAYLOADS:
        if payload in ROOT_NAMES:
            continue
        for encoded in _encodings(f"exp/{payload}"):
            for prefix in PREFIXES:
                target = f"{prefix}/artifacts/{encoded}"
                for method in ("PUT", "GET", "DELETE"):
                    status, body = server.call(method, target, b"planted\n")
                    assert status < 500, f"{method} {target}: {status} {body[:300]!r}"


def test_payloads_in_the_path_query_of_the_listings(server: Server) -> None:
    for payload in PAYLOADS:
        if payload in ROOT_NAMES:
            continue
        for encoded in _encodings(payload):
            for prefix in PREFIXES:
                target = f"{prefix}/artifacts?path={encoded}"
                status, body = server.call("GET", target)
                _refused(status, body, target)
                # below a real folder some payloads are mere names (a folder "file:"...):
                # they may list, but only what is inside the destination
                under = f"{prefix}/artifacts?path={quote(server.rel_root, safe='/')}/{encoded}"
                status, body = server.call("GET", under)
                if status != 200:
                    _refused(status, body, under)
                assert body == b"{}" or status != 200, f"{under}: {body[:300]!r}"
            for prefix in JSON_PREFIXES:
                target = f"{prefix}/artifacts/list?run_id={server.run_id}&path={encoded}"
                status, body = server.call("GET", target)
                _refused(status, body, target)


def test_payloads_in_get_artifact(server: Server) -> None:
    for payload in PAYLOADS:
        for encoded in _encodings(payload):
            for key in ("run_id", "run_uuid"):
                target = f"/get-artifact?{key}={server.run_id}&path={encoded}"
                status, body = server.call("GET", target)
                _refused(status, body, target)


def test_payloads_in_the_model_file_routes(server: Server) -> None:
    """``/model-versions/get-artifact`` and the logged-model file route serve their files
    and refuse every payload, like ``get-artifact``."""
    version = "/model-versions/get-artifact?name=safe-model&version=1&path="
    logged = f"/api/2.0/mlflow/logged-models/{server.model_id}/artifacts/files?artifact_file_path="
    assert server.call("GET", version + "ok.txt") == (200, b"ok\n")
    assert server.call("GET", logged + "MLmodel") == (200, b"flavors: {}\n")
    for payload in PAYLOADS:
        for encoded in _encodings(payload):
            for target in (version + encoded, logged + encoded):
                status, body = server.call("GET", target)
                _refused(status, body, target)


def test_payloads_as_experiment_artifact_locations(server: Server) -> None:
    """Each payload as an ``artifact_location`` is refused. Appended to the server's root
    (``mlflow-artifacts:/<payload>``) a few are ordinary folder names (``mlflow-artifacts:///
    etc/passwd`` is ``mlflow-artifacts:/etc/passwd``): those may be accepted, but only as a
    normalized location inside the root."""
    transport = httpx.ASGITransport(app=server.app)

    async def create_all() -> list[tuple[str, bool, httpx.Response, httpx.Response | None]]:
        answers = []
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for index, payload in enumerate(PAYLOADS):
                locations = [(payload, True)] if payload else []
                if payload not in ROOT_NAMES:
                    locations.append((f"mlflow-artifacts:/{payload}", False))
                for number, (location, strict) in enumerate(locations):
                    body = {"name": f"e{index}-{number}", "artifact_location": location}
                    response = await client.post("/api/2.0/mlflow/experiments/create", json=body)
                    found = None
                    if response.status_code == 200:
                        found = await client.get(
                            "/api/2.0/mlflow/experiments/get", params=response.json()
                        )
                    answers.append((location, strict, response, found))
        return answers

    for location, strict, response, found in anyio.run(create_all):
        what = f"artifact_location={location!r}"
        if strict or found is None:
            _refused(response.status_code, response.content, what)
            continue
        stored = found.json()["experiment"]["artifact_location"]
        assert stored.startswith("mlflow-artifacts:/"), what
        relative = stored.removeprefix("mlflow-artifacts:/")
        assert check_artifact_path(relative) == relative, (what, stored)


def test_symlinks_out_of_the_root_are_refused(server: Server) -> None:
    root = f"{PREFIXES[0]}/artifacts/{server.rel_root}"
    for method in ("GET", "PUT", "DELETE"):
        for path in ("link_file", "link_dir/secret.txt", "link_dir/new.txt", "link_dir"):
            status, body = server.call(method, f"{root}/{path}", b"planted\n")
            _refused(status, body, f"{method} {path}")
    status, body = server.call("GET", f"{PREFIXES[0]}/artifacts?path={server.rel_root}/link_dir")
    _refused(status, body, "list link_dir")
    # the listing of the run's folder shows its file but not the links
    status, body = server.call("GET", f"{PREFIXES[0]}/artifacts?path={server.rel_root}")
    assert status == 200
    assert b"ok.txt" in body
    assert b"link" not in body
    for path in ("link_file", "link_dir/secret.txt"):
        status, body = server.call("GET", f"/get-artifact?run_id={server.run_id}&path={path}")
        _refused(status, body, f"get-artifact {path}")
    listing = f"{JSON_PREFIXES[0]}/artifacts/list?run_id={server.run_id}&path=link_dir"
    status, body = server.call("GET", listing)
    _refused(status, body, "artifacts/list link_dir")


def test_a_run_root_that_is_a_symlink_out_is_refused(server: Server) -> None:
    run_id = server.linked_run_id
    for target in (
        f"{JSON_PREFIXES[0]}/artifacts/list?run_id={run_id}",
        f"/get-artifact?run_id={run_id}&path=secret.txt",
    ):
        status, body = server.call("GET", target)
        _refused(status, body, target)


def test_the_legitimate_requests_still_work(server: Server) -> None:
    """The same harness lets ordinary requests through (so the refusals above mean something)."""
    ok = f"{PREFIXES[0]}/artifacts/{server.rel_root}/ok.txt"
    assert server.call("GET", ok) == (200, b"ok\n")
    status, _ = server.call("GET", f"/get-artifact?run_id={server.run_id}&path=ok.txt")
    assert status == 200
    status, body = server.call("GET", f"{JSON_PREFIXES[1]}/artifacts/list?run_id={server.run_id}")
    assert status == 200
    assert b"ok.txt" in body


def test_the_in_process_client_sees_json_errors(server: Server) -> None:
    with (
        start_blocking_portal() as portal,
        httpx.Client(
            transport=SyncASGITransport(server.app, portal), base_url="http://127.0.0.1"
        ) as client,
    ):
        response = client.get(f"{PREFIXES[0]}/artifacts", params={"path": "../etc/passwd"})
        assert "'..'" in check_error(response, 400, "INVALID_PARAMETER_VALUE")
