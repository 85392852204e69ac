"""The invisible text layer a scanned PDF's downloaded copy gets (the giver's choice).

A client given a scan cannot search it or copy a line from it. When a PDF's scanned pages
are read (:mod:`.ocr`), Tesseract also writes each page's words as a text-only PDF page:
glyphs drawn invisibly (rendering mode 3), in the place each word sits on the picture. Here
each such page is laid over its page of the original, as a form drawn last, so the copy
looks exactly as shared while its words can be searched and selected. The credit writers
then work on that copy as on any PDF: the properties and the printed line still travel.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

_LAYER_PAGE = re.compile(r"^page-(\d+)\.pdf$")


def layer_pages(layer_dir: Path | None) -> dict[int, Path]:
    """The text-only page for each page index that has one."""
    if layer_dir is None or not layer_dir.is_dir():
        return {}
    found = (_LAYER_PAGE.match(path.name) for path in layer_dir.iterdir())
    return {int(match.group(1)): layer_dir / match.group(0) for match in found if match}


def add_text_layer(source: Path, pages: dict[int, Path], dest: Path) -> bool:
    """Write ``source`` to ``dest`` with each of ``pages`` laid over its page; False (and
    nothing at ``dest``) when there is no layer or the file cannot be rewritten safely."""
    import pikepdf

    if not pages:
        return False
    try:
        with pikepdf.open(source) as pdf:
            for index, layer_path in sorted(pages.items()):
                if index < len(pdf.pages):
                    _lay_over(pdf, pdf.pages[index], layer_path)
            pdf.save(dest)
        return True
    except Exception:  # noqa: BLE001 - a copy without its layer is still a good copy
        log.warning("no text layer for %s", source, exc_info=True)
        dest.unlink(missing_ok=True)
        return False


def _lay_over(pdf, page, layer_path: Path) -> None:
    """Tesseract's page is the page as shown (pdfium drew it turned by its /Rotate), so the
    layer is turned back by that angle to sit on the page as stored, then stretched over
    the page's visible area (its crop box, which pdfium drew)."""
    import pikepdf

    with pikepdf.open(layer_path) as layer:
        layer_page = layer.pages[0]
        turned = int(page.obj.get("/Rotate", 0)) % 360
        if turned:
            layer_page.obj.Rotate = (360 - turned) % 360
        form = pdf.copy_foreign(layer_page.as_form_xobject(handle_transformations=True))
    name = page.add_resource(form, pikepdf.Name.XObject)
    area = pikepdf.Rectangle(page.cropbox)
    drawing = page.calc_form_xobject_placement(form, name, area, invert_transformations=False)
    page.contents_add(b"q\n", prepend=True)
    page.contents_add(b"Q\n" + drawing)
