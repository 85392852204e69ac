"""Hostile uploads through the real share form: refused clearly, stored nowhere, never served
inline; names only ever shown escaped; limits per request and per member."""

from __future__ import annotations

import ast
import html
import io
import logging
import re
import struct
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.http import parse_options_header

from exchange.extensions import db
from exchange.files.reasons import REASONS
from exchange.models import IndexChange, Resource, StoredFile
from exchange.storage import get_storage

from .fixtures.corpus import corpus_file, manifest, require_corpus
from .fixtures.hostile import absurd_pdf, docx_with, giant_png, lying_zip
from .fixtures.members import SHARE_DEFAULTS, Visitor, docx_bytes

PACKAGE = Path(__file__).resolve().parents[1] / "exchange"


def nothing_stored(app) -> bool:
    with app.app_context():
        counts = [
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Resource, StoredFile, IndexChange)
        ]
        return counts == [0, 0, 0] and list(get_storage().iter_keys()) == []


# -- 1. limits -----------------------------------------------------------------------------


def test_a_member_over_their_file_quota_gets_the_413_page(make_app):
    app = make_app(QUOTA_FILES=2)
    member = Visitor(app.test_client())
    member.register()
    member.share_id(files=[("a.txt", b"one"), ("b.txt", b"two")])
    response = member.share(files=[("c.txt", b"three")])
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Your account can hold 2 files" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(StoredFile.id))) == 2


def test_a_member_over_their_space_quota_gets_the_413_page(make_app):
    app = make_app(QUOTA_MB=1)
    member = Visitor(app.test_client())
    member.register()
    response = member.share(files=[("big.txt", b"words " * 200_000)])  # 1.2 MB
    assert response.status_code == 413
    assert "Your account can hold 1 MB" in response.get_data(as_text=True)
    assert nothing_stored(app)


# -- 2. types by content and name ------------------------------------------------------------


def test_an_upper_case_extension_is_fine(app, member):
    member.share_id(files=[("WORKSHEET.DOCX", docx_bytes("Upper case name"))])


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.pdf.html", b"<html><script>alert(1)</script></html>"),
        ("x.docx", b"<!DOCTYPE html><html><body>not a doc</body></html>"),
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("x.txt", b"<svg onload=alert(1)>"),
        ("x.xml", b"<?xml version='1.0'?><a/>"),
        ("x.xlsm", b"PK\x03\x04"),
    ],
)
def test_disguised_and_dangerous_files_are_refused_clearly(app, member, name, content):
    response = member.share(files=[(name, content)])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="error" id="files-error"' in page
    assert "<script>alert(1)" not in page and "<svg onload" not in page
    assert nothing_stored(app)


def test_a_forged_content_type_changes_nothing(app, member):
    """The browser's Content-Type is never trusted: HTML sent as a PDF is still HTML."""
    data = {**SHARE_DEFAULTS}
    data["files"] = [(io.BytesIO(b"<html><body>hi</body></html>"), "x.pdf", "application/pdf")]
    response = member.client.post("/resources/new", data=data)
    assert response.status_code == 422
    assert nothing_stored(app)


# -- 3. zip bombs ------------------------------------------------------------------------------


