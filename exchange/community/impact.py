"""What a member's giving has done, and where they stand in the exchange: read-only queries.

A giver sees everything about their own gifts, anonymous ones included; the public only
ever sees what is credited by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from .. import access, counts
from ..extensions import db
from ..i18n import label, month_and_year, short_month
from ..models import Download, Member, Resource, ShareRequest, Thanks
from ..vocab import N_
from .kits import kits_by_resource, kits_with_gifts_of

CHART_MONTHS = 12
# The region of colleagues who gave none: in English for the API, translated on the page.
NO_REGION = N_("Not given")


@dataclass
class Gift:
    """One shared resource and what came of it (counted as :mod:`exchange.counts` says)."""

    resource: Resource
    file_downloads: int = 0  # every file fetched by others, repeats included
    thanks: int = 0
    kits: int = 0  # public collections and workshop kits that use it

    @property
    def downloads(self) -> int:
        """Members who took it, each once: the number its page and cards show."""
        return self.resource.download_count

    @property
    def public(self) -> bool:
        return counts.is_public_gift(self.resource)


@dataclass
class Month:
    downloads: int
    start: datetime  # its first instant, in the zone the months were counted in

    @property
    def label(self) -> str:
        """ "Dec 2026", in the page's language."""
        return month_and_year(self.start)

    @property
    def short_label(self) -> str:
        """ "Dec", in the page's language: under the chart's bar."""
        return short_month(self.start)


@dataclass
class Impact:
    gifts: list[Gift]
    months: list[Month]
    regions: list[tuple[str, int]]  # region, colleagues
    thanks: list[Thanks]
    unique_members: int = 0
    kits: int = 0  # different public kits using any of the gifts

    @property
    def regions_shown(self) -> list[tuple[str, int]]:
        """:attr:`regions` as the page shows them, "Not given" in the page's language."""
        return [(label(r) if r == NO_REGION else r, n) for r, n in self.regions]

    @property
    def total_downloads(self) -> int:
        return counts.giver_downloads(g.resource for g in self.gifts)

    @property
    def public_downloads(self) -> int:
        """What the giver's public page shows: anonymous and unpublished gifts left out."""
        return counts.giver_downloads(g.resource for g in self.gifts if g.public)

    @property
    def busiest_month(self) -> int:
        return max((m.downloads for m in self.months), default=0)


def impact_of(member: Member, now: datetime | None = None) -> Impact:
    """Everything about ``member``'s gifts: for their own eyes (and admins')."""
    gifts = _gifts(member)
    return Impact(
        gifts=gifts,
        months=_months(member, now or datetime.now().astimezone()),
        regions=_regions(member),
        thanks=_thanks_received(member),
        unique_members=counts.colleagues_reached(member),
        kits=kits_with_gifts_of(member),
    )


def _gifts(member: Member) -> list[Gift]:
    gifts = {r.id: Gift(r) for r in member.resources}
    for resource_id, count in counts.file_downloads_by_resource(member).items():
        gifts[resource_id].file_downloads = count
    thanks = (
        select(Thanks.resource_id, func.count())
        .join(Resource, Resource.id == Thanks.resource_id)
        .where(Resource.owner_id == member.id, Thanks.member_id != member.id)
        .group_by(Thanks.resource_id)
    )
    for resource_id, count in db.session.execute(thanks):
        gifts[resource_id].thanks = count
    for resource_id, count in kits_by_resource(member).items():
        gifts[resource_id].kits = count
    return list(gifts.values())


def month_starts(now: datetime, count: int = CHART_MONTHS) -> list[datetime]:
    """The first instants of the last ``count`` months, oldest first, in ``now``'s zone."""
    year, month = now.year, now.month
    starts = []
    for _ in range(count):
        starts.append(
            now.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
        )
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def week_starts(now: datetime, count: int) -> list[datetime]:
    """The first instants (Monday 00:00) of the last ``count`` weeks, oldest first."""
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return [monday - timedelta(weeks=back) for back in range(count - 1, -1, -1)]


def _months(member: Member, now: datetime) -> list[Month]:
    """Downloads per month, each dated by the colleague's first download of the resource."""
    starts = month_starts(now)
    counted = {(s.year, s.month): 0 for s in starts}
    for stamp in counts.first_downloads_since(member, starts[0]):
        local = stamp.astimezone(now.tzinfo)
        key = (local.year, local.month)
        if key in counted:
            counted[key] += 1
    return [Month(counted[(s.year, s.month)], s) for s in starts]


def _regions(member: Member) -> list[tuple[str, int]]:
    pairs = [(region or NO_REGION, n) for region, n in counts.colleagues_by_region(member)]
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


def _thanks_received(member: Member) -> list[Thanks]:
    query = (
        select(Thanks)
        .join(Resource, Resource.id == Thanks.resource_id)
        .where(Resource.owner_id == member.id)
        .order_by(Thanks.created_at.desc(), Thanks.id.desc())
    )
    return list(db.session.scalars(query))


# -- the public summary on a member page ----------------------------------------------


def public_thanks_count(member: Member) -> int:
    """Thanks for the member's published gifts credited by name (anonymous ones stay out)."""
    query = (
        select(func.count(Thanks.id))
        .join(Resource, Resource.id == Thanks.resource_id)
        .where(
            Resource.owner_id == member.id,
            Resource.status == Resource.PUBLISHED,
            Resource.credit_name != "",
        )
    )
    return db.session.scalar(query) or 0


# -- where a member stands: the account's exchange page ----------------------------------


@dataclass
class Taken:
    resource: Resource
    last_downloaded: datetime
    thanked: bool


@dataclass
class Standing:
    """What a member has given and taken, and what they may take next."""

    shared: list[Gift]
    taken: list[Taken]
    allowance_left: int | None  # None: the whole toolkit is open to them
    starter_total: int
    my_requests: list[ShareRequest] = field(default_factory=list)
    asks_to_me: list[ShareRequest] = field(default_factory=list)


def standing_of(member: Member, starter_total: int) -> Standing:
    return Standing(
        shared=_gifts(member),
        taken=_taken(member),
        allowance_left=access.allowance_left(member),
        starter_total=starter_total,
        my_requests=_requests(ShareRequest.asker_id == member.id),
        asks_to_me=_requests(ShareRequest.recipient_id == member.id),
    )


def _taken(member: Member) -> list[Taken]:
    last = func.max(Download.created_at)
    query = (
        select(Resource, last)
        .join(Download, Download.resource_id == Resource.id)
        .where(
            Download.member_id == member.id,
            Resource.owner_id != member.id,
            access.visible_clause(member),
        )
        .group_by(Resource.id)
        .order_by(last.desc())
    )
    thanked = set(
        db.session.scalars(select(Thanks.resource_id).where(Thanks.member_id == member.id))
    )
    return [Taken(r, when, r.id in thanked) for r, when in db.session.execute(query)]


def _requests(condition) -> list[ShareRequest]:
    query = select(ShareRequest).where(condition).order_by(ShareRequest.created_at.desc())
    return list(db.session.scalars(query))
