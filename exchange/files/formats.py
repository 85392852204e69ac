"""What an uploaded file really is, judged by its name *and* its bytes.

Counsellors download what others share and open it in Word or Excel, so a file is only
accepted when its extension is one we allow and its contents are really that format: HTML
renamed ``.docx``, a Git LFS pointer named ``.pdf`` or a macro-enabled workbook are turned
away with a sentence that says what is wrong. The browser's Content-Type is never read.

The zip limits live here because every zip-based reader must apply them before it touches
an archive: ``open_zip`` is the one door to a zip, for detection and extraction alike. At
upload, ``check_zip_contents`` also unpacks every part with a cap, because a directory can
lie about sizes and the people who download the file would unpack what it really holds.
Pictures are measured from their headers, never decoded: a small file can declare billions
of pixels that a viewer would allocate.
"""

from __future__ import annotations

import codecs
import copy
import io
import os
import re
import shutil
import struct
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from ..vocab import N_

# Zip limits, checked on the central directory alone (nothing is decompressed to test them).
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_UNPACKED_BYTES = 300 * 1024 * 1024
ZIP_MAX_RATIO = 100
ZIP_RATIO_APPLIES_FROM = 1024 * 1024
# 10,000 entries with long names fit in well under 4 MB of central directory.
ZIP_MAX_DIRECTORY_BYTES = 4 * 1024 * 1024

# Embedded documents (a chart's workbook inside a presentation) are zips inside the zip;
# deeper than this is no real document.
ZIP_MAX_NESTING = 3
# Office programs open stored and deflated parts only; other methods would cost far more
# time to check here.
_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_UNZIP_CHUNK = 256 * 1024
# A 50-megapixel picture already takes 200 MB to hold once decoded.
MAX_IMAGE_PIXELS = 50_000_000

MAX_FILENAME_CHARS = 200
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class FileType:
    """One accepted format, declared once in :data:`ALLOWED`; everything else reads it.

    Adding a format is one entry here plus, if no existing reader fits, a text reader in
    :mod:`.readers` (listed in its ``READERS``, keyed by ``reader``), and likewise a
    printed-credit writer in :mod:`.credit.page` (its ``WRITERS``, keyed by ``page_writer``).
    """

    format: str  # also its usual file extension
    content_type: str
    label: str  # what people call it: "Word document"
    noun: str  # the same inside a sentence: "is not a Word document"
    sniffed: frozenset[str]  # the content kinds (see ``_sniff``) a file of it may hold
    reader: str  # which text reader (:data:`.readers.READERS`) reads it
    package: str = ""  # "ooxml" or "odf": a zip of XML parts with document properties
    aliases: tuple[str, ...] = ()  # other extensions people give it
    # Where a visible credit line goes (see :mod:`.credit.page`), in words for the resource
    # page; or, for a format that can't carry one, why not.
    page_credit: str = ""
    no_page_credit: str = ""
    # Which printed-credit writer puts it there (:data:`.credit.page.WRITERS`, by name).
    page_writer: str = ""
    # LibreOffice can draw its first page when the file embeds no thumbnail (see
    # :mod:`.office_preview`): slow, so it is done by a job after the share.
    drawn_by_office: bool = False

    @property
    def credit_in_properties(self) -> bool:
        """Credit can be written into the file's own document properties."""
        return bool(self.package) or self.format == "pdf"

    @property
    def has_preview(self) -> bool:
        """A first-page picture can be made: PDFs, images, packages' thumbnails, and pages
        LibreOffice draws."""
        return bool(self.package) or self.reader in ("pdf", "image") or self.drawn_by_office


def _(text: str, **values: object) -> str:
    """A refusal in the reader's language. Flask-Babel is imported only when a refusal is
    worded, in the web process: the limited child processes that read files import this
    module without the web stack."""
    from flask_babel import gettext

    return gettext(text, **values)


class UnsupportedFile(ValueError):
    """str(exc) is a short, friendly sentence for the sharer, naming the file."""


class UnsafeContent(ValueError):
    """Contents that would harm whoever opens them; str(exc) says what, after "because"."""


class UnsafeArchive(UnsafeContent):
    """A zip whose directory promises more than we will unpack; str(exc) says what."""


class TooManyPixels(UnsafeContent):
    """A picture whose header declares more pixels than anyone's viewer should allocate."""


