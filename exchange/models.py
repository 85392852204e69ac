"""Database models. The database is the source of truth for everything but file bytes.

Search reads from here (the extracted text lives on :class:`StoredFile`), so the index can
always be rebuilt from the database alone; :class:`IndexChange` is the ordered log of
changes the search replicas apply.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
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
    UniqueConstraint,
    false,
    func,
    select,
    true,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship, with_expression

from .extensions import db
from .i18n import label
from .vocab import (
    ACCESS,
    AUDIENCES,
    CREDIT_ON_PAGE,
    KINDS,
    LANGUAGES,
    LICENCES,
    N_,
    VISIBILITY,
)


def insert_if_absent(model: type, unique: Sequence[str], **values) -> bool:
    """Insert a row unless one with the same ``unique`` columns exists; True if this wrote it.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING`` on SQLite and PostgreSQL: one statement,
    and a racing transaction with the same values is waited for, then nothing happens.
    Other databases fall back to a savepoint.
    """
    insert = _UPSERTS.get(db.session.get_bind().dialect.name)
    if insert is None:
        try:
            with db.session.begin_nested():
                db.session.add(model(**values))
            return True
        except IntegrityError:
            return False
    first_key = model.__mapper__.primary_key[0]
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=list(unique))
    return db.session.execute(statement.returning(first_key)).first() is not None


_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

# ``session.info`` key: rows of each model written by Core statements in this transaction.
CORE_WRITES = "exchange_core_writes"


def note_core_write(session, model: type, count: int = 1) -> None:
    """Record rows inserted without the ORM, which its flush events never see.

    Whatever reports on committed rows (the metrics) reads this when the session commits.
    """
    session.info.setdefault(CORE_WRITES, Counter())[model] += count


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
    # Notifications are always shown on the site; this says whether they are emailed too.
    email_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    # A weekly email of what is new from what they follow: asked for, never assumed.
    weekly_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The interface's language for this member ("en", "fr", "es"), and their emails' and
    # notifications'. None: not chosen; pages follow the browser and emails are in English.
    language: Mapped[str | None] = mapped_column(String(8))
    # Bumped on logout and password change: every cookie issued before stops working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the member follows the link emailed at registration; until then no login.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the member deleted their account: the row stays, emptied of everything that
    # named them, so ledger counts and anonymised words keep a row to point at.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    resources: Mapped[list[Resource]] = relationship(
        back_populates="owner", order_by="Resource.created_at.desc()"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return not self.suspended and self.deleted_at is None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

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
    SUSPENDED = "suspended"  # hidden while its owner is suspended; published again with them
    # Its files are being read (text, scans, the privacy scan, credited copies) by a job
    # after the share: only its giver sees it until that job publishes it or holds it as a
    # draft for the giver's privacy review.
    PROCESSING = "processing"

    PUBLIC = "public"  # visitors who are not signed in find it too
    MEMBERS_ONLY = "members"  # only signed-in members find it

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    synopsis: Mapped[str] = mapped_column(Text)
    how_used: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    audience: Mapped[str] = mapped_column(String(40))
    licence: Mapped[str] = mapped_column(String(40))
    credit_name: Mapped[str] = mapped_column(String(200), default="")  # "" = anonymous
    # Where a named credit goes: "page" (printed on every page, and in the properties) or
    # "properties" (the file's document properties and its name only).
    credit_placement: Mapped[str] = mapped_column(String(20), default=CREDIT_ON_PAGE)
    # The giver's wish that files unable to carry the credit on the page (old Office files,
    # pictures, CSV) download as a zip with a credit.txt beside them.
    credit_txt: Mapped[bool] = mapped_column(Boolean, default=False)
    # The giver's wish that the downloaded copy of a scanned PDF carries an invisible text
    # layer of the words read from its pages, so a client's copy is searchable too.
    text_layer: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    access: Mapped[str] = mapped_column(String(20), default="everyone")
    visibility: Mapped[str] = mapped_column(String(20), default=PUBLIC, server_default=PUBLIC)
    status: Mapped[str] = mapped_column(String(20), default=PUBLISHED, index=True)
    # ISO 639-1 code of the language it is written in (search analyses it by that
    # language's rules): the giver's choice, else detected from its text; "" when it could
    # not be told, None for a resource shared before languages were kept (``exchange
    # doctor --repair`` detects those).
    language: Mapped[str | None] = mapped_column(String(8), nullable=True, default="")
    # While processing: a file read since it went into processing looks like it holds a
    # client's personal data, so it becomes a draft, not published, once all are read.
    privacy_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Why reading its files stopped after every try, in the job's own words (an exception's
    # last line); the giver's page words the sentence around it ("We could not read
    # “report.pdf”: …", the file being the first still pending) with a "Try again" button.
    # "" while all goes well. Older rows hold that English sentence whole (read alike).
    processing_note: Mapped[str] = mapped_column(String(500), default="", server_default="")
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
    def credit_on_page_wanted(self) -> bool:
        """Anonymous gifts print nothing: the giver chose to carry no name at all."""
        return self.credit_placement == CREDIT_ON_PAGE and not self.anonymous

    @property
    def kind_label(self) -> str:
        return label(KINDS.get(self.kind, self.kind))

    @property
    def audience_label(self) -> str:
        return label(AUDIENCES.get(self.audience, self.audience))

    @property
    def licence_label(self) -> str:
        return label(LICENCES.get(self.licence, self.licence))

    @property
    def language_label(self) -> str:
        """The language's name; "" when it is not known (nothing is shown then)."""
        return label(LANGUAGES.get(self.language or "", ""))

    @property
    def access_label(self) -> str:
        return label(ACCESS.get(self.access, self.access))

    @property
    def visibility_label(self) -> str:
        return label(VISIBILITY.get(self.visibility, self.visibility))

    @property
    def tag_names(self) -> list[str]:
        """In Python's order, so every page and database lists them alike (not by collation)."""
        return sorted(tag.name for tag in self.tags)


