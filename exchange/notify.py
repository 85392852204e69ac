"""Notifications and email: every event tells each person at most once.

A notification is named by the event it announces (its key: "thanks:12", "answer:7"), and
writing one is an insert-if-absent on a UNIQUE key. A verb run twice, a job retried, or two
workers racing therefore leave exactly one row. Emails wait in an outbox under the same
rule, and ``exchange send-emails`` claims each one with a conditional UPDATE before
sending it, so overlapping runs never send a message twice: an email whose sending run
died mid-way stays claimed rather than risk a second copy (the command reports it).

Writing a notification, queueing an email and marking notifications read happen in the
caller's transaction: the view or command commits them with the event they announce, so
a change that is rolled back tells nobody. Only the sending (:func:`send_pending`,
:func:`send_queued`) commits on its own, once per step, as :func:`claim` explains.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from flask import (
    Flask,
    Response,
    after_this_request,
    current_app,
    g,
    has_request_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from . import jobs
from .extensions import db
from .i18n import speaking
from .models import Member, Notification, OutboxEmail, insert_if_absent, utcnow

log = logging.getLogger(__name__)

# What a notification says: words already written, or a lazy translation (``lazy_gettext``)
# worded when it is written down, in the language of the member it is for.
Words = str | LazyString

# Refusals by the mail server are retried on later runs, this many times in all.
MAX_ATTEMPTS = 5
# A claim older than this with no outcome means its run stopped while sending.
STUCK_AFTER = timedelta(minutes=15)
SMTP_TIMEOUT_S = 30


# -- writing notifications -------------------------------------------------------------


def insert_once(model: type[Notification] | type[OutboxEmail], **values) -> bool:
    """Write the row for an event unless its ``key`` is already there; True if this wrote it."""
    return insert_if_absent(model, ["key"], **values)


def notify(member: Member, key: str, kind: str, message: Words, url: str = "") -> bool:
    """Tell ``member`` about one event, inside the caller's transaction; True if it is news.

    The email (when the member wants them) is queued with the notification, so both are
    written together or not at all, and a repeat of the event queues nothing new. A lazy
    ``message`` is worded in the member's own language, whoever's request wrote it.
    """
    text = worded_for(member, message)
    created = insert_once(
        Notification, key=key, member_id=member.id, kind=kind, message=text[:500], url=url
    )
    if created and member.email_notifications and not member.suspended:
        queue_email(member, key, text, url)
        if current_app.config["EMAIL_JOBS"]:
            jobs.enqueue(SEND_EMAIL_JOB, f"email:{key}")  # once the caller's commit succeeds
    if created:
        log.info("notification %s for member %s", key, member.id)
    return created


def worded_for(member: Member, message: Words) -> str:
    """``message`` in the language ``member`` reads (a plain string stays as it is)."""
    with speaking(member.language):
        return str(message)


def queue_email(member: Member, key: str, message: Words, url: str = "") -> bool:
    """Put the email for event ``key`` in the outbox, once, in the member's language."""
    site = current_app.config["SITE_NAME"]
    root = site_root()
    with speaking(member.language):
        message = str(message)
        subject = _("%(site)s: %(title)s", site=site, title=_one_line(message, 150))
        lines = [_("Hello %(name)s,", name=member.name), "", message, ""]
        if url:
            lines += [f"{root}{url}", ""]
        lines += [
            f"— {site}",
            "",
            _(
                "You can stop these emails on your exchange page: %(url)s",
                url=root + "/account/exchange",
            ),
        ]
    return insert_once(
        OutboxEmail,
        key=f"email:{key}",
        to_address=member.email,
        subject=subject,
        body="\n".join(lines),
    )


def site_root() -> str:
    """The site's address for links in emails: always ``SITE_URL``, never the request's Host
    (which a visitor chooses, and would otherwise choose where a reset link leads)."""
    return current_app.config["SITE_URL"].rstrip("/")


