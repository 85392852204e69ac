"""From a mask of matching documents to what the page shows: who may see them, facet
counts, and one page in the chosen order.

Everything here is a handful of numpy operations over index-wide arrays, so counting every
hit for the facets costs about as much for 100,000 hits as for ten.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import IndexView, term_docs
from .popularity import download_counts, thanks_counts
from .schema import FACET_FIELDS
from .segments import NO_VALUE, VOCABULARIES


@dataclass(frozen=True)
class Visible:
    """Which documents a search may return, as :func:`exchange.access.search_visibility`
    decides for a viewer: every live one (``everything``), or those whose status is in
    ``statuses`` and whose visibility is not in ``hidden``, plus those ``owner_id`` owns.

    Search applies it inside the index, before counting, faceting and paging, so totals,
    facets and pages follow the same rule as every listing."""

    everything: bool = False
    statuses: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    owner_id: int | None = None


def visible_mask(view: IndexView, visible: Visible) -> np.ndarray:
    """The documents ``visible`` allows (the rule itself is :mod:`exchange.access`'s)."""
    return _visible(view, visible, None)


def visible_among(view: IndexView, visible: Visible, docs: np.ndarray) -> np.ndarray:
    """Which of ``docs`` ``visible`` allows: :func:`visible_mask`'s rule, computed for a
    few documents only (a short list of candidates, asked about by every viewer)."""
    return _visible(view, visible, docs)


def _visible(view: IndexView, visible: Visible, docs: np.ndarray | None) -> np.ndarray:
    def at(array: np.ndarray) -> np.ndarray:
        return array if docs is None else array[docs]

    live = at(view.live)
    if visible.everything:
        return live.copy()
    mask = np.zeros(len(live), dtype=bool)
    statuses = at(view.codes["status"])
    for status in visible.statuses:
        code = VOCABULARIES["status"].lookup(status)
        if code is not None:
            mask |= statuses == code
    for value in visible.hidden:
        mask &= ~at(term_docs(view, "visibility", value))
    if visible.owner_id is not None:
        mask |= at(term_docs(view, "owner", str(visible.owner_id)))
    return mask & live


def filter_mask(view: IndexView, filters: dict[str, list[str]]) -> np.ndarray:
    """Documents carrying every chosen facet value (several filters narrow together)."""
    mask = np.ones(view.size, dtype=bool)
    for name, values in filters.items():
        if name in FACET_FIELDS:
            for value in values:
                mask &= term_docs(view, name, value)
    return mask


def facet_counts(view: IndexView, hits: np.ndarray) -> dict[str, list[tuple[str, int]]]:
    """For each facet, its values among the hits with how many hits have each, most first."""
    return {name: _counts(view, name, hits) for name in FACET_FIELDS}


def _counts(view: IndexView, name: str, hits: np.ndarray) -> list[tuple[str, int]]:
    vocabulary = VOCABULARIES[name]
    if name in view.codes:
        codes = view.codes[name][hits]
    else:
        pairs = view.pairs[name]
        codes = pairs.codes[hits[pairs.docs]]
    counts = np.bincount(codes, minlength=len(vocabulary))
    found = [
        (vocabulary.values[code], int(counts[code]))
        for code in np.flatnonzero(counts).tolist()
        if code != NO_VALUE
    ]
    return sorted(found, key=lambda pair: (-pair[1], pair[0]))


def page_of(
    view: IndexView,
    hits: np.ndarray,
    scores: np.ndarray | None,
    sort: str,
    page: int,
    per_page: int,
) -> np.ndarray:
    """Document numbers of one page of hits; a page past the end shows the last page."""
    candidates = np.flatnonzero(hits)
    pages = max(1, -(-len(candidates) // per_page))
    page = min(max(page, 1), pages)
    keys = sort_keys(view, candidates, scores, sort)
    chosen = candidates[top_k(keys, page * per_page)]
    return chosen[(page - 1) * per_page :]


# Sorts by a count the database keeps (newest first among equals).
POPULARITY = {"downloads": download_counts, "thanks": thanks_counts}


def sort_keys(
    view: IndexView, candidates: np.ndarray, scores: np.ndarray | None, sort: str
) -> list[np.ndarray]:
    """Keys to order the candidates by, most significant first, all descending.

    Ties go to the lower document number, as in Whoosh's own collector.
    """
    if sort in POPULARITY:
        counted = POPULARITY[sort]().of(view.resource_ids[candidates])
        return [counted, view.created[candidates].astype(np.int64)]
    if sort == "newest" or scores is None:
        return [view.created[candidates].astype(np.int64)]
    return [scores[candidates]]


def top_k(keys: list[np.ndarray], k: int) -> np.ndarray:
    """Positions of the ``k`` best rows by ``keys`` (descending), ties by position, in order.

    Rows that clearly make the cut are found with a partition; rows tied at the cut-off
    are settled by the next key, so the result equals a full sort's first ``k`` rows.
    """
    count = len(keys[0])
    chosen = _best_rows(keys, k) if count > k else np.arange(count)
    order = np.lexsort((chosen, *[-key[chosen] for key in reversed(keys)]))
    return chosen[order]


def _best_rows(keys: list[np.ndarray], k: int) -> np.ndarray:
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    primary = keys[0]
    threshold = np.partition(primary, len(primary) - k)[len(primary) - k]
    above = np.flatnonzero(primary > threshold)
    tied = np.flatnonzero(primary == threshold)
    wanted = k - len(above)
    if len(keys) > 1 and len(tied) > wanted:
        tied = tied[_best_rows([key[tied] for key in keys[1:]], wanted)]
    return np.concatenate([above, tied[:wanted]])
