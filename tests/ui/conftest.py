"""Fixtures of the UI tests: the seeded store, the app in process, and for the browser tests
a real ``trackline ui`` on a loopback port with Debian's Chromium driven by Playwright.

Chromium comes from ``scripts/bootstrap`` (``apt-get install chromium``); Playwright's own
browser download is never used. Where Chromium or Playwright is missing the browser tests
skip with the reason, which ``TRACKLINE_REQUIRE_SERVICES=1`` (CI) turns into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from tests.asgi import SyncASGITransport
from tests.conftest import unreachable
from tests.ui.seed import Seeded, seed

import trackline
from trackline.server import create_app
from trackline.store import uri as store_uri
from trackline.tracking import fluent

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Seeded]:
    """A SQLite store seeded once per session (tests that write use their own store)."""
    path = tmp_path_factory.mktemp("ui") / "mlflow.db"
    uri = f"sqlite:///{path}"
    return uri, seed(uri)


@pytest.fixture
def ui_client(sqlite_uri: str) -> Iterator[tuple[httpx.Client, Seeded]]:
    """An in-process client of the server (API and UI) on a freshly seeded store."""
    seeded = seed(sqlite_uri)
    app = create_app(sqlite_uri)
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        transport = SyncASGITransport(app, portal)
        with lifespan, httpx.Client(transport=transport, base_url="http://127.0.0.1") as client:
            yield client, seeded


#: The environment that would point the fluent API elsewhere.
_TRACKING_ENV = (
    "TRACKLINE_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_RUN_ID",
    "TRACKLINE_DEFAULT_ARTIFACT_ROOT",
)


def _reset_tracking() -> None:
    while trackline.active_run() is not None:
        trackline.end_run()
    fluent._reset()
    trackline.set_tracking_uri(None)
    store_uri._reset_cache()


@pytest.fixture
def log_to(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | None], None]]:
    """``trackline.set_tracking_uri``, for tests that log with the fluent API (to a store or
    to the live server); the fluent state and the tracking URI are reset afterwards."""
    for name in _TRACKING_ENV:
        monkeypatch.delenv(name, raising=False)
    _reset_tracking()
    try:
        yield trackline.set_tracking_uri
    finally:
        _reset_tracking()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_server(seeded_store: tuple[str, Seeded]) -> Iterator[tuple[str, Seeded]]:
    """``trackline ui`` on the seeded store, as a subprocess on a free loopback port."""
    uri, seeded = seeded_store
    port = _free_port()
    command = [sys.executable, "-m", "trackline", "ui", "--backend-store-uri", uri,
               "--port", str(port)]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("TRACKLINE_DEFAULT_ARTIFACT_ROOT", None)
    log = Path(uri.removeprefix("sqlite:///")).with_name("server.log")
    with open(log, "w") as output:  # a file, not a pipe nobody reads while the tests run
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, text=True, env=env
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"trackline ui exited early: {log.read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("trackline ui did not answer /health within 60 s")
            time.sleep(0.2)
        yield url, seeded
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")  # closed after the browser tests: its event loop
# must not outlive them (other tests run asyncio in this thread)
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unreachable("Playwright", f"{exc} (pip install -e '.[dev]')")
    if not os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is None:
        unreachable("Chromium", f"{CHROMIUM} is missing (scripts/bootstrap installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class BrowserPage:
    """A page of the browser that records console errors and uncaught exceptions."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def open(self, path: str) -> Any:
        """Go to ``path`` and wait until the page and its scripts have loaded."""
        response = self.page.goto(self.base_url + path, wait_until="networkidle")
        assert response is not None, path
        assert response.ok, f"{path}: {response.status}"
        return response

    def screenshot(self, name: str) -> None:
        """Save the viewport as ``docs/screenshots/<name>.png`` (in 256 colours when Pillow
        is there: a third of the size, for the repository)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        try:
            from PIL import Image
        except ImportError:
            return
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
        small.save(path, optimize=True)


@pytest.fixture
def ui(browser: Any, live_server: tuple[str, Seeded]) -> Iterator[BrowserPage]:
    """A fresh page on the live server; the test fails on any console error."""
    url, _ = live_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = BrowserPage(context.new_page(), url)
    try:
        yield page
    finally:
        context.close()
    assert page.errors == [], page.errors
