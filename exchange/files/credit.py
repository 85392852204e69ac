"""Credit that travels with a downloaded file: the credit line, the file's own properties,
the download's file name and its Content-Disposition header.

Givers share on the promise of being credited "each and every time", so the credit must
survive the file leaving the site: it goes into the document properties people see in
Word, Excel, LibreOffice or a PDF viewer, and into the file name. Anonymous gifts carry
no personal name in anything this module writes.

Rewriting a file must never damage it: every part we do not own is copied byte for byte
(zip entries keep their order, names and compression; a PDF gets an incremental update
appended after its untouched original bytes). When that cannot be promised -- encrypted,
damaged, oversized or unknown files -- the caller gets ``False`` and serves the original.
Nothing here needs Flask.
"""

from __future__ import annotations

import hashlib
import html
import logging
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

# ElementTree only builds and writes XML here; every parse goes through defusedxml.
from xml.etree import ElementTree as ET  # nosec B405

import defusedxml.ElementTree as SafeET
import pikepdf

from .formats import (
    ZIP_MAX_ENTRIES,
    ZIP_MAX_RATIO,
    ZIP_MAX_UNPACKED_BYTES,
    ZIP_RATIO_APPLIES_FROM,
    formats_where,
    rewrite_zip,
)

log = logging.getLogger(__name__)

SITE_NAME = "Toolkit Exchange"
ANONYMOUS_CREATOR = f"Anonymous via {SITE_NAME}"
ADAPTED_FROM = "adapted from a work by"

OOXML_FORMATS = formats_where(lambda t: t.package == "ooxml")
ODF_FORMATS = formats_where(lambda t: t.package == "odf")
CREDITABLE_FORMATS = formats_where(lambda t: t.credit_in_properties)
MAX_PROPERTIES_PART = 2 * 1024 * 1024  # core.xml / meta.xml are a few KB in real files
MAX_PDF_BYTES = 300 * 1024 * 1024
COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Credit:
    """Who and what to credit (Title, Author, Source, Licence)."""

    title: str
    author: str  # "" when the giver chose to stay anonymous
    licence_label: str
    licence_url: str = ""
    source_url: str = ""
    # The author a file's own properties name, when that is not the giver (see
    # :func:`original_author`): kept, never overwritten, as "adapted from a work by ...".
    adapted_from: str = ""

    @property
    def anonymous(self) -> bool:
        return not self.author.strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def credit_line(credit: Credit) -> str:
    """The ready-to-copy attribution, worded the same on the page and inside the file.

    A file adapted from someone else's work names them the way Creative Commons' TASL
    practice credits a derivative ("X by Y, adapted from a work by Z"): the original
    title is rarely known, the original author's name is.
    """
    title = f'"{_one_line(credit.title)}"'
    who = "" if credit.anonymous else f" by {_one_line(credit.author)}"
    if credit.adapted_from.strip():
        who += f", {ADAPTED_FROM} {_one_line(credit.adapted_from)}"
    shared = "shared anonymously" if credit.anonymous else "shared"
    line = f"{title}{who}, {shared} via {SITE_NAME}"
    licence = _one_line(credit.licence_label)
    return f"{line}, {licence}" if licence else line


def description_text(credit: Credit) -> str:
    """The credit line plus where to find the resource and its licence, one item a line."""
    lines = [credit_line(credit)]
    if credit.source_url.strip():
        lines.append(f"Source: {credit.source_url.strip()}")
    if credit.licence_url.strip():
        lines.append(f"Licence: {credit.licence_url.strip()}")
    return "\n".join(lines)


_Writer = Callable[[Path, Credit, Path], bool]


def creator_text(credit: Credit) -> str:
    """What goes in the author/creator property: the giver, or no name at all."""
    return ANONYMOUS_CREATOR if credit.anonymous else _one_line(credit.author)


# --------------------------------------------------------------------------- the entry point


def write_credited_copy(src: Path, fmt: str, credit: Credit, dest: Path) -> bool:
    """Write ``src`` to ``dest`` with the credit in its document properties.

    Returns False, without creating ``dest``, when the format has no properties or the file
    cannot be rewritten safely; a bad input file never raises, because the download must
    still work (with the original bytes) whatever people uploaded. The copy is built in a
    temporary file beside ``dest`` and renamed into place only once it is complete.
    """
    writer = _WRITERS.get(fmt.lower())
    if writer is None:
        return False
    dest = Path(dest)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".credit-", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    if _attempt(writer, Path(src), fmt, credit, tmp):
        os.replace(tmp, dest)
        return True
    tmp.unlink(missing_ok=True)
    return False


def _attempt(writer: _Writer, src: Path, fmt: str, credit: Credit, tmp: Path) -> bool:
    try:
        return writer(src, credit, tmp)
    except _REFUSALS as error:
        log.info("no credited copy of %s (%s): %s", src, fmt, error)
    except Exception:  # hostile uploads can make any parser fail in any way
        log.warning("could not write credit into %s (%s)", src, fmt, exc_info=True)
    return False


