"""One correction to Whoosh 2.7, applied when the search package is imported.

When a segment is flushed, Whoosh looks up each posting's field length through
``W3PerDocReader._cached_reader``, which caches the column reader it finds but not the
*absence* of one. Fields without a length column (the ``spell_*`` fields that keep
unstemmed words for "did you mean") therefore cost a ``stat()`` of the segment folder
for every posting: about a fifth of a bulk reindex. Remembering the absence is safe
because a segment's per-document files are complete before any reader opens them and
never change afterwards.
"""

from __future__ import annotations

from whoosh.codec import whoosh3

_ABSENT = object()


def _cached_reader(self, fieldname, column):
    reader = self._readers.get(fieldname, _ABSENT)
    if reader is _ABSENT:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader
    return reader


def apply() -> None:
    whoosh3.W3PerDocReader._cached_reader = _cached_reader