class StoredFile(db.Model):
    """One uploaded file: where its bytes are, what they are, and the text inside them."""

    __tablename__ = "files"

    SEARCHABLE = "searchable"
    UNSEARCHABLE = "unsearchable"
    FROM_SCANS = "ocr"  # text_source: read by Tesseract from scanned pages or a picture

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
    # Whether the credited copy shows the credit line on its pages, and if the giver asked
    # for that but the file could not take it, why not (in English words, translated when
    # the resource page shows them).
    credit_on_page: Mapped[bool] = mapped_column(Boolean, default=False)
    page_credit_note: Mapped[str] = mapped_column(String(300), default="")
    # The author the uploaded file's own properties name, when that is not the giver: kept
    # in the credited copy as "adapted from" and shown on the resource page ("" = none).
    original_author: Mapped[str] = mapped_column(String(200), default="")
    # The credited copy is a zip: the file as shared, under its credited name, and credit.txt.
    zipped_with_credit: Mapped[bool] = mapped_column(Boolean, default=False)
    preview_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # A picture of the first page is being drawn by a job (LibreOffice is slow); when none
    # could be made, why not (in English words, translated when the page shows them).
    preview_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    preview_note: Mapped[str] = mapped_column(String(300), default="")
    # The extracted text can be long: loaded only when asked for (index, previews, snippets).
    text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    # The start of ``text``, when a query asks for it (``with_excerpt``): pages show only that.
    excerpt: Mapped[str | None] = query_expression()
    text_status: Mapped[str] = mapped_column(String(20), default=SEARCHABLE)
    text_reason: Mapped[str] = mapped_column(String(300), default="")  # files.reasons, English
    # Where the text came from: "" the file's own text, FROM_SCANS some or all of it read
    # from scanned pages (search results and the resource page say "read from a scan").
    text_source: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # ISO 639-1 code of the language its own text is written in, detected once when the
    # text is read (search analyses it by that language's rules, which may not be its
    # resource's: a French worksheet in an English resource); "" when too short or mixed to
    # tell, None for a file read before files' languages were kept (``exchange doctor
    # --repair`` detects those).
    language: Mapped[str | None] = mapped_column(String(8), nullable=True, default="")
    # The credited copy carries an invisible text layer of what was read from its scans.
    text_layer: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Stored, but not read yet: its text, credited copy and picture are made by the job
    # that reads a resource's files after the share (or the edit that brought this version).
    pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A file keeps its id when the giver replaces it, so its download link and the ledger
    # keep meaning "this file": this row is always the current version, and the versions it
    # replaced are :class:`FileVersion` rows. Which version this is, the giver's note of what
    # changed in it, and when it was uploaded (None: with the file, ``created_at``).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    version_note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    version_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    resource: Mapped[Resource] = relationship(back_populates="files")
    versions: Mapped[list[FileVersion]] = relationship(
        back_populates="file",
        order_by="FileVersion.number.desc()",
        cascade="all, delete-orphan",
    )

    @property
    def searchable(self) -> bool:
        return self.text_status == self.SEARCHABLE

    @property
    def version_date(self) -> datetime:
        """When the current version was uploaded."""
        return self.version_at or self.created_at

    @property
    def read_from_scans(self) -> bool:
        return self.text_source == self.FROM_SCANS

    @property
    def language_label(self) -> str:
        """The language's name; "" when it is not known (nothing is shown then)."""
        return label(LANGUAGES.get(self.language or "", ""))

    @classmethod
    def with_excerpt(cls, chars: int = 3000):
        """A loader option filling :attr:`excerpt` with the text's first ``chars`` characters."""
        return with_expression(cls.excerpt, func.substr(cls.text, 1, chars))

    def storage_keys(self) -> list[str]:
        """Every object this file owns in storage, its earlier versions' included: whoever
        deletes a file (or its resource) deletes them all, and ``exchange doctor`` expects
        them all."""
        own = [k for k in (self.storage_key, self.credited_key, self.preview_key) if k]
        return own + [key for version in self.versions for key in version.storage_keys()]


