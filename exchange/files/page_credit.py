"""Credit on the printed page: the giver's credit line written where a printed worksheet
shows it -- a footer, a sheet's print footer, the bottom edge of a slide or a PDF page.

A counsellor prints a worksheet and hands it to a client: document properties and file
names do not survive that, a line on the page does. Each writer here edits the one place
it owns and copies everything else byte for byte (zip entries keep their order, names and
compression; XML parts are edited as text so namespace prefixes, ``mc:Ignorable`` lists
and QName-valued attributes stay valid; a PDF page keeps its own content streams and gets
one more). When that cannot be done safely the caller gets a :class:`PageCreditResult`
saying why, and serves the file with its properties credit only.

Pure functions on files, no Flask and nothing from the rest of the application, so the
module can move with the file-format code.
"""

from __future__ import annotations

import html
import io
import logging
import os
import re
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pikepdf

from .formats import ALLOWED, UnsafeArchive, open_zip, rewrite_zip

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- where it goes


@dataclass(frozen=True)
class CreditPlace:
    """Where a format's credit is, in words for the resource page."""

    on_page: str  # "" when the format cannot carry a visible line
    in_properties: bool


# The formats registry says where each format's line goes; the template reads this view of it.
CREDIT_PLACES: dict[str, CreditPlace] = {
    fmt: CreditPlace(file_type.page_credit, file_type.credit_in_properties)
    for fmt, file_type in ALLOWED.items()
}
NOT_ON_PAGE: dict[str, str] = {
    fmt: file_type.no_page_credit for fmt, file_type in ALLOWED.items() if file_type.no_page_credit
}


def where_credit_goes(fmt: str) -> CreditPlace:
    return CREDIT_PLACES.get(fmt.lower(), CreditPlace("", False))


# --------------------------------------------------------------------------- the entry point


@dataclass(frozen=True)
class PageCredit:
    """What is printed, and what a PDF's XMP packet says beside it."""

    line: str  # the TASL line, e.g. '"Values card sort" by Dale Briers, shared via ...'
    creator: str
    web_statement: str = ""  # the licence's (or resource's) address


@dataclass(frozen=True)
class PageCreditResult:
    on_page: bool
    reason: str = ""  # why not, in plain words: "not credited on the page, because <reason>"


class NotOnPage(Exception):
    """This file cannot carry the line safely; str(exc) says why, for people."""


_Writer = Callable[[Path, PageCredit, Path], None]


def write_page_credit(src: Path, fmt: str, credit: PageCredit, dest: Path) -> PageCreditResult:
    """Write ``src`` to ``dest`` with the credit line on its pages.

    Never raises for a bad file: people upload anything, and the download must still
    work. ``dest`` appears only complete (built beside it, then renamed into place).
    """
    writer = _WRITERS.get(fmt.lower())
    if writer is None:
        return PageCreditResult(False, NOT_ON_PAGE.get(fmt.lower(), "its format has no pages"))
    dest = Path(dest)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".page-", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(Path(src), credit, tmp)
    except NotOnPage as refusal:
        tmp.unlink(missing_ok=True)
        return PageCreditResult(False, str(refusal))
    except Exception:  # hostile uploads can make any parser fail in any way
        log.warning("could not put the credit on the pages of %s (%s)", src, fmt, exc_info=True)
        tmp.unlink(missing_ok=True)
        return PageCreditResult(False, "the file could not be read safely")
    os.replace(tmp, dest)
    return PageCreditResult(True)


# --------------------------------------------------------------------------- XML as text

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
MAX_PART_BYTES = 64 * 1024 * 1024


def _xml_escape(text: str) -> str:
    return html.escape(_XML_INVALID.sub("", text), quote=True)


def _prefix_for(xml: str, uri: str) -> str:
    """The prefix a part binds to ``uri`` ("w", "p"...); refuse parts that never bind it."""
    match = re.search(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(uri) + "[\"']", xml)
    if match is None:
        raise NotOnPage("the file is laid out in a way we cannot add to safely")
    return match.group(1)


def _insert(text: str, at: int, piece: str) -> str:
    return text[:at] + piece + text[at:]


def _element_spans(xml: str, tag: str) -> list[tuple[int, int, bool]]:
    """(start, end, self_closing) of each ``<tag ...>`` element, outermost, in order."""
    spans = []
    for opening in re.finditer(rf"<{re.escape(tag)}(?=[\s/>])[^>]*>", xml):
        if spans and opening.start() < spans[-1][1]:
            continue  # nested inside the previous one
        if opening.group(0).endswith("/>"):
            spans.append((opening.start(), opening.end(), True))
            continue
        closing = xml.find(f"</{tag}>", opening.end())
        if closing < 0:
            raise NotOnPage("the file's XML is incomplete")
        spans.append((opening.start(), closing + len(tag) + 3, False))
    return spans


def _append_inside(element: str, tag: str, piece: str) -> str:
    """Put ``piece`` as the last child of ``element`` (a whole ``<tag>`` element's text)."""
    if element.endswith("/>"):
        return element[:-2].rstrip() + ">" + piece + f"</{tag}>"
    return element[: -len(tag) - 3] + piece + f"</{tag}>"


# --------------------------------------------------------------------------- zip packages


