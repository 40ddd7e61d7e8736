"""``trackline server`` and ``trackline ui``: run the tracking server and its web UI under
uvicorn (the UI's pages at ``/``, see :mod:`trackline.ui`).

``server`` is the team deployment (``--workers`` processes, any backend store); ``ui`` is the
same server with one person's defaults: the store ``./mlruns``, ``127.0.0.1:5000``, one
process. ``server`` proxies artifacts by default (``--serve-artifacts``): clients upload and
download them through it, and they live in ``--artifacts-destination``. As with MLflow,
``-h`` is ``--host``, so help is ``--help`` only. uvicorn handles SIGINT and SIGTERM: it
stops accepting connections, finishes the requests in flight and runs the app's shutdown,
which flushes and closes the store.
"""

from __future__ import annotations

import os

import click

__all__ = ["server", "ui"]

_HELP_ONLY_LONG = {"help_option_names": ["--help"]}
_GRACEFUL_SHUTDOWN_SECONDS = 30


def _require_server_extra() -> None:
    from trackline.exceptions import MissingDependency

    for package in ("starlette", "uvicorn"):
        try:
            __import__(package)
        except ImportError:
            raise click.ClickException(
                MissingDependency(package, "server", "the tracking server").message
            ) from None


def _ui_problem() -> str | None:
    """Why the web UI cannot be served (a package missing), or None."""
    from trackline.exceptions import MissingDependency

    for package in ("jinja2", "plotly"):
        try:
            __import__(package)
        except ImportError:
            return MissingDependency(package, "server", "the web UI").message
    return None


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _serve(
    backend_store_uri: str | None,
    default_artifact_root: str | None,
    host: str,
    port: int,
    workers: int,
    serve_artifacts: bool = False,
    artifacts_destination: str | None = None,
    allowed_hosts: str | None = None,
    cors_allowed_origins: str | None = None,
    command: str = "server",
) -> None:
    _require_server_extra()
    ui_problem = _ui_problem()
    if ui_problem and command == "ui":
        raise click.ClickException(ui_problem)
    # Through the environment, so that every worker process applies the same policy.
    hosts = [h for h in (allowed_hosts or "").split(",") if h.strip()]
    if host not in ("0.0.0.0", "::"):
        hosts.append(host)
    os.environ["TRACKLINE_SERVER_ALLOWED_HOSTS"] = ",".join(hosts)
    if cors_allowed_origins:
        os.environ["TRACKLINE_SERVER_CORS_ALLOWED_ORIGINS"] = cors_allowed_origins
    import uvicorn

    from trackline.exceptions import MlflowException
    from trackline.server.app import (
        ENV_ARTIFACT_ROOT,
        ENV_ARTIFACTS_DESTINATION,
        ENV_BACKEND_STORE_URI,
        ENV_SERVE_ARTIFACTS,
        create_app,
    )

    if default_artifact_root:
        default_artifact_root = _absolute(default_artifact_root)
    if serve_artifacts and artifacts_destination:
        artifacts_destination = _absolute(artifacts_destination)
    try:
        # Built here first so that a bad URI is a one-line error, not a worker's traceback.
        app = create_app(
            backend_store_uri or "",
            default_artifact_root,
            serve_artifacts=serve_artifacts,
            artifacts_destination=artifacts_destination,
            warm_up=workers <= 1,  # each worker process warms its own app up
        )
    except MlflowException as exc:
        raise click.ClickException(exc.message) from None
    for problem in app.state.artifacts.problems():  # e.g. a bucket that does not exist yet
        click.echo(
            f"Warning: {problem} (serving anyway: artifact requests fail until then)", err=True
        )
    url = _url(host, port)
    if ui_problem:
        click.echo(f"Warning: no web UI: {ui_problem}", err=True)
    click.echo(f"trackline {command} listening on {url} (Ctrl+C to stop)")
    if not ui_problem:
        click.echo(f"Web UI: {url}/")
    # uvicorn's "auto" loop and HTTP parser are uvloop and httptools when installed (the
    # server extra brings them: a third of the time per request of asyncio and h11).
    options = {
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": False,
        "timeout_graceful_shutdown": _GRACEFUL_SHUTDOWN_SECONDS,
    }
    if workers <= 1:
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return
    app.state.context.store.close()  # each worker opens its own
    os.environ[ENV_BACKEND_STORE_URI] = backend_store_uri or ""
    if default_artifact_root:
        os.environ[ENV_ARTIFACT_ROOT] = default_artifact_root
    if artifacts_destination:
        os.environ[ENV_ARTIFACTS_DESTINATION] = artifacts_destination
    os.environ[ENV_SERVE_ARTIFACTS] = "true" if serve_artifacts else "false"
    uvicorn.run(
        "trackline.server.app:create_app_from_env",
        factory=True,
        workers=workers,
        **options,  # type: ignore[arg-type]
    )


