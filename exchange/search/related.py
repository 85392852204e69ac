""" "More like this": the resources nearest to one resource, by its key terms, its tags and
what members took along with it.

Three signals, each scaled to 0…1 over the candidates and added up:

* **Key terms** (weight 1): Whoosh's own key-term extraction (``classify.Expander`` with the
  Bo1 model, what ``Searcher.more_like`` uses) picks each text field's most telling words
  from the resource's own text, and the resources are scored for them as a search would
  (BM25F, each word weighted by how telling it is). The schema neither stores nor vectors
  the texts (that would double the index), so the text comes from the database, as the
  resource's page has already read it: the title, synopsis, "how I use it" and the start
  of each file's text. Words only this resource uses match nothing else and are skipped.
* **Shared tags** (weight ``TAG_WEIGHT``): the tags it shares, each counting as much as
  it is rare.
* **Taken together** (weight ``TOGETHER_WEIGHT``): how many members took both
  (:func:`exchange.counts.taken_together`, only pairs of three members or more).

The ranking of a resource never changes within an index generation and does not depend on
who looks, so its best ``SHORTLIST`` candidates are kept (:data:`RELATED`, least recently
used dropped first) and each viewer takes from them what they may see (search's rule,
:func:`.results.visible_among`): a resource page then costs a look-up and a few array
reads. Any change to the index (a share, an edit, a deletion) is a new generation, so a
resource shared a moment ago appears as soon as the index has it. A new download alone does
not start one: "taken together" is as of the index's last change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from whoosh.classify import Bo1Model, Expander
from whoosh.searching import Searcher

from ..counts import taken_together
from .engine import IndexView, term_docs, view_of
from .results import Visible, top_k, visible_among, visible_mask

# How many key terms each text field contributes (the tags count separately).
KEY_TERMS = {"title": 3, "synopsis": 5, "how_used": 2, "content": 8}
CONTENT_CHARS = 2000  # of the files' text: enough to tell what they are about
# A word in more than this share of the documents (and more than COMMON_FLOOR of them) is
# too common to tell resources apart, and its postings are the dearest to read.
COMMON_SHARE = 0.02
COMMON_FLOOR = 100
TAG_WEIGHT = 0.5
TOGETHER_WEIGHT = 1.0
# Below this a resource is hardly like it (a word or two in common with the best match):
# better a shorter list than a padded one.
MIN_SCORE = 0.15
RELATED_KEPT = 8192  # shortlists per process: (generation, resource[, visibility])
SHORTLIST = 30  # candidates kept per resource, from which each viewer takes what they may see


@dataclass(frozen=True)
class Likeness:
    """What a resource is like: its id and its own texts, as its page read them."""

    resource_id: int
    title: str = ""
    synopsis: str = ""
    how_used: str = ""
    content: str = ""
    tags: tuple[str, ...] = ()

    def text_of(self, field_name: str) -> str:
        text = getattr(self, field_name)
        return text[:CONTENT_CHARS] if field_name == "content" else text


@dataclass(frozen=True)
class Related:
    """One resource like it, and whether members who took the one took it too."""

    resource_id: int
    taken_together: bool = False


@dataclass(frozen=True)
class Shortlist:
    """A resource's best candidates in one index generation, best first."""

    docs: np.ndarray  # index-wide document numbers
    together: np.ndarray  # bool: taken together with the resource by enough members
    complete: bool  # no other document scored MIN_SCORE or more


class ShortlistCache:
    """Shortlists by (generation, resource id[, visibility]), least recently used dropped
    first."""

    def __init__(self, limit: int = RELATED_KEPT) -> None:
        self._items: OrderedDict[tuple, Shortlist] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, key: tuple, make: Callable[[], Shortlist]) -> Shortlist:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = make()  # outside the lock: two threads may both rank, both get the same
        with self._lock:
            self._items[key] = found
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
        return found


RELATED = ShortlistCache()
EVERYONE = Visible(everything=True)


def related_resources(
    searcher: Searcher, likeness: Likeness, visible: Visible, limit: int
) -> list[Related]:
    """Up to ``limit`` resources like ``likeness``'s that ``visible`` allows, best first.

    The ranking is the same for every viewer, so one shortlist per resource and generation
    serves them all, each taking what they may see from it; only when it holds too few of
    those (a visitor, say, where most close matches are for members) is the resource ranked
    again over what this viewer may see, and that list kept for that viewer.
    """
    view = view_of(searcher)
    key = (view.generation, likeness.resource_id)
    shortlist = RELATED.get(key, lambda: _shortlist(view, likeness, EVERYONE, SHORTLIST))
    shown = visible_among(view, visible, shortlist.docs)
    if np.count_nonzero(shown) < limit and not shortlist.complete:
        mine = (*key, visible, limit)
        shortlist = RELATED.get(mine, lambda: _shortlist(view, likeness, visible, limit))
        shown = visible_among(view, visible, shortlist.docs)
    pairs = zip(shortlist.docs[shown][:limit], shortlist.together[shown][:limit], strict=True)
    return [Related(int(view.resource_ids[doc]), bool(together)) for doc, together in pairs]


