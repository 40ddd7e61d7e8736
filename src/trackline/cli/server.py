"""``trackline server`` and ``trackline ui``: run the tracking server under uvicorn.

``server`` is the team deployment (``--workers`` processes, any backend store); ``ui`` is the
same server with one person's defaults: the store ``./mlruns``, ``127.0.0.1:5000``, one
process. As with MLflow, ``-h`` is ``--host``, so help is ``--help`` only. uvicorn handles
SIGINT and SIGTERM: it stops accepting connections, finishes the requests in flight and runs
the app's shutdown, which flushes and closes the store.
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


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _serve(
    backend_store_uri: str | None,
    default_artifact_root: str | None,
    host: str,
    port: int,
    workers: int,
) -> None:
    _require_server_extra()
    import uvicorn

    from trackline.exceptions import MlflowException
    from trackline.server.app import ENV_ARTIFACT_ROOT, ENV_BACKEND_STORE_URI, create_app

    try:
        # Built here first so that a bad URI is a one-line error, not a worker's traceback.
        app = create_app(backend_store_uri or "", default_artifact_root)
    except MlflowException as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"trackline server listening on {_url(host, port)} (Ctrl+C to stop)")
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
    uvicorn.run(
        "trackline.server.app:create_app_from_env",
        factory=True,
        workers=workers,
        **options,  # type: ignore[arg-type]
    )


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
def server(
    backend_store_uri: str | None,
    default_artifact_root: str | None,
    host: str,
    port: int,
    workers: int,
) -> None:
    """Run the tracking server (MLflow's REST API) for a team."""
    _serve(backend_store_uri, default_artifact_root, host, port, workers)


@click.command(context_settings=_HELP_ONLY_LONG)
@_backend_option
@_artifact_option
@_host_option
@_port_option
def ui(
    backend_store_uri: str | None, default_artifact_root: str | None, host: str, port: int
) -> None:
    """Run the tracking server on this machine for one person."""
    _serve(backend_store_uri, default_artifact_root, host, port, 1)
