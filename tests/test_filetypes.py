"""What the upload form accepts: real formats by name *and* content, friendly refusals."""

from __future__ import annotations

import struct
import time
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import pytest

from exchange.files.formats import (
    ACCEPT_ATTRIBUTE,
    ALLOWED,
    ALLOWED_SUMMARY,
    ZIP_MAX_ENTRIES,
    UnsafeArchive,
    UnsupportedFile,
    clean_filename,
    detect,
    open_zip,
)
from tests.fixtures.corpus import corpus_file, manifest
from tests.fixtures.hostile import (
    docx_with,
    giant_gif,
    giant_jpeg,
    giant_png,
    giant_webp,
    lying_zip,
    nested_zips,
    overstated_zip,
)

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
HTML = b"<!DOCTYPE html>\n<html><body><p>Career quiz</p></body></html>\n"
LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:98bd62a9770ed0b7d4f1a5d9e1f0e0f7a4b0e8c3f2d1a0b9c8d7e6f5a4b3c2d1\n"
    b"size 102400\n"
)

# Corpus files the upload form must turn away, with a phrase the sentence must contain.
EXPECTED_REFUSALS = {
    "hostile/openpyxl-null_archive.xlsx": "is not an Excel spreadsheet",
    "hostile/openpyxl-null_file.xlsx": "is empty",
    "hostile/suncoast-behavioral-interview-questions.pdf": "Git LFS pointer",
    "hostile/tika-droste.zip": ".zip file, which we do not accept",
    "hostile/tika-quine.gz": ".gz file, which we do not accept",
    "hostile/tika-testMARKDOWN_dataURI.md": "script",
    "hostile/tika-testODTnotaZipFile.odt": "is not an OpenDocument text",
    "hostile/tika-testWORD_truncated.docx": "damaged or incomplete",
    "hostile/tika-testWordPerfect_42.doc": "is not a Word document",
    "hostile/tika-testZIP_corrupted_oom.zip": ".zip file, which we do not accept",
    "odf/odfpy-spreadsheet-with-macro.ods": "contains macros",
    "odf/tika-testODTMacro.fodt": "save it as .odt",
    "pptx/python-pptx-act-props.pptm": "save it as .pptx without macros",
    "xlsx/tika-testEXCEL_macro.xlsm": "save it as .xlsx without macros",
}


def upload(tmp_path: Path, data: bytes) -> Path:
    """The received bytes, stored the way the upload form stores them: under a server name."""
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    return path


def office_zip(path: Path, main_type: str, parts: dict[str, bytes] | None = None) -> Path:
    """A minimal OOXML package whose [Content_Types].xml declares ``main_type``."""
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'content-types"><Override PartName="/main.xml" ContentType="{main_type}"/></Types>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        for name, data in (parts or {}).items():
            archive.writestr(name, data)
    return path


def refusal(path: Path, name: str) -> str:
    with pytest.raises(UnsupportedFile) as caught:
        detect(path, name)
    return str(caught.value)


# --------------------------------------------------------------------------- the corpus


@pytest.mark.parametrize("doc", manifest(), ids=lambda doc: doc.relpath)
def test_corpus_file_is_its_real_format_or_refused_with_a_sentence(doc):
    name = doc.path.name
    try:
        found = detect(doc.path, name)
    except UnsupportedFile as exc:
        message = str(exc)
        assert f"“{name}”" in message and message.endswith(".")
        assert doc.relpath in EXPECTED_REFUSALS, f"unexpected refusal: {message}"
        assert EXPECTED_REFUSALS[doc.relpath] in message
    else:
        assert doc.relpath not in EXPECTED_REFUSALS, f"accepted as {found.format}"
        assert found.format == doc.format
        assert found is ALLOWED[doc.format]


def test_password_protected_word_file_is_accepted_as_what_its_name_says():
    path = corpus_file("hostile/tika-testWORD_protected_passtika.docx")
    assert detect(path, "minutes.docx").format == "docx"


# --------------------------------------------------------------------------- names and contents


def test_extension_is_case_insensitive_and_jpeg_is_jpg(tmp_path):
    assert detect(upload(tmp_path, MINIMAL_PDF), "REPORT.PDF").format == "pdf"
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100)
    found = detect(upload(tmp_path, jpeg), "photo.jpeg")
    assert (found.format, found.content_type) == ("jpg", "image/jpeg")


