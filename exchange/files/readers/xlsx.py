"""Excel workbooks (xlsx, xltx): every sheet in order, cells shown as Excel shows them
(shared strings, dates from the workbook's date system and styles), then drawings, charts
and comments."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from ..formats import read_member
from .markup import int_or, iterparse_safely, local_name
from .ooxml import (
    folder_pattern,
    main_part,
    open_package,
    parts_matching,
    relationship_id,
    relationships,
    walk_parts,
)
from .sink import SMALL_PART_BYTES, TextSink

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
            inline = [child for child in cell if local_name(child.tag) == "is"]
            return _rich_text(inline[0]) if inline else ""
        value = next((child.text for child in cell if local_name(child.tag) == "v"), None)
        if value is None:
            return ""
        if kind == "s":
            index = int_or(value, -1)
            return self.strings[index] if 0 <= index < len(self.strings) else ""
        if kind == "b":
            return "TRUE" if value.strip() == "1" else "FALSE"
        if kind in ("str", "e", "d"):
            return value
        return self._number_text(value, int_or(cell.get("s"), 0))

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


def _rich_text(element: Any) -> str:
    """Text of an <si> or <is>: plain and run text, without phonetic readings (<rPh>)."""
    parts = []
    for child in element:
        name = local_name(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if local_name(t.tag) == "t")
    return "".join(parts)


def xlsx_text(path: Path, sink: TextSink) -> None:
    """Every sheet in workbook order (name, then rows), then drawings, charts and comments."""
    with open_package(path) as archive:
        workbook_part = main_part(archive, "xl/workbook.xml")
        book = _read_workbook(archive, workbook_part)
        for name, part in book.sheets:
            sink.add(f"{name}\n")
            if part in archive.NameToInfo:
                with archive.open(part) as stream:
                    _sheet_text(stream, book, sink)
        pattern = (
            folder_pattern(workbook_part) + r"(drawings/drawing|charts/chart|comments)\d*\.xml"
        )
        walk_parts(archive, parts_matching(archive, pattern), sink)


def _sheet_text(stream: IO[bytes], book: _Workbook, sink: TextSink) -> None:
    row: list[str] = []
    for _, elem in iterparse_safely(stream):
        name = local_name(elem.tag)
        if name == "c":
            row.append(book.cell_text(elem))
            elem.clear()
        elif name == "row":
            sink.add("\t".join(row).rstrip("\t") + "\n")
            row = []
            elem.clear()


def _read_workbook(archive: zipfile.ZipFile, part: str) -> _Workbook:
    from defusedxml.ElementTree import fromstring

    root = fromstring(read_member(archive, part, SMALL_PART_BYTES))
    relations = {rid: (kind, target) for rid, kind, target in relationships(archive, part)}
    sheets = _listed_sheets(root, relations) or [
        ("", p) for p in parts_matching(archive, r"xl/worksheets/sheet\d+\.xml")
    ]
    settings = next((e for e in root.iter() if local_name(e.tag) == "workbookPr"), None)
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
    for elem in (e for e in root.iter() if local_name(e.tag) == "sheet"):
        kind, target = relations.get(relationship_id(elem), ("", ""))
        if kind.endswith("/worksheet"):
            sheets.append((elem.get("name", ""), target))
    return sheets


def _shared_strings(archive: zipfile.ZipFile, part: str | None) -> list[str]:
    strings: list[str] = []
    if part and part in archive.NameToInfo:
        with archive.open(part) as stream:
            for _, elem in iterparse_safely(stream):
                if local_name(elem.tag) == "si":
                    strings.append(_rich_text(elem))
                    elem.clear()
    return strings


def _date_styles(archive: zipfile.ZipFile, part: str | None) -> frozenset[int]:
    """Indexes of cell styles whose number format shows a date or time."""
    if not part or part not in archive.NameToInfo:
        return frozenset()
    from defusedxml.ElementTree import fromstring

    root = fromstring(read_member(archive, part, SMALL_PART_BYTES))
    custom = {
        int_or(e.get("numFmtId"), -1): e.get("formatCode", "")
        for e in root.iter()
        if local_name(e.tag) == "numFmt"
    }
    cell_formats = next((e for e in root.iter() if local_name(e.tag) == "cellXfs"), [])
    formats = [int_or(xf.get("numFmtId"), 0) for xf in cell_formats if local_name(xf.tag) == "xf"]
    return frozenset(i for i, fmt in enumerate(formats) if _is_date_format(fmt, custom.get(fmt)))


def _is_date_format(format_id: int, code: str | None) -> bool:
    if code is None:
        return format_id in _DATE_FORMAT_IDS
    return re.search(r"[dmyhs]", _FORMAT_LITERALS.sub("", code), re.IGNORECASE) is not None
