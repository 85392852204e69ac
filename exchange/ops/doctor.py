"""``exchange doctor``: check that the database, the file store and the index agree.

The database is the source of truth. Checked in both directions:

- every object a file row names exists in storage, its earlier versions' included (and,
  with checksums, still has the bytes whose sha256 the row recorded);
- every object in storage is named by some row (others are orphans: bytes stored for a
  share whose transaction then failed, or left by a delete that could not reach the store);
- every resource is in this node's index and the index holds nothing else, at the log head;
- which files still wait for a picture of their first page (a job that was lost with its
  process, e.g. on a restart, leaves its file saying "Preview being made…" for good), and
  which resources still wait for their files to be read (likewise "Reading your files…");
- which resources were shared before languages were kept (their language never detected),
  and which files were read before files' languages were kept.

``--repair`` deletes orphans older than ``EXCHANGE_DOCTOR_ORPHAN_GRACE_S`` (a younger one
may belong to a share that is committing right now), re-queues missing or stray index
entries through the change log, runs the preview and read jobs still waiting (the jobs are
idempotent, so one that is merely slow is not harmed), detects the language of resources
and files that have none yet and re-indexes their resources (so search analyses them by
their language's rules),
and reports what it could not fix (missing or damaged bytes need a person).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from .. import jobs, transactions
from ..extensions import db
from ..models import DataExport, IndexChange, Resource, StoredFile, utcnow
from ..resources.operations import PREVIEW_JOB, READ_JOB, language_of
from ..search import detect_language, get_replica
from ..storage import ObjectNotFound, Storage, get_storage

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024


@dataclass
class Report:
    orphans: list[str] = field(default_factory=list)
    young_orphans: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    not_indexed: list[int] = field(default_factory=list)
    stray_in_index: list[int] = field(default_factory=list)
    index_lag: int = 0
    waiting_previews: list[int] = field(default_factory=list)
    language_unknown: list[int] = field(default_factory=list)
    file_language_unknown: list[int] = field(default_factory=list)
    waiting_reads: list[int] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    unrepaired: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        problems = (self.orphans, self.missing, self.damaged, self.not_indexed, self.stray_in_index)
        return not any(problems) and self.index_lag == 0

    def lines(self) -> list[str]:
        return [
            f"objects in storage nothing refers to: {len(self.orphans)}"
            + (f" (+{len(self.young_orphans)} too recent to judge)" if self.young_orphans else ""),
            f"objects the database refers to that are missing: {len(self.missing)}",
            f"objects whose bytes no longer match their checksum: {len(self.damaged)}",
            f"resources missing from the search index: {len(self.not_indexed)}",
            f"index entries for resources that no longer exist: {len(self.stray_in_index)}",
            f"index behind the change log by: {self.index_lag}",
            f"files waiting for a picture of their first page: {len(self.waiting_previews)}",
            f"resources whose language was never detected: {len(self.language_unknown)}",
            f"files whose language was never detected: {len(self.file_language_unknown)}",
            f"resources whose files wait to be read: {len(self.waiting_reads)}",
            *(f"repaired: {item}" for item in self.repaired),
            *(f"NOT repaired: {item}" for item in self.unrepaired),
        ]


def run(*, repair: bool, checksums: bool) -> Report:
    """Examine; when repairing, fix what is safe and examine again (keeping what was done)."""
    report = examine(checksums)
    if not repair:
        return report
    fix(report)
    again = examine(checksums)
    again.repaired, again.unrepaired = report.repaired, report.unrepaired
    return again


def examine(checksums: bool = True, now: datetime | None = None) -> Report:
    """Compare the three stores; changes nothing."""
    report = Report()
    storage = get_storage()
    referenced = _check_rows(storage, report, checksums)
    _find_orphans(storage, referenced, report, now or datetime.now(UTC))
    _check_index(report)
    waiting = select(StoredFile.id).where(StoredFile.preview_pending.is_(True))
    report.waiting_previews = sorted(db.session.scalars(waiting))
    undetected = select(Resource.id).where(Resource.language.is_(None))
    report.language_unknown = sorted(db.session.scalars(undetected))
    report.file_language_unknown = _files_never_detected()
    report.waiting_reads = _waiting_reads()
    return report


def _files_never_detected() -> list[int]:
    """Files read before files' languages were kept (a pending one is told when read)."""
    query = select(StoredFile.id).where(
        StoredFile.language.is_(None), StoredFile.pending.is_(False)
    )
    return sorted(db.session.scalars(query))


def _waiting_reads() -> list[int]:
    """Resources still processing, or with files not read, whose reading did not stop on a
    problem (those wait for their giver's "Try again"): a lost job leaves them so."""
    pending = select(StoredFile.resource_id).where(StoredFile.pending.is_(True))
    query = select(Resource.id).where(Resource.processing_note == "")
    query = query.where((Resource.status == Resource.PROCESSING) | Resource.id.in_(pending))
    return sorted(db.session.scalars(query))


def _check_rows(storage: Storage, report: Report, checksums: bool) -> set[str]:
    """Every object the files name, their earlier versions' included (those are kept until
    the resource is deleted, so they are never orphans)."""
    referenced: set[str] = set()
    files = select(StoredFile).options(selectinload(StoredFile.versions))
    for row in db.session.scalars(files.execution_options(yield_per=200)):
        referenced.update(row.storage_keys())
        for key in row.storage_keys():
            if not storage.exists(key):
                report.missing.append(key)
        if checksums:
            _check_bytes(storage, [row, *row.versions], report)
    return referenced | _exports_on_offer()


