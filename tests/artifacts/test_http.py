"""``HttpArtifactRepository``: MLflow's proxied-artifact protocol from the client side.

Against scripted servers (``httpx.MockTransport``) for the protocol's details, against the
real server app in process (no sockets) through the real client for the round trips, and
against ``trackline server`` on a real port for the command line's two set-ups.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from starlette.applications import Starlette
from tests.asgi import SyncASGITransport

import trackline
from trackline.artifacts import get_artifact_repository
from trackline.artifacts import http as artifact_http
from trackline.artifacts.http import HttpArtifactRepository, resolve_artifact_uri
from trackline.entities import FileInfo
from trackline.exceptions import InvalidParameterValue, MlflowException, ResourceDoesNotExist
from trackline.server import create_app
from trackline.store import uri as store_uri
from trackline.store.rest import RestTrackingStore
from trackline.store.rest.http import HttpSession, RetryPolicy
from trackline.tracking import fluent

BASE_URL = "http://127.0.0.1"
_ENV = [
    *(f"{prefix}_TRACKING_URI" for prefix in ("TRACKLINE", "MLFLOW")),
    *(
        f"{prefix}_{name}"
        for prefix in ("TRACKLINE", "MLFLOW")
        for name in ("TRACKING_USERNAME", "TRACKING_PASSWORD", "TRACKING_TOKEN")
    ),
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_RUN_ID",
    "MLFLOW_ENABLE_ASYNC_LOGGING",
    "TRACKLINE_DEFAULT_ARTIFACT_ROOT",
]


@pytest.fixture(autouse=True)
def _clean_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No tracking settings from the machine; the fluent state and store cache reset."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    monkeypatch.chdir(tmp_path)
    trackline.set_tracking_uri(None)
    fluent._reset()
    yield
    while trackline.active_run() is not None:
        trackline.end_run()
    fluent._reset()
    trackline.set_tracking_uri(None)
    store_uri._reset_cache()


# -- URIs ----------------------------------------------------------------------------------


def test_resolving_artifact_uris() -> None:
    tracking = "http://host:5000"
    assert resolve_artifact_uri("mlflow-artifacts:/1/r/artifacts", tracking) == (
        "http://host:5000", "1/r/artifacts"
    )  # fmt: skip
    assert resolve_artifact_uri("mlflow-artifacts:/x", "https://h/prefix/") == (
        "https://h/prefix", "x"
    )  # fmt: skip
    assert resolve_artifact_uri("mlflow-artifacts://other:8080/x", "https://h") == (
        "https://other:8080", "x"
    )  # fmt: skip
    assert resolve_artifact_uri(
        "http://h/prefix/api/2.0/mlflow-artifacts/artifacts/a%20b/c", None
    ) == ("http://h/prefix", "a b/c")
    assert resolve_artifact_uri("https://h/api/2.0/mlflow-artifacts/artifacts", None) == (
        "https://h", ""
    )  # fmt: skip


@pytest.mark.parametrize(
    ("uri", "tracking", "message"),
    [
        ("mlflow-artifacts:/1/r", "sqlite:///x.db", "set it to the server"),
        ("mlflow-artifacts:/1/r", None, "not set"),
        ("mlflow-artifacts:/../etc", "http://h", "'..'"),
        ("mlflow-artifacts:/a%252e%252e/x", "http://h", "encoded dot"),
        ("mlflow-artifacts:/a?x=1", "http://h", "query"),
        ("http://h/somewhere/else", None, "not a tracking server's artifact URL"),
        ("http://h/api/2.0/mlflow-artifacts/artifactsX", None, "not a tracking server's"),
        ("http://h/api/2.0/mlflow-artifacts/artifacts/%2e%2e/x", None, "'..'"),
        ("s3://bucket/x", None, "Not an artifact URI"),
    ],
)
def test_unusable_artifact_uris(uri: str, tracking: str | None, message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        resolve_artifact_uri(uri, tracking)


def test_tracking_uri_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://env:1")
    assert resolve_artifact_uri("mlflow-artifacts:/x")[0] == "http://env:1"
    monkeypatch.setenv("TRACKLINE_TRACKING_URI", "http://twin:2")
    assert resolve_artifact_uri("mlflow-artifacts:/x")[0] == "http://twin:2"


def test_the_schemes_are_registered_but_need_a_connection(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://h:5000")
    for uri in ("mlflow-artifacts:/1/r", "https://h/api/2.0/mlflow-artifacts/artifacts/1"):
        repo = get_artifact_repository(uri)
        assert isinstance(repo, HttpArtifactRepository)
        with pytest.raises(MlflowException, match="through a TracklineClient"):
            repo.list_artifacts()


# -- the protocol against a scripted server --------------------------------------------------


@dataclass
class Seen:
    """A request as the scripted server received it."""

    method: str
    path: str
    params: dict[str, str]
    headers: httpx.Headers
    body: bytes


Script = Callable[[Seen], httpx.Response]


def _repo(script: Script, seen: list[Seen], uri: str = "mlflow-artifacts:/1/r/artifacts",
          retries: int = 0) -> HttpArtifactRepository:  # fmt: skip
    def handler(request: httpx.Request) -> httpx.Response:
        entry = Seen(request.method, request.url.path, dict(request.url.params),
                     request.headers, request.read())  # fmt: skip
        seen.append(entry)
        return script(entry)

    policy = RetryPolicy(max_retries=retries, backoff_factor=0, backoff_jitter=0)
    session = HttpSession("http://h:5000", transport=httpx.MockTransport(handler), retry=policy)
    connected: list[str] = []

    def connect(base_url: str) -> HttpSession:
        connected.append(base_url)
        assert connected == ["http://h:5000"]  # once per repository
        return session

    return HttpArtifactRepository(uri, tracking_uri="http://h:5000", connect=connect)


def _listing(*entries: dict[str, object]) -> httpx.Response:
    return httpx.Response(200, json={"files": list(entries)} if entries else {})


def test_upload_is_one_put_per_file_with_auth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "s3cr3t")
    seen: list[Seen] = []
    repo = _repo(lambda s: httpx.Response(200, json={}), seen)
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "a.json").write_text("{}")
    (tmp_path / "data" / "sub" / "b c.bin").write_bytes(b"\x00\x01")
    repo.log_artifact(tmp_path / "data" / "a.json", "one")
    repo.log_artifacts(tmp_path / "data", "all")
    assert [(s.method, s.path) for s in seen] == [
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/one/a.json"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/all/a.json"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/all/sub/b c.bin"),
    ]
    assert seen[0].headers["authorization"] == "Bearer s3cr3t"
    assert seen[0].headers["content-type"] == "application/json"
    assert seen[2].headers["content-type"] == "application/octet-stream"
    assert seen[2].headers["content-length"] == "2"
    assert seen[2].body == b"\x00\x01"


def test_a_retried_upload_sends_the_whole_file_again(tmp_path: Path) -> None:
    answers = [httpx.Response(503, text="busy"), httpx.Response(200, json={})]
    seen: list[Seen] = []
    repo = _repo(lambda s: answers.pop(0), seen, retries=2)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    repo.log_artifact(source)
    assert [s.method for s in seen] == ["PUT", "PUT"]
    assert seen[0].body == seen[1].body == source.read_bytes()


def test_listing_and_the_one_file_quirk(tmp_path: Path) -> None:
    listings = {
        "1/r/artifacts": _listing(
            {"path": "model", "is_dir": True},
            {"path": "a.txt", "is_dir": False, "file_size": "3"},
        ),
        "1/r/artifacts/model": _listing({"path": "MLmodel", "is_dir": False, "file_size": 4}),
        "1/r/artifacts/a.txt": _listing({"path": "a.txt", "is_dir": False, "file_size": 3}),
    }

    def script(s: Seen) -> httpx.Response:
        if s.path.endswith("/artifacts"):
            return listings.get(s.params.get("path", ""), _listing())
        return httpx.Response(200, content=b"file:" + s.path.encode())

    seen: list[Seen] = []
    repo = _repo(script, seen)
    assert repo.list_artifacts() == [FileInfo("a.txt", False, 3), FileInfo("model", True, None)]
    # a folder holding one file lists it ...
    assert repo.list_artifacts("model") == [FileInfo("model/MLmodel", False, 4)]
    # ... but one file named like the listed path means that the path is that file (MLflow's
    # client reads it so, for servers that list a file as itself)
    assert repo.list_artifacts("a.txt") == []
    assert seen[0].params == {"path": "1/r/artifacts"}
    local = repo.download_artifacts("a.txt", str(tmp_path))
    assert (
        Path(local).read_bytes() == b"file:/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/a.txt"
    )


@pytest.mark.parametrize(
    "name", ["../../../root/.bashrc", "a/b", "", ".", "..", "%2e%2e", "/etc/passwd", "a\\b"]
)
def test_a_hostile_listing_is_refused(tmp_path: Path, name: str) -> None:
    """CVE-2023-6018: a server listing ``../`` names must not make a download write there."""
    seen: list[Seen] = []
    repo = _repo(lambda s: _listing({"path": name, "is_dir": False, "file_size": 1}), seen)
    dst = tmp_path / "dst"
    dst.mkdir()
    with pytest.raises(InvalidParameterValue):
        repo.download_artifacts("", str(dst))
    assert [s.method for s in seen] == ["GET"]  # nothing was downloaded
    assert list(dst.iterdir()) == []


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json=[1]),
        httpx.Response(200, json={"files": {"path": "x"}}),
        httpx.Response(200, json={"files": ["x"]}),
    ],
)
def test_a_malformed_listing_is_an_error(answer: httpx.Response) -> None:
    with pytest.raises(MlflowException, match="malformed listing"):
        _repo(lambda s: answer, []).list_artifacts()


def test_errors_are_the_servers(tmp_path: Path) -> None:
    missing = {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No artifact file at 'x'"}
    seen: list[Seen] = []
    repo = _repo(lambda s: httpx.Response(404, json=missing) if s.method == "GET" and
                 not s.path.endswith("/artifacts") else _listing(), seen)  # fmt: skip
    with pytest.raises(ResourceDoesNotExist, match="No artifact file"):
        repo.download_artifacts("x", str(tmp_path))
    assert not (tmp_path / "x").exists()  # no partial file left


def test_delete(tmp_path: Path) -> None:
    seen: list[Seen] = []
    repo = _repo(lambda s: httpx.Response(200, json={}), seen)
    repo.delete_artifacts("model")
    repo.delete_artifacts()
    assert [(s.method, s.path) for s in seen] == [
        ("DELETE", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/model"),
        ("DELETE", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts"),
    ]
    with pytest.raises(InvalidParameterValue, match="below the server's root"):
        _repo(lambda s: httpx.Response(200), [], uri="mlflow-artifacts:/").delete_artifacts()


def test_large_transfers_show_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(artifact_http, "PROGRESS_THRESHOLD_BYTES", 1024)
    source = tmp_path / "weights.bin"
    source.write_bytes(b"w" * (4 * 1024 * 1024))
    body = source.read_bytes()

    def script(s: Seen) -> httpx.Response:
        return (
            httpx.Response(200, json={}) if s.method == "PUT" else httpx.Response(200, content=body)
        )

    repo = _repo(script, [])
    repo.log_artifact(source)
    repo._download_file("weights.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == body
    lines = capsys.readouterr().err.splitlines()
    uploads = [line for line in lines if line.startswith("Uploading weights.bin")]
    downloads = [line for line in lines if line.startswith("Downloading weights.bin")]
    assert uploads[0] == "Uploading weights.bin:   0% (0.0/4.0 MB)"
    assert [line.split("%")[0][-3:] for line in uploads] == ["  0", " 25", " 50", " 75", "100"]
    assert uploads[-1] == "Uploading weights.bin: 100% (4.0/4.0 MB)"
    assert downloads[-1] == "Downloading weights.bin: 100% (4.0/4.0 MB)"


def test_small_transfers_are_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f.txt").write_text("x")
    _repo(lambda s: httpx.Response(200, json={}), []).log_artifact(tmp_path / "f.txt")
    assert capsys.readouterr().err == ""


# -- round trips through the real client, against the server app in process ------------------


@dataclass
class Served:
    """The in-process server the client talks to."""

    app: Starlette
    destination: Path
    http: httpx.Client


def _serve(monkeypatch: pytest.MonkeyPatch, app: Starlette, destination: Path) -> Iterator[Served]:
    """Point the process's tracking URI at ``app`` (REST stores of ``http:`` URIs use it)."""
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        with lifespan:
            transport = SyncASGITransport(app, portal)
            monkeypatch.setitem(
                store_uri._builders, "http", lambda uri: RestTrackingStore(uri, transport=transport)
            )
            trackline.set_tracking_uri(BASE_URL)
            with httpx.Client(transport=transport, base_url=BASE_URL) as http:
                yield Served(app, destination, http)
            while trackline.active_run() is not None:
                trackline.end_run()
            store_uri._reset_cache()


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch, sqlite_uri: str, tmp_path: Path) -> Iterator[Served]:
    """A server that proxies artifacts into ``<tmp>/mlartifacts``."""
    destination = tmp_path / "mlartifacts"
    app = create_app(sqlite_uri, artifacts_destination=str(destination))
    yield from _serve(monkeypatch, app, destination)


