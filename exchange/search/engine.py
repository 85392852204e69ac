"""Query evaluation over whole posting lists at once, scored exactly as Whoosh scores them.

Whoosh finds matches by stepping matchers through postings one document at a time in
Python; for a common word that is tens of milliseconds, and counting every hit for facets
costs as much again. Here a query tree is evaluated on arrays instead: each term's postings
(read in bulk and cached, see :mod:`.whoosh_internals`) are scored with BM25F using Whoosh's own
statistics and formula, scattered into one score array for the whole index, and combined
with boolean masks (And, Or, AndNot, Not, AndMaybe, Require, prefixes, phrases). Anything
else is handed to Whoosh's own matcher, so every query the parser can produce still works.

An :class:`IndexView` is built once per open searcher (one index generation): the
per-segment arrays of :mod:`.segments` joined into index-wide arrays, plus the mask of
documents that are live (not deleted, not the reserved position document).
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from whoosh import query as wq
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher

from .segments import NO_VALUE, SEGMENTS, Pairs, SegmentArrays, empty_segment
from .whoosh_internals import (
    EMPTY_DOCS,
    LENGTH_OF_BYTE,
    PositionList,
    bm25_parameters,
    read_positions,
    read_postings,
)

log = logging.getLogger(__name__)

MAX_PREFIX_TERMS = 256  # words a prefix* may expand to, per field
TERM_CACHE_BYTES = 96 * 1024 * 1024  # cached postings per process
VIEW_TERM_BYTES = 32 * 1024 * 1024  # joined, scored terms per process


@dataclass
class Hits:
    """Which documents match (``mask``) and their scores (0 wherever mask is False)."""

    mask: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls, size: int) -> Hits:
        return cls(np.zeros(size, dtype=bool), np.zeros(size, dtype=np.float64))


@dataclass(frozen=True)
class TermEntry:
    """A term's postings in one segment, with each document's length in that field."""

    docs: np.ndarray  # int32, segment document numbers
    weights: np.ndarray  # float32
    lengths: np.ndarray  # float32 (empty for unscored fields)

    @property
    def nbytes(self) -> int:
        return self.docs.nbytes + self.weights.nbytes + self.lengths.nbytes


class TermCache:
    """Postings by (segment, field, term), least recently used dropped first; also terms
    joined over a generation (:data:`JOINED`). Anything with ``nbytes`` can be kept."""

    def __init__(self, budget: int = TERM_CACHE_BYTES) -> None:
        self._items: OrderedDict[tuple, TermEntry | PositionList | JoinedTerm] = OrderedDict()
        self.budget = budget
        self.nbytes = 0
        self._lock = threading.Lock()

    def get(self, part: Part, field_name: str, btext: bytes) -> TermEntry:
        """A term's postings in one segment, with the field lengths BM25F needs."""
        key = (part.key, field_name, btext)
        return self._cached(key, lambda: _load_term(part, field_name, btext))

    def positions(self, part: Part, field_name: str, btext: bytes) -> PositionList:
        """A term's word positions in one segment (for phrases)."""
        key = (part.key, field_name, btext, "positions")
        return self._cached(key, lambda: read_positions(part.reader, field_name, btext))

    def _cached(self, key: tuple, load):
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        entry = load()  # outside the lock: two threads may both read, both get the same
        self._put(key, entry)
        return entry

    def _put(self, key: tuple, entry: TermEntry | PositionList | JoinedTerm) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = entry
            self.nbytes += entry.nbytes
            while self.nbytes > self.budget and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self.nbytes -= dropped.nbytes


def _load_term(part: Part, field_name: str, btext: bytes) -> TermEntry:
    postings = read_postings(part.reader, field_name, btext)
    lengths = part.arrays.length_bytes.get(field_name)
    scored = lengths is not None and len(postings.docs)
    gathered = LENGTH_OF_BYTE[lengths[postings.docs]] if scored else postings.weights[:0]
    return TermEntry(postings.docs, postings.weights, gathered)


