"""Every use of Whoosh's private members, checked before it is trusted.

Whoosh hands out postings one at a time through Python method calls, which is what makes a
common word slow to search. Its W3 codec stores them in blocks of up to 128, each one
pickled tuple, so a whole posting list can be read block by block into numpy arrays at a
few microseconds a block; numeric and length columns can likewise be read as one buffer.
That needs private members of the pinned version (``W3LeafMatcher._read_data``,
``_data``, ``_next_block``, ``_atend``; ``SegmentReader._terms`` and ``_perdoc``; the
columns' ``_dbfile``, ``_basepos``, ``_count``; ``BM25F._field_B``), and one correction
to Whoosh (:func:`_cached_reader`). This is the only module that touches them.

They are used only after :func:`verify` has found the installed Whoosh to be the pinned
version *and* the bulk readers to give exactly Whoosh's own public answers on a small index
made for the purpose. Otherwise a warning names the reason and every read goes through
Whoosh's public per-posting API: slower, with the same results, so search degrades and
never breaks. The check runs once per process, at start-up (:func:`enable`).

Raw postings include documents deleted from the segment since it was written: callers
mask them out with the segment's deletions (see :mod:`.segments`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from importlib import metadata

import numpy as np
from whoosh import fields
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.filedb.filestore import RamStorage
from whoosh.matching import Matcher
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.scoring import BM25F, WeightingModel
from whoosh.util.numeric import _length_byte_cache

log = logging.getLogger(__name__)

#: The release whose internals the bulk readers were written against (pyproject.toml pins it).
PINNED_DISTRIBUTION = "whoosh-reloaded"
PINNED_VERSION = "2.7.5"

# byte -> field length, exactly as Whoosh decodes the one-byte lengths it stores.
LENGTH_OF_BYTE = np.asarray(_length_byte_cache[:256], dtype=np.float32)
EMPTY_DOCS = np.zeros(0, dtype=np.int32)


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
    """The segment's own matcher for a term (None if absent): deleted documents included
    when the internals are trusted, left out by Whoosh's public ``postings`` otherwise."""
    try:
        if not bulk_reads():
            return reader.postings(field, btext)
        return reader._terms.matcher(field, btext, reader.schema[field].format)
    except (TermNotFound, KeyError):
        return None


def read_postings(reader: SegmentReader, field: str, btext: bytes) -> Postings:
    """Every posting of ``field:btext`` in this segment, read in bulk when the codec allows."""
    matcher = raw_matcher(reader, field, btext)
    if matcher is None:
        return NO_POSTINGS
    if bulk_reads() and type(matcher) is W3LeafMatcher:
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
    if bulk_reads() and type(matcher) is W3LeafMatcher:
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
    if not bulk_reads() or raw is None or not hasattr(column, "_fixedlen"):
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
    if not bulk_reads():
        return None
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


def bm25_parameters(weighting: WeightingModel) -> tuple[float, float] | None:
    """(B, K1) when ``weighting`` is BM25F with one B for every field, else None.

    Per-field B values are private to BM25F. Without trusted internals they can't be seen,
    and the B and K1 our searchers are built with (the same for every field) are assumed.
    """
    if not isinstance(weighting, BM25F):
        return None
    if bulk_reads() and weighting._field_B:
        return None
    return weighting.B, weighting.K1


# --------------------------------------------------------------------------- trust

_trusted: bool | None = None  # decided once per process by enable()
_deciding = threading.Lock()
_checking = threading.local()  # while verify() runs, its own reads take the bulk path


def bulk_reads() -> bool:
    """Whether the private members may be used in this process."""
    if getattr(_checking, "active", False):
        return True
    return _trusted if _trusted is not None else enable()


def enable() -> bool:
    """Decide once whether to trust the internals (called at start-up, so that a warning
    comes early in the log); apply the correction to Whoosh only if they are trusted.
    Threads that search meanwhile wait for the decision."""
    global _trusted
    with _deciding:
        if _trusted is None:
            problem = verify()
            if problem:
                log.warning("search reads Whoosh through its public API (slower): %s", problem)
            else:
                whoosh3.W3PerDocReader._cached_reader = _cached_reader
            _trusted = not problem
        return _trusted


