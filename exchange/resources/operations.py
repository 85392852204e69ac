"""The verbs of the exchange: share, edit, delete, download.

This is the only module that touches the database, the file store and the search index
together, and it always does so in the same order: bytes to storage, then one database
transaction (rows plus a change-log entry), then the index catches up. A failure at any
step leaves no half-shared resource; an object stored for a transaction that then failed
is deleted at once, or found later by ``exchange doctor``.

So share, edit and delete end their own transaction (:func:`exchange.transactions.commit`):
the objects they stored are deleted if it fails, and those they replaced only once it
succeeded. A share's caller adds its own writes to that one transaction through
``before_commit``. The other verbs here (publishing a draft, recording a download) write
in the caller's transaction, as the domains' verbs do, and the caller commits.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from .. import jobs, transactions
from ..community import (
    Refused,
    announce_answers,
    answer_request,
    forget_resource_in_collections,
    may_answer_problem,
)
from ..extensions import db
from ..files import (
    ALLOWED,
    BUNDLE_CONTENT_TYPE,
    Credit,
    Finding,
    PreparedFile,
    QuotaExceeded,
    UploadRefused,
    bundle_with_credit_txt,
    credit_line,
    draw_office_preview,
    find_personal_data,
    make_credited_copy,
    make_thumbnail,
    read_text,
    stage,
)
from ..models import (
    Download,
    FileVersion,
    IndexChange,
    Member,
    Resource,
    ShareRequest,
    StoredFile,
    Tag,
    Taker,
    insert_if_absent,
    note_core_write,
    utcnow,
)
from ..notify import site_url
from ..search import detect_language
from ..storage import Storage, get_storage, new_key
from ..vocab import CREDIT_ON_PAGE, LICENCE_URLS, LICENCES, TESSERACT_CODES

log = logging.getLogger(__name__)


@dataclass
class Upload:
    stream: BinaryIO
    filename: str


@dataclass
class ResourceDetails:
    title: str
    synopsis: str
    how_used: str
    tags: list[str]
    kind: str
    audience: str
    licence: str
    access: str
    credit_name: str
    visibility: str = Resource.PUBLIC
    credit_placement: str = CREDIT_ON_PAGE
    credit_txt: bool = False
    text_layer: bool = True
    language: str = ""  # "": detect it from the text

    def apply_to(self, resource: Resource) -> None:
        fields = ("title", "synopsis", "how_used", "kind", "audience", "licence", "access")
        for name in (*fields, "visibility"):
            setattr(resource, name, getattr(self, name).strip())
        resource.credit_name = self.credit_name.strip()
        resource.credit_placement = self.credit_placement
        resource.credit_txt = bool(self.credit_txt)
        resource.text_layer = bool(self.text_layer)
        resource.tags = tags_named(self.tags)

    @property
    def credit_on_page_wanted(self) -> bool:
        return self.credit_placement == CREDIT_ON_PAGE and bool(self.credit_name.strip())

    @classmethod
    def of(cls, resource: Resource) -> ResourceDetails:
        """A resource's details as they are now (a job reads them, then works without
        holding a transaction open)."""
        return cls(
            title=resource.title, synopsis=resource.synopsis, how_used=resource.how_used,
            tags=resource.tag_names, kind=resource.kind, audience=resource.audience,
            licence=resource.licence, access=resource.access, credit_name=resource.credit_name,
            visibility=resource.visibility, credit_placement=resource.credit_placement,
            credit_txt=resource.credit_txt, text_layer=resource.text_layer,
            language=resource.language or "",
        )  # fmt: skip


def language_of(resource: Resource) -> str:
    """The language a resource's description and files are written in, as far as its text
    tells ("" when it cannot): what search analyses it by unless the giver chose one."""
    texts = (f.text for f in resource.files if f.text)
    return detect_language(resource.title, resource.synopsis, resource.how_used, *texts)


def credit_for(resource: Resource | ResourceDetails) -> Credit:
    """What the files and their names carry: the title, the giver (unless anonymous), licence."""
    return Credit(
        title=resource.title.strip(),
        author=resource.credit_name.strip(),
        licence_label=LICENCES.get(resource.licence, resource.licence),
        licence_url=LICENCE_URLS.get(resource.licence, ""),
        source_url=current_app.config.get("SITE_URL", ""),
    )


def credit_line_for(resource: Resource) -> str:
    """The line to copy, as a page shows it: "adapted from" when the files name one
    original author, and the title in curly quotes as the site writes quotations everywhere
    else (inside files it keeps the plain quotes every program reads alike)."""
    originals = {f.original_author for f in resource.files if f.original_author}
    adapted = originals.pop() if len(originals) == 1 else ""
    line = credit_line(replace(credit_for(resource), adapted_from=adapted))
    quoted = '"' + " ".join(resource.title.split()) + '"'
    if not line.startswith(quoted):
        return line
    return f"“{quoted[1:-1]}”{line[len(quoted) :]}"


def giver_names(owner: Member) -> tuple[str, ...]:
    """Every name the giver is known by here: a file's author that matches one of them is
    the giver's own (their email's user name is often their computer's account name)."""
    return (owner.name, owner.credit_name, owner.email.partition("@")[0])