TERMS = TermCache()


@dataclass(frozen=True)
class JoinedTerm:
    """A term over a whole index generation: documents and their BM25F scores."""

    docs: np.ndarray  # int64, index-wide document numbers
    scores: np.ndarray  # float64

    @property
    def nbytes(self) -> int:
        return self.docs.nbytes + self.scores.nbytes


JOINED = TermCache(VIEW_TERM_BYTES)


def warm(searcher: Searcher, fields: Iterable[str], deadline: float) -> int:
    """Read and join every term of ``fields`` (:data:`TERMS`, :data:`JOINED`), until
    ``time.monotonic()`` passes ``deadline`` or a cache is nearly full; how many terms.

    For a process that forks workers: each then starts with them, shared until written,
    instead of reading postings from disk during its first searches.
    """
    view, loaded = view_of(searcher), 0
    for field_name in fields:
        for btext in searcher.reader().lexicon(field_name):
            if time.monotonic() > deadline or _nearly_full(TERMS) or _nearly_full(JOINED):
                return loaded
            view.term(field_name, btext)  # every segment's postings, then joined
            loaded += 1
    return loaded


def _nearly_full(cache: TermCache) -> bool:
    return cache.nbytes > cache.budget * 0.9


@dataclass
class Part:
    """One segment of the open index: its reader, where its documents start, its arrays."""

    reader: SegmentReader
    offset: int
    arrays: SegmentArrays
    key: str  # the segment's id


