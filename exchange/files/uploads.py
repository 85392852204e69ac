"""Turning uploaded files into checked, described, ready-to-store files on local disk.

Everything here happens *before* anything is stored: a file that is refused leaves no
trace. Bytes are streamed to a private working folder in chunks (never held in memory
whole), hashed on the way, then identified by content, read for text in a separate
limited process, credited and previewed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _

from ..vocab import N_
from . import credit as credit_mod
from . import office_preview
from .credit import page as page_credit
from .extract import Extraction, extract
from .formats import FileType, UnsupportedFile, clean_filename, detect
from .ocr import ScanReading
from .preview import make_preview
from .text_layer import add_text_layer, layer_pages

CHUNK = 1024 * 1024
BUNDLE_CONTENT_TYPE = "application/zip"
log = logging.getLogger(__name__)


class UploadRefused(ValueError):
    """A file we will not take; the message is for the sharer and names the file."""


@dataclass
class PreparedFile:
    name: str
    type: FileType
    size: int
    sha256: str
    path: Path
    extraction: Extraction | None = None
    credited_path: Path | None = None
    credit_on_page: bool = False
    page_credit_note: str = ""  # why the giver's wish for a credit on the page was not met
    original_author: str = ""  # the author its properties name, when not the giver
    zipped_with_credit: bool = False  # credited_path is a zip: the file and a credit.txt
    preview_path: Path | None = None
    # LibreOffice is to draw the first page after the share (a job: it takes seconds), or,
    # when no picture will come, why not (see :mod:`.office_preview`).
    preview_pending: bool = False
    preview_note: str = ""
    # Where the text-only pages Tesseract wrote for a scanned PDF wait to be laid over its
    # credited copy (see :mod:`.text_layer`), and whether that copy got them.
    text_layer_dir: Path | None = None
    text_layer: bool = False


def stage(stream: BinaryIO, filename: str, workdir: Path, budget: int) -> PreparedFile:
    """Copy one upload to ``workdir``, hashing it, and check what it really is.

    ``budget`` is how many bytes this share may still use; going over raises
    :class:`UploadRefused` before the rest of the file is read.
    """
    try:
        name = clean_filename(filename or "")
    except UnsupportedFile as exc:
        raise UploadRefused(str(exc)) from exc
    path = workdir / f"upload-{len(list(workdir.iterdir()))}"
    size, digest = _copy_hashing(stream, path, budget, name)
    if size == 0:
        raise UploadRefused(_("“%(name)s” is empty.", name=name))
    try:
        # The name as sent: trailing dots, NUL bytes and double extensions are refused,
        # not quietly repaired into something that looks allowed.
        file_type = detect(path, filename)
    except UnsupportedFile as exc:
        raise UploadRefused(str(exc)) from exc
    return PreparedFile(name=name, type=file_type, size=size, sha256=digest, path=path)


def _copy_hashing(stream: BinaryIO, path: Path, budget: int, name: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > budget:
                raise UploadTooLarge(name)
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


class UploadTooLarge(UploadRefused):
    """The share went over the size limit; shown as the 413 page."""


class QuotaExceeded(UploadTooLarge):
    """The member's account would hold more files or bytes than it may; also a 413."""


def read_text(prepared: PreparedFile, *, text_layer: bool = False, languages: str = "") -> None:
    """Extract the searchable text in a separate, time- and memory-limited process; where
    the site reads scans, pictures and scanned PDF pages are read by Tesseract in
    ``languages`` (the site's own when empty), and with ``text_layer`` a PDF's scanned
    pages are also kept as text-only pages for its credited copy."""
    config = current_app.config
    prepared.extraction = extract(
        prepared.path,
        prepared.type.format,
        timeout_s=config["EXTRACT_TIMEOUT_S"],
        memory_mb=config["EXTRACT_MEMORY_MB"],
        scans=_scan_reading(prepared, text_layer, languages) if config["OCR"] else None,
    )


def _scan_reading(prepared: PreparedFile, text_layer: bool, languages: str) -> ScanReading:
    config = current_app.config
    layer_dir = ""
    if text_layer and prepared.type.reader == "pdf":
        prepared.text_layer_dir = prepared.path.with_name(prepared.path.name + ".layer")
        prepared.text_layer_dir.mkdir(exist_ok=True)
        layer_dir = str(prepared.text_layer_dir.resolve())
    return ScanReading(
        languages=languages or config["OCR_LANGUAGES"],
        seconds_per_page=config["OCR_SECONDS_PER_PAGE"],
        page_limit=config["OCR_PAGE_LIMIT"],
        layer_dir=layer_dir,
    )