# -- share -------------------------------------------------------------------------------


def share_resource(
    owner: Member,
    details: ResourceDetails,
    uploads: Sequence[Upload],
    answers: ShareRequest | None = None,
    before_commit: Callable[[Resource], None] | None = None,
    read_now: bool = False,
) -> Resource:
    """Store a new resource with its files, or raise :class:`UploadRefused` storing nothing.

    The share returns once the files' bytes are stored (each identified by its content and
    within the limits) and the rows committed: the resource is then PROCESSING, seen by its
    giver alone, and the read job (:mod:`.reading`) reads, credits and pictures its files,
    then publishes it, or keeps it as a draft until the sharer has reviewed a warning that
    its files look like they hold a client's personal data. ``read_now`` does that reading
    here, before the commit (imports: a command, with nobody waiting for a page).

    A share that ``answers`` a request is stored with its answer in one transaction: if the
    answer is refused (:class:`Refused`, checked before anything is stored and again as it
    is written) nothing of the share remains. ``before_commit`` is given the new resource,
    its rows written, before that transaction commits: what it writes is kept with the
    share, and if it fails nothing of the share is.
    """
    if not uploads:
        raise UploadRefused(_("Please choose at least one file to share."))
    problem = answers and may_answer_problem(answers, owner)
    if problem:
        raise Refused(problem)
    with _workdir() as workdir, _all_or_nothing() as stored:
        budget = _upload_budget()
        if read_now:
            prepared = prepare_files(uploads, details, workdir, budget, owner.id)
        else:
            prepared = stage_files(uploads, workdir, budget, owner.id)
        status = _initial_status(prepared) if read_now else Resource.PROCESSING
        resource = Resource(owner_id=owner.id, status=status)
        details.apply_to(resource)
        _store(resource, prepared, stored, pending=not read_now)
        # The giver's choice, else what the text tells: read here for an import, by the
        # read job (which detects an unset language once every file is read) otherwise.
        resource.language = details.language or (language_of(resource) if read_now else "")
        IndexChange.record(resource.id)  # its giver finds it at once; its text once read
        if not read_now:
            jobs.enqueue(READ_JOB, resource.id)  # runs once the commit below succeeds
        if answers is not None:
            answer_request(answers, owner, resource)
        if before_commit is not None:
            before_commit(resource)
        transactions.commit()
    log.info("member %s shared resource %s (%d files)", owner.id, resource.id, len(prepared))
    return resource