@dataclass
class IndexView:
    """One index generation as arrays: what every document is, and which are live."""

    parts: list[Part]
    size: int
    live: np.ndarray
    resource_ids: np.ndarray
    created: np.ndarray
    codes: dict[str, np.ndarray]
    pairs: dict[str, Pairs]
    reader: object  # the searcher's top-level reader: global term statistics
    B: float = 0.75
    K1: float = 1.2
    _stats: dict = field(default_factory=dict)
    generation: tuple = ()  # each segment with its deletions: what the joined terms reflect

    def term(self, field_name: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        """A term's documents (index-wide numbers) and BM25F scores, joined over every
        segment once per generation: a query then costs the same however many segments
        the index has (a rebuild writes several; live commits add more).

        Kept by generation, not by searcher, so a searcher opened later on the same index
        (a worker's, after the master warmed it) finds the terms already joined.
        """
        key = (self.generation, field_name, btext)
        found = JOINED._cached(key, lambda: self._join_term(field_name, btext))
        return found.docs, found.scores

    def _join_term(self, field_name: str, btext: bytes) -> JoinedTerm:
        docs, scores = [EMPTY_DOCS.astype(np.int64)], [np.zeros(0)]
        for part in self.parts:
            entry = TERMS.get(part, field_name, btext)
            if len(entry.docs):
                docs.append(part.offset + entry.docs.astype(np.int64))
                scores.append(_scores(self, field_name, btext, entry))
        return JoinedTerm(np.concatenate(docs), np.concatenate(scores))

    def idf(self, field_name: str, btext: bytes) -> float:
        """Whoosh's BM25F idf: log(all documents / (documents with the term + 1)) + 1."""
        key = ("idf", field_name, btext)
        if key not in self._stats:
            frequency = self.reader.doc_frequency(field_name, btext)
            self._stats[key] = math.log(self.size / (frequency + 1)) + 1
        return self._stats[key]

    def average_length(self, field_name: str) -> float:
        key = ("avgfl", field_name)
        if key not in self._stats:
            average = self.reader.field_length(field_name) / (self.size or 1)
            self._stats[key] = average or 1
        return self._stats[key]


_VIEWS: weakref.WeakKeyDictionary[Searcher, IndexView] = weakref.WeakKeyDictionary()
_VIEWS_LOCK = threading.Lock()


def view_of(searcher: Searcher) -> IndexView:
    """The arrays for this searcher's generation, built on first use and kept while it lives."""
    with _VIEWS_LOCK:
        found = _VIEWS.get(searcher)
    if found is None:
        found = _build_view(searcher)
        with _VIEWS_LOCK:
            _VIEWS[searcher] = found
    return found


def _build_view(searcher: Searcher) -> IndexView:
    parts = [
        Part(reader, offset, SEGMENTS.get(_key_of(reader), reader), _key_of(reader))
        for reader, offset in searcher.reader().leaf_readers()
        if reader.segment() is not None  # an index with no segments yet has an empty reader
    ]
    arrays = [p.arrays for p in parts] or [empty_segment()]
    codes = {name: _joined([a.codes[name] for a in arrays]) for name in arrays[0].codes}
    view = IndexView(
        generation=tuple((p.key, p.reader.segment().deleted_count()) for p in parts),
        parts=parts,
        size=searcher.doc_count_all(),
        live=_live(parts, codes["status"]),
        resource_ids=_joined([a.resource_ids for a in arrays]),
        created=_joined([a.created for a in arrays]),
        codes=codes,
        pairs={name: _joined_pairs(parts, name) for name in arrays[0].pairs},
        reader=searcher.reader(),
    )
    parameters = bm25_parameters(searcher.weighting)
    if parameters is not None:
        view.B, view.K1 = parameters
    return view


def _key_of(reader: SegmentReader) -> str:
    """A segment's cache key: its id, random and never reused (a copied index shares it,
    which is right: the copy holds the same documents)."""
    return reader.segment().segment_id()


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if len(arrays) != 1 else arrays[0]


def _joined_pairs(parts: list[Part], name: str) -> Pairs:
    if not parts:
        return empty_segment().pairs[name]
    docs = [p.arrays.pairs[name].docs.astype(np.int64) + p.offset for p in parts]
    return Pairs(_joined(docs), _joined([p.arrays.pairs[name].codes for p in parts]))


def _live(parts: list[Part], status_codes: np.ndarray) -> np.ndarray:
    """Documents that are neither deleted nor the reserved position document (no status)."""
    live = status_codes != NO_VALUE
    for part in parts:
        deleted = list(part.reader.deleted_docs_set)
        if deleted:
            live[part.offset + np.asarray(deleted, dtype=np.int64)] = False
    return live


# -- evaluating a query tree ---------------------------------------------------------------


def evaluate(view: IndexView, searcher: Searcher, query: wq.Query) -> Hits:
    """The documents matching ``query`` and their BM25F scores, deleted ones left out."""
    hits = _evaluate(view, searcher, query)
    hits.mask &= view.live
    hits.scores[~hits.mask] = 0.0
    return hits


def _evaluate(view: IndexView, searcher: Searcher, query: wq.Query) -> Hits:
    # Exact types only: a subclass (FuzzyTerm is a Term) may match differently.
    hits = _HANDLERS.get(type(query), _fallback)(view, searcher, query)
    boost = getattr(query, "boost", 1.0)
    if boost != 1.0:
        hits.scores *= boost
    return hits


def term_hits(
    view: IndexView, field_name: str, text: str | bytes, into: Hits | None = None
) -> Hits:
    """One term's matches and BM25F scores across every segment.

    With ``into``, they are added to those hits (an Or of terms then needs no array per
    term, which at 100,000 documents is most of its cost).
    """
    hits = into if into is not None else Hits.empty(view.size)
    btext = _to_bytes(view, field_name, text)
    if btext is not None:
        docs, scores = view.term(field_name, btext)
        hits.mask[docs] = True
        hits.scores[docs] += scores
    return hits


def term_docs(view: IndexView, field_name: str, text: str) -> np.ndarray:
    """A term's matching documents as a mask (for filters: no scores needed)."""
    mask = np.zeros(view.size, dtype=bool)
    btext = _to_bytes(view, field_name, text)
    if btext is not None:
        mask[view.term(field_name, btext)[0]] = True
    return mask


def _to_bytes(view: IndexView, field_name: str, text: str | bytes) -> bytes | None:
    schema = view.reader.schema
    if field_name not in schema:
        return None
    try:
        return schema[field_name].to_bytes(text)
    except (ValueError, TypeError):
        return None


def _scores(view: IndexView, field_name: str, btext: bytes, entry: TermEntry) -> np.ndarray:
    """BM25F per posting, in the same order of operations as ``whoosh.scoring.bm25``."""
    weights = entry.weights.astype(np.float64)
    if not len(entry.lengths):
        return weights  # an unscored field: Whoosh's WeightScorer
    idf, avgfl = view.idf(field_name, btext), view.average_length(field_name)
    B, K1 = view.B, view.K1
    lengths = entry.lengths.astype(np.float64)
    return idf * ((weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * lengths / avgfl)))


