"""The credit line in an Excel workbook's print footers (xlsx, xltx): every sheet's
footer gains it in the centre section, written in Excel's header/footer codes.
"""

from __future__ import annotations

import html
import re
import zipfile

from ....vocab import N_
from .common import XML_INVALID, NotOnPage, PageCredit, element_spans, insert, prefix_for
from .ooxml import parts_of_type
from .package import read_part

SML_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


MAX_HEADER_FOOTER_CHARS = 255  # Excel refuses longer print headers and footers
_SHEET_AFTER_HEADER_FOOTER = (
    "rowBreaks colBreaks customProperties cellWatches ignoredErrors smartTags drawing "
    "legacyDrawing legacyDrawingHF drawingHF picture oleObjects controls webPublishItems "
    "tableParts extLst"
).split()


def excel_edit(archive: zipfile.ZipFile, credit: PageCredit) -> tuple[dict, dict]:
    sheets = parts_of_type(archive, "worksheet+xml", "chartsheet+xml")
    if not sheets:
        raise NotOnPage(N_("the workbook has no sheets"))
    code = _excel_footer_code(credit.line)
    return {name: _sheet_with_footer(read_part(archive, name), code) for name in sheets}, {}


def _excel_footer_code(line: str) -> str:
    """The line in Excel's header/footer language: small grey text, '&' written as '&&'."""
    return "&7&K666666" + XML_INVALID.sub("", line).replace("&", "&&")


def _sheet_with_footer(sheet: str, code: str) -> str:
    x = prefix_for(sheet, SML_NS) if re.search(r"xmlns:[\w.-]+=\"" + SML_NS, sheet) else ""
    tag = f"{x}:headerFooter" if x else "headerFooter"
    spans = element_spans(sheet, tag)
    if spans:
        start, end, _ = spans[0]
        return sheet[:start] + _header_footer_with(sheet[start:end], tag, code) + sheet[end:]
    element = f"<{tag}>{_footer_child(tag, 'oddFooter', _footer_with_credit('', code))}</{tag}>"
    return insert(sheet, _header_footer_position(sheet, x), element)


def _header_footer_position(sheet: str, x: str) -> int:
    data_end = max(sheet.rfind("</sheetData>"), sheet.rfind(f"</{x}:sheetData>"), 0)
    names = "|".join(_SHEET_AFTER_HEADER_FOOTER)
    prefix = f"(?:{x}:)?" if x else ""
    following = re.compile(rf"<{prefix}(?:{names})(?=[\s/>])")
    match = following.search(sheet, data_end)
    if match:
        return match.start()
    closing = re.search(r"</(?:[\w.-]+:)?(?:worksheet|chartsheet)\s*>\s*$", sheet)
    if closing is None:
        raise NotOnPage(N_("a sheet of the workbook is incomplete"))
    return closing.start()


_FOOTER_KINDS = ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter")


def _header_footer_with(element: str, tag: str, code: str) -> str:
    """Every footer the sheet prints (odd, and even/first when it has them) gains the line."""
    opening = re.match(r"<[^>]*>", element).group(0)
    kinds = ["oddFooter"]
    if re.search(r'differentOddEven="(?:1|true)"', opening):
        kinds.append("evenFooter")
    if re.search(r'differentFirst="(?:1|true)"', opening):
        kinds.append("firstFooter")
    prefix = tag[: -len("headerFooter")]
    children = {kind: _child_text(element, prefix + kind) for kind in _FOOTER_KINDS}
    for kind in kinds:
        children[kind] = _footer_with_credit(children[kind] or "", code)
    body = "".join(
        _footer_child(tag, kind, value) for kind, value in children.items() if value is not None
    )
    if opening.endswith("/>"):
        opening = opening[:-2].rstrip() + ">"
    return f"{opening}{body}</{tag}>"


def _child_text(element: str, tag: str) -> str | None:
    match = re.search(rf"<{re.escape(tag)}(?:\s[^>]*)?>(.*?)</{re.escape(tag)}>", element, re.S)
    if match:
        return html.unescape(match.group(1))
    return "" if re.search(rf"<{re.escape(tag)}(?:\s[^>]*)?/>", element) else None


def _footer_child(tag: str, kind: str, value: str) -> str:
    name = tag[: -len("headerFooter")] + kind
    return f"<{name}>{html.escape(value, quote=False)}</{name}>"


def _footer_with_credit(footer: str, code: str) -> str:
    """Add the line at the end of the centre section, keeping &L and &R as they are."""
    sections = _footer_sections(footer)
    centre = sections.get("C", "")
    sections["C"] = f"{centre}\n{code}" if centre.strip() else code
    joined = "".join(f"&{key}{text}" for key, text in sections.items() if text)
    if len(joined) > MAX_HEADER_FOOTER_CHARS:
        raise NotOnPage(N_("a sheet's print footer has no room left for the credit line"))
    return joined


def _footer_sections(footer: str) -> dict[str, str]:
    """Split '&Lleft&Ccentre&Rright' (text before any marker is the centre)."""
    sections = {"L": "", "C": "", "R": ""}
    current, index, start = "C", 0, 0
    while index < len(footer):
        if footer[index] == "&" and index + 1 < len(footer):
            marker = footer[index + 1]
            if marker in "LCR":
                sections[current] += footer[start:index]
                current, index = marker, index + 2
                start = index
                continue
            index += 2  # '&&' and other codes are two characters at least
            continue
        index += 1
    sections[current] += footer[start:]
    return sections
