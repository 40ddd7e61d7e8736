"""``trackline db``: manage the backend database's schema."""

from __future__ import annotations

import click


@click.group()
def db() -> None:
    """Manage the schema of a backend database."""


@db.command()
@click.argument("url")
def upgrade(url: str) -> None:
    """Upgrade the database at URL to the schema this trackline expects.

    Back the database up first. Examples: sqlite:///mlflow.db,
    postgresql://user:password@host:5432/db, mysql://user:password@host/db.
    """
    from trackline.exceptions import MlflowException
    from trackline.store.sql.engine import upgrade as upgrade_database

    try:
        before, after = upgrade_database(url)
    except MlflowException as exc:
        raise click.ClickException(exc.message) from None
    if before == after:
        click.echo(f"Already at the latest revision ({after}).")
    else:
        click.echo(f"Upgraded from {before or 'an empty database'} to {after}.")