def _open_package(src: Path) -> zipfile.ZipFile:
    """The package, opened within the archive limits every upload already passed."""
    try:
        archive = open_zip(src)
    except zipfile.BadZipFile as exc:
        raise NotOnPage("the file is not a complete package") from exc
    except UnsafeArchive as exc:
        raise NotOnPage("the file is too large to rewrite") from exc
    if any(info.flag_bits & 0x1 for info in archive.infolist()):
        archive.close()
        raise NotOnPage("the file is password-protected")
    return archive


def _read_part(archive: zipfile.ZipFile, name: str) -> str:
    info = archive.getinfo(name)
    if info.file_size > MAX_PART_BYTES:
        raise NotOnPage("the file is too large to rewrite")
    try:
        return archive.read(info).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotOnPage("part of the file is not in a text encoding we can edit") from exc


def _utf8(parts: dict[str, str]) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in parts.items()}


def _package_edit(edit: Callable[[zipfile.ZipFile, PageCredit], tuple[dict, dict]]) -> _Writer:
    def writer(src: Path, credit: PageCredit, tmp: Path) -> None:
        with _open_package(src) as archive:
            replaced, added = edit(archive, credit)
            rewrite_zip(archive, tmp, _utf8(replaced), _utf8(added))

    return writer


# --------------------------------------------------------------------------- OOXML plumbing

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
SML_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
FOOTER_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"


def _parts_of_type(archive: zipfile.ZipFile, *suffixes: str) -> list[str]:
    """Part names whose declared content type ends with one of ``suffixes``, in zip order."""
    types = _read_part(archive, _entry(archive, "[content_types].xml"))
    wanted = set()
    for override in re.finditer(r"<(?:[\w.-]+:)?Override\b[^>]*>", types):
        part = re.search(r'PartName="/?([^"]+)"', override.group(0))
        kind = re.search(r'ContentType="([^"]+)"', override.group(0))
        if part and kind and kind.group(1).endswith(suffixes):
            wanted.add(html.unescape(part.group(1)).lower())
    return [name for name in archive.namelist() if name.lower() in wanted]


def _entry(archive: zipfile.ZipFile, lower_name: str) -> str:
    for name in archive.namelist():
        if name.lower() == lower_name:
            return name
    raise NotOnPage("the file is not a complete Office package")


def _rels_name(part: str) -> str:
    folder, _, base = part.rpartition("/")
    return f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"


def _main_part(archive: zipfile.ZipFile) -> str:
    rels = _read_part(archive, _entry(archive, "_rels/.rels"))
    for rel in re.finditer(r"<(?:[\w.-]+:)?Relationship\b[^>]*>", rels):
        if re.search(r'Type="[^"]*/officeDocument"', rel.group(0)):
            target = re.search(r'Target="/?([^"]+)"', rel.group(0))
            if target:
                return _entry(archive, html.unescape(target.group(1)).lower())
    raise NotOnPage("the file is not a complete Office package")


