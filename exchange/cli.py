"""The ``exchange`` command: ``flask`` for this app, plus the operator's verbs.

Every command here is also available as ``flask --app wsgi <command>``.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import text

from .extensions import db

log = logging.getLogger(__name__)

MIGRATION_LOCK_KEY = 0x7E_C4A9_01


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema (safe when several nodes start at once)."""
    with _migration_lock():
        upgrade()
    click.echo("Database is up to date.")


@contextmanager
def _migration_lock():
    """On PostgreSQL, one node migrates while the others wait; SQLite locks the file itself."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()


@click.command("create-admin")
@click.option("--email", prompt=True, help="The administrator's email address.")
@click.option("--name", default="", help="Their name (for a new account).")
@click.option("--password", default=None, help="A password (asked for when creating).")
@with_appcontext
def create_admin_command(email: str, name: str, password: str | None) -> None:
    """Make an existing member an administrator, or create a new administrator account."""
    from . import accounts

    member = accounts.find_by_email(email)
    if member is None:
        password = password or click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 10:
            raise click.UsageError("A new account needs a password of at least 10 characters.")
        member = accounts.register_member(name or email.split("@")[0], email, password)
    member.is_admin = True
    db.session.commit()
    log.info("member %s is now an administrator", member.id)
    click.echo(f"{member.email} is an administrator.")


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild this node's search index from the database, with a progress bar."""
    from tqdm import tqdm

    from .search import get_replica

    with tqdm(total=0, unit="resources", desc="Indexing") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        position = get_replica().force_rebuild(progress)
    click.echo(f"Search index rebuilt at change-log position {position}.")


def register_commands(app: Flask) -> None:
    for command in (init_command, create_admin_command, reindex_command):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from . import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Toolkit Exchange: serve the site and look after its data."""
