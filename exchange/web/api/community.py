"""Members' public profiles and the Requests board on the API, through the same community
verbs and counts as the pages."""

from __future__ import annotations

from flask import url_for
from marshmallow import RAISE
from werkzeug.datastructures import MultiDict

from ... import access, community, transactions
from ...community import public_thanks_count
from ...counts import giver_downloads, is_public_gift
from ...extensions import db
from ...models import Answer, Resource, ShareRequest, Thanks
from ...resources import listings
from ...vocab import parse_tags
from ..forms import AskForm, RequestForm
from ..helpers import member_or_404
from ..requests import BOARD_FILTERS, visible_request_or_404
from . import schemas
from .auth import caller, needs_write
from .blueprints import api_blueprint
from .problems import fail
from .shapes import NOT_MODIFIED, member_ref, page_links, problem_responses, shared_summaries
from .shapes import link_header as link_headers

bp = api_blueprint("api_community", "Members' profiles and Requests.")


@bp.route("/members/<int:member_id>", methods=["GET"])
@bp.response(200, schemas.MemberProfile)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 404, 429)
def get_member(member_id: int):
    """A member's public profile: what they shared that the caller may see, and the same
    download and thanks counts as their page."""
    member = member_or_404(member_id)
    viewer = caller()
    mine = viewer.id == member.id or viewer.is_admin
    shared = [r for r in listings.shared_by(member, viewer) if not r.anonymous or mine]
    return {
        **member_ref(member),
        "organisation": member.organisation,
        "role": member.role,
        "region": member.region,
        "bio": member.bio,
        "shared": shared_summaries(shared, viewer),
        "downloads": giver_downloads(r for r in shared if is_public_gift(r)),
        "thanks": public_thanks_count(member),
    }


@bp.route("/members/<int:member_id>/impact", methods=["GET"])
@bp.response(200, schemas.Impact)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 403, 404, 429)
def get_impact(member_id: int):
    """What a member's gifts have done, as their impact page shows it: every gift, anonymous
    and unpublished ones too, who took them, where and when, and the thanks. For the member
    and administrators only; anyone else gets 403 (the public figures are in
    `GET /members/{id}`)."""
    member = member_or_404(member_id)
    if not access.can_see_impact(caller(), member):
        fail("forbidden", f"Only {member.name} can see the full impact of their gifts.")
    impact = community.impact_of(member)
    return {
        "member": member_ref(member),
        "resources_shared": len(impact.gifts),
        "colleagues_reached": impact.unique_members,
        "downloads": impact.total_downloads,
        "public_downloads": impact.public_downloads,
        "thanks": len(impact.thanks),
        "kits": impact.kits,
        "months": [
            {"month": m.start.strftime("%Y-%m"), "downloads": m.downloads} for m in impact.months
        ],
        "regions": [{"region": r, "colleagues": n} for r, n in impact.regions],
        "gifts": [_gift(gift) for gift in impact.gifts],
        "thanks_received": [_thanks_received(t) for t in impact.thanks],
    }


def _gift(gift: community.Gift) -> dict:
    resource = gift.resource
    return {
        "resource_id": resource.id,
        "title": resource.title,
        "anonymous": resource.anonymous,
        "status": resource.status,
        "downloads": gift.downloads,
        "file_downloads": gift.file_downloads,
        "thanks": gift.thanks,
        "kits": gift.kits,
    }


def _thanks_received(thanks: Thanks) -> dict:
    return {
        "note": thanks.note,
        "member": member_ref(thanks.member),
        "resource_id": thanks.resource_id,
        "title": thanks.resource.title,
        "created_at": thanks.created_at,
    }


@bp.route("/requests", methods=["GET"])
@bp.arguments(schemas.RequestQuery, location="query", unknown=RAISE)
@bp.response(200, schemas.RequestPage, headers=link_headers())
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 422, 429)
def list_requests(args: dict):
    """The Requests board: open (or fulfilled) requests, newest first."""
    query = community.board(BOARD_FILTERS[args["status"]])
    page = db.paginate(query, page=args["page"], per_page=args["per_page"], error_out=False)
    counts = community.visible_answer_counts([item.id for item in page.items], caller())
    body = {
        "items": [_request(item, counts.get(item.id, 0)) for item in page.items],
        "total": page.total or 0,
        "page": args["page"],
        "per_page": args["per_page"],
        "pages": max(1, page.pages),
    }
    return body, 200, page_links("api_community.list_requests", args["page"], body["pages"])


def _request(item: ShareRequest, answers: int) -> dict:
    return {
        "id": item.id,
        "title": item.title,
        "body": item.body,
        "tags": item.tag_names,
        "status": item.status,
        "asker": member_ref(item.asker),
        "answers": answers,
        "created_at": item.created_at,
        "url": url_for("requests.show", request_id=item.id, _external=True),
    }