def _resolve(part: str, target: str) -> str:
    """A relationship target relative to its source part, as a zip entry name."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts = part.split("/")[:-1]
    for piece in target.split("/"):
        if piece == "..":
            parts = parts[:-1]
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


# --------------------------------------------------------------------------- Word


def _word_paragraph(w: str, line: str) -> str:
    return (
        f'<{w}:p><{w}:pPr><{w}:jc {w}:val="center"/></{w}:pPr><{w}:r><{w}:rPr>'
        f'<{w}:color {w}:val="666666"/><{w}:sz {w}:val="14"/><{w}:szCs {w}:val="14"/>'
        f'</{w}:rPr><{w}:t xml:space="preserve">{_xml_escape(line)}</{w}:t></{w}:r></{w}:p>'
    )


def _word_edit(archive: zipfile.ZipFile, credit: PageCredit) -> tuple[dict, dict]:
    """Append the line to every footer part the document uses, and give the first section
    the footers it lacks (later sections without one inherit the previous section's)."""
    main = _main_part(archive)
    document = _read_part(archive, main)
    w = _prefix_for(document, W_NS)
    rels_name = _rels_name(main)
    rels = _read_part(archive, rels_name) if rels_name in archive.namelist() else ""
    footers = _footer_targets(main, rels)
    replaced: dict[str, str] = {}
    for name in sorted({footers[rid] for rid in _footer_ids(document, w) if rid in footers}):
        footer = _read_part(archive, name)
        fw = _prefix_for(footer, W_NS)
        spans = _element_spans(footer, f"{fw}:ftr")
        if len(spans) != 1:
            raise NotOnPage("a footer of the file is laid out in a way we cannot add to")
        start, end, _ = spans[0]
        replaced[name] = (
            footer[:start]
            + _append_inside(footer[start:end], f"{fw}:ftr", _word_paragraph(fw, credit.line))
            + footer[end:]
        )
    added = _new_word_footers(archive, main, document, rels, credit, replaced)
    return replaced, added


def _footer_targets(main: str, rels: str) -> dict[str, str]:
    targets = {}
    for rel in re.finditer(r"<(?:[\w.-]+:)?Relationship\b[^>]*>", rels):
        text = rel.group(0)
        rid, kind = re.search(r'Id="([^"]+)"', text), re.search(r'Type="([^"]+)"', text)
        target = re.search(r'Target="([^"]+)"', text)
        if rid and kind and target and kind.group(1).endswith("/footer"):
            targets[rid.group(1)] = _resolve(main, html.unescape(target.group(1)))
    return targets


def _footer_ids(document: str, w: str) -> list[str]:
    refs = re.finditer(rf"<{w}:footerReference\b[^>]*>", document)
    return [m.group(1) for ref in refs if (m := re.search(r':id="([^"]+)"', ref.group(0)))]


def _first_section(document: str, w: str) -> tuple[int, int, str]:
    """Span and text of the first section's properties (a section ends at its sectPr)."""
    spans = _element_spans(document, f"{w}:sectPr")
    if not spans:
        raise NotOnPage("the document has no page settings to attach a footer to")
    start, end, _ = spans[0]
    return start, end, document[start:end]


def _missing_footer_kinds(section: str, w: str, archive: zipfile.ZipFile) -> list[str]:
    present = set(re.findall(rf'<{w}:footerReference\b[^>]*{w}:type="(\w+)"', section))
    wanted = ["default"]
    if re.search(rf"<{w}:titlePg(?:\s*/>|\s+{w}:val=\"(?:1|true|on)\")", section):
        wanted.append("first")
    if _even_pages_differ(archive, w):
        wanted.append("even")
    return [kind for kind in wanted if kind not in present]


def _even_pages_differ(archive: zipfile.ZipFile, w: str) -> bool:
    name = next((n for n in archive.namelist() if n.lower() == "word/settings.xml"), None)
    if name is None:
        return False
    settings = _read_part(archive, name)
    return bool(
        re.search(r"<[\w.-]+:evenAndOddHeaders(?:\s*/>|\s+[\w.-]+:val=\"(?:1|true|on)\")", settings)
    )


def _new_word_footers(
    archive: zipfile.ZipFile,
    main: str,
    document: str,
    rels: str,
    credit: PageCredit,
    replaced: dict[str, str],
) -> dict[str, str]:
    """Footer parts for the kinds the first section lacks, referenced from its sectPr."""
    w = _prefix_for(document, W_NS)
    start, end, section = _first_section(document, w)
    kinds = _missing_footer_kinds(section, w, archive)
    if not kinds:
        return {}
    if not rels:
        raise NotOnPage("the document has no relationships part to add a footer to")
    rels, refs, added = _footer_parts(archive, kinds, rels, main, credit.line, w)
    replaced[_rels_name(main)] = rels
    replaced[main] = document[:start] + _with_references(section, w, refs) + document[end:]
    types_name = _entry(archive, "[content_types].xml")
    replaced[types_name] = _declare_parts(_read_part(archive, types_name), list(added))
    return added


def _footer_parts(
    archive: zipfile.ZipFile, kinds: list[str], rels: str, main: str, line: str, w: str
) -> tuple[str, str, dict[str, str]]:
    """(relationships with the new footers, their sectPr references, the new parts)."""
    folder = main.rpartition("/")[0]
    taken_ids = set(re.findall(r'Id="([^"]+)"', rels))
    taken_names = {name.lower() for name in archive.namelist()}
    added: dict[str, str] = {}
    refs = ""
    for kind in kinds:
        rid = next(f"rIdTxCredit{n}" for n in range(1, 999) if f"rIdTxCredit{n}" not in taken_ids)
        base = next(
            f"footerTxCredit{n}.xml"
            for n in range(1, 999)
            if f"{folder}/footerTxCredit{n}.xml".lstrip("/").lower() not in taken_names
        )
        taken_ids.add(rid)
        taken_names.add(f"{folder}/{base}".lstrip("/").lower())
        added[f"{folder}/{base}".lstrip("/")] = _new_footer_part(line)
        rels = _add_relationship(rels, rid, base)
        refs += f'<{w}:footerReference {w}:type="{kind}" xmlns:r="{OFFICE_DOC_REL}" r:id="{rid}"/>'
    return rels, refs, added


def _with_references(section: str, w: str, refs: str) -> str:
    """References go first in a sectPr, as the schema orders them."""
    opening = re.match(r"<[^>]*>", section).group(0)
    if opening.endswith("/>"):
        return _append_inside(section, f"{w}:sectPr", refs)
    return opening + refs + section[len(opening) :]


def _new_footer_part(line: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:ftr xmlns:w="{W_NS}">{_word_paragraph("w", line)}</w:ftr>'
    )


def _add_relationship(rels: str, rid: str, target: str) -> str:
    rel = f'<Relationship xmlns="{PKG_REL_NS}" Id="{rid}" Type="{OFFICE_DOC_REL}/footer" '
    rel += f'Target="{target}"/>'
    closing = re.search(r"</(?:[\w.-]+:)?Relationships\s*>\s*$", rels)
    if closing is None:
        raise NotOnPage("the document's relationships part is incomplete")
    return _insert(rels, closing.start(), rel)


def _declare_parts(types: str, parts: list[str]) -> str:
    overrides = "".join(
        f'<Override xmlns="{CT_NS}" PartName="/{part}" ContentType="{FOOTER_TYPE}"/>'
        for part in parts
    )
    closing = re.search(r"</(?:[\w.-]+:)?Types\s*>\s*$", types)
    if closing is None:
        raise NotOnPage("the file's list of parts is incomplete")
    return _insert(types, closing.start(), overrides)


# --------------------------------------------------------------------------- Excel

MAX_HEADER_FOOTER_CHARS = 255  # Excel refuses longer print headers and footers
_SHEET_AFTER_HEADER_FOOTER = (
    "rowBreaks colBreaks customProperties cellWatches ignoredErrors smartTags drawing "
    "legacyDrawing legacyDrawingHF drawingHF picture oleObjects controls webPublishItems "
    "tableParts extLst"
).split()


def _excel_edit(archive: zipfile.ZipFile, credit: PageCredit) -> tuple[dict, dict]:
    sheets = _parts_of_type(archive, "worksheet+xml", "chartsheet+xml")
    if not sheets:
        raise NotOnPage("the workbook has no sheets")
    code = _excel_footer_code(credit.line)
    return {name: _sheet_with_footer(_read_part(archive, name), code) for name in sheets}, {}


def _excel_footer_code(line: str) -> str:
    """The line in Excel's header/footer language: small grey text, '&' written as '&&'."""
    return "&7&K666666" + _XML_INVALID.sub("", line).replace("&", "&&")


def _sheet_with_footer(sheet: str, code: str) -> str:
    x = _prefix_for(sheet, SML_NS) if re.search(r"xmlns:[\w.-]+=\"" + SML_NS, sheet) else ""
    tag = f"{x}:headerFooter" if x else "headerFooter"
    spans = _element_spans(sheet, tag)
    if spans:
        start, end, _ = spans[0]
        return sheet[:start] + _header_footer_with(sheet[start:end], tag, code) + sheet[end:]
    element = f"<{tag}>{_footer_child(tag, 'oddFooter', _footer_with_credit('', code))}</{tag}>"
    return _insert(sheet, _header_footer_position(sheet, x), element)


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
        raise NotOnPage("a sheet of the workbook is incomplete")
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
        raise NotOnPage("a sheet's print footer has no room left for the credit line")
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


# --------------------------------------------------------------------------- PowerPoint

EMU_PER_POINT = 12700


def _slides_edit(archive: zipfile.ZipFile, credit: PageCredit) -> tuple[dict, dict]:
    """A small text box along the bottom edge of every slide: each slide keeps its own
    layout, which a change to the master's footer placeholder could not promise."""
    slides = _parts_of_type(archive, "presentationml.slide+xml")
    if not slides:
        raise NotOnPage("the presentation has no slides")
    width, height = _slide_size(_read_part(archive, _main_part(archive)))
    return {
        name: _slide_with_credit(_read_part(archive, name), credit.line, width, height)
        for name in slides
    }, {}


def _slide_size(presentation: str) -> tuple[int, int]:
    size = re.search(r'<[\w.-]+:sldSz\b[^>]*cx="(\d+)"[^>]*cy="(\d+)"', presentation)
    return (int(size.group(1)), int(size.group(2))) if size else (9144000, 6858000)


def _slide_with_credit(slide: str, line: str, width: int, height: int) -> str:
    p, a = _prefix_for(slide, P_NS), _prefix_for(slide, A_NS)
    trees = _element_spans(slide, f"{p}:spTree")
    if len(trees) != 1:
        raise NotOnPage("a slide is laid out in a way we cannot add to safely")
    start, end, _ = trees[0]
    ids = [int(n) for n in re.findall(r'<[\w.-]+:cNvPr\b[^>]*\bid="(\d+)"', slide)]
    box = _slide_text_box(p, a, max(ids, default=1) + 1, line, width, height)
    return slide[:start] + _append_inside(slide[start:end], f"{p}:spTree", box) + slide[end:]


def _slide_text_box(p: str, a: str, shape_id: int, line: str, width: int, height: int) -> str:
    box_height = 16 * EMU_PER_POINT
    return (
        f'<{p}:sp><{p}:nvSpPr><{p}:cNvPr id="{shape_id}" name="Credit line"/>'
        f'<{p}:cNvSpPr txBox="1"/><{p}:nvPr/></{p}:nvSpPr><{p}:spPr><{a}:xfrm>'
        f'<{a}:off x="0" y="{height - box_height}"/><{a}:ext cx="{width}" cy="{box_height}"/>'
        f'</{a}:xfrm><{a}:prstGeom prst="rect"><{a}:avLst/></{a}:prstGeom><{a}:noFill/>'
        f'</{p}:spPr><{p}:txBody><{a}:bodyPr wrap="none" lIns="0" tIns="0" rIns="0" bIns="36000"'
        f' anchor="b"><{a}:noAutofit/></{a}:bodyPr><{a}:lstStyle/><{a}:p><{a}:pPr algn="ctr"/>'
        f'<{a}:r><{a}:rPr lang="en-GB" sz="700" dirty="0"><{a}:solidFill><{a}:srgbClr '
        f'val="666666"/></{a}:solidFill></{a}:rPr><{a}:t>{_xml_escape(line)}</{a}:t></{a}:r>'
        f"</{a}:p></{p}:txBody></{p}:sp>"
    )


# --------------------------------------------------------------------------- OpenDocument

ODF_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "svg": "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0",
}
CREDIT_STYLE = "TxCreditLine"


