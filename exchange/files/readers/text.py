"""Plain text files (txt, csv, md): the encoding is guessed, never assumed."""

from __future__ import annotations

from pathlib import Path

from ..formats import guess_text_encoding
from ..reasons import UNREADABLE_KIND, ExtractionError
from .sink import TEXT_FILE_BYTES, TextSink


def plain_text(path: Path, sink: TextSink) -> None:
    """txt, csv and md: BOM, then UTF-8, then charset-normalizer's best guess."""
    with path.open("rb") as fh:
        data = fh.read(TEXT_FILE_BYTES)
    encoding = guess_text_encoding(data[: 256 * 1024])
    if encoding is None:
        raise ExtractionError(UNREADABLE_KIND)
    sink.add(data.decode(encoding, "replace"))
