"""Where readers put the text they find, and how much of it they may collect."""

from __future__ import annotations

from ..ocr import ScanReading

MAX_TEXT_CHARS = 1_000_000
# Parsers stop a little past the cap: normalising whitespace shrinks the text.
RAW_TEXT_CHARS = MAX_TEXT_CHARS * 6 // 5
TEXT_FILE_BYTES = RAW_TEXT_CHARS * 4
# Parts read whole (workbook, styles, relationships...) are small in any real document.
SMALL_PART_BYTES = 20 * 1024 * 1024


class TextSink:
    """Collects text and raises :class:`TextSink.Full` once enough is held.

    Raising lets a parser deep inside nested loops stop at once, so a huge spreadsheet costs
    no more time or memory than its first million characters.
    """

    class Full(Exception):
        """Enough text has been collected; the parser should stop."""

    def __init__(self, limit: int, scans: ScanReading | None = None) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._limit = limit
        # How scanned pages are read (None: they are not, and give their reason instead),
        # how many the file has (pages with pictures and no text layer), how many were
        # handed to Tesseract, and how many gave text.
        self.scans = scans
        self.scanned_pages_seen = 0
        self.pages_scanned = 0
        self.pages_read_from_scans = 0

    def add(self, text: str | None) -> None:
        if not text:
            return
        self._parts.append(text)
        self._size += len(text)
        if self._size >= self._limit:
            raise TextSink.Full

    def text(self) -> str:
        return "".join(self._parts)[: self._limit]
