"""First-page previews: rendered PDFs, scaled images, embedded thumbnails, nothing else."""

from __future__ import annotations

import shutil
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from exchange.files.preview import make_preview
from tests.fixtures.corpus import corpus_file


def png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_pdf_first_page_is_rendered_at_the_requested_width(tmp_path):
    out = tmp_path / "preview.png"
    assert make_preview(corpus_file("career/awesome-cv-resume.pdf"), "pdf", out)
    width, height = png_size(out)
    assert width == 480 and height > width  # a portrait A4 page
    assert make_preview(corpus_file("career/awesome-cv-resume.pdf"), "pdf", out, width=200)
    assert png_size(out)[0] == 200


def test_large_image_is_scaled_down_keeping_its_shape(tmp_path):
    source = tmp_path / "poster.png"
    Image.new("RGB", (2000, 1000), "teal").save(source)
    out = tmp_path / "preview.png"
    assert make_preview(source, "png", out)
    assert png_size(out) == (480, 240)


def test_small_image_is_not_enlarged(tmp_path):
    source = tmp_path / "icon.gif"
    Image.new("P", (100, 50)).save(source)
    out = tmp_path / "preview.png"
    assert make_preview(source, "gif", out)
    assert png_size(out) == (100, 50)


def test_jpeg_turned_by_its_camera_is_shown_upright(tmp_path):
    source = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    Image.new("RGB", (1600, 800), "white").save(source, exif=exif)
    out = tmp_path / "preview.png"
    assert make_preview(source, "jpg", out)
    assert png_size(out) == (480, 960)


def test_office_file_shows_its_embedded_thumbnail(tmp_path):
    out = tmp_path / "preview.png"
    assert make_preview(corpus_file("pptx/tika-testPPT_masterFooter.pptx"), "pptx", out)
    assert png_size(out)[0] <= 480


def test_files_without_a_preview_give_false_and_leave_nothing(tmp_path):
    out = tmp_path / "preview.png"
    assert not make_preview(corpus_file("docx/tika-testWORD_text_box.docx"), "docx", out)
    assert not make_preview(corpus_file("legacy/tika-testWORD.doc"), "doc", out)
    assert not make_preview(corpus_file("hostile/pypdf-crazyones-encrypted-256.pdf"), "pdf", out)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_broken_image_gives_false(tmp_path):
    source = tmp_path / "cut.png"
    Image.new("RGB", (300, 300), "red").save(source)
    source.write_bytes(source.read_bytes()[:120])
    assert not make_preview(source, "png", tmp_path / "preview.png")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_decompression_bomb_image_is_refused_fast(tmp_path):
    source = tmp_path / "bomb.png"
    header = struct.pack(">IIBBBBB", 40_000, 40_000, 1, 0, 0, 0, 0)  # 1.6 gigapixels
    source.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(bytes(5000)))
        + png_chunk(b"IEND", b"")
    )
    assert source.stat().st_size < 1024 * 1024
    started = time.perf_counter()
    assert not make_preview(source, "png", tmp_path / "preview.png")
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    "relpath",
    ["hostile/pdfminer-issue-1113-evil-xobjects.pdf", "hostile/tika-testPDF_malformedXFA.pdf"],
)
def test_hostile_pdf_does_not_hang(tmp_path, relpath):
    started = time.perf_counter()
    made = make_preview(corpus_file(relpath), "pdf", tmp_path / "preview.png", timeout_s=10)
    assert time.perf_counter() - started < 12
    assert made == (tmp_path / "preview.png").is_file()


def test_slow_render_is_cut_off_at_the_timeout(tmp_path):
    out = tmp_path / "preview.png"
    source = corpus_file("nonenglish/GeoTopo-komprimiert.pdf")
    started = time.perf_counter()
    assert not make_preview(source, "pdf", out, timeout_s=0.01)
    assert time.perf_counter() - started < 3
    assert not out.exists()


