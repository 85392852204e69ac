"""How a unit of work ends: a view or a command commits once; a request that only read
is committed too.

**One commit per request or command.** Domain verbs (the community's, accounts',
notifications', publishing and recording a download) flush what they write, log any
change search must see (:meth:`~exchange.models.IndexChange.record`) and return; they never
commit. The view or CLI command that called them ends the unit of work with
:func:`commit`, once, so everything the verbs wrote is kept together or not at all: a view
composing two verbs where the second is refused leaves nothing of the first. A view that
does not reach :func:`commit` (an error, or a form shown again) keeps nothing: its
transaction is rolled back when the request ends. The share, edit and delete of
:mod:`exchange.resources.operations` call :func:`commit` themselves, because their order of
writes (bytes to storage, one transaction, stored objects deleted after it) is theirs.

**Reads commit too.**

psycopg prepares a statement on a connection once it has run a few times there, so
PostgreSQL parses and plans it once rather than on every request. But psycopg forgets
every prepared statement whenever a transaction rolls back (what it rolled back may have
dropped what they refer to), and a request whose session never committed ends with a
rollback. So every page view threw the plans away, and planning was most of what
PostgreSQL spent on a page: 0.6 of its 0.9 ms on a resource page.

A transaction that ran nothing but SELECTs changed nothing, so committing it is the same
as rolling it back, and the plans survive. Anything else (a write or a flush, a change not
yet flushed, an error, a statement we cannot vouch for) still ends in a rollback.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import Engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import search
from .extensions import db
from .models import IndexChange

log = logging.getLogger(__name__)

# On the connection's info: has the transaction in progress run anything but a SELECT?
WROTE = "exchange_transaction_wrote"


def commit() -> None:
    """Commit the unit of work the caller ran, then let this node's index catch up.

    The index catches up after the commit, never before (it reads the committed change
    log), and only when the transaction logged a change: once per commit however many verbs
    logged one. A commit that fails is rolled back and the error raised, so nothing of the
    unit of work is kept. A flag left by a transaction rolled back elsewhere costs at most
    one needless look at the log head.
    """
    session = db.session()
    logged = session.info.pop(IndexChange.LOGGED, False)
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if logged:
        search.catch_up()


def init_app(app: Flask) -> None:
    """Watch every engine's statements; end each request's read-only transaction by commit.

    Registered after Flask-SQLAlchemy, so this runs before its teardown closes the session.
    """
    if not event.contains(Engine, "begin", _forget_writes):
        event.listen(Engine, "begin", _forget_writes)
        event.listen(Engine, "before_cursor_execute", _note_writes)
    app.teardown_appcontext(end_read_only)


def _forget_writes(connection) -> None:
    connection.info[WROTE] = False


def _note_writes(connection, _cursor, statement: str, *_args) -> None:
    if statement.lstrip()[:6].upper() != "SELECT":
        connection.info[WROTE] = True


def end_read_only(error: BaseException | None = None) -> None:
    """Commit this context's transaction if it only read; leave anything else as it was."""
    if error is not None or not db.session.registry.has():
        return
    session = db.session()
    if not only_read(session):
        return
    # Nothing changed, so what was read is still what the database holds: keep it loaded,
    # as closing the session after a rollback did (code may read an object after the context).
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    except SQLAlchemyError:  # e.g. a failed SELECT left the transaction aborted
        log.warning("a read-only transaction did not commit; rolling back", exc_info=True)
        session.rollback()
    finally:
        session.expire_on_commit = expire


def only_read(session: Session) -> bool:
    """Whether the session's transaction, if any, ran only SELECTs and holds no changes."""
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    return not session.connection().info.get(WROTE, True)