def test_html_renamed_docx_is_refused_saying_what_it_is(tmp_path):
    message = refusal(upload(tmp_path, HTML), "x.docx")
    assert message == "“x.docx” is not a Word document: its contents look like HTML."


def test_html_renamed_txt_is_refused(tmp_path):
    assert "look like HTML" in refusal(upload(tmp_path, b"  \n" + HTML), "notes.txt")


def test_svg_is_refused_by_name_and_by_content(tmp_path):
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'
    assert "we do not accept" in refusal(upload(tmp_path, svg), "logo.svg")
    assert "an SVG image" in refusal(upload(tmp_path, svg), "logo.txt")


def test_double_extension_is_judged_by_the_last_one(tmp_path):
    message = refusal(upload(tmp_path, MINIMAL_PDF), "x.pdf.html")
    assert message.startswith("“x.pdf.html” is a .html file, which we do not accept")
    assert ALLOWED_SUMMARY in message


def test_nul_byte_in_name_is_refused(tmp_path):
    message = refusal(upload(tmp_path, MINIMAL_PDF), "x.pdf\x00.exe")
    assert "NUL" in message and "\x00" not in message


@pytest.mark.parametrize("name", ["x.pdf.", "x.pdf. .", "x.pdf "])
def test_trailing_dots_and_spaces_are_refused(tmp_path, name):
    assert "ends with a dot or a space" in refusal(upload(tmp_path, MINIMAL_PDF), name)


def test_pdf_content_named_docx_is_refused(tmp_path):
    message = refusal(upload(tmp_path, MINIMAL_PDF), "cv.docx")
    assert message == "“cv.docx” is not a Word document: its contents look like a PDF."


def test_git_lfs_pointer_named_pdf_is_refused(tmp_path):
    message = refusal(upload(tmp_path, LFS_POINTER), "worksheet.pdf")
    assert message.startswith("“worksheet.pdf” is not a PDF: its contents look like a Git LFS")


def test_non_zip_named_odt_is_refused(tmp_path):
    message = refusal(upload(tmp_path, b"This is not a zip file!\n"), "x.odt")
    assert message == "“x.odt” is not an OpenDocument text: its contents look like plain text."


def test_macro_enabled_workbook_is_refused_by_name(tmp_path):
    path = office_zip(tmp_path / "m.zip", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    message = refusal(path, "budget.xlsm")
    assert message == (
        "“budget.xlsm” contains macros, which we do not accept: "
        "save it as .xlsx without macros and share it again."
    )


def test_macro_enabled_workbook_renamed_xlsx_is_refused_by_content(tmp_path):
    path = office_zip(tmp_path / "m.zip", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    assert "contains macros" in refusal(path, "budget.xlsx")


def test_workbook_named_docx_is_refused(tmp_path):
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    assert "is not a Word document" in refusal(office_zip(tmp_path / "w.zip", main), "a.docx")


def test_office_templates_are_accepted_in_their_family(tmp_path):
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
    path = office_zip(tmp_path / "t.zip", main)
    assert detect(path, "letter.dotx").format == "dotx"
    assert detect(path, "letter.docx").format == "docx"


def test_utf16_text_with_bom_is_text_but_binary_is_not(tmp_path):
    utf16 = "Career goals\tNext steps\n".encode("utf-16")
    assert detect(upload(tmp_path, utf16), "goals.txt").format == "txt"
    binary = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200)
    assert "binary data" in refusal(upload(tmp_path, binary), "goals.txt")


def test_csv_and_markdown_are_accepted(tmp_path):
    assert detect(upload(tmp_path, b"name,goal\nAna,nurse\n"), "a.csv").format == "csv"
    assert detect(upload(tmp_path, b"# Goals\n\n- one\n"), "a.md").format == "md"


def test_empty_upload_is_refused(tmp_path):
    assert refusal(upload(tmp_path, b""), "notes.txt").startswith("“notes.txt” is empty")


def test_accept_attribute_lists_every_allowed_extension():
    listed = ACCEPT_ATTRIBUTE.split(",")
    assert {f".{fmt}" for fmt in ALLOWED} <= set(listed)
    assert ".jpeg" in listed and ".xlsm" not in listed and ".svg" not in listed


# --------------------------------------------------------------------------- zip bombs


def zeros_bomb(path: Path, megabytes: int) -> Path:
    """A real bomb: ``megabytes`` of zeros deflate to about a thousandth of that."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as entry:
            block = bytes(1024 * 1024)
            for _ in range(megabytes):
                entry.write(block)
    return path


def declared_bomb(path: Path) -> Path:
    """A few KB that declare 2 GB: the sizes in the directory are rewritten after writing."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", bytes(64 * 1024))
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 2**31)  # uncompressed size
    struct.pack_into("<I", data, 22, 2**31)  # the local header's copy
    path.write_bytes(bytes(data))
    return path


