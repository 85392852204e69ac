"""PDF through pdfium: each page's text layer, then what was typed into an XFA form.

A page that holds pictures and no text is a scan: when scans are read (``sink.scans``) it
is drawn at 300 dpi and read by Tesseract (:mod:`.scans`); a PDF whose scanned pages give
no text is said to be a scan rather than to have "no text";
owner-password-only PDFs are read, others are password-protected, and rights-managed
"wrapper" PDFs (whose real document is an encrypted attachment) are too."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..formats import MAX_IMAGE_PIXELS
from ..ocr import DPI
from ..reasons import DAMAGED, PASSWORD_PROTECTED, SCANNED, ExtractionError
from .scans import read_scanned_page
from .sink import SMALL_PART_BYTES, TextSink


def pdf_text(path: Path, sink: TextSink) -> None:
    """Each page's text layer, pages separated by newlines. PDFs that open with the empty
    password (owner-password-only ones) are read; others are password-protected."""
    import pypdfium2 as pdfium

    if _rights_managed(path):
        raise ExtractionError(PASSWORD_PROTECTED)
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        locked = getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD
        raise ExtractionError(PASSWORD_PROTECTED if locked else DAMAGED) from exc
    try:
        _pdf_pages(pdf, sink)
        _xfa_form_values(pdf, sink)
    finally:
        pdf.close()


def _pdf_pages(pdf: Any, sink: TextSink) -> None:
    import pypdfium2 as pdfium

    has_text = has_images = False
    for index in range(len(pdf)):
        try:
            text, images = _pdf_page(pdf, index, sink)
        except pdfium.PdfiumError:
            continue  # one bad page does not spoil the rest
        has_text = has_text or _has_words(text)
        has_images = has_images or images
        sink.add(text)
        sink.add("\n")
    if has_images and not has_text:
        raise ExtractionError(SCANNED)


def _pdf_page(pdf: Any, index: int, sink: TextSink) -> tuple[str, bool]:
    """A page's text layer and whether it is a scan (pictures and no text), counted in the
    sink; a scan's text is read by Tesseract when the sink says scans are read."""
    import pypdfium2 as pdfium

    page = pdf[index]
    try:
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        textpage.close()
        if _has_words(text):
            return text, False
        image_filter = (pdfium.raw.FPDF_PAGEOBJ_IMAGE,)
        if not any(page.get_objects(filter=image_filter, max_depth=3)):
            return text, False
        sink.scanned_pages_seen += 1
        if sink.scans is not None:
            text = _read_scan(page, index, sink) or text
        return text, True
    finally:
        page.close()


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _read_scan(page: Any, index: int, sink: TextSink) -> str:
    """Draw the page at the reading resolution (fewer dots for a giant page, so the picture
    stays within the pixel limit) and read it."""
    width, height = page.get_size()
    if width <= 0 or height <= 0 or sink.scans is None:
        return ""
    scale = min(DPI / 72, math.sqrt(MAX_IMAGE_PIXELS / (width * height)))
    picture = page.render(scale=scale, grayscale=True).to_pil()
    layer_dir = sink.scans.layer_dir
    layer_path = Path(layer_dir) / f"page-{index}.pdf" if layer_dir else None
    return read_scanned_page(picture, sink, layer_path)


def _xfa_form_values(pdf: Any, sink: TextSink) -> None:
    """What was typed into an XFA form lives in its "datasets" packet, not on the page."""
    import pypdfium2.raw as pdfium_c
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    for index in range(pdfium_c.FPDF_GetXFAPacketCount(pdf.raw)):
        if _xfa_packet(pdf, index, name_only=True) != b"datasets":
            continue
        try:
            root = fromstring(_xfa_packet(pdf, index))
        except (ParseError, DefusedXmlException):
            return  # a broken or hostile form leaves the page text as good as it was
        for elem in root.iter():
            if len(elem) == 0 and elem.text and elem.text.strip():
                sink.add(elem.text.strip() + "\n")


def _xfa_packet(pdf: Any, index: int, *, name_only: bool = False) -> bytes:
    """One XFA packet's name or content (at most 20 MB of it), through pdfium's C API."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    if name_only:
        size = pdfium_c.FPDF_GetXFAPacketName(pdf.raw, index, None, 0)
        name = ctypes.create_string_buffer(size)
        pdfium_c.FPDF_GetXFAPacketName(pdf.raw, index, name, size)
        return name.value
    size = ctypes.c_ulong(0)
    pdfium_c.FPDF_GetXFAPacketContent(pdf.raw, index, None, 0, ctypes.byref(size))
    content = ctypes.create_string_buffer(min(size.value, SMALL_PART_BYTES))
    pdfium_c.FPDF_GetXFAPacketContent(pdf.raw, index, content, len(content), ctypes.byref(size))
    return content.raw[: min(size.value, len(content))]


def _rights_managed(path: Path) -> bool:
    """An "unencrypted wrapper" PDF (Microsoft IRM and PDF 2.0) shows only a notice; the
    real document is an encrypted attachment."""
    import mmap

    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(b"/EncryptedPayload") >= 0