def as_template(pptx: Path) -> bytes:
    """The same presentation saved as a PowerPoint template: only its main part's type changes."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(pptx) as source, zipfile.ZipFile(out, "w") as template:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"presentationml.presentation.main", b"presentationml.template.main"
                )
            template.writestr(info, data)
    return out.getvalue()


def test_a_shared_template_gets_the_thumbnail_its_document_would(member):
    """Every format the preview renderer handles gets a preview when shared (templates too)."""
    from exchange.extensions import db
    from exchange.models import StoredFile

    template = as_template(corpus_file("pptx/tika-testPPT_masterFooter.pptx"))
    resource_id = member.share_id(files=[("workshop deck.potx", template)])
    with member.client.application.app_context():
        stored = db.session.query(StoredFile).filter_by(resource_id=resource_id).one()
        assert stored.format == "potx"
        file_id, has_preview = stored.id, bool(stored.preview_key)
    assert has_preview
    response = member.client.get(f"/resources/{resource_id}/files/{file_id}/preview.png")
    assert response.status_code == 200 and response.mimetype == "image/png"


# --------------------------------------------------------------------------- office files


def without_thumbnail(path: Path) -> bytes:
    """The same package with its embedded thumbnail left out (so LibreOffice must draw it)."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as copy:
        for info in source.infolist():
            if "thumbnail" not in info.filename.lower():
                copy.writestr(info, source.read(info))
    return out.getvalue()


def ink(png: bytes) -> int:
    """How many pixels of a picture are clearly not white: a blank page has none."""
    import io

    with Image.open(io.BytesIO(png)) as image:
        grey = image.convert("L")
        return sum(count for level, count in enumerate(grey.histogram()) if level < 200)


@pytest.fixture
def office_member(make_app):
    """A member of a site that draws office files' first pages with LibreOffice."""
    from tests.fixtures.members import Visitor

    if shutil.which("soffice") is None:
        pytest.fail(
            "LibreOffice (soffice) is needed: apt-get install libreoffice-writer-nogui "
            "libreoffice-calc-nogui libreoffice-impress-nogui (.ci/run does)"
        )
    # Files are read at once (eager jobs); their pictures wait on the background thread,
    # so held_jobs can show the page before LibreOffice draws them.
    app = make_app(OFFICE_PREVIEWS=True, JOBS_EAGER_EXCEPT=("preview", "test-hold"))
    visitor = Visitor(app.test_client())
    assert visitor.register().status_code == 302
    return visitor


@pytest.fixture
def held_jobs(office_member):
    """Keep the job runner busy until released, so a test sees the page before the job runs."""
    from exchange import jobs

    release = threading.Event()
    jobs.job("test-hold")(lambda: release.wait(60))
    with office_member.client.application.app_context():
        jobs.enqueue("test-hold")
    yield release
    release.set()
    assert jobs.wait(300), "jobs still running"


def files_of(member, resource_id: int) -> list:
    from exchange.extensions import db
    from exchange.models import StoredFile

    with member.client.application.app_context():
        rows = db.session.query(StoredFile).filter_by(resource_id=resource_id)
        rows = rows.order_by(StoredFile.position)
        return [(f.id, f.format, f.preview_key, f.preview_note) for f in rows]


