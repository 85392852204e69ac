"""The share form: a resource is published whole, or nothing at all is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.models import IndexChange, Resource, StoredFile, Tag
from exchange.storage import get_storage

from .fixtures.members import SHARE_DEFAULTS, Visitor, docx_bytes, xlsx_bytes


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def objects(app) -> list[str]:
    with app.app_context():
        return list(get_storage().iter_keys())


def assert_nothing_stored(app) -> None:
    assert count(app, Resource) == 0
    assert count(app, StoredFile) == 0
    assert count(app, IndexChange) == 0
    assert objects(app) == []


def test_share_form_needs_a_logged_in_member(client):
    response = client.get("/resources/new")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_share_form_shows_the_limit_topics_and_prefilled_credit(member):
    page = member.client.get("/resources/new").get_data(as_text=True)
    assert "up to 25 MB in total" in page
    assert "interview skills" in page and "financial wellbeing" in page
    assert f'value="{member.name}"' in page
    for label in (
        "Title",
        "Synopsis",
        "How I use it",
        "Tags",
        "Kind",
        "Audience",
        "Licence",
        "Credit me as",
        "Files",
    ):
        assert f">{label}</label>" in page or f"<legend>{label}</legend>" in page, label


def test_sharing_a_docx_with_two_tags_publishes_it(app, member):
    content = docx_bytes("Record each application: employer, role, date, follow-up.")
    resource_id = member.share_id(files=[("Job Search Tracker.docx", content)])
    page = member.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    assert "Job Search Tracker" in page
    assert SHARE_DEFAULTS["how_used"] in page
    assert "job search" in page and "networking" in page
    assert "Job Search Tracker.docx" in page
    assert "Word document" in page
    with app.app_context():
        resource = db.session.get(Resource, resource_id)
        assert resource.tag_names == ["job search", "networking"]
        assert resource.status == Resource.PUBLISHED
        [stored] = resource.files
        assert stored.size == len(content)
        assert stored.format == "docx"
        assert "employer, role, date" in stored.text
        with get_storage().open(stored.storage_key) as fh:
            assert fh.read() == content


def test_tags_are_shared_between_resources(app, member):
    member.share_id(tags="Job Search, networking")
    member.share_id(tags="job search,  interview skills")
    with app.app_context():
        names = sorted(db.session.scalars(select(Tag.name)))
    assert names == ["interview skills", "job search", "networking"]


def test_several_files_in_one_share(app, member):
    resource_id = member.share_id(
        files=[
            ("worksheet.docx", docx_bytes("Values card sort instructions")),
            ("tracker.xlsx", xlsx_bytes([["Employer", "Role"], ["Acme", "Clerk"]])),
            ("notes.txt", b"Plain notes for the counsellor."),
        ]
    )
    with app.app_context():
        files = db.session.get(Resource, resource_id).files
        assert [f.original_name for f in files] == ["worksheet.docx", "tracker.xlsx", "notes.txt"]
        assert [f.format for f in files] == ["docx", "xlsx", "txt"]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("title", "Please give your resource a title."),
        ("synopsis", "Please say in a sentence or two what it is."),
        ("how_used", "Please say how and when you use it with clients."),
        ("kind", "Please choose what kind of resource it is."),
        ("audience", "Please choose who it is for."),
        ("licence", "Please choose how others may use it."),
        ("no_client_data", "Please confirm the files contain no client’s personal information."),
    ],
)
def test_each_missing_field_is_named_and_nothing_is_stored(app, member, field, message):
    response = member.share(**{field: ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    if field != "title":
        assert 'value="Job Search Tracker"' in page, "what was typed is shown again"
    if field != "how_used":
        assert SHARE_DEFAULTS["how_used"] in page
    assert_nothing_stored(app)


def test_a_share_without_files_is_refused(app, member):
    response = member.share(files=[])
    assert response.status_code == 422
    assert "Please choose at least one file to share." in response.get_data(as_text=True)
    assert_nothing_stored(app)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("tracker.docx", b"<!doctype html><html><body>hi</body></html>", "HTML"),
        ("tracker.pdf", docx_bytes("not a pdf"), "PDF"),
        ("script.exe", b"MZ\x90\x00" + b"\x00" * 100, "exe"),
        ("page.pdf.html", b"<html></html>", "html"),
    ],
)
def test_a_file_whose_content_does_not_match_its_name_is_refused(app, member, name, content, words):
    good = ("fine.docx", docx_bytes("A perfectly good worksheet"))
    response = member.share(files=[good, (name, content)])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert name in page or name.split(".")[0] in page
    assert words.lower() in page.lower()
    assert_nothing_stored(app)


def test_an_upload_over_the_limit_gets_the_413_page_and_stores_nothing(make_app):
    app = make_app(MAX_UPLOAD_MB=1)
    member = Visitor(app.test_client())
    member.register()
    big = b"word " * (600 * 1024)  # 3 MB of text: over the whole request limit
    response = member.share(files=[("big.txt", big)])
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "That upload is too large" in page
    assert "1 MB" in page
    assert_nothing_stored(app)


def test_a_share_just_under_the_request_limit_but_over_the_file_budget_is_refused(
    make_app,
):
    """MAX_CONTENT_LENGTH leaves room for form fields; the files themselves are counted too."""
    app = make_app(MAX_UPLOAD_MB=1)
    member = Visitor(app.test_client())
    member.register()
    response = member.share(files=[("a.txt", b"a " * 300_000), ("b.txt", b"b " * 300_000)])
    assert response.status_code == 413
    assert_nothing_stored(app)


def test_the_share_is_logged_for_the_search_index(app, member):
    """Once as shared (its giver finds it), once more when its files were read."""
    resource_id = member.share_id()
    with app.app_context():
        changes = list(db.session.scalars(select(IndexChange.resource_id)))
    assert changes == [resource_id, resource_id]


def test_an_unreadable_file_is_still_shared_and_says_why(app, member):
    resource_id = member.share_id(files=[("photo.png", _tiny_png())])
    page = member.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    assert "Contents not searchable: it is an image." in page


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "PNG")
    return out.getvalue()


def test_control_characters_typed_or_pasted_are_dropped_not_a_server_error(member):
    """PostgreSQL refuses a NUL character outright; no form lets one reach it."""
    from exchange.extensions import db
    from exchange.models import Resource

    resource_id = member.share_id(title="Budget\x00 sheet\x07", synopsis="Rent,\x00 food\x1b.")
    with member.client.application.app_context():
        resource = db.session.get(Resource, resource_id)
        assert (resource.title, resource.synopsis) == ("Budget sheet", "Rent, food.")