class FileVersion(db.Model):
    """A version of a file that the giver has since replaced: its bytes, credited copy and
    the note the giver wrote when uploading it, kept until the resource is deleted.

    Its columns are named as :class:`StoredFile`'s, so crediting and sending a file work on
    either. Its text is not kept: search finds the current version only. Nor is its picture:
    the page shows the current version's.
    """

    __tablename__ = "file_versions"
    __table_args__ = (UniqueConstraint("file_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    format: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    credited_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    credited_size: Mapped[int | None] = mapped_column(BigInteger)
    credit_on_page: Mapped[bool] = mapped_column(Boolean, default=False)
    page_credit_note: Mapped[str] = mapped_column(String(300), default="")
    original_author: Mapped[str] = mapped_column(String(200), default="")
    zipped_with_credit: Mapped[bool] = mapped_column(Boolean, default=False)
    change_note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when this version was uploaded
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    file: Mapped[StoredFile] = relationship(back_populates="versions")

    def storage_keys(self) -> list[str]:
        return [k for k in (self.storage_key, self.credited_key) if k]


class Download(db.Model):
    """The download ledger: one row per download, for counts, allowances and impact."""

    __tablename__ = "downloads"
    __table_args__ = (Index("ix_downloads_resource_member", "resource_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id", ondelete="SET NULL"))
    # Which version of the file was taken (see :attr:`StoredFile.version`).
    file_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
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
    # On the session's info: the transaction in progress logged a change, so the index has
    # something to catch up with once it commits (see :func:`exchange.transactions.commit`).
    LOGGED = "exchange_index_change_logged"

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
        db.session.info[cls.LOGGED] = True

    @staticmethod
    def head() -> int:
        """The newest position in the log (0 when empty)."""
        return db.session.scalar(select(func.coalesce(func.max(IndexChange.id), 0)))


__all__ = [
    "Download",
    "FileVersion",
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


# -- the exchange around resources: requests, thanks, toolkits, notifications, reports ----


class ShareRequest(db.Model):
    """A request for a resource: on the public Requests board, or sent to one member only.

    For a direct ask ``body`` is the asker's personal note, and ``note_key`` a hash of its
    normalised wording, so the same note cannot be sent to member after member.
    """

    __tablename__ = "share_requests"

    OPEN = "open"
    FULFILLED = "fulfilled"
    DECLINED = "declined"  # only a direct ask can be declined, by the member asked

    id: Mapped[int] = mapped_column(primary_key=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    # None: on the public board. Otherwise the member asked directly.
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(600), default="")  # comma-separated, normalised
    note_key: Mapped[str] = mapped_column(String(64), default="", index=True)
    status: Mapped[str] = mapped_column(String(20), default=OPEN, index=True)
    reply: Mapped[str] = mapped_column(Text, default="")  # a decline's polite word
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    asker: Mapped[Member] = relationship(foreign_keys=[asker_id])
    recipient: Mapped[Member | None] = relationship(foreign_keys=[recipient_id])
    answers: Mapped[list[Answer]] = relationship(
        back_populates="request", order_by="Answer.created_at", cascade="all, delete-orphan"
    )

    @property
    def is_direct(self) -> bool:
        return self.recipient_id is not None

    @property
    def is_open(self) -> bool:
        return self.status == self.OPEN

    @property
    def tag_names(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]


class Answer(db.Model):
    """A member answering a request with one of their own published resources."""

    __tablename__ = "request_answers"
    __table_args__ = (UniqueConstraint("request_id", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("share_requests.id", ondelete="CASCADE"), index=True
    )
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    giver_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)  # the one that fulfilled it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[ShareRequest] = relationship(back_populates="answers")
    resource: Mapped[Resource] = relationship()
    giver: Mapped[Member] = relationship()


class Thanks(db.Model):
    """A taker's note of how they used a resource: one per member per resource, editable."""

    __tablename__ = "thanks"
    __table_args__ = (UniqueConstraint("resource_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    resource: Mapped[Resource] = relationship()
    member: Mapped[Member] = relationship()


collection_tags = Table(
    "collection_tags",
    db.metadata,
    Column("collection_id", ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Collection(db.Model):
    """A member's named list of resources: "My toolkit" (their default), a collection, or a
    workshop kit (a collection with a running order: minutes per item, a running-order sheet).

    One model for all three, because they differ only in flags: a public collection is a
    kit without a running order, and "My toolkit" is a private collection that cannot be
    deleted. ``default_of`` holds the owner's id on their default collection only; being
    UNIQUE, it makes two tabs saving a first resource at once create one toolkit, not two.
    """

    __tablename__ = "collections"

    # The default's title, kept in English (exports, the API) and translated when shown.
    DEFAULT_TITLE = N_("My toolkit")

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    default_of: Mapped[int | None] = mapped_column(Integer, unique=True)
    is_kit: Mapped[bool] = mapped_column(Boolean, default=False)  # has a running order
    public: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # The kit this one was copied from ("based on … by …"); emptied if that one is deleted.
    copied_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("collections.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    owner: Mapped[Member] = relationship()
    items: Mapped[list[CollectionItem]] = relationship(
        back_populates="collection",
        order_by="CollectionItem.position",
        cascade="all, delete-orphan",
    )
    tags: Mapped[list[Tag]] = relationship(secondary=collection_tags, order_by=Tag.name)
    copied_from: Mapped[Collection | None] = relationship(remote_side=[id])

    @property
    def is_default(self) -> bool:
        return self.default_of is not None

    @property
    def shown_title(self) -> str:
        """Its title as a page shows it: "My toolkit" in the reader's language."""
        return label(self.DEFAULT_TITLE) if self.is_default else self.title

    @property
    def tag_names(self) -> list[str]:
        return sorted(tag.name for tag in self.tags)


class CollectionItem(db.Model):
    """One resource in a collection, at its place in the running order, with a note of how
    it fits ("15 min, in pairs") and, in a kit, its minutes.

    ``resource_title`` is the title when it was added, so the collection's owner still sees
    what was there once the resource is deleted ("no longer available").
    """

    __tablename__ = "collection_items"
    __table_args__ = (UniqueConstraint("collection_id", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True
    )
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("resources.id", ondelete="SET NULL"), index=True
    )
    resource_title: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(300), default="")
    minutes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    collection: Mapped[Collection] = relationship(back_populates="items")
    resource: Mapped[Resource | None] = relationship()


class Notification(db.Model):
    """One in-app notice of one event; ``key`` names the event, so it is written at most once."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_member_read", "member_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # e.g. "thanks:12"
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxEmail(db.Model):
    """An email waiting to be sent by ``exchange send-emails``; ``key`` makes it one per event."""

    __tablename__ = "outbox"

    PENDING = "pending"
    SENDING = "sending"  # claimed by a run; never picked up again automatically
    SENT = "sent"
    FAILED = "failed"  # gave up after repeated refusals by the mail server

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Report(db.Model):
    """A member's report of a resource or of another member, for the admins' queue."""

    __tablename__ = "reports"

    OPEN = "open"
    ACTIONED = "actioned"
    DISMISSED = "dismissed"

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=OPEN, index=True)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    handled_note: Mapped[str] = mapped_column(Text, default="")
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    reporter: Mapped[Member] = relationship(foreign_keys=[reporter_id])
    resource: Mapped[Resource | None] = relationship()
    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])
    handled_by: Mapped[Member | None] = relationship(foreign_keys=[handled_by_id])


class ModerationAction(db.Model):
    """The audit log: what an admin did, to what, when and why; kept even after the resource
    or member is gone (see :mod:`exchange.community.audit` for the actions it names)."""

    __tablename__ = "moderation_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    # hide, restore, suspend, reinstate, dismiss, delete-resource, make-admin …
    action: Mapped[str] = mapped_column(String(20))
    # Where it was done: "site" (the admin pages) or "command line" (``exchange …``).
    via: Mapped[str] = mapped_column(String(20), default="site", server_default="site")
    resource_id: Mapped[int | None] = mapped_column(Integer, index=True)
    member_id: Mapped[int | None] = mapped_column(Integer, index=True)
    report_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    admin: Mapped[Member | None] = relationship()


class DataExport(db.Model):
    """A member's "export my data" zip: built by a job, kept in the file store for a while.

    ``running_for`` holds the member's id while the export is waiting or being built and
    is emptied when it ends; being UNIQUE, it lets at most one run per member at a time.
    """

    __tablename__ = "data_exports"

    WAITING = "waiting"
    READY = "ready"
    FAILED = "failed"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    running_for: Mapped[int | None] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(20), default=WAITING)
    storage_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Follow(db.Model):
    """A member following another member, a topic or a kit, for "What's new", feeds and the
    digest.

    ``kind`` says what ``target_id`` names (a member's, a tag's or a collection's id), so a
    new kind of thing to follow is a new ``kind``, not a new table. Members and tags are
    never deleted; a kit is, and deleting it deletes its follows in the same transaction.
    Whatever reads follows joins on the target anyway.
    """

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("follower_id", "kind", "target_id"),
        Index("ix_follows_kind_target", "kind", "target_id"),
    )

    MEMBER = "member"
    TAG = "tag"
    KIT = "kit"  # a public collection or workshop kit: news when it changes or is copied
    KINDS = (MEMBER, TAG, KIT)

    id: Mapped[int] = mapped_column(primary_key=True)
    follower_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FailedJob(db.Model):
    """A job that failed every try: the dead-letter list an administrator reads, retries or
    discards. Written by both runners (in-process and the Redis queue), so the admin page
    is the same whichever one a site runs."""

    __tablename__ = "failed_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    args: Mapped[str] = mapped_column(Text)  # the job's arguments as a JSON list
    error: Mapped[str] = mapped_column(String(500), default="")  # the exception's last line
    tries: Mapped[int] = mapped_column(Integer, default=1)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ApiToken(db.Model):
    """A personal access token for the API: a member's script acting as that member.

    Only the SHA-256 of the secret is kept (the secret is shown once, when it is made);
    ``lookup`` is the hash, so a request finds its token with one indexed read. A token
    stops working when revoked, when it expires, or when its member may no longer sign in.
    """

    __tablename__ = "api_tokens"

    READ = "read"
    WRITE = "write"
    SCOPES = (READ, WRITE)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    lookup: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the secret
    hint: Mapped[str] = mapped_column(String(12))  # the secret's start, to tell tokens apart
    scopes: Mapped[str] = mapped_column(String(40))  # space-separated, e.g. "read write"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def allows(self, scope: str) -> bool:
        return scope in self.scope_list