# --------------------------------------------------------------------------- zip packages


class UnsafePackage(Exception):
    """The archive is outside the limits or otherwise not safe to rewrite."""


def _check_zip_limits(archive: zipfile.ZipFile, archive_size: int) -> None:
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


def _read_small_entry(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_PROPERTIES_PART:
        raise UnsafePackage(f"{name} is {info.file_size} bytes")
    return archive.read(info)


# --------------------------------------------------------------------------- XML helpers

NS = {
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "dcmitype": "http://purl.org/dc/dcmitype/",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
    "xlink": "http://www.w3.org/1999/xlink",
    "ooo": "http://openoffice.org/2004/office",
    "grddl": "http://www.w3.org/2003/g/data-view#",
}
for _prefix, _uri in NS.items():
    # Keeps the conventional prefixes when a part is written back (ElementTree would
    # otherwise invent ns0, ns1...); these are the standard names, so registering them
    # process-wide changes nothing for other code.
    ET.register_namespace(_prefix, _uri)

REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
CORE_REL_TYPES = (
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
    "http://schemas.openxmlformats.org/officedocument/2006/relationships/metadata/core-properties",
)
CORE_CONTENT_TYPE = "application/vnd.openxmlformats-package.core-properties+xml"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _attr(value: str) -> str:
    """A quoted XML attribute value."""
    return '"' + html.escape(value, quote=True) + '"'


def _q(prefixed: str) -> str:
    """'dc:creator' -> '{http://purl.org/dc/elements/1.1/}creator'."""
    prefix, local = prefixed.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _xml_text(text: str) -> str:
    """Characters XML 1.0 cannot hold would make the whole part unreadable: drop them."""
    return _XML_INVALID.sub("", text)


def _parse(data: bytes) -> ET.Element:
    """Parse untrusted XML without expanding entities or fetching anything."""
    return SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)


def _serialise(root: ET.Element) -> bytes:
    body = ET.tostring(root, encoding="unicode")
    return (XML_DECLARATION + body).encode("utf-8")


def _set_child_text(parent: ET.Element, tag: str, text: str) -> None:
    child = parent.find(_q(tag))
    if child is None:
        child = ET.SubElement(parent, _q(tag))
    for grandchild in list(child):
        child.remove(grandchild)
    child.text = _xml_text(text)


def _is_blank(parent: ET.Element, tag: str) -> bool:
    child = parent.find(_q(tag))
    return child is None or not "".join(child.itertext()).strip()


def _apply_credit(props: ET.Element, credit: Credit, creator_tags: tuple[str, ...]) -> None:
    """Set creator, description and title on a properties element.

    The title is always the resource's: a file's own title is often left over from a
    template ("Slide 1", "Document1") and is what viewers show as the document's name.
    """
    for tag in creator_tags:
        _set_child_text(props, tag, creator_text(credit))
    _set_child_text(props, "dc:description", description_text(credit))
    _set_child_text(props, "dc:title", _one_line(credit.title))


def _remove_children(parent: ET.Element, tags: tuple[str, ...]) -> None:
    """Drop properties that would name the giver of an anonymous gift."""
    for tag in tags:
        for child in parent.findall(_q(tag)):
            parent.remove(child)


# --------------------------------------------------------------------------- OOXML


# The extended (app.xml) properties that name a person or their workplace: an anonymous
# gift's copy leaves them out. Custom properties (custom.xml) are left as they are: their
# names and uses are the author's own, and document-management systems rely on them.
APP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
APP_PERSONAL_TAGS = (f"{{{APP_NS}}}Company", f"{{{APP_NS}}}Manager")
# Removed by editing the text, so every other byte of the part stays as it was (and no
# namespace prefix is renamed): these elements hold plain text, never other elements.
APP_PERSONAL_ELEMENT = re.compile(
    r"<((?:[\w.-]+:)?(?:Company|Manager))(?:\s[^<>]*)?(?:/>|>[^<]*</\1\s*>)"
)
APP_REL_TYPES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties",
    "http://purl.oclc.org/ooxml/officeDocument/relationships/extendedProperties",
)


def _ooxml_creator_tags(credit: Credit) -> tuple[str, ...]:
    """Named credit sets the author only. Anonymous credit also overwrites "last modified
    by": it sits right beside the author in every Office properties pane, and leaving the
    giver's name there would undo the anonymity they asked for."""
    if credit.anonymous:
        return ("dc:creator", "cp:lastModifiedBy")
    return ("dc:creator",)


def _credit_ooxml(src: Path, credit: Credit, tmp: Path) -> bool:
    with zipfile.ZipFile(src) as archive:
        _check_zip_limits(archive, src.stat().st_size)
        replaced, added = _ooxml_changes(archive, credit)
        rewrite_zip(archive, tmp, replaced, added)
    return True


