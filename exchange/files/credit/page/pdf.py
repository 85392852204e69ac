"""The credit line on every page of a PDF: one more content stream draws a Form
XObject holding the line in an embedded font, along the reader's bottom edge; a page whose
own text reaches that edge is refused rather than covered.
"""

from __future__ import annotations

import io
import warnings
from functools import cache
from pathlib import Path

import pikepdf

from ....vocab import N_
from .common import XML_INVALID, NotOnPage, PageCredit

MAX_PDF_BYTES = 300 * 1024 * 1024
EDGE_TAKEN = N_("text on its pages reaches the bottom edge, where the line goes")
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


def credit_pdf(src: Path, credit: PageCredit, tmp: Path) -> None:
    """One more content stream on every page draws a Form XObject holding the line: the
    page's own streams are kept as they are (wrapped in q/Q so their graphics state
    cannot move the line)."""
    if src.stat().st_size > MAX_PDF_BYTES:
        raise NotOnPage(N_("the file is too large to rewrite"))
    runs = _font_runs(credit.line)
    with _open_pdf(src) as pdf:
        if pdf.is_encrypted:
            raise NotOnPage(N_("the file is password-protected"))
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
            raise NotOnPage(N_("the rewritten file lost pages"))


def _open_pdf(src: Path) -> pikepdf.Pdf:
    try:
        return pikepdf.open(src)
    except pikepdf.PasswordError as exc:
        raise NotOnPage(N_("the file is password-protected")) from exc
    except pikepdf.PdfError as exc:
        raise NotOnPage(N_("the file is damaged")) from exc


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
                raise NotOnPage(
                    N_("text on its pages reaches the bottom edge, where the line goes")
                )
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
            raise NotOnPage(N_("no font on the server can draw every character of the credit line"))
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
        xmp["dc:creator"] = [XML_INVALID.sub("", credit.creator)]
        xmp["dc:rights"] = XML_INVALID.sub("", credit.line)
        if credit.web_statement:
            xmp["xmpRights:WebStatement"] = credit.web_statement