def _term(view: IndexView, searcher: Searcher, query: wq.Term) -> Hits:
    return term_hits(view, query.fieldname, query.text)


def _or(view: IndexView, searcher: Searcher, query: wq.Or) -> Hits:
    hits = Hits.empty(view.size)
    for sub in query.subqueries:
        if type(sub) is wq.Term and sub.boost == 1.0:
            term_hits(view, sub.fieldname, sub.text, into=hits)
            continue
        found = _evaluate(view, searcher, sub)
        hits.mask |= found.mask
        hits.scores += found.scores
    return hits


def _and(view: IndexView, searcher: Searcher, query: wq.And) -> Hits:
    subs = iter(query.subqueries)
    hits = _evaluate(view, searcher, next(subs))
    for sub in subs:
        found = _evaluate(view, searcher, sub)
        hits.mask &= found.mask
        hits.scores += found.scores
    return _zero_outside(hits)


def _and_not(view: IndexView, searcher: Searcher, query: wq.AndNot) -> Hits:
    hits = _evaluate(view, searcher, query.a)
    hits.mask &= ~_evaluate(view, searcher, query.b).mask
    return _zero_outside(hits)


def _and_maybe(view: IndexView, searcher: Searcher, query: wq.AndMaybe) -> Hits:
    hits = _evaluate(view, searcher, query.a)
    hits.scores += _evaluate(view, searcher, query.b).scores
    return _zero_outside(hits)


def _require(view: IndexView, searcher: Searcher, query: wq.Require) -> Hits:
    hits = _evaluate(view, searcher, query.a)
    hits.mask &= _evaluate(view, searcher, query.b).mask
    return _zero_outside(hits)


def _not(view: IndexView, searcher: Searcher, query: wq.Not) -> Hits:
    """Everything else, each scoring 1.0 (Whoosh's InverseMatcher)."""
    mask = ~_evaluate(view, searcher, query.query).mask & view.live
    return Hits(mask, mask.astype(np.float64))


def _zero_outside(hits: Hits) -> Hits:
    hits.scores[~hits.mask] = 0.0
    return hits


def _prefix(view: IndexView, searcher: Searcher, query: wq.Prefix) -> Hits:
    """An Or of the words starting with the prefix (at most MAX_PREFIX_TERMS of them)."""
    hits = Hits.empty(view.size)
    for btext in expand_prefix(view, query.fieldname, query.text):
        term_hits(view, query.fieldname, btext, into=hits)
    return hits


def expand_prefix(view: IndexView, field_name: str, prefix: str) -> list[bytes]:
    """Indexed words of a field that start with ``prefix``, alphabetically, capped
    (remembered for the generation: every segment's word list is walked to find them)."""
    if field_name not in view.reader.schema:
        return []
    key = ("prefix", field_name, prefix)
    if key not in view._stats:
        view._stats[key] = _words_starting(view, field_name, prefix)
    return view._stats[key]


def _words_starting(view: IndexView, field_name: str, prefix: str) -> list[bytes]:
    words: set[bytes] = set()
    for part in view.parts:
        for btext in part.reader.expand_prefix(field_name, prefix):
            words.add(btext)
            if len(words) >= MAX_PREFIX_TERMS:
                break
    return sorted(words)[:MAX_PREFIX_TERMS]


