"""The links emailed for accounts: where they lead, who they sign in, how long they work,
and that asking for one reveals nothing about which addresses have accounts."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import event, select

from exchange.extensions import db
from exchange.models import OutboxEmail

from .fixtures.members import LINK, PASSWORD, Visitor
from .test_notifications import smtp_inbox  # noqa: F401 - a real SMTP server, as a fixture

SITE = "https://toolkit.example.org"


def emailed_urls(app, address: str) -> list[str]:
    """Every account link in the emails to ``address``, in full, oldest first."""
    with app.app_context():
        bodies = db.session.scalars(
            select(OutboxEmail.body).where(OutboxEmail.to_address == address).order_by("id")
        )
        return [url for body in bodies for url in LINK.findall(body)]


def later(monkeypatch, seconds: int) -> None:
    """Move every signed token's clock (links, CSRF tokens, session cookies) forward."""
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + seconds)


def signed_in(visitor: Visitor) -> bool:
    return visitor.client.get("/account").status_code == 200


# -- links start with SITE_URL, and only the site's host names are answered --------------


def test_emailed_links_start_with_site_url_whatever_host_the_request_named(make_app, member):
    app = make_app(SITE_URL=SITE, TRUSTED_HOSTS="127.0.0.1")
    client = app.test_client()
    client.post("/password/forgot", data={"email": member.email}, base_url="http://127.0.0.1")
    client.post(
        "/register",
        data={"name": "Again", "email": member.email, "password": PASSWORD},
        base_url="http://127.0.0.1",
    )
    fresh = "fresh@example.org"
    client.post(
        "/register",
        data={"name": "New", "email": fresh, "password": PASSWORD},
        base_url="http://127.0.0.1",
    )
    urls = emailed_urls(app, member.email)[-2:] + emailed_urls(app, fresh)
    assert len(urls) == 3
    for url in urls:
        assert url.startswith(f"{SITE}/password/reset/") or url.startswith(f"{SITE}/confirm/")


@pytest.mark.parametrize(
    ("settings", "headers"),
    [
        ({}, {"Host": "evil.example"}),
        ({"PROXY_FIX": 1}, {"X-Forwarded-Host": "evil.example"}),
    ],
)
def test_a_request_for_another_host_is_refused_and_emails_nothing(
    make_app, member, settings, headers
):
    app = make_app(SITE_URL=SITE, **settings)
    before = emailed_urls(app, member.email)
    response = app.test_client().post(
        "/password/forgot", data={"email": member.email}, headers=headers
    )
    assert response.status_code == 400
    assert "does not answer for that host name" in response.get_data(as_text=True)
    assert emailed_urls(app, member.email) == before


def test_extra_trusted_hosts_answer_health_checks(make_app):
    app = make_app(SITE_URL=SITE, TRUSTED_HOSTS="lb.internal, 10.0.0.5")
    client = app.test_client()
    assert client.get("/healthz", headers={"Host": "lb.internal"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "10.0.0.5:8000"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "toolkit.example.org"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "other.internal"}).status_code == 400


# -- a confirmation link: once, and it signs in only the browser that registered ----------


def register(visitor: Visitor, email: str) -> None:
    visitor.email = email
    data = {"name": "Sam Rivera", "email": email, "password": PASSWORD}
    assert visitor.client.post("/register", data=data).status_code == 302


def test_a_confirmation_link_signs_in_the_browser_that_registered(new_visitor):
    visitor = new_visitor()
    register(visitor, "sam@example.org")
    response = visitor.follow_emailed_link()
    assert response.headers["Location"] == "/"
    assert signed_in(visitor)


def test_a_confirmation_link_opened_elsewhere_confirms_but_asks_for_the_password(new_visitor):
    """A link forwarded, or planted by someone who registered it, signs nobody in."""
    registering, elsewhere = new_visitor(), new_visitor()
    register(registering, "sam@example.org")
    response = elsewhere.client.get(registering.emailed_links()[-1])
    assert response.headers["Location"] == "/login"
    page = elsewhere.client.get("/login").get_data(as_text=True)
    assert "Your email address is confirmed. Please log in with your password." in page
    assert 'value="sam@example.org"' in page, "the address is filled in"
    assert not signed_in(elsewhere)
    assert elsewhere.login(email="sam@example.org").status_code == 302
    assert signed_in(elsewhere)