def _ooxml_changes(
    archive: zipfile.ZipFile, credit: Credit
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The rewritten core properties part, plus the package plumbing when it is new."""
    names = {name.lower(): name for name in archive.namelist()}
    rels_name, types_name = names.get("_rels/.rels"), names.get("[content_types].xml")
    if rels_name is None or types_name is None:
        raise UnsafePackage("not an Open Packaging Conventions package")
    replaced: dict[str, bytes] = {}
    added: dict[str, bytes] = {}
    rels = _read_small_entry(archive, rels_name)
    core_name = _core_target(_parse(rels), names)
    if core_name is None:
        core_name = names.get("docprops/core.xml", "docProps/core.xml")
        replaced[rels_name] = _append_child(
            rels, "Relationships", _core_relationship(rels, core_name)
        )
    if core_name in set(archive.namelist()):
        core = _parse(_read_small_entry(archive, core_name))
        target = replaced
    else:
        core, target = ET.Element(_q("cp:coreProperties")), added
        _declare_core_part(archive, types_name, core_name, replaced)
    _apply_credit(core, credit, _ooxml_creator_tags(credit))
    target[core_name] = _serialise(core)
    if credit.anonymous:
        replaced.update(_anonymous_app_properties(archive, _parse(rels), names))
    return replaced, added


def _anonymous_app_properties(
    archive: zipfile.ZipFile, rels: ET.Element, names: dict[str, str]
) -> dict[str, bytes]:
    """The extended properties part without its company and manager, if it has either."""
    app_name = _part_target(rels, names, APP_REL_TYPES)
    if app_name is None or app_name not in set(archive.namelist()):
        return {}
    data = _read_small_entry(archive, app_name)
    app = _parse(data)  # refuses entity tricks before the text is edited
    if not any(app.find(tag) is not None for tag in APP_PERSONAL_TAGS):
        return {}
    return {app_name: APP_PERSONAL_ELEMENT.sub("", data.decode("utf-8")).encode("utf-8")}


def _core_target(rels: ET.Element, names: dict[str, str]) -> str | None:
    """Where the package's relationships say its core properties live, if they say."""
    return _part_target(rels, names, CORE_REL_TYPES)


def _part_target(rels: ET.Element, names: dict[str, str], types: tuple[str, ...]) -> str | None:
    """Where the package's relationships say a part of one of ``types`` lives, if they say."""
    for rel in rels.iter(f"{{{REL_NS}}}Relationship"):
        if rel.get("Type") in types and rel.get("TargetMode") != "External":
            target = rel.get("Target", "").lstrip("/")
            if not target or target.endswith("/"):
                raise UnsafePackage(f"core properties target {target!r}")
            return names.get(target.lower(), target)
    return None


def _core_relationship(rels: bytes, core_name: str) -> str:
    taken = {rel.get("Id") for rel in _parse(rels)}
    rel_id = next(f"rId{n}" for n in range(1, len(taken) + 2) if f"rId{n}" not in taken)
    return (
        f'<Relationship xmlns="{REL_NS}" Id={_attr(rel_id)} '
        f'Type="{CORE_REL_TYPES[0]}" Target={_attr(core_name)}/>'
    )


def _declare_core_part(
    archive: zipfile.ZipFile, types_name: str, part_name: str, replaced: dict[str, bytes]
) -> None:
    """A new part is only read by Office if [Content_Types].xml declares it."""
    types = _read_small_entry(archive, types_name)
    wanted = "/" + part_name.lower()
    overrides = _parse(types).iter(f"{{{CT_NS}}}Override")
    if any(o.get("PartName", "").lower() == wanted for o in overrides):
        return
    override = (
        f'<Override xmlns="{CT_NS}" PartName={_attr("/" + part_name)} '
        f'ContentType="{CORE_CONTENT_TYPE}"/>'
    )
    replaced[types_name] = _append_child(types, "Types", override)


def _append_child(data: bytes, root_name: str, element: str) -> bytes:
    """Insert ``element`` as the root's last child by editing the text, so every other
    byte of the part (declarations, prefixes, comments, DOCTYPE) stays exactly as it was."""
    text = data.decode("utf-8")
    closing = re.search(rf"</(?:[\w.-]+:)?{root_name}\s*>\s*$", text)
    if closing:
        return (text[: closing.start()] + element + text[closing.start() :]).encode("utf-8")
    empty = re.search(rf"<((?:[\w.-]+:)?{root_name})(\s[^<>]*)?/>\s*$", text)
    if empty is None:
        raise UnsafePackage(f"cannot find the end of <{root_name}>")
    tag, attributes = empty.group(1), empty.group(2) or ""
    expanded = f"<{tag}{attributes}>{element}</{tag}>"
    return (text[: empty.start()] + expanded + text[empty.end() :]).encode("utf-8")


# --------------------------------------------------------------------------- OpenDocument

ODF_CREATOR_TAGS = ("meta:initial-creator", "dc:creator")
# Who last printed the document: a person's name, left out of an anonymous gift's copy.
ODF_PERSONAL_TAGS = ("meta:printed-by",)


def _credit_odf(src: Path, credit: Credit, tmp: Path) -> bool:
    with zipfile.ZipFile(src) as archive:
        _check_zip_limits(archive, src.stat().st_size)
        names = archive.namelist()
        manifest = None
        if "META-INF/manifest.xml" in names:
            manifest = _read_small_entry(archive, "META-INF/manifest.xml")
            if b"encryption-data" in manifest:  # password-protected document
                return False
        replaced: dict[str, bytes] = {}
        added: dict[str, bytes] = {}
        if "meta.xml" in names:
            document = _parse(_read_small_entry(archive, "meta.xml"))
            replaced["meta.xml"] = _odf_meta_with_credit(document, credit)
        else:
            added["meta.xml"] = _odf_meta_with_credit(_new_odf_meta(manifest), credit)
            if manifest is not None:
                replaced["META-INF/manifest.xml"] = _manifest_with_meta(manifest)
        rewrite_zip(archive, tmp, replaced, added)
    return True


def _odf_meta_with_credit(document: ET.Element, credit: Credit) -> bytes:
    if document.tag != _q("office:document-meta"):
        raise UnsafePackage(f"meta.xml root is {document.tag}")
    props = document.find(_q("office:meta"))
    if props is None:
        props = ET.SubElement(document, _q("office:meta"))
    _apply_credit(props, credit, ODF_CREATOR_TAGS)
    if credit.anonymous:
        _remove_children(props, ODF_PERSONAL_TAGS)
    return _serialise(document)


def _new_odf_meta(manifest: bytes | None) -> ET.Element:
    document = ET.Element(_q("office:document-meta"))
    version = _parse(manifest).get(_q("manifest:version")) if manifest else None
    if version:
        document.set(_q("office:version"), version)
    ET.SubElement(document, _q("office:meta"))
    return document


def _manifest_with_meta(manifest: bytes) -> bytes:
    _parse(manifest)  # refuses entity tricks before we touch it
    entry = (
        f'<manifest:file-entry xmlns:manifest="{NS["manifest"]}" '
        'manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
    )
    return _append_child(manifest, "manifest", entry)


# --------------------------------------------------------------------------- PDF


def _credit_pdf(src: Path, credit: Credit, tmp: Path) -> bool:
    """Append an incremental update (new Info dictionary, and XMP when the file has it)."""
    if src.stat().st_size > MAX_PDF_BYTES or not _starts_like_pdf(src):
        return False
    if credit.anonymous:
        return _rewrite_pdf_anonymously(src, credit, tmp)
    with pikepdf.open(src) as pdf:
        if pdf.is_encrypted or _damaged(pdf):
            return False
        prev_xref, xref_is_stream = _last_xref(src)
        info_ref, objects = _updated_objects(pdf, credit)
        trailer = _trailer_entries(pdf, info_ref, objects)
        page_count, next_number = len(pdf.pages), int(pdf.trailer.Size)
    with open(src, "rb") as source, open(tmp, "wb") as target:
        shutil.copyfileobj(source, target, COPY_CHUNK)
        if not _ends_with_newline(source):
            target.write(b"\n")  # after the original bytes, so they stay a prefix
        _append_update(target, objects, trailer, prev_xref, xref_is_stream, next_number)
    return _pdf_has_credit(tmp, credit, page_count)


def _rewrite_pdf_anonymously(src: Path, credit: Credit, tmp: Path) -> bool:
    """An anonymous gift's PDF is saved anew instead: an appended update would leave the
    original Info dictionary, which often names the giver, in the file's bytes. The new
    Info holds only the anonymous credit; XMP keeps its other entries but no creator."""
    with pikepdf.open(src) as pdf:
        if pdf.is_encrypted or _damaged(pdf):
            return False
        page_count = len(pdf.pages)
        pdf.trailer.Info = pdf.make_indirect(
            pikepdf.Dictionary(
                Title=pikepdf.String(_one_line(credit.title)),
                Author=pikepdf.String(creator_text(credit)),
                Subject=pikepdf.String(description_text(credit)),
            )
        )
        if isinstance(pdf.Root.get("/Metadata"), pikepdf.Stream):
            _xmp_with_credit(pdf, credit)  # edits the stream in place
        pdf.save(tmp)  # writes only what the document still refers to
    return _pdf_has_credit(tmp, credit, page_count)


def _starts_like_pdf(path: Path) -> bool:
    with open(path, "rb") as fh:
        return b"%PDF-" in fh.read(1024)


def _damaged(pdf: pikepdf.Pdf) -> bool:
    """qpdf warns when it had to repair the file (broken xref, bad page objects...)."""
    len(pdf.pages)  # walks the page tree, which surfaces most structural damage
    return bool(pdf.get_warnings())


def _last_xref(path: Path) -> tuple[int, bool]:
    """Offset of the newest cross-reference section, and whether it is a stream."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 2048))
        tail = fh.read()
        match = re.search(rb"startxref\s+(\d+)\s+%%EOF", tail[tail.rfind(b"startxref") :])
        if match is None or int(match.group(1)) >= size:
            raise UnsafePackage("no usable startxref")
        offset = int(match.group(1))
        fh.seek(offset)
        return offset, not fh.read(4).startswith(b"xref")


PdfObjects = dict[tuple[int, int], bytes]  # (number, generation) -> "<< ... >>" or stream


def _updated_objects(pdf: pikepdf.Pdf, credit: Credit) -> tuple[tuple[int, int], PdfObjects]:
    """The objects the update replaces or adds, and which of them is the Info dictionary."""
    info_ref, info_body = _info_with_credit(pdf, credit)
    objects: PdfObjects = {info_ref: info_body}
    xmp = _xmp_with_credit(pdf, credit)
    if xmp is not None:
        objects[xmp[0]] = xmp[1]
    return info_ref, objects


def _info_with_credit(pdf: pikepdf.Pdf, credit: Credit) -> tuple[tuple[int, int], bytes]:
    """The document information dictionary with our fields; kept at its own number when it
    is an indirect object, else given the next free number."""
    existing = pdf.trailer.get("/Info")
    has_info = isinstance(existing, pikepdf.Dictionary)
    # A copy keeps the giver's other entries; indirect values stay references.
    info = pikepdf.Dictionary(dict(existing.items())) if has_info else pikepdf.Dictionary()
    info["/Author"] = pikepdf.String(creator_text(credit))
    info["/Subject"] = pikepdf.String(description_text(credit))
    info["/Title"] = pikepdf.String(_one_line(credit.title))
    indirect = has_info and existing.is_indirect
    ref = existing.objgen if indirect else (int(pdf.trailer.Size), 0)
    return ref, info.unparse()


def _xmp_with_credit(pdf: pikepdf.Pdf, credit: Credit) -> tuple[tuple[int, int], bytes] | None:
    """Viewers such as Acrobat show XMP before the Info dictionary, so a file that has XMP
    gets the same credit there; a file without XMP is left without."""
    stream = pdf.Root.get("/Metadata")
    if stream is None or not stream.is_indirect or not isinstance(stream, pikepdf.Stream):
        return None
    ref = stream.objgen
    try:
        with pdf.open_metadata(
            set_pikepdf_as_editor=False, update_docinfo=False, strict=True
        ) as xmp:
            xmp["dc:creator"] = [creator_text(credit)]
            xmp["dc:description"] = _xml_text(description_text(credit))
            xmp["dc:title"] = _xml_text(_one_line(credit.title))
            if credit.anonymous:
                _drop_xmp_names(xmp)
    except (ValueError, KeyError):  # XMP we cannot read: keep it as it is
        return None
    data = pdf.Root.Metadata.read_bytes()
    header = f"<< /Type /Metadata /Subtype /XML /Length {len(data)} >>\nstream\n".encode()
    return ref, header + data + b"\nendstream"


# XMP properties besides dc:creator that name people: gone from an anonymous gift's copy.
XMP_PERSONAL_KEYS = (
    "dc:contributor",
    "dc:publisher",
    "pdf:Author",
    "xmpRights:Owner",
    "photoshop:AuthorsPosition",
    "photoshop:CaptionWriter",
)


def _drop_xmp_names(xmp) -> None:
    for key in XMP_PERSONAL_KEYS:
        if key in xmp:
            del xmp[key]


def _trailer_entries(
    pdf: pikepdf.Pdf, info_ref: tuple[int, int], objects: PdfObjects
) -> dict[str, bytes]:
    """Root and Info for the new trailer, and a new second file ID (the first never
    changes: it names the document, the second names this version of it)."""
    entries = {
        "/Root": f"{pdf.Root.objgen[0]} {pdf.Root.objgen[1]} R".encode(),
        "/Info": f"{info_ref[0]} {info_ref[1]} R".encode(),
    }
    file_id = pdf.trailer.get("/ID")
    if isinstance(file_id, pikepdf.Array) and len(file_id) == 2:
        version = bytes(file_id[0]) + b"".join(objects.values())
        changed = hashlib.md5(version, usedforsecurity=False).hexdigest()
        entries["/ID"] = b"[" + file_id[0].unparse() + f"<{changed}>]".encode()
    return entries


def _append_update(
    out: BinaryIO,
    objects: PdfObjects,
    trailer: dict[str, bytes],
    prev: int,
    as_stream: bool,
    size: int,
) -> None:
    """Write the changed objects, then a cross-reference section pointing back at ``prev``
    in the same style (table or stream) as the one it follows."""
    offsets: dict[tuple[int, int], int] = {}
    for (number, generation), body in objects.items():
        offsets[(number, generation)] = out.tell()
        out.write(f"{number} {generation} obj\n".encode() + body + b"\nendobj\n")
    size = max([size] + [number + 1 for number, _ in objects])
    entries = dict(trailer, **{"/Prev": str(prev).encode()})
    writer = _write_xref_stream if as_stream else _write_xref_table
    xref_offset = writer(out, offsets, entries, size)
    out.write(f"startxref\n{xref_offset}\n%%EOF\n".encode())


def _ends_with_newline(source: BinaryIO) -> bool:
    source.seek(-1, os.SEEK_END)
    return source.read(1) in (b"\n", b"\r")


def _dict_bytes(entries: dict[str, bytes]) -> bytes:
    return b"<< " + b" ".join(k.encode() + b" " + v for k, v in entries.items()) + b" >>"


def _write_xref_table(out: BinaryIO, offsets: dict, entries: dict[str, bytes], size: int) -> int:
    xref_offset = out.tell()
    out.write(b"xref\n")
    for (number, generation), offset in sorted(offsets.items()):
        out.write(f"{number} 1\n{offset:010d} {generation:05d} n \n".encode())
    trailer = dict(entries, **{"/Size": str(size).encode()})
    out.write(b"trailer\n" + _dict_bytes(trailer) + b"\n")
    return xref_offset


def _write_xref_stream(out: BinaryIO, offsets: dict, entries: dict[str, bytes], size: int) -> int:
    xref_offset = out.tell()
    own = (size, 0)  # the cross-reference stream is itself a new object
    rows = {**offsets, own: xref_offset}
    index = b" ".join(f"{number} 1".encode() for number, _ in sorted(rows))
    data = b"".join(
        bytes([1]) + offset.to_bytes(4, "big") + generation.to_bytes(2, "big")
        for (_, generation), offset in sorted(rows.items())
    )
    head = dict(entries, **{"/Type": b"/XRef", "/Size": str(size + 1).encode()})
    head.update({"/W": b"[1 4 2]", "/Index": b"[" + index + b"]", "/Length": b"%d" % len(data)})
    out.write(f"{size} 0 obj\n".encode() + _dict_bytes(head) + b"\nstream\n")
    out.write(data + b"\nendstream\nendobj\n")
    return xref_offset


def _pdf_has_credit(path: Path, credit: Credit, page_count: int) -> bool:
    """Read the result back with qpdf: a reader must see our Info and every page."""
    with pikepdf.open(path) as pdf:
        author = str(pdf.docinfo.get("/Author", ""))
        pages_ok = len(pdf.pages) == page_count
        return author == creator_text(credit) and pages_ok and not pdf.get_warnings()


# Failures that simply mean "this file cannot carry credit": no traceback needed in the log.
_REFUSALS = (
    UnsafePackage,
    zipfile.BadZipFile,
    ET.ParseError,
    ValueError,  # includes defusedxml's refusals and undecodable parts
    pikepdf.PdfError,
)

_WRITERS: dict[str, _Writer] = {
    **dict.fromkeys(OOXML_FORMATS, _credit_ooxml),
    **dict.fromkeys(ODF_FORMATS, _credit_odf),
    "pdf": _credit_pdf,
}


# --------------------------------------------------------------------------- credit.txt

CREDIT_TXT = "credit.txt"


def credit_txt(credit: Credit) -> str:
    """The note beside a file that cannot carry its credit: the credit line, where the
    resource is, and its licence. Windows line ends, so Notepad shows the lines apart."""
    return description_text(credit).replace("\n", "\r\n") + "\r\n"


def write_credit_bundle(src: Path, inner_name: str, credit: Credit, dest: Path) -> None:
    """A zip holding ``src``'s bytes as they are, named ``inner_name``, and ``credit.txt``.

    For formats that cannot be credited inside without risk (old Office files, pictures):
    the file itself is never touched. Built beside ``dest``, renamed into place complete.
    """
    dest = Path(dest)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".bundle-", suffix=".part")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp_name, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.write(src, arcname=inner_name)
            bundle.writestr(CREDIT_TXT, credit_txt(credit).encode("utf-8"))
        os.replace(tmp_name, dest)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


# --------------------------------------------------------------------------- the original author

# What programs write into the author property on their own when nobody typed a name: an
# installation's default account ("User", "Windows User", in Japanese too), a template's
# placeholder, or the library that generated the file. Calling one of them the author a
# giver adapted from would be noise on every page, so they count as no name at all.
GENERIC_AUTHORS = frozenset(
    {
        "admin",
        "administrator",
        "author",
        "microsoft office user",
        "openpyxl",
        "owner",
        "python-docx",
        "python-pptx",
        "unknown",
        "user",
        "windows user",
        "windows ユーザー",
    }
)
MAX_AUTHOR_CHARS = 200  # the stored column's width; real author fields are far shorter


def original_author(src: Path, fmt: str, giver_names: Sequence[str]) -> str:
    """Who the file's own properties say wrote it, when that is someone other than the giver.

    Read from the uploaded file before any credit is written (OOXML dc:creator, ODF
    meta:initial-creator or dc:creator, PDF XMP dc:creator or Info /Author); "" when it
    names nobody, only a program's default, or one of ``giver_names``. A file that cannot
    be read has no author to keep: the share goes on.
    """
    reader = _AUTHOR_READERS.get(fmt.lower())
    try:
        names = reader(Path(src)) if reader else []
    except Exception:  # noqa: BLE001 - hostile uploads can make any parser fail
        log.info("no author read from %s (%s)", src, fmt, exc_info=True)
        return ""
    kept: list[str] = []
    for name in (_one_line(_xml_text(n)).strip(" ;,") for n in names):
        if name and name.casefold() not in GENERIC_AUTHORS and name not in kept:
            if not any(_same_person(name, giver) for giver in giver_names if giver.strip()):
                kept.append(name)
    return _trim(_joined(kept), MAX_AUTHOR_CHARS)


def _name_words(name: str) -> list[str]:
    return [word for word in re.split(r"[\s.,;()]+", name.casefold()) if word]


def _same_person(author: str, giver: str) -> bool:
    """The same name, ignoring case and spaces ("D Briers" is "dbriers"), or a name whose
    words are all in the giver's ("Dale Briers" in "Dale Briers (Career Conversations)")."""
    author_words, giver_words = _name_words(author), _name_words(giver)
    if not author_words or not giver_words:
        return False
    return "".join(author_words) == "".join(giver_words) or set(author_words) <= set(giver_words)


def _joined(names: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _ooxml_authors(src: Path) -> list[str]:
    """dc:creator, where Office lists several authors separated by semicolons."""
    with zipfile.ZipFile(src) as archive:
        _check_zip_limits(archive, src.stat().st_size)
        names = {name.lower(): name for name in archive.namelist()}
        rels_name = names.get("_rels/.rels")
        if rels_name is None:
            return []
        core_name = _core_target(_parse(_read_small_entry(archive, rels_name)), names)
        if core_name is None or core_name not in set(archive.namelist()):
            return []
        core = _parse(_read_small_entry(archive, core_name))
    return (core.findtext(_q("dc:creator")) or "").split(";")


def _odf_authors(src: Path) -> list[str]:
    """The initial creator (who wrote it), else the last one to save it."""
    with zipfile.ZipFile(src) as archive:
        _check_zip_limits(archive, src.stat().st_size)
        if "meta.xml" not in archive.namelist():
            return []
        props = _parse(_read_small_entry(archive, "meta.xml")).find(_q("office:meta"))
    if props is None:
        return []
    first = props.findtext(_q("meta:initial-creator")) or ""
    return [first or props.findtext(_q("dc:creator")) or ""]


def _pdf_authors(src: Path) -> list[str]:
    """XMP's list of creators, which viewers show first, else the Info dictionary's."""
    if src.stat().st_size > MAX_PDF_BYTES:
        return []
    with pikepdf.open(src) as pdf:
        creators: list[str] = []
        if isinstance(pdf.Root.get("/Metadata"), pikepdf.Stream):
            found = pdf.open_metadata().get("dc:creator") or []
            creators = [str(name) for name in found if name]
        return creators or [str(pdf.docinfo.get("/Author", ""))]


_AUTHOR_READERS: dict[str, Callable[[Path], list[str]]] = {
    **dict.fromkeys(OOXML_FORMATS, _ooxml_authors),
    **dict.fromkeys(ODF_FORMATS, _odf_authors),
    "pdf": _pdf_authors,
}


# --------------------------------------------------------------------------- file names

MAX_NAME_CHARS = 150
MAX_NAME_BYTES = 240  # most file systems stop at 255 UTF-8 bytes
MAX_PERSON_CHARS = 60
MAX_FILE_PART_CHARS = 60
_KEEP_FORMAT_CHARS = {"\u200c", "\u200d"}  # ZWNJ/ZWJ: needed by Persian, Indic scripts, emoji
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)
}
_NAME_REPLACEMENTS = str.maketrans(
    {"/": "-", "\\": "-", ":": " -", "*": "-", "?": "", "<": "(", ">": ")", "|": "-", '"': "'"}
)