def zip_bomb(declared: int = 2**31) -> bytes:
    """A small .docx whose central directory claims a 2 GB document part."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org'
            '/package/2006/content-types"><Override PartName="/word/document.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", b"\x00" * 1_000_000)
    data = bytearray(out.getvalue())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


def test_a_zip_bomb_is_refused_fast(app, member):
    started = time.monotonic()
    response = member.share(files=[("bomb.docx", zip_bomb())])
    assert time.monotonic() - started < 5
    assert response.status_code == 422
    assert "bomb.docx" in response.get_data(as_text=True)
    assert nothing_stored(app)


def refusal_shown(response, name: str) -> str:
    """The sentence beside the file field, from a 422 page that kept the form."""
    assert response.status_code == 422
    found = re.search(r'id="files-error">.*?</span>(.*?)</p>', response.get_data(as_text=True))
    assert found, "no sentence beside the file field"
    sentence = html.unescape(found.group(1))
    assert name in sentence
    return sentence


def test_a_zip_whose_directory_lies_about_sizes_is_refused_at_upload(app, member):
    """zipfile trusts the declared 1,000 bytes; Word would unpack all 20 MB."""
    response = member.share(files=[("checklist.docx", lying_zip())])
    sentence = refusal_shown(response, "checklist.docx")
    assert "unpacks to more than its list of contents declares (a zip bomb)" in sentence
    assert nothing_stored(app)


@pytest.mark.parametrize(
    ("name", "content"),
    [("plan.png", giant_png()), ("cv.docx", docx_with({"docProps/thumbnail.png": giant_png()}))],
    ids=["png", "docx-thumbnail"],
)
def test_a_40000_pixel_square_picture_is_refused_at_upload(app, member, name, content):
    response = member.share(files=[(name, content)])
    sentence = refusal_shown(response, name)
    assert "40,000 × 40,000 pixels, more than the 50 megapixels" in sentence
    assert nothing_stored(app)


@pytest.mark.parametrize(
    "pdf",
    [
        absurd_pdf("0 0 14400000 14400000"),
        absurd_pdf("0 0 0.001 14400"),
        absurd_pdf(count=2_000_000_000),
    ],
    ids=["200-km-page", "needle-page", "two-billion-pages-claimed"],
)
def test_pdfs_with_absurd_pages_are_read_and_previewed_within_bounds(app, member, pdf):
    """Nothing is refused here: the preview is scaled to at most 480 × 1440 pixels whatever
    the page size, and the page count is never trusted."""
    resource_id = member.share_id(files=[("plan.pdf", pdf)])
    with app.app_context():
        stored = db.session.get(Resource, resource_id).files[0]
        assert stored.searchable and "Career plan" in stored.text
        file_id, has_preview = stored.id, bool(stored.preview_key)
    if has_preview:
        png = member.client.get(f"/resources/{resource_id}/files/{file_id}/preview.png")
        width, height = struct.unpack(">II", png.data[16:24])
        assert width <= 480 and height <= 1440


# Manifest categories (the note's first word) of the files made to break readers.
HOSTILE_CATEGORIES = ("hostile", "malformed", "encrypted", "zip bomb", "mislabelled")


@pytest.mark.slow
# The files decide what happens here, not the database: one run is enough.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_hostile_corpus_file_is_refused_or_kept_with_a_clear_reason(app, member):
    """Each is either refused with a sentence naming it, or shared; a shared one that cannot
    be searched says why, and nothing ever fails with a server error."""
    require_corpus()
    hostile = [doc for doc in manifest() if doc.category.startswith(HOSTILE_CATEGORIES)]
    assert len(hostile) >= 25
    for doc in hostile:
        response = member.share(files=[(doc.path.name, doc.path.read_bytes())])
        if response.status_code == 422:
            assert refusal_shown(response, doc.path.name).strip().endswith("."), doc.relpath
            continue
        assert response.status_code == 302, doc.relpath
        resource_id = int(response.headers["Location"].rsplit("/", 1)[1])
        with app.app_context():
            stored = db.session.get(Resource, resource_id).files[0]
            assert stored.searchable or stored.text_reason in REASONS, doc.relpath


# -- 4. XML entities ---------------------------------------------------------------------------

UNSAFE_XML_MODULES = {
    "xml.etree.ElementTree",
    "xml.etree.cElementTree",
    "xml.dom.minidom",
    "xml.dom.pulldom",
    "xml.sax",
    "lxml",
    "lxml.etree",
    "odf",
    "odf.opendocument",
}


PARSING_CALLS = {
    "parse",
    "fromstring",
    "fromstringlist",
    "iterparse",
    "XML",
    "XMLParser",
    "XMLPullParser",
    "parseString",
    "make_parser",
    "load",
}


def unsafe_xml_uses(tree: ast.AST) -> list[str]:
    """Parsing calls made through an XML module that is not defusedxml."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {(a.asname or a.name): a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            aliases |= {(a.asname or a.name): f"{node.module}.{a.name}" for a in node.names}
    unsafe = {
        alias
        for alias, module in aliases.items()
        if any(module == m or module.startswith(m + ".") for m in UNSAFE_XML_MODULES)
    }
    return [
        f"{node.value.id}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in unsafe
        and node.attr in PARSING_CALLS
    ] + [name for name in unsafe if name in PARSING_CALLS]


