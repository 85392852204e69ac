"""A small PNG of a shared file's first page, for the resource page.

Rendering untrusted PDFs and images is as risky as parsing them, so the work happens in
the same limited child process as text extraction (:func:`exchange.files.sandbox.run_limited`).
PDFs are rendered with pdfium; images are scaled with Pillow, which refuses decompression
bombs; Office and OpenDocument files offer the thumbnail they embed, when they have one.
Everything else simply has no preview.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from pathlib import Path
from typing import Any

from .formats import MAX_IMAGE_PIXELS, formats_where, open_zip, read_member
from .sandbox import run_limited

log = logging.getLogger(__name__)

PDF_FORMATS = formats_where(lambda t: t.reader == "pdf")
IMAGE_FORMATS = formats_where(lambda t: t.reader == "image")
PACKAGE_FORMATS = formats_where(lambda t: bool(t.package))
# Cheap previews only: pages LibreOffice draws are made by a job (see .office_preview).
PREVIEW_FORMATS = PDF_FORMATS | IMAGE_FORMATS | PACKAGE_FORMATS

# A preview is a strip at most this many times taller than wide (long receipts, banners).
MAX_ASPECT = 3
MAX_THUMBNAIL_BYTES = 10 * 1024 * 1024
_THUMBNAILS = (
    "docProps/thumbnail.png",
    "docProps/thumbnail.jpeg",
    "docProps/thumbnail.jpg",
    "docProps/thumbnail.gif",
    "Thumbnails/thumbnail.png",
)
_TARGET = "exchange.files.preview:_render_in_child"


def make_preview(
    path: Path,
    fmt: str,
    out_path: Path,
    *,
    width: int = 480,
    timeout_s: float = 20,
    memory_mb: int = 512,
) -> bool:
    """Write a PNG no wider than ``width`` to ``out_path`` and return True, or return False
    (leaving nothing at ``out_path``) when this file has no preview. Never raises."""
    if fmt not in PREVIEW_FORMATS or width < 1:
        return False
    partial = out_path.with_name(out_path.name + ".part")
    try:
        args = [fmt, str(Path(path).resolve()), str(partial.resolve()), str(width)]
        outcome = run_limited(_TARGET, args, timeout_s=timeout_s, memory_mb=memory_mb)
        if outcome.value is True and partial.is_file():
            os.replace(partial, out_path)
            return True
    except Exception:  # the promise is "never raises"; say so in the log instead
        log.exception("preview of %s as %s failed", path, fmt)
    partial.unlink(missing_ok=True)
    return False


def _render_in_child(fmt: str, path: str, out_path: str, width: str) -> bool:
    return render_preview(Path(path), fmt, Path(out_path), int(width))


def render_preview(path: Path, fmt: str, out_path: Path, width: int) -> bool:
    """The in-process renderer (what the child runs); False when there is nothing to show."""
    if fmt in PDF_FORMATS:
        return _pdf_preview(path, out_path, width)
    if fmt in IMAGE_FORMATS:
        with path.open("rb") as source:
            return _image_preview(source, out_path, width)
    if fmt in PACKAGE_FORMATS:
        thumbnail = _embedded_thumbnail(path)
        return thumbnail is not None and _image_preview(io.BytesIO(thumbnail), out_path, width)
    return False


def _pdf_preview(path: Path, out_path: Path, width: int) -> bool:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return False  # password-protected or damaged
    try:
        if len(pdf) == 0:
            return False
        page = pdf[0]
        page_width, page_height = page.get_size()
        if page_width <= 0 or page_height <= 0:
            return False
        scale = min(width / page_width, MAX_ASPECT * width / page_height)
        page.render(scale=scale).to_pil().save(out_path, format="PNG")
        return True
    finally:
        pdf.close()


def _image_preview(source: Any, out_path: Path, width: int) -> bool:
    """Scale an image down to ``width``; refuse bombs (too many pixels) and broken files."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        with Image.open(source) as image:
            image.verify()
        source.seek(0)
        with Image.open(source) as image:
            image.draft("RGB", (width, width * MAX_ASPECT))
            picture = ImageOps.exif_transpose(image)
            picture.thumbnail((width, width * MAX_ASPECT))
            _png_ready(picture).save(out_path, format="PNG")
        return True
    except Exception as exc:  # Pillow signals broken and oversized images many ways
        log.info("no preview: %r", exc)
        return False


def _png_ready(picture: Any) -> Any:
    """PNG takes only some modes; palette images keep their transparency as RGBA."""
    if picture.mode in ("RGB", "RGBA", "L", "LA"):
        return picture
    has_alpha = "transparency" in picture.info or picture.mode in ("PA", "RGBa", "La")
    return picture.convert("RGBA" if has_alpha else "RGB")


def _embedded_thumbnail(path: Path) -> bytes | None:
    """The raster thumbnail an Office or OpenDocument file carries, if any."""
    try:
        with open_zip(path) as archive:
            name = next((n for n in _THUMBNAILS if n in archive.NameToInfo), None)
            return read_member(archive, name, MAX_THUMBNAIL_BYTES) if name else None
    except Exception:  # a damaged or refused archive simply has no preview
        return None
