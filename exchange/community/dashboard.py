"""The administrators' dashboard: how the exchange is doing, week by week.

Each figure is counted the way the rest of the site counts it: downloads as
:mod:`exchange.counts` defines them (a member's first download of a resource, never its
giver's own), weeks as :func:`~exchange.community.impact.week_starts` cuts them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from .. import counts
from ..extensions import db
from ..i18n import day_and_month
from ..models import Answer, Member, Report, Resource
from .impact import week_starts

WEEKS = 12
FIGURES = {
    "members": _l("New members"),
    "shares": _l("Resources shared"),
    "downloads": _l("Downloads"),
    "answered": _l("Requests answered"),
    "reports_open": _l("Reports open at the week’s end"),
}


@dataclass
class Week:
    start: datetime
    members: int = 0
    shares: int = 0
    downloads: int = 0
    answered: int = 0
    reports_open: int = 0

    @property
    def label(self) -> str:
        """ "7 Dec", in the page's language."""
        return day_and_month(self.start)


@dataclass
class Dashboard:
    weeks: list[Week]
    totals: dict[str, int]

    def series(self, figure: str) -> list[tuple[str, int]]:
        return [(week.label, getattr(week, figure)) for week in self.weeks]

    def highest(self, figure: str) -> int:
        return max((getattr(week, figure) for week in self.weeks), default=0)


def dashboard(now: datetime, weeks: int = WEEKS) -> Dashboard:
    """The last ``weeks`` weeks up to ``now``, and the totals to date."""
    starts = week_starts(now, weeks)
    table = [Week(start) for start in starts]
    _tally(table, "members", _since(Member.created_at, starts[0]))
    _tally(table, "shares", _since(Resource.created_at, starts[0], _shared()))
    _tally(table, "downloads", counts.first_downloads_since_on_the_exchange(starts[0]))
    _tally(table, "answered", _first_answers_since(starts[0]))
    for week, end in zip(table, [*starts[1:], now], strict=True):
        week.reports_open = _reports_open_at(end)
    return Dashboard(table, _totals())


def _tally(table: list[Week], figure: str, moments: Iterable[datetime]) -> None:
    starts = [week.start for week in table]
    for moment in moments:
        index = bisect_right(starts, moment) - 1
        if index >= 0:
            week = table[index]
            setattr(week, figure, getattr(week, figure) + 1)


def _shared():
    """Shared means it reached the exchange: drafts waiting for a privacy review, and files
    still being read, don't count."""
    return Resource.status.not_in((Resource.DRAFT, Resource.PROCESSING))


def _since(column, start: datetime, *conditions) -> list[datetime]:
    return list(db.session.scalars(select(column).where(column >= start, *conditions)))


def _first_answers_since(start: datetime) -> list[datetime]:
    """A request counts as answered in the week of its first answer."""
    first = func.min(Answer.created_at)
    query = select(first).group_by(Answer.request_id).having(first >= start)
    return list(db.session.scalars(query))


def _reports_open_at(moment: datetime) -> int:
    handled_later = or_(Report.handled_at.is_(None), Report.handled_at > moment)
    query = select(func.count(Report.id)).where(Report.created_at <= moment, handled_later)
    return db.session.scalar(query) or 0


def _totals() -> dict[str, int]:
    def count(*conditions) -> int:
        return db.session.scalar(select(func.count()).where(*conditions)) or 0

    return {
        "members": count(Member.id.is_not(None), Member.deleted_at.is_(None)),
        "shares": count(Resource.id.is_not(None), _shared()),
        "downloads": db.session.scalar(select(func.sum(counts.RESOURCE_DOWNLOADS))) or 0,
        "reports_open": count(Report.status == Report.OPEN),
    }