def _phrase(view: IndexView, searcher: Searcher, query: wq.Phrase) -> Hits:
    """Documents with all the words, then kept only where the words stand in sequence.

    Scores are the words' BM25F scores summed, as Whoosh's phrase matcher does.
    """
    schema = view.reader.schema
    fieldobj = schema[query.fieldname] if query.fieldname in schema else None
    if fieldobj is None or not fieldobj.format.supports("positions"):
        return Hits.empty(view.size)
    words = [term_hits(view, query.fieldname, word) for word in query.words]
    mask = np.logical_and.reduce([w.mask for w in words]) & view.live
    btexts = [_to_bytes(view, query.fieldname, word) for word in query.words]
    for part in view.parts:
        window = mask[part.offset : part.offset + part.arrays.size]
        if window.any():
            window &= _in_sequence(part, query.fieldname, btexts, window)
    return _zero_outside(Hits(mask, sum(w.scores for w in words)))


def _in_sequence(
    part: Part, field_name: str, btexts: list[bytes], candidates: np.ndarray
) -> np.ndarray:
    """Documents of the segment where the words occur one right after another, looked for
    only among ``candidates`` (those holding every word)."""
    keys = [_keys(TERMS.positions(part, field_name, btext), candidates) for btext in btexts]
    starts = keys[0]
    for offset, later in enumerate(keys[1:], start=1):
        starts = starts[_among(starts + offset, later)]
    found = np.zeros(part.arrays.size, dtype=bool)
    found[(starts >> 32).astype(np.int64)] = True
    return found


def _keys(occurrences: PositionList, candidates: np.ndarray) -> np.ndarray:
    """Each occurrence in a candidate document as one number, document then position, so
    the keys ascend as the postings do (documents in order, positions in order in each)."""
    keep = candidates[occurrences.docs]
    docs = occurrences.docs[keep].astype(np.int64)
    return (docs << 32) | occurrences.positions[keep]


def _among(values: np.ndarray, ascending: np.ndarray) -> np.ndarray:
    """Which ``values`` are in ``ascending`` (sorted): a binary search each, where
    ``np.isin`` would sort both arrays again for every phrase."""
    if not len(ascending):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ascending, values), len(ascending) - 1)
    return ascending[at] == values


def _null(view: IndexView, searcher: Searcher, query: wq.Query) -> Hits:
    return Hits.empty(view.size)


def _fallback(view: IndexView, searcher: Searcher, query: wq.Query) -> Hits:
    """Any other query: Whoosh's own matcher, segment by segment (slower, always right)."""
    hits = Hits.empty(view.size)
    for subsearcher, offset in searcher.leaf_searchers():
        try:
            matcher = query.matcher(subsearcher, subsearcher.context())
            docs, scores = _walk(matcher)
        except Exception:  # noqa: BLE001 - an odd query part matches nothing, never a 500
            log.warning("query part %r could not be matched", query, exc_info=True)
            continue
        hits.mask[offset + docs] = True
        hits.scores[offset + docs] += scores
    return hits


def _walk(matcher) -> tuple[np.ndarray, np.ndarray]:
    docs, scores = [], []
    while matcher.is_active():
        docs.append(matcher.id())
        scores.append(matcher.score())
        matcher.next()
    return np.asarray(docs, dtype=np.int64) if docs else EMPTY_DOCS, np.asarray(
        scores, dtype=np.float64
    )


_HANDLERS = {
    wq.Term: _term,
    wq.Or: _or,
    wq.And: _and,
    wq.AndNot: _and_not,
    wq.AndMaybe: _and_maybe,
    wq.Require: _require,
    wq.Not: _not,
    wq.Prefix: _prefix,
    wq.Phrase: _phrase,
    type(wq.NullQuery): _null,
}
