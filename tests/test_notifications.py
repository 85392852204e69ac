"""Notifications and email: one per event, however often a job runs, retries or races."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from exchange import notify
from exchange.extensions import db
from exchange.models import Member, Notification, OutboxEmail, utcnow

from .fixtures.exchange import member_id, notifications_for, outbox_count, page, share_txt, take
from .fixtures.members import Visitor


def registered(app, name: str = "Dale Briers") -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.register(name=name)
    return visitor


def notify_in_new_context(app, visitor_id: int, key: str) -> bool:
    """What a job does: its own app context and database session."""
    with app.app_context():
        member = db.session.get(Member, visitor_id)
        created = notify.notify(member, key, "thanks", "Ana thanked you.", "/resources/1")
        db.session.commit()
        return created


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def run_together(count: int, work) -> list:
    """Start ``count`` threads at the same moment and collect what each returned."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


# -- one notification per event ----------------------------------------------------------


def test_the_same_event_notifies_once_however_often_it_is_run(app):
    dale = member_id(app, registered(app))
    assert notify_in_new_context(app, dale, "thanks:1") is True
    assert notify_in_new_context(app, dale, "thanks:1") is False
    assert notify_in_new_context(app, dale, "thanks:1") is False
    assert rows(app, Notification) == 1
    assert outbox_count(app) == 1
    assert notify_in_new_context(app, dale, "thanks:2") is True
    assert rows(app, Notification) == 2


def test_racing_jobs_for_one_event_leave_one_notification_and_one_email(app):
    dale = member_id(app, registered(app))
    created = run_together(4, lambda: notify_in_new_context(app, dale, "answer:7"))
    assert sorted(created) == [False, False, False, True]
    assert rows(app, Notification) == 1
    assert outbox_count(app) == 1


def test_a_member_who_turned_emails_off_is_notified_on_the_site_only(app):
    giver, taker = registered(app), registered(app, "Ana Taker")
    giver.client.post("/account/exchange", data={"settings": "1"})
    resource_id = share_txt(giver, "Values card sort")
    take(app, taker, resource_id)
    taker.client.post(f"/resources/{resource_id}/thanks", data={"note": "Used it twice."})
    assert [n.kind for n in notifications_for(app, giver)] == ["thanks"]
    assert outbox_count(app) == 0


def test_editing_thanks_again_and_again_sends_one_email(app):
    giver, taker = registered(app), registered(app, "Ana Taker")
    resource_id = share_txt(giver, "Values card sort")
    take(app, taker, resource_id)
    for note in ("Used it once.", "Used it twice now.", "Used it with my whole group."):
        taker.client.post(f"/resources/{resource_id}/thanks", data={"note": note})
    assert len(notifications_for(app, giver)) == 1
    assert outbox_count(app) == 1


# -- on the site -------------------------------------------------------------------------


