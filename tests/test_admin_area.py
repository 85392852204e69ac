"""The admin area: dashboard, members list, a member's page, the audit log, and who may
open any of it."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from exchange.extensions import db
from exchange.models import Member, OutboxEmail, Report

from .fixtures.exchange import make_admin, member_id, page, set_profile, share_txt, take
from .fixtures.members import Visitor


def registered(app, name: str, email: str = "") -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.register(name=name, email=email or None)
    return visitor


@pytest.fixture
def cast(app) -> dict[str, Visitor]:
    people = {
        "admin": registered(app, "Ada Admin"),
        "giver": registered(app, "Gil Giver", "gil@careers.example"),
        "taker": registered(app, "Tam Taker"),
    }
    make_admin(app, people["admin"])
    set_profile(app, people["giver"], organisation="Northside Careers Service")
    return people


def admin_urls(app, ids: dict[str, int]) -> list[tuple[str, str]]:
    """(method, url) of every route of the admin blueprint, with real ids filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            url = re.sub(r"<int:(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)
            found += [(method, url) for method in sorted(rule.methods & {"GET", "POST"})]
    return found


def test_every_admin_route_is_for_admins_only(app, cast):
    resource_id = share_txt(cast["giver"], "Strengths cards")
    cast["taker"].client.post(
        f"/resources/{resource_id}/report", data={"reason": "spam", "note": ""}
    )
    with app.app_context():
        report_id = db.session.scalar(select(Report.id))
    ids = {"member_id": member_id(app, cast["giver"]), "resource_id": resource_id}
    ids["report_id"] = report_id
    ids["failed_id"] = 1  # no such dead letter: the rule refuses before the route looks
    urls = admin_urls(app, ids)
    assert len(urls) >= 10 and ("GET", "/admin/members") in urls
    stranger = Visitor(app.test_client())
    for method, url in urls:
        as_member = cast["taker"].client.open(url, method=method)
        assert as_member.status_code == 403, (method, url)
        signed_out = stranger.client.open(url, method=method)
        assert signed_out.status_code == 302, (method, url)
        assert "/login" in signed_out.headers["Location"]
    for method, url in urls:
        if method == "GET":
            assert cast["admin"].client.get(url).status_code == 200, url
    assert 'href="/admin/"' in page(cast["admin"], "/")
    assert 'href="/admin/"' not in page(cast["taker"], "/")


def rows_of(text: str, table_id: str) -> list[str]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', text, re.S)
    return re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)[1:] if table else []


def listed(visitor: Visitor, query: str = "", status: int = 200) -> str:
    text = page(visitor, f"/admin/members{query}", status)
    return " ".join(html.unescape(row) for row in rows_of(text, "members"))


def test_the_members_list_searches_and_filters(app, cast):
    admin = cast["admin"]
    assert "Gil Giver" in listed(admin, "?q=northside") and "Tam" not in listed(
        admin, "?q=northside"
    )
    assert "Gil Giver" in listed(admin, "?q=GIL%40careers")
    assert "Tam Taker" in listed(admin, "?q=tam+taker")
    by_role = listed(admin, "?role=admin")
    assert "Ada Admin" in by_role and "Gil Giver" not in by_role
    assert "Ada Admin" not in listed(admin, "?role=member")
    with app.app_context():
        tam = db.session.scalar(select(Member).where(Member.name == "Tam Taker"))
        tam.suspended = True
        tam.created_at = datetime(2026, 1, 15, tzinfo=UTC)
        db.session.commit()
    assert "Tam Taker" in listed(admin, "?status=suspended")
    assert "Tam Taker" not in listed(admin, "?status=active")
    assert listed(admin, "?joined_to=2026-01-15").count("Taker") == 1
    assert "Tam Taker" not in listed(admin, "?joined_from=2026-01-16")
    text = html.unescape(
        page(admin, "/admin/members?joined_from=2026-02-01&joined_to=2026-01-01", 422)
    )
    assert "This date is before “Joined on or after”." in text
    assert 'value="2026-02-01"' in text  # what was typed is shown again
    assert "Not a valid date value" in html.unescape(
        page(admin, "/admin/members?joined_from=soon", 422)
    )


