"""The open API's second part, through a member's script: collections and workshop kits,
follows and What's new, reports, file versions, a single notification read, the privacy
review of a draft and a resource's reading, finding kits, and a member's impact."""

from __future__ import annotations

import io
import zipfile

from exchange.extensions import db
from exchange.models import Resource

from .fixtures.api import Script, make_token, problem_type
from .fixtures.exchange import (
    make_admin,
    member_id,
    page,
    people,
    set_profile,
    share_txt,
    status_of,
    take,
)
from .fixtures.members import SHARE_DEFAULTS, Visitor


def test_a_kit_is_made_ordered_noted_copied_and_planned_through_the_api(app, new_visitor):
    owner, colleague = new_visitor(), new_visitor()
    owner.register(name="Dale Briers")
    colleague.register(name="Sam Colleague")
    first, second = share_txt(owner, "Warm-up cards"), share_txt(owner, "Values sort")
    mine, theirs = Script(app, make_token(owner)), Script(app, make_token(colleague))
    made = mine.post("/collections", json={"title": "Job club", "is_kit": True, "tags": ["groups"]})
    assert made.status_code == 201, made.get_data(as_text=True)
    kit = made.get_json()
    assert made.headers["Location"].endswith(f"/collections/{kit['id']}") and not kit["public"]
    for resource_id in (first, second):
        added = mine.post(f"/collections/{kit['id']}/items", json={"resource_id": resource_id})
        assert added.status_code == 201
    again = mine.post(f"/collections/{kit['id']}/items", json={"resource_id": first})
    assert again.status_code == 200
    items = again.get_json()["running_order"]
    noted = mine.call(
        "PUT", f"/collections/{kit['id']}/items/{items[0]['id']}/note", json={"minutes": 15}
    )
    assert noted.get_json()["total_minutes"] == 15
    moved = mine.post(
        f"/collections/{kit['id']}/items/{items[1]['id']}/move", json={"direction": "up"}
    )
    order = moved.get_json()["running_order"]
    assert [i["resource_id"] for i in order] == [second, first] and order[1]["starts_at"] == 0
    assert "Dale Briers" in order[0]["credit_line"]
    assert theirs.get(f"/collections/{kit['id']}").status_code == 404  # private: unseen
    bad = mine.call("PATCH", f"/collections/{kit['id']}", json={"title": ""})
    assert bad.status_code == 422 and problem_type(bad) == "invalid"
    shared = mine.call("PATCH", f"/collections/{kit['id']}", json={"public": True})
    assert shared.get_json()["public"] and shared.get_json()["title"] == "Job club"
    assert shared.get_json()["is_kit"] and shared.get_json()["tags"] == ["groups"]
    in_resource = theirs.get(f"/resources/{first}").get_json()["kits_using"]
    assert [k["id"] for k in in_resource] == [kit["id"]]
    changed = theirs.call("PATCH", f"/collections/{kit['id']}", json={"title": "Mine now"})
    assert changed.status_code == 403 and problem_type(changed) == "forbidden"
    copy = theirs.post(f"/collections/{kit['id']}/copy")
    assert copy.status_code == 201 and copy.get_json()["based_on"] == kit["id"]
    assert [c["title"] for c in theirs.get("/me/collections").get_json()["items"]] == ["Job club"]
    plan = theirs.get(f"/collections/{kit['id']}/plan").get_json()
    assert plan["included"] == 2 and plan["starter_downloads_spent"] == 2
    removed = mine.call("DELETE", f"/collections/{kit['id']}/items/{items[0]['id']}")
    assert removed.status_code == 204
    assert mine.call("DELETE", f"/collections/{kit['id']}").status_code == 204
    assert theirs.get(f"/collections/{kit['id']}").status_code == 404