def test_the_header_counts_unread_and_reading_clears_them(app):
    giver, taker = registered(app), registered(app, "Ana Taker")
    resource_id = share_txt(giver, "Values card sort")
    assert 'class="count-badge"' not in page(giver, "/")
    take(app, taker, resource_id)
    taker.client.post(f"/resources/{resource_id}/thanks", data={"note": "Used it twice."})
    home = page(giver, "/")
    assert '<span class="count-badge" data-unread>1<span class="visually-hidden"> unread' in home
    listing = page(giver, "/notifications")
    assert "Ana Taker thanked you for “Values card sort”" in listing
    [notice] = notifications_for(app, giver)
    response = giver.client.get(f"/notifications/{notice.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/resources/{resource_id}#thanks"
    assert 'class="count-badge"' not in page(giver, "/")
    assert taker.client.get(f"/notifications/{notice.id}").status_code == 404


def test_mark_all_as_read(app):
    dale = registered(app)
    for number in range(3):
        notify_in_new_context(app, member_id(app, dale), f"thanks:{number}")
    assert "data-unread>3<" in page(dale, "/notifications")
    assert dale.client.post("/notifications/read").status_code == 302
    assert "data-unread" not in page(dale, "/notifications")
    assert all(n.read_at is not None for n in notifications_for(app, dale))


# -- sending email -----------------------------------------------------------------------


class Inbox:
    """An SMTP server's handler that keeps what it accepts (or refuses every recipient)."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.refuse = False
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, str]]:
    """A real SMTP server on this machine (aiosmtpd), and the URL to reach it."""
    controller_module = pytest.importorskip(
        "aiosmtpd.controller", reason="aiosmtpd (test dependency) is not installed"
    )
    inbox, port = Inbox(), free_port()
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def queue(app, count: int) -> list[int]:
    """Notify a member of ``count`` different events (each queues one email).

    The member registers with email off, so their confirmation link is already out of the
    way (written to the log and marked sent) and only the notification emails remain.
    """
    smtp_url, app.config["SMTP_URL"] = app.config["SMTP_URL"], ""
    try:
        visitor = registered(app)
        send(app)  # the confirmation link, which a real server sends after its response
    finally:
        app.config["SMTP_URL"] = smtp_url
    for number in range(count):
        notify_in_new_context(app, member_id(app, visitor), f"thanks:{number}")
    with app.app_context():
        query = select(OutboxEmail.id).where(OutboxEmail.key.not_like("account:%"))
        return list(db.session.scalars(query))


def send(app) -> notify.SendSummary:
    with app.app_context():
        return notify.send_pending()


def test_emails_are_delivered_once_however_often_the_job_runs(make_app, smtp_inbox):
    inbox, url = smtp_inbox
    app = make_app(SMTP_URL=url, SITE_URL="https://exchange.example.org")
    queue(app, 2)
    assert send(app).sent == 2
    assert send(app).sent == 0
    assert len(inbox.messages) == 2
    message = inbox.messages[0]
    assert "Subject: Toolkit Exchange: Ana thanked you." in message
    assert "https://exchange.example.org/resources/1" in message
    assert "Message-ID: <" in message
    assert outbox_count(app, status="sent") == 2


def test_overlapping_runs_never_send_an_email_twice(make_app, smtp_inbox):
    inbox, url = smtp_inbox
    app = make_app(SMTP_URL=url)
    queue(app, 12)
    summaries = run_together(3, lambda: send(app))
    assert sum(s.sent for s in summaries) == 12
    assert len(inbox.messages) == 12
    assert len(set(inbox.messages)) == 12
    assert outbox_count(app, status="sent") == 12


def test_a_refused_email_is_retried_later_then_given_up(make_app, smtp_inbox):
    inbox, url = smtp_inbox
    app = make_app(SMTP_URL=url)
    queue(app, 1)
    inbox.refuse = True
    summary = send(app)
    assert (summary.sent, summary.retrying, summary.failed) == (0, 1, 0)
    assert outbox_count(app, status="pending") == 1
    for _ in range(notify.MAX_ATTEMPTS - 1):
        send(app)
    assert outbox_count(app, status="failed") == 1
    with app.app_context():
        email = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.key.not_like("account:%"))
        ).one()
        assert email.attempts == notify.MAX_ATTEMPTS
        assert "No such mailbox" in email.last_error
    inbox.refuse = False
    assert send(app).sent == 0
    assert inbox.messages == []


def test_an_email_claimed_by_a_run_that_died_is_reported_not_resent(make_app, smtp_inbox):
    inbox, url = smtp_inbox
    app = make_app(SMTP_URL=url)
    [email_id] = queue(app, 1)
    with app.app_context():
        assert notify.claim(email_id) is True
        assert notify.claim(email_id) is False
        email = db.session.get(OutboxEmail, email_id)
        email.claimed_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    summary = send(app)
    assert (summary.sent, summary.stuck) == (0, 1)
    assert "not resent" in summary.line()
    assert inbox.messages == []


def test_without_an_smtp_server_the_command_writes_emails_to_the_log(app, caplog):
    queue(app, 1)
    logger = logging.getLogger("exchange")
    logger.addHandler(caplog.handler)
    try:
        first = app.test_cli_runner().invoke(args=["send-emails"])
        second = app.test_cli_runner().invoke(args=["send-emails"])
    finally:
        logger.removeHandler(caplog.handler)
    assert first.exit_code == 0, first.output
    assert "Sent 1, will retry 0, gave up on 0." in first.output
    assert "Sent 0," in second.output
    logged = [r.getMessage() for r in caplog.records if r.name == "exchange.notify"]
    assert any("no SMTP_URL set" in line and "Ana thanked you." in line for line in logged)


def test_a_malformed_smtp_url_is_named_clearly(make_app):
    app = make_app(SMTP_URL="mail.example.org:25")
    queue(app, 1)
    result = app.test_cli_runner().invoke(args=["send-emails"])
    assert result.exit_code == 1
    assert "EXCHANGE_SMTP_URL must look like smtp://host:25" in result.output
    assert outbox_count(app, status="pending") == 1
