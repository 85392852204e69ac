"""The open API through a member's script: tokens, problems, reads, give-to-get, shares,
and the API agreeing with the pages on every count."""

from __future__ import annotations

import io
import re
import urllib.request
from datetime import timedelta

from sqlalchemy import select

from exchange.extensions import db
from exchange.models import ApiToken, utcnow

from .fixtures.api import Script, make_token, problem_type
from .fixtures.exchange import member_id, share_txt
from .fixtures.members import SHARE_DEFAULTS, Visitor, docx_bytes


def test_a_token_is_shown_once_stored_hashed_and_stops_when_revoked(app, member):
    cookie_only = member.client.get("/api/v1/resources")  # the API reads no cookie
    assert cookie_only.status_code == 401 and problem_type(cookie_only) == "unauthorized"
    assert cookie_only.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    secret = make_token(member)
    assert secret not in member.client.get("/account").get_data(as_text=True)
    with app.app_context():
        stored = db.session.scalars(select(ApiToken)).one()
        assert secret not in (stored.lookup, stored.hint) and stored.hint == secret[:10]
        assert stored.scope_list == ["read", "write"] and stored.last_used_at is None
    script = Script(app, secret)
    assert script.get("/resources").status_code == 200
    with app.app_context():
        assert db.session.scalars(select(ApiToken)).one().last_used_at is not None
    assert "Case system" in member.client.get("/account").get_data(as_text=True)
    revoked = member.client.post(f"/account/tokens/{stored.id}/revoke")
    assert revoked.status_code == 302
    refused = script.get("/resources")
    assert refused.status_code == 401 and problem_type(refused) == "unauthorized"
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_a_read_token_may_not_write_and_an_expired_one_does_nothing(app, member):
    reader = Script(app, make_token(member, write=False, name="Reader"))
    asked = reader.post("/requests", json={"title": "A values card sort", "body": "x" * 50})
    assert asked.status_code == 403 and problem_type(asked) == "insufficient-scope"
    expiring = Script(app, make_token(member, name="Old"))
    with app.app_context():
        token = db.session.scalars(select(ApiToken).where(ApiToken.name == "Old")).one()
        token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert expiring.get("/resources").status_code == 401
    assert reader.get("/resources").status_code == 200


def test_one_members_token_is_not_anothers(app, new_visitor):
    owner, other = new_visitor(), new_visitor()
    owner.register()
    other.register()
    script = Script(app, make_token(owner))
    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).one()
    assert other.client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    hidden = share_txt(owner, "Members only", visibility="members")
    assert script.get(f"/resources/{hidden}").status_code == 200
    mine = script.get(f"/members/{member_id(app, owner)}").get_json()
    assert [r["id"] for r in mine["shared"]] == [hidden]
    assert mine["name"] == owner.name


def test_suspension_stops_tokens_and_deleting_the_account_revokes_them(app, new_visitor):
    from exchange import community
    from exchange.models import Member

    suspended, leaving = new_visitor(), new_visitor()
    suspended.register()
    leaving.register()
    suspended_script = Script(app, make_token(suspended))
    leaving_script = Script(app, make_token(leaving))
    with app.app_context():
        admin = Member(email="admin@example.org", name="Admin", password_hash="", is_admin=True)
        db.session.add(admin)
        member = db.session.get(Member, member_id(app, suspended))
        community.suspend_member(admin, member, "Spam")
        db.session.commit()
    assert suspended_script.get("/resources").status_code == 401
    form = {"resources": "remove", "words": "remove", "password": "a long enough passphrase"}
    assert leaving.client.post("/account/delete", data=form).status_code == 302
    assert leaving_script.get("/resources").status_code == 401
    with app.app_context():
        tokens = db.session.scalars(select(ApiToken).where(ApiToken.member_id == leaving_id(app)))
        assert all(t.revoked_at is not None for t in tokens)


def leaving_id(app) -> int:
    from exchange.models import Member

    with app.app_context():
        return db.session.scalars(select(Member.id).where(Member.name == "Former member")).one()