def person_name(author: str) -> str:
    """The person's name from a credit such as "Dale Briers (Collaborative Career
    Conversations)": file names stay short, the full credit is inside the file."""
    return author.split(" (", 1)[0].strip()


def _clean_name_part(text: str) -> str:
    """One safe piece of a file name: no controls, bidi tricks, separators or odd spaces."""
    text = unicodedata.normalize("NFC", text).translate(_NAME_REPLACEMENTS)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char.isspace() or category in ("Zl", "Zp"):
            kept.append(" ")
        elif category in ("Cc", "Cs", "Cn") or (
            category == "Cf" and char not in _KEEP_FORMAT_CHARS
        ):
            continue
        else:
            kept.append(char)
    return " ".join("".join(kept).split()).lstrip(" .-").rstrip(" .")


def _extension(file_name: str) -> str:
    """The extension of the last path component, as written, if it looks like one."""
    base = re.split(r"[/\\]", file_name)[-1]
    if "." not in base.strip("."):
        return ""
    ext = base.rsplit(".", 1)[1]
    return ext if re.fullmatch(r"[A-Za-z0-9]{1,10}", ext) else ""


def _trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip(" .-\u200d\u200c") + "…"


def _fits(name: str) -> bool:
    return len(name) <= MAX_NAME_CHARS and len(name.encode("utf-8")) <= MAX_NAME_BYTES


