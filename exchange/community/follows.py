"""Following members and topics, and what is new from them.

A member follows a colleague whose tools they trust, or a topic they work on; "What's new"
on the home page (and the weekly digest, :mod:`.digest`) then lists new shares from them,
with the answers to the member's own requests. Only what the member may see is news
(:func:`exchange.access.news_clause`), and an anonymous gift is never tied to its giver:
following a member brings only the shares that carry their name.

The verbs flush and leave the commit to their caller (the request or the command).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, and_, delete, exists, or_, select

from .. import access
from ..extensions import db
from ..models import (
    Answer,
    Collection,
    Follow,
    Member,
    Resource,
    ShareRequest,
    Tag,
    insert_if_absent,
    resource_tags,
)
from ..vocab import normalise_tag
from .kits import followed_kits
from .rules import Refused

# -- following and unfollowing ------------------------------------------------------------


def follow_member(follower: Member, member: Member) -> bool:
    """Follow a colleague; True if this is new (following twice changes nothing)."""
    if follower.id == member.id:
        raise Refused(_("That’s you: your own shares are listed on your exchange page."))
    return _follow(follower, Follow.MEMBER, member.id)


def unfollow_member(follower: Member, member: Member) -> bool:
    return _unfollow(follower, Follow.MEMBER, member.id)


def follow_topic(follower: Member, name: str) -> Tag:
    """Follow a topic by its name; refused kindly when no resource was ever given that tag."""
    tag = find_topic(name)
    if tag is None:
        raise Refused(_("Nothing has been shared under that topic yet, so it can’t be followed."))
    _follow(follower, Follow.TAG, tag.id)
    return tag


def unfollow_topic(follower: Member, name: str) -> bool:
    tag = find_topic(name)
    return tag is not None and _unfollow(follower, Follow.TAG, tag.id)


def find_topic(name: str) -> Tag | None:
    return db.session.scalar(select(Tag).where(Tag.name == normalise_tag(name)))


def _follow(follower: Member, kind: str, target_id: int) -> bool:
    unique = ["follower_id", "kind", "target_id"]
    return insert_if_absent(Follow, unique, follower_id=follower.id, kind=kind, target_id=target_id)


def _unfollow(follower: Member, kind: str, target_id: int) -> bool:
    statement = delete(Follow).where(
        Follow.follower_id == follower.id, Follow.kind == kind, Follow.target_id == target_id
    )
    return db.session.execute(statement).rowcount > 0


# -- what a member follows ---------------------------------------------------------------


def follows_member(follower, member: Member) -> bool:
    """Whether ``follower`` (a member, or a visitor who follows nothing) follows ``member``."""
    return _follows(follower, Follow.MEMBER, member.id)


def follows_topic(follower, name: str) -> bool:
    tag = find_topic(name)
    return tag is not None and _follows(follower, Follow.TAG, tag.id)


def _follows(follower, kind: str, target_id: int) -> bool:
    if not getattr(follower, "is_authenticated", False):
        return False
    found = exists().where(
        Follow.follower_id == follower.id, Follow.kind == kind, Follow.target_id == target_id
    )
    return bool(db.session.scalar(select(found)))


@dataclass(frozen=True)
class Following:
    """What one member follows, each kind in alphabetical order."""

    members: list[Member] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    kits: list[Collection] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.members or self.topics or self.kits)


def following(member: Member) -> Following:
    members = select(Member).join(Follow, _followed(member, Follow.MEMBER, Member.id))
    topics = select(Tag.name).join(Follow, _followed(member, Follow.TAG, Tag.id))
    return Following(
        members=list(db.session.scalars(members.order_by(Member.name, Member.id))),
        topics=list(db.session.scalars(topics.order_by(Tag.name))),
        kits=followed_kits(member),
    )


def _followed(member: Member, kind: str, target_id):
    return and_(Follow.follower_id == member.id, Follow.kind == kind, Follow.target_id == target_id)


# -- what is new -------------------------------------------------------------------------


def news_query(member: Member, since: datetime | None = None) -> Select:
    """Others' shares ``member`` may see that come from a member or topic they follow, or
    answer one of their requests, newest first: a statement to paginate."""
    query = select(Resource).where(
        access.news_clause(member),
        Resource.owner_id != member.id,
        or_(_from_followed_members(member), _on_followed_topics(member), _answers_to(member)),
    )
    if since is not None:
        query = query.where(Resource.created_at > since)
    return query.order_by(Resource.created_at.desc(), Resource.id.desc())


def _from_followed_members(member: Member):
    followed = select(Follow.target_id).where(
        Follow.follower_id == member.id, Follow.kind == Follow.MEMBER
    )
    # An anonymous gift is never tied to its giver, not even for their followers.
    return and_(Resource.owner_id.in_(followed), Resource.credit_name != "")


def _on_followed_topics(member: Member):
    followed = select(Follow.target_id).where(
        Follow.follower_id == member.id, Follow.kind == Follow.TAG
    )
    return exists().where(
        resource_tags.c.resource_id == Resource.id, resource_tags.c.tag_id.in_(followed)
    )


def _answers_to(member: Member):
    return access.answers_request_of(member.id, Resource.id)


@dataclass(frozen=True)
class NewsItem:
    """One new resource and why it is news to this member, in words."""

    resource: Resource
    reasons: list[str]


def whats_new(member: Member, limit: int, since: datetime | None = None) -> list[NewsItem]:
    """The newest ``limit`` items of :func:`news_query`, each with its reasons."""
    resources = list(db.session.scalars(news_query(member, since).limit(limit)))
    return news_items(member, resources)


def news_items(member: Member, resources: list[Resource]) -> list[NewsItem]:
    """Say why each resource is news: the colleague or topics followed, the request answered."""
    follows = following(member)
    member_ids = {m.id for m in follows.members}
    topics = set(follows.topics)
    answered = _requests_answered(member, [r.id for r in resources])
    items = []
    for resource in resources:
        reasons = [
            _("Answers your request “%(title)s”", title=title)
            for title in answered.get(resource.id, [])
        ]
        if resource.owner_id in member_ids and not resource.anonymous:
            reasons.append(_("You follow %(name)s", name=resource.owner.name))
        reasons += [
            _("Topic you follow: %(name)s", name=name)
            for name in resource.tag_names
            if name in topics
        ]
        items.append(NewsItem(resource, reasons))
    return items


def _requests_answered(member: Member, resource_ids: list[int]) -> dict[int, list[str]]:
    query = (
        select(Answer.resource_id, ShareRequest.title)
        .join(ShareRequest, ShareRequest.id == Answer.request_id)
        .where(ShareRequest.asker_id == member.id, Answer.resource_id.in_(resource_ids))
        .order_by(ShareRequest.id)
    )
    titles: dict[int, list[str]] = {}
    for resource_id, title in db.session.execute(query):
        titles.setdefault(resource_id, []).append(title)
    return titles
