"""File → plain text for search, read in a separate process with hard limits.

Shared files come from strangers, and parsers for Office, PDF and RTF are large C and
Python code bases that can be made to loop, recurse or allocate without end. So
:func:`extract` never parses in the web process: it starts a fresh Python (not a fork of a
threaded gunicorn worker), which caps its own memory and CPU time before importing any
parser, and the parent kills its whole process group when the wall-clock budget runs out.
Every failure becomes ``searchable=False`` with a reason a sharer can read.

:func:`extract_text` holds the parsers themselves (what the child runs). They read XML with
defusedxml only, open zips only through :func:`exchange.files.formats.open_zip` and stop adding
text at :data:`MAX_TEXT_CHARS`. Each imports only the library for its own format, so a
child stays quick to start.

Run ``python -m exchange.files.extract FORMAT PATH`` to see what a file yields (JSON on stdout).
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import posixpath
import re
import signal
import struct
import subprocess  # nosec B404: fixed argv, never a shell; the child is this module
import sys
import tempfile
import traceback
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

from .formats import (
    ALLOWED,
    OLE_MAGIC,
    UnsafeArchive,
    formats_where,
    guess_text_encoding,
    open_zip,
    read_member,
)

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 1_000_000
# Parsers stop a little past the cap: normalising whitespace shrinks the text.
_RAW_TEXT_CHARS = MAX_TEXT_CHARS * 6 // 5
_TEXT_FILE_BYTES = _RAW_TEXT_CHARS * 4
# Parts read whole (workbook, styles, relationships...) are small in any real document.
_SMALL_PART_BYTES = 20 * 1024 * 1024

# Reasons, written to follow "contents not searchable: ".
PASSWORD_PROTECTED = "it is password-protected"  # nosec B105: a reason, not a secret
SCANNED = "it is a scanned image with no text layer"
DAMAGED = "it is damaged or incomplete"
TOO_SLOW = "reading it took too long"
TOO_LARGE = "it is too large to read"
EMPTY = "it is empty"
NO_TEXT = "it has no text in it"
IMAGE = "it is an image"
UNSAFE = "it uses a feature we block for safety"
UNREADABLE_KIND = "it is a kind of file we cannot read"
FAILED = "it could not be read"
REASONS = frozenset(
    {
        PASSWORD_PROTECTED,
        SCANNED,
        DAMAGED,
        TOO_SLOW,
        TOO_LARGE,
        EMPTY,
        NO_TEXT,
        IMAGE,
        UNSAFE,
        UNREADABLE_KIND,
        FAILED,
    }
)

IMAGE_FORMATS = formats_where(lambda t: t.reader == "image")


@dataclass(frozen=True)
class Extraction:
    text: str
    searchable: bool
    reason: str


class ExtractionError(Exception):
    """An expected reason a file yields no text; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# =========================================================================== the public calls


def extract(path: Path, fmt: str, *, timeout_s: float = 20, memory_mb: int = 512) -> Extraction:
    """The searchable text of ``path`` read as ``fmt``, parsed in a limited child process.

    Never raises: a parser that fails, hangs or grows too big gives ``searchable=False``.
    """
    if fmt in IMAGE_FORMATS:
        return Extraction("", False, IMAGE)
    if _reader_of(fmt) is None:
        return Extraction("", False, UNREADABLE_KIND)
    try:
        outcome = run_limited(
            _TEXT_TARGET, [fmt, str(Path(path).resolve())], timeout_s=timeout_s, memory_mb=memory_mb
        )
    except Exception:  # the promise is "never raises"; say so in the log instead
        log.exception("extracting %s as %s failed", path, fmt)
        return Extraction("", False, FAILED)
    if outcome.failure:
        return Extraction("", False, outcome.failure)
    return Extraction(outcome.value, True, "")


def extract_text(path: Path, fmt: str) -> str:
    """The normalised text of ``path`` read as ``fmt``, in this process and without limits.

    Raises :class:`ExtractionError` when no meaningful text can be had, with the reason.
    """
    parser = _reader_of(fmt)
    if parser is None:
        raise ExtractionError(IMAGE if fmt in IMAGE_FORMATS else UNREADABLE_KIND)
    if path.stat().st_size == 0:
        raise ExtractionError(EMPTY)
    sink = TextSink(_RAW_TEXT_CHARS)
    try:
        parser(path, sink)
    except TextSink.Full:
        pass
    except Exception as exc:
        raise ExtractionError(_reason_for(exc)) from exc
    text = normalise(sink.text())[:MAX_TEXT_CHARS]
    if not any(ch.isalnum() for ch in text):
        raise ExtractionError(NO_TEXT)
    return text


def _reader_of(fmt: str) -> Callable[[Path, TextSink], None] | None:
    file_type = ALLOWED.get(fmt)
    return _READERS.get(file_type.reader) if file_type else None


def _reason_for(exc: Exception) -> str:
    """Map what a parser raised onto a reason; parsers of hostile input raise anything."""
    from defusedxml import DefusedXmlException

    if isinstance(exc, ExtractionError):
        return exc.reason
    if isinstance(exc, UnsafeArchive | MemoryError):
        return TOO_LARGE
    if isinstance(exc, DefusedXmlException):
        return UNSAFE
    return DAMAGED


