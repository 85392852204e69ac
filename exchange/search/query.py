"""From what a counsellor types to a Whoosh query, and from a query to a page of results.

The query language is the one people already know: words (all must match), "exact
phrases", OR, -exclusions and prefix*. Field syntax, ranges and boosts are switched off,
so no typed character has a special meaning beyond those. Nothing a visitor types can
raise: unparseable input falls back to its plain words.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.qparser import (
    BoostPlugin,
    EveryPlugin,
    FieldsPlugin,
    MultifieldParser,
    PlusMinusPlugin,
    RangePlugin,
    SingleQuotePlugin,
)
from whoosh.searching import Searcher
from whoosh.sorting import Count, FieldFacet

from .schema import FACET_FIELDS, SCHEMA, TEXT_FIELDS

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 300
MIN_PREFIX_CHARS = 2
SORTS = ("relevance", "newest", "downloads")
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Viewer:
    """Who is searching, as far as visibility goes."""

    member_id: int | None = None
    is_admin: bool = False


@dataclass
class SearchRequest:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = ""
    page: int = 1
    per_page: int = 20

    @property
    def effective_sort(self) -> str:
        if self.sort in SORTS:
            return self.sort
        return "relevance" if self.q.strip() else "newest"


@dataclass
class SearchResults:
    ids: list[int]
    total: int
    facets: dict[str, list[tuple[str, int]]]
    terms: list[str]  # stemmed words the query matched on, for highlighting
    suggestion: str = ""
    message: str = ""


def clean_query(raw: str) -> str:
    """Printable text only, at most MAX_QUERY_CHARS, whitespace collapsed."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in raw)
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def _parser() -> MultifieldParser:
    parser = MultifieldParser(list(TEXT_FIELDS), SCHEMA)
    for plugin in (FieldsPlugin, RangePlugin, BoostPlugin, EveryPlugin, SingleQuotePlugin):
        parser.remove_plugin_class(plugin)
    parser.add_plugin(PlusMinusPlugin())
    return parser


PARSER = _parser()


def parse(text: str) -> wq.Query | None:
    """The Whoosh query for cleaned user text; None when it has nothing to search for."""
    if not text:
        return None
    text = _tame_wildcards(_balance_quotes(text))
    try:
        parsed = PARSER.parse(text)
    except Exception:  # noqa: BLE001 - any parser failure falls back to plain words
        log.info("query %r did not parse; searching its words instead", text)
        parsed = PARSER.parse(" ".join(WORD.findall(text)))
    parsed = parsed.normalize()
    return None if parsed is wq.NullQuery else parsed


def _balance_quotes(text: str) -> str:
    return text if text.count('"') % 2 == 0 else text.replace('"', " ")


def _tame_wildcards(text: str) -> str:
    """Keep ``prefix*`` (at least two letters); drop ``?`` and leading or lone ``*``."""
    text = text.replace("?", " ")

    def keep(match: re.Match) -> str:
        stem = match.group(1)
        return f"{stem}*" if len(stem) >= MIN_PREFIX_CHARS else stem

    return re.sub(r"(\w*)\*+", keep, text)


def viewer_filter(viewer: Viewer) -> wq.Query:
    """What this viewer may see: published resources, plus their own, or everything for admins."""
    statuses = ("published", "draft", "hidden") if viewer.is_admin else ("published",)
    allowed: list[wq.Query] = [wq.Term("status", s) for s in statuses]
    if viewer.member_id is not None and not viewer.is_admin:
        allowed.append(wq.Term("owner", str(viewer.member_id)))
    return wq.Or(allowed)


def facet_filter(filters: dict[str, list[str]]) -> list[wq.Query]:
    return [
        wq.Term(name, value)
        for name, values in filters.items()
        if name in FACET_FIELDS
        for value in values
    ]


def matched_terms(query: wq.Query | None) -> list[str]:
    """The words (stems and prefixes) of a query that should be highlighted."""
    if query is None:
        return []
    words = []
    for term in query.iter_all_terms(phrases=True):
        if term[0] in TEXT_FIELDS and isinstance(term[1], str):
            words.append(term[1])
    for sub in query.leaves():
        if isinstance(sub, wq.Prefix):
            words.append(sub.text)
    return sorted(set(words) - _excluded_terms(query))


def _excluded_terms(query: wq.Query) -> set[str]:
    excluded = set()
    for sub in _walk(query):
        if isinstance(sub, wq.Not | wq.AndNot):
            target = sub.query if isinstance(sub, wq.Not) else sub.b
            excluded |= {t[1] for t in target.iter_all_terms() if isinstance(t[1], str)}
    return excluded


def _walk(query: wq.Query):
    yield query
    for child in query.children():
        yield from _walk(child)


def run(searcher: Searcher, request: SearchRequest, viewer: Viewer) -> SearchResults:
    """One page of results, the total, and facet counts, all limited to what ``viewer`` may see."""
    text = clean_query(request.q)
    query = parse(text)
    if text and query is None:
        return SearchResults([], 0, {}, [], message="Try some more specific words.")
    restrictions = [viewer_filter(viewer), *facet_filter(request.filters)]
    # Not wq.Every() for an empty query: Whoosh's And(Every, x) normalises to Every.
    combined = wq.And([*([query] if query else []), *restrictions]).normalize()
    results = searcher.search_page(
        combined,
        request.page,
        pagelen=request.per_page,
        groupedby=_facets(),
        maptype=Count,
        **_sorting(request.effective_sort),
    )
    ids = [int(hit["id"]) for hit in results]
    facets = {name: _facet_counts(results.results, name) for name in FACET_FIELDS}
    found = SearchResults(ids, results.total, facets, matched_terms(query))
    if found.total == 0 and query is not None:
        found.suggestion = suggest(searcher, query, text, restrictions)
    return found


def _facets() -> dict[str, FieldFacet]:
    return {
        name: FieldFacet(name, allow_overlap=name in ("tags", "format")) for name in FACET_FIELDS
    }


def _facet_counts(results, name: str) -> list[tuple[str, int]]:
    groups = results.groups(name)
    pairs = [(value, count) for value, count in groups.items() if value]
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


def _sorting(sort: str) -> dict:
    if sort == "newest":
        return {"sortedby": "created", "reverse": True}
    if sort == "downloads":
        return {"sortedby": ["downloads", "created"], "reverse": True}
    return {}


def suggest(searcher: Searcher, query: wq.Query, text: str, restrictions: list[wq.Query]) -> str:
    """A corrected query, offered only if it finds something this viewer may see."""
    try:
        corrected = searcher.correct_query(query, text, prefix=1)
    except Exception:  # noqa: BLE001 - a suggestion is a nicety, never an error
        return ""
    if not corrected.string or corrected.string == text:
        return ""
    # Re-parse: the corrector's own query holds unstemmed words the index does not have.
    reparsed = parse(corrected.string)
    if reparsed is None:
        return ""
    visible = wq.And([reparsed, *restrictions])
    return corrected.string if searcher.search(visible, limit=1).scored_length() else ""
