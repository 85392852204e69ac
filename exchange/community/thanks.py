"""Thanks: a member who took a resource tells its giver how it went, once per resource (a
second note updates the first, and the giver's notification with it)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import Select, bindparam, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from .. import access, notify
from ..extensions import db
from ..models import (
    Collection,
    CollectionItem,
    Download,
    Member,
    Notification,
    OutboxEmail,
    Resource,
    Thanks,
)
from .rules import Refused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Standing:
    """Where a signed-in member stands with one resource, as its page needs to know."""

    downloaded: bool = False
    asked_for_it: bool = False  # it answered one of the member's requests
    saved: bool = False

    @property
    def took_it(self) -> bool:
        return self.downloaded or self.asked_for_it


def standing(member: Member, resource: Resource) -> Standing:
    """All of :class:`Standing` in one round trip: resource pages are the most viewed."""
    ids = {"member_id": member.id, "resource_id": resource.id}
    return Standing(*db.session.execute(_standing_query(), ids).one())


@functools.cache
def _standing_query() -> Select:
    member, resource = bindparam("member_id"), bindparam("resource_id")
    downloaded = exists().where(Download.member_id == member, Download.resource_id == resource)
    asked = access.answers_request_of(member, resource)
    saved = exists().where(
        CollectionItem.resource_id == resource,
        CollectionItem.collection_id == Collection.id,
        Collection.default_of == member,
    )
    return select(downloaded, asked, saved)


def may_thank(user, resource: Resource, known: Standing | None = None) -> bool:
    """Takers thank: members who downloaded it, or whose request it answered."""
    if not getattr(user, "is_authenticated", False) or user.id == resource.owner_id:
        return False
    return (known or standing(user, resource)).took_it


def thanks_from(member: Member, resource: Resource) -> Thanks | None:
    query = select(Thanks).where(Thanks.member_id == member.id, Thanks.resource_id == resource.id)
    return db.session.scalar(query)


def thank(member: Member, resource: Resource, note: str) -> Thanks:
    """Say (or change) how you used a resource; the giver is emailed about it once, and their
    notification always quotes the note as it now reads."""
    if not may_thank(member, resource):
        raise Refused(_("Download it first, then come back and say how it went."))
    thanks = write_thanks(member, resource, note)
    db.session.flush()
    return thanks


def write_thanks(member: Member, resource: Resource, note: str) -> Thanks:
    """A member thanks a resource once; thanking again changes that one note."""
    thanks = thanks_from(member, resource)
    if thanks is not None:
        _revise_thanks(thanks, member, resource, note)
        return thanks
    thanks = Thanks(member_id=member.id, resource_id=resource.id, note=note.strip())
    try:
        with db.session.begin_nested():
            db.session.add(thanks)
    except IntegrityError:  # the same member thanking from two tabs at once
        return write_thanks(member, resource, note)
    notify.notify(resource.owner, *_thanks_notice(thanks, member, resource), _thanks_url(resource))
    log.info("member %s thanked the giver of resource %s", member.id, resource.id)
    return thanks


def _thanks_notice(
    thanks: Thanks, member: Member, resource: Resource
) -> tuple[str, str, LazyString]:
    """The key, kind and message of the giver's notice of ``thanks``, quoting its note."""
    message = _l(
        "%(name)s thanked you for “%(title)s”: “%(note)s”",
        name=member.name,
        title=resource.title,
        note=_short(thanks.note),
    )
    return f"thanks:{thanks.id}", "thanks", message


def _thanks_url(resource: Resource) -> str:
    return url_for("resources.show", resource_id=resource.id, _anchor="thanks")


def _revise_thanks(thanks: Thanks, member: Member, resource: Resource, note: str) -> None:
    """Change the note, and the giver's notice with it, so the notice never quotes words
    the member took back: it shows the new note (unread again, so the giver sees it), and
    an email not yet sent is rewritten. An email already sent is not sent again: each event
    is emailed at most once."""
    thanks.note = note.strip()
    key, _kind, message = _thanks_notice(thanks, member, resource)
    db.session.execute(
        update(Notification)
        .where(Notification.key == key)
        .values(message=notify.worded_for(resource.owner, message)[:500], read_at=None)
    )
    unsent = delete(OutboxEmail).where(
        OutboxEmail.key == f"email:{key}", OutboxEmail.status == OutboxEmail.PENDING
    )
    if db.session.execute(unsent).rowcount:
        notify.queue_email(resource.owner, key, message, _thanks_url(resource))


def thanks_for(resource: Resource) -> list[Thanks]:
    """The thanks shown on a resource page, newest first (suspended members' left out)."""
    return list(db.session.scalars(_thanks_query(), {"resource_id": resource.id}))


@functools.cache
def _thanks_query() -> Select:
    return (
        select(Thanks)
        .join(Thanks.member)
        .options(contains_eager(Thanks.member))
        .where(Thanks.resource_id == bindparam("resource_id"), Member.suspended.is_(False))
        .order_by(Thanks.created_at.desc(), Thanks.id.desc())
    )


def _short(text: str, limit: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
