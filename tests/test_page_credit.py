"""Credit on the printed page: each credited file, opened by a library that did not write
it, shows the credit line on every page, sheet or slide, and its own text is unchanged."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import openpyxl
import pikepdf
import pptx
import pypdfium2 as pdfium
import pytest
from odf import teletype
from odf import text as odf_text
from odf.opendocument import load as load_odf
from sqlalchemy import select

from exchange.extensions import db
from exchange.files.credit import CREDIT_PLACES, PageCredit, write_page_credit
from exchange.files.formats import ALLOWED, UnsupportedFile, detect
from exchange.models import Resource
from tests.fixtures.corpus import corpus_file, manifest

from .fixtures.members import SHARE_DEFAULTS, docx_bytes

LINE = '"Values card sort" by Izajáš Zoë 王小明 山田太郎, shared via Toolkit Exchange, CC BY 4.0'
CREDIT = PageCredit(
    LINE, "Izajáš Zoë 王小明 山田太郎", "https://creativecommons.org/licenses/by/4.0/"
)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "page_credit"


def credited(src: Path, fmt: str, tmp_path: Path) -> Path:
    dest = tmp_path / f"credited-{src.stem}.{fmt}"
    result = write_page_credit(src, fmt, CREDIT, dest)
    assert result.on_page, f"{src.name}: {result.reason}"
    return dest


def one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- PDF

PDFS = [
    "pdf/sample-files-pdflatex-4-pages.pdf",
    "pdf/sample-files-multicolumn.pdf",
    "pdf/pypdf-indirect-rotation.pdf",
    "nonenglish/billryan-resume-zh_CN.pdf",
    "career/awesome-cv-resume.pdf",
]


def pdf_pages_text(path: Path) -> list[str]:
    document = pdfium.PdfDocument(str(path))
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


@pytest.mark.parametrize("relpath", PDFS)
def test_pdf_shows_the_line_on_every_page_and_keeps_its_text(relpath: str, tmp_path: Path):
    src = corpus_file(relpath)
    before = pdf_pages_text(src)
    after = pdf_pages_text(credited(src, "pdf", tmp_path))
    assert len(after) == len(before)
    for number, (old, new) in enumerate(zip(before, after, strict=True), start=1):
        assert LINE in one_line(new), f"page {number} has no credit line"
        assert new.startswith(old), f"page {number}'s own text changed"


def char_boxes(path: Path, page_index: int) -> list[tuple[str, tuple[float, ...]]]:
    """Each character on the page with its box (left, bottom, right, top), as pdfium sees it."""
    document = pdfium.PdfDocument(str(path))
    try:
        text = document[page_index].get_textpage()
        count = text.count_chars()
        return [(text.get_text_range(i, 1), text.get_charbox(i)) for i in range(count)]
    finally:
        document.close()


@pytest.mark.parametrize("relpath", PDFS[:2])
def test_pdf_line_sits_below_the_body_which_does_not_move(relpath: str, tmp_path: Path):
    src = corpus_file(relpath)
    dest = credited(src, "pdf", tmp_path)
    body = char_boxes(src, 0)
    boxes = char_boxes(dest, 0)
    assert boxes[: len(body)] == body, "the body's text moved"
    body_bottom = min(box[1] for char, box in body if char.strip())
    credit_top = max(box[3] for char, box in boxes[len(body) :] if char.strip())
    assert credit_top < body_bottom, "the credit line overlaps the body"
    save_render(src, dest, Path(relpath).stem)


def save_render(src: Path, dest: Path, stem: str) -> None:
    """Both versions' first pages as PNG, kept under tests/artifacts/ for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for label, path in (("before", src), ("after", dest)):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(path),
                str(ARTIFACTS / f"{stem}-{label}"),
            ],
            check=True,
            timeout=60,
        )
    assert (ARTIFACTS / f"{stem}-after.png").stat().st_size > 0


