"""Each member's toolkit: the resources they saved to find again."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import access
from ..extensions import db
from ..models import (
    Member,
    Resource,
    ToolkitItem,
)

log = logging.getLogger(__name__)


def toggle_saved(member: Member, resource: Resource) -> bool:
    """Save the resource to the member's toolkit, or take it out; True when now saved.

    Written in the caller's transaction, which commits it.
    """
    item = db.session.get(ToolkitItem, (member.id, resource.id))
    if item is not None:
        db.session.delete(item)
        db.session.flush()
        return False
    try:
        with db.session.begin_nested():
            db.session.add(ToolkitItem(member_id=member.id, resource_id=resource.id))
    except IntegrityError:
        pass  # saved a moment ago from another tab: it is saved either way
    return True


def toolkit_of(member: Member) -> list[Resource]:
    """Saved resources the member may still see, most recently saved first."""
    query = (
        select(Resource)
        .join(ToolkitItem, ToolkitItem.resource_id == Resource.id)
        .where(ToolkitItem.member_id == member.id, access.visible_clause(member))
        .order_by(ToolkitItem.created_at.desc())
    )
    return list(db.session.scalars(query))