def verify(expected_version: str = PINNED_VERSION) -> str:
    """Why the private members can't be trusted, or "" when they can: the installed Whoosh
    is the pinned release and the bulk readers give Whoosh's own answers on a test index."""
    try:
        installed = metadata.version(PINNED_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        installed = "not installed"
    if installed != expected_version:
        return f"{PINNED_DISTRIBUTION} {installed} is installed, but {expected_version} is pinned"
    _checking.active = True
    try:
        return _answers_differ()
    except Exception as exc:  # noqa: BLE001 - any failure means: don't trust them
        return f"reading a test index through the internals failed ({exc!r})"
    finally:
        _checking.active = False


SAMPLE_SCHEMA = fields.Schema(
    body=fields.TEXT(phrase=True),
    number=fields.NUMERIC(sortable=True, bits=64, signed=False),
)
SAMPLE_DOCS = 300  # more than two blocks of postings for the commonest word
SAMPLE_WORDS = (b"every", b"third", b"fifth", b"absent")


def _answers_differ() -> str:
    """Compare each bulk reader with Whoosh's public API on a small index with deletions."""
    reader = _sample_index().reader()
    try:
        for btext in SAMPLE_WORDS:
            if _live_postings(reader, btext) != _public_postings(reader, btext):
                return f"postings of {btext.decode()!r} differ from Whoosh's own"
        if not _same_columns(reader):
            return "numeric or length columns differ from Whoosh's own"
        return ""
    finally:
        reader.close()


def _sample_index():
    # Whoosh's writer keeps temporary files in a folder of the temp dir named after the
    # index: a name of its own, so processes checking at the same moment never share one.
    index = RamStorage().create_index(SAMPLE_SCHEMA, indexname=f"check{uuid.uuid4().hex}")
    with index.writer() as writer:
        for doc in range(SAMPLE_DOCS):
            words = ["every"] + ["third"] * (doc % 3 == 0) + ["fifth"] * (doc % 5 == 0)
            writer.add_document(body=" ".join(words * (1 + doc % 4)), number=doc * 7)
    with index.writer() as writer:
        writer.delete_by_term("body", "third")  # leaves deleted documents in the segment
    return index


def _live_postings(reader: SegmentReader, btext: bytes) -> list[tuple[int, float, list[int]]]:
    """What the bulk readers say of a word: live documents, weights and positions."""
    postings = read_postings(reader, "body", btext)
    positions = read_positions(reader, "body", btext)
    live = set(reader.all_doc_ids())
    found = []
    for doc, weight in zip(postings.docs.tolist(), postings.weights.tolist(), strict=True):
        if doc in live:
            at = positions.positions[positions.docs == doc].tolist()
            found.append((doc, weight, at))
    return found


def _public_postings(reader: SegmentReader, btext: bytes) -> list[tuple[int, float, list[int]]]:
    try:
        weights = list(reader.postings("body", btext).items_as("weight"))
        positions = dict(reader.postings("body", btext).items_as("positions"))
    except TermNotFound:
        return []
    return [(doc, float(np.float32(w)), list(positions[doc])) for doc, w in weights]


def _same_columns(reader: SegmentReader) -> bool:
    count = reader.doc_count_all()
    column = reader.column_reader("number", translate=False)
    numbers = read_number_column(reader, "number", count).tolist()
    lengths = read_length_bytes(reader, "body", count)
    return numbers == [column[i] for i in range(count)] and np.array_equal(
        lengths, _length_bytes_one_by_one(reader, "body", count)
    )


def _cached_reader(self, fieldname, column):
    """Whoosh's ``W3PerDocReader._cached_reader``, remembering the *absence* of a column too.

    When a segment is flushed, Whoosh looks up each posting's field length through this
    method, which caches the column reader it finds but not the absence of one. Fields
    without a length column (the ``spell_*`` fields that keep unstemmed words for "did you
    mean") therefore cost a ``stat()`` of the segment folder for every posting: about a
    fifth of a bulk reindex. Remembering the absence is safe because a segment's per-document
    files are complete before any reader opens them and never change afterwards.
    """
    reader = self._readers.get(fieldname, _ABSENT)
    if reader is _ABSENT:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader
    return reader


_ABSENT = object()
