"""Whose work a file is: the author a file's own properties name is kept as "adapted from"
when the giver is someone else, and files that cannot carry a credit get a credit.txt
beside them in a zip when the giver asks.

Credited files are read back with libraries that did not write them: python-docx,
openpyxl, python-pptx, PDFium, and the ODF and XMP XML as it is."""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from pathlib import Path

import defusedxml.ElementTree as SafeET
import docx
import openpyxl
import pikepdf
import pptx
import pypdfium2 as pdfium
import pytest
from sqlalchemy import select
from werkzeug.http import parse_options_header

from exchange.extensions import db
from exchange.files.credit import Credit, download_name
from exchange.files.formats import ALLOWED
from exchange.files.uploads import PreparedFile, make_credited_copy
from exchange.models import Resource
from tests.fixtures.corpus import corpus_file

from .fixtures.members import SHARE_DEFAULTS

GIVER = "Dale Briers (Collaborative Career Conversations)"
NAMED = Credit(title="Values card sort", author=GIVER, licence_label="CC BY 4.0")
ANONYMOUS = Credit(title="Values card sort", author="", licence_label="CC BY 4.0")
DC = "{http://purl.org/dc/elements/1.1/}"
RDF_LI = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li"


def prepared_copy(relpath: str, tmp_path: Path) -> PreparedFile:
    src = corpus_file(relpath)
    path = tmp_path / f"upload-{src.name}"
    shutil.copyfile(src, path)
    fmt = relpath.rsplit(".", 1)[1]
    return PreparedFile(src.name, ALLOWED[fmt], path.stat().st_size, "", path)


def credit_it(relpath: str, tmp_path: Path, credit: Credit = NAMED, **options) -> PreparedFile:
    item = prepared_copy(relpath, tmp_path)
    make_credited_copy(item, credit, **options)
    assert item.credited_path is not None, f"{relpath} was not credited"
    return item


# --------------------------------------------------------------------------- each format


def docx_comments(path: Path) -> str:
    return docx.Document(str(path)).core_properties.comments


def xlsx_description(path: Path) -> str:
    return openpyxl.load_workbook(io.BytesIO(path.read_bytes())).properties.description or ""


def pptx_comments(path: Path) -> str:
    return pptx.Presentation(str(path)).core_properties.comments


