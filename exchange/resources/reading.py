"""Reading a resource's files after its share: one job per resource, file by file.

A share (or an edit bringing files) stores the bytes and the rows and returns at once
(:func:`.operations.share_resource`): each new file is ``pending``, and a new resource is
PROCESSING, seen by its giver alone. This job then does what the share used to do in its
request, for each pending file in turn: its text (scans and photos read by Tesseract), its
credited copy, its picture and the privacy scan; then, once every file is read, the
verdict: published (and indexed with its text), or a draft held for the giver's review
when a file looks like it holds a client's personal data.

Why one job per resource and not one per file: the verdict needs every file read, and one
job reading them in order needs no count of finished siblings (nor a race between the
last two). Each file's result is still committed on its own, so the page shows progress
and a run that was cut short (its worker killed) starts again at the first file not read.

Idempotent, so a queue may run it twice: a file is recorded read only if it is still
pending at the version read (``storage_key``); its credited copy and picture are stored
under keys made from that version's, so a second run overwrites, never adds, an object;
a resource or file deleted meanwhile ends the job quietly (with whatever it stored for it
deleted). The verdict is given once, by the run that finds the resource still PROCESSING.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select, update

from .. import jobs, transactions
from ..community import announce_answers
from ..extensions import db
from ..files import PreparedFile, find_personal_data
from ..models import IndexChange, Resource, StoredFile
from ..storage import Storage, get_storage
from . import operations
from .operations import PREVIEW_JOB, READ_JOB, ResourceDetails

log = logging.getLogger(__name__)


def _could_not_read(args: tuple, problem: str) -> None:
    """The job failed every try: keep what went wrong for the giver's page, which names the
    file it stopped on (the first still pending) and offers to try again."""
    resource = db.session.get(Resource, int(args[0]))
    if resource is None:
        return
    resource.processing_note = problem[:500]
    log.warning("resource %s: reading stopped: %s", resource.id, problem)


@jobs.job(READ_JOB, gave_up=_could_not_read)
def read_files(resource_id: int) -> None:
    """Read a resource's pending files, then publish it or hold it for review (a job)."""
    resource = db.session.get(Resource, resource_id)
    if resource is None:
        log.info("resource %s was deleted before its files were read", resource_id)
        return
    if resource.processing_note:  # tried again: the page says "reading" again
        resource.processing_note = ""
        db.session.commit()
    for file_id in _pending_file_ids(resource_id):
        read_file(file_id)
    finish(resource_id)


def _pending_file_ids(resource_id: int) -> list[int]:
    query = select(StoredFile.id).where(StoredFile.resource_id == resource_id)
    query = query.where(StoredFile.pending.is_(True)).order_by(StoredFile.position)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class _Reading:
    """What reading one file needs to know of its resource, read before the work starts
    (no transaction stays open during the seconds a scan takes)."""

    resource_id: int
    details: ResourceDetails
    giver_names: tuple[str, ...]


def read_file(file_id: int) -> None:
    """Read, credit and picture one pending file; record it unless it changed meanwhile."""
    row = db.session.get(StoredFile, file_id)
    if row is None or not row.pending:
        return
    reading, read_of = _reading_for(row.resource), row.storage_key
    with operations._workdir() as workdir:
        item = operations._fetch_original(get_storage(), row, workdir)
        db.session.commit()
        operations.read_and_credit(item, reading.details, reading.giver_names)
        operations.bundle_if_wanted(reading.resource_id, reading.details, item)
        values, keys = _store_results(item, read_of)
    private = bool(item.extraction and find_personal_data(item.extraction.text))
    if not _record(file_id, read_of, values, reading.resource_id, private):
        operations.discard_objects([key for key in keys if not _referenced(key)])


def _reading_for(resource: Resource) -> _Reading:
    return _Reading(
        resource.id, ResourceDetails.of(resource), operations.giver_names(resource.owner)
    )


def _store_results(item: PreparedFile, read_of: str) -> tuple[dict[str, object], list[str]]:
    """Store the credited copy and the picture under keys made from the version's own, so
    a second run writes over them rather than beside them; the row's new values."""
    storage, keys = get_storage(), []
    values = operations.text_columns(item)
    values.update(operations.credited_columns(item), credited_key=None, preview_key=None)
    if item.credited_path:
        kind = operations.credited_type(item)
        values["credited_key"] = _put(storage, item.credited_path, f"{read_of}.credited", kind)
        values["credited_size"] = item.credited_path.stat().st_size
        keys.append(values["credited_key"])
    if item.preview_path:
        picture = "previews/" + read_of.partition("/")[2]
        values["preview_key"] = _put(storage, item.preview_path, picture, "image/png")
        keys.append(picture)
    return values, keys


def _put(storage: Storage, path: Path, key: str, content_type: str) -> str:
    with open(path, "rb") as fh:
        storage.put(key, fh, content_type=content_type)
    return key