@pytest.fixture
def local_root(
    monkeypatch: pytest.MonkeyPatch, sqlite_uri: str, tmp_path: Path
) -> Iterator[Served]:
    """A server whose experiments keep their artifacts in ``<tmp>/artifacts_local``, which
    clients on the same machine write directly (the notes' second scenario)."""
    app = create_app(
        sqlite_uri,
        str(tmp_path / "artifacts_local"),
        artifacts_destination=str(tmp_path / "mlartifacts"),
    )
    yield from _serve(monkeypatch, app, tmp_path / "artifacts_local")


def _files(tmp_path: Path) -> tuple[Path, Path]:
    """A preprocessor file and a folder with nested sub-folders to log."""
    preprocessor = tmp_path / "models" / "preprocessor.b"
    preprocessor.parent.mkdir()
    preprocessor.write_bytes(b"\x80\x04preprocessor" * 100)
    data = tmp_path / "data"
    (data / "sub" / "deeper").mkdir(parents=True)
    (data / "top.csv").write_text("a,b\n1,2\n")
    (data / "sub" / "b.txt").write_text("bee")
    (data / "sub" / "deeper" / "c.bin").write_bytes(os.urandom(70_000))
    return preprocessor, data


def _log_notes_run(tmp_path: Path) -> tuple[str, Path, Path]:
    preprocessor, data = _files(tmp_path)
    trackline.set_experiment("nyc-taxi-experiment")
    with trackline.start_run() as run:
        trackline.log_param("alpha", 0.1)
        trackline.log_artifact(str(preprocessor), artifact_path="preprocessor")
        trackline.log_artifact(str(preprocessor))
        trackline.log_artifacts(str(data), artifact_path="data")
        trackline.log_text("hello", "notes/hello.txt")
    return run.info.run_id, preprocessor, data