def site_url(endpoint: str, **values) -> str:
    """The absolute address of ``endpoint`` on the site at ``SITE_URL``, in or out of a request."""
    parts = urlsplit(site_root())
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def site_path(endpoint: str, **values) -> str:
    """A page's path for a notification's link, as ``url_for`` gives it in a request, and
    out of one too (a job: the read job tells an asker their request was answered)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return urlsplit(site_url(endpoint, **values)).path


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- reading notifications -------------------------------------------------------------


def unread_count(member: Member) -> int:
    """The header's count, on every signed-in page (so its query is built once)."""
    return db.session.scalar(_unread_query(), {"member_id": member.id}) or 0


@functools.cache
def _unread_query() -> Select:
    return select(func.count(Notification.id)).where(
        Notification.member_id == bindparam("member_id"), Notification.read_at.is_(None)
    )


def recent(member: Member, limit: int = 100) -> list[Notification]:
    query = (
        select(Notification)
        .where(Notification.member_id == member.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def mark_read(member: Member, notification_id: int | None = None) -> int:
    """Mark one notification (or all) as read; only ever the member's own (the caller
    commits)."""
    query = update(Notification).where(
        Notification.member_id == member.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    return db.session.execute(query.values(read_at=utcnow())).rowcount


# -- sending email ---------------------------------------------------------------------


@dataclass
class SendSummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    stuck: int = 0
    queued: int = 0  # digests queued by the run (``exchange send-digests``)

    def line(self) -> str:
        text = f"Sent {self.sent}, will retry {self.retrying}, gave up on {self.failed}."
        if self.stuck:
            text += (
                f" {self.stuck} left claimed by a run that stopped while sending; "
                "not resent, so nobody gets a message twice."
            )
        return text


class LogTransport:
    """Without ``EXCHANGE_SMTP_URL`` emails are written to the log instead of sent."""

    def send(self, message: EmailMessage) -> None:
        log.info(
            "email (no SMTP_URL set) to %s: %s\n%s",
            message["To"],
            message["Subject"],
            message.get_content(),
        )


@dataclass
class SmtpTransport:
    """``smtp://user:pass@host:25`` (``?starttls=true`` to upgrade) or ``smtps://…:465``."""

    host: str
    port: int
    username: str = ""
    password: str = ""
    implicit_tls: bool = False
    starttls: bool = False

    @classmethod
    def from_url(cls, url: str) -> SmtpTransport:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("EXCHANGE_SMTP_URL must look like smtp://host:25 or smtps://host:465")
        options = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            implicit_tls=parts.scheme == "smtps",
            starttls=options.get("starttls") in ("1", "true", "yes"),
        )

    def send(self, message: EmailMessage) -> None:
        with self._connect() as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT_S, context=context)
        return smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_S)


def transport() -> LogTransport | SmtpTransport:
    url = current_app.config.get("SMTP_URL") or ""
    return SmtpTransport.from_url(url) if url else LogTransport()


SEND_EMAIL_JOB = "send-email"
SEND_EMAILS_JOB = "send-emails"


@jobs.job(SEND_EMAIL_JOB)
def send_one_email(key: str) -> None:
    """Send the notification email ``key`` (a job, after the commit that queued it); one
    already sent, or claimed by ``exchange send-emails``, is left alone."""
    send_these([key])


@jobs.job(SEND_EMAILS_JOB)
def send_pending_job(limit: int = 200) -> None:
    """``exchange send-emails --queue``: the outbox sent by a worker."""
    log.info("outbox: %s", send_pending(limit).line())


def send_pending(limit: int = 200) -> SendSummary:
    """Send up to ``limit`` pending emails, each at most once, however many runs overlap.

    The job commits on its own, step by step, rather than once at the end: the reading of
    what is pending, each claim (before its email goes out, see :func:`claim`) and each
    outcome (so a run that dies later never undoes what it reported as sent).
    """
    summary = SendSummary(stuck=_count_stuck())
    ids = list(
        db.session.scalars(
            select(OutboxEmail.id)
            .where(OutboxEmail.status == OutboxEmail.PENDING)
            .order_by(OutboxEmail.id)
            .limit(limit)
        )
    )
    db.session.commit()
    sender = transport()
    for email_id in ids:
        if claim(email_id):
            _deliver(email_id, sender, summary)
    return summary


