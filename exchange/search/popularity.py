"""Download and thanks counts for "most downloaded" and "most thanked", read from the
database rather than the index.

A download count changes on every member's first download of a resource, a thanks count on
every first note of thanks. Keeping them in the index would rewrite that resource's document
and make every process reopen its searcher, many times a minute on a busy site. Instead each
process keeps one array of counts per database and kind of count, indexed by resource id,
and re-reads it when its ledger has changed — checked at most every ``REFRESH_SECONDS``, so a
new download or thanks moves a resource up within seconds.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable

import numpy as np
from sqlalchemy import Select, func, select
from sqlalchemy.engine import Engine

from ..counts import RESOURCE_DOWNLOADS
from ..extensions import db
from ..models import Download, Resource, Thanks

REFRESH_SECONDS = 2.0
_UNREAD = object()


class LedgerCounts:
    """One database's counts of one kind, re-read when ``head`` (a cheap query on the
    ledger) answers something new; ``counts`` gives (resource id, count) rows."""

    def __init__(self, head: Select, counts: Select) -> None:
        self._head_query = head
        self._counts_query = counts
        self._counts = np.zeros(0, dtype=np.int64)
        self._ledger_head: object = _UNREAD
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def of(self, resource_ids: np.ndarray) -> np.ndarray:
        """The count for each resource id (0 for ids newer than the last read)."""
        self._refresh_if_due()
        counts = self._counts
        known = resource_ids < len(counts)
        found = np.zeros(len(resource_ids), dtype=np.int64)
        found[known] = counts[resource_ids[known]]
        return found

    def _refresh_if_due(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._ledger_head is not _UNREAD and now - self._checked_at < REFRESH_SECONDS:
                return
            self._checked_at = now
            head = tuple(db.session.execute(self._head_query).one())
            if head != self._ledger_head:
                self._counts = _dense(db.session.execute(self._counts_query).all())
                self._ledger_head = head


def _dense(rows: list) -> np.ndarray:
    if not rows:
        return np.zeros(0, dtype=np.int64)
    ids, counts = (np.asarray(column, dtype=np.int64) for column in zip(*rows, strict=True))
    dense = np.zeros(int(ids.max()) + 1, dtype=np.int64)
    dense[ids] = counts
    return dense


def _downloads() -> LedgerCounts:
    return LedgerCounts(
        select(func.max(Download.id)),
        select(Resource.id, RESOURCE_DOWNLOADS).where(RESOURCE_DOWNLOADS > 0),
    )


def _thanks() -> LedgerCounts:
    # Thanks go when their resource or member does: the count joins the newest id in the head.
    return LedgerCounts(
        select(func.max(Thanks.id), func.count(Thanks.id)),
        select(Thanks.resource_id, func.count(Thanks.id)).group_by(Thanks.resource_id),
    )


_BY_DATABASE: weakref.WeakKeyDictionary[Engine, dict[str, LedgerCounts]] = (
    weakref.WeakKeyDictionary()
)
_BY_DATABASE_LOCK = threading.Lock()
_KINDS: dict[str, Callable[[], LedgerCounts]] = {"downloads": _downloads, "thanks": _thanks}


def _counts(kind: str) -> LedgerCounts:
    engine = db.engine
    with _BY_DATABASE_LOCK:
        kept = _BY_DATABASE.setdefault(engine, {})
        if kind not in kept:
            kept[kind] = _KINDS[kind]()
        return kept[kind]


def download_counts() -> LedgerCounts:
    """The download counts for the current app's database."""
    return _counts("downloads")


def thanks_counts() -> LedgerCounts:
    """The thanks counts for the current app's database."""
    return _counts("thanks")