@bp.route("/requests", methods=["POST"])
@bp.arguments(schemas.NewRequest)
@bp.response(201, schemas.RequestItem, headers={"Location": {"schema": {"type": "string"}}})
@problem_responses(bp, 401, 403, 422, 429)
@needs_write
def ask(args: dict):
    """Ask colleagues for a resource on the Requests board, with the form's checks and the
    board's courtesy rule (say what, for whom and why)."""
    data = {"title": args["title"], "body": args["body"], "tags": ", ".join(args["tags"])}
    form = RequestForm(formdata=MultiDict(data), meta={"csrf": False})
    if not form.validate():
        fail("invalid", "Some fields need another look.", errors=dict(form.errors))
    try:
        tags = parse_tags(form.tags.data or "")
        posted = community.post_request(caller(), form.title.data, form.body.data, tags)
    except community.Refused as exc:
        fail("invalid", str(exc), errors={"body": [str(exc)]})
    transactions.commit()
    return _request(posted, 0), 201, {"Location": _request(posted, 0)["url"]}


@bp.route("/requests/<int:request_id>", methods=["GET"])
@bp.response(200, schemas.RequestDetail)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 404, 429)
def get_request(request_id: int):
    """One request with the answers the caller may see (a direct ask: only its two members)."""
    return _detail(visible_request_or_404(request_id))


def _detail(share_request: ShareRequest) -> dict:
    answers = community.visible_answers(caller(), share_request)
    return {
        **_request(share_request, len(answers)),
        "answered_with": [_answer(answer) for answer in answers],
    }


def _answer(answer: Answer) -> dict:
    return {
        "id": answer.id,
        "resource_id": answer.resource_id,
        "title": answer.resource.title,
        "giver": None if answer.resource.anonymous else member_ref(answer.giver),
        "note": answer.note,
        "accepted": answer.accepted,
        "created_at": answer.created_at,
    }


@bp.route("/requests/<int:request_id>/answers", methods=["POST"])
@bp.arguments(schemas.NewAnswer)
@bp.response(201, schemas.AnswerItem)
@problem_responses(bp, 401, 403, 404, 409, 422, 429)
@needs_write
def answer(args: dict, request_id: int):
    """Answer a request with one of your own resources: answering counts as sharing."""
    share_request = visible_request_or_404(request_id)
    resource = db.session.get(Resource, args["resource_id"])
    if resource is None:
        fail("invalid", "No such resource.", errors={"resource_id": ["No such resource."]})
    answered = community.answer_request(share_request, caller(), resource, args["note"])
    transactions.commit()
    return _answer(answered), 201


@bp.route("/requests/<int:request_id>/fulfil", methods=["POST"])
@bp.arguments(schemas.Fulfil)
@bp.response(200, schemas.RequestDetail)
@problem_responses(bp, 401, 403, 404, 409, 422, 429)
@needs_write
def fulfil(args: dict, request_id: int):
    """Mark your request fulfilled, naming the answer that helped and thanking its giver."""
    share_request = visible_request_or_404(request_id)
    answers = community.visible_answers(caller(), share_request)
    chosen = next((a for a in answers if a.id == args["answer_id"]), None)
    if args["answer_id"] is not None and chosen is None:
        fail(
            "invalid",
            "That is not an answer to this request.",
            errors={"answer_id": ["Not an answer to it."]},
        )
    community.fulfil_request(share_request, caller(), chosen, args["thanks"])
    transactions.commit()
    return _detail(visible_request_or_404(request_id))


@bp.route("/requests/<int:request_id>/decline", methods=["POST"])
@bp.arguments(schemas.Decline)
@bp.response(200, schemas.RequestDetail)
@problem_responses(bp, 401, 403, 404, 409, 422, 429)
@needs_write
def decline(args: dict, request_id: int):
    """Decline, politely, a request sent to you directly."""
    share_request = visible_request_or_404(request_id)
    community.decline_request(share_request, caller(), args["reply"])
    transactions.commit()
    return _detail(visible_request_or_404(request_id))


@bp.route("/members/<int:member_id>/requests", methods=["POST"])
@bp.arguments(schemas.DirectAsk)
@bp.response(201, schemas.RequestItem, headers={"Location": {"schema": {"type": "string"}}})
@problem_responses(bp, 401, 403, 404, 422, 429)
@needs_write
def ask_member(args: dict, member_id: int):
    """Ask one colleague directly, with a personal note (generic asks are refused)."""
    recipient = member_or_404(member_id)
    if recipient.suspended and not caller().is_admin:
        fail("not-found")
    if recipient.id == caller().id:
        fail("forbidden", "You can’t send a request to yourself.")
    form = AskForm(formdata=MultiDict(args), meta={"csrf": False})
    if not form.validate():
        fail("invalid", "Some fields need another look.", errors=dict(form.errors))
    try:
        asked = community.ask_member(caller(), recipient, form.title.data, form.note.data)
    except community.Refused as exc:
        fail("invalid", str(exc), errors={"note": [str(exc)]})
    transactions.commit()
    shown = _request(asked, 0)
    return shown, 201, {"Location": shown["url"]}
