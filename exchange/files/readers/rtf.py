"""Rich Text Format through striprtf, decoded in the document's own ANSI code page."""

from __future__ import annotations

import re
from pathlib import Path

from .sink import TextSink


def rtf_text(path: Path, sink: TextSink) -> None:
    """RTF through striprtf, in the document's own ANSI code page (\\ansicpgN)."""
    from striprtf.striprtf import rtf_to_text

    raw = path.read_bytes()
    declared = re.search(rb"\\ansicpg(\d{3,5})", raw[:8192])
    encoding = _known_codec(f"cp{declared.group(1).decode()}" if declared else "cp1252")
    sink.add(rtf_to_text(raw.decode(encoding, "replace"), encoding=encoding, errors="replace"))


def _known_codec(name: str) -> str:
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        return "cp1252"
