"""How requests end their transactions: reads commit (and keep PostgreSQL's plans), writes
that a request did not commit are still rolled back."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text

from exchange import transactions
from exchange.extensions import db
from exchange.models import Member

from .fixtures.members import Visitor


def _prepared_statements(app: Flask) -> list[str]:
    """What PostgreSQL holds prepared on the connection the pool hands out next."""
    with app.app_context():
        rows = db.session.execute(text("SELECT statement FROM pg_prepared_statements"))
        return [row.statement for row in rows]


def test_page_views_keep_their_statements_prepared_on_postgresql(make_app):
    app = make_app()
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("prepared statements are PostgreSQL's; SQLite caches its own")
        db.engine.pool.dispose()
    visitor = Visitor(app.test_client())
    visitor.register()
    for _ in range(20):  # psycopg prepares a statement the fifth time it runs on a connection
        assert visitor.client.get("/search?q=interview").status_code == 200
    held = " ".join(_prepared_statements(app))
    # The member loader runs on every signed-in page; before, a rollback dropped it each time.
    assert "FROM members" in held
    assert "index_changes" in held


def _signed_in_at(app: Flask, rule: str, view) -> Visitor:
    """A member, on an app that also has ``view`` at ``rule`` (added before any request)."""
    app.add_url_rule(rule, rule.strip("/"), view)
    visitor = Visitor(app.test_client())
    visitor.register()
    return visitor


def test_a_change_a_request_flushed_but_never_committed_is_rolled_back(app):
    def rename_without_committing():
        found = db.session.scalars(select(Member)).first()
        found.name = "Renamed by a request that gave up"
        db.session.flush()  # written to the database, inside the transaction
        return "not saved"

    member = _signed_in_at(app, "/flush-only", rename_without_committing)
    assert member.client.get("/flush-only").status_code == 200
    with app.app_context():
        names = db.session.scalars(select(Member.name)).all()
    assert "Renamed by a request that gave up" not in names


def test_a_change_never_flushed_is_not_committed_by_the_ending(app):
    def rename_in_memory():
        found = db.session.scalars(select(Member)).first()
        found.name = "Changed in memory only"
        return "not saved"

    member = _signed_in_at(app, "/in-memory", rename_in_memory)
    assert member.client.get("/in-memory").status_code == 200
    with app.app_context():
        names = db.session.scalars(select(Member.name)).all()
    assert "Changed in memory only" not in names


def test_a_request_that_failed_does_not_commit(app):
    def add_then_fail():
        db.session.add(Member(email="half@example.org", name="Half", password_hash="x"))
        db.session.flush()
        raise RuntimeError("the request failed after writing")

    member = _signed_in_at(app, "/fails", add_then_fail)
    with pytest.raises(RuntimeError):  # tests see the error itself; visitors see a 500
        member.client.get("/fails")
    with app.app_context():
        emails = db.session.scalars(select(Member.email)).all()
    assert "half@example.org" not in emails


def test_only_selects_count_as_reading(app_ctx):
    db.session.execute(select(Member.id))
    assert transactions.only_read(db.session())
    db.session.execute(text("UPDATE members SET name = name WHERE id = -1"))
    assert not transactions.only_read(db.session())
    db.session.rollback()
    db.session.execute(select(Member.id))  # a new transaction starts clean
    assert transactions.only_read(db.session())
