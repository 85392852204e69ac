"""Resource pages, browsing, member pages, and who may change what."""

from __future__ import annotations

import html
import io

from docx import Document
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.models import Member, Resource, StoredFile
from exchange.storage import get_storage
from exchange.web import search as web_search

from .fixtures.members import SHARE_DEFAULTS, Visitor, docx_bytes


def make_admin(app, visitor: Visitor) -> None:
    with app.app_context():
        member = db.session.scalars(select(Member).where(Member.email == visitor.email)).one()
        member.is_admin = True
        db.session.commit()


def test_resource_page_shows_everything_about_it(app, member):
    resource_id = member.share_id()
    page = app.test_client().get(f"/resources/{resource_id}").get_data(as_text=True)
    assert SHARE_DEFAULTS["synopsis"] in page
    assert SHARE_DEFAULTS["how_used"] in page
    assert "Spreadsheet" in page and "for job seekers" in page
    assert "tracker.docx" in page and "Word document" in page
    assert "KB" in page
    assert (
        "“Job Search Tracker” by Dale Briers (Collaborative Career Conversations), "
        "shared via Toolkit Exchange, CC BY 4.0"
    ) in html.unescape(page)
    assert "0</strong> members have downloaded it" in page


def test_missing_resources_are_404(client):
    assert client.get("/resources/4242").status_code == 404
    assert client.get("/members/4242").status_code == 404


def test_browse_lists_newest_first_and_pages(app, member, monkeypatch):
    monkeypatch.setattr(web_search, "PER_PAGE", 5)  # pages of 5: the same code, fewer shares
    ids = [member.share_id(title=f"Worksheet number {n}") for n in range(7)]
    first = app.test_client().get("/resources").get_data(as_text=True)
    assert "7 resources" in first
    assert first.index("Worksheet number 6") < first.index("Worksheet number 5")
    assert "Worksheet number 1<" not in first
    second = app.test_client().get("/resources?page=2").get_data(as_text=True)
    assert "Worksheet number 1<" in second and "Worksheet number 0<" in second
    assert "Worksheet number 2<" not in second
    assert len(ids) == 7


def test_home_page_shows_the_newest_and_a_way_to_share(app, member):
    member.share_id(title="Strengths spotting cards")
    page = app.test_client().get("/").get_data(as_text=True)
    assert "Strengths spotting cards" in page
    assert "Share a resource" in page
    assert '<label for="q">Search</label>' in page


def test_member_page_lists_their_credited_gifts(app, member):
    member.share_id(title="Credited worksheet")
    member.share_id(title="Anonymous worksheet", credit_name="")
    with app.app_context():
        member_id = db.session.scalars(select(Member.id)).one()
    page = app.test_client().get(f"/members/{member_id}").get_data(as_text=True)
    assert "Credited worksheet" in page
    assert "Anonymous worksheet" not in page, "an anonymous gift is not tied to its giver"


def test_another_member_cannot_edit_or_delete(app, member, new_visitor):
    resource_id = member.share_id()
    other = new_visitor()
    other.register()
    for url in (f"/resources/{resource_id}/edit", f"/resources/{resource_id}/delete"):
        assert other.client.get(url).status_code == 403
        assert other.client.post(url, data={"title": "Mine now"}).status_code == 403
    with app.app_context():
        assert db.session.get(Resource, resource_id).title == "Job Search Tracker"


def test_owner_edits_description_tags_and_files(app, member):
    resource_id = member.share_id()
    with app.app_context():
        old = db.session.get(Resource, resource_id).files[0]
        old_id, old_keys = old.id, old.storage_keys()
    data = {
        **SHARE_DEFAULTS,
        "title": "Job Search Tracker (2nd edition)",
        "tags": "job search, resume writing",
        "remove_files": [str(old_id)],
        "no_client_data": "y",
        "files": [(io.BytesIO(docx_bytes("New version")), "tracker-v2.docx")],
    }
    response = member.client.post(
        f"/resources/{resource_id}/edit", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    with app.app_context():
        resource = db.session.get(Resource, resource_id)
        assert resource.title == "Job Search Tracker (2nd edition)"
        assert resource.tag_names == ["job search", "resume writing"]
        assert [f.original_name for f in resource.files] == ["tracker-v2.docx"]
        remaining = set(get_storage().iter_keys())
        assert not remaining & set(old_keys), "the removed file's objects are deleted"


def test_the_last_file_cannot_be_removed(app, member):
    resource_id = member.share_id()
    with app.app_context():
        file_id = db.session.get(Resource, resource_id).files[0].id
    data = {**SHARE_DEFAULTS, "remove_files": [str(file_id)]}
    data.pop("no_client_data")
    response = member.client.post(f"/resources/{resource_id}/edit", data=data)
    assert response.status_code == 422
    assert "A resource needs at least one file" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(StoredFile.id))) == 1


def test_owner_deletes_and_everything_goes(app, member):
    resource_id = member.share_id()
    assert member.client.get(f"/resources/{resource_id}/delete").status_code == 200
    assert member.client.post(f"/resources/{resource_id}/delete").status_code == 302
    assert app.test_client().get(f"/resources/{resource_id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(StoredFile.id))) == 0
        assert list(get_storage().iter_keys()) == []


def test_an_admin_may_edit_and_delete_anything(app, member, new_visitor):
    resource_id = member.share_id()
    admin = new_visitor()
    admin.register()
    make_admin(app, admin)
    assert admin.client.get(f"/resources/{resource_id}/edit").status_code == 200
    assert admin.client.post(f"/resources/{resource_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Resource, resource_id) is None


def test_changing_the_credit_remakes_the_credited_copy(app, member):
    resource_id = member.share_id()
    with app.app_context():
        before = db.session.get(Resource, resource_id).files[0].credited_key
    data = {**SHARE_DEFAULTS, "credit_name": "Dale B."}
    data.pop("no_client_data")
    assert member.client.post(f"/resources/{resource_id}/edit", data=data).status_code == 302
    with app.app_context():
        stored = db.session.get(Resource, resource_id).files[0]
        assert stored.credited_key and stored.credited_key != before
        keys = set(get_storage().iter_keys())
        assert before not in keys
        with get_storage().open(stored.credited_key) as fh:
            assert Document(io.BytesIO(fh.read())).core_properties.author == "Dale B."
