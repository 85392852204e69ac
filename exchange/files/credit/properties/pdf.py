"""Credit in a PDF's Info dictionary and XMP packet, appended as an
incremental update after the original bytes; an anonymous gift's PDF is saved anew instead,
so no earlier Info naming the giver stays in the file.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import BinaryIO

import pikepdf

from ..line import Credit, creator_text, description_text, one_line
from .package import UnsafePackage
from .parts import xml_text

MAX_PDF_BYTES = 300 * 1024 * 1024
COPY_CHUNK = 1024 * 1024


def credit_pdf(src: Path, credit: Credit, tmp: Path) -> bool:
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
                Title=pikepdf.String(one_line(credit.title)),
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
    info["/Title"] = pikepdf.String(one_line(credit.title))
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
            xmp["dc:description"] = xml_text(description_text(credit))
            xmp["dc:title"] = xml_text(one_line(credit.title))
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
