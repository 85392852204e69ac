"""How the exchange counts downloads: defined here once, so every page shows the same numbers.

- **Downloads of a resource**: the members other than its giver who downloaded any of its
  files, each counted once however often they come back. The ledger keeps one
  :class:`Taker` row per such member (written at their first download, never for the
  giver), and ``Resource.download_count`` is that number kept on the resource, so listings
  read and sort by it without counting (:func:`record_download
  <exchange.resources.operations.record_download>` moves both in one statement; :func:`recount`
  repairs the column from the rows).
- **A giver's downloads**: the sum of that over their resources. In public only the
  published resources credited by name count (anonymous gifts are never tied to a giver);
  on the giver's own impact page, all of them.
- **Colleagues reached**: the different members who took any of a giver's resources.
- **File downloads**: every fetch of a file by someone other than the giver, repeats
  included (:class:`Download` rows). Shown only where labelled as such. A file's new
  version, or an earlier version fetched again, is a repeat: the member is already a
  taker, so neither moves a resource's downloads nor spends a starter download.
- **Taken together** ("members who took this also took…"): for two resources, the members
  who took both, neither giver counted (their Taker rows do not exist). A pair is only ever
  shown from ``TOGETHER_MIN_MEMBERS`` members up, so that no one's downloads can be read
  off the pages.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import aliased

from .extensions import db
from .models import Download, Member, Resource, Taker

# A resource's downloads, for listings: cards, "most downloaded", "most used".
RESOURCE_DOWNLOADS = Resource.download_count
# Fewer members than this taking two resources together is never shown: with one or two,
# a member who knows who took one could tell what they took besides.
TOGETHER_MIN_MEMBERS = 3
TOGETHER_MOST = 50  # the resources most often taken with one, for "more like this"


def is_public_gift(resource: Resource) -> bool:
    """Whether a resource counts on its giver's public page."""
    return resource.status == Resource.PUBLISHED and not resource.anonymous


def giver_downloads(resources: Iterable[Resource]) -> int:
    """A giver's downloads over ``resources`` (already loaded: no query)."""
    return sum(resource.download_count for resource in resources)


def _takers_of(owner_id: int):
    """Taker rows of ``owner_id``'s resources, the giver's own never among them."""
    return (
        select(Taker)
        .join(Resource, Resource.id == Taker.resource_id)
        .where(Resource.owner_id == owner_id, Taker.member_id != owner_id)
    )


def colleagues_reached(owner: Member) -> int:
    query = _takers_of(owner.id).with_only_columns(func.count(func.distinct(Taker.member_id)))
    return db.session.scalar(query) or 0


def colleagues_by_region(owner: Member) -> list[tuple[str, int]]:
    """Colleagues reached, by the region on their profile (each member in one region)."""
    query = (
        _takers_of(owner.id)
        .join(Member, Member.id == Taker.member_id)
        .with_only_columns(Member.region, func.count(func.distinct(Taker.member_id)))
        .group_by(Member.region)
    )
    return [(region, count) for region, count in db.session.execute(query)]


def first_downloads_since(owner: Member, start: datetime) -> list[datetime]:
    """When each of the giver's downloads (a colleague's first of a resource) happened."""
    query = _takers_of(owner.id).where(Taker.created_at >= start)
    return list(db.session.scalars(query.with_only_columns(Taker.created_at)))


def first_downloads_since_on_the_exchange(start: datetime) -> list[datetime]:
    """When each download on the whole exchange (a member's first of a resource) happened:
    the sum of every giver's :func:`first_downloads_since`, for the admins' dashboard."""
    query = (
        select(Taker.created_at)
        .join(Resource, Resource.id == Taker.resource_id)
        .where(Taker.member_id != Resource.owner_id, Taker.created_at >= start)
    )
    return list(db.session.scalars(query))


def file_downloads_by_resource(owner: Member) -> dict[int, int]:
    """File downloads of each of the giver's resources by others, repeats included."""
    query = (
        select(Download.resource_id, func.count())
        .join(Resource, Resource.id == Download.resource_id)
        .where(Resource.owner_id == owner.id, Download.member_id != owner.id)
        .group_by(Download.resource_id)
    )
    return dict(db.session.execute(query).all())


def taken_together(resource_id: int, limit: int = TOGETHER_MOST) -> dict[int, int]:
    """The resources most often taken by members who took ``resource_id``: resource id →
    how many distinct members took both, only pairs of ``TOGETHER_MIN_MEMBERS`` or more.

    Taker rows are one per member and resource and never the giver's, so a count here is
    distinct members, givers left out on both sides. Visibility is the caller's to apply.
    """
    found = db.session.execute(_taken_together(), {"resource_id": resource_id, "limit": limit})
    return dict(found.all())


@functools.cache
def _taken_together() -> Select:
    """Built once per process: a resource page may run it, and building costs more."""
    mine, theirs = aliased(Taker), aliased(Taker)
    members = func.count(theirs.member_id)
    return (
        select(theirs.resource_id, members)
        .join(mine, mine.member_id == theirs.member_id)
        .where(mine.resource_id == bindparam("resource_id"))
        .where(theirs.resource_id != bindparam("resource_id"))
        .group_by(theirs.resource_id)
        .having(members >= TOGETHER_MIN_MEMBERS)
        .order_by(members.desc(), theirs.resource_id)
        .limit(bindparam("limit"))
    )


def recount(resource_ids: Sequence[int]) -> None:
    """Set each resource's ``download_count`` from its Taker rows (the caller commits)."""
    takers = (
        select(func.count())
        .select_from(Taker)
        .where(Taker.resource_id == Resource.id, Taker.member_id != Resource.owner_id)
        .scalar_subquery()
    )
    statement = (
        update(Resource)
        .where(Resource.id.in_(resource_ids))
        .values(download_count=takers, updated_at=Resource.updated_at)  # not an edit
    )
    db.session.execute(statement.execution_options(synchronize_session=False))
