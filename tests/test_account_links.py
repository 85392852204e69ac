"""The links emailed for accounts: where they lead, whatever host a request named."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exchange.extensions import db
from exchange.models import OutboxEmail

from .fixtures.members import LINK, PASSWORD

SITE = "https://toolkit.example.org"


def emailed_urls(app, address: str) -> list[str]:
    """Every account link in the emails to ``address``, in full, oldest first."""
    with app.app_context():
        bodies = db.session.scalars(
            select(OutboxEmail.body).where(OutboxEmail.to_address == address).order_by("id")
        )
        return [url for body in bodies for url in LINK.findall(body)]


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
