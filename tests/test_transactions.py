"""How requests end their transactions: a view commits its verbs' writes once, all or
nothing; reads commit (and keep PostgreSQL's plans); writes that a request did not commit
are rolled back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask_login import current_user
from sqlalchemy import select, text

from exchange import community, create_app, transactions
from exchange.extensions import db
from exchange.models import Member, Resource, ShareRequest
from exchange.search import get_replica

from .conftest import PG_URL, base_config, reset_schema
from .fixtures.exchange import share_txt
from .fixtures.members import Visitor


def _prepared_statements(app: Flask) -> list[str]:
    """What PostgreSQL holds prepared on the connection the pool hands out next."""
    with app.app_context():
        rows = db.session.execute(text("SELECT statement FROM pg_prepared_statements"))
        return [row.statement for row in rows]


@pytest.fixture
def pg_app(tmp_path, request) -> Iterator[Flask]:
    """An app on PostgreSQL only: what is checked here is PostgreSQL's own behaviour."""
    if not PG_URL:
        pytest.skip("set EXCHANGE_TEST_DATABASE_URL to a PostgreSQL server")
    app = create_app(base_config(tmp_path, request.getfixturevalue("pg_schema_url")))
    reset_schema(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_page_views_keep_their_statements_prepared_on_postgresql(pg_app):
    visitor = Visitor(pg_app.test_client())
    visitor.register()
    for _ in range(20):  # psycopg prepares a statement the fifth time it runs on a connection
        assert visitor.client.get("/search?q=interview").status_code == 200
    held = " ".join(_prepared_statements(pg_app))
    # The member loader runs on every signed-in page; before, a rollback dropped it each time.
    assert "FROM members" in held
    assert "index_changes" in held


def _signed_in_at(app: Flask, rule: str, view) -> Visitor:
    """A member, on an app that also has ``view`` at ``rule`` (added before any request)."""
    app.add_url_rule(rule, rule.strip("/"), view)
    visitor = Visitor(app.test_client())
    visitor.register()
    return visitor


@pytest.mark.parametrize("flushed", [True, False], ids=["flushed", "never flushed"])
def test_a_change_a_request_made_but_never_committed_is_not_kept(app, flushed):
    def rename_without_committing():
        found = db.session.scalars(select(Member)).first()
        found.name = "Renamed by a request that gave up"
        if flushed:
            db.session.flush()  # written to the database, inside the transaction
        return "not saved"

    member = _signed_in_at(app, "/gave-up", rename_without_committing)
    assert member.client.get("/gave-up").status_code == 200
    with app.app_context():
        names = db.session.scalars(select(Member.name)).all()
    assert "Renamed by a request that gave up" not in names


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


BOARD_NOTE = "For a group of school leavers who are choosing between college and work."


def test_a_view_composing_two_verbs_keeps_neither_when_the_second_is_refused(app):
    def post_then_ask_yourself():
        community.post_request(current_user, "A values card sort", BOARD_NOTE, ["values"])
        community.ask_member(current_user, current_user, "A values card sort", BOARD_NOTE)
        transactions.commit()  # never reached: the ask is refused
        return "both kept"

    member = _signed_in_at(app, "/post-and-ask", post_then_ask_yourself)
    response = member.client.get("/post-and-ask")
    assert response.status_code == 409
    assert "You can’t send a request to yourself." in response.get_data(as_text=True)
    assert "A values card sort" not in member.client.get("/requests").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(ShareRequest)).all() == []


def test_the_index_catches_up_once_the_view_commits_what_its_verbs_logged(app):
    def hide_both():
        for resource in list(db.session.scalars(select(Resource).order_by(Resource.id))):
            community.hide_resource(current_user, resource, "Both are duplicates.")
        transactions.commit()
        return "hidden"

    member = _signed_in_at(app, "/hide-both", hide_both)
    for word in ("quince", "medlar"):
        share_txt(member, f"{word} sheet", text=f"A worksheet about {word}.")
    with app.app_context():
        _, head = get_replica().lag()
    assert member.client.get("/hide-both").status_code == 200
    with app.app_context():
        assert get_replica().lag() == (head + 2, head + 2), "applied with no search asking"
