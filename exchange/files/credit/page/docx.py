"""The credit line in a Word document's footers (docx, dotx): appended to every
footer the document uses, with new footer parts for the kinds its first section lacks.
"""

from __future__ import annotations

import html
import re
import zipfile

from ....vocab import N_
from .common import (
    NotOnPage,
    PageCredit,
    append_inside,
    element_spans,
    insert,
    prefix_for,
    xml_escape,
)
from .ooxml import entry, main_part
from .package import read_part

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


FOOTER_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"


def _rels_name(part: str) -> str:
    folder, _, base = part.rpartition("/")
    return f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"


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


def _word_paragraph(w: str, line: str) -> str:
    return (
        f'<{w}:p><{w}:pPr><{w}:jc {w}:val="center"/></{w}:pPr><{w}:r><{w}:rPr>'
        f'<{w}:color {w}:val="666666"/><{w}:sz {w}:val="14"/><{w}:szCs {w}:val="14"/>'
        f'</{w}:rPr><{w}:t xml:space="preserve">{xml_escape(line)}</{w}:t></{w}:r></{w}:p>'
    )


def word_edit(archive: zipfile.ZipFile, credit: PageCredit) -> tuple[dict, dict]:
    """Append the line to every footer part the document uses, and give the first section
    the footers it lacks (later sections without one inherit the previous section's)."""
    main = main_part(archive)
    document = read_part(archive, main)
    w = prefix_for(document, W_NS)
    rels_name = _rels_name(main)
    rels = read_part(archive, rels_name) if rels_name in archive.namelist() else ""
    footers = _footer_targets(main, rels)
    replaced: dict[str, str] = {}
    for name in sorted({footers[rid] for rid in _footer_ids(document, w) if rid in footers}):
        footer = read_part(archive, name)
        fw = prefix_for(footer, W_NS)
        spans = element_spans(footer, f"{fw}:ftr")
        if len(spans) != 1:
            raise NotOnPage(N_("a footer of the file is laid out in a way we cannot add to"))
        start, end, _ = spans[0]
        replaced[name] = (
            footer[:start]
            + append_inside(footer[start:end], f"{fw}:ftr", _word_paragraph(fw, credit.line))
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
    spans = element_spans(document, f"{w}:sectPr")
    if not spans:
        raise NotOnPage(N_("the document has no page settings to attach a footer to"))
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
    settings = read_part(archive, name)
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
    w = prefix_for(document, W_NS)
    start, end, section = _first_section(document, w)
    kinds = _missing_footer_kinds(section, w, archive)
    if not kinds:
        return {}
    if not rels:
        raise NotOnPage(N_("the document has no relationships part to add a footer to"))
    rels, refs, added = _footer_parts(archive, kinds, rels, main, credit.line, w)
    replaced[_rels_name(main)] = rels
    replaced[main] = document[:start] + _with_references(section, w, refs) + document[end:]
    types_name = entry(archive, "[content_types].xml")
    replaced[types_name] = _declare_parts(read_part(archive, types_name), list(added))
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
        return append_inside(section, f"{w}:sectPr", refs)
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
        raise NotOnPage(N_("the document's relationships part is incomplete"))
    return insert(rels, closing.start(), rel)


def _declare_parts(types: str, parts: list[str]) -> str:
    overrides = "".join(
        f'<Override xmlns="{CT_NS}" PartName="/{part}" ContentType="{FOOTER_TYPE}"/>'
        for part in parts
    )
    closing = re.search(r"</(?:[\w.-]+:)?Types\s*>\s*$", types)
    if closing is None:
        raise NotOnPage(N_("the file's list of parts is incomplete"))
    return insert(types, closing.start(), overrides)