def test_a_kit_download_keeps_give_to_get_item_by_item(make_app):
    app = make_app(STARTER_DOWNLOADS=1)
    giver, newcomer = Visitor(app.test_client()), Visitor(app.test_client())
    giver.register(name="Dale Briers")
    newcomer.register(name="Sam Newcomer")
    open_gift = share_txt(giver, "Open gift")
    kept = share_txt(giver, "Kept gift", access="sharers")
    owner = Script(app, make_token(giver))
    kit = owner.post("/collections", json={"title": "Starter kit", "public": True}).get_json()
    for resource_id in (open_gift, kept):
        owner.post(f"/collections/{kit['id']}/items", json={"resource_id": resource_id})
    script = Script(app, make_token(newcomer))
    plan = script.get(f"/collections/{kit['id']}/plan").get_json()
    assert [(i["resource_id"], i["included"]) for i in plan["items"]] == [
        (open_gift, True),
        (kept, False),
    ]
    assert plan["items"][1]["reason"] and plan["starter_downloads_spent"] == 1
    path = plan["download_url"].split("/api/v1", 1)[1]
    asked = script.get(path)
    assert asked.status_code == 409 and problem_type(asked) == "starter-download"
    taken = script.post(path)
    assert taken.status_code == 200 and taken.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(taken.data)).namelist()
    assert len(names) == 2 and names[0].startswith("00 - Running order")  # sheet + open gift
    assert script.get(f"/resources/{open_gift}").get_json()["downloads"] == 1
    emptied = Script(app, make_token(giver))
    emptied.call("DELETE", f"/collections/{kit['id']}/items/{_item(emptied, kit, open_gift)}")
    refused = script.post(path)
    assert refused.status_code == 403 and problem_type(refused) == "download-refused"


def _item(script: Script, kit: dict, resource_id: int) -> int:
    order = script.get(f"/collections/{kit['id']}").get_json()["running_order"]
    return next(i["id"] for i in order if i["resource_id"] == resource_id)


def test_follows_whats_new_and_reports(app, new_visitor):
    follower, giver = new_visitor(), new_visitor()
    follower.register(name="Sam Follower")
    giver.register(name="Dale Briers")
    script = Script(app, make_token(follower))
    giver_id = member_id(app, giver)
    assert script.call("PUT", f"/me/following/members/{giver_id}").status_code == 204
    myself = script.call("PUT", f"/me/following/members/{member_id(app, follower)}")
    assert myself.status_code == 409 and problem_type(myself) == "conflict"
    unknown = script.call("PUT", "/me/following/topics?tag=nobody-shared-this")
    assert unknown.status_code == 409
    gift = share_txt(giver, "Networking map", tags="networking")
    assert script.call("PUT", "/me/following/topics?tag=networking").status_code == 204
    kit = Script(app, make_token(giver)).post(
        "/collections", json={"title": "Networking kit", "public": True}
    )
    assert script.call("PUT", f"/me/following/kits/{kit.get_json()['id']}").status_code == 204
    follows = script.get("/me/following").get_json()
    assert [m["id"] for m in follows["members"]] == [giver_id]
    assert follows["topics"] == ["networking"] and len(follows["kits"]) == 1
    news = script.get("/me/news").get_json()
    assert [e["resource"]["id"] for e in news["items"]] == [gift]
    assert len(news["items"][0]["reasons"]) == 2 and news["total"] == 1
    assert script.call("DELETE", "/me/following/topics?tag=networking").status_code == 204
    assert script.call("DELETE", f"/me/following/members/{giver_id}").status_code == 204
    assert script.get("/me/news").get_json()["items"] == []
    vague = script.post(f"/resources/{gift}/reports", json={"reason": "other"})
    assert vague.status_code == 422 and "note" in vague.get_json()["errors"]
    reported = script.post(f"/resources/{gift}/reports", json={"reason": "spam"})
    assert reported.status_code == 201 and reported.get_json()["status"] == "open"
    member_report = script.post(f"/members/{giver_id}/reports", json={"reason": "spam"})
    assert member_report.status_code == 201
    own = Script(app, make_token(giver)).post(f"/resources/{gift}/reports", json={"reason": "spam"})
    assert own.status_code == 422


