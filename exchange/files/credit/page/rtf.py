"""The credit line in an RTF document's footer."""

from __future__ import annotations

import re
from pathlib import Path

from ....vocab import N_
from .common import NotOnPage, PageCredit, insert

MAX_RTF_BYTES = 64 * 1024 * 1024


def credit_rtf(src: Path, credit: PageCredit, tmp: Path) -> None:
    """A ``{\\footer}`` group before the body's first paragraph, or a paragraph added to
    the footer the document already has."""
    if src.stat().st_size > MAX_RTF_BYTES:
        raise NotOnPage(N_("the file is too large to rewrite"))
    text = src.read_bytes().decode("latin-1")  # RTF is 7-bit; latin-1 round-trips any byte
    paragraph = r"\pard\plain\qc\fs14 " + _rtf_escape(credit.line) + r"\par"
    existing = re.search(r"\{\\footer[\s\\]", text)
    if existing:
        end = _group_end(text, existing.start())
        text = insert(text, end, r"\par" + paragraph)
    else:
        text = insert(text, _rtf_body_start(text), r"{\footer" + paragraph + "}")
    tmp.write_bytes(text.encode("latin-1"))


def _rtf_escape(line: str) -> str:
    out = []
    for char in line:
        if char in "\\{}":
            out.append("\\" + char)
        elif 32 <= ord(char) < 128:
            out.append(char)
        else:
            for unit in char.encode("utf-16-be").hex(" ", 2).split():
                value = int(unit, 16)
                out.append(f"\\u{value - 65536 if value > 32767 else value}?")
    return "".join(out)


def _group_end(text: str, start: int) -> int:
    """Index of the closing brace of the group opening at ``start``."""
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return index
        index += 1
    raise NotOnPage(N_("the RTF file is incomplete"))


def _rtf_body_start(text: str) -> int:
    """Where the body begins: just after the first \\sectd, or at the first \\pard or text
    at the top level."""
    if not text.startswith("{\\rtf"):
        raise NotOnPage(N_("the file is not an RTF document"))
    depth, index = 0, 0
    while index < len(text):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "\\" and depth == 1:
            word = re.match(r"\\([a-z]+)(-?\d+)? ?", text[index : index + 64])
            if word and word.group(1) == "sectd":  # a footer after \\sectd, as Word writes it
                return index + len(word.group(0))
            if word and word.group(1) in ("pard", "par", "plain"):
                return index
            index += 2 if word is None else len(word.group(0))
            continue
        elif char == "\\":
            index += 2
            continue
        elif depth == 1 and not char.isspace() and char != ";":
            return index
        index += 1
    raise NotOnPage(N_("the RTF file has no body"))
