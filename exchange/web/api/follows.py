"""Following members, topics and kits, "What's new", and reports, on the API: the same
community verbs and checks as the follow buttons, the What's new page and the report form."""

from __future__ import annotations

from marshmallow import RAISE
from werkzeug.datastructures import MultiDict

from ... import community, transactions
from ...extensions import db, limiter, member_key
from ...models import Member, Report, Resource
from ...resources import listings
from ..forms import ReportForm
from ..helpers import member_or_404
from ..kits import visible_collection_or_404
from ..resources import visible_resource_or_404
from . import schemas
from .auth import caller, needs_write
from .blueprints import api_blueprint
from .problems import fail
from .shapes import (
    NOT_MODIFIED,
    collection_ref,
    member_ref,
    page_links,
    problem_responses,
    resource_summary,
)
from .shapes import link_header as link_headers

bp = api_blueprint("api_follows", "Following members, topics and kits; What's new; reports.")


# -- what I follow ------------------------------------------------------------------------------


@bp.route("/me/following", methods=["GET"])
@bp.response(200, schemas.Following)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 429)
def following():
    """The members, topics and kits the caller follows, each in alphabetical order."""
    follows = community.following(caller())
    return {
        "members": [member_ref(m) for m in follows.members],
        "topics": follows.topics,
        "kits": [collection_ref(kit) for kit in follows.kits],
    }


@bp.route("/me/following/members/<int:member_id>", methods=["PUT"])
@bp.response(204, description="Followed (following twice changes nothing).")
@problem_responses(bp, 401, 403, 404, 409, 429)
@needs_write
def follow_member(member_id: int):
    """Follow a colleague: their new shares appear in What's new (yourself: 409)."""
    community.follow_member(caller(), member_or_404(member_id))
    transactions.commit()


@bp.route("/me/following/members/<int:member_id>", methods=["DELETE"])
@bp.response(204, description="Not followed (any more).")
@problem_responses(bp, 401, 403, 404, 429)
@needs_write
def unfollow_member(member_id: int):
    community.unfollow_member(caller(), member_or_404(member_id))
    transactions.commit()


@bp.route("/me/following/topics", methods=["PUT"])
@bp.arguments(schemas.TopicQuery, location="query", unknown=RAISE)
@bp.response(204, description="Followed (following twice changes nothing).")
@problem_responses(bp, 401, 403, 409, 422, 429)
@needs_write
def follow_topic(args: dict):
    """Follow a topic by its name (409 when nothing was ever shared under it)."""
    community.follow_topic(caller(), args["tag"])
    transactions.commit()


@bp.route("/me/following/topics", methods=["DELETE"])
@bp.arguments(schemas.TopicQuery, location="query", unknown=RAISE)
@bp.response(204, description="Not followed (any more).")
@problem_responses(bp, 401, 403, 422, 429)
@needs_write
def unfollow_topic(args: dict):
    community.unfollow_topic(caller(), args["tag"])
    transactions.commit()


@bp.route("/me/following/kits/<int:collection_id>", methods=["PUT"])
@bp.response(204, description="Followed (following twice changes nothing).")
@problem_responses(bp, 401, 403, 404, 409, 429)
@needs_write
def follow_kit(collection_id: int):
    """Follow a shared kit: What's new says when it changes or is copied (your own: 409)."""
    community.follow_kit(caller(), visible_collection_or_404(collection_id))
    transactions.commit()


@bp.route("/me/following/kits/<int:collection_id>", methods=["DELETE"])
@bp.response(204, description="Not followed (any more).")
@problem_responses(bp, 401, 403, 404, 429)
@needs_write
def unfollow_kit(collection_id: int):
    community.unfollow_kit(caller(), visible_collection_or_404(collection_id))
    transactions.commit()


# -- what's new ---------------------------------------------------------------------------------


@bp.route("/me/news", methods=["GET"])
@bp.arguments(schemas.Paging, location="query", unknown=RAISE)
@bp.response(200, schemas.News, headers=link_headers())
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 422, 429)
def news(args: dict):
    """What's new: others' shares from the members and topics the caller follows and the
    answers to their requests, newest first, each with why it is news; and the latest
    changes to (and copies of) the kits they follow."""
    member = caller()
    query = community.news_query(member)
    page = db.paginate(query, page=args["page"], per_page=args["per_page"], error_out=False)
    items = community.news_items(member, list(page.items))
    body = {
        "items": _news_entries(items),
        "kits": [_kit_news(n) for n in community.kit_news(member, args["per_page"])],
        "total": page.total or 0,
        "page": args["page"],
        "per_page": args["per_page"],
        "pages": max(1, page.pages),
    }
    return body, 200, page_links("api_follows.news", args["page"], body["pages"])


def _news_entries(items: list[community.NewsItem]) -> list[dict]:
    """Each new resource as a card shows it (the same counts), with its reasons."""
    hits, tags = listings.hits_in_order([item.resource.id for item in items], caller())
    reasons = {item.resource.id: item.reasons for item in items}
    return [
        {"resource": resource_summary(hit, tags.get(hit.id, []), {}), "reasons": reasons[hit.id]}
        for hit in hits
    ]


def _kit_news(news: community.KitNews) -> dict:
    return {"kit": collection_ref(news.kit), "reason": news.reason, "when": news.when}


# -- reports ------------------------------------------------------------------------------------

REPORT_LIMIT = "30 per hour"  # as the report form's


def _reported(response) -> bool:
    """Only a report made counts against the limit, as on the page."""
    return response.status_code == 201


@bp.route("/resources/<int:resource_id>/reports", methods=["POST"])
@bp.arguments(schemas.ReportIn)
@bp.response(201, schemas.ReportOut, description="Reported (again: the open report updated).")
@problem_responses(bp, 401, 403, 404, 422, 429)
@limiter.limit(REPORT_LIMIT, key_func=member_key, deduct_when=_reported, override_defaults=False)
@needs_write
def report_resource(args: dict, resource_id: int):
    """Report a resource to the administrators: the report form's reasons and checks."""
    return _report(args, resource=visible_resource_or_404(resource_id))


@bp.route("/members/<int:member_id>/reports", methods=["POST"])
@bp.arguments(schemas.ReportIn)
@bp.response(201, schemas.ReportOut, description="Reported (again: the open report updated).")
@problem_responses(bp, 401, 403, 404, 422, 429)
@limiter.limit(REPORT_LIMIT, key_func=member_key, deduct_when=_reported, override_defaults=False)
@needs_write
def report_member(args: dict, member_id: int):
    """Report a member to the administrators: the report form's reasons and checks."""
    return _report(args, member=db.get_or_404(Member, member_id))


def _report(args: dict, **target: Resource | Member) -> tuple[dict, int]:
    form = ReportForm(formdata=MultiDict(args), meta={"csrf": False})
    if not form.validate():
        fail("invalid", "Some fields need another look.", errors=dict(form.errors))
    try:
        made = community.report(caller(), form.reason.data, form.note.data or "", **target)
    except community.Refused as exc:
        fail("invalid", str(exc), errors={"note": [str(exc)]})
    transactions.commit()
    return _report_shown(made), 201


def _report_shown(report: Report) -> dict:
    return {
        "id": report.id,
        "reason": report.reason,
        "note": report.note,
        "status": report.status,
        "created_at": report.created_at,
    }