def _absolute(uri: str) -> str:
    """A plain path as an absolute ``file:`` URI (workers may run in another folder)."""
    from trackline.store.uri import resolve_tracking_uri

    return resolve_tracking_uri(uri)


_backend_option = click.option(
    "--backend-store-uri",
    metavar="URI",
    default=None,
    help="Where runs are kept: a folder, sqlite:///file.db, postgresql://... or "
    "mysql://... [default: ./mlruns]",
)
_artifact_option = click.option(
    "--default-artifact-root",
    metavar="URI",
    default=None,
    help="Where new experiments keep their artifacts (a folder or a URI such as "
    "s3://bucket/path). Clients may only choose locations inside it. "
    "[default: beside the backend store]",
)
_host_option = click.option(
    "--host", "-h", default="127.0.0.1", show_default=True, help="The address to listen on."
)
_allowed_hosts_option = click.option(
    "--allowed-hosts", metavar="HOSTS", default=None,
    help="Extra host names the server answers to, comma-separated, fnmatch patterns allowed "
    "('*' turns the check off). localhost, loopback and private-network addresses are always "
    "allowed; other names are refused (DNS rebinding protection).",
)  # fmt: skip
_cors_option = click.option(
    "--cors-allowed-origins", metavar="ORIGINS", default=None,
    help="Extra web origins allowed to send writes (POST/PUT/PATCH/DELETE), comma-separated "
    "('*' allows any). Pages on localhost and the server's own pages are always allowed.",
)  # fmt: skip
_port_option = click.option(
    "--port", "-p", default=5000, show_default=True, type=click.IntRange(0, 65535),
    help="The port to listen on.",
)  # fmt: skip


@click.command(context_settings=_HELP_ONLY_LONG)
@_backend_option
@_artifact_option
@_host_option
@_port_option
@click.option(
    "--workers", "-w", default=1, show_default=True, type=click.IntRange(1),
    help="Number of server processes.",
)  # fmt: skip
@click.option(
    "--serve-artifacts/--no-serve-artifacts", default=True, show_default=True,
    help="Let clients upload and download artifacts through the server "
    "(mlflow-artifacts:/ URIs).",
)  # fmt: skip
@click.option(
    "--artifacts-destination", metavar="URI", default="./mlartifacts", show_default=True,
    help="Where the server keeps the artifacts it serves: a folder or s3://bucket/prefix "
    "(endpoint: MLFLOW_S3_ENDPOINT_URL; credentials: AWS_*). Without "
    "--default-artifact-root, new experiments store their artifacts there, as "
    "mlflow-artifacts:/<experiment id>.",
)  # fmt: skip
@_allowed_hosts_option
@_cors_option
def server(
    backend_store_uri: str | None,
    default_artifact_root: str | None,
    host: str,
    port: int,
    workers: int,
    serve_artifacts: bool,
    artifacts_destination: str,
    allowed_hosts: str | None,
    cors_allowed_origins: str | None,
) -> None:
    """Run the tracking server (MLflow's REST API and the web UI) for a team."""
    _serve(
        backend_store_uri,
        default_artifact_root,
        host,
        port,
        workers,
        serve_artifacts=serve_artifacts,
        artifacts_destination=artifacts_destination,
        allowed_hosts=allowed_hosts,
        cors_allowed_origins=cors_allowed_origins,
    )


@click.command(context_settings=_HELP_ONLY_LONG)
@_backend_option
@_artifact_option
@_host_option
@_port_option
@_allowed_hosts_option
@_cors_option
def ui(
    backend_store_uri: str | None,
    default_artifact_root: str | None,
    host: str,
    port: int,
    allowed_hosts: str | None,
    cors_allowed_origins: str | None,
) -> None:
    """Run the tracking server and its web UI on this machine for one person."""
    _serve(
        backend_store_uri,
        default_artifact_root,
        host,
        port,
        1,
        allowed_hosts=allowed_hosts,
        cors_allowed_origins=cors_allowed_origins,
        command="ui",
    )
