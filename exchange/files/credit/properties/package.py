"""Zip packages (OOXML and OpenDocument) opened for rewriting their
properties: the limits checked before any entry is read, and reading a small part.
"""

from __future__ import annotations

import zipfile

from ...formats import (
    ZIP_MAX_ENTRIES,
    ZIP_MAX_RATIO,
    ZIP_MAX_UNPACKED_BYTES,
    ZIP_RATIO_APPLIES_FROM,
)

MAX_PROPERTIES_PART = 2 * 1024 * 1024  # core.xml / meta.xml are a few KB in real files


class UnsafePackage(Exception):
    """The archive is outside the limits or otherwise not safe to rewrite."""


def check_zip_limits(archive: zipfile.ZipFile, archive_size: int) -> None:
    """Refuse zip bombs and archives we cannot copy faithfully, before reading any entry.

    Declared sizes are enough: zipfile never returns more than an entry's declared size
    and fails the CRC check if the data does not match it.
    """
    infos = archive.infolist()
    if len(infos) > ZIP_MAX_ENTRIES:
        raise UnsafePackage(f"{len(infos)} entries")
    total = sum(info.file_size for info in infos)
    if total > ZIP_MAX_UNPACKED_BYTES or total > ZIP_MAX_RATIO * max(archive_size, 1):
        raise UnsafePackage(f"{total} bytes uncompressed from {archive_size}")
    if len({info.filename for info in infos}) != len(infos):
        raise UnsafePackage("duplicate entry names")
    for info in infos:
        _check_entry(info)


def _check_entry(info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise UnsafePackage(f"{info.filename} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnsafePackage(f"{info.filename} uses compression method {info.compress_type}")
    big = info.file_size > ZIP_RATIO_APPLIES_FROM
    if big and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
        raise UnsafePackage(f"{info.filename} expands more than {ZIP_MAX_RATIO}:1")


def read_small_entry(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_PROPERTIES_PART:
        raise UnsafePackage(f"{name} is {info.file_size} bytes")
    return archive.read(info)
