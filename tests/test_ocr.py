"""Scanned worksheets: pictures and image-only PDF pages read by Tesseract in the limited
child, the quality bar on pages made from known text, the page cap and time per page, and a
scan and a phone photo shared through the form, found by search, and downloaded with an
invisible text layer and their credit."""

from __future__ import annotations

import io
import shutil
import time
from dataclasses import replace

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import select

from exchange.extensions import db
from exchange.files.extract import FROM_SCANS, extract
from exchange.files.ocr import ScanReading
from exchange.files.reasons import IMAGE, SCANNED
from exchange.models import Resource
from exchange.resources.operations import scan_languages

from .fixtures.members import SHARE_DEFAULTS, Visitor
from .fixtures.scans import (
    NOISY_DPI,
    NOISY_WORKSHEET,
    WORKSHEET,
    image_only_pdf,
    page_picture,
    phone_photo,
    png_bytes,
    word_recall,
)

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")

READING = ScanReading()
# For the tests of what happens around reading: one language's data loads faster.
QUICK = ScanReading(languages="eng")


def small_page(text: str):
    """A quick page to read: one line on a strip of paper."""
    return page_picture(text, size=(1400, 320))


@pytest.mark.slow
def test_scanned_pages_are_read_with_good_word_recall(tmp_path, capsys):
    """The quality bar: word recall ≥ 0.9 on a clean scan (a PNG) and ≥ 0.8 on a tilted,
    grainy, speckled, blurred 200 dpi scan (an image-only PDF), in all three languages."""
    clean, noisy = tmp_path / "clean.png", tmp_path / "noisy.pdf"
    clean.write_bytes(png_bytes(page_picture(WORKSHEET)))
    noisy.write_bytes(image_only_pdf(page_picture(NOISY_WORKSHEET, noisy=True), dpi=NOISY_DPI))
    figures = {}
    for path, fmt, expected in ((clean, "png", WORKSHEET), (noisy, "pdf", NOISY_WORKSHEET)):
        started = time.perf_counter()
        result = extract(path, fmt, scans=READING)
        assert (result.searchable, result.source) == (True, FROM_SCANS), result.reason
        figures[path.name] = (word_recall(expected, result.text), time.perf_counter() - started)
    with capsys.disabled():
        for name, (recall, seconds) in figures.items():
            print(f"\nOCR word recall on {name}: {recall:.3f} ({seconds:.1f} s)")
    assert figures["clean.png"][0] >= 0.9
    assert figures["noisy.pdf"][0] >= 0.8


def test_where_ocr_finds_nothing_the_reason_stays(tmp_path):
    blank = Image.new("L", (400, 200), 255)
    picture, scan = tmp_path / "blank.png", tmp_path / "blank.pdf"
    picture.write_bytes(png_bytes(blank))
    scan.write_bytes(image_only_pdf(blank))
    assert extract(picture, "png", scans=QUICK).reason == IMAGE
    assert extract(scan, "pdf", scans=QUICK).reason == SCANNED


def test_pages_past_the_cap_are_left_unread_and_each_page_has_its_time(tmp_path):
    scan = tmp_path / "two-pages.pdf"
    scan.write_bytes(image_only_pdf(small_page("Platypus planner"), small_page("Echidna planner")))
    capped = extract(scan, "pdf", scans=replace(QUICK, page_limit=1))
    assert "Platypus" in capped.text and "Echidna" not in capped.text
    started = time.perf_counter()
    hurried = extract(scan, "pdf", scans=replace(QUICK, seconds_per_page=0.01))
    assert hurried.reason == SCANNED
    assert time.perf_counter() - started < 10


def test_a_pdf_with_typed_and_scanned_pages_gets_the_text_of_both(tmp_path):
    """A typed cover page and a scanned worksheet: the cover's text layer is read as ever,
    and only the scanned page is read by Tesseract."""
    from reportlab.pdfgen import canvas

    typed = io.BytesIO()
    cover = canvas.Canvas(typed)
    cover.drawString(72, 720, "Cover page typed by the giver")
    cover.save()
    mixed = tmp_path / "mixed.pdf"
    with pikepdf.open(typed) as pdf, pikepdf.open(io.BytesIO(scanned("Koala"))) as scan:
        pdf.pages.extend(scan.pages)
        pdf.save(mixed)
    result = extract(mixed, "pdf", scans=QUICK)
    assert result.source == FROM_SCANS
    assert result.text.index("Cover page typed") < result.text.index("Koala")
    assert extract(mixed, "pdf").source == "", "without scans read, the cover alone"


