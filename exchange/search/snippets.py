"""Snippets that show *why* a result matched, cut from the database's copy of the text.

Matching words are found with a regular expression built from the query's stems (so
"interview" also marks "interviewing"), which scans even a long file text at C speed.
Text is escaped first and only our own ``<mark>`` tags are added: nothing from a document
is ever rendered as markup.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from typing import Protocol

from markupsafe import Markup, escape
from sqlalchemy import bindparam, func, select

from ..extensions import db
from ..models import StoredFile

WINDOW = 90  # characters of context either side of the first match
MAX_MATCHES = 200  # matches looked at in one text, to choose where to cut
MAX_EXTRA_PASSAGES = 2  # shorter passages added for words the first passage does not show
# Characters of each file text read for a snippet: the start first (where most matches
# are), and only for files longer than that and still without one, up to the limit.
# Reading the limit at once transferred megabytes per page of long documents.
FIRST_SCAN = 20_000
SCAN_LIMIT = 300_000


class Described(Protocol):
    """What snippets read of a resource (a model object, or a row read for a results page)."""

    id: int
    synopsis: str
    how_used: str


@dataclass(frozen=True)
class Snippet:
    source: str  # "synopsis", "how I use it" or a file name
    html: Markup
    from_scan: bool = False  # cut from text Tesseract read on a scanned page or a picture


# Where a passage comes from: its source's name, its text, and whether that text was read
# from a scan.
Source = tuple[str, str, bool]


def pattern_for(terms: list[str]) -> re.Pattern | None:
    """A case-insensitive pattern matching any word that starts with one of the stems; its
    groups say which stem matched (one group per stem, longest stems first)."""
    return _pattern(tuple(sorted({t for t in terms if t}, key=lambda t: (-len(t), t))))


@functools.lru_cache(maxsize=4096)
def _pattern(words: tuple[str, ...]) -> re.Pattern | None:
    """Compiled once per worker for each set of words: ``re`` keeps only its last 512, fewer
    than the distinct searches a site sees, and compiling cost more than the matching."""
    if not words:
        return None
    alternatives = "|".join(f"({re.escape(w)})" for w in words)
    return re.compile(rf"\b(?:{alternatives})\w*", re.IGNORECASE | re.UNICODE)


def highlighted(text: str, terms: list[str]) -> Markup:
    """``text`` escaped, with every word the query matched marked (for titles)."""
    pattern = pattern_for(terms)
    if pattern is None:
        return escape(text)
    pieces: list[str] = []
    _mark(text, pattern, pieces)
    return Markup("".join(pieces))  # nosec B704: every piece of text was escaped by _mark


def snippets_for(resources: list[Described], terms: list[str]) -> dict[int, Snippet]:
    """For each resource, the first place the query's words appear.

    The synopsis and "how I use it" come first; file texts (the start of each, read in
    one query for just the resources that still need a snippet) after them, then more of
    the long ones that still have none.
    """
    pattern = pattern_for(terms)
    if pattern is None:
        return {}
    found: dict[int, Snippet] = {}
    for resource in resources:
        described = [("synopsis", resource.synopsis, False)]
        snippet = _first_match([*described, ("how I use it", resource.how_used, False)], pattern)
        if snippet:
            found[resource.id] = snippet
    missing = [r.id for r in resources if r.id not in found]
    for limit in (FIRST_SCAN, SCAN_LIMIT):
        longer = []
        for resource_id, sources in _file_texts(missing, limit).items():
            snippet = _first_match(sources, pattern)
            if snippet:
                found[resource_id] = snippet
            elif any(len(text) == limit for _, text, _ in sources):
                longer.append(resource_id)  # more text than was read: look further
        missing = longer
    return found


def _first_match(sources: list[Source], pattern: re.Pattern) -> Snippet | None:
    """The first source holding the most of the query's different words, cut around them."""
    best: tuple[int, Source] | None = None
    for source in sources:
        found = len({m.lastindex for m in _matches(source[1] or "", pattern)})
        if found and (best is None or found > best[0]):
            best = (found, source)
            if found == pattern.groups:
                break
    if best is None:
        return None
    name, text, from_scan = best[1]
    html = highlight_window(text, pattern)
    return Snippet(name, html, from_scan) if html is not None else None


