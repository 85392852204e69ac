"""The search page: results, facets, snippets and suggestions."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import bindparam, func, select
from werkzeug.datastructures import MultiDict

from .. import access
from .. import search as search_mod
from ..extensions import db
from ..models import Resource, Tag, resource_tags
from ..vocab import AUDIENCES, KINDS, LICENCES
from .cards import search_cards
from .helpers import file_label, page_number, query_quote, request_url

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
FACET_ARGS = {facet: arg for arg, facet in FILTER_ARGS.items()}
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


@dataclass(frozen=True, slots=True)
class Hit:
    """One result as its card shows it: the resource's own columns, read with Core.

    Loading ORM objects was most of what re-reading a page of hits cost. The labels are the
    model's own properties, so a card reads the same from a Hit as from a Resource, and
    :func:`access.can_view` decides from the same ``status``, ``owner_id`` and ``visibility``
    columns.
    """

    id: int
    owner_id: int
    title: str
    synopsis: str
    how_used: str
    kind: str
    audience: str
    licence: str
    credit_name: str
    status: str
    visibility: str
    download_count: int
    created_at: datetime

    anonymous = Resource.anonymous
    kind_label = Resource.kind_label
    audience_label = Resource.audience_label
    licence_label = Resource.licence_label


# Built once, as every results page runs it: the hits, each with its tag names (all a card
# shows of tags) in one round trip and one row. Tag names never hold a line break
# (:func:`vocab.normalise_tag` folds all white space), so one joins them.
_RESOURCES = Resource.__table__
_TAGS = Tag.__table__
_TAG_NAMES = (
    select(func.aggregate_strings(_TAGS.c.name, "\n"))
    .select_from(resource_tags.join(_TAGS, _TAGS.c.id == resource_tags.c.tag_id))
    .where(resource_tags.c.resource_id == _RESOURCES.c.id)
    .scalar_subquery()
)
_HITS = select(*(_RESOURCES.c[f.name] for f in fields(Hit)), _TAG_NAMES).where(
    _RESOURCES.c.id.in_(bindparam("ids", expanding=True))
)


def _hits_in_order(ids: list[int]) -> tuple[list[Hit], dict[int, list[str]]]:
    """Re-read the hits from the database (the source of truth), keeping the index's order,
    with each one's tag names in the order its card lists them."""
    found: dict[int, Hit] = {}
    tags: dict[int, list[str]] = {}
    if ids:
        for *columns, tag_names in db.session.connection().execute(_HITS, {"ids": ids}):
            found[columns[0]] = Hit(*columns)
            tags[columns[0]] = sorted(tag_names.split("\n")) if tag_names else []
    viewer = current_user._get_current_object()
    shown = [found[i] for i in ids if i in found and access.can_view(viewer, found[i])]
    return shown, tags


class SearchLinks:
    """This search's address with one filter toggled or one argument changed (page reset).

    A results page has dozens of these links; each is the request's own arguments, in their
    order, after one ``url_for`` address, encoded exactly as ``url_for`` would encode them.
    Every argument is encoded once, so a link costs little more than joining strings.
    """

    def __init__(self, base: str, args: MultiDict) -> None:
        self.base = base
        self._names = [name for name in args if name != "page"]
        self._values = {name: args.getlist(name) for name in self._names}
        self._encoded = {name: _encoded(name, self._values[name]) for name in self._names}

    def toggled(self, name: str, value: str) -> str:
        values = self._values.get(name, [])
        if value in values:
            return self._with(name, [v for v in values if v != value])
        return self._with(name, [*values, value])

    def changed(self, name: str, value: object) -> str:
        return self._with(name, [value])

    def _with(self, name: str, values: list) -> str:
        changed = _encoded(name, values)
        parts = [changed if n == name else self._encoded[n] for n in self._names]
        if name not in self._values:
            parts.append(changed)
        query = "&".join(part for part in parts if part)
        return f"{self.base}?{query}" if query else self.base


def _encoded(name: str, values: list) -> str:
    key = query_quote(name)
    return "&".join(f"{key}={query_quote(str(value))}" for value in values)


@dataclass(frozen=True)
class FacetLink:
    label: str
    href: str
    count: int
    chosen: bool


@dataclass(frozen=True)
class Facet:
    """One facet as the page lists it: its counted values, then chosen values without hits."""

    title: str
    counted: list[FacetLink]
    uncounted: list[FacetLink]


def facets_of(results: search_mod.SearchResults, links: SearchLinks) -> list[Facet]:
    """The facets worth showing: those with values among the hits or a value chosen."""
    facets = []
    for facet, title in FACET_TITLES.items():
        arg = FACET_ARGS[facet]
        counts = results.facets.get(facet, [])
        chosen = request.args.getlist(arg)
        if not (counts or chosen):
            continue
        counted = [
            FacetLink(facet_label(facet, v), links.toggled(arg, v), n, v in chosen)
            for v, n in counts[:12]
        ]
        known = {v for v, _ in counts}
        uncounted = [
            FacetLink(facet_label(facet, v), links.toggled(arg, v), 0, True)
            for v in chosen
            if v not in known
        ]
        facets.append(Facet(title, counted, uncounted))
    return facets


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
    resources, tags_by_id = _hits_in_order(results.ids)
    links = SearchLinks(request_url("search.search"), request.args)
    snippets = search_mod.snippets_for(resources, results.terms)
    return render_template(
        "search.html",
        wanted=wanted,
        results=results,
        resources=resources,
        cards=search_cards(resources, snippets, tags_by_id),
        pages=max(1, -(-results.total // PER_PAGE)),
        filter_args=FILTER_ARGS,
        facets=facets_of(results, links),
        links=links,
    )