def prepare_files(
    uploads: Sequence[Upload],
    details: Resource | ResourceDetails,
    workdir: Path,
    budget: int,
    owner_id: int,
    kept_names: Sequence[str] = (),
    new_files: int | None = None,
) -> list[PreparedFile]:
    """Stage, identify, read, credit and preview every upload; refuse the lot on any problem
    (see :func:`stage_files` for ``kept_names`` and ``new_files``)."""
    prepared = stage_files(uploads, workdir, budget, owner_id, kept_names, new_files)
    names = giver_names(db.session.get(Member, owner_id))
    for item in prepared:
        read_and_credit(item, details, names)
    return prepared


def stage_files(
    uploads: Sequence[Upload],
    workdir: Path,
    budget: int,
    owner_id: int,
    kept_names: Sequence[str] = (),
    new_files: int | None = None,
) -> list[PreparedFile]:
    """Copy, hash and identify every upload, named apart and within the owner's quota;
    refuse the lot on any problem. What a share checks before it answers; the reading
    comes after (:func:`read_and_credit`, in the read job).

    ``kept_names`` are the names of the resource's files already stored. The last
    ``new_files`` uploads (all, unless told) are new files; those before them are new
    versions of files already there, which take space but no place among the files.
    """
    prepared = []
    for upload in uploads:
        staged = stage(upload.stream, upload.filename, workdir, budget)
        budget -= staged.size
        prepared.append(staged)
    name_apart(prepared, kept_names)
    check_quota(owner_id, prepared, len(prepared) if new_files is None else new_files)
    return prepared


def read_and_credit(
    item: PreparedFile, details: Resource | ResourceDetails, names: Sequence[str]
) -> None:
    """Read one file's text (scans by Tesseract), make its credited copy and its picture."""
    read_text(item, text_layer=bool(details.text_layer), languages=scan_languages(details))
    make_credited_copy(item, credit_for(details), details.credit_on_page_wanted, names)
    make_thumbnail(item)


def scan_languages(details: Resource | ResourceDetails) -> str:
    """The language a resource's scans are read in: its own, when it names one whose
    Tesseract data the site reads in (EXCHANGE_OCR_LANGUAGES), as "fra" for French; else
    "" for the site's own list. One language is faster, and misreads fewer words, than
    trying three at once."""
    code = TESSERACT_CODES.get(details.language or "", "")
    return code if code in current_app.config["OCR_LANGUAGES"].split("+") else ""


def name_apart(prepared: Sequence[PreparedFile], kept_names: Sequence[str] = ()) -> None:
    """Give each file of a resource a name of its own ("sheet (2).docx" after "sheet.docx"):
    pages list files by name, and a download is saved under it."""
    taken = {name.casefold() for name in kept_names}
    for item in prepared:
        stem, dot, ext = item.name.rpartition(".")
        if not stem:  # no extension (or a name like ".profile")
            stem, dot, ext = item.name, "", ""
        number = 1
        while item.name.casefold() in taken:
            number += 1
            item.name = f"{stem} ({number}){dot}{ext}"
        taken.add(item.name.casefold())


def check_quota(owner_id: int, adding: Sequence[PreparedFile], new_files: int) -> None:
    """Refuse uploads that would take a member past their file or space allowance.

    Earlier versions of files count in the space a member uses (their bytes are kept), not
    in the number of files.
    """
    if not adding:
        return
    config = current_app.config
    files, size = db.session.execute(
        select(func.count(StoredFile.id), func.coalesce(func.sum(StoredFile.size), 0))
        .join(Resource)
        .where(Resource.owner_id == owner_id)
    ).one()
    size += _earlier_versions_size(owner_id)
    if files + new_files > config["QUOTA_FILES"]:
        raise QuotaExceeded(
            _(
                "Your account can hold %(count)s files and this share would go over. Please "
                "remove files you no longer need, or contact us for more room.",
                count=config["QUOTA_FILES"],
            )
        )
    if size + sum(p.size for p in adding) > config["QUOTA_MB"] * 1024 * 1024:
        raise QuotaExceeded(
            _(
                "Your account can hold %(size)s MB and this share would go over. Please "
                "remove files you no longer need, or contact us for more room.",
                size=config["QUOTA_MB"],
            )
        )


