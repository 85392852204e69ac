"""Per-segment arrays: everything a search needs to know about each document, loaded once.

Whoosh segments never change once written (only their deletion sets grow), so what we read
from one is cached for the life of the process under the segment's id: the resource id,
when it was shared, its status and facet values as small integer codes, and the one-byte
field lengths BM25 needs. A new index generation then costs only the segments that are new
in it, usually one small one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from whoosh.reading import SegmentReader

from .schema import TEXT_FIELDS
from .whoosh_internals import read_length_bytes, read_number_column, read_postings

SINGLE_VALUED = ("kind", "audience", "licence", "status")
# A resource's language is its own and its files' (a French sheet in an English resource).
MULTI_VALUED = ("tags", "format", "language")
NO_VALUE = 0  # the code of "this document has no value in that field"
MAX_CACHED_SEGMENTS = 256


class Vocabulary:
    """Stable small integer codes for the values of one field, shared by every segment."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self.values: list[str] = [""]
        self._lock = threading.Lock()

    def code(self, value: str) -> int:
        found = self._codes.get(value)
        if found is not None:
            return found
        with self._lock:
            if value not in self._codes:
                self._codes[value] = len(self.values)
                self.values.append(value)
            return self._codes[value]

    def lookup(self, value: str) -> int | None:
        return self._codes.get(value)

    def __len__(self) -> int:
        return len(self.values)


VOCABULARIES = {name: Vocabulary() for name in (*SINGLE_VALUED, *MULTI_VALUED)}


@dataclass
class Pairs:
    """A many-valued field as (document, value code) pairs: one row per tag of a document."""

    docs: np.ndarray  # int32
    codes: np.ndarray  # int32


@dataclass
class SegmentArrays:
    """What one segment holds, per document number, as flat arrays."""

    size: int
    resource_ids: np.ndarray  # int64
    created: np.ndarray  # uint64, Whoosh's sortable encoding of the datetime
    codes: dict[str, np.ndarray] = field(default_factory=dict)  # SINGLE_VALUED -> int32
    pairs: dict[str, Pairs] = field(default_factory=dict)  # MULTI_VALUED
    length_bytes: dict[str, np.ndarray] = field(default_factory=dict)  # TEXT_FIELDS -> uint8

    @property
    def nbytes(self) -> int:
        arrays = [self.resource_ids, self.created, *self.codes.values()]
        arrays += [a for p in self.pairs.values() for a in (p.docs, p.codes)]
        return sum(a.nbytes for a in arrays + list(self.length_bytes.values()))


def load_segment(reader: SegmentReader) -> SegmentArrays:
    """Read a segment's arrays: two columns, the lengths, and the few facet posting lists."""
    size = reader.doc_count_all()
    arrays = SegmentArrays(
        size=size,
        resource_ids=_resource_ids(reader, size),
        created=read_number_column(reader, "created", size),
    )
    for name in SINGLE_VALUED:
        arrays.codes[name] = _single_codes(reader, name, size)
    for name in MULTI_VALUED:
        arrays.pairs[name] = _pairs(reader, name)
    for name in TEXT_FIELDS:
        arrays.length_bytes[name] = read_length_bytes(reader, name, size)
    return arrays


def _resource_ids(reader: SegmentReader, size: int) -> np.ndarray:
    """Each document's resource id: the number column, or (in an index written before that
    column existed) the stored id, read one document at a time."""
    if reader.has_column("resource_id"):
        return read_number_column(reader, "resource_id", size).astype(np.int64)
    stored = (reader.stored_fields(doc).get("id", "") for doc in range(size))
    return np.asarray([int(i) if i.isdigit() else -1 for i in stored], dtype=np.int64)


def empty_segment() -> SegmentArrays:
    """The arrays of a segment with no documents (an index nothing was written to yet)."""
    none = np.zeros(0, dtype=np.int32)
    return SegmentArrays(
        size=0,
        resource_ids=np.zeros(0, dtype=np.int64),
        created=np.zeros(0, dtype=np.uint64),
        codes={name: none for name in SINGLE_VALUED},
        pairs={name: Pairs(none, none) for name in MULTI_VALUED},
        length_bytes={name: np.zeros(0, dtype=np.uint8) for name in TEXT_FIELDS},
    )


def _terms(reader: SegmentReader, name: str) -> list[bytes]:
    if name not in reader.indexed_field_names():
        return []
    return list(reader.lexicon(name))


def _single_codes(reader: SegmentReader, name: str, size: int) -> np.ndarray:
    codes = np.full(size, NO_VALUE, dtype=np.int32)
    vocabulary = VOCABULARIES[name]
    for btext in _terms(reader, name):
        codes[read_postings(reader, name, btext).docs] = vocabulary.code(btext.decode())
    return codes


def _pairs(reader: SegmentReader, name: str) -> Pairs:
    docs, codes = [], []
    vocabulary = VOCABULARIES[name]
    for btext in _terms(reader, name):
        found = read_postings(reader, name, btext).docs
        docs.append(found)
        codes.append(np.full(len(found), vocabulary.code(btext.decode()), dtype=np.int32))
    if not docs:
        return Pairs(np.zeros(0, np.int32), np.zeros(0, np.int32))
    return Pairs(np.concatenate(docs), np.concatenate(codes))


class SegmentCache:
    """Loaded segments by segment id, least recently used dropped first."""

    def __init__(self, limit: int = MAX_CACHED_SEGMENTS) -> None:
        self._items: OrderedDict[str, SegmentArrays] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, key: str, reader: SegmentReader) -> SegmentArrays:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        loaded = load_segment(reader)
        with self._lock:
            self._items[key] = loaded
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
        return loaded


SEGMENTS = SegmentCache()
