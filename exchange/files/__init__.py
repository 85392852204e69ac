"""Uploaded files: what they are, what they say, and the credit they carry.

- :mod:`.formats`: every accepted format, declared once, and identifying an upload by its
  content (never its name alone); the limits that refuse zip and picture bombs.
- :mod:`.extract`: the text of a file for search, read in the limited child process of
  :mod:`.sandbox` (time and memory limits), by the format's reader in :mod:`.readers` (one
  module per family: docx, xlsx, pptx, odf, pdf, rtf, text, legacy); :mod:`.reasons`: why
  a file's text could not be read. :mod:`.ocr`: scanned pages and pictures read by
  Tesseract in that child (:mod:`.readers.scans`), and :mod:`.text_layer`: the invisible
  text a scanned PDF's credited copy gets. :mod:`.preview`: first-page pictures, likewise limited;
  :mod:`.office_preview`: first pages of office files drawn by LibreOffice (slow: a job runs
  it after the share).
- :mod:`.credit`: the credit a downloaded file carries, one module per question: the
  credit line's wording (:mod:`.credit.line`), the credited download name
  (:mod:`.credit.download`), credit in the file's own properties (:mod:`.credit.properties`,
  one module per family), the line printed on every page, footer or slide
  (:mod:`.credit.page`, one module per family) and the original author a file names
  (:mod:`.credit.authors`).
- :mod:`.privacy`: flagging text that looks like a client's personal details.
- :mod:`.uploads`: the pipeline a share runs each file through, down to the zip with a
  ``credit.txt`` that a file unable to carry its credit may be given.

Other packages use only the names exported here (``make lint`` checks it).
"""

from .credit import (
    CREDIT_PLACES,
    Credit,
    RunningOrder,
    SheetItem,
    content_disposition,
    credit_line,
    download_name,
    kit_credit_line,
    running_order_pdf,
    version_name,
)
from .formats import (
    ACCEPT_ATTRIBUTE,
    ALLOWED,
    ALLOWED_SUMMARY,
    FileType,
    UnsupportedFile,
    detect,
)
from .privacy import Finding, find_personal_data
from .uploads import (
    BUNDLE_CONTENT_TYPE,
    PreparedFile,
    QuotaExceeded,
    UploadRefused,
    UploadTooLarge,
    bundle_name,
    bundle_with_credit_txt,
    draw_office_preview,
    make_credited_copy,
    make_thumbnail,
    read_text,
    stage,
)

__all__ = [
    "ACCEPT_ATTRIBUTE",
    "BUNDLE_CONTENT_TYPE",
    "ALLOWED",
    "ALLOWED_SUMMARY",
    "CREDIT_PLACES",
    "Credit",
    "FileType",
    "Finding",
    "PreparedFile",
    "QuotaExceeded",
    "UnsupportedFile",
    "UploadRefused",
    "UploadTooLarge",
    "bundle_name",
    "bundle_with_credit_txt",
    "content_disposition",
    "credit_line",
    "detect",
    "download_name",
    "draw_office_preview",
    "find_personal_data",
    "make_credited_copy",
    "make_thumbnail",
    "read_text",
    "stage",
    "version_name",
    "RunningOrder",
    "SheetItem",
    "kit_credit_line",
    "running_order_pdf",
]