def _earlier_versions_size(owner_id: int) -> int:
    query = (
        select(func.coalesce(func.sum(FileVersion.size), 0))
        .join(StoredFile, StoredFile.id == FileVersion.file_id)
        .join(Resource, Resource.id == StoredFile.resource_id)
        .where(Resource.owner_id == owner_id)
    )
    return db.session.scalar(query) or 0


def _initial_status(prepared: Sequence[PreparedFile]) -> str:
    if any(find_personal_data(p.extraction.text) for p in prepared if p.extraction):
        return Resource.DRAFT
    return Resource.PUBLISHED


def _upload_budget() -> int:
    return current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="exchange-upload-") as path:
        yield Path(path)


@contextmanager
def _all_or_nothing() -> Iterator[list[str]]:
    """Collect the keys stored on the way; if anything fails, roll back and delete them."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        db.session.rollback()
        discard_objects(stored)
        raise


def _store(
    resource: Resource, prepared: Sequence[PreparedFile], stored: list[str], pending: bool
) -> None:
    """Store the bytes, then write the rows; the caller logs the change and commits.

    ``pending`` files are stored as uploaded, for the read job to read once the caller's
    commit succeeds; the others were read already (:func:`prepare_files`).
    """
    storage = get_storage()
    db.session.add(resource)
    db.session.flush()  # its id: a credit.txt gives the resource's address
    first = len(resource.files)
    for position, item in enumerate(prepared, start=first):
        if not pending:
            bundle_if_wanted(resource.id, resource, item)
        resource.files.append(_store_file(storage, item, position, stored, pending))
    db.session.flush()
    for row in resource.files[first:]:
        if row.preview_pending:
            jobs.enqueue(PREVIEW_JOB, row.id)  # runs once the caller's commit succeeds


def bundle_if_wanted(
    resource_id: int, details: Resource | ResourceDetails, item: PreparedFile
) -> None:
    """The zip with a credit.txt, for files that can't carry the credit, if the giver asked."""
    if details.credit_txt:
        address = site_url("resources.show", resource_id=resource_id)
        bundle_with_credit_txt(item, replace(credit_for(details), source_url=address))


def _store_file(
    storage: Storage, item: PreparedFile, position: int, stored: list[str], pending: bool
) -> StoredFile:
    row = StoredFile(position=position)
    _fill_row(row, storage, item, stored, pending)
    return row


def _fill_row(
    row: StoredFile, storage: Storage, item: PreparedFile, stored: list[str], pending: bool
) -> None:
    """Store a prepared file's objects and describe them on ``row``: a new file, or a file
    taking its new version (nothing of the version it replaces is left on the row). A
    ``pending`` file is stored as uploaded: the read job describes the rest."""
    row.original_name, row.size, row.sha256 = item.name, item.size, item.sha256
    row.content_type, row.format = item.type.content_type, item.type.format
    row.storage_key = _put(storage, item.path, item.type.content_type, stored)
    row.pending = pending
    if pending:
        row.credited_key = row.credited_size = row.preview_key = None
        row.text, row.text_status, row.text_reason, row.text_source = "", "", "", ""
        row.language = ""
        row.preview_pending, row.preview_note, row.text_layer = False, "", False
        row.credit_on_page, row.page_credit_note = False, ""
        row.original_author, row.zipped_with_credit = "", False
        return
    _store_credited(row, storage, item, stored)
    picture = item.preview_path
    row.preview_key = picture and _put(storage, picture, "image/png", stored, prefix="previews")
    for name, value in text_columns(item).items():
        setattr(row, name, value)


