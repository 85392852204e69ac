"""The weekly digest: one email a week of what is new from what a member follows.

Off unless the member asks for it (on their account page). ``exchange send-digests`` may run
as often as an operator likes: each digest goes in the email outbox under a key naming the
member and the ISO week (``digest:12:2026-W49``), written only if absent, and the outbox
sends each row at most once (:mod:`exchange.notify`). A week with nothing new sends nothing;
a later run that same week, once something is new, sends that week's one digest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from .. import jobs, notify
from ..extensions import db
from ..i18n import speaking
from ..models import Member, OutboxEmail, utcnow
from .follows import NewsItem, whats_new

DIGEST_ITEMS = 20
WEEK = timedelta(days=7)


def digest_key(member_id: int, moment: datetime) -> str:
    """The outbox key of a member's digest for the ISO week ``moment`` falls in."""
    year, week, _ = moment.isocalendar()
    return f"digest:{member_id}:{year}-W{week:02d}"


def queue_weekly_digests(now: datetime | None = None) -> list[str]:
    """Queue this week's digest for each member who asked for one and has news; the keys of
    the digests this run queued (none already queued this week is queued again)."""
    now = now or utcnow()
    readers = select(Member).where(
        Member.weekly_digest, ~Member.suspended, Member.confirmed_at.is_not(None)
    )
    members = list(db.session.scalars(readers.order_by(Member.id)))
    return [key for key in (queue_digest(member, now) for member in members) if key]


SEND_DIGESTS_JOB = "send-digests"


@jobs.job(SEND_DIGESTS_JOB)
def send_weekly_digests() -> notify.SendSummary:
    """Queue this week's digests and send them (the job behind ``exchange send-digests``):
    a unit of work of its own, so it commits the digests it queued before any goes out."""
    keys = queue_weekly_digests()
    db.session.commit()
    summary = notify.send_these(keys)
    summary.queued = len(keys)
    return summary


def queue_digest(member: Member, now: datetime) -> str | None:
    """Queue ``member``'s digest for this week, if there is news and none was queued yet."""
    key = digest_key(member.id, now)
    if db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.key == key)) is not None:
        return None
    with speaking(member.language):
        items = whats_new(member, DIGEST_ITEMS, since=_covered_until(member, now))
        if not items:
            return None
        site = current_app.config["SITE_NAME"]
        count = ngettext(
            "%(num)d new resource this week", "%(num)d new resources this week", len(items)
        )
        subject = _("%(site)s: %(title)s", site=site, title=count)
        body = "\n".join(_body(member, items, site))
    written = notify.insert_once(
        OutboxEmail, key=key, to_address=member.email, subject=subject, body=body
    )
    return key if written else None


def _covered_until(member: Member, now: datetime) -> datetime:
    """Where this digest starts: after the last one, and at most a week back."""
    last = db.session.scalar(
        select(func.max(OutboxEmail.created_at)).where(
            OutboxEmail.key.startswith(f"digest:{member.id}:", autoescape=True)
        )
    )
    start = now - WEEK
    return max(start, last) if last is not None else start


def _body(member: Member, items: list[NewsItem], site: str) -> list[str]:
    lines = [_("Hello %(name)s,", name=member.name), "", _("New this week from what you follow:")]
    lines += [""]
    for item in items:
        resource = item.resource
        if resource.anonymous:
            giver = _("shared anonymously")
        else:
            giver = _("by %(name)s", name=resource.credit_name)
        lines += [f"* {resource.title}, {giver}"]
        lines += [f"  {reason}" for reason in item.reasons]
        lines += [f"  {notify.site_url('resources.show', resource_id=resource.id)}", ""]
    lines += [
        _("Everything new for you: %(url)s", url=notify.site_url("follows.whats_new")),
        "",
        f"— {site}",
        "",
        _(
            "You asked for this weekly email. Stop it on your account page: %(url)s",
            url=notify.site_url("auth.account"),
        ),
    ]
    return lines