def _require_conventional_prefixes(xml: str, *prefixes: str) -> None:
    """Our snippets use the usual ODF prefixes; a part that binds them otherwise is left."""
    for prefix in prefixes:
        if _prefix_for(xml, ODF_NS[prefix]) != prefix:
            raise NotOnPage("the file is laid out in a way we cannot add to safely")


def _odf_paragraph_style(family_extra: str = "") -> str:
    return (
        f'<style:style style:name="{CREDIT_STYLE}" style:family="paragraph">'
        f'<style:paragraph-properties fo:text-align="center"{family_extra}/>'
        '<style:text-properties fo:font-size="7pt" fo:color="#666666" '
        'style:font-size-asian="7pt" style:font-size-complex="7pt"/></style:style>'
    )


def _with_automatic_style(xml: str, style: str) -> str:
    """Add ``style`` to the part's automatic styles, creating that element when missing."""
    spans = _element_spans(xml, "office:automatic-styles")
    if spans:
        start, end, _ = spans[0]
        element = _append_inside(xml[start:end], "office:automatic-styles", style)
        return xml[:start] + element + xml[end:]
    anchor = re.search(r"<office:(?:master-styles|body)\b", xml)
    if anchor is None:
        raise NotOnPage("the file is laid out in a way we cannot add to safely")
    return _insert(
        xml, anchor.start(), f"<office:automatic-styles>{style}</office:automatic-styles>"
    )


