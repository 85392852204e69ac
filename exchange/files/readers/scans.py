"""Scanned pages and pictures: their text read by Tesseract (:mod:`exchange.files.ocr`).

A scan holds no text, only a picture of it. When the sink says scans are read
(``sink.scans``), :mod:`.pdf` hands each page without a text layer to
:func:`read_scanned_page` and :func:`image_text` reads a picture; otherwise both give
their reason ("a scanned image with no text layer", "an image"), as before OCR existed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..formats import MAX_IMAGE_PIXELS
from ..ocr import PageNotRead, looks_like_text, read_page
from ..reasons import IMAGE, ExtractionError
from .sink import TextSink


def read_scanned_page(picture: Any, sink: TextSink, layer_path: Path | None = None) -> str:
    """One page picture's text, counted against the page cap; "" when the page could not
    be read in its time (the other pages still are)."""
    reading = sink.scans
    if reading is None or sink.pages_scanned >= reading.page_limit:
        return ""
    sink.pages_scanned += 1
    try:
        text = read_page(picture, reading, layer_path)
    except PageNotRead as exc:
        print(f"scanned page not read: {exc}", file=sys.stderr)
        return ""
    if looks_like_text(text):
        sink.pages_read_from_scans += 1
        return text
    return ""


def image_text(path: Path, sink: TextSink) -> None:
    """A picture (PNG, JPEG, GIF, WebP) read as a page: a scan or a phone photo of one.

    Phone cameras store photos sideways with an EXIF note saying which way is up, so the
    picture is turned upright first; colour is dropped (Tesseract reads grey)."""
    from PIL import Image, ImageOps

    if sink.scans is None:
        raise ExtractionError(IMAGE)
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    with Image.open(path) as image:
        picture = ImageOps.exif_transpose(image).convert("L")
    text = read_scanned_page(picture, sink)
    if not text:
        raise ExtractionError(IMAGE)
    sink.add(text)