def make_credited_copy(
    prepared: PreparedFile,
    credit: credit_mod.Credit,
    on_page: bool = False,
    giver_names: Sequence[str] = (),
) -> None:
    """A copy with the credit in its document properties, when the format has them, and
    with the credit line on its pages when the giver asked for that and the file allows.

    The author the file's own properties name is kept as "adapted from" unless it is the
    giver, by their credit or by any of ``giver_names`` (an anonymous giver's own name
    must not reappear as someone they adapted from). A scanned PDF whose pages were read
    with a text layer (:func:`read_text`) gets that layer in its copy first.
    """
    fmt = prepared.type.format
    prepared.credited_path, prepared.credit_on_page, prepared.page_credit_note = None, False, ""
    prepared.zipped_with_credit = prepared.text_layer = False
    known_as = (credit.author, credit_mod.person_name(credit.author), *giver_names)
    prepared.original_author = credit_mod.original_author(prepared.path, fmt, known_as)
    credit = replace(credit, adapted_from=prepared.original_author)
    dest = prepared.path.with_name(prepared.path.name + ".credited")
    source = _with_text_layer(prepared)
    if prepared.type.credit_in_properties:
        if credit_mod.write_credited_copy(source, fmt, credit, dest):
            prepared.credited_path = dest
        elif on_page:
            prepared.page_credit_note = N_("the file could not be rewritten safely")
            return
    if on_page:
        _put_credit_on_page(prepared, credit, dest)
    prepared.text_layer = source != prepared.path and prepared.credited_path is not None


def _with_text_layer(prepared: PreparedFile) -> Path:
    """The scanned PDF with its invisible text layer, when one was read for it; the
    credit is then written into that copy. Otherwise the file as shared."""
    layered = prepared.path.with_name(prepared.path.name + ".layered")
    if add_text_layer(prepared.path, layer_pages(prepared.text_layer_dir), layered):
        return layered
    return prepared.path


def _put_credit_on_page(prepared: PreparedFile, credit: credit_mod.Credit, dest: Path) -> None:
    source = prepared.credited_path or prepared.path
    paged = dest.with_name(dest.name + ".page")
    result = page_credit.write_page_credit(source, prepared.type.format, page_text(credit), paged)
    prepared.credit_on_page = result.on_page
    prepared.page_credit_note = result.reason
    if result.on_page:
        paged.replace(dest)
        prepared.credited_path = dest


def bundle_with_credit_txt(prepared: PreparedFile, credit: credit_mod.Credit) -> None:
    """For a format that cannot carry the credit on its pages (old Office files, pictures,
    CSV), make the download a zip of the file, unchanged, and a ``credit.txt``.

    ``credit.source_url`` should be the resource's own address: the note says where the
    file came from. Other formats are left as they are.
    """
    if not prepared.type.no_page_credit:
        return
    credit = replace(credit, adapted_from=prepared.original_author)
    inner_name = credit_mod.download_name(credit.title, credit.author, prepared.name)
    dest = prepared.path.with_name(prepared.path.name + ".zip")
    source = prepared.credited_path or prepared.path
    credit_mod.write_credit_bundle(source, inner_name, credit, dest)
    prepared.credited_path, prepared.zipped_with_credit = dest, True


def bundle_name(download_name: str) -> str:
    """What a zip of a file and its credit.txt is saved as: the file's own download name
    plus ".zip", so two files of one resource differing only by extension stay apart."""
    return f"{download_name}.zip"


def page_text(credit: credit_mod.Credit) -> page_credit.PageCredit:
    """What the page shows: the same credit line the resource page offers to copy."""
    return page_credit.PageCredit(
        line=credit_mod.credit_line(credit),
        creator=credit_mod.creator_text(credit),
        web_statement=credit.licence_url or credit.source_url,
    )


def make_thumbnail(prepared: PreparedFile) -> None:
    """The cheap preview now (a PDF's page, an image, an embedded thumbnail); an office
    file without one is marked for LibreOffice to draw later, if this site does that."""
    if not prepared.type.has_preview:
        return
    dest = prepared.path.with_name(prepared.path.name + ".png")
    if make_preview(prepared.path, prepared.type.format, dest):
        prepared.preview_path = dest
    elif prepared.type.drawn_by_office:
        prepared.preview_pending = bool(current_app.config["OFFICE_PREVIEWS"])
        prepared.preview_note = "" if prepared.preview_pending else office_preview.TURNED_OFF


def draw_office_preview(path: Path, fmt: str, out_path: Path) -> office_preview.Drawing:
    """Draw the first page of an office file with LibreOffice (seconds: for a job).

    Never raises: even a failure of our own leaves the page a reason, not a wait forever.
    """
    try:
        return office_preview.draw_first_page(path, fmt, out_path)
    except Exception:  # noqa: BLE001 - logged; the page says the page could not be drawn
        log.exception("drawing the first page of %s as %s failed", path, fmt)
        return office_preview.Drawing(False, office_preview.NOT_DRAWN)
