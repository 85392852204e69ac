"""Rate limits count what they are meant to count, and hold however many workers serve.

Login limits count wrong passwords, not sign-ins; the other limits count what was done
(an email sent, a request posted, a report made), not forms shown again with a mistake;
members' own actions count per member, not per office address. In production several
gunicorn workers refuse to start with limits each worker would keep on its own, and with
Redis four real workers let exactly the limit through between them.
"""

from __future__ import annotations

import html
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from exchange import create_app
from exchange.config import ConfigError
from infra.stack import Settings, Stack, StackError, forget_rate_limits
from tests.test_stack import Browser, free_port_pair, require_redis

from .conftest import TEST_SECRET
from .fixtures.exchange import share_txt
from .fixtures.members import PASSWORD, Visitor

WRONG = "not the password at all"


def visitor_at(app, address: str) -> Visitor:
    """A person whose browser reaches the site from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Visitor(client)


def registered(app, address: str) -> Visitor:
    visitor = visitor_at(app, address)
    assert visitor.register().status_code == 302
    visitor.logout()
    return visitor


# -- logins: failures count, sign-ins do not -------------------------------------------------


def test_signing_in_again_and_again_is_never_refused_but_guessing_still_is(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    counsellor = registered(app, "10.1.0.1")
    signed_in = []
    for _ in range(8):  # laptop, phone, the office PC, after each logout...
        signed_in.append(counsellor.login().status_code)
        counsellor.logout()
    assert signed_in == [302] * 8

    guesses = [counsellor.login(password=f"{WRONG} {n}").status_code for n in range(7)]
    assert guesses == [422] * 5 + [429] * 2  # 5 wrong passwords a minute per account


def test_colleagues_behind_one_office_address_all_sign_in(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    team = [registered(app, f"10.2.0.{n + 1}") for n in range(12)]
    office = "192.0.2.10"
    signed_in = []
    for colleague in team:
        colleague.client.environ_base["REMOTE_ADDR"] = office
        signed_in.append(colleague.login().status_code)
    assert signed_in == [302] * 12  # more than the 10 failed logins a minute an address has


def test_a_refused_login_gets_the_friendly_page_and_says_when_to_come_back(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    attacker = visitor_at(app, "203.0.113.5")
    codes = [attacker.login(f"guess{n}@example.org", WRONG).status_code for n in range(10)]
    refused = attacker.login("guess10@example.org", WRONG)
    assert codes == [422] * 10
    assert refused.status_code == 429
    page = html.unescape(refused.get_data(as_text=True))
    assert "Too many attempts" in page and "Please try again in a minute." in page
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_guessing_the_current_password_from_a_signed_in_browser_is_limited(make_app):
    """A browser left signed in must not become a way to try passwords without limit."""
    app = make_app(RATELIMIT_ENABLED=True)
    member = visitor_at(app, "10.5.0.1")
    member.register()
    guesses = [
        member.client.post(
            "/account/password",
            data={"current_password": f"{WRONG} {n}", "new_password": f"{PASSWORD} too"},
        ).status_code
        for n in range(7)
    ]
    assert guesses == [422] * 5 + [429] * 2


# -- other forms: what was done counts, mistakes do not ---------------------------------------


FORMS = {
    "register": (
        "/register",
        {"name": "Sam", "email": "sam@example.org", "password": "short"},
        {"name": "Sam", "email": "sam@example.org", "password": PASSWORD},
    ),
    "forgot password": (
        "/password/forgot",
        {"email": "sam@example"},
        {"email": "sam@example.org"},
    ),
}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_mistakes_on_account_forms_do_not_use_up_the_allowance(make_app, form):
    app = make_app(RATELIMIT_ENABLED=True)
    path, mistake, good = form
    client = visitor_at(app, "198.51.100.7").client
    mistakes = [client.post(path, data=mistake).status_code for _ in range(12)]
    assert mistakes == [422] * 12
    assert client.post(path, data=good).status_code == 302


def test_reset_emails_for_one_address_are_still_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = visitor_at(app, "198.51.100.8").client
    sent = [client.post("/password/forgot", data={"email": "jo@example.org"}) for _ in range(4)]
    assert [r.status_code for r in sent] == [302, 302, 302, 429]


def post_request(visitor: Visitor, title: str = "A values card sort") -> int:
    """Post a courteous board request (the board refuses generic ones)."""
    body = (
        f"{title}: my clients are young people choosing a college course, and they "
        "struggle to say what matters to them in a job."
    )
    data = {"title": title, "body": body if title else "", "tags": ""}
    return visitor.client.post("/requests/new", data=data).status_code


def test_mistakes_on_the_request_form_do_not_use_up_the_allowance(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    member = visitor_at(app, "192.0.2.20")
    member.register()
    mistakes = [post_request(member, title="") for _ in range(21)]
    assert mistakes == [422] * 21
    assert post_request(member) == 302


def test_colleagues_at_one_office_address_each_have_their_own_allowance(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    busy, colleague = visitor_at(app, "10.3.0.1"), visitor_at(app, "10.3.0.2")
    busy.register()
    colleague.register()
    for member in (busy, colleague):
        member.client.environ_base["REMOTE_ADDR"] = "192.0.2.30"
    posted = [post_request(busy, f"Request {n}") for n in range(20)]
    assert posted == [302] * 20
    refused = busy.client.post("/requests/new", data={"title": "One more", "body": "Please."})
    assert refused.status_code == 429  # 20 requests an hour per member
    assert post_request(colleague) == 302


def test_a_refusal_for_an_hourly_limit_says_how_many_minutes_to_wait(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    member = visitor_at(app, "192.0.2.40")
    member.register()
    for n in range(20):
        post_request(member, f"Request {n}")
    refused = member.client.post("/requests/new", data={"title": "One more", "body": "Please."})
    wait = re.search(r"Please try again in (\d+) minutes\.", refused.get_data(as_text=True))
    assert refused.status_code == 429 and wait, "not “wait a minute” for an hourly limit"
    assert 1 < int(wait.group(1)) <= 60
    assert 60 < int(refused.headers["Retry-After"]) <= 3600


def test_mistakes_on_the_report_form_do_not_use_up_the_allowance(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    giver, reporter = visitor_at(app, "10.4.0.1"), visitor_at(app, "10.4.0.2")
    giver.register()
    reporter.register()
    path = f"/resources/{share_txt(giver)}/report"
    no_note = [reporter.client.post(path, data={"reason": "other"}).status_code for _ in range(31)]
    assert no_note == [422] * 31  # “something else” needs a note
    assert reporter.client.post(path, data={"reason": "spam"}).status_code == 302


# -- configuration ------------------------------------------------------------------------------


def production(tmp_path: Path, **settings) -> dict:
    return {
        "ENV": "production",
        "SECRET_KEY": TEST_SECRET,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'exchange.sqlite3'}",
        "SITE_URL": "https://toolkit.example.org",
        **settings,
    }


def test_production_with_several_workers_refuses_limits_kept_per_worker(tmp_path):
    with pytest.raises(ConfigError, match=r"EXCHANGE_RATELIMIT_STORAGE_URL is memory://"):
        create_app(production(tmp_path, WORKERS=4))


@pytest.mark.parametrize(
    "settings",
    [
        {"WORKERS": 1},
        {"WORKERS": 4, "RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0"},
        {"WORKERS": 4, "RATELIMIT_ENABLED": False},
    ],
    ids=["one worker", "shared Redis", "limits off"],
)
def test_production_accepts_limits_that_every_worker_shares(tmp_path, settings):
    assert create_app(production(tmp_path, **settings)).config["WORKERS"] == settings["WORKERS"]


@pytest.mark.parametrize("workers", [0, "four", True])
def test_a_worker_count_that_is_not_a_count_is_refused(tmp_path, workers):
    with pytest.raises(ConfigError, match="EXCHANGE_WORKERS"):
        create_app(production(tmp_path, WORKERS=workers))


# -- four real gunicorn workers -----------------------------------------------------------------


class FolderNode(Stack):
    """A node of ``infra/stack.py`` on SQLite and a folder store: no PostgreSQL or S3."""

    def env(self, number: int = 0) -> dict[str, str]:
        node_dir = self.node_dir(number)
        return {
            "EXCHANGE_ENV": "production",
            "EXCHANGE_SECRET_KEY": self._secret(),
            "EXCHANGE_INSTANCE_DIR": str(node_dir / "instance"),
            "EXCHANGE_DATABASE_URL": f"sqlite:///{self.dir / 'exchange.sqlite3'}",
            "EXCHANGE_STORAGE_URL": (self.dir / "files").as_uri(),
            "EXCHANGE_INDEX_DIR": str(node_dir / "index"),
            "EXCHANGE_SITE_URL": self.nodes[number].url,
            "GUNICORN_WARM_SECONDS": "0",
            **self.settings.env,
        }


@contextmanager
def gunicorn_node(tmp_path: Path, **env: str) -> Iterator[Stack]:
    """One gunicorn node of 4 workers (``infra/gunicorn.conf.py``, production settings) with
    its schema made, stopped afterwards; ``restart_node`` starts it and waits for /readyz."""
    port = free_port_pair(26000 + 10 * (os.getpid() % 50))
    stack = FolderNode(Settings(state_dir=str(tmp_path / "stack"), workers=4, port=port, env=env))
    stack.exchange("init")
    try:
        yield stack
    finally:
        stack.stop_node(stack.nodes[0])


@pytest.mark.slow
@pytest.mark.xdist_group("stack")
def test_four_gunicorn_workers_let_exactly_the_limit_through_together(tmp_path):
    redis_url = require_redis()
    prefix = f"exchange-limits-test-{uuid.uuid4().hex[:12]}"
    env = {"EXCHANGE_RATELIMIT_STORAGE_URL": redis_url, "EXCHANGE_RATELIMIT_KEY_PREFIX": prefix}
    try:
        with gunicorn_node(tmp_path, **env) as stack:
            stack.restart_node(stack.nodes[0])  # starts it and waits for /readyz
            attacker = Browser(stack)
            answers = [
                attacker.post_form(
                    0, "/login", {"email": f"guess{n}@example.org", "password": WRONG}
                )
                for n in range(20)
            ]
        assert [r.status_code for r in answers] == [422] * 10 + [429] * 10
        refused = answers[-1]
        assert "Too many attempts" in refused.text and int(refused.headers["Retry-After"]) > 0
        assert _keys(redis_url, prefix), "the counters are in the shared Redis"
    finally:
        forget_rate_limits(redis_url, prefix)
    assert not _keys(redis_url, prefix)


def _keys(redis_url: str, prefix: str) -> list[bytes]:
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        return list(client.scan_iter(match=f"*{prefix}*"))
    finally:
        client.close()


@pytest.mark.slow
@pytest.mark.xdist_group("stack")
def test_four_gunicorn_workers_refuse_to_start_with_limits_kept_in_each(tmp_path):
    with gunicorn_node(tmp_path, EXCHANGE_RATELIMIT_STORAGE_URL="memory://") as stack:
        with pytest.raises(StackError, match="exited") as refused:
            stack.restart_node(stack.nodes[0])
        log = (stack.node_dir(0) / "gunicorn.log").read_text()
    assert "EXCHANGE_RATELIMIT_STORAGE_URL is memory://, so each of the 4 workers" in log
    assert re.search(r"redis://", str(refused.value))
    assert "Traceback" not in log, "one clear message, not a stack trace"