def _check_listing_and_downloads(run_id: str, tmp_path: Path, preprocessor: Path,
                                 data: Path) -> None:  # fmt: skip
    client = trackline.MlflowClient(BASE_URL)
    size = preprocessor.stat().st_size
    assert client.list_artifacts(run_id) == [
        FileInfo("data", True, None),
        FileInfo("notes", True, None),
        FileInfo("preprocessor", True, None),
        FileInfo("preprocessor.b", False, size),
    ]
    assert client.list_artifacts(run_id, "data/sub") == [
        FileInfo("data/sub/b.txt", False, 3),
        FileInfo("data/sub/deeper", True, None),
    ]
    assert client.list_artifacts(run_id, "preprocessor.b") == []
    assert client.list_artifacts(run_id, "nothing") == []
    # the notes: client.download_artifacts(run_id=run_id, path='preprocessor', dst_path='.')
    got = client.download_artifacts(run_id=run_id, path="preprocessor", dst_path=".")
    assert Path(got) == (tmp_path / "preprocessor").resolve()
    assert (tmp_path / "preprocessor" / "preprocessor.b").read_bytes() == preprocessor.read_bytes()
    folder = tmp_path / "folder"
    folder.mkdir()
    got = client.download_artifacts(run_id, "data", str(folder))
    assert Path(got) == folder / "data"
    for source in data.rglob("*"):
        copy = folder / "data" / source.relative_to(data)
        assert copy.is_dir() if source.is_dir() else copy.read_bytes() == source.read_bytes()
    single = tmp_path / "single"
    single.mkdir()
    got = client.download_artifacts(run_id, "data/sub/b.txt", str(single))
    assert Path(got).read_text() == "bee"
    with pytest.raises(ResourceDoesNotExist):
        client.download_artifacts(run_id, "nothing.txt", str(single))


