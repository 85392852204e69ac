"""How a request's database transaction ends: one that only read is committed.

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

from .extensions import db

log = logging.getLogger(__name__)

# On the connection's info: has the transaction in progress run anything but a SELECT?
WROTE = "exchange_transaction_wrote"


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
