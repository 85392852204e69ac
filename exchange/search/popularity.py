"""Download counts for "most downloaded", read from the database rather than the index.

A count changes on every member's first download of a resource. Keeping it in the index
would rewrite that resource's document and make every process reopen its searcher, many
times a minute on a busy site. Instead each process keeps one array of counts per database,
indexed by resource id, and re-reads it when the download ledger has grown — checked at
most every ``REFRESH_SECONDS``, so a new download moves a resource up within seconds.
"""

from __future__ import annotations

import threading
import time
import weakref

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ..counts import RESOURCE_DOWNLOADS
from ..extensions import db
from ..models import Download, Resource

REFRESH_SECONDS = 2.0
_UNREAD = object()


class DownloadCounts:
    """One database's download counts, refreshed when new downloads have been recorded."""

    def __init__(self) -> None:
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
            head = db.session.scalar(select(func.max(Download.id)))
            if head != self._ledger_head:
                self._counts = _read_counts()
                self._ledger_head = head


def _read_counts() -> np.ndarray:
    rows = db.session.execute(
        select(Resource.id, RESOURCE_DOWNLOADS).where(RESOURCE_DOWNLOADS > 0)
    ).all()
    if not rows:
        return np.zeros(0, dtype=np.int64)
    ids, counts = (np.asarray(column, dtype=np.int64) for column in zip(*rows, strict=True))
    dense = np.zeros(int(ids.max()) + 1, dtype=np.int64)
    dense[ids] = counts
    return dense


_BY_DATABASE: weakref.WeakKeyDictionary[Engine, DownloadCounts] = weakref.WeakKeyDictionary()
_BY_DATABASE_LOCK = threading.Lock()


def download_counts() -> DownloadCounts:
    """The counts for the current app's database."""
    engine = db.engine
    with _BY_DATABASE_LOCK:
        if engine not in _BY_DATABASE:
            _BY_DATABASE[engine] = DownloadCounts()
        return _BY_DATABASE[engine]