def text_columns(item: PreparedFile) -> dict[str, object]:
    """What a read file's row says of its text and picture (the columns, by name). Its
    language is told here, once, from its own text: the index reads it, never detects."""
    extraction = item.extraction
    searchable = extraction is not None and extraction.searchable
    text = extraction.text if extraction else ""
    return {
        "preview_pending": item.preview_pending,
        "preview_note": item.preview_note,
        "text": text,
        "language": detect_language(text),
        "text_status": StoredFile.SEARCHABLE if searchable else StoredFile.UNSEARCHABLE,
        "text_reason": extraction.reason if extraction else "",
        "text_source": extraction.source if extraction else "",
    }


def _store_credited(
    row: StoredFile | FileVersion, storage: Storage, item: PreparedFile, stored: list[str]
) -> None:
    """Store the credited copy made for ``item`` and record what it carries on ``row``."""
    row.credited_key = row.credited_size = None
    for name, value in credited_columns(item).items():
        if name != "text_layer" or isinstance(row, StoredFile):  # earlier versions: no text
            setattr(row, name, value)
    if item.credited_path:
        row.credited_key = _put(storage, item.credited_path, credited_type(item), stored)
        row.credited_size = item.credited_path.stat().st_size


def credited_columns(item: PreparedFile) -> dict[str, object]:
    """What a row says of the credited copy made for ``item`` (besides where it is)."""
    return {
        "credited_size": None,
        "credit_on_page": item.credit_on_page,
        "page_credit_note": item.page_credit_note,
        "original_author": item.original_author,
        "zipped_with_credit": item.zipped_with_credit,
        "text_layer": item.text_layer,
    }


def credited_type(item: PreparedFile) -> str:
    return BUNDLE_CONTENT_TYPE if item.zipped_with_credit else item.type.content_type


def _put(storage: Storage, path: Path, content_type: str, stored: list[str], prefix="files") -> str:
    key = new_key(prefix)
    with open(path, "rb") as fh:
        storage.put(key, fh, content_type=content_type)
    stored.append(key)
    return key


def discard_objects(keys: Sequence[str]) -> None:
    """Delete objects nothing refers to any more; failures are left for ``exchange doctor``."""
    storage = get_storage()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # noqa: BLE001 - best effort: an orphan is harmless and repairable
            log.warning("could not delete object %s; exchange doctor will remove it", key)


# -- previews drawn after the share ------------------------------------------------------

PREVIEW_JOB = "preview"
# Reading a resource's pending files after its share or edit (see :mod:`.reading`).
READ_JOB = "read-files"


@jobs.job(PREVIEW_JOB)
def draw_preview(file_id: int) -> None:
    """Draw the first page of a shared office file that has no thumbnail (a job).

    Idempotent: a file that already has its picture, or no longer waits for one, or was
    deleted meanwhile, is left alone. The picture is stored first and recorded only if the
    file still waits for it, at the version drawn, so two runs at once keep one picture and
    delete the other (and a version replaced meanwhile never lends the new one its picture).
    """
    row = db.session.get(StoredFile, file_id)
    if row is None or not row.preview_pending or row.preview_key:
        return
    storage = get_storage()
    drawn_of = row.storage_key  # a new version may replace it while this one is drawn
    with _workdir() as workdir:
        original = _fetch_original(storage, row, workdir)
        db.session.commit()  # hold no transaction open while LibreOffice works (seconds)
        picture = workdir / "preview.png"
        drawing = draw_office_preview(original.path, original.type.format, picture)
        key = _put(storage, picture, "image/png", [], prefix="previews") if drawing.made else None
    recorded = db.session.execute(
        update(StoredFile)
        .where(StoredFile.id == file_id, StoredFile.preview_pending.is_(True))
        .where(StoredFile.storage_key == drawn_of)
        .values(preview_key=key, preview_pending=False, preview_note=drawing.reason)
    ).rowcount
    db.session.commit()
    if key and not recorded:  # deleted meanwhile, or another run got there first
        discard_objects([key])
    log.info("preview of file %s: %s", file_id, "made" if key else drawing.reason)


# -- tags --------------------------------------------------------------------------------


def tags_named(names: Sequence[str]) -> list[Tag]:
    """The Tag rows for these names, creating new ones safely when two shares race."""
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    return [existing.get(name) or _create_tag(name) for name in names]


