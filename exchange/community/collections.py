"""Collections and workshop kits: what a member keeps, orders and shares of others' tools.

"My toolkit" is each member's default collection (made the first time they save something);
a member may make more, each with a purpose, a note per item, and an order they choose. A
*kit* is a collection with a running order (minutes per item, a running-order sheet); a
*public* collection or kit is shared: others find it, see its page, download it and make
their own version of it (:func:`copy_collection`, which credits the original).

The verbs flush and leave the commit to their caller; who may do what is asked of
:mod:`exchange.access` by the views before they call here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from .. import access
from ..extensions import db
from ..models import (
    Collection,
    CollectionItem,
    Follow,
    Member,
    Resource,
    Tag,
    insert_if_absent,
    utcnow,
)
from .rules import Refused

MAX_MINUTES = 24 * 60
MAX_NOTE_CHARS = 300


@dataclass
class CollectionDetails:
    """What a member chooses for a collection: its words, whether it is a kit, and public."""

    title: str
    purpose: str = ""
    is_kit: bool = False
    public: bool = False
    tags: list[str] = field(default_factory=list)


# -- the default collection: "My toolkit" -----------------------------------------------------


def default_collection(member: Member) -> Collection:
    """The member's "My toolkit", made the first time it is needed (once, however many
    requests race: ``default_of`` is unique)."""
    found = _default_of(member)
    if found is not None:
        return found
    insert_if_absent(
        Collection,
        ["default_of"],
        owner_id=member.id,
        title=Collection.DEFAULT_TITLE,
        purpose="",
        default_of=member.id,
        is_kit=False,
        public=False,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    return _default_of(member)


def _default_of(member: Member) -> Collection | None:
    return db.session.scalar(select(Collection).where(Collection.default_of == member.id))


def toggle_saved(member: Member, resource: Resource) -> bool:
    """Save the resource to the member's toolkit, or take it out; True when now saved."""
    toolkit = default_collection(member)
    item = _item_for(toolkit, resource.id)
    if item is not None:
        remove_item(toolkit, item.id)
        return False
    add_item(toolkit, resource)
    return True


def toolkit_of(member: Member) -> Collection | None:
    """The member's toolkit if they ever saved anything (None: nothing saved yet)."""
    return _default_of(member)


# -- making, changing and deleting collections ----------------------------------------------


def create_collection(owner: Member, details: CollectionDetails) -> Collection:
    collection = Collection(owner_id=owner.id, title="", created_at=utcnow())
    update_collection(collection, details)
    db.session.add(collection)
    db.session.flush()
    return collection


def update_collection(collection: Collection, details: CollectionDetails) -> None:
    """Rename, re-purpose, re-tag, publish or keep private. "My toolkit" stays private and
    keeps its name: it is what "Save to my toolkit" fills."""
    if collection.is_default:
        if details.public:
            raise Refused(_("“My toolkit” stays private: make a new collection to share."))
        details.title = Collection.DEFAULT_TITLE
    collection.title = " ".join(details.title.split())
    collection.purpose = details.purpose.strip()
    collection.is_kit = details.is_kit
    collection.public = details.public
    collection.tags = tags_named(details.tags)
    _touch(collection)


def delete_collection(collection: Collection) -> None:
    """Delete a collection (never the default one), its items and who followed it."""
    if collection.is_default:
        raise Refused(_("“My toolkit” can’t be deleted; take out what you no longer need."))
    _delete(collection)
    db.session.flush()


def remove_collections_of(member: Member, keep_shared: bool) -> None:
    """A member leaving: their private collections go, and their shared kits unless they
    chose to keep their words (then the kits stay, under the emptied account)."""
    query = select(Collection).where(Collection.owner_id == member.id)
    if keep_shared:
        query = query.where(Collection.public.is_(False))
    for collection in db.session.scalars(query):
        _delete(collection)


def _delete(collection: Collection) -> None:
    """The collection, its items (one by one: SQLite leaves cascades to the ORM), its
    followers, and the link copies keep to it (they keep their own items)."""
    db.session.execute(
        delete(Follow).where(Follow.kind == Follow.KIT, Follow.target_id == collection.id)
    )
    db.session.execute(
        update(Collection)
        .where(Collection.copied_from_id == collection.id)
        .values(copied_from_id=None)
    )
    db.session.delete(collection)


def tags_named(names: Sequence[str]) -> list[Tag]:
    """The Tag rows for these (already normalised) names, made when new."""
    for name in names:
        insert_if_absent(Tag, ["name"], name=name)
    if not names:
        return []
    found = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    return [found[name] for name in names]