def test_round_trip_through_proxied_artifacts(proxied: Served, tmp_path: Path) -> None:
    run_id, preprocessor, data = _log_notes_run(tmp_path)
    run = trackline.get_run(run_id)
    experiment_id = run.info.experiment_id
    assert run.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
    stored = proxied.destination / experiment_id / run_id / "artifacts"
    assert (stored / "preprocessor" / "preprocessor.b").read_bytes() == preprocessor.read_bytes()
    assert (stored / "data" / "sub" / "deeper" / "c.bin").read_bytes() == (
        data / "sub" / "deeper" / "c.bin"
    ).read_bytes()
    assert (stored / "notes" / "hello.txt").read_text() == "hello"
    _check_listing_and_downloads(run_id, tmp_path, preprocessor, data)
    # the server's own listing (the UI's) agrees
    listing = proxied.http.get("/api/2.0/mlflow/artifacts/list", params={"run_id": run_id})
    assert [f["path"] for f in listing.json()["files"]] == [
        "data", "notes", "preprocessor", "preprocessor.b"
    ]  # fmt: skip


def test_round_trip_with_a_direct_local_root(local_root: Served, tmp_path: Path) -> None:
    run_id, preprocessor, data = _log_notes_run(tmp_path)
    run = trackline.get_run(run_id)
    assert run.info.artifact_uri.startswith(local_root.destination.resolve().as_uri())
    landed = list(local_root.destination.rglob("preprocessor.b"))
    assert len(landed) == 2
    assert not (tmp_path / "mlartifacts").exists()  # nothing went through the proxy
    _check_listing_and_downloads(run_id, tmp_path, preprocessor, data)
    got = local_root.http.get("/get-artifact", params={"run_id": run_id, "path": "notes/hello.txt"})
    assert got.text == "hello"