def many_entries(path: Path, count: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for index in range(count):
            archive.writestr(f"customXml/item{index}.xml", b"")
    return path


def refused_quickly_with_little_memory(path: Path, name: str) -> str:
    """Refused without unpacking: in bounded memory (measured on a second run) and without
    the minutes a real decompression would take (a generous bound: the machine is shared)."""
    started = time.perf_counter()
    message = refusal(path, name)
    assert time.perf_counter() - started < 5
    tracemalloc.start()
    try:
        refusal(path, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024
    return message


def test_zip_bomb_of_real_zeros_is_refused_fast(tmp_path):
    path = zeros_bomb(tmp_path / "bomb.docx", 120)
    assert path.stat().st_size < 200 * 1024
    message = refused_quickly_with_little_memory(path, "bomb.docx")
    assert message.startswith("“bomb.docx” cannot be accepted:") and "zip bomb" in message


def test_two_gigabytes_declared_in_a_few_kilobytes_is_refused_fast(tmp_path):
    path = declared_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 4096
    assert "more than 300 MB" in refused_quickly_with_little_memory(path, "bomb.xlsx")


def test_too_many_entries_are_refused(tmp_path):
    path = many_entries(tmp_path / "many.pptx", ZIP_MAX_ENTRIES + 1)
    assert "more than 10,000 files" in refused_quickly_with_little_memory(path, "many.pptx")


def test_entry_count_is_read_before_python_lists_the_directory(tmp_path):
    path = many_entries(tmp_path / "few.xlsx", 3)
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 65000, 65000)  # claim 65,000 entries
    path.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchive, match="more than 10,000 files"):
        open_zip(path)


def test_huge_declared_directory_is_refused_before_it_is_read(tmp_path):
    path = many_entries(tmp_path / "few.xlsx", 3)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, data.rfind(b"PK\x05\x06") + 12, 64 * 1024 * 1024)
    path.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchive, match="list of contents is far too long"):
        open_zip(path)


def test_understated_entry_count_is_still_caught_in_the_directory(tmp_path):
    path = many_entries(tmp_path / "many.docx", ZIP_MAX_ENTRIES + 1)
    data = bytearray(path.read_bytes())
    struct.pack_into("<HH", data, data.rfind(b"PK\x05\x06") + 8, 5, 5)  # claim 5 entries
    path.write_bytes(bytes(data))
    assert "more than 10,000 files" in refused_quickly_with_little_memory(path, "many.docx")


def test_ordinary_office_file_passes_the_zip_limits():
    with open_zip(corpus_file("career/onet/Skills.xlsx")) as archive:
        assert "xl/worksheets/sheet1.xml" in archive.namelist()


def test_a_part_that_unpacks_to_more_than_the_directory_declares_is_refused(tmp_path):
    """Every directory limit passes (1,000 bytes declared); the part really holds 20 MB."""
    path = upload(tmp_path, lying_zip())
    message = refused_quickly_with_little_memory(path, "checklist.docx")
    assert message == (
        "“checklist.docx” cannot be accepted: its part word/media/blank.bin unpacks to more "
        "than its list of contents declares (a zip bomb)."
    )


def test_a_directory_overstating_compressed_sizes_to_pass_the_ratio_limit_is_refused(tmp_path):
    path = upload(tmp_path, overstated_zip())
    message = refused_quickly_with_little_memory(path, "bomb.docx")
    assert message.endswith("its list of contents does not match the parts it holds (a zip bomb).")


def test_a_lying_zip_embedded_in_an_office_file_is_refused(tmp_path):
    path = upload(tmp_path, docx_with({"word/embeddings/sheet.xlsx": lying_zip()}))
    assert "unpacks to more than its list of contents declares" in refusal(path, "a.docx")