def _matches(text: str, pattern: re.Pattern) -> list[re.Match]:
    """The first MAX_MATCHES matches: enough to find every word, bounded on long texts."""
    return list(itertools.islice(pattern.finditer(text), MAX_MATCHES))


# Built once and run in Core (no ORM objects are wanted): most results pages need it.
_FILES = StoredFile.__table__
_FILE_TEXTS = (
    select(
        _FILES.c.resource_id,
        _FILES.c.original_name,
        func.substr(_FILES.c.text, 1, bindparam("limit")),
        _FILES.c.text_source,
    )
    .where(_FILES.c.resource_id.in_(bindparam("ids", expanding=True)))
    .order_by(_FILES.c.resource_id, _FILES.c.position)
)


def _file_texts(resource_ids: list[int], limit: int) -> dict[int, list[Source]]:
    """The first ``limit`` characters of each file of these resources, in file order."""
    if not resource_ids:
        return {}
    texts: dict[int, list[Source]] = {}
    params = {"ids": resource_ids, "limit": limit}
    rows = db.session.connection().execute(_FILE_TEXTS, params)
    for resource_id, name, text, source in rows:
        from_scan = source == StoredFile.FROM_SCANS
        texts.setdefault(resource_id, []).append((name, text or "", from_scan))
    return texts


def highlight_window(text: str, pattern: re.Pattern) -> Markup | None:
    """About 180 characters around the first place the most of the query's words meet, cut
    at word boundaries, with every match marked; a word found only further on gets a
    second, shorter passage of its own, so each word searched for is seen marked."""
    matches = _matches(text, pattern)
    if not matches:
        return None
    first = _densest(matches)
    spans = [_window(text, first.start(), first.end(), WINDOW)]
    while len(spans) <= MAX_EXTRA_PASSAGES:
        shown = _stems_in(m for m in matches if any(_inside(m, span) for span in spans))
        other = next((m for m in matches if m.lastindex not in shown), None)
        if other is None:
            break
        spans.append(_window(text, other.start(), other.end(), WINDOW // 2))
    fragments: list[str] = []
    for start, end in _merged(spans):
        pieces: list[str] = []
        _mark(" ".join(text[start:end].split()), pattern, pieces)
        fragments.append("".join(pieces))
    lead = "… " if min(spans)[0] > 0 else ""
    tail = " …" if max(end for _, end in spans) < len(text) else ""
    return Markup(lead + " … ".join(fragments) + tail)  # nosec B704: _mark escaped the text


def _densest(matches: list[re.Match]) -> re.Match:
    """The earliest match whose window holds the most different words of the query."""
    best, best_count = matches[0], 0
    for i, match in enumerate(matches):
        near = set()
        for later in matches[i:]:
            if later.start() - match.start() > WINDOW:
                break
            near.add(later.lastindex)
        if len(near) > best_count:
            best, best_count = match, len(near)
    return best


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _stems_in(matches) -> set[int]:
    return {m.lastindex for m in matches}


def _inside(match: re.Match, span: tuple[int, int]) -> bool:
    return span[0] <= match.start() and match.end() <= span[1]


def _window(text: str, start: int, end: int, reach: int) -> tuple[int, int]:
    """``reach`` characters either side of ``start:end``, shrunk to whole words."""
    left, right = max(0, start - reach), min(len(text), end + reach)
    if left > 0:
        space = _SPACE.search(text, left, start)
        left = space.end() if space else start
    if right < len(text):
        spaces = [m.start() for m in _SPACE.finditer(text, end, right)]
        right = spaces[-1] if spaces else end
    return left, right


_SPACE = re.compile(r"\s+")


def _mark(text: str, pattern: re.Pattern, pieces: list[str]) -> None:
    """Append ``text`` to ``pieces``, escaped, with each match inside ``<mark>``.

    Pieces are joined once at the end: each addition to a Markup copied the whole string
    so far, which made marking the costliest part of a snippet."""
    last = 0
    for match in pattern.finditer(text):
        pieces += (escape(text[last : match.start()]), "<mark>", escape(match.group(0)), "</mark>")
        last = match.end()
    pieces.append(escape(text[last:]))