def test_a_client_with_its_own_tracking_uri(proxied: Served, tmp_path: Path) -> None:
    """``MlflowClient("http://...")`` resolves ``mlflow-artifacts:`` against its own URI, not
    the process's (which here is unset)."""
    trackline.set_tracking_uri(None)
    client = trackline.MlflowClient(BASE_URL)
    experiment_id = client.create_experiment("own")
    run_id = client.create_run(experiment_id).info.run_id
    (tmp_path / "f.txt").write_text("mine")
    client.log_artifact(run_id, str(tmp_path / "f.txt"), "x")
    assert client.list_artifacts(run_id, "x") == [FileInfo("x/f.txt", False, 4)]
    assert (proxied.destination / experiment_id / run_id / "artifacts" / "x" / "f.txt").exists()


def test_proxied_artifacts_need_a_server_tracking_uri(
    proxied: Served, tmp_path: Path, sqlite_uri: str
) -> None:
    store = proxied.app.state.context.store
    experiment_id = store.create_experiment("x")
    run_id = store.create_run(experiment_id, "u", 0, [], "r").info.run_id
    client = trackline.MlflowClient(sqlite_uri)  # the same database, no server
    with pytest.raises(InvalidParameterValue, match="served by a tracking server"):
        client.list_artifacts(run_id)


