"""The ``exchange`` command: ``flask`` for this app, plus the operator's verbs.

Every command here is also available as ``flask --app wsgi <command>``.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, NoAppException, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import text

from ..extensions import db

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
    from .. import accounts, transactions

    member = accounts.find_by_email(email)
    if member is None:
        password = password or click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 10:
            raise click.UsageError("A new account needs a password of at least 10 characters.")
        member = accounts.register_member(
            name or email.split("@")[0], email, password, confirmed=True
        )
    if not member.is_admin:
        from .. import community

        community.record_admin_action(
            None, "make-admin", via=community.COMMAND_LINE, member_id=member.id
        )
    member.is_admin = True
    transactions.commit()  # a new account and its role together
    log.info("member %s is now an administrator", member.id)
    click.echo(f"{member.email} is an administrator.")


@click.command("reindex")
@click.option(
    "--procs",
    type=click.IntRange(1, 16),
    default=min(2, os.cpu_count() or 1),
    show_default=True,
    help="Processes analysing documents in parallel.",
)
@with_appcontext
def reindex_command(procs: int) -> None:
    """Rebuild this node's search index from the database, with a progress bar."""
    from tqdm import tqdm

    from ..search import get_replica

    with tqdm(total=0, unit="resources", desc="Indexing") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        position = get_replica().force_rebuild(progress, procs=procs)
    click.echo(f"Search index rebuilt at change-log position {position}.")


@click.command("doctor")
@click.option("--repair", is_flag=True, help="Fix what can be fixed safely.")
@click.option("--no-checksums", is_flag=True, help="Skip re-hashing every stored file.")
@with_appcontext
def doctor_command(repair: bool, no_checksums: bool) -> None:
    """Check database, file store and search index against each other."""
    from . import doctor

    report = doctor.run(repair=repair, checksums=not no_checksums)
    for line in report.lines():
        click.echo(line)
    if not report.healthy:
        raise SystemExit(1)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run jobs from the Redis queue (EXCHANGE_QUEUE_URL) until stopped.

    Start as many as the machine has cores to spare; each runs one job at a time, and a
    job whose worker dies is taken up again by another.
    """
    from flask import current_app

    if not current_app.config["QUEUE_URL"]:
        raise click.ClickException(
            "EXCHANGE_QUEUE_URL is not set: jobs run in the web process, no worker is needed."
        )
    run_job_worker(current_app._get_current_object(), burst=burst)


def run_job_worker(app: Flask, burst: bool = False) -> None:
    """A job worker: it answers no searches, so commits leave its index alone, and it loads
    the language detector once, before forking a child per job, rather than in every child."""
    from .. import jobs, search

    search.answers_no_searches(app)
    search.load_language_detector()
    jobs.run_worker(app, burst=burst)


@click.command("send-emails")
@click.option("--limit", default=200, show_default=True, help="At most this many per run.")
@click.option("--queue", "on_queue", is_flag=True, help="Leave the sending to a worker.")
@with_appcontext
def send_emails_command(limit: int, on_queue: bool) -> None:
    """Send waiting notification emails (by EXCHANGE_SMTP_URL, else to the log).

    Safe to run as often as you like, even overlapping: each email goes out at most once.
    With --queue the same job is put on the queue for a worker (a cron line that must
    not wait for the mail server).
    """
    from .. import jobs, notify

    if on_queue:
        jobs.enqueue(notify.SEND_EMAILS_JOB, limit)
        click.echo("Sending queued.")
        return
    try:
        summary = notify.send_pending(limit)
    except ValueError as exc:  # a malformed EXCHANGE_SMTP_URL: say which setting to fix
        raise click.ClickException(str(exc)) from exc
    click.echo(summary.line())


@click.command("send-digests")
@click.option("--queue", "on_queue", is_flag=True, help="Leave the work to a worker.")
@with_appcontext
def send_digests_command(on_queue: bool) -> None:
    """Send this week's digest to each member who asked for one and has something new.

    Safe to run as often as you like (daily, hourly): each member gets at most one digest
    per ISO week; one the mail server refused waits for ``exchange send-emails``. It runs
    the digest job here, or with --queue puts it on the queue for a worker.
    """
    from .. import community, jobs

    if on_queue:
        jobs.enqueue(community.SEND_DIGESTS_JOB)
        click.echo("Digests queued.")
        return
    try:
        summary = community.send_weekly_digests()
    except ValueError as exc:  # a malformed EXCHANGE_SMTP_URL: say which setting to fix
        raise click.ClickException(str(exc)) from exc
    count = summary.queued
    click.echo(f"{count} new {'digest' if count == 1 else 'digests'}. {summary.line()}")


@click.command("export")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def export_command(dest: Path) -> None:
    """Write every row and stored file to DEST (run again to resume or refresh).

    DEST holds members' emails and password hashes: keep it as safe as the database.
    """
    from . import transfer

    for line in transfer.export_all(dest).lines():
        click.echo(line)


@click.command("import")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--owner", help="Email of the member who shares a toolkit folder's resources.")
@click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--check", is_flag=True, help="Only check the rows and say how many would be imported."
)
@with_appcontext
def import_command(source: Path, owner: str | None, csv_path: Path | None, check: bool) -> None:
    """Import a folder of files described by a CSV, or a folder made by `exchange export`.

    The CSV has a header row with: files (paths inside SOURCE, several separated by ";"),
    title, synopsis, how_used, tags, kind, audience, licence, and optionally credit,
    access and visibility ("who can find it"). A missing credit column or an empty credit
    cell credits the owner as the share form does; the word "anonymous" shares without a
    name. Running it again adds nothing already imported.
    """
    from . import transfer

    try:
        report = transfer.run_import(source, owner, csv_path, check_only=check)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)


COMMANDS = (
    init_command,
    create_admin_command,
    reindex_command,
    doctor_command,
    worker_command,
    send_emails_command,
    send_digests_command,
    export_command,
    import_command,
)


def register_commands(app: Flask) -> None:
    """The operator's verbs for ``flask --app wsgi …`` (``exchange`` has them built in)."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    """The app, or a configuration problem as Flask's "no app" error: one line, which
    ``exchange --help`` prints above the list of commands instead of a traceback."""
    from .. import create_app
    from ..config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        raise NoAppException(str(exc)) from None


class ExchangeGroup(FlaskGroup):
    """Flask's command group, whose commands exist before any app does (so ``--help`` lists
    them whatever the environment), and where an app that cannot start is one line naming
    what to set, never a traceback or a usage screen."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NoAppException as exc:
            raise click.ClickException(exc.format_message()) from None


@click.group(cls=ExchangeGroup, create_app=_create_app)
def main() -> None:
    """Toolkit Exchange: serve the site and look after its data."""


for _command in COMMANDS:
    main.add_command(_command)
