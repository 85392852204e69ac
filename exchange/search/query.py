"""From what a counsellor types to a Whoosh query, and from a query to a page of results.

The query language is the one people already know: words (all must match), "exact
phrases", OR, -exclusions and prefix*. Field syntax, ranges and boosts are switched off,
so no typed character has a special meaning beyond those. Nothing a visitor types can
raise: unparseable input falls back to its plain words.

Whoosh parses the words; :mod:`.engine` matches and ranks them on arrays (BM25F, exactly
as Whoosh ranks), and :mod:`.results` narrows to what the viewer may see, counts facets
and cuts one page, so counting 100,000 hits costs about as much as counting ten.
"""

from __future__ import annotations

import copy
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
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
from whoosh.spelling import Corrector

from .engine import IndexView, evaluate, view_of
from .results import Visible, facet_counts, filter_mask, page_of, visible_mask
from .schema import SCHEMA, SPELLING_ALIASES, TEXT_FIELDS

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 300
MIN_PREFIX_CHARS = 2
SORTS = ("relevance", "newest", "downloads", "thanks")
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class SearchRequest:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = ""
    page: int = 1
    per_page: int = 20

    @property
    def effective_sort(self) -> str:
        """The sort asked for, else best match for words and newest for none (browsing
        has nothing to be relevant to)."""
        relevance = "relevance" if self.q.strip() else "newest"
        if self.sort in SORTS and self.sort != "relevance":
            return self.sort
        return relevance


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


@lru_cache(maxsize=2048)
def parse(text: str) -> wq.Query | None:
    """The Whoosh query for cleaned user text; None when it has nothing to search for.

    Cached: parsing costs about a millisecond and people repeat the same searches. The
    queries returned are shared, so nothing may change them in place.
    """
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


def run(searcher: Searcher, request: SearchRequest, visible: Visible) -> SearchResults:
    """One page of results, the total, and facet counts, all limited to what is ``visible``.

    Ranking is Whoosh's BM25F; the work is done on arrays (see :mod:`.engine`).
    """
    text = clean_query(request.q)
    query = parse(text)
    if text and query is None:
        return SearchResults([], 0, {}, [], message="Try some more specific words.")
    view = view_of(searcher)
    allowed = visible_mask(view, visible)
    allowed &= filter_mask(view, request.filters)
    matched = evaluate(view, searcher, query) if query is not None else None
    hits = allowed & matched.mask if matched is not None else allowed
    scores = matched.scores if matched is not None else None
    docs = page_of(view, hits, scores, request.effective_sort, request.page, request.per_page)
    found = SearchResults(
        ids=view.resource_ids[docs].tolist(),
        total=int(np.count_nonzero(hits)),
        facets=facet_counts(view, hits),
        terms=matched_terms(query),
    )
    if found.total == 0 and query is not None:
        found.suggestion = suggest(view, searcher, query, text, allowed)
    return found


class OncePerWord(Corrector):
    """Whoosh asks for a word's corrections once for every field the word was searched in;
    every text field takes them from the one spelling field, so it was the same question
    six times over (most of a search that found nothing: 150 ms on a small index)."""

    def __init__(self, corrector: Corrector) -> None:
        self._corrector = corrector
        self._answers: dict[tuple, list[str]] = {}

    def suggest(self, text: str, limit: int = 5, maxdist: int = 2, prefix: int = 0) -> list:
        key = (text, limit, maxdist, prefix)
        if key not in self._answers:
            self._answers[key] = self._corrector.suggest(
                text, limit=limit, maxdist=maxdist, prefix=prefix
            )
        return self._answers[key]


def suggest(
    view: IndexView, searcher: Searcher, query: wq.Query, text: str, allowed: np.ndarray
) -> str:
    """A corrected query, offered only if it finds something this viewer may see."""
    try:
        # A copy: Whoosh's correction edits phrase word lists in place, and parses are cached.
        corrector = OncePerWord(searcher.reader().corrector("spelling"))
        corrected = searcher.correct_query(
            copy.deepcopy(query),
            text,
            prefix=1,
            aliases=SPELLING_ALIASES,
            correctors={"spelling": corrector},
        )
    except Exception:  # noqa: BLE001 - a suggestion is a nicety, never an error
        return ""
    if not corrected.string or corrected.string == text:
        return ""
    # Re-parse: the corrector's own query holds unstemmed words the index does not have.
    reparsed = parse(corrected.string)
    if reparsed is None:
        return ""
    visible = evaluate(view, searcher, reparsed).mask & allowed
    return corrected.string if visible.any() else ""
