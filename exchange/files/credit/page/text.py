"""The credit line at the end of a plain text or Markdown file."""

from __future__ import annotations

from pathlib import Path

from ....vocab import N_
from .common import NotOnPage, PageCredit

MAX_TEXT_BYTES = 32 * 1024 * 1024


def credit_text(src: Path, credit: PageCredit, tmp: Path) -> None:
    """The line after a blank line at the end, in the file's own encoding and line ends."""
    data = src.read_bytes()
    if len(data) > MAX_TEXT_BYTES:
        raise NotOnPage(N_("the file is too large to rewrite"))
    encoding = _text_encoding(data)
    text = data.decode(encoding)
    newline = "\r\n" if "\r\n" in text else "\n"
    ending = "" if text.endswith(("\n", "\r")) or not text else newline
    addition = f"{ending}{newline}{credit.line}{newline}"
    try:
        encoded = addition.encode(encoding.replace("-sig", "").replace("utf-16", "utf-16-le"))
    except UnicodeEncodeError as exc:
        raise NotOnPage(
            N_("the credit line has characters the file's encoding cannot hold")
        ) from exc
    tmp.write_bytes(data + encoded)


def _text_encoding(data: bytes) -> str:
    if data.startswith(b"\xff\xfe"):
        return "utf-16"  # little-endian, as written by Windows Notepad
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotOnPage(
            N_("the text is not in UTF-8, so a line added to it could be garbled")
        ) from exc
    return "utf-8"
