"""Office 97-2003 files (doc, xls, ppt), read from their OLE streams.

Word's text is found through the File Information Block and the piece table ([MS-DOC]),
keeping field results but not field instructions; Excel through xlrd; PowerPoint by walking
the record tree for text atoms, skipping masters and handouts ([MS-PPT]). Encrypted files
are recognised and reported as password-protected."""

from __future__ import annotations

import re
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..reasons import DAMAGED, PASSWORD_PROTECTED, UNREADABLE_KIND, ExtractionError
from .sink import RAW_TEXT_CHARS, TextSink


def _ole_stream(path: Path, *names: str) -> tuple[bytes, dict[str, bytes]]:
    """The first stream of ``names`` found, plus every other named stream present."""
    import olefile

    with olefile.OleFileIO(str(path)) as ole:
        found = {name: ole.openstream(name).read() for name in names if ole.exists(name)}
    if not found or names[0] not in found:
        raise ExtractionError(DAMAGED)
    return found[names[0]], found


def doc_text(path: Path, sink: TextSink) -> None:
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
            if size >= RAW_TEXT_CHARS:
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


def xls_text(path: Path, sink: TextSink) -> None:
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


def ppt_text(path: Path, sink: TextSink) -> None:
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