_OOXML = "application/vnd.openxmlformats-officedocument"
_ODF = "application/vnd.oasis.opendocument"
# A password-protected Office file is an OLE container whatever its name says.
_OOXML_ENCRYPTED = "ooxml-encrypted"
# Templates and shows open in the same program as the documents.
_WORD = frozenset({"docx", "dotx", _OOXML_ENCRYPTED})
_EXCEL = frozenset({"xlsx", "xltx", _OOXML_ENCRYPTED})
_POWERPOINT = frozenset({"pptx", "potx", "ppsx", _OOXML_ENCRYPTED})


_FOOTER = N_("in the footer of every page")
_PRINT_FOOTER = N_("in every sheet’s print footer")
_SLIDE = N_("in a small line at the bottom of every slide")
_LAST_LINE = N_("on a last line after the text")
_OLD_WORD = N_("old Word files cannot be changed without risk of damaging them")
_OLD_EXCEL = N_("old Excel files cannot be changed without risk of damaging them")
_OLD_POWERPOINT = N_("old PowerPoint files cannot be changed without risk of damaging them")
_IMAGE_AS_SHARED = N_("an image is served exactly as it was shared")
_CSV_ROW = N_("a line added to a CSV table would be read as one more row of data")


def _kinds(*names: str) -> frozenset[str]:
    return frozenset(names)


ALLOWED: dict[str, FileType] = {
    t.format: t
    for t in (
        FileType("doc", "application/msword", N_("Word document"), N_("a Word document"),
                 _kinds("doc"), "legacy-word",
                 no_page_credit=_OLD_WORD),
        FileType("docx", f"{_OOXML}.wordprocessingml.document", N_("Word document"),
                 N_("a Word document"), _WORD, "word", "ooxml",
                 page_credit=_FOOTER, drawn_by_office=True, page_writer="word"),
        FileType("dotx", f"{_OOXML}.wordprocessingml.template", N_("Word template"),
                 N_("a Word template"), _WORD, "word", "ooxml",
                 page_credit=_FOOTER, drawn_by_office=True, page_writer="word"),
        FileType("xls", "application/vnd.ms-excel", N_("Spreadsheet (Excel)"),
                 N_("an Excel spreadsheet"), _kinds("xls"), "legacy-sheet",
                 no_page_credit=_OLD_EXCEL),
        FileType("xlsx", f"{_OOXML}.spreadsheetml.sheet", N_("Spreadsheet (Excel)"),
                 N_("an Excel spreadsheet"), _EXCEL, "sheet", "ooxml",
                 page_credit=_PRINT_FOOTER, drawn_by_office=True, page_writer="excel"),
        FileType("xltx", f"{_OOXML}.spreadsheetml.template", N_("Spreadsheet template (Excel)"),
                 N_("an Excel template"), _EXCEL, "sheet", "ooxml",
                 page_credit=_PRINT_FOOTER, drawn_by_office=True, page_writer="excel"),
        FileType("ppt", "application/vnd.ms-powerpoint", N_("Presentation (PowerPoint)"),
                 N_("a PowerPoint presentation"), _kinds("ppt"), "legacy-slides",
                 no_page_credit=_OLD_POWERPOINT),
        FileType("pptx", f"{_OOXML}.presentationml.presentation", N_("Presentation (PowerPoint)"),
                 N_("a PowerPoint presentation"), _POWERPOINT, "slides", "ooxml",
                 page_credit=_SLIDE, drawn_by_office=True, page_writer="slides"),
        FileType("potx", f"{_OOXML}.presentationml.template",
                 N_("Presentation template (PowerPoint)"), N_("a PowerPoint template"), _POWERPOINT,
                 "slides", "ooxml",
                 page_credit=_SLIDE, drawn_by_office=True, page_writer="slides"),
        FileType("odt", f"{_ODF}.text", N_("Text document (OpenDocument)"),
                 N_("an OpenDocument text"), _kinds("odt", "ott"), "odf", "odf",
                 page_credit=_FOOTER, drawn_by_office=True, page_writer="odf-footer"),
        FileType("ods", f"{_ODF}.spreadsheet", N_("Spreadsheet (OpenDocument)"),
                 N_("an OpenDocument spreadsheet"), _kinds("ods", "ots"), "odf", "odf",
                 page_credit=_PRINT_FOOTER, drawn_by_office=True, page_writer="odf-footer"),
        FileType("odp", f"{_ODF}.presentation", N_("Presentation (OpenDocument)"),
                 N_("an OpenDocument presentation"), _kinds("odp", "otp"), "odf", "odf",
                 page_credit=_SLIDE, drawn_by_office=True, page_writer="odf-slides"),
        FileType("rtf", "application/rtf", N_("Rich Text document"), N_("an RTF document"),
                 _kinds("rtf"), "rtf",
                 page_credit=_FOOTER, drawn_by_office=True, page_writer="rtf"),
        FileType("pdf", "application/pdf", N_("PDF"), N_("a PDF"), _kinds("pdf"), "pdf",
                 page_credit=N_("in a thin line at the bottom of every page"), page_writer="pdf"),
        FileType("txt", "text/plain", N_("Text file"), N_("a text file"), _kinds("text"), "text",
                 page_credit=_LAST_LINE, page_writer="text"),
        FileType("csv", "text/csv", N_("CSV table"), N_("a CSV file"), _kinds("text"), "text",
                 no_page_credit=_CSV_ROW),
        FileType("md", "text/markdown", N_("Markdown text"), N_("a Markdown file"), _kinds("text"),
                 "text",
                 page_credit=_LAST_LINE, page_writer="text"),
        FileType("png", "image/png", N_("Image (PNG)"), N_("a PNG image"), _kinds("png"), "image",
                 no_page_credit=_IMAGE_AS_SHARED),
        FileType("jpg", "image/jpeg", N_("Image (JPEG)"), N_("a JPEG image"), _kinds("jpg"),
                 "image", aliases=("jpeg",),
                 no_page_credit=_IMAGE_AS_SHARED),
        FileType("gif", "image/gif", N_("Image (GIF)"), N_("a GIF image"), _kinds("gif"), "image",
                 no_page_credit=_IMAGE_AS_SHARED),
        FileType("webp", "image/webp", N_("Image (WebP)"), N_("a WebP image"), _kinds("webp"),
                 "image",
                 no_page_credit=_IMAGE_AS_SHARED),
    )
}  # fmt: skip


