"""Credit in an OpenDocument file's meta.xml (odt, ods, odp), created and
declared in the manifest when the file has none.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

# ElementTree only builds and writes XML here; every parse goes through defusedxml.
from xml.etree import ElementTree as ET  # nosec B405

from ...formats import rewrite_zip
from ..line import Credit
from .package import UnsafePackage, check_zip_limits, read_small_entry
from .parts import NS, append_child, apply_credit, parse, q, serialise

ODF_CREATOR_TAGS = ("meta:initial-creator", "dc:creator")
# Who last printed the document: a person's name, left out of an anonymous gift's copy.
ODF_PERSONAL_TAGS = ("meta:printed-by",)


def credit_odf(src: Path, credit: Credit, tmp: Path) -> bool:
    with zipfile.ZipFile(src) as archive:
        check_zip_limits(archive, src.stat().st_size)
        names = archive.namelist()
        manifest = None
        if "META-INF/manifest.xml" in names:
            manifest = read_small_entry(archive, "META-INF/manifest.xml")
            if b"encryption-data" in manifest:  # password-protected document
                return False
        replaced: dict[str, bytes] = {}
        added: dict[str, bytes] = {}
        if "meta.xml" in names:
            document = parse(read_small_entry(archive, "meta.xml"))
            replaced["meta.xml"] = _odf_meta_with_credit(document, credit)
        else:
            added["meta.xml"] = _odf_meta_with_credit(_new_odf_meta(manifest), credit)
            if manifest is not None:
                replaced["META-INF/manifest.xml"] = _manifest_with_meta(manifest)
        rewrite_zip(archive, tmp, replaced, added)
    return True


def _odf_meta_with_credit(document: ET.Element, credit: Credit) -> bytes:
    if document.tag != q("office:document-meta"):
        raise UnsafePackage(f"meta.xml root is {document.tag}")
    props = document.find(q("office:meta"))
    if props is None:
        props = ET.SubElement(document, q("office:meta"))
    apply_credit(props, credit, ODF_CREATOR_TAGS)
    if credit.anonymous:
        _remove_children(props, ODF_PERSONAL_TAGS)
    return serialise(document)


def _new_odf_meta(manifest: bytes | None) -> ET.Element:
    document = ET.Element(q("office:document-meta"))
    version = parse(manifest).get(q("manifest:version")) if manifest else None
    if version:
        document.set(q("office:version"), version)
    ET.SubElement(document, q("office:meta"))
    return document


def _manifest_with_meta(manifest: bytes) -> bytes:
    parse(manifest)  # refuses entity tricks before we touch it
    entry = (
        f'<manifest:file-entry xmlns:manifest="{NS["manifest"]}" '
        'manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
    )
    return append_child(manifest, "manifest", entry)


def _remove_children(parent: ET.Element, tags: tuple[str, ...]) -> None:
    """Drop properties that would name the giver of an anonymous gift."""
    for tag in tags:
        for child in parent.findall(q(tag)):
            parent.remove(child)