def _create_tag(name: str) -> Tag:
    try:
        with db.session.begin_nested():
            tag = Tag(name=name)
            db.session.add(tag)
        return tag
    except IntegrityError:
        return db.session.scalars(select(Tag).where(Tag.name == name)).one()


def privacy_findings(resource: Resource) -> dict[StoredFile, list[Finding]]:
    """What in each file looks like a client's personal data (files with none left out)."""
    found = {f: find_personal_data(f.text) for f in resource.files}
    return {f: items for f, items in found.items() if items}


def publish_draft(resource: Resource) -> None:
    """The sharer has reviewed the privacy warning and confirms the files are fine (the
    caller commits; the index catches up after that)."""
    resource.status = Resource.PUBLISHED
    IndexChange.record(resource.id)
    announce_answers(resource)  # a request it answers hears of it now, not before
    db.session.flush()
    log.info("resource %s published after privacy review", resource.id)


# -- edit and delete ---------------------------------------------------------------------


@dataclass
class Replacement:
    """A new version of one of a resource's files, with the giver's note of what changed."""

    file_id: int
    upload: Upload
    note: str


def edit_resource(
    resource: Resource,
    details: ResourceDetails,
    uploads: Sequence[Upload] = (),
    remove_ids: Sequence[int] = (),
    replacements: Sequence[Replacement] = (),
) -> None:
    """Change a resource's description and files; credited copies follow a changed credit.

    A replacement gives a file its next version under the same id: the version it replaces
    keeps its bytes and credited copy (members who took it may fetch it again), while
    search reads the new version's text. New files of any kind pass the checks a share's
    do; ones that look like they hold a client's personal data send the resource back to
    draft, for its giver to review before anyone else sees it again.

    New files and versions are stored as uploaded and read by the read job after the
    commit, as a share's are: a published resource is PROCESSING (its giver's alone) until
    they are read. While a job is reading its files, a resource's files can't be changed;
    once reading stopped on a problem, an edit (removing the file, say) reads again.
    """
    if any(f.pending for f in resource.files) and not resource.processing_note:
        raise UploadRefused(STILL_READING)
    removing = [f for f in resource.files if f.id in set(remove_ids)]
    replacing = _files_replaced(resource, replacements, removing)
    if len(resource.files) - len(removing) + len(uploads) < 1:
        raise UploadRefused(
            _("A resource needs at least one file: add one before removing the last.")
        )
    credit_changed = credit_for(resource) != credit_for(details) or (
        resource.credit_on_page_wanted != details.credit_on_page_wanted
        or resource.credit_txt != bool(details.credit_txt)
        or resource.text_layer != bool(details.text_layer)
    )
    with _workdir() as workdir, _all_or_nothing() as stored:
        details.apply_to(resource)
        staying = [f for f in resource.files if f not in removing]
        kept = [f.original_name for f in staying if f not in replacing]
        arriving = [*(r.upload for r in replacements), *uploads]
        budget, owner_id = _upload_budget(), resource.owner_id
        prepared = stage_files(arriving, workdir, budget, owner_id, kept, len(uploads))
        stale = [key for f in removing for key in f.storage_keys()]
        read = [f for f in staying if not f.pending]  # pending ones are credited when read
        stale += recredit_files(read, workdir, stored) if credit_changed else []
        for row in removing:
            resource.files.remove(row)
        versions, added = prepared[: len(replacements)], prepared[len(replacements) :]
        for row, item, replacement in zip(replacing, versions, replacements, strict=True):
            stale += _take_new_version(row, item, replacement.note, stored)
        _store(resource, added, stored, pending=True)
        # New files: the read job detects the language once they are read (unless chosen).
        resource.language = details.language or ("" if prepared else language_of(resource))
        IndexChange.record(resource.id)
        _read_after_edit(resource, bool(prepared))
        transactions.commit()
    discard_objects(stale)
    log.info(
        "resource %s edited (%d added, %d replaced, %d removed)",
        resource.id, len(uploads), len(replacements), len(removing),
    )  # fmt: skip