def formats_where(test: Callable[[FileType], bool]) -> frozenset[str]:
    """The formats whose entry passes ``test``: how other modules derive their lists."""
    return frozenset(fmt for fmt, file_type in ALLOWED.items() if test(file_type))


# Extension (lower case, no dot) -> format.
EXTENSIONS: dict[str, str] = {
    ext: t.format for t in ALLOWED.values() for ext in (t.format, *t.aliases)
}
ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for ext in EXTENSIONS)
ALLOWED_SUMMARY = N_(
    "Word, Excel, PowerPoint, OpenDocument, PDF, RTF, text, CSV, Markdown "
    "and images (PNG, JPEG, GIF, WebP)"
)

# Macro-enabled kinds and the macro-free extension to save them as instead.
_MACRO_KINDS = {
    "docm": "docx",
    "dotm": "dotx",
    "xlsm": "xlsx",
    "xltm": "xltx",
    "xlsb": "xlsx",
    "pptm": "pptx",
    "potm": "potx",
    "ppsm": "pptx",
    "odt-macro": "odt",
    "ods-macro": "ods",
    "odp-macro": "odp",
}
_FLAT_ODF = {"fodt": "odt", "fods": "ods", "fodp": "odp", "fodg": "odg"}

# Main-part content types in [Content_Types].xml -> kind.
_OOXML_MAIN_TYPES = {
    f"{_OOXML}.wordprocessingml.document.main+xml": "docx",
    f"{_OOXML}.wordprocessingml.template.main+xml": "dotx",
    "application/vnd.ms-word.document.macroEnabled.main+xml": "docm",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": "dotm",
    f"{_OOXML}.spreadsheetml.sheet.main+xml": "xlsx",
    f"{_OOXML}.spreadsheetml.template.main+xml": "xltx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsm",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": "xltm",
    "application/vnd.ms-excel.sheet.binary.macroEnabled.main": "xlsb",
    f"{_OOXML}.presentationml.presentation.main+xml": "pptx",
    f"{_OOXML}.presentationml.template.main+xml": "potx",
    f"{_OOXML}.presentationml.slideshow.main+xml": "ppsx",
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": "pptm",
    "application/vnd.ms-powerpoint.template.macroEnabled.main+xml": "potm",
    "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml": "ppsm",
}
# ODF "mimetype" entry -> (kind, the document type it belongs with).
_ODF_MIMETYPES = {
    f"{_ODF}.text": ("odt", "odt"),
    f"{_ODF}.text-template": ("ott", "odt"),
    f"{_ODF}.spreadsheet": ("ods", "ods"),
    f"{_ODF}.spreadsheet-template": ("ots", "ods"),
    f"{_ODF}.presentation": ("odp", "odp"),
    f"{_ODF}.presentation-template": ("otp", "odp"),
}

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png", "a PNG image"),
    (b"\xff\xd8\xff", "jpg", "a JPEG image"),
    (b"GIF87a", "gif", "a GIF image"),
    (b"GIF89a", "gif", "a GIF image"),
)
_IMAGE_KINDS = frozenset(kind for _, kind, _ in _IMAGE_MAGIC) | {"webp"}
# Excel 2.x-4.x workbooks are a bare BIFF stream starting with a BOF record.
_BIFF_BOF = (b"\x09\x00", b"\x09\x02", b"\x09\x04")
_MARKUP_MARKERS = (
    ("<!doctype html", "HTML"),
    ("<html", "HTML"),
    ("<svg", "an SVG image"),
    ("<script", "a web page or script"),
    ("<?xml", "XML"),
)
# Longest first: the UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)
_WINDOWS_FORBIDDEN = str.maketrans({c: "_" for c in "<>:|?*"} | {'"': "'"})