def _shortlist(view: IndexView, likeness: Likeness, visible: Visible, size: int) -> Shortlist:
    """The ``size`` best documents ``visible`` allows. Each signal is scaled by its best over
    every live document, so a score does not depend on who is looking."""
    live = view.live & (view.resource_ids != likeness.resource_id)
    together = _together(view, likeness.resource_id)
    score = _scaled(_text_scores(view, likeness), live)
    score += TAG_WEIGHT * _tag_scores(view, likeness.tags)
    score += TOGETHER_WEIGHT * _scaled(together, live)
    candidates = np.flatnonzero(visible_mask(view, visible) & live & (score >= MIN_SCORE))
    best = candidates[top_k([score[candidates]], size)]
    return Shortlist(best, together[best] > 0, complete=len(best) == len(candidates))


def _scaled(scores: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Scores divided by the best among ``among`` (0…1 there); zero elsewhere."""
    scores = np.where(among, scores, 0.0)
    best = scores.max(initial=0.0)
    return scores / best if best > 0 else scores


# -- key terms -------------------------------------------------------------------------------


def _text_scores(view: IndexView, likeness: Likeness) -> np.ndarray:
    """Each document's BM25F score for the resource's key terms, each weighted by how
    telling the term is (Whoosh's ``more_like``, over every text field at once)."""
    scores = np.zeros(view.size)
    for field_name, count in KEY_TERMS.items():
        for btext, weight in key_terms(view, field_name, likeness.text_of(field_name), count):
            docs, term_scores = view.term(field_name, btext)
            scores[docs] += weight * term_scores
    return scores


def key_terms(view: IndexView, field_name: str, text: str, count: int) -> list[tuple[bytes, float]]:
    """The ``count`` words of ``text`` that best tell it apart in ``field_name`` (Whoosh's
    Bo1 expansion model, weights 0…1), leaving out words no other document uses and words
    too common to tell documents apart."""
    if not text.strip() or field_name not in view.reader.schema:
        return []
    expander = Expander(RememberedStatistics(view), field_name, model=Bo1Model)
    expander.add_text(text)
    field = view.reader.schema[field_name]
    common = max(COMMON_FLOOR, COMMON_SHARE * view.size)
    found = []
    for word, weight in expander.expanded_terms(count * 2, normalize=False):
        btext = field.to_bytes(word)
        if 1 < _document_frequency(view, field_name, btext) <= common:
            found.append((btext, weight))
    return found[:count]


class RememberedStatistics:
    """The index's reader as Whoosh's ``Expander`` reads it, each word's collection
    frequency remembered for the generation: asking a segment costs a file-table look-up
    per word and segment, and pages ask for the same common words again and again."""

    def __init__(self, view: IndexView) -> None:
        self._view = view
        self.schema = view.reader.schema

    def doc_count_all(self) -> int:
        return self._view.reader.doc_count_all()

    def field_length(self, field_name: str) -> int:
        return self._view.reader.field_length(field_name)

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        return self.frequency(*term) > 0

    def frequency(self, field_name: str, btext: bytes) -> float:
        key = ("frequency", field_name, btext)
        stats = self._view._stats
        if key not in stats:
            stats[key] = self._view.reader.frequency(field_name, btext)
        return stats[key]


def _document_frequency(view: IndexView, field_name: str, btext: bytes) -> int:
    key = ("documents", field_name, btext)
    if key not in view._stats:
        view._stats[key] = view.reader.doc_frequency(field_name, btext)
    return view._stats[key]


# -- tags and members ----------------------------------------------------------------------


def _tag_scores(view: IndexView, tags: tuple[str, ...]) -> np.ndarray:
    """The share of the resource's tags each document has too, rarer tags counting more."""
    scores, total = np.zeros(view.size), 0.0
    for name in tags:
        weight = view.idf("tags", name.encode())
        scores += weight * term_docs(view, "tags", name)
        total += weight
    return scores / total if total else scores


def _together(view: IndexView, resource_id: int) -> np.ndarray:
    """Per document, how many members took both it and the resource (0 below the rule's
    minimum)."""
    members = np.zeros(view.size)
    counts = taken_together(resource_id)
    if counts:
        ids = np.fromiter(counts, dtype=np.int64)
        docs = np.flatnonzero(np.isin(view.resource_ids, ids) & view.live)
        found = dict(zip(ids.tolist(), counts.values(), strict=True))
        members[docs] = [found[int(i)] for i in view.resource_ids[docs]]
    return members
