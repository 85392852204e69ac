"""Reading a Whoosh segment in bulk: postings, numeric columns, field lengths and positions.

Whoosh hands out postings one at a time through Python method calls, which is what makes a
common word slow to search. Its W3 codec stores them in blocks of up to 128, each one
pickled tuple, so a whole posting list can be read block by block into numpy arrays at a
few microseconds a block. That needs four private members of the pinned version's
``W3LeafMatcher`` (``_read_data``, ``_data``, ``_next_block``, ``_atend``); they are used
only here, and anything else (inlined postings, another codec) goes through the public
per-posting API instead. ``tests/test_search_engine.py`` checks the two agree.

Raw postings include documents deleted from the segment since it was written: callers
mask them out with the segment's deletions (see :mod:`.segments`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import Matcher
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.util.numeric import _length_byte_cache

# byte -> field length, exactly as Whoosh decodes the one-byte lengths it stores.
LENGTH_OF_BYTE = np.asarray(_length_byte_cache[:256], dtype=np.float32)
EMPTY_DOCS = np.zeros(0, dtype=np.int32)
_BLOCK_API = all(hasattr(W3LeafMatcher, name) for name in ("_read_data", "_next_block", "reset"))


@dataclass(frozen=True)
class Postings:
    """One term's postings in one segment: document numbers (ascending) and weights."""

    docs: np.ndarray  # int32
    weights: np.ndarray  # float32, the field boost already applied by Whoosh

    @property
    def nbytes(self) -> int:
        return self.docs.nbytes + self.weights.nbytes


NO_POSTINGS = Postings(EMPTY_DOCS, np.zeros(0, dtype=np.float32))


def raw_matcher(reader: SegmentReader, field: str, btext: bytes) -> Matcher | None:
    """The segment's own matcher for a term, deleted documents included (None if absent)."""
    fieldobj = reader.schema[field]
    try:
        return reader._terms.matcher(field, btext, fieldobj.format)
    except (TermNotFound, KeyError):
        return None


def read_postings(reader: SegmentReader, field: str, btext: bytes) -> Postings:
    """Every posting of ``field:btext`` in this segment, read in bulk when the codec allows."""
    matcher = raw_matcher(reader, field, btext)
    if matcher is None:
        return NO_POSTINGS
    if _BLOCK_API and type(matcher) is W3LeafMatcher:
        return _read_blocks(matcher)
    return read_one_by_one(matcher)


def read_one_by_one(matcher: Matcher) -> Postings:
    """The public, per-posting way: slow, but works for any matcher."""
    docs, weights = [], []
    while matcher.is_active():
        docs.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return Postings(np.asarray(docs, dtype=np.int32), np.asarray(weights, dtype=np.float32))


def _read_blocks(matcher: W3LeafMatcher) -> Postings:
    docs, weights = [], []
    for ids, block_weights, _ in _blocks(matcher):
        docs.append(ids)
        weights.append(block_weights)
    if not docs:
        return NO_POSTINGS
    return Postings(np.concatenate(docs), np.concatenate(weights))


def _blocks(matcher: W3LeafMatcher):
    """Yield (ids, weights, values) for each block of a posting list, in order."""
    while not matcher._atend:
        matcher._read_data()
        ids, weights, values = matcher._data
        yield _block_ids(ids), _block_weights(weights, len(ids)), values
        matcher._next_block()


def _block_ids(deltas) -> np.ndarray:
    return np.cumsum(np.asarray(deltas, dtype=np.int64)).astype(np.int32)


def _block_weights(weights, count: int) -> np.ndarray:
    if weights is None:
        return np.ones(count, dtype=np.float32)
    if isinstance(weights, float):
        return np.full(count, weights, dtype=np.float32)
    return np.asarray(weights, dtype=np.float32)


@dataclass(frozen=True)
class PositionList:
    """Where a term stands in each document that has it: flat (document, position) pairs."""

    docs: np.ndarray  # int32, one row per occurrence, ascending
    positions: np.ndarray  # int32, word positions within the field

    @property
    def nbytes(self) -> int:
        return self.docs.nbytes + self.positions.nbytes


def read_positions(reader: SegmentReader, field: str, btext: bytes) -> PositionList:
    """Every occurrence of ``field:btext`` in this segment (for phrase matching)."""
    matcher = raw_matcher(reader, field, btext)
    if matcher is None:
        return PositionList(EMPTY_DOCS, EMPTY_DOCS)
    decode = reader.schema[field].format.decode_positions
    if _BLOCK_API and type(matcher) is W3LeafMatcher:
        postings = ((ids.tolist(), values) for ids, _, values in _blocks(matcher))
    else:
        postings = [_one_by_one_values(matcher)]
    docs: list[int] = []
    positions: list[int] = []
    for ids, values in postings:
        for doc, value in zip(ids, values, strict=True):
            found = decode(value)
            docs.extend([doc] * len(found))
            positions.extend(found)
    return PositionList(np.asarray(docs, dtype=np.int32), np.asarray(positions, dtype=np.int32))


def _one_by_one_values(matcher: Matcher) -> tuple[list[int], list[bytes]]:
    ids, values = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        values.append(matcher.value())
        matcher.next()
    return ids, values


def read_number_column(reader: SegmentReader, field: str, count: int) -> np.ndarray:
    """A numeric column (one fixed-width big-endian value per document) as an array."""
    if not reader.has_column(field):
        return np.zeros(count, dtype=np.uint64)
    column = reader.column_reader(field, translate=False)
    raw = getattr(column, "_dbfile", None)
    if raw is None or not hasattr(column, "_fixedlen"):
        return np.asarray([column[i] for i in range(count)], dtype=np.uint64)
    stored = column._count
    values = np.frombuffer(
        raw.get(column._basepos, stored * column._fixedlen), dtype=">" + column._typecode
    )
    return _padded(values.astype(np.uint64), count, column._default)


def read_length_bytes(reader: SegmentReader, field: str, count: int) -> np.ndarray:
    """Whoosh's one-byte field lengths for every document (decode with LENGTH_OF_BYTE)."""
    column = _lengths_column(reader, field)
    if column is None:
        return _length_bytes_one_by_one(reader, field, count)
    stored = min(column._count, count)
    values = np.frombuffer(column._dbfile.get(column._basepos, stored), dtype=np.uint8)
    return _padded(values, count, 0)


def _lengths_column(reader: SegmentReader, field: str):
    """The segment's raw length column, when the pinned codec exposes it."""
    perdoc = getattr(reader, "_perdoc", None)
    if not (hasattr(whoosh3, "_lenfield") and hasattr(perdoc, "_cached_reader")):
        return None
    column = perdoc._cached_reader(whoosh3._lenfield(field), whoosh3.LENGTHS_COLUMN)
    wanted = ("_dbfile", "_basepos", "_count")
    return column if column is not None and all(hasattr(column, a) for a in wanted) else None


def _length_bytes_one_by_one(reader: SegmentReader, field: str, count: int) -> np.ndarray:
    lengths = [reader.doc_field_length(doc, field) or 0 for doc in range(count)]
    return np.searchsorted(LENGTH_OF_BYTE, np.asarray(lengths, dtype=np.float32)).astype(np.uint8)


def _padded(values: np.ndarray, count: int, default) -> np.ndarray:
    """Columns stop at the last document that had a value; the rest take the default."""
    if len(values) >= count:
        return values[:count].copy()
    padded = np.full(count, default, dtype=values.dtype)
    padded[: len(values)] = values
    return padded