def test_versions_are_listed_replaced_through_patch_and_fetched_by_their_rules(app, new_visitor):
    giver, taker, stranger = new_visitor(), new_visitor(), new_visitor()
    giver.register(name="Dale Briers")
    taker.register(name="Sam Taker")
    stranger.register(name="Alex Stranger")
    for sharer in (taker, stranger):
        share_txt(sharer, "Own share")  # sharers take freely
    gift = share_txt(giver, "Strengths sheet", "First version", credit_placement="properties")
    giving, taking = Script(app, make_token(giver)), Script(app, make_token(taker))
    file = taking.get(f"/resources/{gift}").get_json()["files"][0]
    assert [v["number"] for v in file["versions"]] == [1] and file["versions"][0]["fetchable"]
    assert taking.get(file["download_url"].split("/api/v1", 1)[1]).status_code == 200
    replace = {
        f"replace_{file['id']}": (io.BytesIO(b"Second version"), "sheet.txt"),
        f"note_{file['id']}": "a second page",
        "no_client_data": "y",
    }
    edited = giving.call(
        "PATCH", f"/resources/{gift}", data=replace, content_type="multipart/form-data"
    )
    assert edited.status_code == 200, edited.get_data(as_text=True)
    versions = edited.get_json()["files"][0]["versions"]
    assert [(v["number"], v["note"]) for v in versions] == [(2, "a second page"), (1, "")]
    taken = taking.get(f"/resources/{gift}").get_json()["files"][0]
    assert taken["updated_since_taken"] and taken["versions"][1]["fetchable"]
    earlier = taking.get(taken["versions"][1]["download_url"].split("/api/v1", 1)[1])
    assert earlier.status_code == 200 and earlier.data == b"First version"
    strangers = Script(app, make_token(stranger))
    unseen = strangers.get(f"/resources/{gift}").get_json()["files"][0]["versions"][1]
    assert unseen["fetchable"] is False and unseen["download_url"] is None
    refused = strangers.get(f"/resources/{gift}/files/{file['id']}/versions/1")
    assert refused.status_code == 403 and problem_type(refused) == "download-refused"
    assert strangers.get(f"/resources/{gift}/files/{file['id']}/versions/9").status_code == 404
    unconfirmed = {**replace, "no_client_data": ""}
    unconfirmed[f"replace_{file['id']}"] = (io.BytesIO(b"Third"), "sheet.txt")
    checked = giving.call(
        "PATCH", f"/resources/{gift}", data=unconfirmed, content_type="multipart/form-data"
    )
    assert checked.status_code == 422 and "no_client_data" in checked.get_json()["errors"]
    assert SHARE_DEFAULTS["licence"] == giving.get(f"/resources/{gift}").get_json()["licence"]


def test_one_notification_is_marked_read(app, new_visitor):
    asker, giver = new_visitor(), new_visitor()
    asker.register()
    giver.register()
    body = "For adults returning to work after caring, who want to name their strengths."
    asking, giving = Script(app, make_token(asker)), Script(app, make_token(giver))
    request_id = asking.post("/requests", json={"title": "Strengths", "body": body}).get_json()
    for title in ("Strengths one", "Strengths two"):
        gift = share_txt(giver, title)
        giving.post(f"/requests/{request_id['id']}/answers", json={"resource_id": gift})
    items = asking.get("/me/notifications").get_json()["items"]
    assert len(items) >= 2
    marked = asking.post(f"/me/notifications/{items[0]['id']}/read")
    assert marked.get_json()["marked"] == 1
    assert asking.post(f"/me/notifications/{items[0]['id']}/read").get_json()["marked"] == 0
    after = asking.get("/me/notifications").get_json()
    assert after["items"][0]["read"] and not after["items"][1]["read"]
    assert giving.post(f"/me/notifications/{items[1]['id']}/read").status_code == 404


PERSONAL = "Client: Jo Bloggs, jo.bloggs@outlook.com, phone 020 7946 0958. Goals: retrain."


