"""What leaving does to the give-and-take: a member's requests, answers, thanks, toolkit
and kits, notifications and reports, removed or kept without their name.

Called by the account deletion (:mod:`exchange.resources.leaving`) inside its transaction;
flushes only. The member's row itself stays (emptied by the accounts package), so what is
kept still points somewhere and pages show it as the former member's.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select, update

from ..extensions import db
from ..models import (
    Answer,
    Download,
    Follow,
    Member,
    Notification,
    OutboxEmail,
    Report,
    Resource,
    ShareRequest,
    Thanks,
    utcnow,
)
from ..vocab import N_
from .collections import remove_collections_of

FORMER = "a former member"
# Stored as the reply of an ask its recipient can no longer answer; translated when shown.
LEFT_REPLY = N_("This member has left the exchange.")


def forget_member(member: Member, keep_words: bool) -> None:
    """Remove what only concerned the member; keep or remove their words, as they chose.

    Kept words (requests, answers, thanks) stay as they were written, under the emptied
    account; the ledger keeps its rows, so counts do not change, with no region left.
    """
    for model, column in _ONLY_THEIRS:
        db.session.execute(delete(model).where(column == member.id))
    if not keep_words:
        for model, column in _THEIR_WORDS:
            db.session.execute(delete(model).where(column == member.id))
        # One by one, so their answers go too on every database (SQLite leaves foreign-key
        # cascades to the ORM).
        for item in db.session.scalars(
            select(ShareRequest).where(ShareRequest.asker_id == member.id)
        ):
            db.session.delete(item)
    _decline_open_asks_to(member)
    _end_follows_of_and_to(member)
    remove_collections_of(member, keep_shared=keep_words)
    db.session.execute(update(Download).where(Download.member_id == member.id).values(region=""))
    db.session.flush()
    db.session.expire_all()


_ONLY_THEIRS = (
    (Notification, Notification.member_id),
    (Report, Report.reporter_id),
)
_THEIR_WORDS = (
    (Thanks, Thanks.member_id),
    (Answer, Answer.giver_id),
)


def _end_follows_of_and_to(member: Member) -> None:
    """What they followed, and who followed them: a follower must not keep a link to (and
    news of) an account that is gone."""
    db.session.execute(delete(Follow).where(Follow.follower_id == member.id))
    db.session.execute(
        delete(Follow).where(Follow.kind == Follow.MEMBER, Follow.target_id == member.id)
    )


def _decline_open_asks_to(member: Member) -> None:
    db.session.execute(
        update(ShareRequest)
        .where(ShareRequest.recipient_id == member.id, ShareRequest.status == ShareRequest.OPEN)
        .values(status=ShareRequest.DECLINED, reply=LEFT_REPLY, closed_at=utcnow())
    )


def scrub_names(member: Member, names: Iterable[str]) -> None:
    """Replace the member's names wherever others' words or notices carry them: everyone's
    notifications and emails not yet sent, asks sent to them, thanks for their kept
    resources, and those resources' own descriptions. Longest first, so "Dale Briers (Org)"
    goes before "Dale Briers"."""
    for name in sorted({n.strip() for n in names if len(n.strip()) >= 3}, key=len, reverse=True):
        _replace(Notification.message, name)
        waiting = OutboxEmail.status == OutboxEmail.PENDING
        _replace(OutboxEmail.subject, name, waiting)
        _replace(OutboxEmail.body, name, waiting)
        asks_to_them = ShareRequest.recipient_id == member.id
        _replace(ShareRequest.title, name, asks_to_them)
        _replace(ShareRequest.body, name, asks_to_them)
        their_resources = select(Resource.id).where(Resource.owner_id == member.id)
        _replace(Thanks.note, name, Thanks.resource_id.in_(their_resources))
        for column in (Resource.title, Resource.synopsis, Resource.how_used):
            _replace(column, name, Resource.owner_id == member.id)
    db.session.expire_all()


def _replace(column, name: str, *conditions) -> None:
    table = column.class_
    statement = (
        update(table)
        .where(column.contains(name, autoescape=True), *conditions)
        .values({column.key: func.replace(column, name, FORMER)})
    )
    if hasattr(table, "updated_at"):  # a scrub is not an edit
        statement = statement.values(updated_at=table.updated_at)
    db.session.execute(statement.execution_options(synchronize_session=False))
