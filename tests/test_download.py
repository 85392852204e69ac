"""Downloading: the file comes back whole, credited, recorded, and never rendered inline."""

from __future__ import annotations

import io
import urllib.request
from email.message import Message

from sqlalchemy import select
from werkzeug.http import parse_options_header

from exchange.extensions import db
from exchange.models import Download, Resource
from exchange.storage import get_storage

from .fixtures.members import SHARE_DEFAULTS, Visitor, docx_bytes

CSV = b"Employer,Role,Applied on,Follow up\nAcme,Clerk,2026-01-04,2026-01-11\n"


def fetch(client, url: str) -> tuple[bytes, dict[str, str]]:
    """Follow a download the way a browser does: our response, or the store's after a 302."""
    response = client.get(url)
    if response.status_code == 200 and response.mimetype == "text/html":
        response = client.post(url)  # a newcomer confirms spending a starter download
    if response.status_code == 302 and response.headers["Location"].startswith("http"):
        with urllib.request.urlopen(response.headers["Location"], timeout=10) as remote:
            return remote.read(), dict(remote.headers.items())
    assert response.status_code == 200, response.status_code
    return response.get_data(), dict(response.headers.items())


def disposition_name(headers: dict[str, str]) -> str:
    """The file name a browser would save as (RFC 6266: filename* wins)."""
    _, params = parse_options_header(headers["Content-Disposition"])
    return params["filename"]


def two_members(app) -> tuple[Visitor, Visitor]:
    giver, taker = Visitor(app.test_client()), Visitor(app.test_client())
    giver.register(name="Dale Briers")
    taker.register()
    return giver, taker


def file_url(app, resource_id: int, position: int = 0) -> str:
    with app.app_context():
        stored = db.session.get(Resource, resource_id).files[position]
        return f"/resources/{resource_id}/files/{stored.id}"


def test_download_gives_back_the_bytes_that_were_shared(store_app):
    giver, taker = two_members(store_app)
    resource_id = giver.share_id(files=[("tracker.csv", CSV)])
    body, headers = fetch(taker.client, file_url(store_app, resource_id))
    assert body == CSV
    assert headers["Content-Disposition"].startswith("attachment;")
    assert disposition_name(headers) == "Job Search Tracker — tracker — shared by Dale Briers.csv"


def test_a_credited_office_file_carries_the_credit_and_the_original_is_kept(store_app):
    giver, taker = two_members(store_app)
    original = docx_bytes("Values card sort: pick the ten values that matter most.")
    resource_id = giver.share_id(files=[("values.docx", original)])
    body, headers = fetch(taker.client, file_url(store_app, resource_id))
    assert disposition_name(headers) == "Job Search Tracker — values — shared by Dale Briers.docx"
    assert "officedocument.wordprocessingml" in headers["Content-Type"]

    from docx import Document

    document = Document(io.BytesIO(body))
    assert document.core_properties.author == "Dale Briers (Collaborative Career Conversations)"
    assert "CC BY 4.0" in document.core_properties.comments
    assert [p.text for p in document.paragraphs] == [
        "Values card sort: pick the ten values that matter most."
    ]
    with store_app.app_context():
        stored = db.session.get(Resource, resource_id).files[0]
        with get_storage().open(stored.storage_key) as fh:
            assert fh.read() == original


def test_non_ascii_titles_and_names_survive_in_the_file_name(store_app):
    giver, taker = two_members(store_app)
    resource_id = giver.share_id(
        files=[("fiche.csv", CSV)],
        title="Fiche d’auto-évaluation",
        credit_name="Zoë Lefèvre (Carrières Québec)",
    )
    _, headers = fetch(taker.client, file_url(store_app, resource_id))
    assert (
        disposition_name(headers) == "Fiche d’auto-évaluation — fiche — shared by Zoë Lefèvre.csv"
    )
    fallback = Message()
    fallback["Content-Disposition"] = headers["Content-Disposition"]
    assert fallback.get_filename().isascii() or "’" in fallback.get_filename()