# -- a confirmation link leads where the new member was going ------------------------------


def register_on_the_way_to(visitor: Visitor, target: str, email: str = "sam@example.org"):
    """Register from a login page that was sent ``next=target``, as its link does."""
    visitor.email = email
    data = {"name": "Sam Rivera", "email": email, "password": PASSWORD}
    response = visitor.client.post("/register", query_string={"next": target}, data=data)
    assert response.status_code == 302


def test_signing_up_on_the_way_to_the_share_form_lands_on_it(new_visitor):
    visitor = new_visitor()
    login = visitor.client.get("/resources/new").headers["Location"]
    assert login == "/login?next=%2Fresources%2Fnew"
    page = visitor.client.get(login).get_data(as_text=True)
    assert 'href="/register?next=/resources/new"' in page, "Register keeps where you go"
    register_on_the_way_to(visitor, "/resources/new")
    assert visitor.follow_emailed_link().headers["Location"] == "/resources/new"
    assert visitor.client.get("/resources/new").status_code == 200


def test_a_confirmation_link_opened_elsewhere_keeps_where_the_member_was_going(new_visitor):
    registering, elsewhere = new_visitor(), new_visitor()
    register_on_the_way_to(registering, "/resources/new")
    login = elsewhere.client.get(registering.emailed_links()[-1]).headers["Location"]
    assert login == "/login?next=/resources/new"
    logged_in = elsewhere.client.post(
        login, data={"email": "sam@example.org", "password": PASSWORD}
    )
    assert logged_in.headers["Location"] == "/resources/new"


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example/", "/\\evil.example", "/\tevil"]
)
def test_a_next_to_another_site_is_dropped_on_the_way_through_sign_up(new_visitor, target):
    visitor = new_visitor()
    register_on_the_way_to(visitor, target)
    assert visitor.follow_emailed_link().headers["Location"] == "/"
    assert signed_in(visitor)


def test_a_confirmation_link_works_once(new_visitor):
    visitor = new_visitor()
    register(visitor, "sam@example.org")
    link = visitor.emailed_links()[-1]
    visitor.client.get(link)
    visitor.logout()
    again = visitor.client.get(link)
    assert again.headers["Location"] == "/login"
    assert not signed_in(visitor)
    replay = new_visitor()
    replay.client.get(link)
    assert not signed_in(replay)


def test_reset_links_die_when_the_member_logs_out_everywhere(app, member):
    app.test_client().post("/password/forgot", data={"email": member.email})
    link = member.emailed_links()[-1]
    member.logout()  # "You’ll be logged out on every device"
    response = app.test_client().get(link)
    assert response.headers["Location"] == "/password/forgot", "the link stopped working"


def test_reset_links_die_when_the_password_changes(app, member):
    app.test_client().post("/password/forgot", data={"email": member.email})
    link = member.emailed_links()[-1]
    member.client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert app.test_client().get(link).headers["Location"] == "/password/forgot"


def test_an_unused_confirmation_link_dies_once_a_reset_link_confirmed_the_address(new_visitor):
    visitor = new_visitor()
    register(visitor, "sam@example.org")
    confirmation = visitor.emailed_links()[-1]
    visitor.client.post("/password/forgot", data={"email": visitor.email})
    visitor.client.post(visitor.emailed_links()[-1], data={"new_password": "another passphrase"})
    visitor.logout()
    visitor.client.get(confirmation)
    assert not signed_in(visitor)


def test_a_reset_link_works_for_one_hour(app, member, monkeypatch):
    app.test_client().post("/password/forgot", data={"email": member.email})
    link = member.emailed_links()[-1]
    later(monkeypatch, 3600 - 60)
    assert app.test_client().get(link).status_code == 200
    later(monkeypatch, 3600 + 60)
    assert app.test_client().get(link).headers["Location"] == "/password/forgot"


