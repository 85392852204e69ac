"""Every resource route × every kind of visitor × every kind of resource, in one table.

Visitors: anonymous, a member who never shared ("newcomer"), a member who shared
("sharer"), the resource's owner, an admin. Resources: open to everyone signed in, kept for
members who share, found by signed-in members only, and hidden by an admin. Plus ids nobody
has (guessed ids).
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from exchange.extensions import db
from exchange.models import IndexChange, Member, Resource

from .fixtures.members import Visitor

ROLES = ("anonymous", "newcomer", "sharer", "owner", "admin")
KINDS = ("open", "sharers", "members", "hidden")

LOGIN, OK, CONFIRM, FILE, BACK, DENIED, MISSING = (
    "login",
    "ok",
    "confirm",
    "file",
    "back",
    "denied",
    "missing",
)

# route -> {kind: {role: outcome}}; roles not listed get the kind's "*" entry.
TABLE = {
    "show": {
        "open": {"*": OK},
        "sharers": {"*": OK},
        "members": {"*": OK, "anonymous": MISSING},
        "hidden": {"*": MISSING, "owner": OK, "admin": OK},
    },
    "edit": {
        "open": {"*": DENIED, "anonymous": LOGIN, "owner": OK, "admin": OK},
        "sharers": {"*": DENIED, "anonymous": LOGIN, "owner": OK, "admin": OK},
        "members": {"*": DENIED, "anonymous": LOGIN, "owner": OK, "admin": OK},
        "hidden": {"*": MISSING, "anonymous": LOGIN, "owner": OK, "admin": OK},
    },
    "delete": {
        "open": {"*": DENIED, "anonymous": LOGIN, "owner": OK, "admin": OK},
        "sharers": {"*": DENIED, "anonymous": LOGIN, "owner": OK, "admin": OK},
        "members": {"*": DENIED, "anonymous": LOGIN, "owner": OK, "admin": OK},
        "hidden": {"*": MISSING, "anonymous": LOGIN, "owner": OK, "admin": OK},
    },
    "download": {
        "open": {"*": FILE, "anonymous": LOGIN, "newcomer": CONFIRM},
        "sharers": {"*": FILE, "anonymous": LOGIN, "newcomer": DENIED},
        "members": {"*": FILE, "anonymous": MISSING, "newcomer": CONFIRM},
        "hidden": {"*": MISSING, "owner": FILE, "admin": FILE},
    },
    "preview": {
        "open": {"*": OK},
        "sharers": {"*": OK},
        "members": {"*": OK, "anonymous": MISSING},
        "hidden": {"*": MISSING, "owner": OK, "admin": OK},
    },
    "report": {
        "open": {"*": OK, "anonymous": LOGIN},
        "sharers": {"*": OK, "anonymous": LOGIN},
        "members": {"*": OK, "anonymous": LOGIN},
        "hidden": {"*": MISSING, "anonymous": LOGIN, "owner": OK, "admin": OK},
    },
    "save": {
        "open": {"*": BACK, "anonymous": LOGIN},
        "sharers": {"*": BACK, "anonymous": LOGIN},
        "members": {"*": BACK, "anonymous": LOGIN},
        "hidden": {"*": MISSING, "anonymous": LOGIN, "owner": BACK, "admin": BACK},
    },
    # Last on purpose: an admin's hide changes the resources it is tried on.
    "hide": {
        "open": {"*": DENIED, "anonymous": LOGIN, "admin": BACK},
        "sharers": {"*": DENIED, "anonymous": LOGIN, "admin": BACK},
        "members": {"*": DENIED, "anonymous": LOGIN, "admin": BACK},
        "hidden": {"*": DENIED, "anonymous": LOGIN, "admin": BACK},
    },
}


def expected(route: str, kind: str, role: str) -> str:
    row = TABLE[route][kind]
    return row.get(role, row["*"])


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def world(app):
    """The five visitors and three resources, all made through the site's own forms."""
    people = {role: Visitor(app.test_client()) for role in ROLES}
    for role in ROLES[1:]:
        people[role].register(name=role.title())
    people["sharer"].share_id(title="The sharer's own sheet", files=[("own.txt", b"own")])
    resources = {
        kind: people["owner"].share_id(
            title=f"{kind} sheet",
            files=[("picture.png", png_bytes())],
            access="sharers" if kind == "sharers" else "everyone",
            visibility="members" if kind == "members" else "public",
        )
        for kind in KINDS
    }
    with app.app_context():
        admin = db.session.scalars(select(Member).where(Member.email == people["admin"].email))
        admin.one().is_admin = True
        hidden = db.session.get(Resource, resources["hidden"])
        hidden.status = Resource.HIDDEN
        IndexChange.record(hidden.id)
        db.session.commit()
        files = {kind: db.session.get(Resource, rid).files[0].id for kind, rid in resources.items()}
    return people, resources, files


def request_route(client, route: str, resource_id: int, file_id: int):
    base = f"/resources/{resource_id}"
    if route == "save":
        return client.post(f"{base}/save")
    if route == "hide":
        return client.post(f"/admin/resources/{resource_id}/hide", data={"note": "table test"})
    paths = {
        "show": base,
        "edit": f"{base}/edit",
        "delete": f"{base}/delete",
        "download": f"{base}/files/{file_id}",
        "preview": f"{base}/files/{file_id}/preview.png",
        "report": f"{base}/report",
    }
    return client.get(paths[route])


def outcome(response) -> str:
    """What the visitor experienced, in the table's words."""
    location = response.headers.get("Location", "")
    if response.status_code == 302:
        return LOGIN if location.startswith("/login") else BACK
    if response.status_code == 200 and "attachment" in response.headers.get(
        "Content-Disposition", ""
    ):
        return FILE
    if response.status_code == 200 and response.mimetype == "text/html":
        if "<title>Use a starter download?" in response.get_data(as_text=True):
            return CONFIRM
    return {200: OK, 403: DENIED, 404: MISSING}.get(response.status_code, str(response.status_code))


def test_every_route_for_every_visitor_and_resource(app, world):
    people, resources, files = world
    mismatches = []
    for route in TABLE:
        for kind in KINDS:
            for role in ROLES:
                response = request_route(people[role].client, route, resources[kind], files[kind])
                got, want = outcome(response), expected(route, kind, role)
                if got != want:
                    mismatches.append(f"{route} {kind} as {role}: {got}, expected {want}")
    assert mismatches == []


def test_a_denied_visitor_is_told_the_step_that_unlocks_access(app, world):
    people, resources, files = world
    page = (
        people["newcomer"]
        .client.get(f"/resources/{resources['sharers']}/files/{files['sharers']}")
        .get_data(as_text=True)
    )
    assert "kept this resource for members who share" in page
    assert 'href="/resources/new"' in page


@pytest.mark.parametrize("role", ROLES)
def test_guessed_ids_reveal_nothing(app, world, role):
    people, resources, files = world
    client = people[role].client
    for path in (
        "/resources/987654",
        "/resources/987654/files/1",
        f"/resources/{resources['open']}/files/987654",
        f"/resources/{resources['open']}/files/{files['sharers']}",
        "/members/987654",
        "/requests/987654",
    ):
        assert client.get(path).status_code in (404, 302), path
        if client.get(path).status_code == 302:
            assert role == "anonymous" and "/login" in client.get(path).headers["Location"]
