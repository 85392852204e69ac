"""What every Office Open XML reader (Word, Excel, PowerPoint) shares: opening the package
through the zip limits, following its relationships to the parts, and reading the text of
WordprocessingML and DrawingML parts.

Packages are found the way Office finds them, through ``_rels/.rels``, so a renamed or
Strict OOXML document is read like any other. :func:`open_package` is also how the
OpenDocument reader opens its zips.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from ..formats import OLE_MAGIC, open_zip, read_member
from ..reasons import DAMAGED, PASSWORD_PROTECTED, ExtractionError
from .markup import iterparse_safely, local_name
from .sink import SMALL_PART_BYTES, TextSink


def markup_text(stream: IO[bytes], sink: TextSink) -> None:
    """Text of a WordprocessingML or DrawingML part: body, tables, text boxes, SmartArt,
    chart titles and labels. Field instructions (w:instrText) and deleted text are not
    text, and the mc:Fallback copy of a text box would only repeat it."""
    skipping = 0
    in_strings = 0
    for event, elem in iterparse_safely(stream, ("start", "end")):
        name = local_name(elem.tag)
        step = 1 if event == "start" else -1
        if name == "Fallback":
            skipping += step
        elif name == "strCache":
            in_strings += step
        if event == "start" or skipping:
            continue
        if name == "t" or (name == "v" and in_strings):
            sink.add(elem.text)
        elif name in ("p", "br", "cr", "pt"):
            sink.add("\n")
        elif name == "tab":
            sink.add("\t")
        if name in ("p", "pt", "r"):
            elem.clear()


def relationships(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(id, type, target part) for the internal relationships of ``part``."""
    folder, _, base = part.rpartition("/")
    rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
    if rels_name not in archive.NameToInfo:
        return []
    from defusedxml.ElementTree import fromstring

    root = fromstring(read_member(archive, rels_name, SMALL_PART_BYTES))
    return [
        (rel.get("Id", ""), rel.get("Type", ""), _resolve(folder, rel.get("Target", "")))
        for rel in root
        if rel.get("TargetMode") != "External" and rel.get("Target")
    ]


def _resolve(folder: str, target: str) -> str:
    """A relationship target as a zip entry name: absolute from the package root, or
    relative to the folder of the part that refers to it."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))


def related(archive: zipfile.ZipFile, part: str, type_suffix: str) -> list[str]:
    return [t for _, kind, t in relationships(archive, part) if kind.endswith(type_suffix)]


def main_part(archive: zipfile.ZipFile, default: str) -> str:
    """The package's main part, found the way Office finds it: through ``_rels/.rels``."""
    found = [p for p in related(archive, "", "/officeDocument") if p in archive.NameToInfo]
    return found[0] if found else default


def _natural_key(name: str) -> list[Any]:
    return [int(piece) if piece.isdecimal() else piece for piece in re.split(r"(\d+)", name)]


def parts_matching(archive: zipfile.ZipFile, pattern: str) -> list[str]:
    regex = re.compile(pattern)
    return sorted((n for n in archive.namelist() if regex.fullmatch(n)), key=_natural_key)


def open_package(path: Path) -> zipfile.ZipFile:
    """The zip behind an Office or OpenDocument file, after the shared zip limits.

    A password-protected Office file is not a zip at all but an OLE container holding an
    ``EncryptedPackage`` stream.
    """
    with path.open("rb") as fh:
        if fh.read(8) == OLE_MAGIC:
            raise ExtractionError(PASSWORD_PROTECTED if _ole_encrypted(path) else DAMAGED)
    return open_zip(path)


def _ole_encrypted(path: Path) -> bool:
    import olefile

    with olefile.OleFileIO(str(path)) as ole:
        return bool(ole.exists("EncryptedPackage"))


def walk_parts(archive: zipfile.ZipFile, parts: Iterable[str], sink: TextSink) -> None:
    for part in parts:
        if part in archive.NameToInfo:
            with archive.open(part) as stream:
                markup_text(stream, sink)
            sink.add("\n")


def folder_pattern(part: str) -> str:
    folder = posixpath.dirname(part)
    return f"{re.escape(folder)}/" if folder else ""


def relationship_id(elem: Any) -> str:
    """The r:id attribute, whichever namespace (transitional or Strict) it is in."""
    return next((v for k, v in elem.attrib.items() if k.endswith("}id")), "")