def _check_bytes(storage: Storage, rows: Iterable, report: Report) -> None:
    """Whether each version's original bytes still have the sha256 recorded at upload."""
    for row in rows:
        if (
            row.storage_key not in report.missing
            and _sha256(storage, row.storage_key) != row.sha256
        ):
            report.damaged.append(row.storage_key)


def _exports_on_offer() -> set[str]:
    """Members' data exports still offered for download; expired ones are orphans."""
    query = select(DataExport.storage_key).where(
        DataExport.storage_key.is_not(None), DataExport.expires_at > utcnow()
    )
    return set(db.session.scalars(query))


def _sha256(storage: Storage, key: str) -> str:
    digest = hashlib.sha256()
    with storage.open(key) as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _find_orphans(storage: Storage, referenced: set[str], report: Report, now: datetime) -> None:
    grace = timedelta(seconds=current_app.config["DOCTOR_ORPHAN_GRACE_S"])
    for key in storage.iter_keys():
        if key in referenced:
            continue
        try:
            young = now - storage.stored_at(key) < grace
        except ObjectNotFound:
            continue  # deleted while we looked
        (report.young_orphans if young else report.orphans).append(key)


def _check_index(report: Report) -> None:
    replica = get_replica()
    replica.catch_up(wait=30)
    position, head = replica.lag()
    report.index_lag = head - position
    indexed = replica.indexed_resource_ids()
    in_database = set(db.session.scalars(select(Resource.id)))
    report.not_indexed = sorted(in_database - indexed)
    report.stray_in_index = sorted(indexed - in_database)


def fix(report: Report) -> Report:
    """Fix what can be fixed safely; list the rest in ``report.unrepaired``."""
    _delete_orphans(get_storage(), report)
    _requeue(report.not_indexed + report.stray_in_index, report)
    _draw_waiting_previews(report)
    _detect_languages(report)
    _detect_file_languages(report)
    _read_waiting_files(report)
    report.unrepaired += [f"missing object {key}" for key in report.missing]
    report.unrepaired += [f"damaged object {key}" for key in report.damaged]
    return report


def _delete_orphans(storage: Storage, report: Report) -> None:
    for key in report.orphans:
        try:
            storage.delete(key)
            report.repaired.append(f"deleted orphaned object {key}")
            log.info("doctor deleted orphaned object %s", key)
        except Exception as exc:  # noqa: BLE001 - reported, and the next run tries again
            report.unrepaired.append(f"could not delete {key}: {exc}")


def _requeue(resource_ids: Iterable[int], report: Report) -> None:
    ids = sorted(set(resource_ids))
    if not ids:
        return
    for resource_id in ids:
        IndexChange.record(resource_id)
    transactions.commit()
    get_replica().catch_up(wait=30)  # longer than a request waits: an operator is watching
    report.repaired += [f"re-indexed resource {resource_id}" for resource_id in ids]
    log.info("doctor re-queued %d resources for the search index", len(ids))


def _read_waiting_files(report: Report) -> None:
    """Run the read job of every resource still waiting for it, and wait for them."""
    for resource_id in report.waiting_reads:
        jobs.enqueue(READ_JOB, resource_id)
    transactions.commit()
    if report.waiting_reads and not jobs.wait():
        report.unrepaired.append("files still being read when the wait ended")
        return
    report.repaired += [f"read the files of resource {n}" for n in report.waiting_reads]


def _draw_waiting_previews(report: Report) -> None:
    """Run the preview job of every file still waiting, and wait for them: an operator runs
    this after a restart that may have lost queued jobs."""
    for file_id in report.waiting_previews:
        jobs.enqueue(PREVIEW_JOB, file_id)
    transactions.commit()  # queued jobs start when the transaction they were asked in ends
    if report.waiting_previews and not jobs.wait():
        report.unrepaired.append("previews still being drawn when the wait ended")
        return
    report.repaired += [f"drew the preview of file {n}" for n in report.waiting_previews]


LANGUAGE_BATCH = 200


def _detect_languages(report: Report) -> None:
    """Detect the language of each resource shared before languages were kept, and
    re-index it, a batch per transaction (each loads its files' text)."""
    ids = report.language_unknown
    for start in range(0, len(ids), LANGUAGE_BATCH):
        batch = ids[start : start + LANGUAGE_BATCH]
        query = select(Resource).where(Resource.id.in_(batch))
        with_text = selectinload(Resource.files).undefer(StoredFile.text)
        for resource in db.session.scalars(query.options(with_text)):
            resource.language = language_of(resource)
            IndexChange.record(resource.id)
        transactions.commit()
        db.session.expunge_all()
    if ids:
        get_replica().catch_up(wait=30)
        report.repaired.append(f"detected the language of {len(ids)} resources")
        log.info("doctor detected the language of %d resources", len(ids))


def _detect_file_languages(report: Report) -> None:
    """Detect the language of each file read before files' languages were kept, from its
    own text, and re-index its resource, a batch per transaction (each loads the text)."""
    ids = report.file_language_unknown
    for start in range(0, len(ids), LANGUAGE_BATCH):
        _detect_file_batch(ids[start : start + LANGUAGE_BATCH])
    if ids:
        get_replica().catch_up(wait=30)
        report.repaired.append(f"detected the language of {len(ids)} files")
        log.info("doctor detected the language of %d files", len(ids))


def _detect_file_batch(ids: list[int]) -> None:
    query = select(StoredFile).where(StoredFile.id.in_(ids)).options(undefer(StoredFile.text))
    resources = set()
    for row in db.session.scalars(query):
        row.language = detect_language(row.text)
        resources.add(row.resource_id)
    for resource_id in sorted(resources):  # once each, however many of its files changed
        IndexChange.record(resource_id)
    transactions.commit()
    db.session.expunge_all()
