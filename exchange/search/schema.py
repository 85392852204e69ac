"""The Whoosh schema and how a resource becomes an index document.

Every text field uses one analyzer (:mod:`.analysis`) that folds accents and stems each
resource's words by the rules of its language, so "interviewing" finds "interview" and a
French "entrevues" finds "entrevue". The files' text is analysed file by file, each by its
own language (told when it was read, and stored), so a French worksheet inside an English
resource is stemmed as French; a file whose language could not be told takes its
resource's. The title is boosted. Facets (kind, audience, licence, language, tags, file
format) and the fields that decide who may see a result (status, owner, visibility) are
exact-match columns; a resource counts under its own language and each of its files'.

"Did you mean" draws its words from one ``spelling`` field of unstemmed words with counts
(:class:`WordCounts`); a word of a title or tag counts :data:`TITLE_WORD_WEIGHT` times, so
the words people name their tools with are the corrections offered first. A resource
written on its own carries its distinct words; a bulk rebuild instead writes one
*vocabulary document* per batch holding the batch's words and how many uses each has
(weighted alike), which keeps the correction ranking (by frequency) while
writing a fraction of the postings. Whoosh's own per-field spelling lists tokenized every
text a second time and cost over a third of a reindex. A word whose resources are later
deleted may linger in a vocabulary document until the next rebuild; harmless, because a
suggestion is only offered when it finds something the viewer may see.

Download counts are deliberately *not* indexed: they change on every first download, and
re-indexing a resource for that would make every process reopen its searcher. Sorting by
downloads reads them from the database instead (see ``popularity.py``).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

from whoosh.analysis import CommaSeparatedTokenizer, SpaceSeparatedTokenizer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, FieldType, Schema
from whoosh.formats import Frequency
from whoosh.system import pack_uint

from ..models import Resource
from .analysis import ANALYZER, analysis_language, tagged, tagged_texts

# The fields a plain query searches, and how much a match in each counts.
TEXT_FIELDS = {
    "title": 4.0,
    "tagtext": 2.0,
    "synopsis": 1.5,
    "how_used": 1.0,
    "contributor": 1.0,
    "content": 1.0,
}
FACET_FIELDS = ("tags", "kind", "audience", "licence", "language", "format")
# Every text field takes its spelling corrections from the one spelling field.
SPELLING_ALIASES = dict.fromkeys(TEXT_FIELDS, "spelling")
# The words worth suggesting: letters only, neither tiny nor absurdly long.
SPELLABLE_WORD = re.compile(r"[^\W\d_]{3,30}")
# A reserved document holding the change-log position the index has applied.
POSITION_DOC_ID = "position"
# Reserved documents holding a bulk rebuild's spelling vocabulary: "vocabulary-1", …
VOCABULARY_DOC_PREFIX = "vocabulary-"
# How many uses of a word one title or tag counts for, among the spelling corrections.
TITLE_WORD_WEIGHT = 10


class WordCounts(Frequency):
    """The spelling field's format: the value is a list of ``(word, count)`` pairs.

    Whoosh's spelling corrector ranks candidates by their total frequency in the field, so
    one vocabulary document saying a word is used by 40 resources ranks it as 40 would.
    """

    def word_values(self, value, analyzer, **kwargs):
        for word, count in value:
            yield word, count, float(count), pack_uint(count)


def build_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        # The same id as a number column, which search reads in bulk (see segments.py).
        resource_id=NUMERIC(int, 64, signed=False, sortable=True, shift_step=0),
        position=NUMERIC(stored=True, bits=64),
        title=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["title"]),
        synopsis=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["synopsis"]),
        how_used=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["how_used"]),
        content=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["content"]),
        tagtext=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["tagtext"]),
        contributor=TEXT(analyzer=ANALYZER, field_boost=TEXT_FIELDS["contributor"]),
        spelling=FieldType(WordCounts(), SpaceSeparatedTokenizer()),
        tags=KEYWORD(commas=True, lowercase=True),
        kind=ID(sortable=True),
        audience=ID(sortable=True),
        licence=ID(sortable=True),
        # Its own language and its files': a list, in the single-valued field it once was
        # (same posting format), so segments written before still merge with new ones.
        language=ID(analyzer=CommaSeparatedTokenizer()),
        format=KEYWORD(commas=True, lowercase=True),
        status=ID(sortable=True),
        owner=ID(sortable=True),
        access=ID(sortable=True),
        visibility=ID(),
        created=DATETIME(sortable=True),
    )


SCHEMA = build_schema()


def document_for(resource: Resource) -> dict:
    """The index document for a resource: everything a search may match or filter on."""
    content = content_text(resource)
    language = analysis_language(resource.language)
    return {
        "id": str(resource.id),
        "resource_id": resource.id,
        "title": tagged(language, resource.title),
        "synopsis": tagged(language, resource.synopsis),
        "how_used": tagged(language, resource.how_used),
        "content": file_texts(resource, language),
        "tagtext": tagged(language, " ".join(resource.tag_names)),
        "contributor": resource.credit_name,
        "spelling": sorted(spelling_counts(resource, content).items()),
        "tags": ",".join(resource.tag_names),
        "kind": resource.kind,
        "audience": resource.audience,
        "licence": resource.licence,
        "language": ",".join(languages_of(resource)) or None,  # None: Whoosh writes nothing
        "format": ",".join(sorted({f.format for f in resource.files})),
        "status": resource.status,
        "owner": str(resource.owner_id),
        "access": resource.access,
        "visibility": resource.visibility,
        "created": _naive_utc(resource.created_at),
    }


def content_text(resource: Resource) -> str:
    """The text inside a resource's files, in file order (what snippets are cut from)."""
    return "\n\n".join(f.text for f in resource.files if f.text)


def file_texts(resource: Resource, rules: str) -> str:
    """The ``content`` field's value: each file's text marked with the rules it is analysed
    by, its own language's, else ``rules`` (its resource's)."""
    return tagged_texts(
        (analysis_language(f.language) if f.language else rules, f.text)
        for f in resource.files
        if f.text
    )


def languages_of(resource: Resource) -> list[str]:
    """The languages a resource is written in, its files' included (the language facet)."""
    found = {resource.language, *(f.language for f in resource.files)}
    return sorted(code for code in found if code)


def spellable_words(resource: Resource, content: str) -> set[str]:
    """The distinct words of a resource's texts, lower-cased, to suggest in corrections."""
    texts = (resource.title, resource.synopsis, resource.how_used, content, *resource.tag_names)
    return set(SPELLABLE_WORD.findall(" ".join(texts).lower()))


def spelling_counts(resource: Resource, content: str) -> dict[str, int]:
    """Each spellable word with what it counts for: one use, or :data:`TITLE_WORD_WEIGHT`
    for a word of the title or a tag."""
    named = " ".join((resource.title, *resource.tag_names)).lower()
    counts = dict.fromkeys(spellable_words(resource, content), 1)
    counts.update(dict.fromkeys(SPELLABLE_WORD.findall(named), TITLE_WORD_WEIGHT))
    return counts


def vocabulary_document(number: int, word_counts: Counter[str]) -> dict:
    """A reserved document standing for a batch of resources' spelling words."""
    return {"id": f"{VOCABULARY_DOC_PREFIX}{number}", "spelling": sorted(word_counts.items())}


def is_resource_document(doc_id: str) -> bool:
    """Whether an index document id is a resource's (not a reserved document's)."""
    return doc_id.isdigit()


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
