"""Who can find a resource: anyone on the web, or signed-in members only.

Visitors who are not signed in see a public catalogue (pages, synopses, credit, search);
a resource its giver keeps to members must be invisible to them everywhere.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from exchange.extensions import db
from exchange.models import Resource

from .fixtures.members import Visitor, docx_bytes

SECRET_WORD = "quillwort"


@pytest.fixture
def giver(app) -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.register(name="Dale Briers")
    return visitor


@pytest.fixture
def reader(app) -> Visitor:
    """A signed-in member who is not the giver."""
    visitor = Visitor(app.test_client())
    visitor.register(name="Robin Ames")
    return visitor


@pytest.fixture
def passer_by(app) -> Visitor:
    """Someone on the web who is not signed in."""
    return Visitor(app.test_client())


def share(giver: Visitor, title: str, visibility: str, tags: str = "wetlands") -> int:
    text = f"{title}: clients map the {SECRET_WORD} of their career."
    return giver.share_id(
        title=title,
        tags=tags,
        kind="worksheet",
        visibility=visibility,
        files=[("sheet.docx", docx_bytes(text))],
    )


@pytest.fixture
def two_resources(giver) -> dict[str, int]:
    return {
        "public": share(giver, "Open quillwort map", "public"),
        "members": share(giver, "Members quillwort map", "members", tags="wetlands, secretive"),
    }


def page(visitor: Visitor, path: str, **args) -> str:
    response = visitor.client.get(path, query_string=args)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def result_titles(html: str) -> list[str]:
    """Result titles, in order (the words searched for unmarked)."""
    found = re.findall(r'<h3 class="card-title"><a href="/resources/\d+">(.*?)</a>', html)
    return [re.sub(r"</?mark>", "", title) for title in found]


def test_the_share_form_offers_who_can_find_it_and_says_what_visitors_see(app, giver):
    form = page(giver, "/resources/new")
    assert "Who can find it" in form
    assert "Anyone on the web" in form and "Signed-in members only" in form
    assert "everyone signed in can find it" not in form
    assert re.search(r'<input[^>]*checked[^>]*value="public"|value="public"[^>]*checked', form)


def test_a_visitor_sees_public_resources_but_no_members_only_one(
    app, two_resources, passer_by, reader
):
    public, members = two_resources["public"], two_resources["members"]
    assert passer_by.client.get(f"/resources/{public}").status_code == 200
    missing = passer_by.client.get(f"/resources/{members}")
    assert missing.status_code == 404
    assert "kept for signed-in members" in missing.get_data(as_text=True)
    assert reader.client.get(f"/resources/{members}").status_code == 200
    assert "Signed-in members only" in page(reader, f"/resources/{members}")


def test_search_hides_members_only_resources_from_visitors_in_results_counts_and_facets(
    app, two_resources, passer_by, reader
):
    seen = page(passer_by, "/search", q=SECRET_WORD)
    assert result_titles(seen) == ["Open quillwort map"]
    assert "1 result" in seen
    assert "secretive" not in seen  # the members-only resource's own tag: no facet
    everything = page(passer_by, "/search")
    assert "Members quillwort map" not in everything
    assert result_titles(page(passer_by, "/search", tag="secretive")) == []

    found = page(reader, "/search", q=SECRET_WORD)
    assert sorted(result_titles(found)) == ["Members quillwort map", "Open quillwort map"]
    assert "2 results" in found
    assert "secretive" in found


def test_a_visitor_never_reaches_a_members_only_resources_files_or_preview(
    app, two_resources, passer_by
):
    with app.app_context():
        file_id = db.session.get(Resource, two_resources["members"]).files[0].id
    base = f"/resources/{two_resources['members']}/files/{file_id}"
    assert passer_by.client.get(base).status_code == 404
    assert passer_by.client.get(f"{base}/preview.png").status_code == 404


def test_home_member_page_and_resource_list_leave_members_only_out_for_visitors(
    app, giver, two_resources, passer_by, reader
):
    with app.app_context():
        owner_id = db.session.get(Resource, two_resources["members"]).owner_id
    for path in ("/", f"/members/{owner_id}", "/resources"):
        assert "Open quillwort map" in page(passer_by, path), path
        assert "Members quillwort map" not in page(passer_by, path), path
        assert "Members quillwort map" in page(reader, path), path


def test_the_request_board_leaves_members_only_answers_out_for_visitors(
    app, giver, reader, passer_by
):
    response = reader.client.post(
        "/requests/new",
        data={
            "title": "A values card sort for young people",
            "body": "My group of school leavers needs something hands-on to talk about values.",
        },
    )
    request_path = response.headers["Location"]
    answered = share(giver, "Members quillwort map", "members")
    request_id = int(request_path.rsplit("/", 1)[1])
    giver.client.post(f"{request_path}/answer", data={"resource": answered})

    assert "Members quillwort map" in page(reader, request_path)
    assert "Members quillwort map" not in page(passer_by, request_path)
    assert "Answers (0)" in page(passer_by, request_path)
    board = page(passer_by, "/requests")
    assert f'href="/requests/{request_id}"' in board
    assert "0 answers" in board
    assert "1 answer" in page(reader, "/requests")


def test_changing_who_can_find_it_reaches_search_at_once(app, giver, passer_by):
    resource_id = share(giver, "Open quillwort map", "public")
    assert result_titles(page(passer_by, "/search", q=SECRET_WORD)) == ["Open quillwort map"]
    data = {
        "title": "Open quillwort map",
        "synopsis": "A spreadsheet for clients to keep track of applications.",
        "how_used": "I give it to clients in our second session and we review it weekly.",
        "tags": "wetlands",
        "kind": "worksheet",
        "audience": "job-seekers",
        "licence": "cc-by-4.0",
        "access": "everyone",
        "visibility": "members",
        "credit_name": "Dale Briers",
    }
    edit = page(giver, f"/resources/{resource_id}/edit")
    assert 'value="public"' in edit and "Who can find it" in edit
    response = giver.client.post(f"/resources/{resource_id}/edit", data=data)
    assert response.status_code == 302
    assert result_titles(page(passer_by, "/search", q=SECRET_WORD)) == []
    assert passer_by.client.get(f"/resources/{resource_id}").status_code == 404
    assert result_titles(page(giver, "/search", q=SECRET_WORD)) == ["Open quillwort map"]


def test_a_rebuilt_index_still_hides_members_only_resources(app, two_resources, passer_by):
    result = app.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert result_titles(page(passer_by, "/search", q=SECRET_WORD)) == ["Open quillwort map"]


def test_an_unknown_choice_is_refused_kindly(app, giver):
    response = giver.share(visibility="everybody")
    assert response.status_code == 422
    assert "Who can find it" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Resource)).all() == []