def test_no_module_parses_xml_without_defusedxml():
    """Every XML parse in the package goes through defusedxml (no entity expansion, no DTDs).

    The standard library may still *build and write* XML (the properties
    writers in files/credit/properties/ do)."""
    offenders = {
        path.name: found
        for path in PACKAGE.rglob("*.py")
        if (found := unsafe_xml_uses(ast.parse(path.read_text())))
    }
    assert offenders == {}
    assert unsafe_xml_uses(ast.parse("import xml.etree.ElementTree as ET\nET.fromstring(b)"))


def test_the_xxe_document_is_shared_but_its_entity_is_never_resolved(app, member):
    content = corpus_file("hostile/odfpy-nasty.odt").read_bytes()
    resource_id = member.share_id(files=[("nasty.odt", content)])
    with app.app_context():
        stored = db.session.get(Resource, resource_id).files[0]
        assert not stored.searchable
        assert "externalcontent" not in stored.text and "root:" not in stored.text


def test_billion_laughs_in_a_docx_is_not_expanded(app, member):
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"
    )
    good = io.BytesIO(docx_bytes("placeholder"))
    out = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = laughs.encode() if item.filename == "word/document.xml" else src.read(item)
            dst.writestr(item, body)
    started = time.monotonic()
    resource_id = member.share_id(files=[("laughs.docx", out.getvalue())])
    assert time.monotonic() - started < 10
    with app.app_context():
        stored = db.session.get(Resource, resource_id).files[0]
        assert not stored.searchable
        assert "lollol" not in stored.text


# -- 6. names ------------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../etc/passwd.txt",
    "a" * 300 + ".txt",
    "résumé – “final”.txt",
    'quote".txt',
    "semi;colon.txt",
    "line\r\nbreak.txt",
    "<img src=x onerror=alert(1)>.txt",
    "\u202etxt.exe.txt",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_user_file_names_never_become_keys_and_are_shown_escaped(app, member, name):
    response = member.share(files=[(name, b"harmless text")])
    if response.status_code == 422:  # refused: the problem is named and nothing is kept
        assert 'id="files-error"' in response.get_data(as_text=True)
        assert "<img src=x" not in response.get_data(as_text=True)
        assert nothing_stored(app)
        return
    assert response.status_code == 302
    resource_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        stored = db.session.get(Resource, resource_id).files[0]
        assert stored.storage_key.startswith("files/") and ".." not in stored.storage_key
        assert not set("/\\\r\n\x00") & set(stored.original_name)
        assert len(stored.original_name) <= 200
    page = member.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    assert "<img src=x" not in page
    download = member.client.get(f"/resources/{resource_id}/files/{stored.id}")
    header = download.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    disposition, params = parse_options_header(header)
    assert disposition == "attachment"
    filename = params["filename"]
    assert not set("/\\") & set(filename) and not filename.startswith(".")
    assert filename.endswith(".txt")


def test_names_with_trailing_dots_or_nul_bytes_are_refused(app, member):
    for name in ("x.pdf.", "x\x00.pdf", "x.pdf "):
        response = member.share(files=[(name, b"%PDF-1.4\n%%EOF\n")])
        assert response.status_code == 422, name
    assert nothing_stored(app)


# -- 7. never inline; presigned URLs -----------------------------------------------------------


def test_html_uploaded_as_text_is_downloaded_as_plain_text_attachment(app, member):
    resource_id = member.share_id(files=[("notes.txt", b"Hello <b>there</b> friend")])
    with app.app_context():
        file_id = db.session.get(Resource, resource_id).files[0].id
    response = member.client.get(f"/resources/{resource_id}/files/{file_id}")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_presigned_urls_are_issued_after_the_access_check_and_never_logged(store_app, caplog):
    giver = Visitor(store_app.test_client())
    giver.register()
    resource_id = giver.share_id(files=[("n.txt", b"text")], access="sharers")
    with store_app.app_context():
        file_id = db.session.get(Resource, resource_id).files[0].id
    url = f"/resources/{resource_id}/files/{file_id}"
    anonymous = store_app.test_client().get(url)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    newcomer = Visitor(store_app.test_client())
    newcomer.register()
    refused = newcomer.client.get(url)
    assert refused.status_code == 403
    assert "X-Amz-Signature" not in refused.get_data(as_text=True)
    with caplog.at_level(logging.DEBUG):
        allowed = giver.client.get(url)
    location = allowed.headers.get("Location", "")
    if location.startswith("http"):
        assert "response-content-disposition=attachment" in location
        assert "X-Amz-Expires=60" in location
        signature = location.split("X-Amz-Signature=")[1]
        assert signature not in caplog.text