def _text_in_child(fmt: str, path: str) -> str:
    return extract_text(Path(path), fmt)


_TEXT_TARGET = "exchange.files.extract:_text_in_child"


# =========================================================================== text handling


class TextSink:
    """Collects text and raises :class:`TextSink.Full` once enough is held.

    Raising lets a parser deep inside nested loops stop at once, so a huge spreadsheet costs
    no more time or memory than its first million characters.
    """

    class Full(Exception):
        """Enough text has been collected; the parser should stop."""

    def __init__(self, limit: int) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._limit = limit

    def add(self, text: str | None) -> None:
        if not text:
            return
        self._parts.append(text)
        self._size += len(text)
        if self._size >= self._limit:
            raise TextSink.Full

    def text(self) -> str:
        return "".join(self._parts)[: self._limit]


_LINE_BREAKS = str.maketrans({c: "\n" for c in "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})
_UNWANTED = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\xad\ud800-\udfff\ufeff\ufffe\uffff]")
_TAB_RUN = re.compile(r"[^\S\n]*\t[^\S\n]*")
_SPACE_RUN = re.compile(r"[^\S\n\t]+")
_LINE_EDGES = re.compile(r"[ \t]*\n[ \t]*")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise(text: str) -> str:
    """Plain text for the index: \\n and \\t the only controls, one space or tab per run,
    no lone surrogates (they cannot be stored as UTF-8), at most one blank line in a row."""
    text = text.replace("\r\n", "\n").translate(_LINE_BREAKS)
    text = _UNWANTED.sub("", text)
    text = _SPACE_RUN.sub(" ", _TAB_RUN.sub("\t", text))
    text = _LINE_EDGES.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


# =========================================================================== the limited child


@dataclass(frozen=True)
class ChildOutcome:
    """What a limited child returned: ``value``, or ``failure`` (a reason) when it failed."""

    value: Any = None
    failure: str = ""


_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # exchange/
# ``-P`` keeps the working directory off the front of sys.path; the package's parent goes
# at the end. Importing ``exchange`` loads no web stack, so the child starts quickly.
_CHILD_BOOTSTRAP = (
    "import os, sys\n"
    "sys.path.append(os.path.dirname(sys.argv[1]))\n"
    "from exchange.files.extract import child_main\n"
    "child_main(sys.argv[2:])\n"
)
_FILE_WRITE_LIMIT = 64 * 1024 * 1024
_ALARMING = frozenset({TOO_SLOW, TOO_LARGE, FAILED})
_STDERR_TAIL_BYTES = 4096


def run_limited(
    target: str, args: Sequence[str], *, timeout_s: float, memory_mb: int
) -> ChildOutcome:
    """Call ``module:function`` with string ``args`` in a fresh, limited Python process.

    The child caps its address space at ``memory_mb`` and its CPU time near ``timeout_s``
    before importing anything heavy; the parent kills the child's process group once
    ``timeout_s`` of wall-clock time has passed. The function's return value travels back
    as JSON; an :class:`ExtractionError` travels back as its reason.
    """
    cpu_seconds = math.ceil(timeout_s) + 1
    command = [sys.executable, "-P", "-c", _CHILD_BOOTSTRAP, str(_PACKAGE_DIR), target]
    command += [str(memory_mb), str(cpu_seconds), *args]
    with tempfile.TemporaryFile() as stderr:
        child = _start_child(command, stderr)
        try:
            stdout, _ = child.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            outcome = ChildOutcome(failure=TOO_SLOW)
        else:
            outcome = _read_outcome(child.returncode, stdout)
        if outcome.failure:
            # Locked or scanned files are ordinary; limits hit and crashes deserve a look.
            level = logging.WARNING if outcome.failure in _ALARMING else logging.INFO
            log.log(level, "%s %s: %s\n%s", target, args, outcome.failure, _tail(stderr))
        return outcome


def _start_child(command: list[str], stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    """A child in a session of its own, so that killing its group reaches its children.

    No ``preexec_fn``: that is unsafe in a threaded parent; the child limits itself.
    """
    return subprocess.Popen(  # nosec B603: our own interpreter and bootstrap, no shell
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        cwd=_PACKAGE_DIR.parent,
        start_new_session=True,
    )


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """Kill the child and anything it started, then reap it."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        child.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # something left the group and still holds the pipe
        child.kill()
        child.wait()


def _read_outcome(returncode: int, stdout: bytes) -> ChildOutcome:
    if returncode == -signal.SIGXCPU:
        return ChildOutcome(failure=TOO_SLOW)
    if returncode == -signal.SIGKILL:  # the kernel's last resort when memory runs out
        return ChildOutcome(failure=TOO_LARGE)
    try:
        reply = json.loads(stdout)
    except ValueError:
        return ChildOutcome(failure=FAILED)
    if not isinstance(reply, dict) or not ("value" in reply or reply.get("error") in REASONS):
        return ChildOutcome(failure=FAILED)
    return ChildOutcome(value=reply.get("value"), failure=reply.get("error", ""))


def _tail(stream: IO[bytes]) -> str:
    size = stream.seek(0, os.SEEK_END)
    stream.seek(max(0, size - _STDERR_TAIL_BYTES))
    return stream.read().decode("utf-8", "replace")


def child_main(argv: Sequence[str]) -> None:
    """The child side of :func:`run_limited`: limit, call, reply with one JSON object.

    Libraries that print (xlrd does) would corrupt the reply, so stdout is pointed at
    stderr for the duration and the reply goes to a private copy of the original stdout.
    """
    target, memory_mb, cpu_seconds, *args = argv
    _limit_self(int(memory_mb), int(cpu_seconds))
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    reply = _call(target, args)
    with os.fdopen(reply_fd, "w", encoding="utf-8") as out:
        json.dump(reply, out, ensure_ascii=False)


def _limit_self(memory_mb: int, cpu_seconds: int) -> None:
    import resource

    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (_FILE_WRITE_LIMIT, _FILE_WRITE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _call(target: str, args: Sequence[str]) -> dict[str, Any]:
    try:
        module_name, function_name = target.split(":")
        function = getattr(importlib.import_module(module_name), function_name)
        return {"value": function(*args)}
    except ExtractionError as exc:
        return {"error": exc.reason}
    except MemoryError:
        return {"error": TOO_LARGE}
    except Exception:
        traceback.print_exc()
        return {"error": FAILED}


# =========================================================================== XML helpers


def _local(tag: str) -> str:
    """``{namespace}name`` -> ``name``: transitional and Strict OOXML differ only in URIs."""
    return tag.rpartition("}")[2]


def _iterparse(stream: IO[bytes], events: tuple[str, ...] = ("end",)) -> Iterator[Any]:
    """Streaming, defused XML: no entity expansion, no external entities or DTD fetching."""
    from defusedxml.ElementTree import iterparse

    return iterparse(stream, events=events)


def _markup_text(stream: IO[bytes], sink: TextSink) -> None:
    """Text of a WordprocessingML or DrawingML part: body, tables, text boxes, SmartArt,
    chart titles and labels. Field instructions (w:instrText) and deleted text are not
    text, and the mc:Fallback copy of a text box would only repeat it."""
    skipping = 0
    in_strings = 0
    for event, elem in _iterparse(stream, ("start", "end")):
        name = _local(elem.tag)
        step = 1 if event == "start" else -1
        if name == "Fallback":
            skipping += step
        elif name == "strCache":
            in_strings += step
        if event == "start" or skipping:
            continue
        if name == "t" or (name == "v" and in_strings):
            sink.add(elem.text)
        elif name in ("p", "br", "cr", "pt"):
            sink.add("\n")
        elif name == "tab":
            sink.add("\t")
        if name in ("p", "pt", "r"):
            elem.clear()


def _relationships(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(id, type, target part) for the internal relationships of ``part``."""
    folder, _, base = part.rpartition("/")
    rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
    if rels_name not in archive.NameToInfo:
        return []
    from defusedxml.ElementTree import fromstring

    root = fromstring(read_member(archive, rels_name, _SMALL_PART_BYTES))
    return [
        (rel.get("Id", ""), rel.get("Type", ""), _resolve(folder, rel.get("Target", "")))
        for rel in root
        if rel.get("TargetMode") != "External" and rel.get("Target")
    ]


def _resolve(folder: str, target: str) -> str:
    """A relationship target as a zip entry name: absolute from the package root, or
    relative to the folder of the part that refers to it."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))


def _related(archive: zipfile.ZipFile, part: str, type_suffix: str) -> list[str]:
    return [t for _, kind, t in _relationships(archive, part) if kind.endswith(type_suffix)]


def _main_part(archive: zipfile.ZipFile, default: str) -> str:
    """The package's main part, found the way Office finds it: through ``_rels/.rels``."""
    found = [p for p in _related(archive, "", "/officeDocument") if p in archive.NameToInfo]
    return found[0] if found else default


def _natural_key(name: str) -> list[Any]:
    return [int(piece) if piece.isdecimal() else piece for piece in re.split(r"(\d+)", name)]


def _parts_matching(archive: zipfile.ZipFile, pattern: str) -> list[str]:
    regex = re.compile(pattern)
    return sorted((n for n in archive.namelist() if regex.fullmatch(n)), key=_natural_key)


def _open_package(path: Path) -> zipfile.ZipFile:
    """The zip behind an Office or OpenDocument file, after the shared zip limits.

    A password-protected Office file is not a zip at all but an OLE container holding an
    ``EncryptedPackage`` stream.
    """
    with path.open("rb") as fh:
        if fh.read(8) == OLE_MAGIC:
            raise ExtractionError(PASSWORD_PROTECTED if _ole_encrypted(path) else DAMAGED)
    return open_zip(path)


def _ole_encrypted(path: Path) -> bool:
    import olefile

    with olefile.OleFileIO(str(path)) as ole:
        return bool(ole.exists("EncryptedPackage"))


def _walk_parts(archive: zipfile.ZipFile, parts: Iterable[str], sink: TextSink) -> None:
    for part in parts:
        if part in archive.NameToInfo:
            with archive.open(part) as stream:
                _markup_text(stream, sink)
            sink.add("\n")


def _folder_pattern(part: str) -> str:
    folder = posixpath.dirname(part)
    return f"{re.escape(folder)}/" if folder else ""


# =========================================================================== Word (docx, dotx)


def _docx_text(path: Path, sink: TextSink) -> None:
    """Body, headers/footers, notes, comments, charts and SmartArt, then altChunk pages."""
    with _open_package(path) as archive:
        main = _main_part(archive, "word/document.xml")
        prefix = _folder_pattern(main)
        stories = _parts_matching(
            archive, prefix + r"(header\d*|footer\d*|footnotes|endnotes|comments)\.xml"
        )
        visuals = _parts_matching(archive, prefix + r"(charts/chart|diagrams/data)\d*\.xml")
        _walk_parts(archive, [main, *stories, *visuals], sink)
        for chunk in _related(archive, main, "/aFChunk"):
            if chunk.lower().endswith((".htm", ".html", ".xhtml")):
                _html_text(read_member(archive, chunk, _SMALL_PART_BYTES), sink)


_HTML_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6"})


class _VisibleText(HTMLParser):
    """Visible text of an HTML page; the stdlib parser expands no custom entities."""

    def __init__(self, sink: TextSink) -> None:
        super().__init__(convert_charrefs=True)
        self.sink = sink
        self.hidden = 0  # depth inside <script> and <style>

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        elif tag in _HTML_BLOCKS:
            self.sink.add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.sink.add(data)


def _html_text(data: bytes, sink: TextSink) -> None:
    parser = _VisibleText(sink)
    parser.feed(data.decode(guess_text_encoding(data[:65536]) or "utf-8", "replace"))
    parser.close()


# =========================================================================== Excel (xlsx, xltx)

# Built-in number formats that show dates or times.
_DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_EXCEL_EPOCHS = {False: datetime(1899, 12, 30), True: datetime(1904, 1, 1)}


@dataclass(frozen=True)
class _Workbook:
    """What cells need to be read as text: shared strings, date styles, the date system."""

    sheets: list[tuple[str, str]]
    strings: list[str]
    date_styles: frozenset[int]
    epoch: datetime

    def cell_text(self, cell: Any) -> str:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = [child for child in cell if _local(child.tag) == "is"]
            return _rich_text(inline[0]) if inline else ""
        value = next((child.text for child in cell if _local(child.tag) == "v"), None)
        if value is None:
            return ""
        if kind == "s":
            index = _int(value, -1)
            return self.strings[index] if 0 <= index < len(self.strings) else ""
        if kind == "b":
            return "TRUE" if value.strip() == "1" else "FALSE"
        if kind in ("str", "e", "d"):
            return value
        return self._number_text(value, _int(cell.get("s"), 0))

    def _number_text(self, value: str, style: int) -> str:
        try:
            number = float(value)
        except ValueError:
            return value
        if style in self.date_styles and 0 <= number < 2958466:
            return _excel_date(number, self.epoch)
        return format(number, ".15g")


def _excel_date(serial: float, epoch: datetime) -> str:
    moment = epoch + timedelta(seconds=round(serial * 86400))
    if serial < 1:
        return moment.time().isoformat()
    if serial.is_integer():
        return moment.date().isoformat()
    return moment.isoformat(sep=" ")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _rich_text(element: Any) -> str:
    """Text of an <si> or <is>: plain and run text, without phonetic readings (<rPh>)."""
    parts = []
    for child in element:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _xlsx_text(path: Path, sink: TextSink) -> None:
    """Every sheet in workbook order (name, then rows), then drawings, charts and comments."""
    with _open_package(path) as archive:
        workbook_part = _main_part(archive, "xl/workbook.xml")
        book = _read_workbook(archive, workbook_part)
        for name, part in book.sheets:
            sink.add(f"{name}\n")
            if part in archive.NameToInfo:
                with archive.open(part) as stream:
                    _sheet_text(stream, book, sink)
        pattern = (
            _folder_pattern(workbook_part) + r"(drawings/drawing|charts/chart|comments)\d*\.xml"
        )
        _walk_parts(archive, _parts_matching(archive, pattern), sink)


def _sheet_text(stream: IO[bytes], book: _Workbook, sink: TextSink) -> None:
    row: list[str] = []
    for _, elem in _iterparse(stream):
        name = _local(elem.tag)
        if name == "c":
            row.append(book.cell_text(elem))
            elem.clear()
        elif name == "row":
            sink.add("\t".join(row).rstrip("\t") + "\n")
            row = []
            elem.clear()


def _read_workbook(archive: zipfile.ZipFile, part: str) -> _Workbook:
    from defusedxml.ElementTree import fromstring

    root = fromstring(read_member(archive, part, _SMALL_PART_BYTES))
    relations = {rid: (kind, target) for rid, kind, target in _relationships(archive, part)}
    sheets = _listed_sheets(root, relations) or [
        ("", p) for p in _parts_matching(archive, r"xl/worksheets/sheet\d+\.xml")
    ]
    settings = next((e for e in root.iter() if _local(e.tag) == "workbookPr"), None)
    date1904 = settings is not None and settings.get("date1904", "").lower() in ("1", "true")
    by_kind = {kind.rpartition("/")[2]: target for kind, target in relations.values()}
    return _Workbook(
        sheets=sheets,
        strings=_shared_strings(archive, by_kind.get("sharedStrings")),
        date_styles=_date_styles(archive, by_kind.get("styles")),
        epoch=_EXCEL_EPOCHS[date1904],
    )


def _listed_sheets(root: Any, relations: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    """(name, part) of each worksheet in the workbook's own order (chart sheets skipped)."""
    sheets = []
    for elem in (e for e in root.iter() if _local(e.tag) == "sheet"):
        kind, target = relations.get(_relationship_id(elem), ("", ""))
        if kind.endswith("/worksheet"):
            sheets.append((elem.get("name", ""), target))
    return sheets


def _relationship_id(elem: Any) -> str:
    """The r:id attribute, whichever namespace (transitional or Strict) it is in."""
    return next((v for k, v in elem.attrib.items() if k.endswith("}id")), "")


def _shared_strings(archive: zipfile.ZipFile, part: str | None) -> list[str]:
    strings: list[str] = []
    if part and part in archive.NameToInfo:
        with archive.open(part) as stream:
            for _, elem in _iterparse(stream):
                if _local(elem.tag) == "si":
                    strings.append(_rich_text(elem))
                    elem.clear()
    return strings


def _date_styles(archive: zipfile.ZipFile, part: str | None) -> frozenset[int]:
    """Indexes of cell styles whose number format shows a date or time."""
    if not part or part not in archive.NameToInfo:
        return frozenset()
    from defusedxml.ElementTree import fromstring

    root = fromstring(read_member(archive, part, _SMALL_PART_BYTES))
    custom = {
        _int(e.get("numFmtId"), -1): e.get("formatCode", "")
        for e in root.iter()
        if _local(e.tag) == "numFmt"
    }
    cell_formats = next((e for e in root.iter() if _local(e.tag) == "cellXfs"), [])
    formats = [_int(xf.get("numFmtId"), 0) for xf in cell_formats if _local(xf.tag) == "xf"]
    return frozenset(i for i, fmt in enumerate(formats) if _is_date_format(fmt, custom.get(fmt)))


def _is_date_format(format_id: int, code: str | None) -> bool:
    if code is None:
        return format_id in _DATE_FORMAT_IDS
    return re.search(r"[dmyhs]", _FORMAT_LITERALS.sub("", code), re.IGNORECASE) is not None


# =========================================================================== PowerPoint (pptx)


def _pptx_text(path: Path, sink: TextSink) -> None:
    """Slides in show order, each followed by its notes, SmartArt and charts; then footers
    set on the masters and layouts."""
    with _open_package(path) as archive:
        presentation = _main_part(archive, "ppt/presentation.xml")
        for slide in _slides_in_order(archive, presentation):
            extras = [
                target
                for _, kind, target in _relationships(archive, slide)
                if kind.endswith(("/notesSlide", "/diagramData", "/chart"))
            ]
            _walk_parts(archive, [slide, *extras], sink)
        for footer in _master_footers(archive):
            sink.add(f"{footer}\n")


def _slides_in_order(archive: zipfile.ZipFile, presentation: str) -> list[str]:
    """Slides as listed in the presentation, then any slide part it does not list."""
    from defusedxml.ElementTree import fromstring

    ordered: list[str] = []
    if presentation in archive.NameToInfo:
        root = fromstring(read_member(archive, presentation, _SMALL_PART_BYTES))
        targets = {rid: t for rid, kind, t in _relationships(archive, presentation)}
        for elem in (e for e in root.iter() if _local(e.tag) == "sldId"):
            target = targets.get(_relationship_id(elem), "")
            if target in archive.NameToInfo:
                ordered.append(target)
    pattern = _folder_pattern(presentation) + r"slides/slide\d+\.xml"
    unlisted = [p for p in _parts_matching(archive, pattern) if p not in ordered]
    return list(dict.fromkeys(ordered)) + unlisted


def _master_footers(archive: zipfile.ZipFile) -> list[str]:
    """Footer placeholder text from masters and layouts (not their prompt text)."""
    from defusedxml.ElementTree import fromstring

    footers: dict[str, None] = {}
    pattern = r"ppt/(slideMasters/slideMaster|slideLayouts/slideLayout)\d+\.xml"
    for part in _parts_matching(archive, pattern):
        root = fromstring(read_member(archive, part, _SMALL_PART_BYTES))
        for shape in (e for e in root.iter() if _local(e.tag) == "sp"):
            if any(_local(e.tag) == "ph" and e.get("type") == "ftr" for e in shape.iter()):
                text = "".join(e.text or "" for e in shape.iter() if _local(e.tag) == "t")
                footers.setdefault(text.strip())
    return [text for text in footers if text]


# =========================================================================== OpenDocument

_ODF_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def _odf_text(path: Path, sink: TextSink) -> None:
    """content.xml paragraphs and headings, then header/footer text from styles.xml."""
    with _open_package(path) as archive:
        if _odf_encrypted(archive):
            raise ExtractionError(PASSWORD_PROTECTED)
        if "content.xml" not in archive.NameToInfo:
            raise ExtractionError(DAMAGED)
        with archive.open("content.xml") as stream:
            for _, elem in _iterparse(stream):
                if _local(elem.tag) in ("p", "h"):
                    sink.add(_odf_paragraph(elem) + "\n")
                    elem.clear()
        if "styles.xml" in archive.NameToInfo:
            _odf_master_pages(read_member(archive, "styles.xml", _SMALL_PART_BYTES), sink)


def _odf_encrypted(archive: zipfile.ZipFile) -> bool:
    if "META-INF/manifest.xml" not in archive.NameToInfo:
        return False
    from defusedxml.ElementTree import fromstring

    root = fromstring(read_member(archive, "META-INF/manifest.xml", _SMALL_PART_BYTES))
    return any(_local(e.tag) == "encryption-data" for e in root.iter())


def _odf_master_pages(styles: bytes, sink: TextSink) -> None:
    from defusedxml.ElementTree import fromstring

    for page in (e for e in fromstring(styles).iter() if _local(e.tag) == "master-page"):
        for paragraph in (e for e in page.iter() if _local(e.tag) in ("p", "h")):
            sink.add(_odf_paragraph(paragraph) + "\n")


def _odf_paragraph(elem: Any) -> str:
    """A paragraph's text with its spaces, tabs and line breaks; nested paragraphs (in text
    boxes, notes) are read on their own."""
    parts = [elem.text or ""]
    for child in elem:
        name = _local(child.tag)
        if name == "s":
            parts.append(" " * min(_int(child.get(f"{{{_ODF_TEXT_NS}}}c"), 1), 100))
        elif name == "tab":
            parts.append("\t")
        elif name == "line-break":
            parts.append("\n")
        elif name not in ("p", "h"):
            parts.append(_odf_paragraph(child))
        parts.append(child.tail or "")
    return "".join(parts)


# =========================================================================== PDF


def _pdf_text(path: Path, sink: TextSink) -> None:
    """Each page's text layer, pages separated by newlines. PDFs that open with the empty
    password (owner-password-only ones) are read; others are password-protected."""
    import pypdfium2 as pdfium

    if _rights_managed(path):
        raise ExtractionError(PASSWORD_PROTECTED)
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        locked = getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD
        raise ExtractionError(PASSWORD_PROTECTED if locked else DAMAGED) from exc
    try:
        _pdf_pages(pdf, sink)
        _xfa_form_values(pdf, sink)
    finally:
        pdf.close()


def _pdf_pages(pdf: Any, sink: TextSink) -> None:
    import pypdfium2 as pdfium

    has_text = has_images = False
    for index in range(len(pdf)):
        try:
            text, images = _pdf_page(pdf, index, look_for_images=not (has_text or has_images))
        except pdfium.PdfiumError:
            continue  # one bad page does not spoil the rest
        has_text = has_text or any(ch.isalnum() for ch in text)
        has_images = has_images or images
        sink.add(text)
        sink.add("\n")
    if has_images and not has_text:
        raise ExtractionError(SCANNED)


def _pdf_page(pdf: Any, index: int, *, look_for_images: bool) -> tuple[str, bool]:
    import pypdfium2 as pdfium

    page = pdf[index]
    try:
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        textpage.close()
        image_filter = (pdfium.raw.FPDF_PAGEOBJ_IMAGE,)
        images = look_for_images and any(page.get_objects(filter=image_filter, max_depth=3))
        return text, images
    finally:
        page.close()


def _xfa_form_values(pdf: Any, sink: TextSink) -> None:
    """What was typed into an XFA form lives in its "datasets" packet, not on the page."""
    import pypdfium2.raw as pdfium_c
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    for index in range(pdfium_c.FPDF_GetXFAPacketCount(pdf.raw)):
        if _xfa_packet(pdf, index, name_only=True) != b"datasets":
            continue
        try:
            root = fromstring(_xfa_packet(pdf, index))
        except (ParseError, DefusedXmlException):
            return  # a broken or hostile form leaves the page text as good as it was
        for elem in root.iter():
            if len(elem) == 0 and elem.text and elem.text.strip():
                sink.add(elem.text.strip() + "\n")


def _xfa_packet(pdf: Any, index: int, *, name_only: bool = False) -> bytes:
    """One XFA packet's name or content (at most 20 MB of it), through pdfium's C API."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    if name_only:
        size = pdfium_c.FPDF_GetXFAPacketName(pdf.raw, index, None, 0)
        name = ctypes.create_string_buffer(size)
        pdfium_c.FPDF_GetXFAPacketName(pdf.raw, index, name, size)
        return name.value
    size = ctypes.c_ulong(0)
    pdfium_c.FPDF_GetXFAPacketContent(pdf.raw, index, None, 0, ctypes.byref(size))
    content = ctypes.create_string_buffer(min(size.value, _SMALL_PART_BYTES))
    pdfium_c.FPDF_GetXFAPacketContent(pdf.raw, index, content, len(content), ctypes.byref(size))
    return content.raw[: min(size.value, len(content))]


def _rights_managed(path: Path) -> bool:
    """An "unencrypted wrapper" PDF (Microsoft IRM and PDF 2.0) shows only a notice; the
    real document is an encrypted attachment."""
    import mmap

    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(b"/EncryptedPayload") >= 0


# =========================================================================== RTF and plain text


def _rtf_text(path: Path, sink: TextSink) -> None:
    """RTF through striprtf, in the document's own ANSI code page (\\ansicpgN)."""
    from striprtf.striprtf import rtf_to_text

    raw = path.read_bytes()
    declared = re.search(rb"\\ansicpg(\d{3,5})", raw[:8192])
    encoding = _known_codec(f"cp{declared.group(1).decode()}" if declared else "cp1252")
    sink.add(rtf_to_text(raw.decode(encoding, "replace"), encoding=encoding, errors="replace"))


def _known_codec(name: str) -> str:
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        return "cp1252"


def _plain_text(path: Path, sink: TextSink) -> None:
    """txt, csv and md: BOM, then UTF-8, then charset-normalizer's best guess."""
    with path.open("rb") as fh:
        data = fh.read(_TEXT_FILE_BYTES)
    encoding = guess_text_encoding(data[: 256 * 1024])
    if encoding is None:
        raise ExtractionError(UNREADABLE_KIND)
    sink.add(data.decode(encoding, "replace"))


# =========================================================================== legacy Office (OLE)


def _ole_stream(path: Path, *names: str) -> tuple[bytes, dict[str, bytes]]:
    """The first stream of ``names`` found, plus every other named stream present."""
    import olefile

    with olefile.OleFileIO(str(path)) as ole:
        found = {name: ole.openstream(name).read() for name in names if ole.exists(name)}
    if not found or names[0] not in found:
        raise ExtractionError(DAMAGED)
    return found[names[0]], found


def _doc_text(path: Path, sink: TextSink) -> None:
    """Word 97-2003 (and Word 6/95) text through the FIB and the piece table."""
    word, streams = _ole_stream(path, "WordDocument", "0Table", "1Table")
    fib = _WordFib.read(word)
    if fib.encrypted:
        raise ExtractionError(PASSWORD_PROTECTED)
    table = streams.get(fib.table_stream, b"") if fib.table_stream else word
    sink.add(_word_visible_text(fib.text(word, table)))


@dataclass(frozen=True)
class _WordFib:
    """The few File Information Block fields text extraction needs ([MS-DOC] 2.5)."""

    encrypted: bool
    table_stream: str  # "" for Word 6/95, whose piece table lives in WordDocument
    text_start: int  # Word 6/95 without a piece table: bytes [text_start, text_end)
    text_end: int
    clx_at: int
    clx_size: int
    eight_bit: bool

    @classmethod
    def read(cls, word: bytes) -> _WordFib:
        if len(word) < 0x200:
            raise ExtractionError(DAMAGED)
        ident, nfib = struct.unpack_from("<HH", word, 0)
        (flags,) = struct.unpack_from("<H", word, 0x0A)
        encrypted, complex_file = bool(flags & 0x0100), bool(flags & 0x0004)
        if ident == 0xA5EC and nfib >= 0xC1:
            clx_at, clx_size = _fib97_clx(word)
            table = "1Table" if flags & 0x0200 else "0Table"
            return cls(encrypted, table, 0, 0, clx_at, clx_size, eight_bit=False)
        if ident in (0xA5DC, 0xA5EC) and 101 <= nfib < 0xC1:
            start, end = struct.unpack_from("<II", word, 0x18)
            clx_at, clx_size = struct.unpack_from("<II", word, 0x160)
            if not complex_file:
                clx_size = 0
            return cls(encrypted, "", start, end, clx_at, clx_size, eight_bit=True)
        raise ExtractionError(UNREADABLE_KIND)

    def text(self, word: bytes, table: bytes) -> str:
        """The document's characters, pieces in order, stopping once there are enough
        (pieces may overlap, so a small file can describe a huge text)."""
        if not self.clx_size:
            return word[self.text_start : self.text_end].decode("cp1252", "replace")
        clx = table[self.clx_at : self.clx_at + self.clx_size]
        pieces, size = [], 0
        for length, fc_field in _word_pieces(clx):
            pieces.append(self._piece(word, length, fc_field))
            size += len(pieces[-1])
            if size >= _RAW_TEXT_CHARS:
                break
        return "".join(pieces)

    def _piece(self, word: bytes, length: int, fc_field: int) -> str:
        start = fc_field & 0x3FFFFFFF
        if self.eight_bit:
            return word[start : start + length].decode("cp1252", "replace")
        if fc_field & 0x40000000:  # "compressed": 8-bit text at half the offset
            return word[start // 2 : start // 2 + length].decode("cp1252", "replace")
        return word[start : start + 2 * length].decode("utf-16-le", "replace")


def _fib97_clx(word: bytes) -> tuple[int, int]:
    """fcClx/lcbClx: pair 33 of FibRgFcLcb, found past the variable-length FIB arrays."""
    (words,) = struct.unpack_from("<H", word, 0x20)
    longs_at = 0x22 + 2 * words
    (longs,) = struct.unpack_from("<H", word, longs_at)
    pairs_at = longs_at + 2 + 4 * longs + 2
    return struct.unpack_from("<II", word, pairs_at + 33 * 8)


def _word_pieces(clx: bytes) -> Iterator[tuple[int, int]]:
    """(character count, fc field) of each piece in the Clx's piece table."""
    at = 0
    while at < len(clx) and clx[at] == 0x01:  # Prc: formatting we do not need
        (size,) = struct.unpack_from("<H", clx, at + 1)
        at += 3 + size
    if at + 5 > len(clx) or clx[at] != 0x02:
        raise ExtractionError(DAMAGED)
    (size,) = struct.unpack_from("<I", clx, at + 1)
    table = clx[at + 5 : at + 5 + size]
    count = (len(table) - 4) // 12
    positions = struct.unpack_from(f"<{count + 1}I", table, 0)
    for index in range(count):
        (fc_field,) = struct.unpack_from("<I", table, 4 * (count + 1) + 8 * index + 2)
        yield max(0, positions[index + 1] - positions[index]), fc_field


_WORD_FIELD_MARKS = re.compile("([\x13\x14\x15])")
_WORD_SPECIALS = str.maketrans({"\r": "\n", "\x07": "\t", "\x0b": "\n", "\x0c": "\n", "\x1e": "-"})


def _word_visible_text(text: str) -> str:
    """Drop field instructions ({ HYPERLINK ... }, { TOC \\o }) but keep field results."""
    shown, fields = [], []  # fields: True while in a field's instruction part
    for run in _WORD_FIELD_MARKS.split(text):
        if run == "\x13":
            fields.append(True)
        elif run == "\x14" and fields:
            fields[-1] = False
        elif run == "\x15" and fields:
            fields.pop()
        elif run not in ("\x14", "\x15") and not any(fields):
            shown.append(run)
    return "".join(shown).translate(_WORD_SPECIALS)


def _xls_text(path: Path, sink: TextSink) -> None:
    """Excel 2-2003 workbooks through xlrd: each sheet's name, then its rows."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), logfile=sys.stderr, verbosity=0)
    except xlrd.XLRDError as exc:
        reason = PASSWORD_PROTECTED if "encrypt" in str(exc).lower() else DAMAGED
        raise ExtractionError(reason) from exc
    for sheet in book.sheets():
        sink.add(f"{sheet.name}\n")
        for index in range(sheet.nrows):
            cells = [_xls_cell_text(cell, book.datemode) for cell in sheet.row(index)]
            sink.add("\t".join(cells).rstrip("\t") + "\n")


def _xls_cell_text(cell: Any, datemode: int) -> str:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_TEXT:
        return cell.value
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return format(cell.value, ".15g")
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, datemode).isoformat(sep=" ")
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return format(cell.value, ".15g")
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    return ""


# PowerPoint 97-2003 record types ([MS-PPT] 2.13.24).
_PPT_TEXT_CHARS = 0x0FA0  # UTF-16
_PPT_TEXT_BYTES = 0x0FA8  # 8-bit
_PPT_NOTES = 0x03F0
_PPT_NOTES_ATOM = 0x03F1
# Masters and handouts hold the template's prompts ("Click to edit Master text styles").
_PPT_TEMPLATES = frozenset({0x03F8, 0x0FC9})


def _ppt_text(path: Path, sink: TextSink) -> None:
    """Text atoms of slides, notes and shapes, found by walking the record tree."""
    document, streams = _ole_stream(path, "PowerPoint Document", "EncryptedSummary")
    if "EncryptedSummary" in streams:
        raise ExtractionError(PASSWORD_PROTECTED)
    for text in _ppt_text_atoms(document):
        sink.add(text + "\n")


def _ppt_text_atoms(data: bytes) -> Iterator[str]:
    at = 0
    while at + 8 <= len(data):
        version_instance, kind, length = struct.unpack_from("<HHI", data, at)
        at += 8
        is_container = version_instance & 0x000F == 0x000F
        if is_container and not _ppt_template(data, at, kind):
            continue  # walk into it
        body = data[at : at + length]
        at += length
        if kind == _PPT_TEXT_CHARS:
            yield body.decode("utf-16-le", "replace")
        elif kind == _PPT_TEXT_BYTES:
            yield body.decode("cp1252", "replace")


def _ppt_template(data: bytes, at: int, kind: int) -> bool:
    """Masters, handouts, and the notes master: a notes container whose NotesAtom points at
    no slide (slideIdRef 0) or at a master (ids from 0x80000000; slides are below)."""
    if kind in _PPT_TEMPLATES:
        return True
    if kind != _PPT_NOTES or at + 12 > len(data):
        return False
    _, child_kind, _, slide_ref = struct.unpack_from("<HHII", data, at)
    return child_kind == _PPT_NOTES_ATOM and (slide_ref == 0 or slide_ref >= 0x80000000)


# =========================================================================== format table

# Each format's ``reader`` (see :data:`.formats.ALLOWED`) -> the function that reads it.
_READERS: dict[str, Callable[[Path, TextSink], None]] = {
    "word": _docx_text,
    "sheet": _xlsx_text,
    "slides": _pptx_text,
    "odf": _odf_text,
    "pdf": _pdf_text,
    "rtf": _rtf_text,
    "text": _plain_text,
    "legacy-word": _doc_text,
    "legacy-sheet": _xls_text,
    "legacy-slides": _ppt_text,
}


def _main(argv: Sequence[str]) -> int:
    """``python -m exchange.files.extract FORMAT PATH``: what the limited child would reply."""
    if len(argv) != 2:
        print("usage: python -m exchange.files.extract FORMAT PATH", file=sys.stderr)
        return 2
    result = extract(Path(argv[1]), argv[0])
    json.dump(result.__dict__, sys.stdout, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
