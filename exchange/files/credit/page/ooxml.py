"""Finding parts in an Office Open XML package: by declared content type, by
name whatever its case, and the main document part.
"""

from __future__ import annotations

import html
import re
import zipfile

from ....vocab import N_
from .common import NotOnPage
from .package import read_part


def parts_of_type(archive: zipfile.ZipFile, *suffixes: str) -> list[str]:
    """Part names whose declared content type ends with one of ``suffixes``, in zip order."""
    types = read_part(archive, entry(archive, "[content_types].xml"))
    wanted = set()
    for override in re.finditer(r"<(?:[\w.-]+:)?Override\b[^>]*>", types):
        part = re.search(r'PartName="/?([^"]+)"', override.group(0))
        kind = re.search(r'ContentType="([^"]+)"', override.group(0))
        if part and kind and kind.group(1).endswith(suffixes):
            wanted.add(html.unescape(part.group(1)).lower())
    return [name for name in archive.namelist() if name.lower() in wanted]


def entry(archive: zipfile.ZipFile, lower_name: str) -> str:
    for name in archive.namelist():
        if name.lower() == lower_name:
            return name
    raise NotOnPage(N_("the file is not a complete Office package"))


def main_part(archive: zipfile.ZipFile) -> str:
    rels = read_part(archive, entry(archive, "_rels/.rels"))
    for rel in re.finditer(r"<(?:[\w.-]+:)?Relationship\b[^>]*>", rels):
        if re.search(r'Type="[^"]*/officeDocument"', rel.group(0)):
            target = re.search(r'Target="/?([^"]+)"', rel.group(0))
            if target:
                return entry(archive, html.unescape(target.group(1)).lower())
    raise NotOnPage(N_("the file is not a complete Office package"))
