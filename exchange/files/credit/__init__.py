"""Credit that travels with a downloaded file, one module per question.

Givers share on the promise of being credited "each and every time", so the credit must
survive the file leaving the site: in the document properties people see in Word, Excel,
LibreOffice or a PDF viewer, in the file name, and printed on the page. Anonymous gifts
carry no personal name in anything written here. Nothing here needs Flask.

- :mod:`.line`: who and what to credit (:class:`Credit`) and the credit line's wording.
- :mod:`.download`: the credited download name and its Content-Disposition header.
- :mod:`.properties`: credit written into a file's own properties, one module per family
  (:mod:`.properties.ooxml`, :mod:`.properties.odf`, :mod:`.properties.pdf`).
- :mod:`.page`: the credit line printed on every page, footer or slide, one module per
  family (:mod:`.page.docx`, :mod:`.page.xlsx`, :mod:`.page.pptx`, :mod:`.page.odf`,
  :mod:`.page.pdf`, :mod:`.page.rtf`, :mod:`.page.text`).
- :mod:`.places`: where each format's credit goes, in words for the resource page.
- :mod:`.authors`: the original author a file's properties name, kept beside the giver.
- :mod:`.bundle`: the zip with a ``credit.txt`` for a file that cannot carry its credit.
- :mod:`.sheet`: a workshop kit's running-order sheet (PDF), every credit line on it.

The rest of the application uses these through :mod:`exchange.files` only.
"""

from .authors import GENERIC_AUTHORS, original_author
from .bundle import CREDIT_TXT, credit_txt, write_credit_bundle
from .download import content_disposition, download_name, person_name, version_name
from .line import (
    ADAPTED_FROM,
    ANONYMOUS_CREATOR,
    SITE_NAME,
    Credit,
    creator_text,
    credit_line,
    description_text,
    kit_credit_line,
)
from .page import PageCredit, PageCreditResult, write_page_credit
from .places import CREDIT_PLACES, CreditPlace
from .properties import CREDITABLE_FORMATS, write_credited_copy
from .sheet import RunningOrder, SheetItem, running_order_pdf

__all__ = [
    "ADAPTED_FROM",
    "ANONYMOUS_CREATOR",
    "CREDITABLE_FORMATS",
    "CREDIT_PLACES",
    "CREDIT_TXT",
    "GENERIC_AUTHORS",
    "SITE_NAME",
    "Credit",
    "CreditPlace",
    "PageCredit",
    "PageCreditResult",
    "content_disposition",
    "creator_text",
    "credit_line",
    "credit_txt",
    "description_text",
    "download_name",
    "original_author",
    "person_name",
    "version_name",
    "write_credit_bundle",
    "write_credited_copy",
    "write_page_credit",
    "RunningOrder",
    "SheetItem",
    "kit_credit_line",
    "running_order_pdf",
]