def _odf_footer_edit(archive: zipfile.ZipFile, credit: PageCredit) -> tuple[dict, dict]:
    """Every master page (a text's page style, a sheet's print layout) gains the line in
    its footer, its left-page and first-page footers included."""
    if "styles.xml" not in archive.namelist():
        raise NotOnPage("the file has no page styles")
    styles = _read_part(archive, "styles.xml")
    _require_conventional_prefixes(styles, "office", "style", "text", "fo")
    paragraph = f'<text:p text:style-name="{CREDIT_STYLE}">{_xml_escape(credit.line)}</text:p>'
    pages = _element_spans(styles, "style:master-page")
    if not pages:
        raise NotOnPage("the file has no page styles")
    for start, end, _ in reversed(pages):
        styles = styles[:start] + _master_page_with(styles[start:end], paragraph) + styles[end:]
    return {"styles.xml": _with_automatic_style(styles, _odf_paragraph_style())}, {}


def _master_page_with(page: str, paragraph: str) -> str:
    footers = []
    for tag in ("style:footer", "style:footer-left", "style:footer-first"):
        spans = _element_spans(page, tag)
        if spans:
            footers.append((spans[0][0], spans[0][1], tag))
    if not footers:
        return _append_footer(page, f"<style:footer>{paragraph}</style:footer>")
    for start, end, tag in sorted(footers, reverse=True):
        page = page[:start] + _footer_element_with(page[start:end], tag, paragraph) + page[end:]
    return page


def _footer_element_with(footer: str, tag: str, paragraph: str) -> str:
    footer = re.sub(r'\sstyle:display="false"', "", footer, count=1)
    regions = _element_spans(footer, "style:region-center")
    if regions:
        start, end, _ = regions[0]
        centre = _append_inside(footer[start:end], "style:region-center", paragraph)
        return footer[:start] + centre + footer[end:]
    if re.search(r"<style:region-(?:left|right)\b", footer):
        closing = footer.rfind(f"</{tag}>")
        right = re.search(r"<style:region-right\b", footer)
        at = right.start() if right else closing
        return _insert(footer, at, f"<style:region-center>{paragraph}</style:region-center>")
    return _append_inside(footer, tag, paragraph)


def _append_footer(page: str, footer: str) -> str:
    """A new footer goes after any headers, before forms, styles and notes."""
    if page.endswith("/>"):
        return _append_inside(page, "style:master-page", footer)
    following = re.search(
        r"<(?:style:footer-left|style:footer-first|office:forms|style:style"
        r"|presentation:notes)\b",
        page,
    )
    closing = page.rfind("</style:master-page>")
    return _insert(page, following.start() if following else closing, footer)


def _odp_edit(archive: zipfile.ZipFile, credit: PageCredit) -> tuple[dict, dict]:
    """A small text frame along the bottom edge of every slide (draw:page)."""
    content = _read_part(archive, "content.xml")
    _require_conventional_prefixes(content, "office", "style", "text", "fo", "draw", "svg")
    width, height = _odp_page_size(archive)
    pages = _element_spans(content, "draw:page")
    if not pages:
        raise NotOnPage("the presentation has no slides")
    frame = _odp_frame(credit.line, width, height)
    for start, end, _ in reversed(pages):
        content = content[:start] + _slide_page_with(content[start:end], frame) + content[end:]
    style = _odf_paragraph_style()
    style += (
        '<style:style style:name="TxCreditFrame" style:family="graphic">'
        '<style:graphic-properties draw:stroke="none" draw:fill="none" '
        'draw:textarea-vertical-align="bottom" fo:padding="0cm"/></style:style>'
    )
    return {"content.xml": _with_automatic_style(content, style)}, {}


