"""What pages list and show of resources, as queries: the home page's newest and most used,
a member's shares, the catalogue (browse and search: one query path through the search
index), a resource page with its files and "more like this", a download's file, and a
page of hits in the index's order.

Every list is limited to what the viewer may see (:func:`exchange.access.visible_clause`).
Statements on the busiest pages (resource pages, downloads, search hits) are built once per
process: building them cost more than running them.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import access
from .. import search as search_mod
from ..counts import RESOURCE_DOWNLOADS
from ..extensions import db
from ..models import FileVersion, Member, Resource, StoredFile, Tag, Thanks, resource_tags
from ..vocab import normalise_tag

log = logging.getLogger(__name__)

# -- lists ---------------------------------------------------------------------------------


def newest(viewer, limit: int) -> list[Resource]:
    query = _visible(viewer).order_by(Resource.created_at.desc()).limit(limit)
    return list(db.session.scalars(query))


def most_used(viewer, limit: int) -> list[Resource]:
    query = (
        _visible(viewer)
        .where(RESOURCE_DOWNLOADS > 0)
        .order_by(RESOURCE_DOWNLOADS.desc(), Resource.created_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def shared_by(member: Member, viewer) -> list[Resource]:
    """The resources ``member`` shared that ``viewer`` may see, newest first."""
    query = _visible(viewer).where(Resource.owner_id == member.id)
    return list(db.session.scalars(query.order_by(Resource.created_at.desc())))


def published_by(member: Member) -> list[Resource]:
    """A member's own published resources, newest first (what they may answer a request with)."""
    query = select(Resource).where(
        Resource.owner_id == member.id, Resource.status == Resource.PUBLISHED
    )
    return list(db.session.scalars(query.order_by(Resource.created_at.desc())))


