"""Who may see, change and download what. Views and search ask here; nothing else decides.

The exchange runs on give-to-get: a member who has not shared yet may take a few
resources to see the value; sharing one published resource unlocks the rest. A giver may
also keep a resource "for members who share".
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from sqlalchemy import ColumnElement, exists, func, or_, select, true

from .extensions import db
from .models import Download, Member, Resource


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    step_label: str = ""
    step_url: str = ""


ALLOWED = Decision(True)


def _member(user) -> Member | None:
    return user if isinstance(user, Member) and user.is_authenticated else None


def can_view(user, resource: Resource) -> bool:
    """Published resources are public; drafts and hidden ones only to their owner and admins."""
    if resource.status == Resource.PUBLISHED:
        return True
    member = _member(user)
    return member is not None and (member.is_admin or member.id == resource.owner_id)


def can_edit(user, resource: Resource) -> bool:
    member = _member(user)
    return member is not None and (member.is_admin or member.id == resource.owner_id)


def visible_clause(user) -> ColumnElement[bool]:
    """The SQL condition for resources ``user`` may see, for listings and counts."""
    member = _member(user)
    if member is not None and member.is_admin:
        return true()
    published = Resource.status == Resource.PUBLISHED
    if member is None:
        return published
    return or_(published, Resource.owner_id == member.id)


def has_shared(member: Member) -> bool:
    """Whether the member has given something back: a published resource of their own."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Resource.owner_id == member.id, Resource.status == Resource.PUBLISHED
                )
            )
        )
    )


def already_downloaded(member: Member, resource: Resource) -> bool:
    query = select(
        exists().where(Download.member_id == member.id, Download.resource_id == resource.id)
    )
    return bool(db.session.scalar(query))


def starter_downloads_used(member: Member) -> int:
    """How many different resources of others this member has taken so far."""
    query = (
        select(func.count(func.distinct(Download.resource_id)))
        .join(Resource, Resource.id == Download.resource_id)
        .where(Download.member_id == member.id, Resource.owner_id != member.id)
    )
    return db.session.scalar(query) or 0


def allowance_left(member: Member) -> int | None:
    """Starter downloads left, or None when the member has shared and may take freely."""
    if member.is_admin or has_shared(member):
        return None
    return max(0, current_app.config["STARTER_DOWNLOADS"] - starter_downloads_used(member))


def download_decision(user, resource: Resource) -> Decision:
    """May ``user`` download from ``resource``? If not, why, and the one step that unlocks it."""
    member = _member(user)
    if member is None:
        return Decision(False, "Please log in to download.", "Log in", url_for("auth.login"))
    if not can_view(member, resource):
        return Decision(False, "This resource isn’t available.")
    if can_edit(member, resource) or already_downloaded(member, resource):
        return ALLOWED
    return _give_to_get(member, resource)


def _give_to_get(member: Member, resource: Resource) -> Decision:
    shared = has_shared(member)
    share_step = ("Share a resource", url_for("resources.new"))
    if resource.access == "sharers" and not shared:
        return Decision(
            False,
            "The giver has kept this resource for members who share. "
            "Share one of your own tools and it opens up, along with the rest of the toolkit.",
            *share_step,
        )
    left = allowance_left(member)
    if left is not None and left <= 0:
        return Decision(
            False,
            f"You’ve used your {current_app.config['STARTER_DOWNLOADS']} starter downloads. "
            "Share one of your own tools to unlock the whole toolkit.",
            *share_step,
        )
    return ALLOWED