def test_a_confirmation_link_works_for_a_day(new_visitor, monkeypatch):
    visitor = new_visitor()
    register(visitor, "sam@example.org")
    later(monkeypatch, 24 * 3600 + 60)
    response = visitor.follow_emailed_link()
    assert response.headers["Location"] == "/login"
    assert "expired" in visitor.client.get("/login").get_data(as_text=True)


def test_emails_say_how_long_their_link_works(app, member):
    app.test_client().post("/password/forgot", data={"email": member.email})
    with app.app_context():
        body = db.session.scalars(select(OutboxEmail.body).order_by(OutboxEmail.id.desc())).first()
    assert "it works once, for one hour" in body


# -- the same work whether or not an address has an account -------------------------------


def shape(statement: str) -> str:
    """What a statement does, to what: "INSERT outbox", "SELECT members", "SAVEPOINT"."""
    words = statement.split()
    verb = words[0].upper()
    if verb in ("SAVEPOINT", "RELEASE") or words[:2] == ["ROLLBACK", "TO"]:
        return "SAVEPOINT" if verb == "SAVEPOINT" else "END SAVEPOINT"
    targets = (b for a, b in zip(words, words[1:], strict=False) if a.upper() in ("FROM", "INTO"))
    return f"{verb} {next(targets, '').strip(chr(34))}"


@contextmanager
def statements(app) -> Iterator[list[str]]:
    """The shapes of the SQL statements run while the block runs."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(shape(statement))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_forgot_password_does_the_same_work_for_unknown_addresses(app, member):
    with statements(app) as known:
        app.test_client().post("/password/forgot", data={"email": member.email})
    with statements(app) as unknown:
        app.test_client().post("/password/forgot", data={"email": "nobody@example.org"})
    assert known == unknown
    assert "INSERT outbox" in known, "both write the email"
    assert emailed_urls(app, "nobody@example.org") == [], "and only a member's is kept"
    assert "/password/reset/" in member.emailed_links()[-1]


def test_registering_a_taken_address_does_the_same_work_as_a_new_one(app, member):
    def register_as(email: str) -> list[str]:
        data = {"name": "Someone", "email": email, "password": PASSWORD}
        with statements(app) as seen:
            app.test_client().post("/register", data=data)
        return seen

    taken, new = register_as(member.email), register_as("new@example.org")
    assert taken == new
    assert "INSERT members" in new and "INSERT outbox" in new


def test_account_emails_are_sent_once_the_response_is_complete(make_app, member, smtp_inbox):  # noqa: F811
    inbox, url = smtp_inbox
    app = make_app(SMTP_URL=url)
    response = app.test_client().post("/password/forgot", data={"email": member.email})
    with app.app_context():
        [status] = db.session.scalars(
            select(OutboxEmail.status).order_by(OutboxEmail.id.desc()).limit(1)
        )
    assert status == OutboxEmail.PENDING, "the visitor does not wait for the mail server"
    response.close()  # what the web server does after sending the response
    assert len(inbox.messages) == 1
    assert re.search(r"http://localhost/password/reset/\S+", inbox.messages[0])


# -- a development server shows a link only to the browser that made the account ----------


def check_your_email_page(app, path: str, data: dict) -> str:
    client = app.test_client()
    response = client.post(path, data=data)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_dev_server_shows_the_link_only_for_a_new_registration(make_app, member):
    dev, production = make_app(MAIL_LINKS_ON_PAGE=True), make_app(MAIL_LINKS_ON_PAGE=False)
    taken = {"name": "X", "email": member.email, "password": PASSWORD}
    page = check_your_email_page(dev, "/register", taken)
    assert "data-mail-link" not in page and "/password/reset/" not in page
    assert page == check_your_email_page(production, "/register", taken)
    fresh = {"name": "X", "email": "fresh@example.org", "password": PASSWORD}
    assert "/confirm/" in check_your_email_page(dev, "/register", fresh)


def test_a_dev_server_never_shows_a_reset_link(make_app, member):
    dev = make_app(MAIL_LINKS_ON_PAGE=True)
    page = check_your_email_page(dev, "/password/forgot", {"email": member.email})
    assert "data-mail-link" not in page and "/password/reset/" not in page
