"""The audit log: every administrator action, who did it, to what, when and why.

One table (:class:`~exchange.models.ModerationAction`) for all of them: moderation's
decisions, what an admin does to someone else's resource, and roles given on the command
line. It is shown in the admin area and, being a table, travels in ``exchange export``.
Writing an entry only flushes: it commits, or rolls back, with the action it records.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from ..extensions import db
from ..models import Member, ModerationAction, Report, Resource
from ..vocab import N_

# What each action is called on the admin pages.
ACTIONS = {
    "hide": N_("Hid resource"),
    "restore": N_("Restored resource"),
    "suspend": N_("Suspended member"),
    "reinstate": N_("Reinstated member"),
    "dismiss": N_("Dismissed report"),
    "edit-resource": N_("Edited resource"),
    "delete-resource": N_("Deleted resource"),
    "make-admin": N_("Made administrator"),
}
SITE = "site"
COMMAND_LINE = "command line"


def record_admin_action(
    admin: Member | None, action: str, note: str = "", via: str = SITE, **target: int | None
) -> ModerationAction:
    """Write one entry (``admin`` None: done on the command line, with no one signed in)."""
    if action not in ACTIONS:
        raise ValueError(f"not an audited action: {action!r}")
    entry = ModerationAction(
        admin_id=admin.id if admin else None, action=action, note=note.strip(), via=via, **target
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def audit_log() -> Select:
    """Every entry, newest first: a statement to paginate."""
    return select(ModerationAction).order_by(
        ModerationAction.created_at.desc(), ModerationAction.id.desc()
    )


def actions_about_member(member: Member, limit: int = 50) -> list[ModerationAction]:
    query = audit_log().where(ModerationAction.member_id == member.id).limit(limit)
    return list(db.session.scalars(query))


def suspension_reason(member: Member) -> str:
    """The note of the member's latest suspension, which they are shown when refused."""
    query = (
        audit_log()
        .where(ModerationAction.member_id == member.id, ModerationAction.action == "suspend")
        .limit(1)
        .with_only_columns(ModerationAction.note)
    )
    return db.session.scalar(query) or ""


def reports_about(member: Member) -> list[Report]:
    """Reports about the member or any of their resources, newest first (their admin page)."""
    query = (
        select(Report)
        .outerjoin(Resource, Resource.id == Report.resource_id)
        .where((Report.member_id == member.id) | (Resource.owner_id == member.id))
        .order_by(Report.created_at.desc(), Report.id.desc())
    )
    return list(db.session.scalars(query))
