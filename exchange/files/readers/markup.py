"""XML helpers every XML-based reader (OOXML, OpenDocument) shares: safe parsing only.

XML is read with defusedxml alone: no entity expansion, no external entities or DTDs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any


def local_name(tag: str) -> str:
    """``{namespace}name`` -> ``name``: transitional and Strict OOXML differ only in URIs."""
    return tag.rpartition("}")[2]


def iterparse_safely(stream: IO[bytes], events: tuple[str, ...] = ("end",)) -> Iterator[Any]:
    """Streaming, defused XML: no entity expansion, no external entities or DTD fetching."""
    from defusedxml.ElementTree import iterparse

    return iterparse(stream, events=events)


def int_or(value: str | None, default: int) -> int:
    """An attribute as a number, or ``default`` when it is missing or not one."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