def _slide_page_with(page: str, frame: str) -> str:
    if page.endswith("/>"):
        return _append_inside(page, "draw:page", frame)
    following = re.search(r"<(?:presentation:animations|anim:[\w-]+|presentation:notes)\b", page)
    return _insert(page, following.start() if following else page.rfind("</draw:page>"), frame)


def _odp_frame(line: str, width_cm: float, height_cm: float) -> str:
    box = 0.6
    return (
        f'<draw:frame draw:style-name="TxCreditFrame" svg:x="0cm" '
        f'svg:y="{height_cm - box:.3f}cm" svg:width="{width_cm:.3f}cm" svg:height="{box}cm">'
        f'<draw:text-box><text:p text:style-name="{CREDIT_STYLE}">{_xml_escape(line)}'
        "</text:p></draw:text-box></draw:frame>"
    )


_CM_PER_UNIT = {"cm": 1.0, "mm": 0.1, "in": 2.54, "pt": 2.54 / 72, "pc": 2.54 / 6}


def _odp_page_size(archive: zipfile.ZipFile) -> tuple[float, float]:
    """The slides' size from the first page layout (presentations have one)."""
    styles = _read_part(archive, "styles.xml") if "styles.xml" in archive.namelist() else ""
    found = []
    for attribute in ("fo:page-width", "fo:page-height"):
        match = re.search(rf'{attribute}="([\d.]+)(cm|mm|in|pt|pc)"', styles)
        found.append(float(match.group(1)) * _CM_PER_UNIT[match.group(2)] if match else None)
    if None in found:
        return 28.0, 15.75  # LibreOffice Impress's default 16:9 slide
    return found[0], found[1]


# --------------------------------------------------------------------------- RTF

MAX_RTF_BYTES = 64 * 1024 * 1024


def _credit_rtf(src: Path, credit: PageCredit, tmp: Path) -> None:
    """A ``{\\footer}`` group before the body's first paragraph, or a paragraph added to
    the footer the document already has."""
    if src.stat().st_size > MAX_RTF_BYTES:
        raise NotOnPage("the file is too large to rewrite")
    text = src.read_bytes().decode("latin-1")  # RTF is 7-bit; latin-1 round-trips any byte
    paragraph = r"\pard\plain\qc\fs14 " + _rtf_escape(credit.line) + r"\par"
    existing = re.search(r"\{\\footer[\s\\]", text)
    if existing:
        end = _group_end(text, existing.start())
        text = _insert(text, end, r"\par" + paragraph)
    else:
        text = _insert(text, _rtf_body_start(text), r"{\footer" + paragraph + "}")
    tmp.write_bytes(text.encode("latin-1"))


def _rtf_escape(line: str) -> str:
    out = []
    for char in line:
        if char in "\\{}":
            out.append("\\" + char)
        elif 32 <= ord(char) < 128:
            out.append(char)
        else:
            for unit in char.encode("utf-16-be").hex(" ", 2).split():
                value = int(unit, 16)
                out.append(f"\\u{value - 65536 if value > 32767 else value}?")
    return "".join(out)


def _group_end(text: str, start: int) -> int:
    """Index of the closing brace of the group opening at ``start``."""
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return index
        index += 1
    raise NotOnPage("the RTF file is incomplete")


def _rtf_body_start(text: str) -> int:
    """Where the body begins: just after the first \\sectd, or at the first \\pard or text
    at the top level."""
    if not text.startswith("{\\rtf"):
        raise NotOnPage("the file is not an RTF document")
    depth, index = 0, 0
    while index < len(text):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "\\" and depth == 1:
            word = re.match(r"\\([a-z]+)(-?\d+)? ?", text[index : index + 64])
            if word and word.group(1) == "sectd":  # a footer after \\sectd, as Word writes it
                return index + len(word.group(0))
            if word and word.group(1) in ("pard", "par", "plain"):
                return index
            index += 2 if word is None else len(word.group(0))
            continue
        elif char == "\\":
            index += 2
            continue
        elif depth == 1 and not char.isspace() and char != ";":
            return index
        index += 1
    raise NotOnPage("the RTF file has no body")


# --------------------------------------------------------------------------- plain text

MAX_TEXT_BYTES = 32 * 1024 * 1024


def _credit_text(src: Path, credit: PageCredit, tmp: Path) -> None:
    """The line after a blank line at the end, in the file's own encoding and line ends."""
    data = src.read_bytes()
    if len(data) > MAX_TEXT_BYTES:
        raise NotOnPage("the file is too large to rewrite")
    encoding = _text_encoding(data)
    text = data.decode(encoding)
    newline = "\r\n" if "\r\n" in text else "\n"
    ending = "" if text.endswith(("\n", "\r")) or not text else newline
    addition = f"{ending}{newline}{credit.line}{newline}"
    try:
        encoded = addition.encode(encoding.replace("-sig", "").replace("utf-16", "utf-16-le"))
    except UnicodeEncodeError as exc:
        raise NotOnPage("the credit line has characters the file's encoding cannot hold") from exc
    tmp.write_bytes(data + encoded)


