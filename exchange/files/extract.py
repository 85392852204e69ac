"""File → plain text for search: the one call the rest of the code makes, :func:`extract`.

Shared files come from strangers, so :func:`extract` never parses in the web process: it
runs :func:`extract_text` in the limited child process (:mod:`.sandbox`: its own memory and
CPU limits, killed when the wall-clock budget runs out). Every failure becomes
``searchable=False`` with a reason a sharer can read (:mod:`.reasons`).

Given a :class:`~.ocr.ScanReading`, pictures and PDF pages without a text layer are read by
Tesseract in a limited child too (:mod:`.readers.scans`), within a time per page and a page
cap; only that child's wall-clock budget grows by the pages it may read. Text read from
scans is marked so (``source="ocr"``): search results say it was "read from a scan".

:func:`extract_text` (what the child runs) picks the format's reader (its ``reader`` in
:data:`.formats.ALLOWED`, looked up in :data:`.readers.READERS`; one module per family in
:mod:`.readers`), stops collecting text at :data:`MAX_TEXT_CHARS` and normalises it.

Run ``python -m exchange.files.extract FORMAT PATH [--ocr]`` to see what a file yields (JSON on
stdout).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .formats import ALLOWED, UnsafeArchive, formats_where
from .ocr import ScanReading
from .readers import READERS, Reader
from .readers.sink import MAX_TEXT_CHARS, RAW_TEXT_CHARS, TextSink
from .reasons import (
    DAMAGED,
    EMPTY,
    FAILED,
    IMAGE,
    NO_TEXT,
    SCANNED,
    TOO_LARGE,
    UNREADABLE_KIND,
    UNSAFE,
    ExtractionError,
)
from .sandbox import run_limited

log = logging.getLogger(__name__)

IMAGE_FORMATS = formats_where(lambda t: t.reader == "image")
# Drawing a page at 300 dpi, on top of the time Tesseract may take to read it.
RENDER_ALLOWANCE_S = 2
FROM_SCANS = "ocr"


@dataclass(frozen=True)
class Extraction:
    text: str
    searchable: bool
    reason: str
    source: str = ""  # FROM_SCANS when some of the text was read from scanned pages


def extract(
    path: Path,
    fmt: str,
    *,
    timeout_s: float = 20,
    memory_mb: int = 512,
    scans: ScanReading | None = None,
) -> Extraction:
    """The searchable text of ``path`` read as ``fmt``, parsed in a limited child process;
    with ``scans``, pictures and scanned PDF pages are read by Tesseract too.

    A file is first read as always, within ``timeout_s``; only one with scanned pages is
    read again with Tesseract, its budget grown by those pages' time (up to the page cap),
    so a PDF that merely hangs is stopped as soon as before. When reading the scans fails
    or finds nothing, the first reading (and its reason) stands.

    Never raises: a parser that fails, hangs or grows too big gives ``searchable=False``.
    """
    if fmt in IMAGE_FORMATS and scans is not None:
        return _in_child(path, fmt, timeout_s + page_budget_s(scans, 1), memory_mb, scans)[0]
    first, scanned_pages = _in_child(path, fmt, timeout_s, memory_mb)
    if scans is None or not (scanned_pages or first.reason == SCANNED):
        return first
    # A PDF said to be a scan has only scanned pages, as many as the cap allows at most.
    pages = min(scanned_pages or scans.page_limit, scans.page_limit)
    budget = timeout_s + page_budget_s(scans, pages)
    second = _in_child(path, fmt, budget, memory_mb, scans)[0]
    return second if second.searchable else first


def page_budget_s(scans: ScanReading, pages: int) -> float:
    """The wall-clock time reading ``pages`` scanned pages may add to a child's budget."""
    return pages * (scans.seconds_per_page + RENDER_ALLOWANCE_S)


def _in_child(
    path: Path, fmt: str, budget: float, memory_mb: int, scans: ScanReading | None = None
) -> tuple[Extraction, int]:
    """One reading in the limited child, and how many scanned pages it came across."""
    if fmt in IMAGE_FORMATS and scans is None:
        return Extraction("", False, IMAGE), 0
    if _reader_of(fmt) is None:
        return Extraction("", False, UNREADABLE_KIND), 0
    args = [fmt, str(Path(path).resolve()), scans.as_argument() if scans else ""]
    try:
        outcome = run_limited(_TEXT_TARGET, args, timeout_s=budget, memory_mb=memory_mb)
    except Exception:  # the promise is "never raises"; say so in the log instead
        log.exception("extracting %s as %s failed", path, fmt)
        return Extraction("", False, FAILED), 0
    if outcome.failure:
        return Extraction("", False, outcome.failure), 0
    text, pages_read_from_scans, scanned_pages = outcome.value
    source = FROM_SCANS if pages_read_from_scans else ""
    return Extraction(text, True, "", source), scanned_pages


def extract_text(path: Path, fmt: str, scans: ScanReading | None = None) -> str:
    """The normalised text of ``path`` read as ``fmt``, in this process and without limits
    (but Tesseract's time per page, when ``scans`` are read).

    Raises :class:`ExtractionError` when no meaningful text can be had, with the reason.
    """
    return _read(path, fmt, scans)[0]


def _read(path: Path, fmt: str, scans: ScanReading | None) -> tuple[str, int, int]:
    """The text, how many scanned pages gave some of it, and how many scanned pages (with
    pictures and no text layer) the file has."""
    parser = _reader_of(fmt)
    if parser is None:
        raise ExtractionError(UNREADABLE_KIND)
    if path.stat().st_size == 0:
        raise ExtractionError(EMPTY)
    sink = TextSink(RAW_TEXT_CHARS, scans)
    try:
        parser(path, sink)
    except TextSink.Full:
        pass
    except Exception as exc:
        raise ExtractionError(_reason_for(exc)) from exc
    text = normalise(sink.text())[:MAX_TEXT_CHARS]
    if not any(ch.isalnum() for ch in text):
        raise ExtractionError(NO_TEXT)
    return text, sink.pages_read_from_scans, sink.scanned_pages_seen


def _reader_of(fmt: str) -> Reader | None:
    file_type = ALLOWED.get(fmt)
    return READERS.get(file_type.reader) if file_type else None


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


def _text_in_child(fmt: str, path: str, scans: str = "") -> tuple[str, int, int]:
    return _read(Path(path), fmt, ScanReading.from_argument(scans))


_TEXT_TARGET = "exchange.files.extract:_text_in_child"


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


def _main(argv: Sequence[str]) -> int:
    """``python -m exchange.files.extract FORMAT PATH [--ocr]``: what the limited child would
    reply (with ``--ocr``, scans read in English, French and Spanish)."""
    ocr = "--ocr" in argv
    argv = [arg for arg in argv if arg != "--ocr"]
    if len(argv) != 2:
        print("usage: python -m exchange.files.extract FORMAT PATH [--ocr]", file=sys.stderr)
        return 2
    result = extract(Path(argv[1]), argv[0], scans=ScanReading() if ocr else None)
    json.dump(result.__dict__, sys.stdout, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
