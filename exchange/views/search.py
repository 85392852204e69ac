"""The search page: results, facets, snippets and suggestions."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from .. import access
from .. import search as search_mod
from ..extensions import db
from ..models import Resource
from ..search.snippets import snippets_for
from ..vocab import AUDIENCES, KINDS, LICENCES
from .helpers import file_label, page_number

log = logging.getLogger(__name__)

bp = Blueprint("search", __name__)

PER_PAGE = 20
# URL argument -> index facet.
FILTER_ARGS = {
    "tag": "tags",
    "kind": "kind",
    "audience": "audience",
    "licence": "licence",
    "format": "format",
}
FACET_TITLES = {
    "tags": "Topic",
    "kind": "Kind",
    "audience": "Audience",
    "licence": "Licence",
    "format": "File type",
}


def _request() -> search_mod.SearchRequest:
    filters = {
        facet: [v for v in request.args.getlist(arg) if v][:10]
        for arg, facet in FILTER_ARGS.items()
        if request.args.getlist(arg)
    }
    return search_mod.SearchRequest(
        q=search_mod.clean_query(request.args.get("q", "")),
        filters=filters,
        sort=request.args.get("sort", ""),
        page=page_number(),
        per_page=PER_PAGE,
    )


def _resources_in_order(ids: list[int]) -> list[Resource]:
    """Re-read the hits from the database (the source of truth), keeping the index's order."""
    if not ids:
        return []
    rows = db.session.scalars(
        select(Resource).where(Resource.id.in_(ids)).options(selectinload(Resource.tags))
    )
    by_id = {r.id: r for r in rows if access.can_view(current_user, r)}
    return [by_id[i] for i in ids if i in by_id]


def search_url(toggle: tuple[str, str] | None = None, **changes: str) -> str:
    """This search's address with one filter toggled or some arguments changed (page reset)."""
    args = MultiDict(request.args)
    args.pop("page", None)
    if toggle:
        name, value = toggle
        values = args.getlist(name)
        args.setlist(
            name, [v for v in values if v != value] if value in values else [*values, value]
        )
    for name, value in changes.items():
        args[name] = value
    return url_for("search.search", **args.to_dict(flat=False))


def facet_label(facet: str, value: str) -> str:
    vocab = {"kind": KINDS, "audience": AUDIENCES, "licence": LICENCES}.get(facet)
    if vocab:
        return vocab.get(value, value)
    return file_label(value) if facet == "format" else value


@bp.route("/search")
def search():
    wanted = _request()
    try:
        results = search_mod.search(wanted)
    except Exception:
        log.exception("search failed for %r", wanted.q)
        abort(
            503,
            description="Search is unavailable for a moment while its index is "
            "repaired. Nothing has been lost; please try again shortly.",
        )
    resources = _resources_in_order(results.ids)
    return render_template(
        "search.html",
        wanted=wanted,
        results=results,
        resources=resources,
        snippets=snippets_for(resources, results.terms),
        pages=max(1, -(-results.total // PER_PAGE)),
        filter_args=FILTER_ARGS,
        facet_args={facet: arg for arg, facet in FILTER_ARGS.items()},
        facet_titles=FACET_TITLES,
        facet_label=facet_label,
        search_url=search_url,
    )
