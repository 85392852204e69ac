"""OpenDocument text, spreadsheets and presentations (odt, ods, odp): paragraphs and
headings of content.xml, then header and footer text from styles.xml."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from ..formats import read_member
from ..reasons import DAMAGED, PASSWORD_PROTECTED, ExtractionError
from .markup import int_or, iterparse_safely, local_name
from .ooxml import open_package
from .sink import SMALL_PART_BYTES, TextSink

_ODF_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def odf_text(path: Path, sink: TextSink) -> None:
    """content.xml paragraphs and headings, then header/footer text from styles.xml."""
    with open_package(path) as archive:
        if _odf_encrypted(archive):
            raise ExtractionError(PASSWORD_PROTECTED)
        if "content.xml" not in archive.NameToInfo:
            raise ExtractionError(DAMAGED)
        with archive.open("content.xml") as stream:
            for _, elem in iterparse_safely(stream):
                if local_name(elem.tag) in ("p", "h"):
                    sink.add(_odf_paragraph(elem) + "\n")
                    elem.clear()
        if "styles.xml" in archive.NameToInfo:
            _odf_master_pages(read_member(archive, "styles.xml", SMALL_PART_BYTES), sink)


def _odf_encrypted(archive: zipfile.ZipFile) -> bool:
    if "META-INF/manifest.xml" not in archive.NameToInfo:
        return False
    from defusedxml.ElementTree import fromstring

    root = fromstring(read_member(archive, "META-INF/manifest.xml", SMALL_PART_BYTES))
    return any(local_name(e.tag) == "encryption-data" for e in root.iter())


def _odf_master_pages(styles: bytes, sink: TextSink) -> None:
    from defusedxml.ElementTree import fromstring

    for page in (e for e in fromstring(styles).iter() if local_name(e.tag) == "master-page"):
        for paragraph in (e for e in page.iter() if local_name(e.tag) in ("p", "h")):
            sink.add(_odf_paragraph(paragraph) + "\n")


def _odf_paragraph(elem: Any) -> str:
    """A paragraph's text with its spaces, tabs and line breaks; nested paragraphs (in text
    boxes, notes) are read on their own."""
    parts = [elem.text or ""]
    for child in elem:
        name = local_name(child.tag)
        if name == "s":
            parts.append(" " * min(int_or(child.get(f"{{{_ODF_TEXT_NS}}}c"), 1), 100))
        elif name == "tab":
            parts.append("\t")
        elif name == "line-break":
            parts.append("\n")
        elif name not in ("p", "h"):
            parts.append(_odf_paragraph(child))
        parts.append(child.tail or "")
    return "".join(parts)