def test_archives_nested_three_deep_are_fine_but_not_four(tmp_path):
    assert detect(upload(tmp_path, nested_zips(3)), "chart.docx").format == "docx"
    message = refusal(upload(tmp_path, nested_zips(4)), "deep.docx")
    assert message.endswith("it holds archives nested more than 3 deep.")


def test_parts_office_cannot_open_are_refused(tmp_path):
    path = upload(tmp_path, docx_with({}))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("word/media/notes.bin", b"bzip2 is not for Office")
    assert "compressed in a way Office cannot open" in refusal(path, "odd.docx")
    data = bytearray(upload(tmp_path, docx_with({})).read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 8, 1)  # the "encrypted" flag
    assert "is password-protected" in refusal(upload(tmp_path, bytes(data)), "locked.docx")


@pytest.mark.parametrize(
    ("name", "data", "size"),
    [
        ("plan.png", giant_png(), "40,000 × 40,000"),
        ("photo.jpg", giant_jpeg(), "60,000 × 60,000"),
        ("banner.gif", giant_gif(), "65,535 × 65,535"),
        ("poster.webp", giant_webp(), "20,000 × 20,000"),
    ],
    ids=["png", "jpeg", "gif", "webp"],
)
def test_pictures_declaring_too_many_pixels_are_refused_without_decoding(
    tmp_path, name, data, size
):
    assert len(data) < 70_000
    message = refused_quickly_with_little_memory(upload(tmp_path, data), name)
    assert message == (
        f"“{name}” cannot be accepted: it is {size} pixels, "
        "more than the 50 megapixels a picture may have."
    )


def test_a_large_but_reasonable_picture_is_accepted(tmp_path):
    assert detect(upload(tmp_path, giant_png(8000, 6000)), "scan.png").format == "png"


@pytest.mark.parametrize("part", ["docProps/thumbnail.png", "word/media/image1.jpeg"])
def test_an_office_file_carrying_a_giant_picture_is_refused(tmp_path, part):
    picture = giant_png() if part.endswith(".png") else giant_jpeg()
    message = refusal(upload(tmp_path, docx_with({part: picture})), "cv.docx")
    assert f"its picture {part} is" in message and "50 megapixels" in message


# --------------------------------------------------------------------------- clean_filename


def test_clean_filename_keeps_only_the_base_name():
    assert clean_filename("../../x") == "x"
    assert clean_filename("..\\..\\Windows\\win.ini") == "win.ini"
    assert clean_filename("C:\\Users\\Ana\\Desktop\\Values card sort.docx") == (
        "Values card sort.docx"
    )


def test_clean_filename_shortens_long_names_but_keeps_the_extension():
    cleaned = clean_filename("a" * 300 + ".docx")
    assert len(cleaned) == 200 and cleaned.endswith("a.docx")
    assert len(clean_filename("b" * 300)) == 200


def test_clean_filename_turns_line_breaks_into_spaces():
    assert clean_filename("Interview\r\nprep.pdf") == "Interview prep.pdf"
    assert clean_filename("a\tb\x00c\x1b.pdf") == "a bc.pdf"


def test_clean_filename_makes_quotes_harmless_and_keeps_semicolons():
    cleaned = clean_filename('My "best" CV; final?.pdf')
    assert cleaned == "My 'best' CV; final_.pdf"
    assert '"' not in clean_filename('x"; filename="evil.exe')


def test_clean_filename_normalises_unicode_and_drops_direction_tricks():
    decomposed = "Lebenslauf Mu\u0308ller.docx"
    assert clean_filename(decomposed) == unicodedata.normalize("NFC", decomposed)
    assert clean_filename("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert clean_filename("職業カード 🎯.pdf") == "職業カード 🎯.pdf"
    assert clean_filename("Résumé\u00a0tips.md") == "Résumé tips.md"


def test_clean_filename_strips_trailing_dots_and_reserved_device_names():
    assert clean_filename("x.pdf. . ") == "x.pdf"
    assert clean_filename("CON.txt") == "CON_.txt"


@pytest.mark.parametrize("name", ["", "...", "  ", "/", "../..", "\x00\x01"])
def test_clean_filename_refuses_names_with_nothing_left(name):
    with pytest.raises(UnsupportedFile, match="no usable name"):
        clean_filename(name)
