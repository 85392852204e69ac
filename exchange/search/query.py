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
from whoosh.support.levenshtein import damerau_levenshtein

from .analysis import CJK_RUN, analysis_language, expand, fold, is_cjk
from .engine import IndexView, evaluate, view_of
from .results import Visible, facet_counts, filter_mask, page_of, visible_mask
from .schema import SCHEMA, SPELLABLE_WORD, TEXT_FIELDS
from .segments import VOCABULARIES

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


@lru_cache(maxsize=2048)
def parse_for(text: str, languages: tuple[str, ...]) -> wq.Query | None:
    """The query for cleaned user text, each word standing for its forms in ``languages``
    (see :func:`.analysis.expand`); None when it has nothing to search for. Cached, and
    shared like :func:`parse`'s."""
    parsed = parse(text)
    if parsed is None:
        return None
    expanded = expand(parsed, TEXT_FIELDS, languages)
    return None if expanded is wq.NullQuery else expanded


def languages_in(view: IndexView) -> tuple[str, ...]:
    """The analysis rules the index's resources and their files were written with (a
    query's words need only their forms under these), remembered for the generation."""
    key = ("languages",)
    if key not in view._stats:
        names = VOCABULARIES["language"].values
        pairs = view.pairs["language"]
        codes = np.unique(pairs.codes[view.live[pairs.docs]]).tolist()
        view._stats[key] = tuple(sorted({analysis_language(names[c]) for c in codes} | {"en"}))
    return view._stats[key]


def matched_terms(query: wq.Query | None, text: str = "") -> list[str]:
    """The words (stems and prefixes, accents folded) of a query that should be
    highlighted; a run of CJK characters as typed rather than its character pairs."""
    if query is None:
        return []
    words = []
    for term in query.iter_all_terms(phrases=True):
        if term[0] in TEXT_FIELDS and isinstance(term[1], str):
            words.append(term[1])
    for sub in query.leaves():
        if isinstance(sub, wq.Prefix):
            words.append(sub.text)
    kept = {fold(w) for w in set(words) - _excluded_terms(query) if not is_cjk(w)}
    if any(is_cjk(w) for w in words):
        kept |= set(CJK_RUN.findall(text))
    return sorted(kept)


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
    view = view_of(searcher)
    query = parse_for(text, languages_in(view)) if text else None
    if text and query is None:
        return SearchResults([], 0, {}, [], message="Try some more specific words.")
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
        terms=matched_terms(query, text),
    )
    if found.total == 0 and query is not None:
        found.suggestion = suggest(view, searcher, text, allowed)
    return found


OPERATORS = frozenset(("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"))
MAX_EDITS = 2


def suggest(view: IndexView, searcher: Searcher, text: str, allowed: np.ndarray) -> str:
    """A corrected query, offered only if it finds something this viewer may see."""
    try:
        corrected = corrected_text(searcher.reader(), text)
    except Exception:  # noqa: BLE001 - a suggestion is a nicety, never an error
        log.warning("no spelling suggestion for %r", text, exc_info=True)
        return ""
    if corrected == text:
        return ""
    reparsed = parse_for(corrected, languages_in(view))
    if reparsed is None:
        return ""
    visible = evaluate(view, searcher, reparsed).mask & allowed
    return corrected if visible.any() else ""


def corrected_text(reader, text: str) -> str:
    """``text`` with each word the index has never seen replaced by its best correction."""

    def corrected(match: re.Match) -> str:
        word = match.group(0)
        if word in OPERATORS:
            return word
        return best_correction(reader, word.lower()) or word

    return WORD.sub(corrected, text)


def best_correction(reader, word: str) -> str | None:
    """The known word nearest to ``word`` by edit distance, the most used among equally
    near ones (a title or tag word counts :data:`~.schema.TITLE_WORD_WEIGHT` uses): so
    "intervew" is corrected to "interview", one edit away, not to a commoner word two
    edits away. Whoosh's own corrector ranked every word within two edits by frequency
    alone. The first letter is kept: people rarely mistype it, and it makes this fast."""
    if not SPELLABLE_WORD.fullmatch(word) or ("spelling", word) in reader:
        return None
    candidates = reader.terms_within("spelling", word, MAX_EDITS, prefix=1)
    ranked = [
        (damerau_levenshtein(word, found), -reader.frequency("spelling", found), found)
        for found in candidates
        if found != word
    ]
    return min(ranked)[2] if ranked else None
