"""The text readers, one module per family of formats.

Each format in :data:`exchange.files.formats.ALLOWED` names its ``reader``; :data:`READERS`
below maps that name to the function that reads it. A reader takes a path and a
:class:`~.sink.TextSink`, adds the text it finds, and raises
:class:`~exchange.files.reasons.ExtractionError` when a file cannot be read for an ordinary
reason (password, scan, damage). Readers run only inside the limited child process
(:mod:`exchange.files.sandbox`), through :func:`exchange.files.extract.extract`.

Rules every reader keeps: XML through defusedxml only (:mod:`.markup`), zips only through
:func:`exchange.files.formats.open_zip`, and each imports the library for its own format
inside its functions, so a child stays quick to start.

- :mod:`.docx`, :mod:`.xlsx`, :mod:`.pptx`: Office Open XML, sharing :mod:`.ooxml`.
- :mod:`.odf`: OpenDocument. :mod:`.pdf`: PDF. :mod:`.rtf`: RTF. :mod:`.text`: plain text.
- :mod:`.legacy`: Word, Excel and PowerPoint 97-2003.
- :mod:`.scans`: pictures, and PDF pages without a text layer, read by Tesseract.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .docx import docx_text
from .legacy import doc_text, ppt_text, xls_text
from .odf import odf_text
from .pdf import pdf_text
from .pptx import pptx_text
from .rtf import rtf_text
from .scans import image_text
from .sink import TextSink
from .text import plain_text
from .xlsx import xlsx_text

Reader = Callable[[Path, TextSink], None]

# Each format's ``reader`` (see :data:`exchange.files.formats.ALLOWED`) -> the function
# that reads it. Pictures ("image") hold text only as a picture of it: they are read by
# Tesseract when scans are read, and otherwise give their reason.
READERS: dict[str, Reader] = {
    "word": docx_text,
    "sheet": xlsx_text,
    "slides": pptx_text,
    "odf": odf_text,
    "pdf": pdf_text,
    "rtf": rtf_text,
    "text": plain_text,
    "legacy-word": doc_text,
    "legacy-sheet": xls_text,
    "legacy-slides": ppt_text,
    "image": image_text,
}
