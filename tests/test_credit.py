"""Credit that travels with the file: properties written into real documents, download
names and Content-Disposition headers that stay safe whatever the title or file name."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from email import policy
from email.parser import HeaderParser
from pathlib import Path

import defusedxml.ElementTree as SafeET
import docx
import openpyxl
import pikepdf
import pptx
import pypdfium2 as pdfium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from odf import teletype
from odf import text as odf_text
from odf.opendocument import load as load_odf
from werkzeug.http import parse_options_header

from exchange.files.credit import (
    ANONYMOUS_CREATOR,
    CREDITABLE_FORMATS,
    Credit,
    content_disposition,
    credit_line,
    description_text,
    download_name,
    write_credited_copy,
)
from tests.fixtures.corpus import corpus_file, manifest

NAMED = Credit(
    title="Job Search Tracker",
    author="Dale Briers (Collaborative Career Conversations)",
    licence_label="CC BY 4.0",
    licence_url="https://creativecommons.org/licenses/by/4.0/",
    source_url="https://exchange.test/resources/12",
)
ANONYMOUS = Credit(
    title="Values Card Sort",
    author="",
    licence_label="Free to use with credit",
    source_url="https://exchange.test/resources/13",
)
GIVER = "Dale Briers"
MANIFEST_NS = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"

NS = {
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
}


# --------------------------------------------------------------------------- helpers


def zip_entries(path: Path) -> list[tuple[str, int, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(i.filename, i.compress_type, archive.read(i)) for i in archive.infolist()]


def assert_other_entries_identical(src: Path, dest: Path, changed: set[str]) -> list[str]:
    """Every entry we do not own keeps its place, name, compression and bytes; returns the
    names of entries appended at the end."""
    before, after = zip_entries(src), zip_entries(dest)
    assert [name for name, _, _ in after[: len(before)]] == [name for name, _, _ in before]
    for (name, method, data), (_, new_method, new_data) in zip(before, after, strict=False):
        assert new_method == method, name
        if name not in changed:
            assert new_data == data, f"{name} changed"
    return [name for name, _, _ in after[len(before) :]]


def core_xml(path: Path) -> SafeET.Element:
    with zipfile.ZipFile(path) as archive:
        return SafeET.fromstring(archive.read("docProps/core.xml"))


def odf_meta(path: Path) -> SafeET.Element:
    with zipfile.ZipFile(path) as archive:
        return SafeET.fromstring(archive.read("meta.xml")).find("office:meta", NS)


def credited(src: Path, fmt: str, tmp_path: Path, credit: Credit = NAMED) -> Path:
    dest = tmp_path / f"credited.{fmt}"
    assert write_credited_copy(src, fmt, credit, dest) is True
    return dest


def docx_text(path: Path) -> str:
    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def xlsx_cells(path: Path) -> list:
    workbook = openpyxl.load_workbook(path)
    # Array formulas are objects without equality: compare their formula text.
    values = (c.value for sheet in workbook for row in sheet.iter_rows() for c in row)
    return [getattr(value, "text", value) for value in values]


def pptx_text(path: Path) -> list[str]:
    deck = pptx.Presentation(str(path))
    return [s.text_frame.text for slide in deck.slides for s in slide.shapes if s.has_text_frame]


def odf_text_of(path: Path) -> str:
    document = load_odf(str(path))
    return "\n".join(teletype.extractText(p) for p in document.getElementsByType(odf_text.P))


def pdf_text(path: Path) -> list[str]:
    document = pdfium.PdfDocument(str(path))
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


# --------------------------------------------------------------------------- credit line


def test_credit_line_names_the_giver_title_site_and_licence() -> None:
    assert credit_line(NAMED) == (
        '"Job Search Tracker" by Dale Briers (Collaborative Career Conversations), '
        "shared via Toolkit Exchange, CC BY 4.0"
    )


def test_anonymous_credit_line_carries_no_name() -> None:
    assert credit_line(ANONYMOUS) == (
        '"Values Card Sort", shared anonymously via Toolkit Exchange, Free to use with credit'
    )


def test_description_adds_source_and_licence_links_only_when_known() -> None:
    lines = description_text(NAMED).splitlines()
    assert lines == [
        credit_line(NAMED),
        "Source: https://exchange.test/resources/12",
        "Licence: https://creativecommons.org/licenses/by/4.0/",
    ]
    assert "Licence:" not in description_text(ANONYMOUS)


def test_a_title_with_line_breaks_stays_on_one_line() -> None:
    credit = Credit(title="Job\nSearch\r\n Tracker", author="Dale", licence_label="CC BY 4.0")
    assert credit_line(credit).startswith('"Job Search Tracker" by Dale')


# --------------------------------------------------------------------------- fresh Office files


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("My strengths", level=1)
    document.add_paragraph("List three things you did well this week.")
    document.core_properties.author = GIVER
    document.core_properties.last_modified_by = GIVER
    document.core_properties.title = ""
    document.save(str(path))
    return path


def make_xlsx(path: Path, template: bool = False) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Employer", "Applied on", "Follow-up"])
    sheet.append(["Acme Ltd", "2024-05-01", "=B2"])
    workbook.properties.creator = GIVER
    workbook.properties.lastModifiedBy = GIVER
    workbook.properties.title = "My tracker"
    workbook.template = template
    workbook.save(path)
    return path


def make_pptx(path: Path) -> Path:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Your career story"
    slide.placeholders[1].text = "Where have you been? Where are you going?"
    deck.core_properties.author = GIVER
    deck.core_properties.last_modified_by = GIVER
    deck.core_properties.title = "Slide 1"
    deck.save(str(path))
    return path


def with_replaced_entry(src: Path, dest: Path, name: str, change) -> Path:
    """A copy of a zip package with one entry's text changed, every other entry as it was."""
    with zipfile.ZipFile(src) as original, zipfile.ZipFile(dest, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == name:
                data = change(data.decode("utf-8")).encode("utf-8")
            copy.writestr(info, data)
    return dest


def with_company_and_manager(path: Path) -> Path:
    """The file with "Company" and "Manager" in its extended properties (docProps/app.xml),
    as Office writes them from the author's account."""
    personal = f"<Company>{GIVER} Careers Ltd</Company><Manager>{GIVER}</Manager>"
    return with_replaced_entry(
        path,
        path.with_name(f"company-{path.name}"),
        "docProps/app.xml",
        lambda text: text.replace("</Properties>", f"{personal}</Properties>"),
    )


def test_docx_credit_is_read_back_by_python_docx(tmp_path: Path) -> None:
    src = make_docx(tmp_path / "strengths.docx")
    dest = credited(src, "docx", tmp_path)
    properties = docx.Document(str(dest)).core_properties
    assert properties.author == NAMED.author
    assert properties.comments == description_text(NAMED)
    assert properties.title == NAMED.title
    assert properties.last_modified_by == GIVER  # named credit leaves the giver's field alone
    assert docx_text(dest) == docx_text(src)
    assert assert_other_entries_identical(src, dest, {"docProps/core.xml"}) == []


def test_xlsx_credit_is_read_back_by_openpyxl_and_keeps_the_cells(tmp_path: Path) -> None:
    src = make_xlsx(tmp_path / "tracker.xlsx")
    dest = credited(src, "xlsx", tmp_path)
    properties = openpyxl.load_workbook(dest).properties
    assert properties.creator == NAMED.author
    assert properties.description == description_text(NAMED)
    assert properties.title == NAMED.title  # not the file's own "My tracker"
    assert xlsx_cells(dest) == xlsx_cells(src)
    assert_other_entries_identical(src, dest, {"docProps/core.xml"})


def test_pptx_credit_is_read_back_by_python_pptx(tmp_path: Path) -> None:
    src = make_pptx(tmp_path / "story.pptx")
    dest = credited(src, "pptx", tmp_path)
    properties = pptx.Presentation(str(dest)).core_properties
    assert (properties.author, properties.comments) == (NAMED.author, description_text(NAMED))
    assert properties.title == NAMED.title  # not the file's own "Slide 1"
    assert pptx_text(dest) == pptx_text(src)
    assert_other_entries_identical(src, dest, {"docProps/core.xml"})


def test_xltx_template_is_credited(tmp_path: Path) -> None:
    src = make_xlsx(tmp_path / "tracker.xltx", template=True)
    dest = credited(src, "xltx", tmp_path)
    assert core_xml(dest).findtext("dc:creator", namespaces=NS) == NAMED.author
    assert_other_entries_identical(src, dest, {"docProps/core.xml"})


def test_potx_template_is_credited(tmp_path: Path) -> None:
    pptx_file = make_pptx(tmp_path / "story.pptx")
    src = tmp_path / "story.potx"
    with zipfile.ZipFile(pptx_file) as original, zipfile.ZipFile(src, "w") as template:
        for info in original.infolist():
            data = original.read(info).replace(
                b"presentationml.presentation.main+xml", b"presentationml.template.main+xml"
            )
            template.writestr(info, data)
    dest = credited(src, "potx", tmp_path)
    assert core_xml(dest).findtext("dc:description", namespaces=NS) == description_text(NAMED)
    assert_other_entries_identical(src, dest, {"docProps/core.xml"})


def test_anonymous_office_credit_leaves_no_personal_name_in_the_file(tmp_path: Path) -> None:
    for fmt, make in (("docx", make_docx), ("xlsx", make_xlsx), ("pptx", make_pptx)):
        src = make(tmp_path / f"giver.{fmt}")
        dest = credited(src, fmt, tmp_path, ANONYMOUS)
        core = core_xml(dest)
        assert core.findtext("dc:creator", namespaces=NS) == ANONYMOUS_CREATOR
        assert all(GIVER.encode() not in data for _, _, data in zip_entries(dest)), fmt


@pytest.mark.parametrize("credit", [NAMED, ANONYMOUS], ids=["named", "anonymous"])
def test_every_office_format_takes_the_resources_title(tmp_path: Path, credit: Credit) -> None:
    for fmt, make in (("docx", make_docx), ("xlsx", make_xlsx), ("pptx", make_pptx)):
        src = make(tmp_path / f"giver.{fmt}")
        dest = credited(src, fmt, tmp_path, credit)
        assert core_xml(dest).findtext("dc:title", namespaces=NS) == credit.title, fmt


def test_anonymous_office_credit_replaces_every_name_bearing_property(tmp_path: Path) -> None:
    for fmt, make in (("docx", make_docx), ("xlsx", make_xlsx), ("pptx", make_pptx)):
        src = with_company_and_manager(make(tmp_path / f"giver.{fmt}"))
        assert GIVER.encode() in b"".join(data for _, _, data in zip_entries(src))
        dest = credited(src, fmt, tmp_path, ANONYMOUS)
        core = core_xml(dest)
        assert core.findtext("dc:creator", namespaces=NS) == ANONYMOUS_CREATOR, fmt
        assert core.findtext("cp:lastModifiedBy", namespaces=NS) == ANONYMOUS_CREATOR, fmt
        assert all(GIVER.encode() not in data for _, _, data in zip_entries(dest)), fmt
        with zipfile.ZipFile(dest) as archive:
            app = archive.read("docProps/app.xml")
        assert b"<Company>" not in app and b"<Manager>" not in app, fmt
        assert b"<Application>" in app, fmt  # what is not personal stays


def test_named_office_credit_keeps_company_and_manager(tmp_path: Path) -> None:
    src = with_company_and_manager(make_docx(tmp_path / "giver.docx"))
    dest = credited(src, "docx", tmp_path)
    assert_other_entries_identical(src, dest, {"docProps/core.xml"})


def test_characters_xml_cannot_hold_do_not_break_the_file(tmp_path: Path) -> None:
    credit = Credit(title="Bad\x01title\x0b", author="Dale\x00 Briers", licence_label="CC BY 4.0")
    dest = credited(make_docx(tmp_path / "a.docx"), "docx", tmp_path, credit)
    assert docx.Document(str(dest)).core_properties.author == "Dale Briers"


def test_existing_dest_is_replaced_only_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "out.docx"
    dest.write_bytes(b"previous")
    assert write_credited_copy(make_docx(tmp_path / "a.docx"), "docx", NAMED, dest)
    assert docx.Document(str(dest)).core_properties.author == NAMED.author
    assert list(tmp_path.glob(".credit-*")) == []


# --------------------------------------------------------------------------- corpus Office files

OFFICE_CORPUS = [
    ("docx/python-docx-test.docx", docx_text),
    ("docx/tika-testWORD_various.docx", docx_text),
    ("groundtruth/textract-raw_text.docx", docx_text),
    ("xlsx/openpyxl-formulae.xlsx", xlsx_cells),
    ("nonenglish/tika-testEXCEL_phonetic.xlsx", xlsx_cells),
    ("pptx/tika-testPPT_various.pptx", pptx_text),
    ("pptx/python-pptx-prs-notes.pptx", pptx_text),
]


@pytest.mark.parametrize(("relpath", "read_text"), OFFICE_CORPUS)
def test_corpus_office_file_keeps_its_text_and_gains_credit(
    relpath: str, read_text, tmp_path: Path
) -> None:
    src = corpus_file(relpath)
    fmt = relpath.rsplit(".", 1)[1]
    dest = credited(src, fmt, tmp_path)
    assert read_text(dest) == read_text(src)
    assert core_xml(dest).findtext("dc:creator", namespaces=NS) == NAMED.author
    assert assert_other_entries_identical(src, dest, {"docProps/core.xml"}) == []


def test_word_template_dotx_is_credited(tmp_path: Path) -> None:
    src = corpus_file("docx/tika-testWORD_template.dotx")
    dest = credited(src, "dotx", tmp_path)
    assert core_xml(dest).findtext("dc:description", namespaces=NS) == description_text(NAMED)
    assert_other_entries_identical(src, dest, {"docProps/core.xml"})


@pytest.mark.parametrize(
    "relpath", ["docx/tika-testAltChunkHTML.docx", "hostile/tika-testExternalRefs.docx"]
)
def test_docx_without_core_properties_gets_a_declared_part(relpath: str, tmp_path: Path) -> None:
    src = corpus_file(relpath)
    with zipfile.ZipFile(src) as archive:
        assert "docProps/core.xml" not in archive.namelist()
    dest = credited(src, "docx", tmp_path)
    changed = {"_rels/.rels", "[Content_Types].xml"}
    assert assert_other_entries_identical(src, dest, changed) == ["docProps/core.xml"]
    properties = docx.Document(str(dest)).core_properties  # found through .rels
    assert (properties.author, properties.title) == (NAMED.author, NAMED.title)
    with zipfile.ZipFile(dest) as archive:
        types = archive.read("[Content_Types].xml")
    assert b'PartName="/docProps/core.xml"' in types
    assert b"core-properties+xml" in types


def test_xlsx_without_core_properties_opens_in_openpyxl(tmp_path: Path) -> None:
    workbook = make_xlsx(tmp_path / "tracker.xlsx")
    src = tmp_path / "bare.xlsx"
    with zipfile.ZipFile(workbook) as original, zipfile.ZipFile(src, "w") as bare:
        for info in original.infolist():
            if info.filename != "docProps/core.xml":
                bare.writestr(info, original.read(info))
    dest = credited(src, "xlsx", tmp_path)
    assert openpyxl.load_workbook(dest).properties.creator == NAMED.author


# --------------------------------------------------------------------------- OpenDocument

ODF_CORPUS = [
    "odf/odfpy-ClimateChange2.odt",
    "career/TwentySeconds-cv-template.odt",
    "odf/odfpy-countrystatistics.ods",
    "odf/odfpy-cols.odp",
    "odf/tika-testODP_NPE.odp",
]


def assert_mimetype_first_and_stored(path: Path) -> None:
    """ODF readers sniff the type from the first bytes: "mimetype", stored, no extra field."""
    with open(path, "rb") as fh:
        header = fh.read(38)
    method = int.from_bytes(header[8:10], "little")
    name_length = int.from_bytes(header[26:28], "little")
    extra_length = int.from_bytes(header[28:30], "little")
    assert (method, name_length, extra_length) == (0, 8, 0)
    assert header[30:38] == b"mimetype"


@pytest.mark.parametrize("relpath", ODF_CORPUS)
def test_odf_file_keeps_text_and_gains_credit_in_meta(relpath: str, tmp_path: Path) -> None:
    src = corpus_file(relpath)
    dest = credited(src, relpath.rsplit(".", 1)[1], tmp_path)
    meta = odf_meta(dest)
    assert meta.findtext("meta:initial-creator", namespaces=NS) == NAMED.author
    assert meta.findtext("dc:creator", namespaces=NS) == NAMED.author
    assert meta.findtext("dc:description", namespaces=NS) == description_text(NAMED)
    assert odf_text_of(dest) == odf_text_of(src)
    assert_other_entries_identical(src, dest, {"meta.xml"})
    assert_mimetype_first_and_stored(dest)


def test_odf_without_meta_gets_one_listed_in_the_manifest(tmp_path: Path) -> None:
    original = corpus_file("odf/odfpy-ClimateChange2.odt")
    src = tmp_path / "no-meta.odt"
    with zipfile.ZipFile(original) as full, zipfile.ZipFile(src, "w") as bare:
        for info in full.infolist():
            if info.filename != "meta.xml":
                bare.writestr(info, full.read(info))
    dest = credited(src, "odt", tmp_path, ANONYMOUS)
    assert assert_other_entries_identical(src, dest, {"META-INF/manifest.xml"}) == ["meta.xml"]
    assert odf_meta(dest).findtext("dc:creator", namespaces=NS) == ANONYMOUS_CREATOR
    with zipfile.ZipFile(dest) as archive:
        manifest_xml = SafeET.fromstring(archive.read("META-INF/manifest.xml"))
    paths = [entry.get(f"{{{MANIFEST_NS}}}full-path") for entry in manifest_xml]
    assert "meta.xml" in paths
    assert odf_text_of(dest) == odf_text_of(src)  # odfpy still loads it
    assert_mimetype_first_and_stored(dest)


def test_anonymous_odf_credit_replaces_both_creator_fields(tmp_path: Path) -> None:
    dest = credited(corpus_file("odf/odfpy-cols.odp"), "odp", tmp_path, ANONYMOUS)
    meta = odf_meta(dest)
    assert meta.findtext("meta:initial-creator", namespaces=NS) == ANONYMOUS_CREATOR
    assert meta.findtext("dc:creator", namespaces=NS) == ANONYMOUS_CREATOR


def test_odf_credit_sets_the_resources_title(tmp_path: Path) -> None:
    dest = credited(corpus_file("odf/odfpy-cols.odp"), "odp", tmp_path)
    assert odf_meta(dest).findtext("dc:title", namespaces=NS) == NAMED.title


def test_anonymous_odf_credit_leaves_out_who_printed_it(tmp_path: Path) -> None:
    printed = f"<meta:printed-by>{GIVER}</meta:printed-by></office:meta>"
    src = with_replaced_entry(
        corpus_file("odf/odfpy-cols.odp"),
        tmp_path / "printed.odp",
        "meta.xml",
        lambda text: text.replace("</office:meta>", printed),
    )
    assert odf_meta(src).findtext("meta:printed-by", namespaces=NS) == GIVER
    dest = credited(src, "odp", tmp_path, ANONYMOUS)
    assert odf_meta(dest).find("meta:printed-by", NS) is None
    assert all(GIVER.encode() not in data for _, _, data in zip_entries(dest))


# --------------------------------------------------------------------------- PDF

PDF_CORPUS = [
    "career/billryan-resume-en.pdf",  # classic cross-reference table
    "pdf/sample-files-pdflatex-4-pages.pdf",  # cross-reference stream
    "pdf/pypdf-SF424_page2.pdf",  # form fields
    "nonenglish/sample-files-habibi.pdf",  # right-to-left text
]


@pytest.mark.parametrize("relpath", PDF_CORPUS)
def test_pdf_gets_an_incremental_update_with_the_credit(relpath: str, tmp_path: Path) -> None:
    src = corpus_file(relpath)
    dest = credited(src, "pdf", tmp_path)
    original = src.read_bytes()
    assert dest.read_bytes()[: len(original)] == original
    with pikepdf.open(dest) as pdf:
        assert str(pdf.docinfo["/Author"]) == NAMED.author
        assert str(pdf.docinfo["/Subject"]) == description_text(NAMED)
        assert pdf.get_warnings() == []
    assert pdf_text(dest) == pdf_text(src)


def test_pdf_xmp_metadata_carries_the_credit_too(tmp_path: Path) -> None:
    src = corpus_file("pdf/tika-testPDF_childAttachments.pdf")
    dest = credited(src, "pdf", tmp_path)
    with pikepdf.open(dest) as pdf:
        xmp = pdf.open_metadata()
        assert xmp["dc:creator"] == [NAMED.author]
        assert xmp["dc:description"] == description_text(NAMED)
        assert len(pdf.pages) == 67


def make_pdf(path: Path) -> Path:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = GIVER
    pdf.docinfo["/Title"] = "Slide 1"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:creator"] = [GIVER]
        xmp["dc:title"] = "Slide 1"
        xmp["dc:contributor"] = [GIVER]
        xmp["dc:publisher"] = [f"{GIVER} Careers Ltd"]
    pdf.save(path)
    return path


@pytest.mark.parametrize("credit", [NAMED, ANONYMOUS], ids=["named", "anonymous"])
def test_pdf_info_and_xmp_take_the_resources_title(tmp_path: Path, credit: Credit) -> None:
    dest = credited(make_pdf(tmp_path / "giver.pdf"), "pdf", tmp_path, credit)
    with pikepdf.open(dest) as pdf:
        assert str(pdf.docinfo["/Title"]) == credit.title
        assert pdf.open_metadata()["dc:title"] == credit.title


def test_anonymous_pdf_keeps_no_trace_of_the_givers_name(tmp_path: Path) -> None:
    src = make_pdf(tmp_path / "giver.pdf")
    dest = credited(src, "pdf", tmp_path, ANONYMOUS)
    assert GIVER.encode() not in dest.read_bytes()
    with pikepdf.open(dest) as pdf:
        assert str(pdf.docinfo["/Author"]) == ANONYMOUS_CREATOR
        assert pdf.open_metadata()["dc:creator"] == [ANONYMOUS_CREATOR]
        assert len(pdf.pages) == 1
        for obj in pdf.objects:  # compressed streams included
            data = obj.read_bytes() if isinstance(obj, pikepdf.Stream) else obj.unparse()
            assert GIVER.encode() not in data


def test_pdf_without_info_or_trailing_newline_is_credited(tmp_path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    buffer = io.BytesIO()
    pdf.save(buffer)
    src = tmp_path / "bare.pdf"
    src.write_bytes(buffer.getvalue().rstrip(b"\r\n"))
    dest = credited(src, "pdf", tmp_path)
    with pikepdf.open(dest) as result:
        assert str(result.docinfo["/Title"]) == NAMED.title
        assert result.get_warnings() == []


# --------------------------------------------------------------------------- refusals

REFUSED = [
    ("hostile/pypdf-crazyones-encrypted-256.pdf", "pdf"),
    ("hostile/sample-files-libreoffice-writer-password.pdf", "pdf"),
    ("pdf/pypdf-r6-empty-password.pdf", "pdf"),
    ("pdf/tika-testPDF_protected.pdf", "pdf"),
    ("pdf/pdfminer-encrypted_doc_no_id.pdf", "pdf"),
    ("hostile/tika-testODTEncrypted.odt", "odt"),
    ("hostile/tika-testWORD_protected_passtika.docx", "docx"),
    ("hostile/openpyxl-null_archive.xlsx", "xlsx"),
    ("hostile/openpyxl-null_file.xlsx", "xlsx"),
    ("hostile/tika-testODTnotaZipFile.odt", "odt"),
    ("hostile/tika-testWORD_truncated.docx", "docx"),
    ("hostile/sample-files-unreadablemetadata.pdf", "pdf"),
    ("hostile/suncoast-behavioral-interview-questions.pdf", "pdf"),
    ("hostile/tika-testPDF_malformedXFA.pdf", "pdf"),
    ("pdf/tika-testPDF_bad_page_303226.pdf", "pdf"),
]


@pytest.mark.parametrize(("relpath", "fmt"), REFUSED)
def test_encrypted_or_damaged_files_are_refused_without_leftovers(
    relpath: str, fmt: str, tmp_path: Path
) -> None:
    dest = tmp_path / f"out.{fmt}"
    assert write_credited_copy(corpus_file(relpath), fmt, NAMED, dest) is False
    assert list(tmp_path.iterdir()) == []


def test_formats_without_properties_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("Name: ______")
    assert write_credited_copy(src, "txt", NAMED, tmp_path / "out.txt") is False
    assert write_credited_copy(src, "csv", NAMED, tmp_path / "out.csv") is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_zip_with_too_many_entries_is_refused(tmp_path: Path) -> None:
    src = make_docx(tmp_path / "a.docx")
    with zipfile.ZipFile(src, "a") as archive:
        for n in range(10_001):
            archive.writestr(f"customXml/x{n}.xml", b"")
    assert write_credited_copy(src, "docx", NAMED, tmp_path / "out.docx") is False
    assert not (tmp_path / "out.docx").exists()


def test_zip_bomb_entry_is_refused(tmp_path: Path) -> None:
    src = make_docx(tmp_path / "a.docx")
    with zipfile.ZipFile(src, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/zeros.bin", bytes(8 * 1024 * 1024))
    assert write_credited_copy(src, "docx", NAMED, tmp_path / "out.docx") is False


def test_entity_expansion_in_core_properties_is_refused(tmp_path: Path) -> None:
    original = make_docx(tmp_path / "a.docx")
    src = tmp_path / "laughs.docx"
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<cp:coreProperties xmlns:cp="' + NS["cp"].encode() + b'">&b;</cp:coreProperties>'
    )
    with zipfile.ZipFile(original) as full, zipfile.ZipFile(src, "w") as hostile:
        for info in full.infolist():
            data = bomb if info.filename == "docProps/core.xml" else full.read(info)
            hostile.writestr(info, data)
    assert write_credited_copy(src, "docx", NAMED, tmp_path / "out.docx") is False


def test_every_corpus_document_is_credited_or_cleanly_refused(tmp_path: Path) -> None:
    """Nothing in the corpus makes the writer raise, and whatever it writes opens."""
    files = [f for f in manifest() if f.format in CREDITABLE_FORMATS]
    assert len(files) >= 40, "the corpus holds dozens of creditable documents"
    credited = 0
    for item in files:
        dest = tmp_path / f"out.{item.format}"
        if write_credited_copy(item.path, item.format, NAMED, dest):
            assert_opens(dest, item.format, item.relpath)
            dest.unlink()
            credited += 1
        assert list(tmp_path.iterdir()) == [], item.relpath
    assert credited >= len(files) * 3 // 4, f"only {credited} of {len(files)} were credited"


def assert_opens(path: Path, fmt: str, relpath: str) -> None:
    if fmt == "pdf":
        with pikepdf.open(path) as pdf:
            assert str(pdf.docinfo["/Author"]) == NAMED.author, relpath
        return
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None, relpath
        props = "meta.xml" if fmt.startswith("od") else "docProps/core.xml"
        assert NAMED.author.encode() in archive.read(props), relpath


# --------------------------------------------------------------------------- speed


# --------------------------------------------------------------------------- download names


def test_download_name_credits_the_person_not_the_organisation() -> None:
    name = download_name("Job Search Tracker", NAMED.author, "tracker.XLSX")
    assert name == "Job Search Tracker — tracker — shared by Dale Briers.xlsx"


def test_each_file_of_a_resource_keeps_its_own_name() -> None:
    names = [
        download_name("Values card sort", NAMED.author, original)
        for original in ("worksheet.docx", "Facilitator notes.docx")
    ]
    assert names == [
        "Values card sort — worksheet — shared by Dale Briers.docx",
        "Values card sort — Facilitator notes — shared by Dale Briers.docx",
    ]


def test_a_file_named_like_its_resource_is_not_named_twice() -> None:
    name = download_name("Job Search Tracker", NAMED.author, "job search tracker.xlsx")
    assert name == "Job Search Tracker — shared by Dale Briers.xlsx"


def test_anonymous_download_name_is_the_title_and_file_only() -> None:
    assert download_name("Job Search Tracker", "", "x.xlsx") == "Job Search Tracker — x.xlsx"


def test_download_name_keeps_accents_and_typographic_quotes() -> None:
    name = download_name("Ma fiche d’auto-évaluation", "Zoe\u0308", "fiche.docx")
    assert name == "Ma fiche d’auto-évaluation — fiche — shared by Zoë.docx"
    assert unicodedata.is_normalized("NFC", name)


HOSTILE_TITLES = [
    "../../x",
    "..\\..\\windows\\system32",
    "A" * 300,
    "Line one\r\nSet-Cookie: x=1",
    'Quote " and \\ backslash; semi=colon',
    "NUL\x00byte",
    "Invoice\u202etxt.exe",
    "🙂👩‍💼" * 80,
    ".hidden",
    "   ",
    "CON",
    "Tab\there\u2028there",
]


def assert_safe_name(name: str) -> None:
    assert name and len(name) <= 150 and len(name.encode()) <= 240
    assert "/" not in name and "\\" not in name
    assert not name.startswith((".", " ", "-")) and not name.endswith((" ", "."))
    assert not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in name)
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in name)
    assert '"' not in name
    assert unicodedata.is_normalized("NFC", name)


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_give_one_safe_name_with_the_real_extension(title: str) -> None:
    name = download_name(title, "Mallory\n(Evil Org)", "../../report.DOCX")
    assert_safe_name(name)
    assert name.endswith(".docx")
    assert name.rsplit(".", 1)[0].upper() not in ("CON", "PRN", "AUX", "NUL")