def _text_encoding(data: bytes) -> str:
    if data.startswith(b"\xff\xfe"):
        return "utf-16"  # little-endian, as written by Windows Notepad
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotOnPage("the text is not in UTF-8, so a line added to it could be garbled") from exc
    return "utf-8"


# --------------------------------------------------------------------------- PDF

MAX_PDF_BYTES = 300 * 1024 * 1024
FONT_SIZE = 7.0
MIN_FONT_SIZE = 4.0
BASELINE = 10.0  # points above the page's bottom edge, inside every printer's margin
SIDE_MARGIN = 18.0
FONT_FILES = (
    # DejaVu Sans covers Latin, Greek, Cyrillic and more; Droid Sans Fallback covers
    # Chinese, Japanese and Korean. Both are Debian packages (see README).
    ("TxCreditSans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    ("TxCreditCJK", "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)


def _credit_pdf(src: Path, credit: PageCredit, tmp: Path) -> None:
    """One more content stream on every page draws a Form XObject holding the line: the
    page's own streams are kept as they are (wrapped in q/Q so their graphics state
    cannot move the line)."""
    if src.stat().st_size > MAX_PDF_BYTES:
        raise NotOnPage("the file is too large to rewrite")
    runs = _font_runs(credit.line)
    with _open_pdf(src) as pdf:
        if pdf.is_encrypted:
            raise NotOnPage("the file is password-protected")
        page_count = len(pdf.pages)
        _check_bottom_edge_is_free(src, [_edge_band(page) for page in pdf.pages])
        sizes = [_upright_size(page) for page in pdf.pages]
        overlays = _overlay_forms(pdf, runs, sorted(set(sizes)))
        for page, size in zip(pdf.pages, sizes, strict=True):
            _draw_on_page(pdf, page, overlays[size])
        _set_xmp(pdf, credit)
        with warnings.catch_warnings():
            # qpdf notes form fields the original already left outside its /AcroForm.
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
            pdf.save(tmp)
    with pikepdf.open(tmp) as check:
        if len(check.pages) != page_count:
            raise NotOnPage("the rewritten file lost pages")


def _open_pdf(src: Path) -> pikepdf.Pdf:
    try:
        return pikepdf.open(src)
    except pikepdf.PasswordError as exc:
        raise NotOnPage("the file is password-protected") from exc
    except pikepdf.PdfError as exc:
        raise NotOnPage("the file is damaged") from exc


EDGE_BAND = BASELINE + FONT_SIZE + 2  # the strip along the bottom edge the line needs


def _edge_band(page: pikepdf.Page) -> tuple[int, float]:
    """Which side of the page's own coordinates is the reader's bottom edge (as a box
    index: 0 left, 1 bottom, 2 right, 3 top), and the coordinate the line's strip ends at."""
    x0, y0, x1, y1 = _visible_box(page)
    return {
        0: (1, y0 + EDGE_BAND),
        90: (2, x1 - EDGE_BAND),
        180: (3, y1 - EDGE_BAND),
        270: (0, x0 + EDGE_BAND),
    }[_rotation(page)]


def _check_bottom_edge_is_free(src: Path, bands: list[tuple[int, float]]) -> None:
    """Refuse a file whose own text runs into the strip the line would cover (a full-bleed
    page, a footer printed at the very edge): the credit must never hide the worksheet."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(src))
    try:
        for page, (side, limit) in zip(document, bands, strict=True):
            text = page.get_textpage()
            # Rectangles of text runs: far fewer than characters, same answer for a strip.
            if any(_in_band(text.get_rect(i), side, limit) for i in range(text.count_rects())):
                raise NotOnPage("text on its pages reaches the bottom edge, where the line goes")
    finally:
        document.close()


def _in_band(box: tuple[float, float, float, float], side: int, limit: float) -> bool:
    left, bottom, right, top = box
    return {0: left < limit, 1: bottom < limit, 2: right > limit, 3: top > limit}[side]


def _visible_box(page: pikepdf.Page) -> tuple[float, float, float, float]:
    box = [float(v) for v in page.cropbox]
    x0, y0, x1, y1 = (
        min(box[0], box[2]),
        min(box[1], box[3]),
        max(box[0], box[2]),
        max(box[1], box[3]),
    )
    return x0, y0, x1, y1


def _rotation(page: pikepdf.Page) -> int:
    """The effective /Rotate, inherited from the page tree when the page has none."""
    return page.rotation % 360 // 90 * 90


def _upright_size(page: pikepdf.Page) -> tuple[float, float]:
    """The page's width and height as a reader sees it (after /Rotate)."""
    x0, y0, x1, y1 = _visible_box(page)
    width, height = round(x1 - x0, 2), round(y1 - y0, 2)
    return (height, width) if _rotation(page) in (90, 270) else (width, height)


def _placement(page: pikepdf.Page) -> str:
    """The matrix taking the upright overlay onto the page's own coordinates."""
    x0, y0, x1, y1 = _visible_box(page)
    w, h = x1 - x0, y1 - y0
    matrix = {
        0: (1, 0, 0, 1, x0, y0),
        90: (0, 1, -1, 0, x0 + w, y0),
        180: (-1, 0, 0, -1, x0 + w, y0 + h),
        270: (0, -1, 1, 0, x0, y0 + h),
    }[_rotation(page)]
    return " ".join(f"{v:.4f}".rstrip("0").rstrip(".") for v in matrix)


@cache
def _registered_fonts() -> tuple[tuple[str, frozenset[int]], ...]:
    """The TrueType fonts found on this machine, each with the characters it can draw."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    found = []
    for name, path in FONT_FILES:
        if Path(path).is_file():
            font = TTFont(name, path)
            pdfmetrics.registerFont(font)
            found.append((name, frozenset(font.face.charToGlyph)))
    return tuple(found)


def _font_runs(line: str) -> list[tuple[str, str]]:
    """(font, text) runs drawing every character; embedded TrueType when installed, else
    the standard Helvetica for lines it can encode."""
    fonts = _registered_fonts()
    runs: list[tuple[str, str]] = []
    for char in line:
        font = next((name for name, chars in fonts if ord(char) in chars), None)
        if font is None:
            font = "Helvetica" if _in_win_ansi(char) else None
        if font is None:
            raise NotOnPage("no font on the server can draw every character of the credit line")
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + char)
        else:
            runs.append((font, char))
    return runs


def _in_win_ansi(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _overlay_forms(
    pdf: pikepdf.Pdf, runs: list[tuple[str, str]], sizes: list[tuple[float, float]]
) -> dict[tuple[float, float], pikepdf.Object]:
    """One Form XObject per page size, drawn by reportlab (fonts subset and embedded)."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pageCompression=1, invariant=1)
    for width, height in sizes:
        drawing.setPageSize((width, height))
        _draw_line(drawing, runs, width)
        drawing.showPage()
    drawing.save()
    forms = {}
    with pikepdf.open(io.BytesIO(buffer.getvalue())) as overlay:
        for size, page in zip(sizes, overlay.pages, strict=True):
            forms[size] = pdf.copy_foreign(page.as_form_xobject())
    return forms


def _draw_line(drawing, runs: list[tuple[str, str]], page_width: float) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def width_at(size: float) -> float:
        return sum(stringWidth(text, font, size) for font, text in runs)

    size = FONT_SIZE
    while size > MIN_FONT_SIZE and width_at(size) > page_width - 2 * SIDE_MARGIN:
        size -= 0.5
    drawing.setFillGray(0.35)
    text = drawing.beginText(max((page_width - width_at(size)) / 2, SIDE_MARGIN / 2), BASELINE)
    for font, piece in runs:
        text.setFont(font, size)
        text.textOut(piece)
    drawing.drawText(text)


def _draw_on_page(pdf: pikepdf.Pdf, page: pikepdf.Page, form: pikepdf.Object) -> None:
    """The page gets its own /Resources (a copy of what it had or inherited, plus the
    form) so no resource dictionary shared with other pages is changed."""
    inherited = _inherited_resources(page)
    resources = pikepdf.Dictionary(dict(inherited.items())) if inherited is not None else None
    resources = resources if resources is not None else pikepdf.Dictionary()
    xobjects = resources.get("/XObject")
    xobjects = (
        pikepdf.Dictionary(dict(xobjects.items()))
        if isinstance(xobjects, pikepdf.Dictionary)
        else pikepdf.Dictionary()
    )
    name = next(f"/TxCredit{n}" for n in range(1000) if f"/TxCredit{n}" not in xobjects)
    xobjects[name] = form
    resources["/XObject"] = xobjects
    page.obj["/Resources"] = resources
    page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
    drawing = f"Q\nq {_placement(page)} cm {name} Do Q\n".encode()
    page.contents_add(pdf.make_stream(drawing), prepend=False)


def _inherited_resources(page: pikepdf.Page) -> pikepdf.Dictionary | None:
    node, hops = page.obj, 0
    while node is not None and hops < 64:
        resources = node.get("/Resources")
        if isinstance(resources, pikepdf.Dictionary):
            return resources
        node, hops = node.get("/Parent"), hops + 1
    return None


def _set_xmp(pdf: pikepdf.Pdf, credit: PageCredit) -> None:
    """XMP beside the Info dictionary: who made it, the credit as the rights statement,
    and where the licence is."""
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
        xmp["dc:creator"] = [_XML_INVALID.sub("", credit.creator)]
        xmp["dc:rights"] = _XML_INVALID.sub("", credit.line)
        if credit.web_statement:
            xmp["xmpRights:WebStatement"] = credit.web_statement


# --------------------------------------------------------------------------- the table

_WRITERS: dict[str, _Writer] = {
    "docx": _package_edit(_word_edit),
    "dotx": _package_edit(_word_edit),
    "xlsx": _package_edit(_excel_edit),
    "xltx": _package_edit(_excel_edit),
    "pptx": _package_edit(_slides_edit),
    "potx": _package_edit(_slides_edit),
    "odt": _package_edit(_odf_footer_edit),
    "ods": _package_edit(_odf_footer_edit),
    "odp": _package_edit(_odp_edit),
    "pdf": _credit_pdf,
    "rtf": _credit_rtf,
    "txt": _credit_text,
    "md": _credit_text,
}

__all__ = [
    "CREDIT_PLACES",
    "CreditPlace",
    "NOT_ON_PAGE",
    "PageCredit",
    "PageCreditResult",
    "where_credit_goes",
    "write_page_credit",
]
