"""Credit on the printed page: the giver's credit line written where a printed
worksheet shows it -- a footer, a sheet's print footer, the bottom edge of a slide or a PDF page.

A counsellor prints a worksheet and hands it to a client: document properties and file
names do not survive that, a line on the page does. Each writer edits the one place
it owns and copies everything else byte for byte (zip entries keep their order, names and
compression; XML parts are edited as text so namespace prefixes, ``mc:Ignorable`` lists
and QName-valued attributes stay valid; a PDF page keeps its own content streams and gets
one more). When that cannot be done safely the caller gets a :class:`PageCreditResult`
saying why, and serves the file with its properties credit only.

:func:`write_page_credit` is the one call; one module per family writes the line:
:mod:`.docx` (Word footers), :mod:`.xlsx` (Excel print footers), :mod:`.pptx` (a box on
each slide), :mod:`.odf` (OpenDocument footers and slide frames), :mod:`.pdf` (a content
stream with an embedded font), :mod:`.rtf`, :mod:`.text`; :mod:`.package` opens and
rewrites zips, :mod:`.ooxml` finds Office parts, :mod:`.common` holds what they all share.

Pure functions on files, no Flask and nothing from the rest of the application, so the
package can move with the file-format code.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from ....vocab import N_
from ...formats import ALLOWED
from ..places import NOT_ON_PAGE
from .common import NotOnPage, PageCredit, PageCreditResult, Writer
from .docx import word_edit
from .odf import odf_footer_edit, odp_edit
from .package import package_edit
from .pdf import credit_pdf
from .pptx import slides_edit
from .rtf import credit_rtf
from .text import credit_text
from .xlsx import excel_edit

log = logging.getLogger(__name__)


def write_page_credit(src: Path, fmt: str, credit: PageCredit, dest: Path) -> PageCreditResult:
    """Write ``src`` to ``dest`` with the credit line on its pages.

    Never raises for a bad file: people upload anything, and the download must still
    work. ``dest`` appears only complete (built beside it, then renamed into place).
    """
    writer = _WRITERS.get(fmt.lower())
    if writer is None:
        return PageCreditResult(False, NOT_ON_PAGE.get(fmt.lower(), N_("its format has no pages")))
    dest = Path(dest)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".page-", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(Path(src), credit, tmp)
    except NotOnPage as refusal:
        tmp.unlink(missing_ok=True)
        return PageCreditResult(False, str(refusal))
    except Exception:  # hostile uploads can make any parser fail in any way
        log.warning("could not put the credit on the pages of %s (%s)", src, fmt, exc_info=True)
        tmp.unlink(missing_ok=True)
        return PageCreditResult(False, N_("the file could not be read safely"))
    os.replace(tmp, dest)
    return PageCreditResult(True)


# Each printed-credit writer, by the name a format's entry in the registry gives it
# (``FileType.page_writer``): the registry alone says which format gets which.
WRITERS: dict[str, Writer] = {
    "word": package_edit(word_edit),
    "excel": package_edit(excel_edit),
    "slides": package_edit(slides_edit),
    "odf-footer": package_edit(odf_footer_edit),
    "odf-slides": package_edit(odp_edit),
    "pdf": credit_pdf,
    "rtf": credit_rtf,
    "text": credit_text,
}
_WRITERS: dict[str, Writer] = {
    fmt: WRITERS[file_type.page_writer]
    for fmt, file_type in ALLOWED.items()
    if file_type.page_writer
}

__all__ = ["NotOnPage", "PageCredit", "PageCreditResult", "write_page_credit"]