def _record(file_id: int, read_of: str, values: dict, resource_id: int, private: bool) -> bool:
    """Write what was read, if the file still waits for it at that version (one transaction
    with the resource's privacy hold and the picture's job); False if it no longer does."""
    recorded = db.session.execute(
        update(StoredFile)
        .where(StoredFile.id == file_id, StoredFile.pending.is_(True))
        .where(StoredFile.storage_key == read_of)
        .values(pending=False, **values)
    ).rowcount
    if recorded and private:
        db.session.execute(
            update(Resource).where(Resource.id == resource_id).values(privacy_hold=True)
        )
    if recorded and values["preview_pending"]:
        jobs.enqueue(PREVIEW_JOB, file_id)
    db.session.commit()
    log.info("file %s of resource %s %s", file_id, resource_id, "read" if recorded else "gone")
    return bool(recorded)


def _referenced(key: str) -> bool:
    """Whether a row holds ``key`` (another run recorded the same object first)."""
    query = select(StoredFile.id).where(
        (StoredFile.credited_key == key) | (StoredFile.preview_key == key)
    )
    return db.session.scalar(query.limit(1)) is not None


def finish(resource_id: int) -> None:
    """All files read: a PROCESSING resource is published and indexed, or becomes a draft
    for its giver's privacy review (a suspended giver's stays out of sight). Run again, or
    while a file still waits, it changes nothing."""
    resource = db.session.get(Resource, resource_id)
    if resource is None or any(f.pending for f in resource.files):
        return
    if not resource.language:  # not chosen by the giver: what the files' text tells
        resource.language = operations.language_of(resource)
    if resource.status == Resource.PROCESSING:
        resource.status = _verdict(resource)
        if resource.status == Resource.PUBLISHED:
            announce_answers(resource)  # a request it answers hears of it now
    resource.privacy_hold = False
    IndexChange.record(resource.id)  # its files' text, and its status
    transactions.commit()
    log.info("resource %s: files read, %s", resource_id, resource.status)


def _verdict(resource: Resource) -> str:
    if resource.privacy_hold:
        return Resource.DRAFT
    if resource.owner.suspended:
        return Resource.SUSPENDED
    return Resource.PUBLISHED


def read_again(resource: Resource) -> bool:
    """The giver's "Try again" after reading stopped on a problem: the job is queued again
    (after the caller's commit); False if nothing was waiting to be tried."""
    if not resource.processing_note:
        return False
    resource.processing_note = ""
    jobs.enqueue(READ_JOB, resource.id)
    db.session.flush()
    return True


@dataclass(frozen=True)
class FileProgress:
    name: str
    state: str  # "read", "reading" (the first waiting) or "waiting"
    reason: str = ""  # why its contents are not searchable (a ``files.reasons`` reason)
    from_scan: bool = False  # its text was read from scanned pages

    @property
    def note(self) -> str:
        """ "contents not searchable: …", "read from a scan", or "", in English (the API's)."""
        if self.reason:
            return f"contents not searchable: {self.reason}"
        return "read from a scan" if self.from_scan else ""


@dataclass(frozen=True)
class Progress:
    """What the giver's page (and its status endpoint) says while files are read."""

    reading: bool  # files still wait to be read (or the resource still to be published)
    # Why reading stopped, after every try ("" while all goes well): the job's own words
    # (an exception's last line, as the log has it), and the file it stopped on (None: it
    # stopped after the files were read). Pages word the sentence around them.
    detail: str
    stuck_on: str | None
    files: list[FileProgress]

    @property
    def done(self) -> int:
        return sum(1 for f in self.files if f.state == "read")

    @property
    def problem(self) -> str:
        """The whole sentence in English (the API's), "" while all goes well."""
        return _opening(self.stuck_on) + self.detail if self.detail else ""


def progress(resource: Resource) -> Progress:
    """Each file's state, in order; the first pending one is the one being read."""
    files = [_file_progress(row) for row in resource.files]
    first = next((n for n, f in enumerate(files) if f.state == "waiting"), None)
    if first is not None:
        files[first] = replace(files[first], state="reading")
    stuck_on = files[first].name if first is not None else None
    waiting = resource.status == Resource.PROCESSING or first is not None
    detail = _detail(resource.processing_note, stuck_on)
    return Progress(waiting, detail, stuck_on, files)


def _file_progress(row: StoredFile) -> FileProgress:
    if row.pending:
        return FileProgress(row.original_name, "waiting")
    reason = "" if row.searchable else row.text_reason
    return FileProgress(row.original_name, "read", reason, row.searchable and row.read_from_scans)


def _detail(note: str, stuck_on: str | None) -> str:
    """What went wrong, alone: notes written before the pages worded the sentence hold it
    whole, in English."""
    return note.removeprefix(_opening(stuck_on))


def _opening(stuck_on: str | None) -> str:
    name = f"“{stuck_on}”" if stuck_on is not None else "your files"
    return f"We could not read {name}: "


def is_reading(resource: Resource) -> bool:
    """Whether its page shows "Reading your files…" (to those who may see it)."""
    return resource.status == Resource.PROCESSING or any(f.pending for f in resource.files)


def held_for_review(resource: Resource) -> bool:
    """A draft its giver must review (files that look like they hold a client's details),
    once every file is read: only then is there a review to give, and a draft to publish."""
    return resource.status == Resource.DRAFT and not is_reading(resource)
