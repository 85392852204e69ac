"""Credit written into a file's own document properties: what Word,
Excel, LibreOffice or a PDF viewer show as its author, title and description.

:func:`write_credited_copy` is the one call; each family's writer lives in its own module
(:mod:`.ooxml` for Word/Excel/PowerPoint, :mod:`.odf` for OpenDocument, :mod:`.pdf`), sharing
the zip limits of :mod:`.package` and the XML helpers of :mod:`.parts`. Which formats get
which writer follows the formats registry (a format's ``package``, and PDF).

Rewriting a file must never damage it: every part we do not own is copied byte for byte
(zip entries keep their order, names and compression; a PDF gets an incremental update
appended after its untouched original bytes). When that cannot be promised -- encrypted,
damaged, oversized or unknown files -- the caller gets ``False`` and serves the original.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

# Only ElementTree's parse error is needed here; every parse goes through defusedxml.
from xml.etree import ElementTree as ET  # nosec B405

import pikepdf

from ...formats import formats_where
from ..line import Credit
from .odf import credit_odf
from .ooxml import credit_ooxml
from .package import UnsafePackage
from .pdf import credit_pdf

log = logging.getLogger(__name__)

OOXML_FORMATS = formats_where(lambda t: t.package == "ooxml")
ODF_FORMATS = formats_where(lambda t: t.package == "odf")
CREDITABLE_FORMATS = formats_where(lambda t: t.credit_in_properties)


_Writer = Callable[[Path, Credit, Path], bool]


def write_credited_copy(src: Path, fmt: str, credit: Credit, dest: Path) -> bool:
    """Write ``src`` to ``dest`` with the credit in its document properties.

    Returns False, without creating ``dest``, when the format has no properties or the file
    cannot be rewritten safely; a bad input file never raises, because the download must
    still work (with the original bytes) whatever people uploaded. The copy is built in a
    temporary file beside ``dest`` and renamed into place only once it is complete.
    """
    writer = _WRITERS.get(fmt.lower())
    if writer is None:
        return False
    dest = Path(dest)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".credit-", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    if _attempt(writer, Path(src), fmt, credit, tmp):
        os.replace(tmp, dest)
        return True
    tmp.unlink(missing_ok=True)
    return False


def _attempt(writer: _Writer, src: Path, fmt: str, credit: Credit, tmp: Path) -> bool:
    try:
        return writer(src, credit, tmp)
    except _REFUSALS as error:
        log.info("no credited copy of %s (%s): %s", src, fmt, error)
    except Exception:  # hostile uploads can make any parser fail in any way
        log.warning("could not write credit into %s (%s)", src, fmt, exc_info=True)
    return False


# Failures that simply mean "this file cannot carry credit": no traceback needed in the log.
_REFUSALS = (
    UnsafePackage,
    zipfile.BadZipFile,
    ET.ParseError,
    ValueError,  # includes defusedxml's refusals and undecodable parts
    pikepdf.PdfError,
)

_WRITERS: dict[str, _Writer] = {
    **dict.fromkeys(OOXML_FORMATS, credit_ooxml),
    **dict.fromkeys(ODF_FORMATS, credit_odf),
    "pdf": credit_pdf,
}

__all__ = ["CREDITABLE_FORMATS", "ODF_FORMATS", "OOXML_FORMATS", "write_credited_copy"]
