"""The catalogue pages: search (words) and browse (none), one template and one query path,
with facets, sort, pages, snippets, suggestions and cards."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from .. import community
from .. import search as search_mod
from ..i18n import label
from ..resources import listings
from ..vocab import AUDIENCES, KINDS, LANGUAGES, LICENCES
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
    "language": "language",
    "format": "format",
}
FACET_ARGS = {facet: arg for arg, facet in FILTER_ARGS.items()}
# Sorts offered, in order; best match only when there are words to match.
SORTS = {
    "relevance": _l("Best match"),
    "newest": _l("Newest"),
    "downloads": _l("Most downloaded"),
    "thanks": _l("Most thanked"),
}
FACET_TITLES = {
    "tags": _l("Topic"),
    "kind": _l("Kind"),
    "audience": _l("Audience"),
    "licence": _l("Licence"),
    "language": _l("Language"),
    "format": _l("File type"),
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
    vocab = {"kind": KINDS, "audience": AUDIENCES, "licence": LICENCES, "language": LANGUAGES}
    vocab = vocab.get(facet)
    if vocab:
        return label(vocab.get(value, value))
    return file_label(value) if facet == "format" else value


@bp.route("/search")
def search():
    return catalogue_page("search.search")


def sorts_for(wanted: search_mod.SearchRequest) -> list[tuple[str, str]]:
    """The sorts to offer: best match only when there are words to match."""
    return [(v, label) for v, label in SORTS.items() if wanted.q or v != "relevance"]


def catalogue_page(endpoint: str):
    """Browse (``resources.index``) or search (``search.search``): the same query, the same
    template; browsing is a search without words."""
    wanted = _request()
    try:
        found = listings.catalogue(wanted, current_user._get_current_object())
    except Exception:
        log.exception("search failed for %r", wanted.q)
        abort(
            503,
            description=_(
                "Search is unavailable for a moment while its index is "
                "repaired. Nothing has been lost; please try again shortly."
            ),
        )
    links = SearchLinks(request_url(endpoint), request.args)
    terms = found.results.terms
    snippets = search_mod.snippets_for(found.hits, terms)
    return render_template(
        "search.html",
        browsing=endpoint != "search.search",
        wanted=wanted,
        results=found.results,
        resources=found.hits,
        cards=search_cards(found.hits, snippets, found.tags_by_id, terms),
        pages=found.pages,
        filter_args=FILTER_ARGS,
        facets=facets_of(found.results, links),
        sorts=sorts_for(wanted),
        links=links,
        kits=_kits_for(wanted),
    )


def _kits_for(wanted: search_mod.SearchRequest) -> list:
    """Workshop kits matching the words, above the resources on a search's first page only
    (browsing, filters and later pages are about resources)."""
    if not wanted.q or wanted.page > 1 or wanted.filters:
        return []
    return community.find_kits(wanted.q, current_user._get_current_object())