def _stem(title: str, file_part: str, person: str, dot_ext: str) -> str:
    """Title, "— <file>" and "— shared by <person>", trimming the title first, then the
    file's and the person's names only when they alone would not leave room (very long or
    many-byte names)."""
    for person_limit, part_limit in ((MAX_PERSON_CHARS, MAX_FILE_PART_CHARS), (30, 40), (15, 20)):
        middle = f" — {_trim(file_part, part_limit)}" if file_part else ""
        suffix = f" — shared by {_trim(person, person_limit)}" if person else ""
        room = MAX_NAME_CHARS - len(middle) - len(suffix) - len(dot_ext)
        for title_limit in range(room, 0, -1):
            stem = _trim(title, title_limit) + middle + suffix
            if _fits(stem + dot_ext):
                return stem
    return _trim(title, 15)  # unreachable with a 10-character extension, kept as a floor


def _file_part(original_name: str, clean_title: str) -> str:
    """The file's own name without its extension; "" when it only repeats the title."""
    base = re.split(r"[/\\]", original_name)[-1]
    ext = _extension(base)
    part = _clean_name_part(base[: -len(ext) - 1] if ext else base)
    return "" if part.casefold() == clean_title.casefold() else part


def download_name(title: str, author: str, original_name: str) -> str:
    """ "Values card sort — worksheet — shared by Dale Briers.docx": a single safe file name
    that says which resource and which of its files this is, and credits the giver wherever
    the file is saved. The file's own name keeps two files of one resource (two .docx, say)
    from saving over each other. Anonymous gifts: no "shared by"."""
    ext = _extension(original_name).lower()
    dot_ext = f".{ext}" if ext else ""
    clean_title = _clean_name_part(title) or "Resource"
    file_part = _file_part(original_name, clean_title)
    stem = _stem(clean_title, file_part, _clean_name_part(person_name(author)), dot_ext)
    # One more pass through the header's own rules, so the name sent is the name built
    # (an author like "0..0" would otherwise read as a stem plus an extension).
    return _safe_single_name(_not_reserved(stem) + dot_ext)