def odf_description(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        meta = SafeET.fromstring(archive.read("meta.xml"))
    return "".join(meta.iter(f"{DC}description").__next__().itertext())


def pdf_subject(path: Path) -> str:
    document = pdfium.PdfDocument(str(path))
    try:
        return document.get_metadata_dict().get("Subject", "")
    finally:
        document.close()


def xmp_description(path: Path) -> str:
    """dc:description from the raw XMP packet, parsed as XML (not through pikepdf's model)."""
    with pikepdf.open(path) as pdf:
        packet = pdf.Root.Metadata.read_bytes()
    root = SafeET.fromstring(packet)
    return " ".join(li.text or "" for d in root.iter(f"{DC}description") for li in d.iter(RDF_LI))


# (corpus file, its author, how to read the credited copy's description back)
BY_ANOTHER_AUTHOR = [
    ("docx/tika-testWORD_various.docx", "Michael McCandless", docx_comments),
    ("xlsx/openpyxl-formulae.xlsx", "Adam Morris", xlsx_description),
    ("pptx/tika-test_embedded_zip.pptx", "Oren Paikowsky", pptx_comments),
    ("odf/odfpy-ClimateChange2.odt", "Søren Roug", odf_description),
    ("nonenglish/GeoTopo-komprimiert.pdf", "Martin Thoma", pdf_subject),
    (
        "groundtruth/textract-two_column.pdf",
        "R. Dean Malmgren, Julio M. Ottino and Luís A. Nunes Amaral",
        xmp_description,
    ),
]


@pytest.mark.parametrize(("relpath", "author", "read_back"), BY_ANOTHER_AUTHOR)
def test_a_file_by_another_author_keeps_them_as_adapted_from(
    relpath: str, author: str, read_back, tmp_path: Path
) -> None:
    item = credit_it(relpath, tmp_path)
    assert item.original_author == author
    assert f"by {GIVER}, adapted from a work by {author}, shared via" in read_back(
        item.credited_path
    )


def test_the_givers_own_file_names_no_one_else(tmp_path: Path) -> None:
    """The file says "Michael McCandless"; the giver credits himself with his organisation."""
    credit = Credit("Values card sort", "Michael McCandless (Apache Tika)", "CC BY 4.0")
    item = credit_it("docx/tika-testWORD_various.docx", tmp_path, credit)
    assert item.original_author == ""
    assert "adapted from" not in docx_comments(item.credited_path)


def test_an_anonymous_gift_keeps_the_original_author_but_never_the_giver(tmp_path: Path) -> None:
    item = credit_it("odf/odfpy-cols.odp", tmp_path, ANONYMOUS)
    assert "adapted from a work by Elaine Schoch" in odf_description(item.credited_path)
    # The same file shared anonymously by the member whose account name is its author.
    (tmp_path / "own").mkdir()
    own = ("Elaine Schoch",)
    item = credit_it("odf/odfpy-cols.odp", tmp_path / "own", ANONYMOUS, giver_names=own)
    assert item.original_author == ""
    assert "Elaine" not in odf_description(item.credited_path)


def test_names_programs_write_on_their_own_are_no_author(tmp_path: Path) -> None:
    """python-pptx's default author and Windows' "Windows ユーザー" are nobody to credit."""
    assert credit_it("pptx/python-pptx-prs-notes.pptx", tmp_path).original_author == ""
    item = credit_it("nonenglish/tika-testEXCEL_phonetic.xlsx", tmp_path)
    assert item.original_author == ""


def test_the_printed_line_names_the_original_author_too(tmp_path: Path) -> None:
    item = credit_it("nonenglish/GeoTopo-komprimiert.pdf", tmp_path, on_page=True)
    assert item.credit_on_page, item.page_credit_note
    document = pdfium.PdfDocument(str(item.credited_path))
    try:
        last_page = document[len(document) - 1].get_textpage().get_text_range()
    finally:
        document.close()
    assert f"{GIVER}, adapted from a work by Martin Thoma, shared via" in " ".join(
        last_page.split()
    )


# --------------------------------------------------------------------------- through the site


def share_corpus_file(member, relpath: str, **fields: str) -> int:
    src = corpus_file(relpath)
    return member.share_id(files=[(src.name, src.read_bytes())], **fields)


def download(member, app, resource_id: int):
    with app.app_context():
        file_id = db.session.get(Resource, resource_id).files[0].id
    response = member.client.get(f"/resources/{resource_id}/files/{file_id}")
    assert response.status_code == 200
    return response


def page_of(member, resource_id: int) -> str:
    return " ".join(member.client.get(f"/resources/{resource_id}").get_data(as_text=True).split())


def test_the_resource_page_and_the_download_keep_the_original_author(app, member) -> None:
    resource_id = share_corpus_file(member, "docx/tika-testWORD_various.docx")
    body = download(member, app, resource_id).get_data()
    properties = docx.Document(io.BytesIO(body)).core_properties
    assert properties.author == GIVER
    assert "adapted from a work by Michael McCandless" in properties.comments
    footers = [
        p.text for s in docx.Document(io.BytesIO(body)).sections for p in s.footer.paragraphs
    ]
    assert any("adapted from a work by Michael McCandless" in text for text in footers)
    page = page_of(member, resource_id)
    assert "Original author in the file: Michael McCandless" in page
    assert f"by {GIVER}, adapted from a work by Michael McCandless, shared via" in page


def test_the_page_names_no_original_author_when_the_giver_wrote_the_file(app, member) -> None:
    resource_id = share_corpus_file(
        member, "docx/tika-testWORD_various.docx", credit_name="Michael McCandless"
    )
    assert "Original author in the file" not in page_of(member, resource_id)
    body = download(member, app, resource_id).get_data()
    assert "adapted from" not in docx.Document(io.BytesIO(body)).core_properties.comments


LEGACY = "legacy/tika-testWORD.doc"


def test_a_legacy_file_comes_with_a_credit_txt_when_the_giver_asks(app, member) -> None:
    original = corpus_file(LEGACY).read_bytes()
    resource_id = share_corpus_file(member, LEGACY, credit_txt="y")
    response = download(member, app, resource_id)
    assert response.mimetype == "application/zip"
    credited_name = download_name(SHARE_DEFAULTS["title"], GIVER, "tika-testWORD.doc")
    _, params = parse_options_header(response.headers["Content-Disposition"])
    assert params["filename"] == f"{credited_name}.zip"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as bundle:
        assert bundle.namelist() == [credited_name, "credit.txt"]
        assert bundle.read(credited_name) == original
        note = bundle.read("credit.txt").decode("utf-8").splitlines()
    assert (
        note[0] == f'"{SHARE_DEFAULTS["title"]}" by {GIVER}, shared via Toolkit Exchange, CC BY 4.0'
    )
    assert re.fullmatch(rf"Source: https?://[^/]+/resources/{resource_id}", note[1])
    assert note[2] == "Licence: https://creativecommons.org/licenses/by/4.0/"
    assert "It downloads as a zip" in page_of(member, resource_id)


def test_without_the_option_a_legacy_file_downloads_as_shared_until_an_edit_asks(
    app, member
) -> None:
    original = corpus_file(LEGACY).read_bytes()
    resource_id = share_corpus_file(member, LEGACY)
    response = download(member, app, resource_id)
    assert (response.mimetype, response.get_data()) == ("application/msword", original)
    assert "zip" not in page_of(member, resource_id)
    data = {**SHARE_DEFAULTS, "credit_txt": "y"}
    assert member.client.post(f"/resources/{resource_id}/edit", data=data).status_code == 302
    response = download(member, app, resource_id)
    assert response.mimetype == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()[1] == "credit.txt"


def test_a_toolkit_csv_can_ask_for_credit_txt_and_an_export_keeps_it(
    app, member, tmp_path: Path
) -> None:
    from tests.test_transfer import _fresh_site

    folder = tmp_path / "toolkit"
    folder.mkdir()
    shutil.copyfile(corpus_file(LEGACY), folder / "sort.doc")
    header = ["Files", "Title", "Synopsis", "How I use it", "Kind", "Audience", "Licence"]
    row = ["sort.doc", "Card sort", "A card sort.", "With clients.", "worksheet", "Job seekers"]
    with open(folder / "toolkit.csv", "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows([[*header, "credit.txt"], [*row, "CC BY 4.0", "yes"]])
    result = app.test_cli_runner().invoke(args=["import", str(folder), "--owner", member.email])
    assert result.exit_code == 0, result.output
    with app.app_context():
        resource = db.session.scalars(select(Resource)).one()
        assert resource.credit_txt is True
        assert resource.files[0].zipped_with_credit is True
    dest = tmp_path / "export"
    assert app.test_cli_runner().invoke(args=["export", str(dest)]).exit_code == 0
    new_site = _fresh_site(tmp_path / "new-site")
    result = new_site.test_cli_runner().invoke(args=["import", str(dest)])
    assert result.exit_code == 0, result.output
    with new_site.app_context():
        resource = db.session.scalars(select(Resource)).one()
        assert (resource.credit_txt, resource.files[0].zipped_with_credit) == (True, True)