def popular_tags(limit: int) -> list[str]:
    """The tags most used on published resources, most used first (the share form suggests
    them, so colleagues reuse one spelling of a topic)."""
    query = (
        select(Tag.name)
        .join(resource_tags, resource_tags.c.tag_id == Tag.id)
        .join(Resource, Resource.id == resource_tags.c.resource_id)
        .where(Resource.status == Resource.PUBLISHED)
        .group_by(Tag.id, Tag.name)
        .order_by(func.count().desc(), Tag.name)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def _visible(viewer) -> Select:
    return select(Resource).where(access.visible_clause(viewer))


# -- feeds: what anyone on the web may see ----------------------------------------------------


def public_newest(limit: int) -> list[Resource]:
    """The newest resources visitors may see: the site's feed."""
    return _public(select(Resource), limit)


def public_on_topic(name: str, limit: int) -> list[Resource] | None:
    """The newest public resources with this tag; None when no resource ever had it."""
    tag = db.session.scalar(select(Tag).where(Tag.name == normalise_tag(name)))
    if tag is None:
        return None
    return _public(select(Resource).where(Resource.tags.contains(tag)), limit)


def public_credited_to(member: Member, limit: int) -> list[Resource]:
    """The newest public resources ``member`` shared under their name (an anonymous gift is
    never tied to its giver, so it is left out)."""
    query = select(Resource).where(Resource.owner_id == member.id, Resource.credit_name != "")
    return _public(query, limit)


def public_in_order(ids: list[int]) -> list[Resource]:
    """These resources, in this order, leaving out any visitors may not see."""
    if not ids:
        return []
    found = {r.id: r for r in _public(select(Resource).where(Resource.id.in_(ids)), len(ids))}
    return [found[i] for i in ids if i in found]


def _public(query: Select, limit: int) -> list[Resource]:
    query = query.where(access.public_clause()).options(selectinload(Resource.tags))
    ordered = query.order_by(Resource.created_at.desc(), Resource.id.desc()).limit(limit)
    return list(db.session.scalars(ordered))


# -- one resource --------------------------------------------------------------------------


def for_page(resource_id: int) -> Resource | None:
    """A resource with what its page shows (giver, tags, files with a bounded excerpt), in
    two queries rather than one per relationship and file.

    Tags come in a query of their own: joined in, SQLite built the whole join of every
    resource's tags before picking this one's (150 ms a page at 100,000 resources)."""
    found = db.session.scalars(_page_query(), {"resource_id": resource_id})
    return found.unique().first()


@functools.cache
def _page_query() -> Select:
    return (
        select(Resource)
        .where(Resource.id == bindparam("resource_id"))
        .options(
            joinedload(Resource.owner),
            selectinload(Resource.tags),
            joinedload(Resource.files).options(StoredFile.with_excerpt()),
        )
    )


def with_file(resource_id: int, file_id: int) -> tuple[Resource, StoredFile] | None:
    """A resource and one of its files, in one query: downloads are the busiest request."""
    ids = {"resource_id": resource_id, "file_id": file_id}
    found = db.session.execute(_file_with_resource(), ids).first()
    return None if found is None else (found[0], found[1])


@functools.cache
def _file_with_resource() -> Select:
    return (
        select(Resource, StoredFile)
        .join(StoredFile, StoredFile.resource_id == Resource.id)
        .where(Resource.id == bindparam("resource_id"), StoredFile.id == bindparam("file_id"))
    )


# -- a file's versions ----------------------------------------------------------------------


@dataclass(frozen=True)
class VersionShown:
    """One line of a file's version history, as one viewer sees it."""

    number: int
    uploaded_at: datetime
    name: str
    note: str
    current: bool
    fetchable: bool  # an earlier version this viewer may download


@dataclass(frozen=True)
class FileHistory:
    """A replaced file's versions, newest first, and the newest of them this viewer took."""

    versions: list[VersionShown]
    taken: int | None

    @property
    def updated_since_taken(self) -> bool:
        """The viewer downloaded an earlier version, and not the current one since."""
        return self.taken is not None and self.taken < self.versions[0].number


def file_histories(resource: Resource, viewer) -> dict[int, FileHistory]:
    """The history of each of the resource's files that has been replaced, by file id.

    A resource whose files were never replaced costs no query; otherwise one for the
    viewer's downloads and one per replaced file's earlier versions.
    """
    replaced = [f for f in resource.files if f.version > 1]
    if not replaced:
        return {}
    taken = access.versions_taken(viewer, resource)
    return {f.id: _history(resource, f, viewer, taken) for f in replaced}


def _history(resource: Resource, file: StoredFile, viewer, taken) -> FileHistory:
    may_fetch = functools.partial(
        access.may_fetch_earlier_version, viewer, resource, file.id, taken=taken
    )
    current = current_version(file)
    earlier = [
        VersionShown(
            v.number,
            v.created_at,
            v.original_name,
            v.change_note,
            False,
            may_fetch(number=v.number),
        )
        for v in file.versions
    ]
    mine = [number for file_id, number in taken if file_id == file.id]
    return FileHistory([current, *earlier], max(mine, default=None))


def current_version(file: StoredFile) -> VersionShown:
    """The file as it stands, as the first line of its history (fetched as the file is)."""
    return VersionShown(
        file.version, file.version_date, file.original_name, file.version_note, True, False
    )


def earlier_version(file: StoredFile, number: int) -> FileVersion | None:
    """Version ``number`` of ``file``, if it is one it replaced."""
    return next((v for v in file.versions if v.number == number), None)


# -- search hits ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    """One result as its card shows it: the resource's own columns, read with Core.

    Loading ORM objects was most of what re-reading a page of hits cost. The labels are the
    model's own properties, so a card reads the same from a Hit as from a Resource, and
    :func:`access.can_view` decides from the same ``status``, ``owner_id`` and ``visibility``
    columns.
    """

    id: int
    owner_id: int
    title: str
    synopsis: str
    how_used: str
    kind: str
    audience: str
    licence: str
    credit_name: str
    status: str
    visibility: str
    download_count: int
    created_at: datetime
    thanks_count: int
    preview_file_id: int | None  # the first file with a first-page picture
    first_format: str | None  # the first file's format, when there is no picture

    anonymous = Resource.anonymous
    kind_label = Resource.kind_label
    audience_label = Resource.audience_label
    licence_label = Resource.licence_label


# Built once, as every results page runs it: the hits, each with its tag names (all a card
# shows of tags) in one round trip and one row. Tag names never hold a line break
# (:func:`vocab.normalise_tag` folds all white space), so one joins them.
_RESOURCES = Resource.__table__
_TAGS = Tag.__table__
_TAG_NAMES = (
    select(func.aggregate_strings(_TAGS.c.name, "\n"))
    .select_from(resource_tags.join(_TAGS, _TAGS.c.id == resource_tags.c.tag_id))
    .where(resource_tags.c.resource_id == _RESOURCES.c.id)
    .scalar_subquery()
)
_FILES = StoredFile.__table__
_FIRST_FILE = select().where(_FILES.c.resource_id == _RESOURCES.c.id).order_by(_FILES.c.position)
_PREVIEW_FILE_ID = (
    _FIRST_FILE.add_columns(_FILES.c.id)
    .where(_FILES.c.preview_key.is_not(None))
    .limit(1)
    .scalar_subquery()
)
_FIRST_FORMAT = _FIRST_FILE.add_columns(_FILES.c.format).limit(1).scalar_subquery()
_THANKS = Thanks.__table__
_THANKS_COUNT = (
    select(func.count(_THANKS.c.id))
    .where(_THANKS.c.resource_id == _RESOURCES.c.id)
    .scalar_subquery()
)
_COMPUTED = {
    "preview_file_id": _PREVIEW_FILE_ID,
    "first_format": _FIRST_FORMAT,
    "thanks_count": _THANKS_COUNT,
}
_HITS = select(
    *(_COMPUTED.get(f.name, _RESOURCES.c.get(f.name)) for f in fields(Hit)), _TAG_NAMES
).where(_RESOURCES.c.id.in_(bindparam("ids", expanding=True)))


def hits_in_order(ids: list[int], viewer) -> tuple[list[Hit], dict[int, list[str]]]:
    """Re-read the hits from the database (the source of truth), keeping the index's order,
    with each one's tag names in the order its card lists them."""
    found: dict[int, Hit] = {}
    tags: dict[int, list[str]] = {}
    if ids:
        for *columns, tag_names in db.session.connection().execute(_HITS, {"ids": ids}):
            found[columns[0]] = Hit(*columns)
            tags[columns[0]] = sorted(tag_names.split("\n")) if tag_names else []
    shown = [found[i] for i in ids if i in found and access.can_view(viewer, found[i])]
    return shown, tags


# -- the catalogue: browse and search -------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """One page of the catalogue as a viewer sees it: the hits re-read from the database,
    their tags, and the index's total and facet counts, all under one visibility rule
    (:func:`exchange.access.search_visibility`), so counts and facets agree with the list."""

    results: search_mod.SearchResults
    hits: list[Hit]
    tags_by_id: dict[int, list[str]]
    pages: int


def catalogue(wanted: search_mod.SearchRequest, viewer) -> Catalogue:
    """Browse (no words) and search (words) alike: filters, sort, one page of hits.

    Raises whatever the search index raises; the page decides how to say so.
    """
    results = search_mod.search(wanted, access.search_visibility(viewer))
    hits, tags_by_id = hits_in_order(results.ids, viewer)
    pages = max(1, -(-results.total // wanted.per_page))
    return Catalogue(results, hits, tags_by_id, pages)


# -- more like this ------------------------------------------------------------------------


@dataclass(frozen=True)
class MoreLikeThis:
    """The resources like one, as cards show them, with why where it is cheap to say:
    taken by the same members (``taken_together``), or the tags they share."""

    hits: list[Hit] = field(default_factory=list)
    tags_by_id: dict[int, list[str]] = field(default_factory=dict)
    taken_together: frozenset[int] = frozenset()
    shared_tags: dict[int, list[str]] = field(default_factory=dict)


def more_like_this(resource: Resource, viewer, limit: int) -> MoreLikeThis:
    """Up to ``limit`` resources like ``resource`` that ``viewer`` may see (the search
    index's choice, under search's visibility rule, re-read and checked here).

    A page is never lost to it: if the index cannot answer, the block is left out. An
    anonymous gift's page never suggests its giver's other gifts.
    """
    if limit <= 0:
        return MoreLikeThis()
    try:
        found = search_mod.related_to(
            likeness_of(resource), access.search_visibility(viewer), limit
        )
    except Exception:  # noqa: BLE001 - the resource page matters more than its suggestions
        log.warning("no related resources for resource %s", resource.id, exc_info=True)
        return MoreLikeThis()
    hits, tags_by_id = hits_in_order([r.resource_id for r in found], viewer)
    if resource.anonymous:  # its giver's named gifts beside it would hint who gave it
        hits = [h for h in hits if h.owner_id != resource.owner_id]
    own_tags = set(resource.tag_names)
    return MoreLikeThis(
        hits=hits,
        tags_by_id=tags_by_id,
        taken_together=frozenset(r.resource_id for r in found if r.taken_together),
        shared_tags={h.id: [t for t in tags_by_id[h.id] if t in own_tags] for h in hits},
    )


def likeness_of(resource: Resource) -> search_mod.Likeness:
    """A resource's texts as its page read them: the start of each file's text, not all
    of it (:func:`for_page` loads an excerpt; without it, the words around the file)."""
    excerpts = [getattr(f, "excerpt", None) or "" for f in resource.files]
    return search_mod.Likeness(
        resource_id=resource.id,
        title=resource.title,
        synopsis=resource.synopsis,
        how_used=resource.how_used,
        content="\n\n".join(excerpts),
        tags=tuple(resource.tag_names),
    )