def _files_replaced(
    resource: Resource, replacements: Sequence[Replacement], removing: Sequence[StoredFile]
) -> list[StoredFile]:
    """The files the replacements are for, in their order; refused if one is not here."""
    by_id = {f.id: f for f in resource.files}
    rows = [by_id.get(r.file_id) for r in replacements]
    if any(row is None for row in rows):
        raise UploadRefused(_("A file you chose to replace is no longer part of this resource."))
    both = next((row for row in rows if row in removing), None)
    if both is not None:
        raise UploadRefused(
            _(
                "Please either remove “%(name)s” or replace it with a new version, not both.",
                name=both.original_name,
            )
        )
    return rows


def _take_new_version(row: StoredFile, item: PreparedFile, note: str, stored: list[str]):
    """Keep the file's current version as an earlier one, then make ``item`` current.

    Returns the keys nothing refers to any more: the old first page's picture (the page
    shows the current version's; the earlier version's own bytes are all kept).
    """
    row.versions.append(_earlier_version(row))
    stale = [row.preview_key] if row.preview_key else []
    _fill_row(row, get_storage(), item, stored, pending=True)
    row.version += 1
    row.version_note, row.version_at = note.strip(), utcnow()
    return stale


_VERSION_COLUMNS = (
    "storage_key", "original_name", "content_type", "format", "size", "sha256", "credited_key",
    "credited_size", "credit_on_page", "page_credit_note", "original_author", "zipped_with_credit",
)  # fmt: skip


def _earlier_version(row: StoredFile) -> FileVersion:
    kept = {name: getattr(row, name) for name in _VERSION_COLUMNS}
    return FileVersion(
        number=row.version, change_note=row.version_note, created_at=row.version_date, **kept
    )


STILL_READING = (
    "We’re still reading this resource’s files: please wait until they’re read before "
    "changing them."
)


def _read_after_edit(resource: Resource, new_files: bool) -> None:
    """An edit bringing files hides a published resource until the read job has read them
    (and held it for review if they look private). After reading stopped on a problem, any
    edit (removing that file, or bringing a new version of it) sets the job going again."""
    if new_files and resource.status == Resource.PUBLISHED:
        resource.status, resource.privacy_hold = Resource.PROCESSING, False
    resource.processing_note = ""
    if resource.status == Resource.PROCESSING or any(f.pending for f in resource.files):
        jobs.enqueue(READ_JOB, resource.id)  # runs once the caller's commit succeeds


def recredit_files(files: Sequence[StoredFile], workdir: Path, stored: list[str]) -> list[str]:
    """Remake the credited copy of each file, and of each of its earlier versions, for the
    resource's current credit: an earlier version is downloaded with today's credit too
    (and a giver who leaves anonymously is named in none of them).

    Returns the keys of the copies they replace, to delete once the change is committed.
    """
    if not files:
        return []
    storage = get_storage()
    resource = files[0].resource
    credit, names = credit_for(resource), giver_names(resource.owner)
    replaced = []
    for row in [each for file in files for each in (file, *file.versions)]:
        item = _fetch_original(storage, row, workdir)
        if _scan_wanting_its_layer(row, resource):
            read_text(item, text_layer=True, languages=scan_languages(resource))
        make_credited_copy(item, credit, resource.credit_on_page_wanted, names)
        bundle_if_wanted(resource.id, resource, item)
        replaced += [row.credited_key] if row.credited_key else []
        _store_credited(row, storage, item, stored)
    return replaced


def _scan_wanting_its_layer(row: StoredFile | FileVersion, resource: Resource) -> bool:
    """A current file read from scans whose giver wants the text layer: its pages are read
    again (the layer is not kept apart). Earlier versions keep no text, so they are
    re-credited without one."""
    return isinstance(row, StoredFile) and row.read_from_scans and resource.text_layer