def _touch(collection: Collection) -> None:
    """A change its followers hear of ("What's new"), and that sorts it first in my list."""
    collection.updated_at = utcnow()


# -- items: add, take out, move, note -------------------------------------------------------


def add_item(
    collection: Collection, resource: Resource, note: str = "", minutes: int | None = None
) -> bool:
    """Put a resource at the end of the collection; False when it was already there."""
    if _item_for(collection, resource.id) is not None:
        return False
    last = db.session.scalar(
        select(func.max(CollectionItem.position)).where(
            CollectionItem.collection_id == collection.id
        )
    )
    values = dict(collection_id=collection.id, resource_id=resource.id)
    values.update(resource_title=resource.title, position=(last or 0) + 1, created_at=utcnow())
    added = insert_if_absent(CollectionItem, ["collection_id", "resource_id"], **values)
    if added and (note or minutes is not None):
        set_item_note(collection, _item_for(collection, resource.id).id, note, minutes)
    _touch(collection)
    db.session.flush()
    db.session.expire(collection, ["items"])
    return added


def _item_for(collection: Collection, resource_id: int) -> CollectionItem | None:
    query = select(CollectionItem).where(
        CollectionItem.collection_id == collection.id, CollectionItem.resource_id == resource_id
    )
    return db.session.scalar(query)


def item_of(collection: Collection, item_id: int) -> CollectionItem:
    """One item of this collection; refused if it is not one of its own (a stale page)."""
    item = db.session.get(CollectionItem, item_id)
    if item is None or item.collection_id != collection.id:
        raise Refused(_("That item is no longer in this collection."))
    return item


def remove_item(collection: Collection, item_id: int) -> None:
    db.session.delete(item_of(collection, item_id))
    _touch(collection)
    db.session.flush()
    db.session.expire(collection, ["items"])


def move_item(collection: Collection, item_id: int, step: int) -> None:
    """Swap an item with its neighbour above (step -1) or below (+1); at an end, nothing."""
    items = list(collection.items)
    index = next((i for i, item in enumerate(items) if item.id == item_id), None)
    if index is None:
        raise Refused(_("That item is no longer in this collection."))
    other = index + step
    if not 0 <= other < len(items):
        return
    items[index], items[other] = items[other], items[index]
    for position, item in enumerate(items, start=1):
        item.position = position
    _touch(collection)
    db.session.flush()


def set_item_note(collection: Collection, item_id: int, note: str, minutes: int | None) -> None:
    """How the item fits ("15 min, in pairs") and, in a kit, its minutes in the running order."""
    if minutes is not None and not 0 <= minutes <= MAX_MINUTES:
        raise Refused(_("Minutes must be a whole number from 0 to %(most)s.", most=MAX_MINUTES))
    item = item_of(collection, item_id)
    item.note = " ".join(note.split())[:MAX_NOTE_CHARS]
    item.minutes = minutes
    _touch(collection)
    db.session.flush()


# -- copies ------------------------------------------------------------------------------------


def copy_collection(member: Member, original: Collection) -> Collection:
    """ "Make my own version": a private copy with the same order, notes, minutes and tags,
    that names the original (its page credits it as "based on … by …")."""
    if original.is_default:
        raise Refused(_("“My toolkit” is a private list: make a collection to share or copy."))
    details = CollectionDetails(
        title=original.title,
        purpose=original.purpose,
        is_kit=original.is_kit,
        tags=original.tag_names,
    )
    copy = create_collection(member, details)
    copy.copied_from_id = original.id
    seen = [i for i in original.items if i.resource and access.can_view(member, i.resource)]
    for position, item in enumerate(seen, start=1):
        db.session.add(_copied_item(copy, item, position))
    db.session.flush()
    return copy


def _copied_item(copy: Collection, item: CollectionItem, position: int) -> CollectionItem:
    """What the copier could see of the original: nothing gone or hidden comes along."""
    return CollectionItem(
        collection_id=copy.id,
        resource_id=item.resource_id,
        resource_title=item.resource_title,
        position=position,
        note=item.note,
        minutes=item.minutes,
        created_at=utcnow(),
    )


# -- when a resource goes ---------------------------------------------------------------------


def forget_resource_in_collections(resource_id: int) -> None:
    """A deleted resource stays in collections as its title only ("no longer available").

    The foreign key says the same (``SET NULL``); saying it here too keeps SQLite, which
    leaves foreign-key actions off, from pointing at an id a new resource might reuse.
    """
    db.session.execute(
        update(CollectionItem)
        .where(CollectionItem.resource_id == resource_id)
        .values(resource_id=None)
    )
