"""Database models. The database is the source of truth for everything but file bytes.

Search reads from here (the extracted text lives on :class:`StoredFile`), so the index can
always be rebuilt from the database alone; :class:`IndexChange` is the ordered log of
changes the search replicas apply.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .vocab import ACCESS, AUDIENCES, KINDS, LICENCES


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(db.TypeDecorator):
    """Timezone-aware datetimes on every database (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Member(UserMixin, db.Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # always stored lower-case
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    credit_name: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(120), default="")
    region: Mapped[str] = mapped_column(String(120), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on logout and password change: every cookie issued before stops working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resources: Mapped[list[Resource]] = relationship(
        back_populates="owner", order_by="Resource.created_at.desc()"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return not self.suspended

    @property
    def default_credit(self) -> str:
        """How this member is credited unless they say otherwise on a share."""
        if self.credit_name:
            return self.credit_name
        return f"{self.name} ({self.organisation})" if self.organisation else self.name


resource_tags = Table(
    "resource_tags",
    db.metadata,
    Column("resource_id", ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)


class Resource(db.Model):
    __tablename__ = "resources"

    PUBLISHED = "published"
    DRAFT = "draft"  # waiting for the sharer to review a privacy warning
    HIDDEN = "hidden"  # hidden by an admin after a report

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    synopsis: Mapped[str] = mapped_column(Text)
    how_used: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    audience: Mapped[str] = mapped_column(String(40))
    licence: Mapped[str] = mapped_column(String(40))
    credit_name: Mapped[str] = mapped_column(String(200), default="")  # "" = anonymous
    access: Mapped[str] = mapped_column(String(20), default="everyone")
    status: Mapped[str] = mapped_column(String(20), default=PUBLISHED, index=True)
    download_count: Mapped[int] = mapped_column(Integer, default=0)  # unique members
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[Member] = relationship(back_populates="resources")
    tags: Mapped[list[Tag]] = relationship(secondary=resource_tags, order_by=Tag.name)
    files: Mapped[list[StoredFile]] = relationship(
        back_populates="resource", order_by="StoredFile.position", cascade="all, delete-orphan"
    )

    @property
    def anonymous(self) -> bool:
        return not self.credit_name

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def audience_label(self) -> str:
        return AUDIENCES.get(self.audience, self.audience)

    @property
    def licence_label(self) -> str:
        return LICENCES.get(self.licence, self.licence)

    @property
    def access_label(self) -> str:
        return ACCESS.get(self.access, self.access)

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]


class StoredFile(db.Model):
    """One uploaded file: where its bytes are, what they are, and the text inside them."""

    __tablename__ = "files"

    SEARCHABLE = "searchable"
    UNSEARCHABLE = "unsearchable"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    format: Mapped[str] = mapped_column(String(16))  # e.g. "docx", by content
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    credited_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    credited_size: Mapped[int | None] = mapped_column(BigInteger)
    credited_sha256: Mapped[str | None] = mapped_column(String(64))
    preview_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # The extracted text can be long: loaded only when asked for (index, previews, snippets).
    text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    text_status: Mapped[str] = mapped_column(String(20), default=SEARCHABLE)
    text_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resource: Mapped[Resource] = relationship(back_populates="files")

    @property
    def searchable(self) -> bool:
        return self.text_status == self.SEARCHABLE

    def storage_keys(self) -> list[str]:
        """Every object this file owns in storage."""
        return [k for k in (self.storage_key, self.credited_key, self.preview_key) if k]


class Download(db.Model):
    """The download ledger: one row per download, for counts, allowances and impact."""

    __tablename__ = "downloads"
    __table_args__ = (Index("ix_downloads_resource_member", "resource_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id", ondelete="SET NULL"))
    region: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class IndexChange(db.Model):
    """The ordered change log the search replicas apply; written in the change's transaction."""

    __tablename__ = "index_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    resource_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Any fixed number: the PostgreSQL advisory lock that orders writers to the log.
    LOCK_KEY = 0x7E_C4A9_6E

    @classmethod
    def record(cls, resource_id: int) -> None:
        """Log that a resource changed, inside the caller's transaction.

        On PostgreSQL a transaction-scoped advisory lock makes log positions commit in
        order, so a replica that has applied position N never later finds an N-1 appear.
        (SQLite already serialises writers.)
        """
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(
                sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": cls.LOCK_KEY}
            )
        db.session.add(cls(resource_id=resource_id))

    @staticmethod
    def head() -> int:
        """The newest position in the log (0 when empty)."""
        return db.session.scalar(select(func.coalesce(func.max(IndexChange.id), 0)))


__all__ = [
    "Download",
    "IndexChange",
    "Member",
    "Resource",
    "StoredFile",
    "Tag",
    "resource_tags",
    "utcnow",
]


class Taker(db.Model):
    """One row per member who ever downloaded a resource: what the public count counts."""

    __tablename__ = "takers"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