def test_long_names_are_trimmed_in_the_title_never_the_extension() -> None:
    name = download_name("T" * 300, "Dale Briers", "sheet.xlsx")
    assert len(name) == 150
    assert name.endswith("… — sheet — shared by Dale Briers.xlsx")


def test_long_file_names_stay_apart_when_the_title_is_long_too() -> None:
    names = {download_name("T" * 300, "Dale Briers", f"{'part ' * 8}{n}.docx") for n in (1, 2)}
    assert len(names) == 2 and all(len(name) <= 150 for name in names)


def parsed_back(header: str) -> tuple[str, dict[str, str], str]:
    value, options = parse_options_header(header)
    message = HeaderParser(policy=policy.default).parsestr(f"Content-Disposition: {header}\n\n")
    return value, options, message.get_filename()


@pytest.mark.parametrize("title", HOSTILE_TITLES + ["Ma fiche d’auto-évaluation"])
def test_content_disposition_parses_back_to_the_same_safe_name(title: str) -> None:
    name = download_name(title, "Zoë (Org)", "x.pdf")
    header = content_disposition(name)
    value, options, ascii_name = parsed_back(header)
    assert value == "attachment"
    assert options["filename"] == name  # clients that read filename* get the exact name
    assert_safe_name(ascii_name)
    assert ascii_name.isascii() and ascii_name.endswith(".pdf")
    assert not re.search(r"[\r\n\x00]", header)
    assert header.count("filename=") == 1 and header.count("filename*=") == 1


