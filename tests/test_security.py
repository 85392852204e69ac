"""Sessions, headers, CSRF, redirects and throttling (OWASP ASVS-style checks)."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from flask import Flask
from itsdangerous import TimestampSigner

from exchange.accounts import members

from .conftest import TEST_SECRET  # noqa: F401 - documents where test apps get their secret
from .fixtures.api import Script, make_token
from .fixtures.members import PASSWORD, Visitor


def cookie_headers(response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}


@pytest.mark.parametrize("path", ["/", "/login", "/search?q=x", "/resources/999", "/healthz"])
def test_security_headers_on_every_response_including_errors(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers, "only over HTTPS"


def test_hsts_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_private_pages_are_never_cached(member):
    response = member.client.get("/account")
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client):
    response = client.get("/static/site.css")
    assert response.headers.get("Cache-Control") != "no-store"


def test_session_and_remember_cookies_are_httponly_lax_and_secure_on_https(app):
    visitor = Visitor(app.test_client())
    visitor.register()
    visitor.logout()
    response = visitor.client.post(
        "/login",
        data={"email": visitor.email, "password": PASSWORD, "remember": "y"},
        base_url="https://localhost",
    )
    cookies = cookie_headers(response)
    for name in ("session", "remember_token"):
        flags = cookies[name].lower()
        assert "httponly" in flags and "samesite=lax" in flags and "secure" in flags, name


def test_cookies_are_not_marked_secure_over_plain_http(app):
    visitor = Visitor(app.test_client())
    response = visitor.register()
    assert "secure" not in cookie_headers(response)["session"].lower()


def test_login_starts_a_new_session(app):
    visitor = Visitor(app.test_client())
    visitor.register()
    visitor.logout()
    visitor.client.get("/login")
    before = visitor.client.get_cookie("session")
    visitor.login()
    after = visitor.client.get_cookie("session")
    assert after is not None and (before is None or before.value != after.value)


def test_a_remember_me_cookie_stops_working_after_logout(app):
    visitor = Visitor(app.test_client())
    visitor.register()
    visitor.logout()
    visitor.login(remember="y")
    remembered = visitor.client.get_cookie("remember_token")
    replay = app.test_client()
    replay.set_cookie("remember_token", remembered.value)
    assert replay.get("/account").status_code == 200, "the cookie worked before logout"
    visitor.logout()
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remembered.value)
    assert fresh.get("/account").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "/\t/evil.example",
        "https:/evil.example",
    ],
)
def test_next_after_login_only_leads_to_this_site(app, target):
    visitor = Visitor(app.test_client())
    visitor.register()
    visitor.logout()
    response = visitor.client.post(
        "/login", query_string={"next": target}, data={"email": visitor.email, "password": PASSWORD}
    )
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.scheme == "" and parts.netloc == "", location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location


# -- CSRF ----------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(make_app) -> Flask:
    return make_app(WTF_CSRF_ENABLED=True)


def state_changing_routes(app: Flask) -> list[str]:
    """Every route that accepts a method other than GET/HEAD/OPTIONS, with sample ids."""
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.methods - {"GET", "HEAD", "OPTIONS"} and rule.endpoint != "static":
            paths.append(re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule))
    return sorted(paths)


def test_every_state_changing_route_refuses_a_post_without_a_csrf_token(csrf_app):
    routes = state_changing_routes(csrf_app)
    assert "/resources/new" in routes and "/logout" in routes and "/login" in routes
    with csrf_app.test_client() as client:
        for path in routes:
            response = client.post(path, data={"title": "x", "email": "a@b.c"})
            if path.startswith("/api/v1/"):  # reads no cookie: a token, not CSRF, is asked for
                assert response.status_code in (401, 405), path
                assert response.mimetype == "application/problem+json", path
                continue
            assert response.status_code == 400, path
            assert "That request didn’t make sense" in response.get_data(as_text=True)


def test_a_token_holding_script_writes_with_csrf_on(csrf_app):
    member = Visitor(csrf_app.test_client())
    csrf_app.config["WTF_CSRF_ENABLED"] = False  # the account pages' forms, quickly
    member.register()
    script = Script(csrf_app, make_token(member))
    csrf_app.config["WTF_CSRF_ENABLED"] = True
    made = script.post("/collections", json={"title": "Job club"})
    assert made.status_code == 201, made.get_data(as_text=True)[:300]
    assert script.post("/me/notifications/read").status_code == 200


def test_a_post_with_the_token_from_the_page_works(csrf_app):
    client = csrf_app.test_client()
    page = client.get("/register").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/register",
        data={"csrf_token": token, "name": "Kim", "email": "kim@example.org", "password": PASSWORD},
    )
    assert response.status_code == 302


CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def form_token(client, path: str) -> str:
    return CSRF_FIELD.search(client.get(path).get_data(as_text=True)).group(1)


def csrf_member(app: Flask) -> Visitor:
    """A member signed in through the forms, tokens and all, as a browser does."""
    visitor = Visitor(app.test_client())
    visitor.email = "kim@example.org"
    data = {"name": "Kim", "email": visitor.email, "password": PASSWORD}
    data["csrf_token"] = form_token(visitor.client, "/register")
    assert visitor.client.post("/register", data=data).status_code == 302
    visitor.follow_emailed_link()
    assert visitor.client.get("/account").status_code == 200
    return visitor


def test_a_form_open_too_long_comes_back_with_what_was_typed(csrf_app, monkeypatch):
    client = csrf_app.test_client()
    token = form_token(client, "/register")
    later(monkeypatch, 4 * 3600 + 60)
    typed = {"name": "Kim Lee", "email": "kim@example.org", "password": PASSWORD}
    response = client.post("/register", data={**typed, "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This page was open for a long time, so for your safety please send it again." in page
    assert 'value="Kim Lee"' in page and 'value="kim@example.org"' in page
    assert Visitor(client).emailed_links() == [], "nothing was done"
    resent = client.post("/register", data={**typed, "csrf_token": CSRF_FIELD.search(page)[1]})
    assert resent.status_code == 302, "the form comes back with a token that works"


def test_a_form_sent_within_four_hours_works(csrf_app, monkeypatch):
    client = csrf_app.test_client()
    token = form_token(client, "/password/forgot")
    later(monkeypatch, 4 * 3600 - 60)
    response = client.post("/password/forgot", data={"email": "a@b.org", "csrf_token": token})
    assert response.status_code == 302


def test_logging_out_with_a_stale_form_asks_again_and_keeps_the_session(csrf_app, monkeypatch):
    member = csrf_member(csrf_app)
    token = form_token(member.client, "/logout")
    later(monkeypatch, 4 * 3600 + 60)
    response = member.client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 422
    assert "for your safety please send it again" in response.get_data(as_text=True)
    fresh = CSRF_FIELD.search(response.get_data(as_text=True))[1]
    assert member.client.post("/logout", data={"csrf_token": fresh}).status_code == 302
    assert member.client.get("/account").status_code == 302, "logged out on the second try"


def test_a_stale_button_elsewhere_gets_a_clear_message_not_a_change(csrf_app, monkeypatch):
    member = csrf_member(csrf_app)
    token = form_token(member.client, "/account")
    later(monkeypatch, 4 * 3600 + 60)
    response = member.client.post("/notifications/read", data={"csrf_token": token})
    assert response.status_code == 400
    assert "This form was open too long" in response.get_data(as_text=True)


def test_a_stale_form_still_goes_through_every_check_of_its_page(csrf_app, monkeypatch):
    member = csrf_member(csrf_app)  # not an administrator
    token = form_token(member.client, "/account")
    later(monkeypatch, 4 * 3600 + 60)
    response = member.client.post("/admin/reports/1/dismiss", data={"csrf_token": token})
    assert response.status_code == 403, "the moderation queue is for administrators only"


def test_a_long_request_form_comes_back_with_what_was_typed(csrf_app, monkeypatch):
    member = csrf_member(csrf_app)
    token = form_token(member.client, "/requests/new")
    later(monkeypatch, 4 * 3600 + 60)
    typed = {"title": "Interview practice cards", "body": "For clients who freeze up.", "tags": ""}
    response = member.client.post("/requests/new", data={**typed, "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Interview practice cards"' in page and "For clients who freeze up." in page
    assert "for your safety please send it again" in page


# -- how long a sign-in lasts --------------------------------------------------------------


def later(monkeypatch, seconds: int) -> None:
    """Move the clock of every signed token (CSRF tokens, session cookies) forward."""
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + seconds)


def test_remember_me_lasts_thirty_days(app):
    visitor = Visitor(app.test_client())
    visitor.register()
    visitor.logout()
    cookie = cookie_headers(visitor.login(remember="y"))["remember_token"]
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)


def test_a_copied_remember_me_cookie_stops_working_after_thirty_days(app, monkeypatch):
    """The browser forgets the cookie when it expires; the server refuses it then too."""
    visitor = Visitor(app.test_client())
    visitor.register()
    visitor.logout()
    visitor.login(remember="y")
    copied = visitor.client.get_cookie("remember_token").value

    def replay_after(seconds: int) -> int:
        now = time.time() + seconds
        monkeypatch.setattr(members, "time", SimpleNamespace(time=lambda: now))
        client = app.test_client()
        client.set_cookie("remember_token", copied)
        return client.get("/account").status_code

    assert replay_after(30 * 24 * 3600 - 3600) == 200
    assert replay_after(30 * 24 * 3600 + 60) == 302


def test_a_sign_in_without_remember_me_lasts_a_day_at_most(app, monkeypatch):
    visitor = Visitor(app.test_client())
    visitor.register()
    visitor.client.get("/")  # shows the welcome, the session's last change
    later(monkeypatch, 24 * 3600 - 60)
    assert visitor.client.get("/account").status_code == 200
    later(monkeypatch, 24 * 3600 + 60)
    assert visitor.client.get("/account").status_code == 302


def test_remember_me_signs_in_again_after_the_session_cookie_expired(app, monkeypatch):
    visitor = Visitor(app.test_client())
    visitor.register()
    visitor.logout()
    visitor.login(remember="y")
    later(monkeypatch, 24 * 3600 + 60)
    assert visitor.client.get("/account").status_code == 200


# -- throttling ----------------------------------------------------------------------------


def test_login_is_throttled_per_account(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    victim = Visitor(app.test_client())
    victim.register(email="victim@example.org")
    statuses = []
    for attempt in range(7):
        attacker = app.test_client()  # a new browser each time, and a new address below
        response = attacker.post(
            "/login",
            data={"email": "victim@example.org", "password": f"guess {attempt}"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{attempt + 1}"},
        )
        statuses.append(response.status_code)
    assert statuses[:5] == [422] * 5
    assert statuses[5:] == [429, 429]
    assert "Too many attempts" in response.get_data(as_text=True)


def test_login_is_throttled_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [
        client.post(
            "/login", data={"email": f"user{n}@example.org", "password": "nope nope nope"}
        ).status_code
        for n in range(12)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10:] == [429, 429]


# -- errors --------------------------------------------------------------------------------


def test_an_unexpected_error_shows_a_friendly_page_and_is_logged(make_app, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    with caplog.at_level(logging.ERROR, logger="exchange"):
        response = app.test_client().get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "secret internal detail" not in page and "Traceback" not in page
    assert "secret internal detail" in caplog.text
    assert response.headers["Content-Security-Policy"]


def test_a_refusal_no_view_caught_says_why_and_keeps_nothing(make_app):
    """The net under every view: a domain rule saying no is a kind 409, never a 500, and
    whatever the refused verb had flushed is rolled back."""
    from exchange.community import Refused
    from exchange.extensions import db
    from exchange.models import Member

    app = make_app()

    @app.route("/refuse-after-a-change")
    def refuse_after_a_change():
        db.session.get(Member, 1).name = "Changed before the refusal"
        db.session.flush()
        raise Refused("That request is already closed.")

    visitor = Visitor(app.test_client())
    visitor.register()
    response = visitor.client.get("/refuse-after-a-change")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "That request is already closed." in page and "Traceback" not in page
    with app.app_context():
        assert db.session.get(Member, 1).name != "Changed before the refusal"
