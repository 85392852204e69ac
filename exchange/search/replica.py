"""The Whoosh index as a replica of the database.

Every change to a resource writes an :class:`~exchange.models.IndexChange` row in the
same transaction. A replica applies that log in order, re-reading each changed resource
from the database, and records the position it reached *inside the same Whoosh commit*
(a reserved document), so a crash anywhere leaves the index at a consistent old position
and the next run simply applies the rest again.

One writer per index folder: writers take an exclusive ``flock`` on a lock file beside
the folder (released by the kernel if the process dies), so gunicorn workers queue for
it instead of meeting Whoosh's ``LockError``. A missing or unreadable folder is rebuilt
from the database into a fresh folder and swapped in.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pickle  # nosec B403: only to recognise a damaged index file; nothing is unpickled
import shutil
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from whoosh import index as whoosh_index
from whoosh.index import FileIndex
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter

from ..extensions import db
from ..models import IndexChange, Resource, StoredFile
from .schema import (
    POSITION_DOC_ID,
    SCHEMA,
    document_for,
    is_resource_document,
    vocabulary_document,
)

log = logging.getLogger(__name__)

BATCH = 500
# Documents one process sorts in memory before writing them out as a segment (Whoosh
# needs ~50 KB a resource for it). Fewer, larger segments make searches faster, so
# `exchange reindex`, run by an operator, uses ~1.3 GB per process; a rebuild inside a
# web worker (the index folder went missing) keeps to ~300 MB.
SEGMENT_DOCS = 5000
COMMAND_SEGMENT_DOCS = 25000
# Segments as separate files, not one compound file: Whoosh opens a compound segment by
# copying each of its parts into memory (BytesIO over the mmap), which at 100,000
# documents costs ~0.2 s per segment on every new searcher and hundreds of MB per process.
WRITER_OPTIONS = {"compound": False}
# Live commits merge only segments smaller than this, once there are enough of them.
LIVE_MERGE_DOCS = 100
LIVE_MERGE_COUNT = 8
# Errors that mean "this folder is not a usable index": rebuild it.
BROKEN_INDEX_ERRORS = (
    whoosh_index.EmptyIndexError,
    whoosh_index.IndexError,  # not the builtin: raised for a garbled table of contents
    OSError,
    EOFError,
    ValueError,
    KeyError,
    struct.error,
    pickle.UnpicklingError,
    zlib.error,
)


class IndexBusy(RuntimeError):
    """Another process holds the writer lock longer than we were prepared to wait."""


class Replica:
    """One index folder on this node, kept up to date from the change log."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._local = threading.local()

    # -- reading -----------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """This thread's searcher: kept open while the index is unchanged, reopened after.

        Whoosh's own ``Searcher.refresh()`` reuses segment readers without noticing
        deletions made since (an updated document would then appear twice), so a changed
        index gets a fresh searcher instead.
        """
        state = getattr(self._local, "state", None)
        identity = self._identity()
        if state is not None and state[:2] == (os.getpid(), identity) and state[2].up_to_date():
            return state[2]
        self.forget_searchers()
        searcher = self._open_index().searcher()
        self._local.state = (os.getpid(), self._identity(), searcher)
        return searcher

    def position(self) -> int:
        """The change-log position this index has applied."""
        return self.position_of(self.searcher())

    def position_of(self, searcher: Searcher) -> int:
        """The position ``searcher`` sees: fixed for an open searcher, so looked up (a Whoosh
        document read, the dearest part of a search that finds nothing to apply) once."""
        known = getattr(self._local, "position", None)
        if known is not None and known[0] is searcher:
            return known[1]
        fields = searcher.document(id=POSITION_DOC_ID)
        position = int(fields["position"]) if fields else 0
        self._local.position = (searcher, position)
        return position

    def is_current(self, searcher: Searcher, session: Session) -> bool:
        """Whether ``searcher`` has every change logged so far.

        Asked before every search, on the caller's own session: one small indexed query, no
        second connection (and its ping and rollback) as :meth:`catch_up` needs.
        """
        return self.position_of(searcher) >= _log_head(session)

    def _identity(self) -> tuple[int, int] | None:
        """Which folder is at ``path`` now (a rebuild swaps in a new one)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_dev, stat.st_ino)

    def _open_index(self) -> FileIndex:
        try:
            return whoosh_index.open_dir(str(self.path), schema=SCHEMA)
        except BROKEN_INDEX_ERRORS as exc:
            level = logging.WARNING if self.path.exists() else logging.INFO
            log.log(
                level,
                "search index at %s is missing or unreadable (%s); rebuilding",
                self.path,
                exc,
            )
            self.rebuild()
            return whoosh_index.open_dir(str(self.path), schema=SCHEMA)

    def forget_searchers(self) -> None:
        """Drop this thread's searcher (after a rebuild, or when an index read failed)."""
        state = getattr(self._local, "state", None)
        if state is not None:
            with suppress(Exception):  # closing a broken searcher may fail too
                state[2].close()
        self._local.state = None
        self._local.position = None

    # -- applying the log --------------------------------------------------------------

    def catch_up(self, wait: float = 10.0) -> int:
        """Apply every change logged so far; returns the position reached.

        ``wait`` is how long to queue for the writer lock when another process is writing;
        with ``wait=0`` a busy index is left to that other process.
        """
        with Session(db.engine) as session:
            head = _log_head(session)
            if self.position() >= head:
                return head
            try:
                with self._writer_lock(wait):
                    return self._apply_until(session, head)
            except IndexBusy:
                log.info("search index busy; another process is applying changes")
                return self.position()

    def lag(self) -> tuple[int, int]:
        """(applied position, log head): how far this node's index is behind the database."""
        with Session(db.engine) as session:
            return self.position(), _log_head(session)

    def indexed_resource_ids(self) -> set[int]:
        """The resources this node's index holds, for ``exchange doctor`` to compare with the
        database (the index's own bookkeeping documents left out)."""
        return {
            int(fields["id"])
            for fields in self.searcher().all_stored_fields()
            if is_resource_document(fields.get("id", ""))
        }

    def _apply_until(self, session: Session, head: int) -> int:
        index = self._open_index()
        position = _read_position(index)
        while position < head:
            changes = _changes_after(session, position, BATCH)
            if not changes:
                break
            position = self._apply(session, index, changes)
        return position

    def _apply(self, session: Session, index: FileIndex, changes: Sequence[IndexChange]) -> int:
        ids = sorted({c.resource_id for c in changes})
        resources = {r.id: r for r in _load_resources(session, ids)}
        writer = index.writer(**WRITER_OPTIONS)
        try:
            for resource_id in ids:
                _write_resource(writer, resource_id, resources.get(resource_id))
            position = changes[-1].id
            writer.update_document(id=POSITION_DOC_ID, position=position)
            writer.commit(mergetype=merge_small_segments)
        except BaseException:
            writer.cancel()
            raise
        log.debug("search index applied %d changes up to position %d", len(changes), position)
        session.expunge_all()
        return position

    @contextmanager
    def _writer_lock(self, wait: float) -> Iterator[None]:
        """The single-writer lock for this folder, shared by every process on the node."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+b") as handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError as exc:
                    if time.monotonic() >= deadline:
                        raise IndexBusy(str(self.path)) from exc
                    time.sleep(0.02)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- rebuilding --------------------------------------------------------------------

    def rebuild(self, progress: Callable[[int, int], None] | None = None, wait: float = 600) -> int:
        """Build a complete new index from the database and swap it in; returns its position."""
        with self._writer_lock(wait):
            if self._usable():
                return self.position()  # another process rebuilt it while we queued
            return self._rebuild_locked(progress, 1, SEGMENT_DOCS)

    def force_rebuild(
        self, progress: Callable[[int, int], None] | None = None, procs: int = 1
    ) -> int:
        """Rebuild even if the current index is fine (``exchange reindex``).

        ``procs`` > 1 analyses documents in that many child processes, each writing a
        segment of its own; only for a command-line process, never a web worker.
        """
        with self._writer_lock(600):
            return self._rebuild_locked(progress, procs, COMMAND_SEGMENT_DOCS)

    def _usable(self) -> bool:
        try:
            whoosh_index.open_dir(str(self.path), schema=SCHEMA).searcher().close()
            return True
        except BROKEN_INDEX_ERRORS:
            return False

    def _rebuild_locked(
        self, progress: Callable[[int, int], None] | None, procs: int, segment_docs: int
    ) -> int:
        fresh = self.path.with_name(f"{self.path.name}.new-{os.getpid()}")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        index = whoosh_index.create_in(str(fresh), SCHEMA)
        with Session(db.engine) as session:
            head = _log_head(session)  # read first: all changes up to it are in what follows
            count = _write_all(session, index, head, progress, procs, segment_docs)
        self._swap_in(fresh)
        self.forget_searchers()
        log.info("search index rebuilt with %d resources at position %d", count, head)
        return head

    def _swap_in(self, fresh: Path) -> None:
        old = self.path.with_name(f"{self.path.name}.old-{os.getpid()}")
        if self.path.exists():
            os.replace(self.path, old)
        os.replace(fresh, self.path)
        shutil.rmtree(old, ignore_errors=True)


def merge_small_segments(writer: SegmentWriter, segments: list) -> list:
    """The merge policy of live commits: fold the small segments they leave behind into
    one, never touching the large ones a rebuild wrote. Whoosh's own policy may decide to
    merge everything, which at 100,000 resources keeps one commit busy for minutes while
    every share waits to become searchable; ``exchange reindex`` compacts instead."""
    small = [s for s in segments if s.doc_count_all() < LIVE_MERGE_DOCS]
    if len(small) < LIVE_MERGE_COUNT:
        return segments
    for segment in small:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [s for s in segments if s.doc_count_all() >= LIVE_MERGE_DOCS]


def _check_complete(index: FileIndex, written: BulkCount) -> None:
    """Refuse a rebuilt index that lost documents (a writer process died): keep the old one."""
    found = index.doc_count() - 1 - written.vocabularies  # less the reserved documents
    if found != written.resources:
        raise RuntimeError(f"rebuilt search index holds {found} of {written.resources} resources")


def _read_position(index: FileIndex) -> int:
    with index.searcher() as searcher:
        fields = searcher.document(id=POSITION_DOC_ID)
    return int(fields["position"]) if fields else 0


_LOG_HEAD = select(func.coalesce(func.max(IndexChange.__table__.c.id), 0))


def _log_head(session: Session) -> int:
    return session.connection().scalar(_LOG_HEAD) or 0


def _changes_after(session: Session, position: int, limit: int) -> list[IndexChange]:
    query = (
        select(IndexChange).where(IndexChange.id > position).order_by(IndexChange.id).limit(limit)
    )
    return list(session.scalars(query))


# File text is deferred on the model; the index needs it, so load it with the files
# (otherwise every file costs a query of its own).
_WITH_FILES_AND_TAGS = (
    selectinload(Resource.files).undefer(StoredFile.text),
    selectinload(Resource.tags),
)


def _load_resources(session: Session, ids: Sequence[int]) -> list[Resource]:
    query = select(Resource).where(Resource.id.in_(ids)).options(*_WITH_FILES_AND_TAGS)
    return list(session.scalars(query))


def _write_resource(writer: SegmentWriter, resource_id: int, resource: Resource | None) -> None:
    if resource is None:
        writer.delete_by_term("id", str(resource_id))
    else:
        writer.update_document(**document_for(resource))


def _write_all(
    session: Session,
    index: FileIndex,
    head: int,
    progress: Callable[[int, int], None] | None,
    procs: int,
    segment_docs: int,
) -> int:
    """Write every resource into ``index`` in segments; returns how many resources.

    Each process writes at most ``segment_docs`` documents into a segment before it is
    committed: Whoosh sorts a segment's postings in memory up to ``limitmb`` and beyond it
    spills them to disk and merges them back one by one in Python, which halves the speed.
    """
    total = session.scalar(select(func.count(Resource.id))) or 0
    batches = _resource_batches(session)
    written = BulkCount()
    while not written.finished:
        writer = _bulk_writer(index, procs, segment_docs)
        try:
            for batch in batches:
                _add_batch(writer, batch, written)
                if progress:
                    progress(written.resources, total)
                if written.in_segment >= segment_docs * procs:
                    break
            else:
                writer.add_document(id=POSITION_DOC_ID, position=head)
                written.finished = True
        except BaseException:
            writer.cancel()
            raise
        writer.commit(merge=False)
        written.in_segment = 0
    _check_complete(index, written)
    return written.resources


@dataclass
class BulkCount:
    """What a bulk rebuild has written so far."""

    resources: int = 0
    vocabularies: int = 0
    in_segment: int = 0
    finished: bool = False


def _bulk_writer(index: FileIndex, procs: int, segment_docs: int) -> SegmentWriter:
    """A writer whose memory limit holds ``segment_docs`` resources' postings with room to
    spare (about 40 KB each by Whoosh's own estimate)."""
    options = {"limitmb": max(64, segment_docs // 16), **WRITER_OPTIONS}
    if procs > 1:
        return index.writer(procs=procs, multisegment=True, **options)
    return index.writer(**options)


def _resource_batches(session: Session) -> Iterator[list[Resource]]:
    """Every resource in id order, ``BATCH`` at a time, each batch forgotten after use."""
    last_id = 0
    while batch := list(
        session.scalars(
            select(Resource)
            .where(Resource.id > last_id)
            .order_by(Resource.id)
            .limit(BATCH)
            .options(*_WITH_FILES_AND_TAGS)
        )
    ):
        yield batch
        last_id = batch[-1].id
        session.expunge_all()


def _add_batch(writer: SegmentWriter, batch: list[Resource], written: BulkCount) -> None:
    """The batch's documents, their spelling words gathered into one vocabulary document."""
    vocabulary: Counter[str] = Counter()
    for resource in batch:
        document = document_for(resource)
        for word, count in document.pop("spelling"):
            vocabulary[word] += count
        writer.add_document(**document)
    written.vocabularies += 1
    writer.add_document(**vocabulary_document(written.vocabularies, vocabulary))
    written.resources += len(batch)
    written.in_segment += len(batch)