def test_errors_are_problems_with_stable_types(app, member):
    script = Script(app, make_token(member))
    cases = [
        (script.get("/resources/999"), 404, "not-found"),
        (script.call("DELETE", "/resources"), 405, "method-not-allowed"),
        (script.get("/resources?sort=sideways"), 422, "invalid"),
        (script.get("/resources?colour=red"), 422, "invalid"),
        (script.get("/nowhere"), 404, "not-found"),
    ]
    for response, status, kind in cases:
        assert response.status_code == status and problem_type(response) == kind
        assert response.get_json()["status"] == status
    assert "sort" in script.get("/resources?sort=sideways").get_json()["errors"]["query"]
    meaning = app.test_client().get("/api/problems/not-found")
    assert meaning.status_code == 200 and meaning.get_json()["status"] == 404
    assert app.test_client().get("/no-such-page").mimetype == "text/html"


def test_reads_carry_etags_and_pages_carry_links(app, member):
    for n in range(3):
        share_txt(member, f"Interview practice {n}")
    script = Script(app, make_token(member))
    first = script.get("/resources?per_page=2&q=interview")
    assert first.status_code == 200 and first.get_json()["total"] == 3
    links = dict(
        (rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["Link"])
    )
    assert set(links) == {"first", "next", "last"} and "page=2" in links["next"]
    assert "q=interview" in links["next"]
    second = script.client.get(links["next"], headers={"Authorization": f"Bearer {script.token}"})
    assert len(second.get_json()["items"]) == 1 and 'rel="prev"' in second.headers["Link"]
    etag = first.headers["ETag"]
    again = script.get("/resources?per_page=2&q=interview", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag


def test_give_to_get_through_the_api(make_app):
    app = make_app(STARTER_DOWNLOADS=1)
    giver, newcomer = Visitor(app.test_client()), Visitor(app.test_client())
    giver.register(name="Dale Briers")
    newcomer.register(name="Sam Newcomer")
    first, second = share_txt(giver, "Gift one"), share_txt(giver, "Gift two")
    kept = share_txt(giver, "Gift kept", access="sharers")
    script = Script(app, make_token(newcomer))
    url = script.get(f"/resources/{first}").get_json()["files"][0]["download_url"]
    path = url.split("/api/v1", 1)[1]
    asked = script.get(path)
    assert asked.status_code == 409 and problem_type(asked) == "starter-download"
    taken = script.post(path)
    assert taken.status_code == 200 and b"Gift one" in taken.data
    assert "Dale Briers" in taken.headers["Content-Disposition"]
    again = script.get(path)  # taken before: free, and no confirmation needed
    assert again.status_code == 200
    assert script.get(f"/resources/{first}").get_json()["downloads"] == 1
    for refused_id in (second, kept):
        detail = script.get(f"/resources/{refused_id}").get_json()
        refused = script.post(detail["files"][0]["download_url"].split("/api/v1", 1)[1])
        assert refused.status_code == 403 and problem_type(refused) == "download-refused"
        assert refused.get_json()["step"]["url"] == "/resources/new"
        assert detail["download"]["allowed"] is False


def test_a_share_through_the_api_is_found_by_search(app, member):
    script = Script(app, make_token(member))
    words = "Reflective journaling prompts for career changers in their fifties."
    data = {**SHARE_DEFAULTS, "title": "Journaling for changers", "tags": "reflection"}
    data["files"] = [(io.BytesIO(docx_bytes(words)), "journal.docx")]
    shared = script.post("/resources", data=data, content_type="multipart/form-data")
    assert shared.status_code == 201, shared.get_data(as_text=True)
    body = shared.get_json()
    assert body["status"] == "published" and shared.headers["Location"].endswith(str(body["id"]))
    found = script.get("/resources?q=fifties").get_json()
    assert [item["id"] for item in found["items"]] == [body["id"]]
    assert found["items"][0]["snippet"]["source"] == "journal.docx"
    assert found["facets"]["tags"] == [{"value": "reflection", "count": 1}]
    unconfirmed = {**data, "no_client_data": ""}
    unconfirmed["files"] = [(io.BytesIO(docx_bytes(words)), "journal.docx")]
    refused = script.post("/resources", data=unconfirmed, content_type="multipart/form-data")
    assert refused.status_code == 422 and "no_client_data" in refused.get_json()["errors"]


def test_the_api_and_the_pages_agree_on_every_count(app, new_visitor):
    giver, taker = new_visitor(), new_visitor()
    giver.register(name="Dale Briers")
    taker.register(name="Sam Taker")
    share_txt(taker, "My own")  # a sharer: takes freely
    resource_id = share_txt(giver, "Counted gift")
    script = Script(app, make_token(taker))
    path = script.get(f"/resources/{resource_id}").get_json()["files"][0]["download_url"]
    for _ in range(2):
        assert script.get(path.split("/api/v1", 1)[1]).status_code == 200
    thanked = script.post(f"/resources/{resource_id}/thanks", json={"note": "Used it twice."})
    assert thanked.status_code == 200, thanked.get_data(as_text=True)
    api = script.get(f"/resources/{resource_id}").get_json()
    page = giver.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    shown = re.search(r"data-download-count>(\d+)<", page).group(1)
    assert api["downloads"] == int(shown) == 1 and api["thanks"] == 1
    listed = script.get("/resources?q=counted").get_json()["items"][0]
    assert (listed["downloads"], listed["thanks"]) == (1, 1)
    profile = script.get(f"/members/{member_id(app, giver)}").get_json()
    member_page = taker.client.get(f"/members/{member_id(app, giver)}").get_data(as_text=True)
    assert profile["downloads"] == 1 and profile["thanks"] == 1
    assert re.search(r">\s*1\s*</strong>\s*download", member_page) or "1 download" in member_page


def test_requests_list_and_ask(app, member):
    script = Script(app, make_token(member))
    body = "For young people leaving care who are choosing their first course next year."
    asked = script.post("/requests", json={"title": "A values card sort", "body": body})
    assert asked.status_code == 201, asked.get_data(as_text=True)
    board = script.get("/requests").get_json()
    assert [item["title"] for item in board["items"]] == ["A values card sort"]
    vague = script.post("/requests", json={"title": "Anything", "body": "pls share"})
    assert vague.status_code == 422 and problem_type(vague) == "invalid"


def test_rate_limits_say_when_to_come_back(make_app):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute")
    member = Visitor(app.test_client())
    member.register()
    script = Script(app, make_token(member))
    first = script.get("/resources")
    assert first.headers["RateLimit-Limit"] == "2" and first.headers["RateLimit-Remaining"] == "1"
    script.get("/resources")
    refused = script.get("/resources")
    assert refused.status_code == 429 and problem_type(refused) == "rate-limited"
    assert int(refused.headers["Retry-After"]) > 0
    assert int(refused.headers["RateLimit-Reset"]) > 0


def test_the_document_and_its_docs_are_served_from_here(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    problem = document["components"]["responses"]["NOT_FOUND"]["content"]
    assert list(problem) == ["application/problem+json"]
    page = client.get("/api/docs")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script>" not in text and "https://" not in text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for asset in re.findall(r'(?:src|href)="(/api/docs/assets/[^"]+|/static/api-docs.js)"', text):
        assert client.get(asset).status_code == 200
    assert client.get("/api/docs/assets/index.html").status_code == 404


def test_the_callers_own_toolkit_notifications_answers_and_deletes(app, new_visitor):
    asker, giver = new_visitor(), new_visitor()
    asker.register(name="Sam Asker")
    giver.register(name="Dale Briers")
    asking, giving = Script(app, make_token(asker)), Script(app, make_token(giver))
    body = "For adults returning to work after caring, who want to name their strengths."
    request_id = asking.post("/requests", json={"title": "Strengths cards", "body": body})
    request_id = request_id.get_json()["id"]
    gift = share_txt(giver, "Strengths cards for returners")
    answered = giving.post(f"/requests/{request_id}/answers", json={"resource_id": gift})
    assert answered.status_code == 201, answered.get_data(as_text=True)
    again = giving.post(f"/requests/{request_id}/answers", json={"resource_id": gift})
    assert again.status_code == 409 and problem_type(again) == "conflict"
    shown = asking.get(f"/requests/{request_id}").get_json()
    assert [a["resource_id"] for a in shown["answered_with"]] == [gift]
    me = asking.get("/me").get_json()
    assert me["name"] == "Sam Asker" and me["unread_notifications"] >= 1
    assert asking.get("/me/notifications").get_json()["unread"] == me["unread_notifications"]
    assert asking.call("PUT", f"/me/toolkit/{gift}").status_code == 204
    assert asking.call("PUT", f"/me/toolkit/{gift}").status_code == 204  # saving twice
    assert [r["id"] for r in asking.get("/me/toolkit").get_json()["items"]] == [gift]
    refused = asking.call("DELETE", f"/resources/{gift}")
    assert refused.status_code == 403 and problem_type(refused) == "forbidden"
    assert asking.call("DELETE", f"/me/toolkit/{gift}").status_code == 204
    assert asking.get("/me/toolkit").get_json()["items"] == []
    assert giving.call("DELETE", f"/resources/{gift}").status_code == 204
    assert giving.get(f"/resources/{gift}").status_code == 404


def test_edit_fulfil_decline_ask_directly_and_answer_with_a_new_share(app, new_visitor):
    asker, giver = new_visitor(), new_visitor()
    asker.register(name="Sam Asker")
    giver.register(name="Dale Briers")
    asking, giving = Script(app, make_token(asker)), Script(app, make_token(giver))
    gift = share_txt(giver, "Budget planner")
    edited = giving.call("PATCH", f"/resources/{gift}", data={"title": "Budget planner v2"})
    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.get_json()["title"] == "Budget planner v2"
    assert edited.get_json()["licence"] == SHARE_DEFAULTS["licence"]  # left out: kept
    emptied = giving.call("PATCH", f"/resources/{gift}", data={"title": ""})
    assert emptied.status_code == 422 and "title" in emptied.get_json()["errors"]
    note = "Your budget planner helped my returners last year; could I have the new one?"
    direct = asking.post(
        f"/members/{member_id(app, giver)}/requests", json={"title": "Budget", "note": note}
    )
    assert direct.status_code == 201, direct.get_data(as_text=True)
    declined = giving.post(f"/requests/{direct.get_json()['id']}/decline", json={"reply": "Soon"})
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    body = "For young people choosing between college and an apprenticeship this spring."
    board = asking.post("/requests", json={"title": "Choices grid", "body": body}).get_json()
    data = {**SHARE_DEFAULTS, "title": "Choices grid", "answers": str(board["id"])}
    data["files"] = [(io.BytesIO(b"College or apprenticeship: weigh each."), "grid.txt")]
    shared = giving.post("/resources", data=data, content_type="multipart/form-data")
    assert shared.status_code == 201, shared.get_data(as_text=True)
    answers = asking.get(f"/requests/{board['id']}").get_json()["answered_with"]
    assert [a["resource_id"] for a in answers] == [shared.get_json()["id"]]
    fulfilled = asking.post(f"/requests/{board['id']}/fulfil", json={"answer_id": answers[0]["id"]})
    assert fulfilled.status_code == 200 and fulfilled.get_json()["status"] == "fulfilled"
    again = asking.post(f"/requests/{board['id']}/fulfil", json={})
    assert again.status_code == 409 and problem_type(again) == "conflict"
    assert giving.post("/me/notifications/read").get_json()["marked"] >= 1
    assert giving.get("/me").get_json()["unread_notifications"] == 0


def test_an_api_download_is_the_pages_credited_file_on_either_store(store_app):
    giver, taker = Visitor(store_app.test_client()), Visitor(store_app.test_client())
    giver.register(name="Dale Briers")
    taker.register(name="Sam Taker")
    share_txt(taker, "My own")  # a sharer: takes freely
    gift = share_txt(giver, "Store check", text="Ask each client for three strengths.")
    script = Script(store_app, make_token(taker))
    file = script.get(f"/resources/{gift}").get_json()["files"][0]
    response = script.get(file["download_url"].split("/api/v1", 1)[1])
    page = taker.client.get(f"/resources/{gift}/files/{file['id']}")
    assert response.status_code == page.status_code
    if response.status_code == 302:  # S3: the same presigned, credited object
        location = response.headers["Location"]
        assert "X-Amz-Signature=" in location and "response-content-disposition" in location
        assert location.split("?")[0] == page.headers["Location"].split("?")[0]
        with urllib.request.urlopen(location, timeout=10) as remote:  # nosec B310: loopback
            body = remote.read()
    else:
        assert response.headers["Content-Disposition"] == page.headers["Content-Disposition"]
        body = response.data
    assert b"three strengths" in body and body == _fetched(page)
    assert script.get(f"/resources/{gift}").get_json()["downloads"] == 1


def _fetched(response) -> bytes:
    if response.status_code != 302:
        return response.data
    with urllib.request.urlopen(response.headers["Location"], timeout=10) as remote:  # nosec
        return remote.read()