# -- trackline server on a real port -----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _server(tmp_path: Path, *options: str) -> Iterator[str]:
    """``trackline server`` with ``options`` in ``tmp_path``; its URL. Stopped by SIGTERM."""
    port = _free_port()
    command = [sys.executable, "-m", "trackline", "server", *options,
               "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited early: {process.communicate()}")
            try:
                if httpx.get(f"{url}/health", timeout=2).text == "OK":
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail("the server did not answer /health")
                time.sleep(0.2)
        yield url
    finally:
        store_uri._reset_cache()
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _log_over_http(url: str, tmp_path: Path) -> trackline.entities.Run:
    model = tmp_path / "models" / "lin_reg.bin"
    model.parent.mkdir(exist_ok=True)
    model.write_bytes(b"weights")
    trackline.set_tracking_uri(url)
    trackline.set_experiment("scenario")
    with trackline.start_run() as run:
        trackline.log_artifact(str(model), artifact_path="models_pickle")
    return trackline.get_run(run.info.run_id)


def test_cli_scenario_2_local_artifact_root(tmp_path: Path) -> None:
    """``trackline server --backend-store-uri sqlite:///backend.db --default-artifact-root
    ./artifacts_local``: the client writes the artifacts straight into the folder."""
    with _server(tmp_path, "--backend-store-uri", "sqlite:///backend.db",
                 "--default-artifact-root", "./artifacts_local") as url:  # fmt: skip
        run = _log_over_http(url, tmp_path)
    root = (tmp_path / "artifacts_local").resolve()
    assert run.info.artifact_uri.startswith(root.as_uri())
    landed = list(root.rglob("lin_reg.bin"))
    assert [p.relative_to(root).parts[-3:] for p in landed] == [
        ("artifacts", "models_pickle", "lin_reg.bin")
    ]
    assert (tmp_path / "backend.db").is_file()
    assert not (tmp_path / "mlruns").exists()
    assert not (tmp_path / "mlartifacts").exists()


def test_cli_proxied_artifacts(tmp_path: Path) -> None:
    """``--artifacts-destination``: the artifacts go through the server into the folder."""
    with _server(tmp_path, "--backend-store-uri", f"sqlite:///{tmp_path}/backend.db",
                 "--artifacts-destination", "served") as url:  # fmt: skip
        run = _log_over_http(url, tmp_path)
        assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
        back = tmp_path / "back"
        back.mkdir()
        got = trackline.MlflowClient(url).download_artifacts(run.info.run_id, "models_pickle",
                                                            str(back))  # fmt: skip
        assert (Path(got) / "lin_reg.bin").read_bytes() == b"weights"
    landed = list((tmp_path / "served").rglob("lin_reg.bin"))
    assert len(landed) == 1
    assert landed[0].read_bytes() == b"weights"


def test_cli_without_serving_artifacts(tmp_path: Path) -> None:
    with _server(tmp_path, "--backend-store-uri", "sqlite:///backend.db",
                 "--no-serve-artifacts") as url:  # fmt: skip
        answer = httpx.get(f"{url}/api/2.0/mlflow-artifacts/artifacts", params={"path": "x"})
        experiment = httpx.get(f"{url}/api/2.0/mlflow/experiments/get",
                               params={"experiment_id": "0"}).json()  # fmt: skip
    assert answer.status_code == 503
    assert json.loads(answer.text)["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert experiment["experiment"]["artifact_location"].startswith("file://")
