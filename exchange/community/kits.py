"""Reading collections and kits: a kit's running order as a viewer sees it, a member's
list of collections, the public kits a resource is in, finding kits by their words, and
following a kit (with what is new about the kits a member follows).

Kits are few beside resources, so finding them is a plain database query over their title,
purpose, notes and the titles of what they hold, rather than documents in the search index:
resource searches keep their index to themselves, and a kit is found the moment it is saved.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import selectinload

from .. import access
from ..extensions import db
from ..models import Collection, CollectionItem, Follow, Member, Resource, insert_if_absent
from .rules import Refused

MAX_QUERY_WORDS = 8
MAX_KITS_FOUND = 5  # a search page lists at most this many kits above the resources
_QUERY_WORD = re.compile(r"(?<![-\w])\w{2,}")
_OPERATORS = {"or", "and", "not"}


@dataclass(frozen=True)
class Entry:
    """One line of a kit's running order as a viewer sees it."""

    number: int
    item: CollectionItem
    resource: Resource | None  # None: no longer available (only the owner is shown such)
    starts_at: int | None  # minutes from the start, when the kit gives minutes


def entries_for(collection: Collection, viewer) -> list[Entry]:
    """The items ``viewer`` may see, numbered in order. Others never see what is gone or
    hidden; the owner of a kit or collection sees it, marked "no longer available", to take
    out or replace (a running order with a silent gap misleads). "My toolkit" simply stops
    listing it, as the toolkit always did."""
    is_owner = access.can_edit_collection(viewer, collection) and not collection.is_default
    entries: list[Entry] = []
    clock = 0
    for item in _items_with_resources(collection):
        available = item.resource is not None and access.can_view(viewer, item.resource)
        if not (available or is_owner):
            continue
        starts = clock if collection.is_kit else None
        if available and item.minutes:
            clock += item.minutes
        entries.append(Entry(len(entries) + 1, item, item.resource if available else None, starts))
    return entries


def _items_with_resources(collection: Collection) -> list[CollectionItem]:
    query = (
        select(CollectionItem)
        .where(CollectionItem.collection_id == collection.id)
        .options(selectinload(CollectionItem.resource).selectinload(Resource.files))
        .order_by(CollectionItem.position, CollectionItem.id)
    )
    return list(db.session.scalars(query))


def total_minutes(entries: list[Entry]) -> int:
    return sum(e.item.minutes or 0 for e in entries if e.resource is not None)


def collections_of(member: Member) -> list[Collection]:
    """The member's own collections: "My toolkit" first, then the most recently changed."""
    query = (
        select(Collection)
        .where(Collection.owner_id == member.id)
        .options(selectinload(Collection.items), selectinload(Collection.tags))
        .order_by(Collection.default_of.is_(None), Collection.updated_at.desc())
    )
    return list(db.session.scalars(query))


def collection_for_page(collection_id: int) -> Collection | None:
    query = (
        select(Collection)
        .where(Collection.id == collection_id)
        .options(selectinload(Collection.tags), selectinload(Collection.owner))
    )
    return db.session.scalar(query)


def saved_in(member: Member, resource: Resource) -> list[int]:
    """The ids of the member's collections that hold this resource."""
    query = (
        select(CollectionItem.collection_id)
        .join(Collection, Collection.id == CollectionItem.collection_id)
        .where(Collection.owner_id == member.id, CollectionItem.resource_id == resource.id)
    )
    return list(db.session.scalars(query))


# -- public kits around a resource ----------------------------------------------------------


