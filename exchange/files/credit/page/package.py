"""Zip packages (OOXML and OpenDocument) opened within the upload limits, their
parts read as text, and rewritten with only the edited parts changed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from ....vocab import N_
from ...formats import UnsafeArchive, open_zip, rewrite_zip
from .common import NotOnPage, PageCredit, Writer

MAX_PART_BYTES = 64 * 1024 * 1024


def _open_package(src: Path) -> zipfile.ZipFile:
    """The package, opened within the archive limits every upload already passed."""
    try:
        archive = open_zip(src)
    except zipfile.BadZipFile as exc:
        raise NotOnPage(N_("the file is not a complete package")) from exc
    except UnsafeArchive as exc:
        raise NotOnPage(N_("the file is too large to rewrite")) from exc
    if any(info.flag_bits & 0x1 for info in archive.infolist()):
        archive.close()
        raise NotOnPage(N_("the file is password-protected"))
    return archive


def read_part(archive: zipfile.ZipFile, name: str) -> str:
    info = archive.getinfo(name)
    if info.file_size > MAX_PART_BYTES:
        raise NotOnPage(N_("the file is too large to rewrite"))
    try:
        return archive.read(info).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotOnPage(N_("part of the file is not in a text encoding we can edit")) from exc


def _utf8(parts: dict[str, str]) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in parts.items()}


def package_edit(edit: Callable[[zipfile.ZipFile, PageCredit], tuple[dict, dict]]) -> Writer:
    def writer(src: Path, credit: PageCredit, tmp: Path) -> None:
        with _open_package(src) as archive:
            replaced, added = edit(archive, credit)
            rewrite_zip(archive, tmp, _utf8(replaced), _utf8(added))

    return writer
