"""A member's own data: the export (a zip built by a job) and deleting the account, both
ways, checked against what the pages show."""

from __future__ import annotations

import html
import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from exchange import accounts, jobs
from exchange.extensions import db
from exchange.models import (
    DataExport,
    Follow,
    Member,
    OutboxEmail,
    Resource,
    ShareRequest,
    StoredFile,
)
from exchange.storage import get_storage

from .fixtures.exchange import member_id, page, set_profile, share_txt, take
from .fixtures.members import PASSWORD, Visitor, docx_bytes

CREDIT = "Gil Giver (Northside Careers)"


def authored_docx() -> bytes:
    """A worksheet whose own properties name Gil, as Word would have written them."""
    from docx import Document

    document = Document(io.BytesIO(docx_bytes("List three strengths and a story for each.")))
    document.core_properties.author = "Gil Giver"
    document.core_properties.last_modified_by = "Gil Giver"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


WORKSHEET = authored_docx()


def registered(app, name: str, email: str) -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.register(name=name, email=email)
    return visitor


@pytest.fixture
def site(app) -> dict:
    """Gil shares a credited worksheet that Tam takes and thanks; Gil takes and thanks Tam's."""
    gil = registered(app, "Gil Giver", "gil@northside.example")
    tam = registered(app, "Tam Taker", "tam@example.org")
    set_profile(app, gil, organisation="Northside Careers")
    gift = gil.share_id(
        files=[("strengths.docx", WORKSHEET)], title="Strengths stories", credit_name=CREDIT
    )
    tams = share_txt(tam, "Networking map")
    take(app, tam, gift)
    take(app, gil, tams)
    for who, what in ((tam, gift), (gil, tams)):
        who.client.post(f"/resources/{what}/thanks", data={"note": "Used it with a client group."})
    gil.client.post(
        "/requests/new",
        data={
            "title": "A values card sort",
            "body": "For school leavers unsure what matters to them at work, in small groups.",
            "tags": "values",
        },
    )
    return {"gil": gil, "tam": tam, "gift": gift, "tams": tams}


def emails_to(app, address: str, key_start: str) -> int:
    with app.app_context():
        query = select(func.count(OutboxEmail.id)).where(
            OutboxEmail.to_address == address, OutboxEmail.key.startswith(key_start)
        )
        return db.session.scalar(query)


def mail_to(app, address: str) -> str:
    with app.app_context():
        rows = db.session.execute(
            select(OutboxEmail.subject, OutboxEmail.body).where(OutboxEmail.to_address == address)
        )
        return " ".join(f"{subject} {body}" for subject, body in rows)


def exported(app, visitor: Visitor) -> tuple[dict, zipfile.ZipFile]:
    response = visitor.client.post("/account/data/export")
    assert response.status_code == 302
    assert jobs.wait(60)
    text = page(visitor, "/account/data")
    link = text.split('href="/account/data/exports/')[1].split('"')[0]
    download = visitor.client.get(f"/account/data/exports/{link}")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.get_data()))
    return json.loads(archive.read("member_data.json")), archive


def test_export_holds_what_the_pages_show(app, site):
    gil, tam = site["gil"], site["tam"]
    data, archive = exported(app, gil)
    assert data["profile"]["email"] == "gil@northside.example"
    assert data["profile"]["organisation"] == "Northside Careers"
    [resource] = data["resources"]
    shown = html.unescape(page(gil, f"/resources/{site['gift']}"))
    assert resource["title"] in shown and resource["credit_name"] == CREDIT
    assert f"<strong data-download-count>{resource['downloads']}</strong>" in page(
        tam, f"/resources/{site['gift']}"
    )
    assert resource["downloads"] == 1
    [item] = resource["files"]
    assert archive.read(item["in_zip"]) == WORKSHEET and item["name"] == "strengths.docx"
    [received] = data["thanks_received"]
    assert received["from"] == "Tam Taker" and received["note"] in shown
    assert [t["resource"] for t in data["thanks_given"]] == ["Networking map"]
    assert [d["resource"] for d in data["downloads_taken"]] == ["Networking map"]
    assert [r["title"] for r in data["requests"]] == ["A values card sort"]
    board = html.unescape(page(gil, "/requests"))
    assert "A values card sort" in board
    notices = html.unescape(page(gil, "/notifications"))
    assert data["notifications"] and all(n["message"] in notices for n in data["notifications"])
    assert "README.txt" in archive.namelist()
    assert "password" not in json.dumps(data["profile"])
    # another member cannot fetch it, and the ready email went out once
    export_id = page(gil, "/account/data").split('href="/account/data/exports/')[1].split('"')[0]
    assert tam.client.get(f"/account/data/exports/{export_id}").status_code == 404
    with app.app_context():
        accounts.data_export.build_export(int(export_id))  # a job run twice changes nothing
    assert emails_to(app, "gil@northside.example", "account:data-export:") == 1


def test_at_most_one_export_runs_per_member(app, site):
    with app.test_request_context():
        gil = db.session.get(Member, member_id(app, site["gil"]))
        accounts.request_export(gil)
        with pytest.raises(accounts.ExportUnderway):
            accounts.request_export(gil)
        db.session.rollback()


