"""The Whoosh schema and how a resource becomes an index document.

Every text field uses one stemming analyzer so "interviewing" finds "interview". The
title is boosted; facets (kind, audience, licence, tags, file format) and the fields that
decide who may see a result (status, owner) are exact-match columns.

Download counts are deliberately *not* indexed: they change on every first download, and
re-indexing a resource for that would make every process reopen its searcher. Sorting by
downloads reads them from the database instead (see ``popularity.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema

from ..models import Resource

ANALYZER = StemmingAnalyzer()

# The fields a plain query searches, and how much a match in each counts.
TEXT_FIELDS = {
    "title": 4.0,
    "tagtext": 2.0,
    "synopsis": 1.5,
    "how_used": 1.0,
    "contributor": 1.0,
    "content": 1.0,
}
FACET_FIELDS = ("tags", "kind", "audience", "licence", "format")
# A reserved document holding the change-log position the index has applied.
POSITION_DOC_ID = "position"


def build_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        # The same id as a number column, which search reads in bulk (see segments.py).
        resource_id=NUMERIC(int, 64, signed=False, sortable=True, shift_step=0),
        position=NUMERIC(stored=True, bits=64),
        title=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["title"], spelling=True),
        synopsis=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["synopsis"], spelling=True),
        how_used=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["how_used"], spelling=True),
        content=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["content"], spelling=True),
        tagtext=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["tagtext"], spelling=True),
        contributor=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["contributor"]),
        tags=KEYWORD(commas=True, lowercase=True),
        kind=ID(sortable=True),
        audience=ID(sortable=True),
        licence=ID(sortable=True),
        format=KEYWORD(commas=True, lowercase=True),
        status=ID(sortable=True),
        owner=ID(sortable=True),
        access=ID(sortable=True),
        created=DATETIME(sortable=True),
    )


SCHEMA = build_schema()


def document_for(resource: Resource) -> dict:
    """The index document for a resource: everything a search may match or filter on."""
    return {
        "id": str(resource.id),
        "resource_id": resource.id,
        "title": resource.title,
        "synopsis": resource.synopsis,
        "how_used": resource.how_used,
        "content": content_text(resource),
        "tagtext": " ".join(resource.tag_names),
        "contributor": resource.credit_name,
        "tags": ",".join(resource.tag_names),
        "kind": resource.kind,
        "audience": resource.audience,
        "licence": resource.licence,
        "format": ",".join(sorted({f.format for f in resource.files})),
        "status": resource.status,
        "owner": str(resource.owner_id),
        "access": resource.access,
        "created": _naive_utc(resource.created_at),
    }


def content_text(resource: Resource) -> str:
    """The text inside a resource's files, in file order (what snippets are cut from)."""
    return "\n\n".join(f.text for f in resource.files if f.text)


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
