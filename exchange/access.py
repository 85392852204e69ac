"""Who may see, change and download what. Views and search ask here; nothing else decides.

The exchange runs on give-to-get: a member who has not shared yet may take a few
resources to see the value; sharing one published resource unlocks the rest. A giver may
also keep a resource "for members who share".

Visitors who are not signed in see a public catalogue: published resources' pages,
synopses, credit and search results (counsellors find tools by web search), never a
download. A giver may keep a resource to signed-in members only; then no visitor finds it
anywhere, and its address answers 404 as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import current_app, g, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from .extensions import db
from .models import Answer, Collection, Download, Member, Resource, ShareRequest
from .search import Visible


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    step_label: str = ""
    step_url: str = ""
    # Allowed, but it spends one of a newcomer's starter downloads: ask before taking it.
    uses_starter: bool = False


ALLOWED = Decision(True)


def _member(user) -> Member | None:
    return user if isinstance(user, Member) and user.is_authenticated else None


class Shown(Protocol):
    """What deciding visibility reads: a resource, or a row read for a results page."""

    status: str
    owner_id: int
    visibility: str


def can_view(user, resource: Shown) -> bool:
    """Published resources are seen by members, and by visitors unless kept to members;
    drafts and hidden ones only by their owner and admins; one whose files are still being
    read (not yet checked for a client's personal data) by its owner alone."""
    member = _member(user)
    if resource.status == Resource.PUBLISHED:
        return member is not None or resource.visibility != Resource.MEMBERS_ONLY
    if member is not None and member.id == resource.owner_id:
        return True
    return member is not None and member.is_admin and resource.status != Resource.PROCESSING


def can_administer(user) -> bool:
    """The admin area (members, dashboard, audit log, reports) is for administrators only."""
    member = _member(user)
    return member is not None and member.is_admin and member.is_active


def can_see_impact(user, member: Member) -> bool:
    """A member's impact (every gift, anonymous and unpublished ones too, who took them and
    where) is for their own eyes and administrators'; others see the public page's figures."""
    viewer = _member(user)
    return viewer is not None and (viewer.id == member.id or viewer.is_admin)


def can_edit(user, resource: Resource) -> bool:
    member = _member(user)
    return member is not None and (member.is_admin or member.id == resource.owner_id)


def visible_clause(user) -> ColumnElement[bool]:
    """The SQL condition for resources ``user`` may see, for listings and counts."""
    member = _member(user)
    if member is not None and member.is_admin:
        return or_(Resource.status != Resource.PROCESSING, Resource.owner_id == member.id)
    published = Resource.status == Resource.PUBLISHED
    if member is None:
        return and_(published, Resource.visibility != Resource.MEMBERS_ONLY)
    return or_(published, Resource.owner_id == member.id)


def news_clause(user) -> ColumnElement[bool]:
    """What lists of news (What's new, the digest) may show ``user``: what they may see,
    less what only an administrator's powers reveal: drafts, hidden and suspended resources
    are nobody's news, whoever reads them."""
    member = _member(user)
    if member is not None and member.is_admin:
        return Resource.status == Resource.PUBLISHED
    return visible_clause(user)


def public_clause() -> ColumnElement[bool]:
    """What anyone on the web may see, signed in or not: what feeds publish."""
    return visible_clause(None)


# Every status but PROCESSING: files not read yet are their giver's alone, admins' too.
ADMIN_SEES = frozenset({Resource.PUBLISHED, Resource.DRAFT, Resource.HIDDEN, Resource.SUSPENDED})


def search_visibility(user) -> Visible:
    """The rule of :func:`can_view` and :func:`visible_clause`, in the form search applies
    inside its index (so a search's totals and facets agree with every listing)."""
    member = _member(user)
    if member is not None and member.is_admin:
        return Visible(statuses=ADMIN_SEES, owner_id=member.id)
    published = frozenset({Resource.PUBLISHED})
    if member is None:
        return Visible(statuses=published, hidden=frozenset({Resource.MEMBERS_ONLY}))
    return Visible(statuses=published, owner_id=member.id)


def has_shared(member: Member) -> bool:
    """Whether the member has given something back: a published resource of their own, or
    an answer to a colleague's request (with a resource that is still published).

    Pages ask this several times, so a request remembers the answer (the member loader
    records it along with the member, in the same round trip: see :func:`remember_shared`).
    """
    if not has_request_context():
        return _has_shared(member)
    known = g.setdefault("has_shared", {})
    if member.id not in known:
        known[member.id] = _has_shared(member)
    return known[member.id]


def remember_shared(member: Member, shared: bool) -> None:
    """Record, for this request, what :func:`shared_clause` said about ``member``."""
    if has_request_context():
        g.setdefault("has_shared", {})[member.id] = shared


def shared_clause(member_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    """The SQL condition behind :func:`has_shared`, for ``member_id`` (a value or column)."""
    published = Resource.status == Resource.PUBLISHED
    own = exists().where(Resource.owner_id == member_id, published)
    answered = (
        exists()
        .where(Answer.giver_id == member_id)
        .where(Resource.id == Answer.resource_id, published)
    )
    return or_(own, answered)


def _has_shared(member: Member) -> bool:
    return bool(db.session.scalar(select(shared_clause(member.id))))


def answers_request_of(
    member_id: int | ColumnElement[int], resource_id: int | ColumnElement[int]
) -> ColumnElement[bool]:
    """The SQL condition "this resource was given in answer to one of this member's
    requests" (on the board or asked directly): such a gift is theirs to take, free."""
    return (
        exists()
        .where(Answer.resource_id == resource_id)
        .where(Answer.request_id == ShareRequest.id, ShareRequest.asker_id == member_id)
    )


def free_to_take(member: Member, resource: Resource) -> bool:
    """Taken before (taking again never costs), or given in answer to their own request."""
    taken = exists().where(Download.member_id == member.id, Download.resource_id == resource.id)
    query = select(or_(taken, answers_request_of(member.id, resource.id)))
    return bool(db.session.scalar(query))


def starter_downloads_used(member: Member) -> int:
    """How many different resources of others this member has taken so far, leaving out
    answers to their own requests (those were given to them, not taken from the allowance)."""
    query = (
        select(func.count(func.distinct(Download.resource_id)))
        .join(Resource, Resource.id == Download.resource_id)
        .where(Download.member_id == member.id, Resource.owner_id != member.id)
        .where(~answers_request_of(member.id, Resource.id))
    )
    return db.session.scalar(query) or 0


def allowance_left(member: Member) -> int | None:
    """Starter downloads left, or None when the member has shared and may take freely."""
    if member.is_admin or has_shared(member):
        return None
    return max(0, current_app.config["STARTER_DOWNLOADS"] - starter_downloads_used(member))


def download_decision(user, resource: Resource) -> Decision:
    """May ``user`` download from ``resource``? If not, why, and the one step that unlocks it.

    A resource given in answer to the member's own request is always theirs, whatever the
    giver's "for members who share" setting, and never spends a starter download.
    """
    member = _member(user)
    if member is None:
        return Decision(False, _("Please log in to download."), _("Log in"), url_for("auth.login"))
    if not can_view(member, resource):
        return Decision(False, _("This resource isn’t available."))
    if can_edit(member, resource) or has_shared(member):
        return ALLOWED  # givers take freely, "for members who share" included
    if free_to_take(member, resource):
        return ALLOWED  # a repeat, or a gift to them: neither costs an allowance
    return _give_to_get(member, resource)


def _give_to_get(member: Member, resource: Resource) -> Decision:
    """A newcomer who has not shared: the giver's choice, then the starter allowance."""
    share_step = ("Share a resource", url_for("resources.new"))
    if resource.access == "sharers":
        return Decision(
            False,
            _(
                "The giver has kept this resource for members who share. Share one of your own "
                "tools, or answer a colleague’s request, and it opens up along with the rest of "
                "the toolkit."
            ),
            *share_step,
        )
    left = allowance_left(member)
    if left is not None and left <= 0:
        return Decision(
            False,
            _(
                "You’ve used your %(count)s starter downloads. Share one of your own tools, "
                "or answer a colleague’s request, to unlock the whole toolkit.",
                count=current_app.config["STARTER_DOWNLOADS"],
            ),
            *share_step,
        )
    return Decision(True, uses_starter=left is not None)


# -- earlier versions of a file ------------------------------------------------------------


def versions_taken(user, resource: Resource) -> frozenset[tuple[int, int]]:
    """The (file id, version number) pairs of ``resource`` this member has downloaded."""
    member = _member(user)
    if member is None:
        return frozenset()
    query = (
        select(Download.file_id, Download.file_version)
        .where(Download.member_id == member.id, Download.resource_id == resource.id)
        .where(Download.file_id.is_not(None))
        .distinct()
    )
    return frozenset((file_id, number) for file_id, number in db.session.execute(query))


def may_fetch_earlier_version(
    user, resource: Resource, file_id: int, number: int, taken: frozenset[tuple[int, int]]
) -> bool:
    """An earlier version stays with its giver (and the admins), and with the members who
    took that very version (``taken``: :func:`versions_taken`); it is no one else's to find,
    as it was replaced by something its giver likes better."""
    member = _member(user)
    if member is None or not can_view(member, resource):
        return False
    return can_edit(member, resource) or (file_id, number) in taken


def earlier_version_decision(user, resource: Resource, file_id: int, number: int) -> Decision:
    """May ``user`` download version ``number`` of a file that has a newer one? If not, why."""
    member = _member(user)
    if member is None:
        return Decision(False, _("Please log in to download."), _("Log in"), url_for("auth.login"))
    if may_fetch_earlier_version(
        member, resource, file_id, number, versions_taken(member, resource)
    ):
        return ALLOWED
    return Decision(
        False,
        _(
            "Earlier versions of a file stay with its giver and with the members who downloaded "
            "them. The current version is on the resource’s page."
        ),
        _("Back to the resource"),
        url_for("resources.show", resource_id=resource.id),
    )


# -- collections and workshop kits -------------------------------------------------------------


def can_view_collection(user, collection: Collection) -> bool:
    """A public collection or kit is seen by anyone, as resources' pages are; a private one
    (a draft kit, "My toolkit") by its owner only: not even administrators read someone's
    private lists. What a page shows *inside* is still each resource's own rule."""
    if collection.public:
        return True
    member = _member(user)
    return member is not None and member.id == collection.owner_id


def can_edit_collection(user, collection: Collection) -> bool:
    member = _member(user)
    return member is not None and member.id == collection.owner_id and member.is_active


def collection_visible_to(member_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    """The SQL condition for the collections a member may see (:func:`can_view_collection`),
    for ``member_id`` (a value, or a bound parameter in a statement built once); a visitor
    is an id no member has."""
    return or_(Collection.public, Collection.owner_id == member_id)


def kit_download_plan(user, resources: list[Resource]) -> list[Decision]:
    """Each resource's decision when a kit is downloaded in one go, in the kit's order.

    Each is :func:`download_decision`, plus the one thing a kit adds: a newcomer's starter
    downloads are spent in the running order, so once they run out the rest of the kit is
    not included (and says why), rather than going over the allowance.
    """
    decisions = [download_decision(user, resource) for resource in resources]
    member = _member(user)
    left = allowance_left(member) if member is not None else None
    planned = []
    for decision in decisions:
        if decision.uses_starter and left is not None:
            decision = decision if left > 0 else _starters_spent()
            left -= 1
        planned.append(decision)
    return planned


def _starters_spent() -> Decision:
    return Decision(
        False,
        _(
            "This kit uses up your %(count)s starter downloads before it gets here. Share "
            "one of your own tools, or answer a colleague’s request, to open everything.",
            count=current_app.config["STARTER_DOWNLOADS"],
        ),
        _("Share a resource"),
        url_for("resources.new"),
    )