def test_the_members_list_is_paginated(app, cast):
    with app.app_context():
        for number in range(55):
            db.session.add(
                Member(name=f"Bulk {number}", email=f"bulk{number}@x.org", password_hash="")
            )
        db.session.commit()
    first = page(cast["admin"], "/admin/members?q=bulk")
    assert "55 members." in first and "Page 1 of 2" in first
    assert len(rows_of(first, "members")) == 50
    second = page(cast["admin"], "/admin/members?q=bulk&page=2")
    assert len(rows_of(second, "members")) == 5


def test_an_admin_suspends_from_the_members_page_and_the_member_is_told_why(app, cast):
    resource_id = share_txt(cast["giver"], "Interview practice cards")
    cast["taker"].client.post(
        f"/resources/{resource_id}/report", data={"reason": "copyright", "note": "Copied."}
    )
    giver_id = member_id(app, cast["giver"])
    text = html.unescape(page(cast["admin"], f"/admin/members/{giver_id}"))
    assert "Interview practice cards" in text and "Copied." in text
    response = cast["admin"].client.post(f"/admin/members/{giver_id}/suspension", data={"note": ""})
    assert response.status_code == 422
    assert "Please add a note for the record." in html.unescape(response.get_data(as_text=True))
    reason = "Shares copyrighted workbooks."
    response = cast["admin"].client.post(
        f"/admin/members/{giver_id}/suspension", data={"note": reason}
    )
    assert response.status_code == 302
    assert "Suspended" in page(cast["admin"], f"/admin/members/{giver_id}")
    refused = cast["giver"].login()
    assert f"An administrator suspended your account: {reason}" in html.unescape(
        refused.get_data(as_text=True)
    )
    with app.app_context():
        bodies = db.session.scalars(
            select(OutboxEmail.body).where(OutboxEmail.to_address == "gil@careers.example")
        ).all()
    assert sum(reason in body for body in bodies) == 1
    cast["admin"].client.post(f"/admin/members/{giver_id}/suspension", data={"note": "Resolved."})
    assert cast["giver"].login().status_code == 302
    log = html.unescape(page(cast["admin"], "/admin/audit"))
    assert "Suspended member" in log and reason in log and "Reinstated member" in log
    assert "Ada Admin" in log


def test_the_dashboard_counts_as_the_rest_of_the_site(app, cast):
    resource_id = share_txt(cast["giver"], "Values sort")
    take(app, cast["taker"], resource_id)
    take(app, cast["taker"], resource_id)  # a repeat never counts twice
    take(app, cast["giver"], resource_id)  # nor does the giver's own
    text = page(cast["admin"], "/admin/")
    weekly = rows_of(text, "weekly")
    assert len(weekly) == 12
    this_week = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', weekly[-1])]
    assert this_week == [3, 1, 1, 0, 0]  # members, shares, downloads, answered, reports open
    assert "1 downloads" in text
    assert text.count('class="chart"') == 5
    resource_page = page(cast["taker"], f"/resources/{resource_id}")
    assert "<strong data-download-count>1</strong>" in resource_page


def test_the_audit_log_travels_in_the_export(app, cast, tmp_path):
    giver_id = member_id(app, cast["giver"])
    cast["admin"].client.post(f"/admin/members/{giver_id}/suspension", data={"note": "Spam."})
    result = app.test_cli_runner().invoke(args=["export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "out" / "rows" / "moderation_actions.jsonl").read_text().splitlines()
    [entry] = [json.loads(line) for line in lines]
    assert entry["action"] == "suspend" and entry["note"] == "Spam." and entry["via"] == "site"
    assert entry["member_id"] == giver_id and entry["admin_id"] == member_id(app, cast["admin"])
    assert entry["created_at"]


def test_admin_changes_to_others_resources_and_new_admins_are_audited(app, cast):
    resource_id = share_txt(cast["giver"], "Cover letter checklist")
    own = share_txt(cast["admin"], "Admin's own sheet")
    assert cast["admin"].client.post(f"/resources/{resource_id}/delete").status_code == 302
    assert cast["admin"].client.post(f"/resources/{own}/delete").status_code == 302
    result = app.test_cli_runner().invoke(args=["create-admin", "--email", cast["taker"].email])
    assert result.exit_code == 0, result.output
    rows = [html.unescape(r) for r in rows_of(page(cast["admin"], "/admin/audit"), "audit")]
    assert len(rows) == 2  # the admin's own resource is theirs to delete, not an admin action
    assert "The command line" in rows[0] and "Made administrator" in rows[0]
    assert "Deleted resource" in rows[1] and "“Cover letter checklist”" in rows[1]
    assert "Ada Admin" in rows[1]
