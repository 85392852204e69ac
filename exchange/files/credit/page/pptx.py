"""The credit line on a PowerPoint presentation's slides (pptx, potx): a small
text box along the bottom edge of every slide.
"""

from __future__ import annotations

import re
import zipfile

from ....vocab import N_
from .common import NotOnPage, PageCredit, append_inside, element_spans, prefix_for, xml_escape
from .ooxml import main_part, parts_of_type
from .package import read_part

P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"


EMU_PER_POINT = 12700


def slides_edit(archive: zipfile.ZipFile, credit: PageCredit) -> tuple[dict, dict]:
    """A small text box along the bottom edge of every slide: each slide keeps its own
    layout, which a change to the master's footer placeholder could not promise."""
    slides = parts_of_type(archive, "presentationml.slide+xml")
    if not slides:
        raise NotOnPage(N_("the presentation has no slides"))
    width, height = _slide_size(read_part(archive, main_part(archive)))
    return {
        name: _slide_with_credit(read_part(archive, name), credit.line, width, height)
        for name in slides
    }, {}


def _slide_size(presentation: str) -> tuple[int, int]:
    size = re.search(r'<[\w.-]+:sldSz\b[^>]*cx="(\d+)"[^>]*cy="(\d+)"', presentation)
    return (int(size.group(1)), int(size.group(2))) if size else (9144000, 6858000)


def _slide_with_credit(slide: str, line: str, width: int, height: int) -> str:
    p, a = prefix_for(slide, P_NS), prefix_for(slide, A_NS)
    trees = element_spans(slide, f"{p}:spTree")
    if len(trees) != 1:
        raise NotOnPage(N_("a slide is laid out in a way we cannot add to safely"))
    start, end, _ = trees[0]
    ids = [int(n) for n in re.findall(r'<[\w.-]+:cNvPr\b[^>]*\bid="(\d+)"', slide)]
    box = _slide_text_box(p, a, max(ids, default=1) + 1, line, width, height)
    return slide[:start] + append_inside(slide[start:end], f"{p}:spTree", box) + slide[end:]


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
        f'val="666666"/></{a}:solidFill></{a}:rPr><{a}:t>{xml_escape(line)}</{a}:t></{a}:r>'
        f"</{a}:p></{p}:txBody></{p}:sp>"
    )