class _Content(NamedTuple):
    kind: str  # "docx", "pdf", "text", "html", "damaged", ...
    looks_like: str  # for sentences: "its contents look like HTML"


# --------------------------------------------------------------------------- names


def clean_filename(name: str) -> str:
    """The name we store and show: the last path part, printable, trimmed, at most 200 chars.

    Browsers send whatever the sharer's system produced (full Windows paths, bidi overrides
    that disguise ``exe.pdf``, trailing dots Windows would silently drop), so only a tidy
    base name survives; characters Windows forbids become ``_`` so a download saves anywhere.
    """
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(_printable(ch) for ch in name)
    name = re.sub(r" {2,}", " ", name.translate(_WINDOWS_FORBIDDEN))
    name = name.strip(" .")
    stem, dot, ext = name.rpartition(".")
    if dot and _WINDOWS_RESERVED.match(stem):
        name = f"{stem}_.{ext}"
    name = _shorten(name, MAX_FILENAME_CHARS)
    if not name:
        raise UnsupportedFile(_("The file has no usable name: rename it and share it again."))
    return name


def _printable(ch: str) -> str:
    """Separators and line breaks become spaces; control and format characters go."""
    category = unicodedata.category(ch)
    if category[0] == "Z" or ch in "\t\r\n":
        return " "
    return "" if category[0] == "C" else ch


def _shorten(name: str, limit: int) -> str:
    """Cut the stem, not the extension, so a long name still opens in the right program."""
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16:
        return name[:limit].rstrip(" .")
    return stem[: limit - len(ext) - 1].rstrip(" .") + "." + ext


