"""The credit line in OpenDocument files: in the footer of every master page of a
text or spreadsheet (odt, ods), in a small frame at the bottom of every slide (odp).
"""

from __future__ import annotations

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
from .package import read_part

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
        if prefix_for(xml, ODF_NS[prefix]) != prefix:
            raise NotOnPage(N_("the file is laid out in a way we cannot add to safely"))


def _odf_paragraph_style(family_extra: str = "") -> str:
    return (
        f'<style:style style:name="{CREDIT_STYLE}" style:family="paragraph">'
        f'<style:paragraph-properties fo:text-align="center"{family_extra}/>'
        '<style:text-properties fo:font-size="7pt" fo:color="#666666" '
        'style:font-size-asian="7pt" style:font-size-complex="7pt"/></style:style>'
    )


def _with_automatic_style(xml: str, style: str) -> str:
    """Add ``style`` to the part's automatic styles, creating that element when missing."""
    spans = element_spans(xml, "office:automatic-styles")
    if spans:
        start, end, _ = spans[0]
        element = append_inside(xml[start:end], "office:automatic-styles", style)
        return xml[:start] + element + xml[end:]
    anchor = re.search(r"<office:(?:master-styles|body)\b", xml)
    if anchor is None:
        raise NotOnPage(N_("the file is laid out in a way we cannot add to safely"))
    return insert(
        xml, anchor.start(), f"<office:automatic-styles>{style}</office:automatic-styles>"
    )


def odf_footer_edit(archive: zipfile.ZipFile, credit: PageCredit) -> tuple[dict, dict]:
    """Every master page (a text's page style, a sheet's print layout) gains the line in
    its footer, its left-page and first-page footers included."""
    if "styles.xml" not in archive.namelist():
        raise NotOnPage(N_("the file has no page styles"))
    styles = read_part(archive, "styles.xml")
    _require_conventional_prefixes(styles, "office", "style", "text", "fo")
    paragraph = f'<text:p text:style-name="{CREDIT_STYLE}">{xml_escape(credit.line)}</text:p>'
    pages = element_spans(styles, "style:master-page")
    if not pages:
        raise NotOnPage(N_("the file has no page styles"))
    for start, end, _ in reversed(pages):
        styles = styles[:start] + _master_page_with(styles[start:end], paragraph) + styles[end:]
    return {"styles.xml": _with_automatic_style(styles, _odf_paragraph_style())}, {}


def _master_page_with(page: str, paragraph: str) -> str:
    footers = []
    for tag in ("style:footer", "style:footer-left", "style:footer-first"):
        spans = element_spans(page, tag)
        if spans:
            footers.append((spans[0][0], spans[0][1], tag))
    if not footers:
        return _append_footer(page, f"<style:footer>{paragraph}</style:footer>")
    for start, end, tag in sorted(footers, reverse=True):
        page = page[:start] + _footer_element_with(page[start:end], tag, paragraph) + page[end:]
    return page


def _footer_element_with(footer: str, tag: str, paragraph: str) -> str:
    footer = re.sub(r'\sstyle:display="false"', "", footer, count=1)
    regions = element_spans(footer, "style:region-center")
    if regions:
        start, end, _ = regions[0]
        centre = append_inside(footer[start:end], "style:region-center", paragraph)
        return footer[:start] + centre + footer[end:]
    if re.search(r"<style:region-(?:left|right)\b", footer):
        closing = footer.rfind(f"</{tag}>")
        right = re.search(r"<style:region-right\b", footer)
        at = right.start() if right else closing
        return insert(footer, at, f"<style:region-center>{paragraph}</style:region-center>")
    return append_inside(footer, tag, paragraph)


def _append_footer(page: str, footer: str) -> str:
    """A new footer goes after any headers, before forms, styles and notes."""
    if page.endswith("/>"):
        return append_inside(page, "style:master-page", footer)
    following = re.search(
        r"<(?:style:footer-left|style:footer-first|office:forms|style:style"
        r"|presentation:notes)\b",
        page,
    )
    closing = page.rfind("</style:master-page>")
    return insert(page, following.start() if following else closing, footer)


def odp_edit(archive: zipfile.ZipFile, credit: PageCredit) -> tuple[dict, dict]:
    """A small text frame along the bottom edge of every slide (draw:page)."""
    content = read_part(archive, "content.xml")
    _require_conventional_prefixes(content, "office", "style", "text", "fo", "draw", "svg")
    width, height = _odp_page_size(archive)
    pages = element_spans(content, "draw:page")
    if not pages:
        raise NotOnPage(N_("the presentation has no slides"))
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
        return append_inside(page, "draw:page", frame)
    following = re.search(r"<(?:presentation:animations|anim:[\w-]+|presentation:notes)\b", page)
    return insert(page, following.start() if following else page.rfind("</draw:page>"), frame)


def _odp_frame(line: str, width_cm: float, height_cm: float) -> str:
    box = 0.6
    return (
        f'<draw:frame draw:style-name="TxCreditFrame" svg:x="0cm" '
        f'svg:y="{height_cm - box:.3f}cm" svg:width="{width_cm:.3f}cm" svg:height="{box}cm">'
        f'<draw:text-box><text:p text:style-name="{CREDIT_STYLE}">{xml_escape(line)}'
        "</text:p></draw:text-box></draw:frame>"
    )


_CM_PER_UNIT = {"cm": 1.0, "mm": 0.1, "in": 2.54, "pt": 2.54 / 72, "pc": 2.54 / 6}


def _odp_page_size(archive: zipfile.ZipFile) -> tuple[float, float]:
    """The slides' size from the first page layout (presentations have one)."""
    styles = read_part(archive, "styles.xml") if "styles.xml" in archive.namelist() else ""
    found = []
    for attribute in ("fo:page-width", "fo:page-height"):
        match = re.search(rf'{attribute}="([\d.]+)(cm|mm|in|pt|pc)"', styles)
        found.append(float(match.group(1)) * _CM_PER_UNIT[match.group(2)] if match else None)
    if None in found:
        return 28.0, 15.75  # LibreOffice Impress's default 16:9 slide
    return found[0], found[1]
