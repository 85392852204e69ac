"""The original author a file's own properties name, kept as "adapted from a work
by ..." when that is not the giver.

Read from the uploaded file before any credit is written over it: OOXML dc:creator, ODF
meta:initial-creator or dc:creator, PDF XMP dc:creator or Info /Author. Program defaults
("User", "python-docx"...) and the giver's own names count as nobody.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pikepdf

from .download import trim
from .line import one_line
from .properties import ODF_FORMATS, OOXML_FORMATS
from .properties.ooxml import core_target
from .properties.package import check_zip_limits, read_small_entry
from .properties.parts import parse, q, xml_text
from .properties.pdf import MAX_PDF_BYTES

log = logging.getLogger(__name__)

# What programs write into the author property on their own when nobody typed a name: an
# installation's default account ("User", "Windows User", in Japanese too), a template's
# placeholder, or the library that generated the file. Calling one of them the author a
# giver adapted from would be noise on every page, so they count as no name at all.
GENERIC_AUTHORS = frozenset(
    {
        "admin",
        "administrator",
        "author",
        "microsoft office user",
        "openpyxl",
        "owner",
        "python-docx",
        "python-pptx",
        "unknown",
        "user",
        "windows user",
        "windows ユーザー",
    }
)
MAX_AUTHOR_CHARS = 200  # the stored column's width; real author fields are far shorter


def original_author(src: Path, fmt: str, giver_names: Sequence[str]) -> str:
    """Who the file's own properties say wrote it, when that is someone other than the giver.

    Read from the uploaded file before any credit is written (OOXML dc:creator, ODF
    meta:initial-creator or dc:creator, PDF XMP dc:creator or Info /Author); "" when it
    names nobody, only a program's default, or one of ``giver_names``. A file that cannot
    be read has no author to keep: the share goes on.
    """
    reader = _AUTHOR_READERS.get(fmt.lower())
    try:
        names = reader(Path(src)) if reader else []
    except Exception:  # noqa: BLE001 - hostile uploads can make any parser fail
        log.info("no author read from %s (%s)", src, fmt, exc_info=True)
        return ""
    kept: list[str] = []
    for name in (one_line(xml_text(n)).strip(" ;,") for n in names):
        if name and name.casefold() not in GENERIC_AUTHORS and name not in kept:
            if not any(_same_person(name, giver) for giver in giver_names if giver.strip()):
                kept.append(name)
    return trim(_joined(kept), MAX_AUTHOR_CHARS)


def _name_words(name: str) -> list[str]:
    return [word for word in re.split(r"[\s.,;()]+", name.casefold()) if word]


def _same_person(author: str, giver: str) -> bool:
    """The same name, ignoring case and spaces ("D Briers" is "dbriers"), or a name whose
    words are all in the giver's ("Dale Briers" in "Dale Briers (Career Conversations)")."""
    author_words, giver_words = _name_words(author), _name_words(giver)
    if not author_words or not giver_words:
        return False
    return "".join(author_words) == "".join(giver_words) or set(author_words) <= set(giver_words)


def _joined(names: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _ooxml_authors(src: Path) -> list[str]:
    """dc:creator, where Office lists several authors separated by semicolons."""
    with zipfile.ZipFile(src) as archive:
        check_zip_limits(archive, src.stat().st_size)
        names = {name.lower(): name for name in archive.namelist()}
        rels_name = names.get("_rels/.rels")
        if rels_name is None:
            return []
        core_name = core_target(parse(read_small_entry(archive, rels_name)), names)
        if core_name is None or core_name not in set(archive.namelist()):
            return []
        core = parse(read_small_entry(archive, core_name))
    return (core.findtext(q("dc:creator")) or "").split(";")


def _odf_authors(src: Path) -> list[str]:
    """The initial creator (who wrote it), else the last one to save it."""
    with zipfile.ZipFile(src) as archive:
        check_zip_limits(archive, src.stat().st_size)
        if "meta.xml" not in archive.namelist():
            return []
        props = parse(read_small_entry(archive, "meta.xml")).find(q("office:meta"))
    if props is None:
        return []
    first = props.findtext(q("meta:initial-creator")) or ""
    return [first or props.findtext(q("dc:creator")) or ""]


def _pdf_authors(src: Path) -> list[str]:
    """XMP's list of creators, which viewers show first, else the Info dictionary's."""
    if src.stat().st_size > MAX_PDF_BYTES:
        return []
    with pikepdf.open(src) as pdf:
        creators: list[str] = []
        if isinstance(pdf.Root.get("/Metadata"), pikepdf.Stream):
            found = pdf.open_metadata().get("dc:creator") or []
            creators = [str(name) for name in found if name]
        return creators or [str(pdf.docinfo.get("/Author", ""))]


_AUTHOR_READERS: dict[str, Callable[[Path], list[str]]] = {
    **dict.fromkeys(OOXML_FORMATS, _ooxml_authors),
    **dict.fromkeys(ODF_FORMATS, _odf_authors),
    "pdf": _pdf_authors,
}