def extension_of(name: str) -> str:
    """The final extension, lower case, without the dot ("" when there is none)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


# --------------------------------------------------------------------------- detection


def detect(path: Path, filename: str) -> FileType:
    """The allowed type of the uploaded file at ``path``, or ``UnsupportedFile`` saying why.

    ``filename`` is the name the browser sent; ``path`` holds the received bytes.
    """
    name = _check_name(filename)
    fmt = _format_from_name(name)
    try:
        content = _sniff(path)
        if content.kind in _IMAGE_KINDS:
            with path.open("rb") as fh:
                check_image_size(fh)
    except UnsafeContent as exc:
        raise UnsupportedFile(
            _("“%(name)s” cannot be accepted: %(exc)s.", name=name, exc=exc)
        ) from exc
    if content.kind not in ALLOWED[fmt].sniffed:
        raise UnsupportedFile(_mismatch_sentence(name, fmt, content))
    return ALLOWED[fmt]


def _check_name(filename: str) -> str:
    """Refuse names that only a crafted request or a disguise would produce."""
    if "\x00" in filename:
        raise UnsupportedFile(
            "The file name contains a NUL character, which no real file has: "
            "rename the file and share it again."
        )
    name = clean_filename(filename)
    raw_base = re.split(r"[/\\]", filename)[-1]
    if raw_base.rstrip(" .") != raw_base:
        raise UnsupportedFile(
            f"“{name}” has a name that ends with a dot or a space: "
            "rename it so that it ends with its extension, such as .docx or .pdf."
        )
    return name


def _format_from_name(name: str) -> str:
    ext = extension_of(name)
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    if ext in _MACRO_KINDS:
        raise UnsupportedFile(_macro_sentence(name, _MACRO_KINDS[ext]))
    if ext in _FLAT_ODF:
        raise UnsupportedFile(
            f"“{name}” is a flat (single XML) OpenDocument file: "
            f"save it as .{_FLAT_ODF[ext]} and share it again."
        )
    if not ext:
        raise UnsupportedFile(
            f"“{name}” has no extension, so we cannot tell what it is. We accept {ALLOWED_SUMMARY}."
        )
    raise UnsupportedFile(
        _(
            "“%(name)s” is a .%(ext)s file, which we do not accept. We accept %(ALLOWED_SUMMARY)s.",
            name=name,
            ext=ext,
            ALLOWED_SUMMARY=ALLOWED_SUMMARY,
        )
    )


def _macro_sentence(name: str, macro_free_ext: str) -> str:
    return (
        f"“{name}” contains macros, which we do not accept: "
        f"save it as .{macro_free_ext} without macros and share it again."
    )


def _mismatch_sentence(name: str, fmt: str, content: _Content) -> str:
    if content.kind == "empty":
        return _("“%(name)s” is empty: choose the saved file and share it again.", name=name)
    if content.kind == "damaged":
        return _(
            "“%(name)s” is damaged or incomplete: it cannot be opened as %(noun)s.",
            name=name,
            noun=_(ALLOWED[fmt].noun),
        )
    if _MACRO_KINDS.get(content.kind) in ALLOWED[fmt].sniffed:  # e.g. an .xlsm renamed .xlsx
        return _macro_sentence(name, fmt)
    return _(
        "“%(name)s” is not %(noun)s: its contents look like %(looks_like)s.",
        name=name,
        noun=_(ALLOWED[fmt].noun),
        looks_like=content.looks_like,
    )


def _sniff(path: Path) -> _Content:
    """What the bytes are, whatever the name says. Raises ``UnsafeContent`` for zip bombs."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head:
        return _Content("empty", "nothing at all")
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return _sniff_zip(path)
    if head.startswith(OLE_MAGIC):
        return _sniff_ole(path)
    if b"%PDF-" in head[:1024]:
        return _Content("pdf", "a PDF")
    if head.startswith(b"{\\rtf"):
        return _Content("rtf", "an RTF document")
    return _sniff_image(head) or _sniff_biff(head) or _sniff_text(head)


def _sniff_image(head: bytes) -> _Content | None:
    for magic, kind, looks_like in _IMAGE_MAGIC:
        if head.startswith(magic):
            return _Content(kind, looks_like)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _Content("webp", "a WebP image")
    return None


def _sniff_biff(head: bytes) -> _Content | None:
    if head[:2] in _BIFF_BOF and len(head) >= 8 and head[2:4] in (b"\x04\x00", b"\x06\x00"):
        return _Content("xls", "an old Excel workbook")
    return None


def _sniff_text(head: bytes) -> _Content:
    """Plain text, unless it is binary, a Git LFS placeholder or markup in disguise."""
    encoding = guess_text_encoding(head)
    if encoding is None:
        return _Content("binary", "binary data, not text")
    text = head.decode(encoding, "replace")
    if text.startswith("version https://git-lfs.github.com/spec/"):
        return _Content("lfs-pointer", "a Git LFS pointer (a placeholder, not the real file)")
    start = text[:1024].lower()
    for marker, looks_like in _MARKUP_MARKERS:
        if marker in start:
            return _Content("markup", looks_like)
    return _Content("text", "plain text")


def guess_text_encoding(sample: bytes) -> str | None:
    """The codec to read ``sample`` (the start of a file) with, or None if it is not text.

    A BOM decides; otherwise UTF-8 when it decodes, else charset-normalizer's best guess.
    NUL bytes only occur in text encoded as UTF-16/32, which must then carry a BOM.
    """
    for bom, codec in _BOMS:
        if sample.startswith(bom):
            return codec
    if b"\x00" in sample:
        return None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        return None
    # Bytes 0x80-0x9F are C1 controls in Latin-1 but quotes and dashes in Windows-1252.
    latin1 = codecs.lookup(best.encoding).name in ("latin-1", "iso8859-1")
    return "cp1252" if latin1 else best.encoding


def _sniff_ole(path: Path) -> _Content:
    """Old Office files (and password-protected new ones) are OLE2 containers."""
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            if ole.exists("WordDocument"):
                return _Content("doc", "a Word 97-2003 document")
            if ole.exists("Workbook") or ole.exists("Book"):
                return _Content("xls", "an Excel 97-2003 workbook")
            if ole.exists("PowerPoint Document"):
                return _Content("ppt", "a PowerPoint 97-2003 presentation")
            if ole.exists("EncryptedPackage"):
                return _Content(_OOXML_ENCRYPTED, "a password-protected Office file")
    except Exception:  # olefile raises many kinds of errors on damaged input
        return _Content("damaged", "a damaged file")
    return _Content("ole", "a different kind of Microsoft Office file")