def delete(visitor: Visitor, resources: str, words: str, password: str = PASSWORD):
    data = {"resources": resources, "words": words, "password": password}
    return visitor.client.post("/account/delete", data=data)


def test_a_wrong_password_deletes_nothing(app, site):
    response = delete(site["gil"], "keep", "keep", "not my password")
    assert response.status_code == 422
    assert "That isn’t your password." in html.unescape(response.get_data(as_text=True))
    response = site["gil"].client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 422
    assert "Please choose what becomes of your resources." in html.unescape(
        response.get_data(as_text=True)
    )
    assert page(site["gil"], "/account")


def everything_public(app, visitor: Visitor, resource_ids: list[int]) -> str:
    urls = ["/", "/resources", "/requests"]
    urls += [f"/resources/{rid}" for rid in resource_ids]
    urls += ["/notifications", "/toolkit", "/account/exchange", "/whats-new"]
    urls += ["/feeds/resources.atom", "/feeds/search.atom?q=strengths"]
    return " ".join(html.unescape(page(visitor, url)) for url in urls)


def test_deleting_and_keeping_gifts_leaves_no_name_anywhere(app, site):
    gil, tam = site["gil"], site["tam"]
    gil_id = member_id(app, gil)
    assert "Strengths stories" in page(tam, "/search?q=Northside")  # found by its credit
    assert "Gil Giver" in mail_to(app, "tam@example.org")  # "Gil Giver thanked you…"
    gil.client.post("/account/data/export")
    assert jobs.wait(60)
    assert delete(gil, "keep", "keep").status_code == 302
    assert jobs.wait(60)
    seen = everything_public(app, tam, [site["gift"], site["tams"]])
    for name in ("Gil Giver", "Northside", "gil@northside"):
        assert name not in seen, name
    assert "Strengths stories" in seen and "Former member" in seen  # gift and thanks kept
    for word in ("Gil", "Giver", "Northside"):
        assert "Strengths stories" not in page(tam, f"/search?q={word}")
    assert page(tam, f"/members/{gil_id}", 404)
    assert page(tam, f"/feeds/members/{gil_id}.atom", 404)
    assert "<strong data-download-count>1</strong>" in page(tam, f"/resources/{site['tams']}")
    credited = take(app, tam, site["gift"])
    assert "Gil" not in credited.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(credited.get_data())) as docx:
        for part in docx.namelist():
            text = docx.read(part).decode("utf-8", "replace")
            assert "Gil Giver" not in text and "Northside" not in text, part
    assert "Gil Giver" not in mail_to(app, "tam@example.org")  # not yet sent: scrubbed too
    with app.app_context():
        assert db.session.scalar(select(func.count(DataExport.id))) == 0
        gone = db.session.get(Member, gil_id)
        assert gone.name == "Former member" and gone.email != "gil@northside.example"
    assert gil.client.get("/account").status_code == 302  # signed out everywhere
    assert gil.login().status_code == 422  # that password opens nothing
    assert emails_to(app, "gil@northside.example", "account:deleted:") == 1
    again = Visitor(app.test_client())
    assert again.register(name="Gil Again", email="gil@northside.example").status_code == 302


def test_deleting_and_removing_everything(app, site):
    gil, tam = site["gil"], site["tam"]
    with app.app_context():
        keys = [k for f in db.session.scalars(select(StoredFile)) for k in f.storage_keys()]
        gift_keys = [
            k
            for f in db.session.scalars(
                select(StoredFile).where(StoredFile.resource_id == site["gift"])
            )
            for k in f.storage_keys()
        ]
    with app.app_context():
        request_id = db.session.scalar(select(ShareRequest.id))
    answered = tam.client.post(
        f"/requests/{request_id}/answer", data={"resource": site["tams"], "note": "Try this."}
    )
    assert answered.status_code == 302
    assert delete(gil, "remove", "remove").status_code == 302
    assert jobs.wait(60)
    tams_data, _ = exported(app, tam)  # their answer went with the request it answered
    assert tams_data["answers_given"] == [] and tams_data["thanks_received"] == []
    assert page(tam, f"/resources/{site['gift']}", 404)
    seen = everything_public(app, tam, [site["tams"]])
    assert "Gil Giver" not in seen and "A values card sort" not in seen
    assert "Used it with a client group." not in page(tam, f"/resources/{site['tams']}")
    assert "<strong data-download-count>1</strong>" in page(tam, f"/resources/{site['tams']}")
    with app.app_context():
        storage = get_storage()
        assert not any(storage.exists(k) for k in gift_keys)
        assert all(storage.exists(k) for k in set(keys) - set(gift_keys))
        assert db.session.get(Resource, site["gift"]) is None
    assert emails_to(app, "gil@northside.example", "account:deleted:") == 1


def test_a_deleted_member_is_followed_by_nobody_and_follows_nothing(app, site):
    gil, tam = site["gil"], site["tam"]
    assert tam.client.post(f"/members/{member_id(app, gil)}/follow").status_code == 302
    assert gil.client.post(f"/members/{member_id(app, tam)}/follow").status_code == 302
    assert "Gil Giver" in page(tam, "/account/exchange")
    assert delete(gil, "keep", "keep").status_code == 302
    assert "Gil Giver" not in page(tam, "/account/exchange")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Follow)) == 0