def page_of(member, resource_id: int) -> str:
    response = member.client.get(f"/resources/{resource_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def stored_previews(member) -> list[str]:
    from exchange.storage import get_storage

    with member.client.application.app_context():
        return list(get_storage().iter_keys("previews/"))


# SQLite only: the job's database work is the same on PostgreSQL, and each drawing costs
# LibreOffice seconds.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.slow
@sqlite_only
def test_office_files_without_thumbnails_get_their_first_page_drawn_once(office_member, held_jobs):
    from exchange import jobs

    files = [
        ("interview notes.docx", corpus_file("docx/tika-testWORD_various.docx").read_bytes()),
        ("budget.xlsx", corpus_file("xlsx/tika-testEXCEL_textbox.xlsx").read_bytes()),
        ("workshop.pptx", without_thumbnail(corpus_file("pptx/tika-testPPT_various.pptx"))),
    ]
    resource_id = office_member.share_id(files=files)
    page = page_of(office_member, resource_id)
    assert page.count("Preview being made…") == 3 and "No picture" not in page
    held_jobs.set()
    assert jobs.wait(300)

    drawn = files_of(office_member, resource_id)
    assert [fmt for _, fmt, _, _ in drawn] == ["docx", "xlsx", "pptx"]
    for file_id, fmt, key, note in drawn:
        assert key and not note, f"{fmt}: {note}"
        response = office_member.client.get(f"/resources/{resource_id}/files/{file_id}/preview.png")
        assert response.mimetype == "image/png"
        assert ink(response.get_data()) > 50, f"the {fmt} preview is a blank page"
    page = page_of(office_member, resource_id)
    assert "Preview being made" not in page and page.count('class="thumb"') == 3

    with office_member.client.application.app_context():  # run again: nothing changes
        for file_id, *_ in drawn:
            jobs.enqueue("preview", file_id)
    assert jobs.wait(300)
    assert files_of(office_member, resource_id) == drawn
    assert sorted(stored_previews(office_member)) == sorted(key for _, _, key, _ in drawn)


@pytest.mark.slow
@sqlite_only
def test_a_file_libreoffice_cannot_open_keeps_no_picture_and_the_page_says_why(office_member):
    from exchange import jobs

    nasty = corpus_file("hostile/odfpy-nasty.odt").read_bytes()  # an external XML entity
    resource_id = office_member.share_id(files=[("nasty.odt", nasty)])
    assert jobs.wait(300)
    [(_, _, key, note)] = files_of(office_member, resource_id)
    assert key is None and note == "LibreOffice could not open it"
    page = page_of(office_member, resource_id)
    assert "No picture of this file’s first page: LibreOffice could not open it." in page
    assert 'class="thumb"' not in page and stored_previews(office_member) == []


@sqlite_only
def test_a_file_deleted_before_its_job_runs_is_left_alone(office_member, held_jobs, caplog):
    from exchange import jobs

    docx = corpus_file("docx/tika-testWORD_various.docx").read_bytes()
    resource_id = office_member.share_id(files=[("notes.docx", docx)])
    response = office_member.client.post(f"/resources/{resource_id}/delete")
    assert response.status_code == 302
    held_jobs.set()
    assert jobs.wait(60)
    assert stored_previews(office_member) == []
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_with_office_previews_off_nothing_is_drawn_and_the_excerpt_stays(member):
    from exchange import jobs

    docx = corpus_file("docx/tika-testWORD_various.docx").read_bytes()
    resource_id = member.share_id(files=[("notes.docx", docx)])
    assert jobs.wait(5)
    [(_, _, key, note)] = files_of(member, resource_id)
    assert key is None and note == "this site does not draw the pages of office files"
    page = page_of(member, resource_id)
    assert "No picture of this file’s first page: this site does not draw" in page
    assert "Preview being made" not in page and 'class="excerpt-text"' in page
    assert stored_previews(member) == []


def test_without_libreoffice_the_reason_is_given(tmp_path, monkeypatch):
    from exchange.files.office_preview import NOT_INSTALLED, draw_first_page

    monkeypatch.setenv("PATH", str(tmp_path))
    source = corpus_file("docx/tika-testWORD_various.docx")
    drawing = draw_first_page(source, "docx", tmp_path / "preview.png")
    assert not drawing.made and drawing.reason == NOT_INSTALLED
    assert not (tmp_path / "preview.png").exists()


@pytest.mark.slow
def test_libreoffice_is_stopped_at_the_time_limit(tmp_path):
    from exchange.files.office_preview import draw_first_page

    if shutil.which("soffice") is None:
        pytest.fail("LibreOffice (soffice) is needed: apt-get install libreoffice-writer-nogui")
    started = time.perf_counter()
    source = corpus_file("docx/tika-testWORD_various.docx")
    drawing = draw_first_page(source, "docx", tmp_path / "preview.png", timeout_s=0.5)
    assert drawing.reason == "drawing it took too long"
    assert time.perf_counter() - started < 5
    assert list(tmp_path.iterdir()) == []