def _sniff_zip(path: Path) -> _Content:
    try:
        with open_zip(path) as archive:
            check_zip_contents(archive)
            return _classify_zip(archive)
    except UnsafeContent:
        raise
    except Exception:  # zipfile, zlib and the XML parser each raise their own errors
        return _Content("damaged", "a damaged file")


def _classify_zip(archive: zipfile.ZipFile) -> _Content:
    names = set(archive.namelist())
    if "[Content_Types].xml" in names:
        kind = _ooxml_kind(read_member(archive, "[Content_Types].xml", 1024 * 1024))
        if kind:
            return _Content(kind, f"a .{kind} Office file")
        return _Content("ooxml-other", "a different kind of Office file")
    if "mimetype" in names:
        mimetype = read_member(archive, "mimetype", 256).decode("ascii", "replace").strip()
        if mimetype not in _ODF_MIMETYPES:
            return _Content("odf-other", "a different kind of OpenDocument file")
        kind, family = _ODF_MIMETYPES[mimetype]
        if _has_odf_macros(names):
            return _Content(f"{family}-macro", "an OpenDocument file with macros")
        return _Content(kind, f"an OpenDocument .{kind} file")
    if not names:
        return _Content("empty-zip", "an empty zip archive")
    return _Content("zip", "a zip archive")


def _ooxml_kind(content_types: bytes) -> str | None:
    from defusedxml import ElementTree

    root = ElementTree.fromstring(content_types)
    for element in root:
        kind = _OOXML_MAIN_TYPES.get(element.get("ContentType", "").strip())
        if kind:
            return kind
    return None


def _has_odf_macros(names: set[str]) -> bool:
    """LibreOffice keeps Basic modules under Basic/ and other scripts under Scripts/."""
    return any(n.startswith(("Basic/", "Scripts/")) and not n.endswith("/") for n in names)


# --------------------------------------------------------------------------- zip safety


def open_zip(source: Path | BinaryIO) -> zipfile.ZipFile:
    """The archive at ``source`` (a path or an open, seekable file), opened only after its
    central directory passed our limits.

    Raises ``UnsafeArchive`` (too many entries, too big, compressed too tightly) or
    ``zipfile.BadZipFile``. The entry count and directory size are read from the end
    record first, so an archive listing millions of entries is refused before Python
    builds that list.
    """
    if isinstance(source, Path):
        with source.open("rb") as fh:
            entries, directory_bytes = _declared_directory(fh)
    else:
        entries, directory_bytes = _declared_directory(source)
    if entries > ZIP_MAX_ENTRIES:
        raise UnsafeArchive(f"it holds more than {ZIP_MAX_ENTRIES:,} files")
    if directory_bytes > ZIP_MAX_DIRECTORY_BYTES:
        raise UnsafeArchive("its list of contents is far too long")
    archive = zipfile.ZipFile(source)
    try:
        check_zip_limits(archive.infolist())
    except UnsafeArchive:
        archive.close()
        raise
    return archive


def check_zip_limits(entries: list[zipfile.ZipInfo]) -> None:
    """Refuse what the directory declares: too many entries, too many bytes, bomb ratios."""
    if len(entries) > ZIP_MAX_ENTRIES:
        raise UnsafeArchive(f"it holds more than {ZIP_MAX_ENTRIES:,} files")
    unpacked = sum(e.file_size for e in entries)
    if unpacked > ZIP_MAX_UNPACKED_BYTES:
        limit_mb = ZIP_MAX_UNPACKED_BYTES // (1024 * 1024)
        raise UnsafeArchive(f"it would unpack to more than {limit_mb} MB")
    packed = sum(e.compress_size for e in entries)
    pairs = [(e.file_size, e.compress_size) for e in entries] + [(unpacked, packed)]
    if any(_too_tight(size, stored) for size, stored in pairs):
        raise UnsafeArchive("it is compressed too tightly to be a real document (a zip bomb)")


def _too_tight(size: int, stored: int) -> bool:
    return size > ZIP_RATIO_APPLIES_FROM and size > ZIP_MAX_RATIO * max(stored, 1)


