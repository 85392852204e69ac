"""Reports, the admin queue, hiding and suspending; and the client-privacy warning."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from exchange.extensions import db
from exchange.models import IndexChange, ModerationAction, Report

from .fixtures.exchange import (
    file_urls,
    make_admin,
    member_id,
    notifications_for,
    page,
    share_txt,
    status_of,
    take,
)
from .fixtures.members import Visitor

PERSONAL = (
    "Client intake notes. Name: Jo Bloggs. Email: jo.bloggs@outlook.com. "
    "Mobile: 07700 900123. Goals: retrain as a florist."
)


def registered(app, name: str) -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.register(name=name)
    return visitor


@pytest.fixture
def cast(app) -> dict[str, Visitor]:
    """A giver, a reporter and an admin."""
    people = {
        role: registered(app, name)
        for role, name in [
            ("giver", "Sly Spammer"),
            ("reporter", "Ana Reporter"),
            ("admin", "Ada Admin"),
        ]
    }
    make_admin(app, people["admin"])
    return people


def report_resource(visitor: Visitor, resource_id: int, reason: str = "spam", note: str = ""):
    return visitor.client.post(
        f"/resources/{resource_id}/report", data={"reason": reason, "note": note}
    )


def found_by_search(visitor: Visitor, word: str, title: str) -> bool:
    return title in page(visitor, f"/search?q={word}")


def reports(app) -> list[Report]:
    with app.app_context():
        items = list(db.session.scalars(select(Report).order_by(Report.id)))
        for item in items:
            db.session.expunge(item)
        return items


# -- reporting ---------------------------------------------------------------------------


def test_a_member_reports_a_resource_and_the_admins_hear_of_it(app, cast):
    resource_id = share_txt(cast["giver"], "Buy cheap followers")
    form = page(cast["reporter"], f"/resources/{resource_id}/report")
    for reason in ("Spam", "Not a career resource", "Contains client data", "Copyright"):
        assert reason in form
    response = report_resource(cast["reporter"], resource_id, "spam", "Advert, not a tool.")
    assert response.status_code == 302
    [item] = reports(app)
    assert (item.reason, item.note, item.status) == ("spam", "Advert, not a tool.", "open")
    [notice] = notifications_for(app, cast["admin"])
    assert notice.message == "New report (spam) about resource “Buy cheap followers”."
    queue = html.unescape(page(cast["admin"], "/admin/reports"))
    assert "Buy cheap followers" in queue and "Advert, not a tool." in queue


def test_reporting_the_same_thing_twice_updates_the_open_report(app, cast):
    resource_id = share_txt(cast["giver"], "Buy cheap followers")
    report_resource(cast["reporter"], resource_id, "spam")
    report_resource(cast["reporter"], resource_id, "copyright", "Copied from a textbook.")
    [item] = reports(app)
    assert item.reason == "copyright"
    assert len(notifications_for(app, cast["admin"])) == 1


def test_something_else_needs_a_note_and_the_form_says_so(app, cast):
    resource_id = share_txt(cast["giver"])
    response = report_resource(cast["reporter"], resource_id, "other", "")
    assert response.status_code == 422
    assert "Please say in a few words what’s wrong." in html.unescape(
        response.get_data(as_text=True)
    )
    assert reports(app) == []


def test_a_member_can_be_reported_but_not_yourself(app, cast):
    spammer = member_id(app, cast["giver"])
    response = cast["reporter"].client.post(
        f"/members/{spammer}/report", data={"reason": "spam", "note": "Sends ads."}
    )
    assert response.status_code == 302
    me = member_id(app, cast["reporter"])
    response = cast["reporter"].client.post(f"/members/{me}/report", data={"reason": "spam"})
    assert response.status_code == 422
    assert len(reports(app)) == 1


def test_only_admins_see_the_queue_and_others_are_told_why(app, cast):
    response = cast["reporter"].client.get("/admin/reports")
    assert response.status_code == 403
    assert "Only administrators can see the reports queue." in response.get_data(as_text=True)
    response = Visitor(app.test_client()).client.get("/admin/reports")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert 'href="/admin/reports"' in page(cast["admin"], "/")
    assert 'href="/admin/reports"' not in page(cast["reporter"], "/")


# -- hiding resources ----------------------------------------------------------------------


def test_hiding_a_resource_takes_it_off_pages_search_and_downloads(app, cast):
    giver, reporter, admin = cast["giver"], cast["reporter"], cast["admin"]
    resource_id = share_txt(giver, "Followers booster", text="Buy followers marmalade now.")
    reporter.client.post(f"/resources/{resource_id}/save")
    url = file_urls(app, resource_id)[0]
    assert found_by_search(reporter, "marmalade", "Followers booster")
    report_resource(reporter, resource_id, "spam")
    response = admin.client.post(
        f"/admin/resources/{resource_id}/hide", data={"note": "Advertising, not a tool."}
    )
    assert response.status_code == 302
    assert status_of(app, resource_id) == "hidden"
    assert reporter.client.get(f"/resources/{resource_id}").status_code == 404
    assert reporter.client.get(url).status_code == 404
    assert "Followers booster" not in page(reporter, "/resources")
    assert "Followers booster" not in page(reporter, "/toolkit")
    assert not found_by_search(reporter, "marmalade", "Followers booster")
    owner_view = page(giver, f"/resources/{resource_id}")
    assert "Hidden — only you can see it" in owner_view
    [hidden] = [n for n in notifications_for(app, giver) if n.kind == "moderation"]
    assert hidden.message.endswith("Advertising, not a tool.")
    [handled] = notifications_for(app, reporter)
    assert "taken action" in handled.message
    assert reports(app)[0].status == "actioned"


def test_a_hide_whose_commit_fails_leaves_the_resource_visible_and_search_unchanged(app, cast):
    giver, reporter, admin = cast["giver"], cast["reporter"], cast["admin"]
    resource_id = share_txt(giver, "Mood tracker", text="A weekly mood tracker with damsons.")
    report_resource(reporter, resource_id, "spam")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        logged = IndexChange.head()

    def fail(session):
        raise OperationalError("COMMIT", {}, Exception("database went away"))

    hide = f"/admin/resources/{resource_id}/hide"
    with app.app_context():
        event.listen(db.session, "before_commit", fail)
        try:
            response = admin.client.post(hide, data={"note": "Advertising."})
        finally:
            event.remove(db.session, "before_commit", fail)
    assert response.status_code == 500
    assert status_of(app, resource_id) == "published"
    assert reporter.client.get(f"/resources/{resource_id}").status_code == 200
    assert found_by_search(reporter, "damsons", "Mood tracker")
    with app.app_context():
        assert IndexChange.head() == logged, "nothing for search to apply"
        assert db.session.scalars(select(ModerationAction)).all() == []
    assert reports(app)[0].status == "open"
    assert not [n for n in notifications_for(app, giver) if n.kind == "moderation"]
    assert admin.client.post(hide, data={"note": "Advertising."}).status_code == 302
    assert not found_by_search(reporter, "damsons", "Mood tracker")


def test_a_hidden_resource_is_restored_to_search(app, cast):
    giver, admin, reporter = cast["giver"], cast["admin"], cast["reporter"]
    resource_id = share_txt(giver, "Budget planner", text="A budget planner with quince.")
    admin.client.post(f"/admin/resources/{resource_id}/hide", data={"note": "Checking."})
    assert not found_by_search(reporter, "quince", "Budget planner")
    queue = page(admin, "/admin/reports")
    assert "Budget planner" in queue and "Restore this resource" in queue
    admin.client.post(f"/admin/resources/{resource_id}/restore", data={"note": "It was fine."})
    assert status_of(app, resource_id) == "published"
    assert found_by_search(reporter, "quince", "Budget planner")
    with app.app_context():
        actions = [a.action for a in db.session.scalars(select(ModerationAction))]
        assert actions == ["hide", "restore"]
        # Both changes went through the change log the search replicas follow.
        assert db.session.scalar(select(IndexChange.id).order_by(IndexChange.id.desc())) >= 3


def test_every_decision_needs_a_note_kept_for_editing(app, cast):
    resource_id = share_txt(cast["giver"], "Budget planner")
    report_resource(cast["reporter"], resource_id)
    response = cast["admin"].client.post(
        f"/admin/resources/{resource_id}/hide", data={"note": "", "form_id": "r1-hide"}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="note-r1-hide-error"' in text and "Please add a note for the record." in text
    assert status_of(app, resource_id) == "published"


def test_dismissing_a_report_thanks_the_reporter_and_changes_nothing(app, cast):
    resource_id = share_txt(cast["giver"], "Budget planner")
    report_resource(cast["reporter"], resource_id, "copyright", "Looks copied.")
    [item] = reports(app)
    cast["admin"].client.post(f"/admin/reports/{item.id}/dismiss", data={"note": "Original."})
    assert reports(app)[0].status == "dismissed"
    assert status_of(app, resource_id) == "published"
    [notice] = notifications_for(app, cast["reporter"])
    assert "decided to leave it as it is" in notice.message


# -- suspending members --------------------------------------------------------------------


def test_a_suspended_member_is_signed_out_cannot_log_in_and_their_resources_hide(app, cast):
    giver, reporter, admin = cast["giver"], cast["reporter"], cast["admin"]
    kept = share_txt(giver, "Spam sheet one", text="Spam sheet with tamarind.")
    share_txt(giver, "Spam sheet two")
    giver_id = member_id(app, giver)
    reporter.client.post(f"/members/{giver_id}/report", data={"reason": "spam"})
    response = admin.client.post(f"/admin/members/{giver_id}/suspend", data={"note": "Spam."})
    assert response.status_code == 302
    assert giver.client.get("/account").status_code == 302  # the old session no longer works
    giver.logout()
    giver.login()
    assert giver.client.get("/account").status_code == 302
    assert status_of(app, kept) == "suspended"
    assert reporter.client.get(f"/resources/{kept}").status_code == 404
    assert not found_by_search(reporter, "tamarind", "Spam sheet one")
    assert "Spam sheet" not in page(reporter, "/resources")
    assert "Ask Sly Spammer" not in page(reporter, f"/members/{giver_id}")
    assert "Sly Spammer" in page(admin, "/admin/reports")


def test_reinstating_brings_back_what_the_suspension_hid_but_not_what_an_admin_hid(app, cast):
    giver, reporter, admin = cast["giver"], cast["reporter"], cast["admin"]
    fine = share_txt(giver, "Fine sheet", text="A fine sheet about persimmon.")
    bad = share_txt(giver, "Bad sheet")
    admin.client.post(f"/admin/resources/{bad}/hide", data={"note": "Copied."})
    giver_id = member_id(app, giver)
    admin.client.post(f"/admin/members/{giver_id}/suspend", data={"note": "Spam."})
    admin.client.post(f"/admin/members/{giver_id}/reinstate", data={"note": "Appealed."})
    assert status_of(app, fine) == "published"
    assert status_of(app, bad) == "hidden"
    assert found_by_search(reporter, "persimmon", "Fine sheet")
    giver.login()
    assert giver.client.get("/account").status_code == 200


def test_suspended_members_requests_and_thanks_leave_the_board(app, cast):
    giver, reporter, admin = cast["giver"], cast["reporter"], cast["admin"]
    resource_id = share_txt(reporter, "Ana’s planner")
    take(app, giver, resource_id)
    giver.client.post(f"/resources/{resource_id}/thanks", data={"note": "Buy my course now!"})
    body = "Everything you have on budgeting for my returners’ group, please."
    posted = giver.client.post("/requests/new", data={"title": "Send me everything", "body": body})
    assert posted.status_code == 302
    assert "Send me everything" in page(reporter, "/requests")
    admin.client.post(f"/admin/members/{member_id(app, giver)}/suspend", data={"note": "Spam."})
    assert "Send me everything" not in page(reporter, "/requests")
    assert "Buy my course now!" not in page(reporter, f"/resources/{resource_id}")


def test_admins_cannot_be_suspended_from_the_queue(app, cast):
    admin = cast["admin"]
    response = admin.client.post(
        f"/admin/members/{member_id(app, admin)}/suspend", data={"note": "Oops."}
    )
    assert response.status_code == 302
    assert "Administrators can’t be suspended here." in html.unescape(page(admin, "/admin/reports"))
    assert admin.client.get("/account").status_code == 200


# -- the client-privacy check ----------------------------------------------------------------


def test_a_file_with_an_email_and_phone_number_waits_for_review_then_publishes(app, cast):
    giver, reporter = cast["giver"], cast["reporter"]
    response = giver.share(files=[("intake.txt", PERSONAL.encode())], title="Intake notes")
    assert response.status_code == 302 and response.headers["Location"].endswith("/review")
    review = html.unescape(page(giver, response.headers["Location"]))
    assert "looks like it could be a client’s personal details" in review
    assert "email" in review and "phone" in review
    resource_id = int(response.headers["Location"].split("/")[2])
    assert status_of(app, resource_id) == "draft"
    assert reporter.client.get(f"/resources/{resource_id}").status_code == 404
    assert not found_by_search(reporter, "florist", "Intake notes")
    giver.client.post(response.headers["Location"])
    assert status_of(app, resource_id) == "published"
    assert found_by_search(reporter, "florist", "Intake notes")
