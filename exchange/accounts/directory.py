"""The administrators' list of members: search by name, email or organisation, and
filters by role, status and when they joined. Queries only; the admin pages paginate them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from ..models import Member

ROLES = {"": _l("Any role"), "admin": _l("Administrators"), "member": _l("Members")}
STATUSES = {
    "": _l("Any status"),
    "active": _l("Active"),
    "unconfirmed": _l("Email not confirmed"),
    "suspended": _l("Suspended"),
    "deleted": _l("Account deleted"),
}


@dataclass(frozen=True)
class MemberFilter:
    """What the admin asked for; empty fields leave the list unfiltered."""

    words: str = ""
    role: str = ""
    status: str = ""
    joined_from: date | None = None
    joined_to: date | None = None


def members_matching(wanted: MemberFilter) -> Select:
    """Members matching ``wanted``, newest first: a statement to paginate."""
    conditions = [c for c in (_words(wanted.words), _role(wanted.role)) if c is not None]
    conditions += [_status(wanted.status)] if wanted.status in STATUSES else []
    if wanted.joined_from:
        conditions.append(Member.created_at >= _midnight(wanted.joined_from))
    if wanted.joined_to:
        conditions.append(Member.created_at < _midnight(wanted.joined_to + timedelta(days=1)))
    return select(Member).where(*conditions).order_by(Member.created_at.desc(), Member.id.desc())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _words(words: str) -> ColumnElement[bool] | None:
    """Every word must appear in the name, email or organisation (any case)."""
    parts = [
        or_(*(func.lower(column).contains(word, autoescape=True) for column in _SEARCHED))
        for word in words.lower().split()[:8]
    ]
    return and_(*parts) if parts else None


_SEARCHED = (Member.name, Member.email, Member.organisation)


def _role(role: str) -> ColumnElement[bool] | None:
    if role == "admin":
        return Member.is_admin.is_(True)
    if role == "member":
        return Member.is_admin.is_(False)
    return None


def _status(status: str) -> ColumnElement[bool]:
    alive = Member.deleted_at.is_(None)
    return {
        "": Member.id.is_not(None),
        "active": and_(alive, Member.suspended.is_(False), Member.confirmed_at.is_not(None)),
        "unconfirmed": and_(alive, Member.confirmed_at.is_(None)),
        "suspended": and_(alive, Member.suspended.is_(True)),
        "deleted": Member.deleted_at.is_not(None),
    }[status]


def status_of(member: Member) -> str:
    """The member's status, in the words of :data:`STATUSES`."""
    if member.is_deleted:
        return STATUSES["deleted"]
    if member.suspended:
        return STATUSES["suspended"]
    return STATUSES["active" if member.confirmed_at else "unconfirmed"]