def _declared_directory(fh: BinaryIO) -> tuple[int, int]:
    """(entries, central directory bytes) from the (Zip64) end-of-central-directory record;
    (0, 0) when there is none, which zipfile then reports as a bad zip."""
    size = fh.seek(0, os.SEEK_END)
    tail_size = min(size, 22 + 65535)
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    at = tail.rfind(EMPTY_ZIP_MAGIC)
    if at < 0 or at + 22 > len(tail):
        return 0, 0
    count, directory_bytes = struct.unpack_from("<HI", tail, at + 10)
    if count == 0xFFFF or directory_bytes == 0xFFFFFFFF:
        return _declared_zip64_directory(fh, tail, at) or (count, directory_bytes)
    return count, directory_bytes


def _declared_zip64_directory(fh: BinaryIO, tail: bytes, at: int) -> tuple[int, int] | None:
    """The Zip64 record the locator just before the end record points to, if present."""
    if at < 20 or tail[at - 20 : at - 16] != b"PK\x06\x07":
        return None
    (record_at,) = struct.unpack_from("<Q", tail, at - 12)
    fh.seek(record_at)
    record = fh.read(56)
    if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
        return None
    count, directory_bytes = struct.unpack_from("<QQ", record, 32)
    return count, directory_bytes


def read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """One entry's bytes, refusing entries that declare more than ``limit`` bytes.

    zipfile stops decompressing at the declared size, so the declaration is a real bound.
    """
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise UnsafeArchive(f"its part {name} is larger than {limit:,} bytes")
    with archive.open(info) as member:
        return member.read(limit)


class _Unpacking:
    """What a whole upload may still unpack, shared by the zips nested inside it."""

    def __init__(self) -> None:
        self.left = ZIP_MAX_UNPACKED_BYTES

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            limit_mb = ZIP_MAX_UNPACKED_BYTES // (1024 * 1024)
            raise UnsafeArchive(f"it would unpack to more than {limit_mb} MB")


def check_zip_contents(
    archive: zipfile.ZipFile, depth: int = 1, budget: _Unpacking | None = None
) -> None:
    """Unpack every part of an archive ``open_zip`` let through, with a cap, and refuse
    what its directory hid.

    zipfile stops at the size the directory declares, but Word, Excel or an unzip tool
    need not: a part that really holds more than declared is a bomb aimed at whoever
    downloads it. Pictures are measured, and zips inside (embedded documents) are checked
    the same way, to a limited depth, against one budget for the whole upload.
    """
    budget = budget or _Unpacking()
    _check_layout(archive)
    for info in archive.infolist():
        if not info.is_dir():
            _check_part(archive, info, depth, budget)


def _check_layout(archive: zipfile.ZipFile) -> None:
    """Parts must lie within the file, before the directory, without sharing bytes.

    The ratio limit trusts the declared compressed sizes; a directory that inflates them
    (or points several parts at the same bytes) would make that limit measure a lie.
    """
    entries = archive.infolist()
    data_end = archive.start_dir
    overlapping = sum(e.compress_size for e in entries) > data_end
    if overlapping or any(e.header_offset + e.compress_size > data_end for e in entries):
        raise UnsafeArchive("its list of contents does not match the parts it holds (a zip bomb)")


def _check_part(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, depth: int, budget: _Unpacking
) -> None:
    name = info.filename
    if info.flag_bits & 0x1:
        raise UnsafeArchive(f"its part {name} is password-protected, so it cannot be checked")
    if info.compress_type not in _ZIP_METHODS:
        raise UnsafeArchive(f"its part {name} is compressed in a way Office cannot open")
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as kept:
        head = _unpack_capped(archive, info, kept, budget)
        kept.seek(0)
        if head.startswith(ZIP_MAGIC):
            _check_nested(kept, depth, budget)
        elif _image_kind(head):
            check_image_size(kept, f"its picture {name}")


def _unpack_capped(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: BinaryIO, budget: _Unpacking
) -> bytes:
    """Unpack a part, reading at most one byte more than its declared size, and return its
    first bytes. Zips and pictures are copied to ``out`` to be looked into."""
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1
    probe.CRC = None  # the cut-off stream would fail the checksum before we could count
    size, head, keep = 0, b"", False
    with archive.open(probe) as member:
        while chunk := member.read(_UNZIP_CHUNK):
            if not head:
                head = chunk[:32]
                keep = head.startswith(ZIP_MAGIC) or _image_kind(head) is not None
            size += len(chunk)
            if size > info.file_size:
                raise UnsafeArchive(
                    f"its part {info.filename} unpacks to more than its list of contents "
                    "declares (a zip bomb)"
                )
            budget.spend(len(chunk))
            if keep:
                out.write(chunk)
    return head