def queue_account_email(key: str, to_address: str, subject: str, body: str, real: bool) -> None:
    """Queue an account email (a confirmation or reset link), inside the caller's transaction.

    ``real`` is False when there is nobody to write to (an address without an account):
    the same row is written and then withdrawn, so a visitor cannot tell the two apart by
    how long the answer takes. A real one is sent once the response has gone out, which is
    after the view committed it; one the view did not commit is never sent.
    """
    with db.session.begin_nested() as savepoint:
        insert_once(OutboxEmail, key=key, to_address=to_address, subject=subject, body=body)
        if not real:
            savepoint.rollback()
    if real and has_request_context():
        _send_after_response(key)


def _send_after_response(key: str) -> None:
    """Deliver this email when the response is complete, so the visitor never waits for
    the mail server; ``exchange send-emails`` retries whatever this could not send."""
    keys = g.setdefault("account_email_keys", [])
    if not keys:
        after_this_request(_deliver_on_close)
    keys.append(key)


def _deliver_on_close(response: Response) -> Response:
    app, keys = current_app._get_current_object(), list(g.account_email_keys)
    response.call_on_close(functools.partial(send_queued, app, keys))
    return response


def send_queued(app: Flask, keys: list[str]) -> None:
    """Send these waiting emails now (in an app context of their own), each at most once."""
    with app.app_context():
        try:
            sender = transport()
        except ValueError:
            log.error("account emails wait in the outbox: EXCHANGE_SMTP_URL is malformed")
            return
        try:
            send_these(keys, sender)
        except SQLAlchemyError:
            log.exception("account emails wait in the outbox: the database did not answer")


def send_these(keys: list[str], sender=None) -> SendSummary:
    """Send the waiting emails named by ``keys`` now, each at most once (one another run has
    claimed, or that was sent already, is left alone); the rest of the outbox waits."""
    sender = sender or transport()
    summary = SendSummary()
    for key in keys:
        email_id = db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.key == key))
        if email_id is not None and claim(email_id):
            _deliver(email_id, sender, summary)
    return summary


def claim(email_id: int) -> bool:
    """Take a pending email for this run; False when another run already took it.

    The UPDATE's condition is re-checked under the row lock, so of two runs racing for
    one email exactly one sees a changed row. The claim commits on its own, before the
    email is sent, and this must stay so: until it commits, a second run would still see
    the email pending and could send it too, and a claim that rolled back after sending
    (the run dying, or an error later in the run) would put a sent email back in the queue.
    """
    result = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.status == OutboxEmail.PENDING)
        .values(status=OutboxEmail.SENDING, claimed_at=utcnow(), attempts=OutboxEmail.attempts + 1)
    )
    db.session.commit()
    return result.rowcount == 1


def _deliver(email_id: int, sender, summary: SendSummary) -> None:
    """Send one claimed email and commit its outcome at once (sent, retry, or given up)."""
    email = db.session.get(OutboxEmail, email_id)
    try:
        sender.send(build_message(email))
    except (smtplib.SMTPException, OSError) as exc:
        gave_up = email.attempts >= MAX_ATTEMPTS
        email.status = OutboxEmail.FAILED if gave_up else OutboxEmail.PENDING
        email.last_error = str(exc)[:300]
        summary.failed += gave_up
        summary.retrying += not gave_up
        log.warning("email %s not sent (attempt %d): %s", email.key, email.attempts, exc)
    else:
        email.status = OutboxEmail.SENT
        email.sent_at = utcnow()
        summary.sent += 1
        log.info("email %s sent to %s", email.key, email.to_address)
    db.session.commit()


def build_message(email: OutboxEmail) -> EmailMessage:
    """The message for an outbox row; its Message-ID comes from the event key, so a mail
    system that sees the same event twice can tell."""
    sender = current_app.config.get("MAIL_FROM") or (
        f"{current_app.config['SITE_NAME']} <no-reply@localhost>"
    )
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    domain = sender.rsplit("@", 1)[-1].strip(">") or "localhost"
    message["Message-ID"] = f"<{hashlib.sha256(email.key.encode()).hexdigest()[:32]}@{domain}>"
    message.set_content(email.body)
    return message


def _count_stuck() -> int:
    query = select(func.count(OutboxEmail.id)).where(
        OutboxEmail.status == OutboxEmail.SENDING,
        OutboxEmail.claimed_at < utcnow() - STUCK_AFTER,
    )
    return db.session.scalar(query) or 0