def test_a_page_turned_by_its_page_tree_gets_the_line_on_its_reader_bottom_edge(tmp_path):
    """/Rotate 90 inherited from /Pages: the reader's bottom edge is the page's right side."""
    src = tmp_path / "turned.pdf"
    with pikepdf.open(corpus_file(PDFS[0])) as pdf:
        for page in pdf.pages:
            if "/Rotate" in page.obj:
                del page.obj["/Rotate"]
        pdf.Root.Pages.Rotate = 90
        width = float(pdf.pages[0].cropbox[2])
        pdf.save(src)
    body = char_boxes(src, 0)
    added = char_boxes(credited(src, "pdf", tmp_path), 0)[len(body) :]
    line = [box for char, box in added if char.strip()]
    assert line and all(left > width - 20 for left, _, _, _ in line)


def test_pdf_carries_xmp_with_creator_rights_and_licence(tmp_path: Path):
    dest = credited(corpus_file(PDFS[0]), "pdf", tmp_path)
    with pikepdf.open(dest) as pdf, pdf.open_metadata() as xmp:
        assert xmp["dc:creator"] == [CREDIT.creator]
        assert xmp["dc:rights"] == LINE
        assert xmp["xmpRights:WebStatement"] == CREDIT.web_statement


def test_encrypted_pdf_is_refused_with_a_reason(tmp_path: Path):
    dest = tmp_path / "out.pdf"
    result = write_page_credit(corpus_file("pdf/tika-testPDF_protected.pdf"), "pdf", CREDIT, dest)
    assert not result.on_page and "password" in result.reason
    assert not dest.exists() and list(tmp_path.iterdir()) == []


def test_pdf_whose_text_reaches_the_bottom_edge_is_left_uncovered(tmp_path: Path):
    src = corpus_file("pdf/pdfminer-pr-00530-ml-lines.pdf")
    result = write_page_credit(src, "pdf", CREDIT, tmp_path / "out.pdf")
    assert not result.on_page and "bottom edge" in result.reason


# --------------------------------------------------------------------------- Word


def sectioned_docx(path: Path) -> Path:
    """Three sections: an existing footer, a different first page, even pages differing."""
    document = docx.Document()
    document.add_paragraph("Section one: what matters to you at work.")
    document.sections[0].footer.paragraphs[0].text = "Page footer kept as it was"
    document.sections[0].different_first_page_header_footer = True
    document.settings.odd_and_even_pages_header_footer = True
    document.add_section()
    document.add_paragraph("Section two: sort the cards.")
    document.add_section()
    document.add_paragraph("Section three: talk it over.")
    document.save(path)
    return path


def docx_footers(path: Path) -> list[str]:
    """Every footer a printed page of each section shows, as python-docx reads them."""
    document = docx.Document(str(path))
    footers = []
    for section in document.sections:
        kinds = [section.footer]
        if section.different_first_page_header_footer:
            kinds.append(section.first_page_footer)
        if document.settings.odd_and_even_pages_header_footer:
            kinds.append(section.even_page_footer)
        footers += ["\n".join(p.text for p in footer.paragraphs) for footer in kinds]
    return footers


