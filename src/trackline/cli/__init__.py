"""The ``trackline`` command: a thin layer of click commands over the Python API."""

from __future__ import annotations

import click

from trackline.cli.db import db
from trackline.cli.server import server, ui
from trackline.version import __version__

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="trackline")
def main() -> None:
    """trackline: experiment tracking and model registry, compatible with MLflow."""


main.add_command(db)
main.add_command(server)
main.add_command(ui)