def _not_reserved(stem: str) -> str:
    """Windows refuses to save a file called CON, NUL, COM1... whatever its extension."""
    return f"{stem} (resource)" if stem.upper() in _WINDOWS_RESERVED else stem


_ASCII_PUNCTUATION = str.maketrans(
    {"—": "-", "–": "-", "‘": "'", "’": "'", "“": "'", "”": "'", "„": "'", "…": "..."}
)


def _safe_single_name(filename: str) -> str:
    """Whatever the caller passes, reduce it to one file name with its extension."""
    ext = _extension(filename)
    stem = re.split(r"[/\\]", filename)[-1]
    stem = stem[: -len(ext) - 1] if ext else stem
    stem = _not_reserved(_clean_name_part(stem) or "download")
    name = _trim(stem, MAX_NAME_CHARS - len(ext) - 1) + (f".{ext}" if ext else "")
    while not _fits(name):
        stem = _trim(stem, len(stem) - 1)
        name = stem + (f".{ext}" if ext else "")
    return name


def _ascii_fallback(name: str) -> str:
    """The name as plain ASCII for clients that ignore ``filename*``, never empty."""
    text = unicodedata.normalize("NFKD", name.translate(_ASCII_PUNCTUATION))
    text = "".join(c for c in text if 0x20 <= ord(c) < 0x7F and c not in '"\\;%')
    stem, dot, ext = " ".join(text.split()).rpartition(".")
    if not dot:
        stem, ext = ext, ""
    stem = stem[: MAX_NAME_CHARS - len(ext) - 1].strip(" .-")
    if not any(c.isalnum() for c in stem):
        stem = "download"
    return f"{stem}.{ext}" if ext else stem


def content_disposition(filename: str) -> str:
    """An RFC 6266 attachment header: a plain-ASCII ``filename`` for old clients and the
    exact UTF-8 name in ``filename*``; both always describe one safe file name."""
    name = _safe_single_name(filename)
    fallback = _ascii_fallback(name)
    encoded = quote(name, safe="!#$&+^`|~-._")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


__all__ = [
    "ADAPTED_FROM",
    "ANONYMOUS_CREATOR",
    "CREDITABLE_FORMATS",
    "CREDIT_TXT",
    "Credit",
    "SITE_NAME",
    "content_disposition",
    "credit_line",
    "credit_txt",
    "description_text",
    "download_name",
    "original_author",
    "person_name",
    "write_credit_bundle",
    "write_credited_copy",
]