def docx_body(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


def test_every_word_footer_gains_the_line_and_keeps_its_own(tmp_path: Path):
    src = sectioned_docx(tmp_path / "sections.docx")
    dest = credited(src, "docx", tmp_path)
    footers = docx_footers(dest)
    assert len(footers) == 9
    assert all(LINE in footer for footer in footers), footers
    assert "Page footer kept as it was" in footers[0]
    assert docx_body(dest) == docx_body(src)


@pytest.mark.parametrize(
    ("relpath", "fmt"),
    [
        ("docx/tika-testWORD_2006ml.docx", "docx"),
        ("docx/tika-testWORD_various.docx", "docx"),
        ("docx/python-docx-test.docx", "docx"),
    ],
)
def test_corpus_word_files_carry_the_line_in_every_footer(relpath, fmt, tmp_path: Path):
    src = corpus_file(relpath)
    dest = credited(src, fmt, tmp_path)
    assert all(LINE in footer for footer in docx_footers(dest))
    assert docx_body(dest) == docx_body(src)


# --------------------------------------------------------------------------- Excel


def test_every_sheet_prints_the_line_and_keeps_left_and_right(tmp_path: Path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Employer", "Role"])
    workbook.active.oddFooter.left.text = "Client: ____"
    workbook.active.oddFooter.right.text = "Page &P of &N"
    workbook.create_sheet("Notes").append(["Follow up & thank"])
    src = tmp_path / "tracker.xlsx"
    workbook.save(src)
    dest = credited(src, "xlsx", tmp_path)
    credited_book = openpyxl.load_workbook(dest)
    for sheet in credited_book:
        assert sheet.oddFooter.center.text == LINE
    first = credited_book.worksheets[0]
    assert first.oddFooter.left.text == "Client: ____"
    assert first.oddFooter.right.text == "Page &P of &N"
    assert first.oddFooter.center.size == 7


@pytest.mark.parametrize(
    "relpath",
    [
        "xlsx/openpyxl-formulae.xlsx",
        "xlsx/tika-testEXCEL_textbox.xlsx",
        "career/onet/Occupation Data.xlsx",
    ],
)
def test_corpus_workbooks_print_the_line_on_every_sheet(relpath: str, tmp_path: Path):
    src = corpus_file(relpath)
    dest = credited(src, "xlsx", tmp_path)
    before, after = openpyxl.load_workbook(src), openpyxl.load_workbook(dest)
    assert after.sheetnames == before.sheetnames
    for old, new in zip(before, after, strict=True):
        assert LINE in (new.oddFooter.center.text or "")
        assert cell_values(old) == cell_values(new)


def cell_values(sheet) -> list:
    # Array formulas are objects without equality: compare their formula text.
    return [getattr(c.value, "text", c.value) for row in sheet.iter_rows(max_row=50) for c in row]


def test_a_full_print_footer_is_refused_rather_than_cut(tmp_path: Path):
    workbook = openpyxl.Workbook()
    workbook.active.oddFooter.center.text = "x" * 200
    src = tmp_path / "full.xlsx"
    workbook.save(src)
    result = write_page_credit(src, "xlsx", CREDIT, tmp_path / "out.xlsx")
    assert not result.on_page and "no room" in result.reason


# --------------------------------------------------------------------------- PowerPoint


def slides_text(path: Path) -> list[list[str]]:
    deck = pptx.Presentation(str(path))
    return [[s.text_frame.text for s in slide.shapes if s.has_text_frame] for slide in deck.slides]


@pytest.mark.parametrize(
    "relpath",
    [
        "pptx/tika-testPPT_various.pptx",
        "pptx/tika-testPPT_masterFooter.pptx",
        "pptx/python-pptx-prs-notes.pptx",
    ],
)
def test_every_slide_has_the_line_on_its_bottom_edge(relpath: str, tmp_path: Path):
    src = corpus_file(relpath)
    dest = credited(src, "pptx", tmp_path)
    deck = pptx.Presentation(str(dest))
    for old, new, slide in zip(slides_text(src), slides_text(dest), deck.slides, strict=True):
        assert new == [*old, LINE]
        box = next(s for s in slide.shapes if s.has_text_frame and s.text_frame.text == LINE)
        assert box.top + box.height == deck.slide_height


# --------------------------------------------------------------------------- OpenDocument

ODF_NS = {
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
}


def odf_part(path: Path, name: str):
    import defusedxml.ElementTree as SafeET

    with zipfile.ZipFile(path) as archive:
        return SafeET.fromstring(archive.read(name))


def odf_body_text(path: Path) -> list[str]:
    document = load_odf(str(path))
    return [teletype.extractText(p) for p in document.body.getElementsByType(odf_text.P)]


@pytest.mark.parametrize(
    ("relpath", "fmt"),
    [
        ("odf/odfpy-Electra.odt", "odt"),
        ("career/TwentySeconds-cv-template.odt", "odt"),
        ("odf/odfpy-countrystatistics.ods", "ods"),
    ],
)
def test_every_page_style_footer_has_the_line(relpath: str, fmt: str, tmp_path: Path):
    src = corpus_file(relpath)
    dest = credited(src, fmt, tmp_path)
    pages = odf_part(dest, "styles.xml").iterfind(".//style:master-page", ODF_NS)
    for page in pages:
        footers = [page.find(f"style:{kind}", ODF_NS) for kind in ("footer", "footer-left")]
        for footer in filter(lambda f: f is not None, footers):
            assert LINE in "".join(footer.itertext())
    assert odf_body_text(dest) == odf_body_text(src)


def test_every_odp_slide_has_the_line(tmp_path: Path):
    src = corpus_file("odf/odfpy-cols.odp")
    dest = credited(src, "odp", tmp_path)
    slides = list(odf_part(dest, "content.xml").iterfind(".//draw:page", ODF_NS))
    assert slides and all(LINE in "".join(s.itertext()) for s in slides)
    assert len(slides) == len(list(odf_part(src, "content.xml").iterfind(".//draw:page", ODF_NS)))


# --------------------------------------------------------------------------- RTF and text


def test_rtf_gains_a_footer_group_and_keeps_its_text(tmp_path: Path):
    from striprtf.striprtf import rtf_to_text

    src = corpus_file("rtf/tika-testRTFVarious.rtf")
    dest = credited(src, "rtf", tmp_path)
    text = dest.read_bytes().decode("latin-1")
    assert re.search(r"\{\\footer\\pard\\plain\\qc\\fs14 ", text)
    assert "Izaj\\u225?\\u353?" in text
    assert (
        rtf_to_text(text).replace(LINE, "").split() == rtf_to_text(src.read_text("latin-1")).split()
    )


@pytest.mark.parametrize(("fmt", "newline"), [("txt", "\r\n"), ("md", "\n")])
def test_text_ends_with_the_line_and_is_otherwise_untouched(fmt, newline, tmp_path: Path):
    original = f"# Values{newline}Sort the cards.".encode()
    src = tmp_path / f"values.{fmt}"
    src.write_bytes(original)
    dest = credited(src, fmt, tmp_path)
    data = dest.read_bytes()
    assert data.startswith(original)
    assert data.decode("utf-8").splitlines()[-1] == LINE
    assert data.endswith(newline.encode())


def test_text_in_another_encoding_is_left_alone_with_a_reason(tmp_path: Path):
    src = corpus_file("text/tika-testTXT_win-1252.txt")
    result = write_page_credit(src, "txt", CREDIT, tmp_path / "out.txt")
    assert not result.on_page and "UTF-8" in result.reason


@pytest.mark.parametrize("fmt", ["csv", "doc", "xls", "ppt", "png", "jpg"])
def test_formats_that_cannot_carry_a_line_say_why(fmt: str, tmp_path: Path):
    result = write_page_credit(tmp_path / "none", fmt, CREDIT, tmp_path / "out")
    assert not result.on_page and result.reason
    assert CREDIT_PLACES[fmt].on_page == ""


def test_every_accepted_format_says_where_its_credit_goes():
    assert set(CREDIT_PLACES) == set(ALLOWED)


# --------------------------------------------------------------------------- the corpus


def opens(path: Path, fmt: str) -> None:
    """The credited file opens in a reader that did not write it, page count and all."""
    if fmt == "pdf":
        document = pdfium.PdfDocument(str(path))
        assert len(document) > 0
        document.close()
    elif fmt == "docx":
        docx.Document(str(path))
    elif fmt in ("dotx", "xltx", "potx"):  # the readers refuse templates by content type
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None
    elif fmt in ("xlsx", "xltx"):
        openpyxl.load_workbook(path)
    elif fmt in ("pptx", "potx"):
        pptx.Presentation(str(path))
    elif fmt.startswith("od"):
        load_odf(str(path))
    else:
        assert path.stat().st_size > 0


def reader_opens(path: Path, fmt: str) -> bool:
    if path.stat().st_size > 3_000_000:  # big workbooks: the zip check alone keeps this quick
        return False
    try:
        opens(path, fmt)
    except Exception:  # noqa: BLE001 - any reader failure means "this reader cannot judge it"
        return False
    return True


def accepted(item) -> bool:
    """Hostile files the site refuses at upload never reach crediting."""
    try:
        return detect(item.path, item.path.name).format == item.format
    except UnsupportedFile:
        return False


@pytest.mark.slow
def test_every_accepted_corpus_file_is_credited_or_cleanly_refused(tmp_path: Path):
    files = [item for item in manifest() if item.format in CREDIT_PLACES and accepted(item)]
    assert len(files) >= 60, "the corpus holds dozens of accepted documents"
    on_page = 0
    for item in files:
        dest = tmp_path / f"out.{item.format}"
        result = write_page_credit(item.path, item.format, CREDIT, dest)
        if result.on_page:
            if reader_opens(item.path, item.format):  # some corpus files defeat the readers
                opens(dest, item.format)
            elif zipfile.is_zipfile(dest):
                with zipfile.ZipFile(dest) as archive:
                    assert archive.testzip() is None, item.relpath
            if item.format == "pdf":
                assert len(pdf_pages_text(dest)) == len(pdf_pages_text(item.path)), item.relpath
            dest.unlink()
            on_page += 1
        else:
            assert result.reason, item.relpath
        assert list(tmp_path.iterdir()) == [], item.relpath
    assert on_page >= len(files) // 2, f"only {on_page} of {len(files)} carry the line"


# --------------------------------------------------------------------------- render


@pytest.mark.slow
@pytest.mark.parametrize(
    ("relpath", "fmt"),
    [("docx/tika-testWORD_various.docx", "docx"), ("rtf/tika-testRTFVarious.rtf", "rtf")],
)
def test_rendered_document_shows_the_line_on_every_page_without_new_pages(
    relpath: str, fmt: str, tmp_path: Path
):
    if shutil.which("soffice") is None:
        pytest.skip(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui"
        )
    src = corpus_file(relpath)
    dest = credited(src, fmt, tmp_path)
    before = render_with_libreoffice(src, tmp_path / "before")
    after = render_with_libreoffice(dest, tmp_path / "after")
    after_pages = pdf_pages_text(after)
    assert len(after_pages) == len(pdf_pages_text(before))
    assert all(LINE in one_line(page) for page in after_pages)
    save_render(before, after, f"{fmt}-{src.stem}")


def render_with_libreoffice(path: Path, outdir: Path) -> Path:
    outdir.mkdir()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{outdir}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return outdir / f"{path.stem}.pdf"


# --------------------------------------------------------------------------- through the site


def download_bytes(app, member, resource_id: int) -> bytes:
    with app.app_context():
        file_id = db.session.get(Resource, resource_id).files[0].id
    response = member.client.get(f"/resources/{resource_id}/files/{file_id}")
    assert response.status_code == 200
    return response.get_data()


def test_a_share_puts_the_credit_on_the_page_and_the_page_says_so(app, member):
    resource_id = member.share_id(files=[("values.docx", docx_bytes("Sort the cards."))])
    body = download_bytes(app, member, resource_id)
    footers = docx_footers_of(body)
    assert any("by Dale Briers (Collaborative Career Conversations)" in f for f in footers)
    page = member.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    assert "Credit in the footer of every page, in the file’s properties and in its name." in page


def test_choosing_properties_only_on_edit_recredits_without_the_line(app, member):
    resource_id = member.share_id(files=[("values.docx", docx_bytes("Sort the cards."))])
    data = {**SHARE_DEFAULTS, "credit_placement": "properties", "no_client_data": "y"}
    response = member.client.post(f"/resources/{resource_id}/edit", data=data)
    assert response.status_code == 302
    body = download_bytes(app, member, resource_id)
    assert not any("Dale Briers" in footer for footer in docx_footers_of(body))
    assert docx.Document(io.BytesIO(body)).core_properties.author.startswith("Dale Briers")
    with app.app_context():
        resource = db.session.scalars(select(Resource)).one()
        assert resource.credit_placement == "properties"
        assert resource.files[0].credit_on_page is False
    page = member.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    assert "Credit in the file’s properties and in its name." in page


def test_a_csv_page_says_why_its_credit_is_not_on_the_page(app, member):
    resource_id = member.share_id(files=[("tracker.csv", b"Employer,Role\nAcme,Clerk\n")])
    page = member.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    assert "not on the page: a line added to a CSV table would be read as one more row" in page


def docx_footers_of(data: bytes) -> list[str]:
    document = docx.Document(io.BytesIO(data))
    return ["\n".join(p.text for p in s.footer.paragraphs) for s in document.sections]


# --------------------------------------------------------------------------- export and import


def test_a_toolkit_csv_says_where_each_credit_goes(app, member, tmp_path: Path):
    folder = tmp_path / "toolkit"
    folder.mkdir()
    (folder / "values.docx").write_bytes(docx_bytes("Sort the cards."))
    rows = [
        [
            "Files",
            "Title",
            "Synopsis",
            "How I use it",
            "Kind",
            "Audience",
            "Licence",
            "Credit on the page",
        ],
        [
            "values.docx",
            "Printed",
            "A card sort.",
            "With clients.",
            "worksheet",
            "Job seekers",
            "CC BY 4.0",
            "",
        ],
        [
            "values.docx",
            "Unprinted",
            "A card sort.",
            "With clients.",
            "worksheet",
            "Job seekers",
            "CC BY 4.0",
            "no",
        ],
    ]
    with open(folder / "toolkit.csv", "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    result = app.test_cli_runner().invoke(args=["import", str(folder), "--owner", member.email])
    assert result.exit_code == 0, result.output
    with app.app_context():
        found = {r.title: r for r in db.session.scalars(select(Resource))}
        assert found["Printed"].credit_placement == "page"
        assert found["Printed"].files[0].credit_on_page is True
        assert found["Unprinted"].credit_placement == "properties"
        assert found["Unprinted"].files[0].credit_on_page is False


def test_an_export_carries_where_the_credit_goes(app, member, tmp_path: Path):
    from tests.test_transfer import _fresh_site

    # Exports made before the choice existed import as "properties": "page" must travel.
    member.share_id(title="Printed", credit_placement="page")
    dest = tmp_path / "export"
    assert app.test_cli_runner().invoke(args=["export", str(dest)]).exit_code == 0
    new_site = _fresh_site(tmp_path / "new-site")
    result = new_site.test_cli_runner().invoke(args=["import", str(dest)])
    assert result.exit_code == 0, result.output
    with new_site.app_context():
        resource = db.session.scalars(select(Resource)).one()
        assert resource.credit_placement == "page"
        assert resource.files[0].credit_on_page is True


def test_the_share_form_offers_the_choice_in_plain_words_with_the_page_chosen(member):
    page = member.client.get("/resources/new").get_data(as_text=True)
    assert "Where your credit goes" in page
    assert "On every printed page, and in the file’s details" in page
    assert "Only in the file’s details and its name" in page
    chosen = re.search(
        r'<input[^>]*name="credit_placement"[^>]*checked[^>]*>|'
        r'<input[^>]*checked[^>]*name="credit_placement"[^>]*>',
        page,
    )
    assert chosen and 'value="page"' in chosen.group(0)


def test_the_registry_says_where_every_format_credit_goes_and_names_a_real_writer():
    """Adding a format is one registry entry: it either names a printed-credit writer that
    exists, with words for the resource page, or says why its pages carry no credit."""
    from exchange.files.credit.page import WRITERS
    from exchange.files.formats import ALLOWED

    for fmt, file_type in ALLOWED.items():
        if file_type.page_writer:
            assert file_type.page_writer in WRITERS, fmt
            assert file_type.page_credit and not file_type.no_page_credit, fmt
        else:
            assert file_type.no_page_credit and not file_type.page_credit, fmt
    assert {t.page_writer for t in ALLOWED.values()} - {""} == set(WRITERS)
