"""First-page previews: rendered PDFs, scaled images, embedded thumbnails, nothing else."""

from __future__ import annotations

import struct
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
