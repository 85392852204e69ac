"""The caller's own things on the API: who the token acts as, their toolkit (saved
resources) and their notifications, through the same community and notify verbs as the
pages."""

from __future__ import annotations

from flask import url_for

from ... import access, community, notify, transactions
from ...extensions import db
from ...models import Notification
from ..resources import visible_resource_or_404
from . import schemas
from .auth import caller, current_token, needs_write
from .blueprints import api_blueprint
from .problems import fail
from .shapes import NOT_MODIFIED, member_ref, problem_responses, shared_summaries

bp = api_blueprint("api_me", "The token's member: their toolkit and notifications.")


@bp.route("/me", methods=["GET"])
@bp.response(200, schemas.Me)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 429)
def me():
    """Who the token acts as, and their starter downloads left (give-to-get)."""
    member = caller()
    return {
        **member_ref(member),
        "credit_name": member.default_credit,
        "starter_downloads_left": access.allowance_left(member),
        "unread_notifications": notify.unread_count(member),
        "scopes": current_token().scope_list,
    }


@bp.route("/me/toolkit", methods=["GET"])
@bp.response(200, schemas.Toolkit)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 429)
def toolkit():
    """Resources saved to the toolkit that the member may still see, in its order (the
    toolkit is the member's default collection, as "My toolkit" shows it)."""
    member = caller()
    toolkit = community.toolkit_of(member)
    entries = community.entries_for(toolkit, member) if toolkit is not None else []
    saved = [entry.resource for entry in entries if entry.resource is not None]
    return {"items": shared_summaries(saved, member)}


@bp.route("/me/toolkit/<int:resource_id>", methods=["PUT"])
@bp.response(204, description="Saved (saving twice changes nothing).")
@problem_responses(bp, 401, 403, 404, 429)
@needs_write
def save(resource_id: int):
    """Save a resource to the toolkit."""
    _saved(resource_id, True)


@bp.route("/me/toolkit/<int:resource_id>", methods=["DELETE"])
@bp.response(204, description="Not in the toolkit (any more).")
@problem_responses(bp, 401, 403, 404, 429)
@needs_write
def unsave(resource_id: int):
    """Take a resource out of the toolkit."""
    _saved(resource_id, False)


def _saved(resource_id: int, wanted: bool) -> None:
    member = caller()
    resource = visible_resource_or_404(resource_id)
    if community.standing(member, resource).saved != wanted:
        community.toggle_saved(member, resource)
        transactions.commit()


@bp.route("/me/notifications", methods=["GET"])
@bp.response(200, schemas.Notifications)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 429)
def notifications():
    """The member's latest notifications (at most 100), newest first."""
    member = caller()
    items = [
        {
            "id": n.id,
            "kind": n.kind,
            "message": n.message,
            "url": n.url or url_for("community.notifications", _external=True),
            "created_at": n.created_at,
            "read": n.read_at is not None,
        }
        for n in notify.recent(member)
    ]
    return {"items": items, "unread": notify.unread_count(member)}


@bp.route("/me/notifications/read", methods=["POST"])
@bp.response(200, schemas.Marked)
@problem_responses(bp, 401, 403, 429)
@needs_write
def mark_all_read():
    """Mark every notification read, as the Notifications page's button does."""
    marked = notify.mark_read(caller())
    transactions.commit()
    return {"marked": marked}


@bp.route("/me/notifications/<int:notification_id>/read", methods=["POST"])
@bp.response(200, schemas.Marked)
@problem_responses(bp, 401, 403, 404, 429)
@needs_write
def mark_read(notification_id: int):
    """Mark one notification read, as opening it on the Notifications page does (`marked`
    is 0 when it was read already)."""
    item = db.session.get(Notification, notification_id)
    if item is None or item.member_id != caller().id:
        fail("not-found")
    marked = notify.mark_read(caller(), item.id)
    transactions.commit()
    return {"marked": marked}