def kits_using(resource: Resource, limit: int = 10) -> list[Collection]:
    """The public kits and collections that hold this resource, most recently changed first."""
    query = (
        select(Collection)
        .join(CollectionItem, CollectionItem.collection_id == Collection.id)
        .where(Collection.public, CollectionItem.resource_id == resource.id)
        .options(selectinload(Collection.owner))
        .order_by(Collection.updated_at.desc(), Collection.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def kits_by_resource(owner: Member) -> dict[int, int]:
    """For each of ``owner``'s resources, how many public kits use it (a giver's impact)."""
    query = (
        select(CollectionItem.resource_id, func.count(func.distinct(Collection.id)))
        .join(Collection, Collection.id == CollectionItem.collection_id)
        .join(Resource, Resource.id == CollectionItem.resource_id)
        .where(Collection.public, Resource.owner_id == owner.id)
        .group_by(CollectionItem.resource_id)
    )
    return dict(db.session.execute(query).all())


def kits_with_gifts_of(owner: Member) -> int:
    """How many different public kits use at least one of ``owner``'s resources."""
    query = (
        select(func.count(func.distinct(Collection.id)))
        .join(CollectionItem, CollectionItem.collection_id == Collection.id)
        .join(Resource, Resource.id == CollectionItem.resource_id)
        .where(Collection.public, Resource.owner_id == owner.id)
    )
    return db.session.scalar(query) or 0


# -- finding kits -------------------------------------------------------------------------------


def query_words(q: str) -> list[str]:
    """The words of a search a kit must contain: operators and ``-left out`` words aside."""
    words = [w for w in _QUERY_WORD.findall(q.lower()) if w not in _OPERATORS]
    return list(dict.fromkeys(words))[:MAX_QUERY_WORDS]


def find_kits(
    q: str, viewer, limit: int = MAX_KITS_FOUND, offset: int = 0, browse: bool = False
) -> list[Collection]:
    """Public kits (and the viewer's own) whose title, purpose, notes or items' titles hold
    every word of the search, most recently changed first.

    A search page asks for the first few; the API's list pages through them (``offset``)
    and, ``browse``-ing, takes a search without words as every kit the viewer may see (a
    search page shows none then: its results are about resources).

    Every search page runs this, so the statement is built once per number of words and
    each word is a bound pattern: a search with no kit to find costs one small query.
    """
    words = query_words(q)
    if not words and not browse:
        return []
    values = {**_bound(words, viewer), "limit": limit, "offset": offset}
    return list(db.session.scalars(_kits_query(len(words)), values))


def count_kits(q: str, viewer, browse: bool = False) -> int:
    """How many kits :func:`find_kits` finds in all, for a list's pages."""
    words = query_words(q)
    if not words and not browse:
        return 0
    return db.session.scalar(_count_query(len(words)), _bound(words, viewer)) or 0


NOBODY = -1  # no member has this id: a visitor sees public kits only
_LIKE_ESCAPE = "\\"


def _bound(words: list[str], viewer) -> dict[str, object]:
    viewer_id = viewer.id if getattr(viewer, "is_authenticated", False) else NOBODY
    patterns = {f"w{i}": f"%{_escaped(word)}%" for i, word in enumerate(words)}
    return {**patterns, "viewer_id": viewer_id}


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matching(query: Select, word_count: int) -> Select:
    """The kits a viewer may see (``viewer_id``) that mention every word (``w0``…)."""
    return (
        query.where(access.collection_visible_to(bindparam("viewer_id")))
        .where(Collection.default_of.is_(None))
        .where(*(_mentions(bindparam(f"w{i}")) for i in range(word_count)))
    )


@functools.cache
def _kits_query(word_count: int) -> Select:
    return (
        _matching(select(Collection), word_count)
        .options(selectinload(Collection.owner), selectinload(Collection.items))
        .order_by(Collection.updated_at.desc(), Collection.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


@functools.cache
def _count_query(word_count: int) -> Select:
    return _matching(select(func.count(Collection.id)), word_count)


def _mentions(pattern):
    def like(column):
        return column.ilike(pattern, escape=_LIKE_ESCAPE)

    in_notes = exists().where(
        CollectionItem.collection_id == Collection.id, like(CollectionItem.note)
    )
    in_titles = exists().where(
        CollectionItem.collection_id == Collection.id,
        Resource.id == CollectionItem.resource_id,
        Resource.status == Resource.PUBLISHED,
        like(Resource.title),
    )
    return or_(like(Collection.title), like(Collection.purpose), in_notes, in_titles)


# -- following a kit ----------------------------------------------------------------------------


def follow_kit(follower: Member, collection: Collection) -> bool:
    """Follow a shared kit: "What's new" then says when it changes or someone copies it."""
    if collection.owner_id == follower.id:
        raise Refused(_("That’s your own kit: you see every change you make to it."))
    if not collection.public:
        raise Refused(_("Only shared kits can be followed."))
    unique = ["follower_id", "kind", "target_id"]
    values = dict(follower_id=follower.id, kind=Follow.KIT, target_id=collection.id)
    return insert_if_absent(Follow, unique, **values)


def unfollow_kit(follower: Member, collection: Collection) -> bool:
    found = _follow_of(follower, collection)
    if found is None:
        return False
    db.session.delete(found)
    db.session.flush()
    return True


def follows_kit(follower, collection: Collection) -> bool:
    if not getattr(follower, "is_authenticated", False):
        return False
    return _follow_of(follower, collection) is not None


def _follow_of(follower: Member, collection: Collection) -> Follow | None:
    query = select(Follow).where(
        Follow.follower_id == follower.id,
        Follow.kind == Follow.KIT,
        Follow.target_id == collection.id,
    )
    return db.session.scalar(query)


def followed_kits(member: Member) -> list[Collection]:
    query = (
        select(Collection)
        .join(Follow, and_(Follow.target_id == Collection.id, Follow.kind == Follow.KIT))
        .where(Follow.follower_id == member.id)
        .order_by(Collection.title, Collection.id)
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class KitNews:
    """A followed kit that changed, or a colleague's new version of it."""

    kit: Collection
    reason: str
    when: datetime


def kit_news(member: Member, limit: int) -> list[KitNews]:
    """The newest changes to, and public copies of, the shared kits ``member`` follows,
    since they started following each one."""
    news = [*_changed_kits(member, limit), *_copies_of_followed(member, limit)]
    return sorted(news, key=lambda n: n.when, reverse=True)[:limit]


def _changed_kits(member: Member, limit: int) -> list[KitNews]:
    query = (
        select(Collection)
        .join(Follow, _followed_kit(Collection.id))
        .where(Follow.follower_id == member.id, Collection.public)
        .where(Collection.updated_at > Follow.created_at)
        .order_by(Collection.updated_at.desc())
        .limit(limit)
    )
    return [
        KitNews(
            kit, _("“%(title)s”, a kit you follow, was changed", title=kit.title), kit.updated_at
        )
        for kit in db.session.scalars(query)
    ]


def _copies_of_followed(member: Member, limit: int) -> list[KitNews]:
    query = (
        select(Collection)
        .join(Follow, _followed_kit(Collection.copied_from_id))
        .where(Follow.follower_id == member.id, Collection.public)
        .where(Collection.created_at > Follow.created_at, Collection.owner_id != member.id)
        .options(selectinload(Collection.owner), selectinload(Collection.copied_from))
        .order_by(Collection.created_at.desc())
        .limit(limit)
    )
    return [KitNews(kit, _copied_reason(kit), kit.created_at) for kit in db.session.scalars(query)]


def _followed_kit(kit_id):
    return and_(Follow.target_id == kit_id, Follow.kind == Follow.KIT)


def _copied_reason(kit: Collection) -> str:
    original = kit.copied_from.title if kit.copied_from else kit.title
    return _(
        "%(name)s made their own version of “%(original)s”, a kit you follow",
        name=kit.owner.name,
        original=original,
    )
