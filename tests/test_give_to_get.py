"""Give to get: a few starter downloads, sharing unlocks the rest, re-downloads are free."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from exchange.extensions import db
from exchange.models import Download

from .fixtures.exchange import file_urls, member_id, page, share_txt, take
from .fixtures.members import Visitor

PERSONAL = "Client: Jo Bloggs, jo.bloggs@outlook.com, phone 020 7946 0958. Goals: retrain."


def giver_and_newcomer(app, count: int, **share_fields) -> tuple[Visitor, Visitor, list[int]]:
    giver, newcomer = Visitor(app.test_client()), Visitor(app.test_client())
    giver.register(name="Dale Briers")
    newcomer.register(name="Sam Newcomer")
    ids = [share_txt(giver, f"Gift {n}", **share_fields) for n in range(count)]
    return giver, newcomer, ids


def main_of(text: str) -> str:
    """A page without its header (where a newcomer always sees their starter downloads)."""
    return text[text.index("<main") :]


def header_of(text: str) -> str:
    return text[: text.index("<main")]


def downloads(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Download.id)))


def test_a_newcomer_takes_three_different_resources_then_is_shown_the_way_to_unlock(app):
    _, newcomer, ids = giver_and_newcomer(app, 4)
    for resource_id in ids[:3]:
        assert take(app, newcomer, resource_id).status_code == 200
    response = newcomer.client.get(file_urls(app, ids[3])[0])
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "You’ve used your 3 starter downloads" in text
    assert 'href="/resources/new"' in text and "Share a resource" in text
    assert "answer a colleague’s request" in text
    resource_page = page(newcomer, f"/resources/{ids[3]}")
    assert "You’ve used your 3 starter downloads" in resource_page
    assert 'href="/requests"' in resource_page
    assert downloads(app) == 3


def test_downloading_again_never_costs_an_allowance(app):
    _, newcomer, ids = giver_and_newcomer(app, 4)
    first = ids[0]
    for _ in range(3):
        assert take(app, newcomer, first).status_code == 200
    assert "2 of 3 starter downloads left" in page(newcomer, "/account/exchange")
    take(app, newcomer, ids[1])
    take(app, newcomer, ids[2])
    assert "0 of 3 starter downloads left" in page(newcomer, "/account/exchange")
    assert "0 of 3 starter downloads left" in header_of(page(newcomer, "/requests"))
    # Everything already taken stays free, with a plain link and no confirmation.
    response = newcomer.client.get(file_urls(app, first)[0])
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert newcomer.client.get(file_urls(app, ids[3])[0]).status_code == 403


def test_other_files_of_a_taken_resource_are_free(app):
    giver, newcomer, _ = giver_and_newcomer(app, 0)
    two_files = giver.share_id(
        files=[("a.txt", b"First sheet"), ("b.txt", b"Second sheet")],
        credit_placement="properties",  # served byte for byte, without a credit line
    )
    take(app, newcomer, two_files, position=0)
    response = newcomer.client.get(file_urls(app, two_files)[1])
    assert response.status_code == 200 and response.get_data() == b"Second sheet"
    assert "2 of 3 starter downloads left" in page(newcomer, "/account/exchange")


def test_a_starter_download_asks_first_and_a_bare_link_spends_nothing(app):
    _, newcomer, [resource_id] = giver_and_newcomer(app, 1)
    url = file_urls(app, resource_id)[0]
    confirm = newcomer.client.get(url)
    assert confirm.status_code == 200 and confirm.mimetype == "text/html"
    text = confirm.get_data(as_text=True)
    assert "This uses 1 of your 3 starter downloads. You have 3 left." in text
    assert f'<form method="post" action="{url}">' in text
    assert downloads(app) == 0
    assert "3 of 3 starter downloads left" in page(newcomer, "/account/exchange")
    response = newcomer.client.post(url)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert downloads(app) == 1


def test_the_resource_page_offers_a_newcomer_a_button_not_a_link(app):
    _, newcomer, [resource_id] = giver_and_newcomer(app, 1)
    url = file_urls(app, resource_id)[0]
    text = page(newcomer, f"/resources/{resource_id}")
    assert "Downloading this uses 1 of your 3 starter downloads. You have 3 left." in text
    assert f'<form method="post" action="{url}"' in text
    assert f'href="{url}"' not in text


def test_the_starter_confirmation_is_protected_against_forged_posts(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    giver, newcomer = Visitor(app.test_client()), Visitor(app.test_client())
    for visitor in (giver, newcomer):
        form = visitor.client.get("/register").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        visitor.client.post(
            "/register",
            data={
                "name": "Member",
                "email": f"{id(visitor)}@example.org",
                "password": "a long enough passphrase",
                "csrf_token": token,
            },
        )
        visitor.email = f"{id(visitor)}@example.org"
        visitor.follow_emailed_link()
    resource_id = _share_with_token(giver)
    url = file_urls(app, resource_id)[0]
    assert newcomer.client.post(url).status_code == 400
    assert downloads(app) == 0
    confirm = newcomer.client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', confirm).group(1)
    response = newcomer.client.post(url, data={"csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert downloads(app) == 1


def _share_with_token(visitor: Visitor) -> int:
    import io

    from .fixtures.members import SHARE_DEFAULTS

    form = visitor.client.get("/resources/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    data = {**SHARE_DEFAULTS, "csrf_token": token}
    data["files"] = [(io.BytesIO(b"A blank strengths worksheet."), "sheet.txt")]
    response = visitor.client.post("/resources/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_sharing_one_resource_unlocks_everything_with_plain_downloads(app):
    _, newcomer, ids = giver_and_newcomer(app, 5)
    for resource_id in ids[:3]:
        take(app, newcomer, resource_id)
    assert newcomer.client.get(file_urls(app, ids[3])[0]).status_code == 403
    share_txt(newcomer, "My own interview prep sheet")
    assert "The whole toolkit is open to you" in page(newcomer, "/account/exchange")
    for resource_id in ids[3:]:
        response = newcomer.client.get(file_urls(app, resource_id)[0])
        assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "starter downloads" not in page(newcomer, f"/resources/{ids[4]}")
    assert "Share one tool to open everything" not in page(newcomer, "/")


def test_the_header_shows_a_newcomer_the_resource_pages_count_of_starter_downloads(app):
    giver, newcomer, ids = giver_and_newcomer(app, 2)
    home = header_of(page(newcomer, "/"))
    assert "3 of 3 starter downloads left" in home
    assert "Share one tool to open everything" in home
    assert 'href="/account/exchange">' in home  # where the standing is explained
    take(app, newcomer, ids[0])
    resource_page = page(newcomer, f"/resources/{ids[1]}")
    assert "You have 2 left." in main_of(resource_page)
    assert "2 of 3 starter downloads left" in header_of(resource_page)
    for givers_page in (page(giver, "/"), page(Visitor(app.test_client()), "/")):
        assert "starter downloads" not in givers_page
        assert "Share one tool to open everything" not in givers_page


def test_a_draft_waiting_for_privacy_review_does_not_unlock_until_published(app):
    _, newcomer, ids = giver_and_newcomer(app, 4)
    for resource_id in ids[:3]:
        take(app, newcomer, resource_id)
    draft = newcomer.share(files=[("notes.txt", PERSONAL.encode())])
    assert "/review" in draft.headers["Location"]
    assert newcomer.client.get(file_urls(app, ids[3])[0]).status_code == 403
    newcomer.client.post(draft.headers["Location"])
    assert newcomer.client.get(file_urls(app, ids[3])[0]).status_code == 200


def test_open_to_everyone_lets_a_newcomer_take_it_with_a_starter_download(app):
    _, newcomer, [resource_id] = giver_and_newcomer(app, 1, access="everyone")
    text = page(newcomer, f"/resources/{resource_id}")
    assert "Open to everyone signed in" in text
    assert take(app, newcomer, resource_id).status_code == 200


def test_for_members_who_share_is_closed_to_newcomers_until_they_share(app):
    _, newcomer, [resource_id] = giver_and_newcomer(app, 1, access="sharers")
    text = page(newcomer, f"/resources/{resource_id}")
    assert "For members who share" in text
    assert "The giver has kept this resource for members who share" in text
    response = newcomer.client.get(file_urls(app, resource_id)[0])
    assert response.status_code == 403
    assert "kept this resource for members who share" in response.get_data(as_text=True)
    share_txt(newcomer, "My networking map")
    response = newcomer.client.get(file_urls(app, resource_id)[0])
    assert response.status_code == 200 and response.mimetype == "text/plain"


def test_the_giver_downloads_their_own_resource_freely(app):
    giver, _, [resource_id] = giver_and_newcomer(app, 1, access="sharers")
    assert giver.client.get(file_urls(app, resource_id)[0]).status_code == 200


def test_the_number_of_starter_downloads_is_configurable(make_app):
    app = make_app(STARTER_DOWNLOADS=1)
    _, newcomer, ids = giver_and_newcomer(app, 2)
    assert "This uses 1 of your 1 starter downloads" in page(newcomer, file_urls(app, ids[0])[0])
    take(app, newcomer, ids[0])
    response = newcomer.client.get(file_urls(app, ids[1])[0])
    assert response.status_code == 403
    assert "You’ve used your 1 starter downloads" in response.get_data(as_text=True)


# -- a resource given in answer to the member's own request ---------------------------------

ASK_NOTE = (
    "I run a weekly job club for newcomers in Leeds and your interview practice cards "
    "look like exactly what my group needs before their first panel interviews."
)


def _ask_directly(app, asker: Visitor, giver: Visitor) -> int:
    response = asker.client.post(
        f"/members/{member_id(app, giver)}/ask",
        data={"title": "Interview practice cards", "note": ASK_NOTE},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _answer_with(giver: Visitor, request_id: int, resource_id: int) -> None:
    response = giver.client.post(
        f"/requests/{request_id}/answer", data={"resource": str(resource_id), "note": ""}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]


def test_an_answer_to_your_direct_ask_is_yours_after_the_starter_downloads(app):
    giver, newcomer, ids = giver_and_newcomer(app, 3)
    for resource_id in ids:
        take(app, newcomer, resource_id)
    kept = share_txt(giver, "Interview practice cards", access="sharers")
    _answer_with(giver, _ask_directly(app, newcomer, giver), kept)
    assert "Interview practice cards" in page(newcomer, "/notifications")
    text = page(newcomer, f"/resources/{kept}")
    assert "starter downloads" not in main_of(text) and "kept this resource" not in text
    url = file_urls(app, kept)[0]
    assert f'href="{url}"' in text  # a plain download link, no confirmation
    response = newcomer.client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "0 of 3 starter downloads left" in page(newcomer, "/account/exchange")


def test_an_answer_on_the_board_is_free_for_the_member_who_asked(app):
    giver, newcomer, _ = giver_and_newcomer(app, 0)
    response = newcomer.client.post(
        "/requests/new",
        data={
            "title": "A budgeting sheet for young adults",
            "body": "My clients are moving out for the first time and struggle to plan "
            "rent, food and travel on an apprentice wage.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    answer = share_txt(giver, "Budget worksheet")
    _answer_with(giver, request_id, answer)
    url = file_urls(app, answer)[0]
    assert "starter downloads" not in main_of(page(newcomer, f"/resources/{answer}"))
    response = newcomer.client.get(url)  # no "this uses 1 of your 3" page on the way
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "3 of 3 starter downloads left" in page(newcomer, "/account/exchange")
    # Someone else's answer is still theirs to spend an allowance on, not this member's.
    other = Visitor(app.test_client())
    other.register()
    assert "This uses 1 of your 3 starter downloads" in page(other, url)