def scanned(word: str) -> bytes:
    return image_only_pdf(small_page(f"{word} planner"))


# --------------------------------------------------------------------------- through the site


def _download(client, resource_id: int) -> bytes:
    with client.application.app_context():
        file_id = db.session.get(Resource, resource_id).files[0].id
    response = client.get(f"/resources/{resource_id}/files/{file_id}")
    assert response.status_code == 200
    return response.get_data()


def _pdf_text(body: bytes) -> str:
    pdf = pdfium.PdfDocument(body)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def _search(client, words: str) -> str:
    response = client.get("/search", query_string={"q": words})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.slow
def test_a_scan_and_a_phone_photo_shared_through_the_form_are_found_by_a_word_on_them(make_app):
    app = make_app(OCR=True)
    giver = Visitor(app.test_client())
    giver.register(name="Dale Briers")
    scan = image_only_pdf(small_page("Wombat budgeting worksheet"))
    scan_id = giver.share_id(title="Monthly money sheet", files=[("scan.pdf", scan)])
    photo = phone_photo("Kangaroo interview checklist")
    giver.share_id(title="Handout from the fair", files=[("photo.jpg", photo)])

    for word, title, name in (
        ("wombat", "Monthly money sheet", "scan.pdf"),
        ("kangaroo", "Handout from the fair", "photo.jpg"),
    ):
        page = _search(giver.client, word)
        assert f">{title}</a>" in page and "1 result" in page
        assert f"In {name} (read from a scan):" in page
    page = giver.client.get(f"/resources/{scan_id}").get_data(as_text=True)
    assert "Text read from a scan" in page and "has it as invisible text" in page

    body = _download(giver.client, scan_id)
    text = _pdf_text(body)
    assert "Wombat" in text, "the client's copy is searchable"
    assert "Dale Briers" in text, "the printed credit line travels"
    with pikepdf.open(io.BytesIO(body)) as pdf:
        assert "Dale Briers" in str(pdf.docinfo["/Author"]), "and the properties"


@pytest.mark.slow
def test_a_giver_who_wants_no_text_layer_gets_the_scan_as_shared(make_app):
    """Choosing "leave them exactly as shared" on editing re-credits the copy without the
    layer (no page is read again); the credit still travels."""
    app = make_app(OCR=True)
    giver = Visitor(app.test_client())
    giver.register(name="Dale Briers")
    scan = image_only_pdf(small_page("Wombat budgeting worksheet"))
    resource_id = giver.share_id(title="Money sheet", files=[("scan.pdf", scan)])
    assert "Wombat" in _pdf_text(_download(giver.client, resource_id))
    data = {**SHARE_DEFAULTS, "title": "Money sheet", "text_layer": "False"}
    response = giver.client.post(f"/resources/{resource_id}/edit", data=data)
    assert response.status_code == 302
    text = _pdf_text(_download(giver.client, resource_id))
    assert "Wombat" not in text and "Dale Briers" in text
    with app.app_context():
        resource = db.session.scalars(select(Resource)).one()
        assert resource.text_layer is False
        assert (resource.files[0].text_source, resource.files[0].text_layer) == ("ocr", False)


@pytest.mark.parametrize(
    ("language", "site_languages", "read_in"),
    [
        ("fr", "eng+fra+spa", "fra"),  # the resource's own language, alone
        ("de", "eng+fra+spa", ""),  # no German data here: the site's own list
        ("", "eng+fra+spa", ""),  # not known yet (detected once its files are read)
        ("es", "eng+spa", "spa"),
    ],
)
def test_scans_are_read_in_the_resource_s_language_when_the_site_reads_it(
    app_ctx, language, site_languages, read_in
):
    app_ctx.config["OCR_LANGUAGES"] = site_languages
    assert scan_languages(Resource(language=language)) == read_in