def test_a_held_draft_is_reviewed_and_published_and_reading_is_shown_to_its_giver(app):
    giver, other = people(app, "Dale Briers", "Olu Other")
    draft = share_txt(giver, "Intake notes", PERSONAL)
    assert status_of(app, draft) == Resource.DRAFT
    mine, theirs = Script(app, make_token(giver)), Script(app, make_token(other))
    review = mine.get(f"/resources/{draft}/review")
    assert review.status_code == 200, review.get_data(as_text=True)
    [file] = review.get_json()["files"]
    assert {"email", "phone"} <= {finding["kind"] for finding in file["findings"]}
    assert theirs.get(f"/resources/{draft}/review").status_code == 404
    reading_only = Script(app, make_token(giver, write=False, name="Reader"))
    confirmed = {"no_client_data": True}
    refused = reading_only.post(f"/resources/{draft}/publish", json=confirmed)
    assert problem_type(refused) == "insufficient-scope"
    unconfirmed = mine.post(f"/resources/{draft}/publish", json={"no_client_data": False})
    assert "no_client_data" in unconfirmed.get_json()["errors"]["json"]
    published = mine.post(f"/resources/{draft}/publish", json=confirmed)
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    assert problem_type(mine.post(f"/resources/{draft}/publish", json=confirmed)) == "conflict"
    assert theirs.get(f"/resources/{draft}").get_json()["reading"] is None
    with app.app_context():  # as if its files were still being read
        resource = db.session.get(Resource, draft)
        resource.status, resource.files[0].pending = Resource.PROCESSING, True
        db.session.commit()
    shown = mine.get(f"/resources/{draft}").get_json()
    assert shown["status"] == "processing" and shown["reading"]["done"] == 0
    assert [f["state"] for f in shown["reading"]["files"]] == ["reading"]
    assert theirs.get(f"/resources/{draft}").status_code == 404
    assert problem_type(mine.get(f"/resources/{draft}/review")) == "conflict"


def test_kits_are_found_as_the_search_page_finds_them(app):
    owner, other = people(app, "Dale Briers", "Olu Other")
    making = Script(app, make_token(owner))
    for title, public in (("Interview kit", True), ("Interview draft", False), ("Budget", True)):
        making.post("/collections", json={"title": title, "public": public, "is_kit": True})
    finding = Script(app, make_token(other))
    found = finding.get("/kits?q=interview").get_json()
    assert [k["title"] for k in found["items"]] == ["Interview kit"] and found["total"] == 1
    assert "Interview kit" in page(other, "/search?q=interview")
    own = making.get("/kits?q=interview").get_json()["items"]
    assert [k["title"] for k in own] == ["Interview draft", "Interview kit"]
    second = finding.get("/kits?per_page=1&page=2")
    assert second.get_json()["total"] == 2 and second.get_json()["pages"] == 2
    assert [k["title"] for k in second.get_json()["items"]] == ["Interview kit"]
    assert 'rel="prev"' in second.headers["Link"]
    assert finding.get("/kits?sort=new").status_code == 422


def test_a_members_impact_is_for_them_and_administrators(app):
    giver, taker, admin = people(app, "Dale Briers", "Sam Taker", "Ada Admin")
    make_admin(app, admin)
    set_profile(app, taker, region="Leeds, UK")
    gift = share_txt(giver, "Values sort")
    quiet = share_txt(giver, "Quiet gift", credit_name="")
    for resource_id in (gift, quiet):
        assert take(app, taker, resource_id).status_code == 200
    taking = Script(app, make_token(taker))
    taking.post(f"/resources/{gift}/thanks", json={"note": "Used it with a group of six."})
    giver_id = member_id(app, giver)
    impact = Script(app, make_token(giver)).get(f"/members/{giver_id}/impact").get_json()
    assert (impact["resources_shared"], impact["colleagues_reached"]) == (2, 1)
    assert (impact["downloads"], impact["public_downloads"], impact["thanks"]) == (2, 1, 1)
    assert impact["regions"] == [{"region": "Leeds, UK", "colleagues": 1}]
    assert impact["months"][-1]["downloads"] == 2 and len(impact["months"]) == 12
    assert {g["title"]: g["anonymous"] for g in impact["gifts"]} == {
        "Values sort": False,
        "Quiet gift": True,
    }
    assert impact["thanks_received"][0]["member"]["name"] == "Sam Taker"
    refused = taking.get(f"/members/{giver_id}/impact")
    assert refused.status_code == 403 and problem_type(refused) == "forbidden"
    as_admin = Script(app, make_token(admin)).get(f"/members/{giver_id}/impact")
    assert as_admin.get_json() == impact
