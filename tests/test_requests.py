"""Requests: the board, answering by sharing, requests sent to one member and the
courteous-note rule."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from exchange.community import normalise_note
from exchange.extensions import db
from exchange.models import Answer, Resource, ShareRequest

from .fixtures.exchange import (
    file_urls,
    member_id,
    notifications_for,
    page,
    people,
    share_txt,
    take,
)
from .fixtures.members import Visitor

PERSONAL = "Client: Jo Bloggs, jo.bloggs@outlook.com, phone 020 7946 0958. Goals: retrain."
GOOD_NOTE = (
    "I run a weekly job club for newcomers in Leeds and your interview practice cards "
    "look like exactly what my group needs before their first panel interviews."
)


def post_request(visitor: Visitor, title: str, body: str = "", tags: str = "") -> int:
    body = body or f"{title} for the clients of my Tuesday job club."
    response = visitor.client.post(
        "/requests/new", data={"title": title, "body": body, "tags": tags}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def ask(asker: Visitor, app, recipient: Visitor, note: str, title: str = "Your card sort"):
    return asker.client.post(
        f"/members/{member_id(app, recipient)}/ask", data={"title": title, "note": note}
    )


def close_request(app, request_id: int) -> None:
    """Mark a request fulfilled in the database, as its asker would once an answer came."""
    with app.app_context():
        db.session.get(ShareRequest, request_id).status = ShareRequest.FULFILLED
        db.session.commit()


def request_row(app, request_id: int) -> ShareRequest:
    with app.app_context():
        row = db.session.get(ShareRequest, request_id)
        db.session.expunge(row)
        return row


# -- the board ---------------------------------------------------------------------------


def test_the_board_lists_open_requests_newest_first_and_filters_fulfilled(app):
    asker, _ = people(app, "Ana Asker", "Other")
    older = post_request(asker, "A values card sort", tags="Values, youth")
    newer = post_request(asker, "A budgeting worksheet")
    board = page(Visitor(app.test_client()), "/requests")
    assert board.index("A budgeting worksheet") < board.index("A values card sort")
    assert "values" in board and "youth" in board
    close_request(app, older)
    assert request_row(app, older).status == "fulfilled"
    assert "A values card sort" not in page(asker, "/requests")
    fulfilled = page(asker, "/requests?status=fulfilled")
    assert "A values card sort" in fulfilled and "A budgeting worksheet" not in fulfilled
    assert newer


def test_a_request_needs_a_title_and_what_you_are_looking_for(app):
    [asker] = people(app, "Ana Asker")
    response = asker.client.post(
        "/requests/new", data={"title": "", "body": "Something for shy clients", "tags": ""}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Please say in a few words what you’d like." in text
    assert "Something for shy clients" in text
    assert ">Title</label>" in text and ">Tags</label>" in text


@pytest.mark.parametrize(
    ("title", "body", "explanation"),
    [
        ("pls", "please share", "at least 40 characters"),
        ("pls", "", "Please describe what you’re looking for."),
        (
            "Resources please",
            "Please share, please share any of your resources with me, thanks!",
            "reads like a note anyone could send to anyone",
        ),
    ],
)
def test_a_generic_request_is_refused_with_a_friendly_explanation_and_kept(
    app, title, body, explanation
):
    [asker] = people(app, "Ana Asker")
    response = asker.client.post("/requests/new", data={"title": title, "body": body})
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert explanation in text
    assert f'value="{title}"' in text and body in text
    with app.app_context():
        assert db.session.scalars(select(ShareRequest)).all() == []


def test_the_same_request_cannot_be_posted_twice_while_it_is_open(app):
    [asker] = people(app, "Ana Asker")
    body = "A values card sort for the school leavers in my Tuesday group."
    post_request(asker, "A values card sort", body)
    response = asker.client.post(
        "/requests/new", data={"title": "Values card sort", "body": body.upper()}
    )
    assert response.status_code == 422
    assert "same request open on Requests" in html.unescape(response.get_data(as_text=True))


def test_posting_a_request_needs_an_account(client):
    response = client.get("/requests/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- answering ---------------------------------------------------------------------------


def test_answering_by_sharing_a_new_resource_records_the_answer_and_tells_the_asker(app):
    asker, giver = people(app, "Ana Asker", "Dale Briers")
    request_id = post_request(asker, "Interview practice cards")
    form = page(giver, f"/resources/new?answers={request_id}")
    assert "You’re answering Ana Asker’s request" in html.unescape(form)
    # The share form posts to its own address, ?answers= included, as a browser does.
    resource_id = _share_answering(giver, request_id, "Interview cards, deck two")
    text = page(asker, f"/requests/{request_id}")
    assert "Interview cards, deck two" in text and "Dale Briers" in text
    messages = [n.message for n in notifications_for(app, asker)]
    assert messages == [
        "Dale Briers answered your request “Interview practice cards” with "
        "“Interview cards, deck two”."
    ]
    assert "Interview cards, deck two" in page(asker, f"/resources/{resource_id}")


def _share_answering(visitor: Visitor, request_id: int, title: str) -> int:
    import io

    from .fixtures.members import SHARE_DEFAULTS

    data = {**SHARE_DEFAULTS, "title": title}
    data["files"] = [(io.BytesIO(f"{title}: questions.".encode()), "deck.txt")]
    response = visitor.client.post(
        f"/resources/new?answers={request_id}", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return int(response.headers["Location"].rsplit("/", 1)[1].split("?")[0])


def test_answering_a_request_counts_as_sharing(app):
    asker, giver, newcomer = people(app, "Ana Asker", "Dale Briers", "Sam Newcomer")
    gifts = [share_txt(giver, f"Gift {n}") for n in range(4)]
    for resource_id in gifts[:3]:
        take(app, newcomer, resource_id)
    assert newcomer.client.get(file_urls(app, gifts[3])[0]).status_code == 403
    request_id = post_request(asker, "Something on networking")
    _share_answering(newcomer, request_id, "Networking map")
    response = newcomer.client.get(file_urls(app, gifts[3])[0])
    assert response.status_code == 200 and response.mimetype == "text/plain"


def test_pointing_to_one_of_your_published_resources_answers_a_request(app):
    asker, giver = people(app, "Ana Asker", "Dale Briers")
    mine = share_txt(giver, "Strengths cards")
    request_id = post_request(asker, "Strengths exercise")
    text = page(giver, f"/requests/{request_id}")
    assert "Strengths cards" in text and "Answer with this resource" in text
    response = giver.client.post(
        f"/requests/{request_id}/answer", data={"resource": str(mine), "note": "Works well 1:1."}
    )
    assert response.status_code == 302
    text = page(asker, f"/requests/{request_id}")
    assert "Strengths cards" in text and "Works well 1:1." in text
    # The same resource can't answer twice, and it drops out of the choices.
    assert "Answer with this resource" not in page(giver, f"/requests/{request_id}")


def test_you_can_only_answer_with_your_own_resource_and_not_your_own_request(app):
    asker, giver = people(app, "Ana Asker", "Dale Briers")
    theirs = share_txt(asker, "Ana’s own sheet")
    request_id = post_request(asker, "Strengths exercise")
    response = giver.client.post(f"/requests/{request_id}/answer", data={"resource": str(theirs)})
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    own_page = page(asker, f"/requests/{request_id}")
    assert "Share a new resource in answer" not in own_page
    assert page(asker, f"/resources/new?answers={request_id}").count("You’re answering") == 0
    with app.app_context():
        assert db.session.scalars(select(Answer)).all() == []


def _share_form_data(title: str) -> dict:
    import io

    from .fixtures.members import SHARE_DEFAULTS

    data = {**SHARE_DEFAULTS, "title": title, "synopsis": "Forty questions, easiest first."}
    data["files"] = [(io.BytesIO(f"{title}: questions.".encode()), "deck.txt")]
    return data


def stored_objects(app) -> list[str]:
    from exchange.storage import get_storage

    with app.app_context():
        return list(get_storage().iter_keys())


def test_a_request_closed_while_sharing_refuses_the_answer_and_stores_nothing(app):
    asker, giver = people(app, "Ana Asker", "Dale Briers")
    request_id = post_request(asker, "Interview practice cards")
    assert "You’re answering" in page(giver, f"/resources/new?answers={request_id}")
    close_request(app, request_id)  # meanwhile, it closes
    response = giver.client.post(
        f"/resources/new?answers={request_id}",
        data=_share_form_data("Interview cards, deck two"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert "This request is closed, so it can’t take new answers." in text
    assert "please choose your files again" in text
    assert 'value="Interview cards, deck two"' in text  # what was typed is kept
    assert "Forty questions, easiest first." in text
    assert 'action="/resources/new"' in text  # sending it again shares without answering
    with app.app_context():
        assert db.session.scalars(select(Resource)).all() == []
        assert db.session.scalars(select(Answer)).all() == []
    assert stored_objects(app) == []
    again = giver.client.post(
        "/resources/new",
        data=_share_form_data("Interview cards, deck two"),
        content_type="multipart/form-data",
    )
    assert again.status_code == 302


def test_the_share_form_for_a_closed_request_says_so_and_shares_without_answering(app):
    asker, giver = people(app, "Ana Asker", "Dale Briers")
    request_id = post_request(asker, "Interview practice cards")
    close_request(app, request_id)
    text = html.unescape(page(giver, f"/resources/new?answers={request_id}"))
    assert "This request is closed, so it can’t take new answers." in text
    assert "You’re answering" not in text and 'action="/resources/new"' in text


def test_a_refused_answer_from_the_share_operation_leaves_no_share_behind(app):
    import io

    from exchange import community
    from exchange.models import Member
    from exchange.resources import operations

    asker, giver = people(app, "Ana Asker", "Dale Briers")
    request_id = post_request(asker, "Interview practice cards")
    close_request(app, request_id)
    details = operations.ResourceDetails(
        "Cards",
        "Forty questions.",
        "In pairs.",
        [],
        "worksheet",
        "job-seekers",
        "cc-by-4.0",
        "everyone",
        "Dale Briers",
    )
    with app.test_request_context():
        owner = db.session.scalars(select(Member).where(Member.email == giver.email)).one()
        closed = db.session.get(ShareRequest, request_id)
        upload = operations.Upload(io.BytesIO(b"Forty questions."), "deck.txt")
        with pytest.raises(community.Refused, match="This request is closed"):
            operations.share_resource(owner, details, [upload], answers=closed)
        assert db.session.scalars(select(Resource)).all() == []
    assert stored_objects(app) == []


def test_an_answer_waiting_for_privacy_review_is_announced_only_once_published(app):
    asker, giver = people(app, "Ana Asker", "Dale Briers")
    request_id = post_request(asker, "An intake form")
    import io

    from .fixtures.members import SHARE_DEFAULTS

    data = {**SHARE_DEFAULTS, "title": "Intake form"}
    data["files"] = [(io.BytesIO(PERSONAL.encode()), "intake.txt")]
    response = giver.client.post(
        f"/resources/new?answers={request_id}", data=data, content_type="multipart/form-data"
    )
    review = response.headers["Location"]
    assert review.endswith("/review")
    assert "Intake form" not in page(asker, f"/requests/{request_id}")
    assert notifications_for(app, asker) == []
    giver.client.post(review)
    assert "Intake form" in page(asker, f"/requests/{request_id}")
    assert len(notifications_for(app, asker)) == 1


def test_a_request_with_no_answer_cannot_be_marked_fulfilled(app):
    [asker] = people(app, "Ana Asker")
    request_id = post_request(asker, "Interview practice cards")
    assert "Mark fulfilled" not in page(asker, f"/requests/{request_id}")
    refused = asker.client.post(f"/requests/{request_id}/fulfil", data={})
    assert refused.status_code == 403
    text = html.unescape(refused.get_data(as_text=True))
    assert "Nobody has answered this request yet, so there is nothing to mark fulfilled." in text
    assert f'href="/requests/{request_id}"' in text  # back to the request
    assert request_row(app, request_id).status == "open"


def test_the_asker_marks_it_fulfilled_and_thanks_the_giver(app):
    asker, giver, other = people(app, "Ana Asker", "Dale Briers", "Olu Other")
    request_id = post_request(asker, "Interview practice cards")
    assert "Mark fulfilled" not in page(asker, f"/requests/{request_id}")
    resource_id = _share_answering(giver, request_id, "Interview cards")
    assert "Mark fulfilled" in page(asker, f"/requests/{request_id}")
    with app.app_context():
        answer_id = db.session.scalars(select(Answer.id)).one()
    assert other.client.post(f"/requests/{request_id}/fulfil", data={}).status_code == 403
    response = asker.client.post(
        f"/requests/{request_id}/fulfil",
        data={"answer": str(answer_id), "thanks": "My group loved the cards."},
    )
    assert response.status_code == 302
    assert request_row(app, request_id).status == "fulfilled"
    text = page(asker, f"/requests/{request_id}")
    assert "Fulfilled it" in text and "Share a new resource in answer" not in text
    assert "My group loved the cards." in page(other, f"/resources/{resource_id}")
    kinds = sorted(n.kind for n in notifications_for(app, giver))
    assert kinds == ["accepted", "thanks"]


# -- asking one member directly ------------------------------------------------------------


def test_a_courteous_direct_ask_reaches_only_the_member_asked(app):
    asker, dale, other = people(app, "Ana Asker", "Dale Briers", "Olu Other")
    response = ask(asker, app, dale, GOOD_NOTE)
    assert response.status_code == 302
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert [n.kind for n in notifications_for(app, dale)] == ["ask"]
    assert "Your card sort" in page(dale, "/account/exchange")
    assert "Your card sort" not in page(other, "/requests")
    assert other.client.get(f"/requests/{request_id}").status_code == 404
    assert Visitor(app.test_client()).client.get(f"/requests/{request_id}").status_code == 404
    text = page(dale, f"/requests/{request_id}")
    assert GOOD_NOTE in html.unescape(text)
    assert "Decline politely" in text and "Share a new resource in answer" in text


def test_a_note_that_is_too_short_is_refused_and_kept_for_editing(app):
    asker, dale = people(app, "Ana Asker", "Dale Briers")
    response = ask(asker, app, dale, "Hi Dale, for my clients")
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert "at least 40 characters" in text
    assert "Hi Dale, for my clients" in text
    assert notifications_for(app, dale) == []


@pytest.mark.parametrize(
    "note",
    [
        "Please share!!! Please share, please share, please share with me!",
        "Hi Dale Briers, can you send me your resources? Thank you so much in advance!",
        "SHARE PLEASE. Share please. I would really love any of your worksheets, thanks!",
        "Hello, could you please share some of your resources with me? Kind regards",
    ],
)
def test_generic_asks_are_refused_with_a_friendly_explanation(app, note):
    asker, dale = people(app, "Ana Asker", "Dale Briers")
    response = ask(asker, app, dale, note)
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert "reads like a note anyone could send to anyone" in text
    assert "why you’re asking them" in text
    assert notifications_for(app, dale) == []


def test_the_same_note_cannot_be_sent_to_member_after_member(app):
    asker, dale, olu = people(app, "Ana Asker", "Dale Briers", "Olu Other")
    assert ask(asker, app, dale, GOOD_NOTE).status_code == 302
    copied = GOOD_NOTE.upper().replace(".", "!!").replace(" and ", " and  ")
    response = ask(asker, app, olu, copied)
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert "already sent this same note to another member" in text
    assert notifications_for(app, olu) == []
    personal = GOOD_NOTE.replace("interview practice cards", "budgeting sheet for returners")
    assert ask(asker, app, olu, personal).status_code == 302


def test_notes_compare_without_case_or_punctuation():
    assert normalise_note("PLEASE, share!!!") == normalise_note("please share")
    assert normalise_note("Can you send me your resources?") == "can you send me your resources"


def test_one_open_ask_at_a_time_per_member_and_never_to_yourself(app):
    asker, dale = people(app, "Ana Asker", "Dale Briers")
    assert ask(asker, app, dale, GOOD_NOTE).status_code == 302
    second = GOOD_NOTE.replace("Leeds", "Bradford and Halifax")
    response = ask(asker, app, dale, second)
    assert response.status_code == 422
    assert "already have an open request with Dale Briers" in html.unescape(
        response.get_data(as_text=True)
    )
    response = asker.client.get(f"/members/{member_id(app, asker)}/ask")
    assert response.status_code == 403
    assert "can’t send a request to yourself" in html.unescape(response.get_data(as_text=True))


def test_the_member_asked_can_decline_politely(app):
    asker, dale = people(app, "Ana Asker", "Dale Briers")
    request_id = int(ask(asker, app, dale, GOOD_NOTE).headers["Location"].rsplit("/", 1)[1])
    assert asker.client.post(f"/requests/{request_id}/decline", data={}).status_code == 403
    response = dale.client.post(
        f"/requests/{request_id}/decline", data={"reply": "It belongs to my employer."}
    )
    assert response.status_code == 302
    assert request_row(app, request_id).status == "declined"
    [notice] = notifications_for(app, asker)
    assert notice.kind == "declined"
    assert "It belongs to my employer." in notice.message
    assert "It belongs to my employer." in html.unescape(page(asker, f"/requests/{request_id}"))


def test_only_the_member_asked_can_answer_a_direct_ask(app):
    asker, dale, olu = people(app, "Ana Asker", "Dale Briers", "Olu Other")
    request_id = int(ask(asker, app, dale, GOOD_NOTE).headers["Location"].rsplit("/", 1)[1])
    assert "You’re answering" not in page(olu, f"/resources/new?answers={request_id}")
    _share_answering(dale, request_id, "Interview cards for the job club")
    assert "Interview cards for the job club" in page(asker, f"/requests/{request_id}")
    assert [n.kind for n in notifications_for(app, asker)] == ["answer"]