def _check_nested(fh: BinaryIO, depth: int, budget: _Unpacking) -> None:
    if depth >= ZIP_MAX_NESTING:
        raise UnsafeArchive(f"it holds archives nested more than {ZIP_MAX_NESTING} deep")
    try:
        nested = open_zip(fh)
    except zipfile.BadZipFile:
        return  # not a readable zip: nothing inside it can be unpacked either
    with nested:
        check_zip_contents(nested, depth + 1, budget)


# --------------------------------------------------------------------------- picture sizes


def check_image_size(fh: BinaryIO, what: str = "it") -> None:
    """Refuse a picture whose header declares more than ``MAX_IMAGE_PIXELS`` pixels.

    Only the header is read: decoding is what the limit protects against.
    """
    size = image_dimensions(fh)
    if size and size[0] * size[1] > MAX_IMAGE_PIXELS:
        width, height = size
        raise TooManyPixels(
            f"{what} is {width:,} × {height:,} pixels, more than the "
            f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels a picture may have"
        )


def _image_kind(head: bytes) -> str | None:
    found = _sniff_image(head)
    return found.kind if found else None


def image_dimensions(fh: BinaryIO) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG, GIF or WebP header; None when it cannot be read."""
    head = fh.read(32)
    kind = _image_kind(head)
    if kind == "png" and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    if kind == "gif" and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if kind == "webp":
        return _webp_dimensions(head)
    if kind == "jpg":
        return _jpeg_dimensions(fh, head)
    return None


def _webp_dimensions(head: bytes) -> tuple[int, int] | None:
    chunk, data = head[12:16], head[20:32]
    if chunk == b"VP8X" and len(data) >= 10:
        width, height = int.from_bytes(data[4:7], "little"), int.from_bytes(data[7:10], "little")
        return width + 1, height + 1
    if chunk == b"VP8L" and len(data) >= 5 and data[0] == 0x2F:
        bits = int.from_bytes(data[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 10 and data[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[6:10])
        return width & 0x3FFF, height & 0x3FFF
    return None


# Start-of-frame markers (baseline, progressive, lossless, arithmetic...): not DHT, JPG, DAC.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, without a length: TEM, RST0-7, SOI.
_JPEG_BARE = frozenset({0x01, *range(0xD0, 0xD9)})


def _jpeg_dimensions(fh: BinaryIO, head: bytes) -> tuple[int, int] | None:
    """Walk the marker segments (skipping EXIF, ICC and the like) to the frame header."""
    buffered = io.BytesIO(head[2:])

    def read(count: int) -> bytes:
        got = buffered.read(count)
        return got + fh.read(count - len(got)) if len(got) < count else got

    while True:
        marker = read(2)
        while marker[1:] == b"\xff":  # fill bytes before a marker
            marker = marker[1:] + read(1)
        if len(marker) < 2 or marker[0] != 0xFF or marker[1] in (0xD9, 0xDA):
            return None  # damaged, or the image ended or its data began without a frame
        if marker[1] in _JPEG_BARE:
            continue
        length = read(2)
        if len(length) < 2:
            return None
        segment = read(struct.unpack(">H", length)[0] - 2)
        if marker[1] in _JPEG_FRAMES and len(segment) >= 5:
            height, width = struct.unpack(">HH", segment[1:5])
            return width, height


# --------------------------------------------------------------------------- rewriting


def rewrite_zip(
    archive: zipfile.ZipFile, dest: Path, replaced: dict[str, bytes], added: dict[str, bytes]
) -> None:
    """Write ``archive`` to ``dest`` with ``replaced`` parts swapped and ``added`` ones last.

    Every other entry is copied byte for byte, in order, streaming, keeping its name, date,
    compression and attributes (zipfile recomputes sizes and CRC), so a rewritten Office or
    OpenDocument file differs only in the parts that were meant to change.
    """
    with zipfile.ZipFile(dest, "w") as out:
        out.comment = archive.comment
        for info in archive.infolist():
            copy = _same_entry(info)
            if info.filename in replaced:
                out.writestr(copy, replaced[info.filename])
                continue
            with archive.open(info) as source, out.open(copy, "w") as target:
                shutil.copyfileobj(source, target, _UNZIP_CHUNK)
        for name, data in added.items():
            out.writestr(zipfile.ZipInfo(name, date_time=_ZIP_EPOCH), data, zipfile.ZIP_DEFLATED)


_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _same_entry(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    copy.compress_type = info.compress_type
    copy.create_system = info.create_system
    copy.external_attr = info.external_attr
    copy.comment = info.comment
    return copy