def test_two_files_of_one_type_download_under_their_own_names(store_app):
    giver, taker = two_members(store_app)
    files = [
        ("worksheet.docx", docx_bytes("Pick the ten values that matter most.")),
        ("facilitator notes.docx", docx_bytes("Run it in pairs, then as a group.")),
    ]
    resource_id = giver.share_id(files=files, title="Values card sort")
    names = [
        disposition_name(fetch(taker.client, file_url(store_app, resource_id, n))[1])
        for n in (0, 1)
    ]
    assert names == [
        "Values card sort — worksheet — shared by Dale Briers.docx",
        "Values card sort — facilitator notes — shared by Dale Briers.docx",
    ]


def test_files_sent_under_one_name_are_told_apart_when_shared(app):
    giver, taker = two_members(app)
    same = [("sheet.csv", CSV), ("sheet.csv", CSV + b"Beta,Porter,2026-02-01,\n")]
    resource_id = giver.share_id(files=same, title="Tracker")
    page = taker.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    assert "sheet.csv" in page and "sheet (2).csv" in page
    names = {
        disposition_name(fetch(taker.client, file_url(app, resource_id, n))[1]) for n in (0, 1)
    }
    assert names == {
        "Tracker — sheet — shared by Dale Briers.csv",
        "Tracker — sheet (2) — shared by Dale Briers.csv",
    }


def test_a_file_added_under_a_name_already_there_is_told_apart(app):
    giver, _ = two_members(app)
    resource_id = giver.share_id(files=[("tracker.docx", docx_bytes("First edition"))])
    data = {
        **SHARE_DEFAULTS,
        "no_client_data": "y",
        "files": [(io.BytesIO(docx_bytes("Second edition")), "Tracker.docx")],
    }
    response = giver.client.post(
        f"/resources/{resource_id}/edit", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    with app.app_context():
        names = [f.original_name for f in db.session.get(Resource, resource_id).files]
    assert names == ["tracker.docx", "Tracker (2).docx"]


def test_an_anonymous_gift_names_nobody(store_app):
    giver, taker = two_members(store_app)
    resource_id = giver.share_id(files=[("tracker.csv", CSV)], credit_name="")
    body, headers = fetch(taker.client, file_url(store_app, resource_id))
    assert disposition_name(headers) == "Job Search Tracker — tracker.csv"
    page = taker.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    assert "Shared anonymously" in page
    assert "Dale Briers" not in page


def test_anonymous_visitors_are_asked_to_log_in_first(app, member):
    resource_id = member.share_id(files=[("tracker.csv", CSV)])
    url = file_url(app, resource_id)
    response = app.test_client().get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    with app.app_context():
        assert db.session.scalars(select(Download)).all() == []


def test_downloads_are_recorded_and_counted_once_per_member(app):
    giver, taker = two_members(app)
    resource_id = giver.share_id(files=[("tracker.csv", CSV)])
    url = file_url(app, resource_id)
    for _ in range(3):
        fetch(taker.client, url)
    with app.app_context():
        assert len(db.session.scalars(select(Download)).all()) == 3
        assert db.session.get(Resource, resource_id).download_count == 1
    page = taker.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    assert "1</strong> member has downloaded it" in page


def test_the_givers_own_downloads_are_logged_but_not_counted(app):
    giver, taker = two_members(app)
    resource_id = giver.share_id(files=[("tracker.csv", CSV)])
    with app.app_context():
        edited = db.session.get(Resource, resource_id).updated_at
    fetch(giver.client, file_url(app, resource_id))
    fetch(taker.client, file_url(app, resource_id))
    with app.app_context():
        resource = db.session.get(Resource, resource_id)
        assert resource.download_count == 1
        assert len(db.session.scalars(select(Download)).all()) == 2
        assert resource.updated_at == edited  # a download is not an edit


def test_a_file_of_another_resource_is_not_found(app):
    giver, taker = two_members(app)
    first = giver.share_id(files=[("a.csv", CSV)])
    second = giver.share_id(files=[("b.csv", CSV)])
    other_file = file_url(app, second).rsplit("/", 1)[1]
    assert taker.client.get(f"/resources/{first}/files/{other_file}").status_code == 404
    assert taker.client.get(f"/resources/{first}/files/999999").status_code == 404


def test_local_downloads_are_never_rendered_inline(app):
    giver, taker = two_members(app)
    resource_id = giver.share_id(files=[("notes.txt", b"Plain notes")])
    response = taker.client.post(file_url(app, resource_id))  # a confirmed starter download
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"].startswith("text/plain")