def _fetch_original(storage: Storage, row: StoredFile | FileVersion, workdir: Path) -> PreparedFile:
    path = workdir / f"original-{row.__tablename__}-{row.id}"
    with storage.open(row.storage_key) as src, open(path, "wb") as out:
        while chunk := src.read(1024 * 1024):
            out.write(chunk)
    return PreparedFile(row.original_name, ALLOWED[row.format], row.size, row.sha256, path)


def delete_resource(resource: Resource) -> None:
    """Remove a resource for good: rows first (atomically), then its objects."""
    keys = [key for f in resource.files for key in f.storage_keys()]
    resource_id = resource.id
    forget_resource_in_collections(resource_id)
    db.session.delete(resource)
    IndexChange.record(resource_id)
    transactions.commit()
    discard_objects(keys)
    log.info("resource %s deleted", resource_id)


# -- download ----------------------------------------------------------------------------


def _without_waiting_for_the_disk() -> None:
    """On PostgreSQL, let this transaction commit without waiting for its WAL to be flushed.

    A download record is the most frequent write and the least precious: a database crash
    may lose the last fraction of a second of them (never corrupt anything), and in
    exchange a download does not wait for the disk, which is most of its cost under load.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def record_download(
    member: Member, resource: Resource, file: StoredFile, version: int | None = None
) -> bool:
    """Write the download to the ledger; True when it is this member's first of the resource.

    Counts shown to everyone are unique members (:mod:`exchange.counts`), so only a first
    download moves the count: fetching a file's new version, or an earlier one again, never
    does. ``version`` is the version taken (the current one unless told). Written in the
    caller's transaction, which commits it. The most frequent write on the site: Core
    statements, and on PostgreSQL one statement.
    """
    ids = (member.id, file.id, resource.id)
    entry = {"member_id": member.id, "resource_id": resource.id, "file_id": file.id}
    entry.update(file_version=version or file.version, region=member.region, created_at=utcnow())
    counts = member.id != resource.owner_id
    _without_waiting_for_the_disk()
    if not counts:  # the giver's own download: logged, never counted
        db.session.execute(insert(Download.__table__), entry)
        first = False
    elif db.session.get_bind().dialect.name == "postgresql":
        first = db.session.execute(LEDGER_STATEMENT, entry).first() is not None
    else:
        first = ledger_step_by_step(entry)
    note_core_write(db.session, Download)
    log.info("member %s downloaded file %s of resource %s", *ids)
    return first


def ledger_step_by_step(entry: dict) -> bool:
    """What :data:`LEDGER_STATEMENT` does, for databases without data-modifying CTEs."""
    db.session.execute(insert(Download.__table__), entry)
    taker = {name: entry[name] for name in ("resource_id", "member_id", "created_at")}
    first = insert_if_absent(Taker, ["resource_id", "member_id"], **taker)
    if first:  # a download is not an edit: updated_at stays as it was
        resources = Resource.__table__
        db.session.execute(
            update(resources)
            .where(resources.c.id == entry["resource_id"])
            .values(
                download_count=resources.c.download_count + 1, updated_at=resources.c.updated_at
            )
        )
    return first


# Plain SQL: SQLAlchemy cannot cache a compiled ON CONFLICT, and this runs on every download.
LEDGER_STATEMENT = text(
    """
    WITH logged AS (
        INSERT INTO downloads (member_id, resource_id, file_id, file_version, region, created_at)
        VALUES (:member_id, :resource_id, :file_id, :file_version, :region, :created_at)
    ), taken AS (
        INSERT INTO takers (resource_id, member_id, created_at)
        VALUES (:resource_id, :member_id, :created_at)
        ON CONFLICT (resource_id, member_id) DO NOTHING
        RETURNING resource_id
    )
    UPDATE resources SET download_count = download_count + 1
    WHERE id IN (SELECT resource_id FROM taken)
    RETURNING id
    """
)