@pytest.mark.parametrize(
    "raw",
    [
        "../../etc/passwd",
        'a"; filename="evil.exe',
        "x\r\nLocation: /",
        "\x00",
        "",
        "...",
        "nul.txt",
        "-rf .pdf",
    ],
)
def test_content_disposition_sanitises_raw_file_names_too(raw: str) -> None:
    _, options, ascii_name = parsed_back(content_disposition(raw))
    assert set(options) == {"filename"}  # no second, injected parameter
    assert_safe_name(options["filename"])
    assert options["filename"].split(".")[0].upper() != "NUL"
    assert_safe_name(ascii_name)


@settings(max_examples=300, deadline=None)
@given(title=st.text(max_size=400), author=st.text(max_size=200), original=st.text(max_size=50))
def test_any_input_gives_a_safe_name_and_a_header_that_round_trips(
    title: str, author: str, original: str
) -> None:
    name = download_name(title, author, original)
    assert_safe_name(name)
    _, options, ascii_name = parsed_back(content_disposition(name))
    assert options["filename"] == name
    assert_safe_name(ascii_name)


def test_format_names_are_not_case_sensitive(tmp_path: Path) -> None:
    src = make_docx(tmp_path / "a.docx")
    assert write_credited_copy(src, "DOCX", NAMED, tmp_path / "b.docx") is True
    assert docx.Document(str(tmp_path / "b.docx")).core_properties.author == NAMED.author
