"""What the API reads and writes, as marshmallow schemas: the OpenAPI document is made from
these, and every response is dumped through them, so the two cannot drift apart."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ...community import REPORT_REASONS
from ...vocab import ACCESS, AUDIENCES, CREDIT_PLACEMENTS, KINDS, LANGUAGES, LICENCES, VISIBILITY
from ..search import SORTS as PAGE_SORTS

SORTS = tuple(PAGE_SORTS)  # the catalogue page's sorts
FORMATS_NOTE = "A file format as search names it, e.g. `pdf`, `docx`, `xlsx`."


class Strict(ma.Schema):
    """Unknown query arguments or fields are refused (422), so a typo is never ignored."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


def _listed(choices, description: str) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(list(choices))),
        load_default=list,
        validate=validate.Length(max=10),
        metadata={"description": description, "explode": True, "style": "form"},
    )


def _words(description: str) -> fields.List:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=10),
        metadata={"description": description, "explode": True, "style": "form"},
    )


class Paging(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=99_999))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ResourceQuery(Paging):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=1000),  # the search cuts it to its own limit
        metadata={"description": "Words, as in the site's search box (the same query language)."},
    )
    tag = _words("Only resources with this topic; repeat for several.")
    kind = _listed(KINDS, "Only this kind; repeat for several.")
    audience = _listed(AUDIENCES, "Only for this audience; repeat for several.")
    licence = _listed(LICENCES, "Only under this licence; repeat for several.")
    language = _listed(
        LANGUAGES,
        "Only in this language (ISO 639-1), the resource's or one of its files'; repeat for "
        "several.",
    )
    format = _words(f"Only with a file of this format; repeat for several. {FORMATS_NOTE}")
    sort = fields.String(
        load_default="",
        validate=validate.OneOf(["", *SORTS]),
        metadata={"description": "Best match (words only) unless another sort is chosen."},
    )


class MemberRef(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "The member's page."})


class Snippet(ma.Schema):
    source = fields.String(required=True, metadata={"description": "Where the words were found."})
    html = fields.String(required=True, metadata={"description": "Matched words in <mark>."})


class ResourceSummary(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    synopsis = fields.String(required=True)
    kind = fields.String(required=True)
    audience = fields.String(required=True)
    licence = fields.String(required=True)
    credit_name = fields.String(
        required=True, allow_none=True, metadata={"description": "null: shared anonymously."}
    )
    tags = fields.List(fields.String(), required=True)
    downloads = fields.Integer(
        required=True, metadata={"description": "Members who took it (exchange.counts)."}
    )
    thanks = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    snippet = fields.Nested(Snippet, allow_none=True, required=True)
    url = fields.String(required=True, metadata={"description": "The resource's page."})


class FacetValue(ma.Schema):
    value = fields.String(required=True)
    count = fields.Integer(required=True)


class ResourcePage(ma.Schema):
    items = fields.List(fields.Nested(ResourceSummary), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    sort = fields.String(required=True)
    facets = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(FacetValue)),
        required=True,
        metadata={
            "description": "Counts by tags, kind, audience, licence, language (a resource's "
            "own and its files') and format."
        },
    )
    suggestion = fields.String(required=True, metadata={"description": "Did you mean…"})


class FileInfo(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    format = fields.String(required=True)
    language = fields.String(
        required=True,
        metadata={
            "description": "ISO 639-1 of its own text (may differ from the resource's); "
            "empty when it could not be told or is not read yet."
        },
    )
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    searchable = fields.Boolean(required=True)
    credit_on_page = fields.Boolean(required=True)
    zipped_with_credit = fields.Boolean(required=True)
    download_url = fields.String(required=True)
    versions = fields.List(
        fields.Nested("VersionInfo"),
        required=True,
        metadata={"description": "Newest first: the current one, then those it replaced."},
    )
    updated_since_taken = fields.Boolean(
        required=True, metadata={"description": "The caller took an earlier version only."}
    )


class Decision(ma.Schema):
    allowed = fields.Boolean(required=True)
    uses_starter = fields.Boolean(
        required=True, metadata={"description": "Taking it spends a starter download."}
    )
    reason = fields.String(required=True)
    starter_downloads_left = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: takes freely."}
    )


class ReadingFile(ma.Schema):
    name = fields.String(required=True)
    state = fields.String(
        required=True,
        validate=validate.OneOf(["read", "reading", "waiting"]),
        metadata={"description": "`reading`: the file being read now."},
    )
    note = fields.String(
        required=True, metadata={"description": "E.g. “read from a scan”; empty: nothing to say."}
    )


class Reading(ma.Schema):
    reading = fields.Boolean(required=True, metadata={"description": "Files still wait."})
    problem = fields.String(
        required=True, metadata={"description": "Why reading stopped; empty while all goes well."}
    )
    done = fields.Integer(required=True, metadata={"description": "How many files are read."})
    files = fields.List(fields.Nested(ReadingFile), required=True)


class ResourceDetail(ResourceSummary):
    how_used = fields.String(required=True)
    licence_label = fields.String(required=True)
    access = fields.String(required=True)
    visibility = fields.String(required=True)
    status = fields.String(required=True)
    language = fields.String(
        required=True, metadata={"description": "ISO 639-1; empty when it could not be told."}
    )
    credit_line = fields.String(required=True)
    giver = fields.Nested(
        MemberRef, allow_none=True, required=True, metadata={"description": "null: anonymous."}
    )
    files = fields.List(fields.Nested(FileInfo), required=True)
    download = fields.Nested(Decision, required=True)
    kits_using = fields.List(
        fields.Nested("CollectionRef"),
        required=True,
        metadata={"description": "Shared kits and collections that hold it."},
    )
    reading = fields.Nested(
        Reading,
        required=True,
        allow_none=True,
        metadata={
            "description": "While its files are read (status `processing`, or new files after "
            "an edit), the progress its page shows its giver; null otherwise, and for others."
        },
    )


class MemberProfile(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    organisation = fields.String(required=True)
    role = fields.String(required=True)
    region = fields.String(required=True)
    bio = fields.String(required=True)
    shared = fields.List(fields.Nested(ResourceSummary), required=True)
    downloads = fields.Integer(
        required=True, metadata={"description": "Downloads of their credited resources."}
    )
    thanks = fields.Integer(required=True)
    url = fields.String(required=True)


class RequestQuery(Paging):
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "fulfilled"]))


class RequestItem(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    tags = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    asker = fields.Nested(MemberRef, required=True)
    answers = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    url = fields.String(required=True)


class RequestPage(ma.Schema):
    items = fields.List(fields.Nested(RequestItem), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class NewRequest(Strict):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "What for, for whom and why: at least 40 characters."},
    )
    tags = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list)


class ThanksIn(Strict):
    note = fields.String(required=True, validate=validate.Length(min=10, max=1000))


class ThanksOut(ma.Schema):
    resource_id = fields.Integer(required=True)
    note = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class ShareForm(ma.Schema):
    """The share form's fields, for the document: the site's own form checks them."""

    title = fields.String(required=True, validate=validate.Length(max=200))
    synopsis = fields.String(required=True, validate=validate.Length(max=2000))
    how_used = fields.String(required=True, validate=validate.Length(max=4000))
    tags = fields.String(
        validate=validate.Length(max=600), metadata={"description": "Comma-separated."}
    )
    kind = fields.String(required=True, validate=validate.OneOf(list(KINDS)))
    audience = fields.String(required=True, validate=validate.OneOf(list(AUDIENCES)))
    licence = fields.String(required=True, validate=validate.OneOf(list(LICENCES)))
    access = fields.String(required=True, validate=validate.OneOf(list(ACCESS)))
    visibility = fields.String(validate=validate.OneOf(list(VISIBILITY)))
    credit_name = fields.String(
        validate=validate.Length(max=200), metadata={"description": "Empty: anonymous."}
    )
    credit_placement = fields.String(validate=validate.OneOf(list(CREDIT_PLACEMENTS)))
    credit_txt = fields.Boolean()
    no_client_data = fields.String(
        required=True,
        validate=validate.OneOf(["y"]),
        metadata={"description": "`y`: the files contain no client's personal information."},
    )
    files = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}),
        required=True,
        metadata={"description": "One or more files."},
    )
    answers = fields.Integer(
        metadata={"description": "The id of a request this share answers (counts as sharing)."}
    )


class EditFields(ma.Schema):
    """The edit form's fields, for the document: any left out keep their value."""

    title = fields.String(validate=validate.Length(max=200))
    synopsis = fields.String(validate=validate.Length(max=2000))
    how_used = fields.String(validate=validate.Length(max=4000))
    tags = fields.String(validate=validate.Length(max=600))
    kind = fields.String(validate=validate.OneOf(list(KINDS)))
    audience = fields.String(validate=validate.OneOf(list(AUDIENCES)))
    licence = fields.String(validate=validate.OneOf(list(LICENCES)))
    access = fields.String(validate=validate.OneOf(list(ACCESS)))
    visibility = fields.String(validate=validate.OneOf(list(VISIBILITY)))
    credit_name = fields.String(validate=validate.Length(max=200))
    credit_placement = fields.String(validate=validate.OneOf(list(CREDIT_PLACEMENTS)))
    credit_txt = fields.Boolean()
    no_client_data = fields.String(
        validate=validate.OneOf(["y"]), metadata={"description": "Needed with new files."}
    )
    remove_files = fields.List(fields.Integer(), metadata={"description": "Ids of files."})
    files = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}),
        metadata={"description": "Files to add. (`replace_<file id>`: a new version.)"},
    )


class Shared(ma.Schema):
    id = fields.Integer(required=True)
    status = fields.String(
        required=True,
        metadata={"description": "`draft`: held until its giver reviews a privacy warning."},
    )
    url = fields.String(required=True)
    review_url = fields.String(
        required=True, allow_none=True, metadata={"description": "Where a draft is reviewed."}
    )


class Problem(ma.Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True, metadata={"description": "Stable; branch on this."})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(required=True)
    errors = fields.Dict(metadata={"description": "Field name → its problems (422)."})
    step = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "What unlocks it."}
    )


# The share's multipart body, for the document (the share form itself checks what comes).
SHARE_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": ShareForm,
            "encoding": {"files": {"contentType": "application/octet-stream"}},
        }
    },
}


class Me(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    url = fields.String(required=True)
    credit_name = fields.String(required=True, metadata={"description": "Default credit."})
    starter_downloads_left = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: takes freely."}
    )
    unread_notifications = fields.Integer(required=True)
    scopes = fields.List(fields.String(), required=True, metadata={"description": "The token's."})


class Toolkit(ma.Schema):
    items = fields.List(fields.Nested(ResourceSummary), required=True)


class NotificationItem(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    message = fields.String(required=True)
    url = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    read = fields.Boolean(required=True)


class Notifications(ma.Schema):
    items = fields.List(fields.Nested(NotificationItem), required=True)
    unread = fields.Integer(required=True)


class AnswerItem(ma.Schema):
    id = fields.Integer(required=True)
    resource_id = fields.Integer(required=True)
    title = fields.String(required=True)
    giver = fields.Nested(
        MemberRef, allow_none=True, required=True, metadata={"description": "null: anonymous."}
    )
    note = fields.String(required=True)
    accepted = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class RequestDetail(RequestItem):
    answered_with = fields.List(
        fields.Nested(AnswerItem),
        required=True,
        metadata={"description": "The answers the caller may see, oldest first."},
    )


class NewAnswer(Strict):
    resource_id = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={"description": "One of your own published resources."},
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))


EDIT_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": EditFields,
            "encoding": {"files": {"contentType": "application/octet-stream"}},
        }
    },
}


class Fulfil(Strict):
    answer_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={"description": "The answer that helped (one of `answered_with`)."},
    )
    thanks = fields.String(load_default="", validate=validate.Length(max=1000))


class Decline(Strict):
    reply = fields.String(load_default="", validate=validate.Length(max=500))


class DirectAsk(Strict):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    note = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "A personal note: why this colleague, at least 40 characters."},
    )


class Marked(ma.Schema):
    marked = fields.Integer(required=True, metadata={"description": "How many were unread."})


# -- a file's versions -------------------------------------------------------------------------


class VersionInfo(ma.Schema):
    number = fields.Integer(required=True)
    uploaded_at = fields.DateTime(required=True)
    name = fields.String(required=True)
    note = fields.String(required=True, metadata={"description": "What changed, in its words."})
    current = fields.Boolean(required=True)
    fetchable = fields.Boolean(
        required=True, metadata={"description": "The caller may download this version."}
    )
    download_url = fields.String(
        required=True, allow_none=True, metadata={"description": "null: not the caller's."}
    )


# -- collections and workshop kits ---------------------------------------------------------------


class CollectionRef(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    is_kit = fields.Boolean(required=True)
    owner = fields.Nested(MemberRef, required=True)
    url = fields.String(required=True, metadata={"description": "The kit's page."})


class CollectionSummary(CollectionRef):
    purpose = fields.String(required=True)
    public = fields.Boolean(required=True)
    toolkit = fields.Boolean(
        required=True, metadata={"description": "“My toolkit”: private, never deleted."}
    )
    tags = fields.List(fields.String(), required=True)
    items = fields.Integer(required=True, metadata={"description": "How many items it holds."})
    based_on = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The kit it was copied from."}
    )
    updated_at = fields.DateTime(required=True)


class Collections(ma.Schema):
    items = fields.List(fields.Nested(CollectionSummary), required=True)


class KitItem(ma.Schema):
    id = fields.Integer(required=True, metadata={"description": "The item's own id."})
    number = fields.Integer(required=True, metadata={"description": "Its place in the order."})
    resource_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: no longer available."}
    )
    title = fields.String(required=True)
    note = fields.String(required=True)
    minutes = fields.Integer(required=True, allow_none=True)
    starts_at = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Minutes from a kit's start."}
    )
    credit_line = fields.String(required=True, allow_none=True)


class CollectionDetail(CollectionSummary):
    kit_credit = fields.String(required=True)
    total_minutes = fields.Integer(required=True, allow_none=True)
    can_edit = fields.Boolean(required=True)
    following = fields.Boolean(required=True)
    running_order = fields.List(fields.Nested(KitItem), required=True)


class CollectionIn(Strict):
    """A collection's words and flags; on PATCH, any left out keep their value."""

    title = fields.String(validate=validate.Length(min=1, max=200))
    purpose = fields.String(validate=validate.Length(max=2000))
    is_kit = fields.Boolean(metadata={"description": "A workshop kit with a running order."})
    public = fields.Boolean(metadata={"description": "Shared: others find, take and copy it."})
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=40)))


class NewCollection(CollectionIn):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))


class NewItem(Strict):
    resource_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**63 - 1))
    note = fields.String(load_default="", validate=validate.Length(max=300))


class ItemNote(Strict):
    note = fields.String(load_default="", validate=validate.Length(max=300))
    minutes = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=24 * 60)
    )


class Move(Strict):
    direction = fields.String(required=True, validate=validate.OneOf(["up", "down"]))


class PlannedItem(ma.Schema):
    number = fields.Integer(required=True)
    resource_id = fields.Integer(required=True)
    title = fields.String(required=True)
    credit_line = fields.String(required=True)
    included = fields.Boolean(required=True)
    uses_starter = fields.Boolean(required=True)
    reason = fields.String(required=True, metadata={"description": "Why not included."})


class KitPlan(ma.Schema):
    items = fields.List(fields.Nested(PlannedItem), required=True)
    included = fields.Integer(required=True)
    not_included = fields.Integer(required=True)
    starter_downloads_spent = fields.Integer(required=True)
    starter_downloads_left = fields.Integer(required=True, allow_none=True)
    download_url = fields.String(required=True)


# -- follows and what's new ---------------------------------------------------------------------


class Following(ma.Schema):
    members = fields.List(fields.Nested(MemberRef), required=True)
    topics = fields.List(fields.String(), required=True)
    kits = fields.List(fields.Nested(CollectionRef), required=True)


class TopicQuery(Strict):
    tag = fields.String(required=True, validate=validate.Length(min=1, max=40))


class NewsEntry(ma.Schema):
    resource = fields.Nested(ResourceSummary, required=True)
    reasons = fields.List(fields.String(), required=True)


class KitNewsEntry(ma.Schema):
    kit = fields.Nested(CollectionRef, required=True)
    reason = fields.String(required=True)
    when = fields.DateTime(required=True)


class News(ma.Schema):
    items = fields.List(fields.Nested(NewsEntry), required=True)
    kits = fields.List(fields.Nested(KitNewsEntry), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


# -- reports -----------------------------------------------------------------------------------


class ReportIn(Strict):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(list(REPORT_REASONS)),
        metadata={"description": "`other` needs a note."},
    )
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ReportOut(ma.Schema):
    id = fields.Integer(required=True)
    reason = fields.String(required=True)
    note = fields.String(required=True)
    status = fields.String(required=True)
    created_at = fields.DateTime(required=True)


# -- the privacy review of a draft ---------------------------------------------------------------


class Finding(ma.Schema):
    kind = fields.String(
        required=True, metadata={"description": "`email`, `phone`, `national-id`, …"}
    )
    label = fields.String(required=True, metadata={"description": "The kind, in words."})
    sample = fields.String(required=True, metadata={"description": "An example, masked."})
    count = fields.Integer(required=True)


class FileFindings(ma.Schema):
    file_id = fields.Integer(required=True)
    name = fields.String(required=True)
    findings = fields.List(fields.Nested(Finding), required=True)


class Review(ma.Schema):
    resource_id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    files = fields.List(
        fields.Nested(FileFindings),
        required=True,
        metadata={"description": "Each file that seems to hold a client's details."},
    )
    publish_url = fields.String(required=True)


class Publish(Strict):
    no_client_data = fields.Boolean(
        required=True,
        validate=validate.Equal(True, error="Confirm that these are not a client’s details."),
        metadata={
            "description": "`true`: you checked the findings and they are not a client's "
            "details (the review page's “These aren’t client details — publish”)."
        },
    )


# -- finding kits ---------------------------------------------------------------------------------


class KitQuery(Paging):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=1000),
        metadata={"description": "Words every kit found mentions; none: every shared kit."},
    )


class KitPage(ma.Schema):
    items = fields.List(fields.Nested(CollectionSummary), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


# -- a member's impact --------------------------------------------------------------------------


class ImpactMonth(ma.Schema):
    month = fields.String(required=True, metadata={"description": "`YYYY-MM`."})
    downloads = fields.Integer(
        required=True, metadata={"description": "Colleagues who first took a gift that month."}
    )


class ImpactRegion(ma.Schema):
    region = fields.String(required=True)
    colleagues = fields.Integer(required=True)


class Gift(ma.Schema):
    resource_id = fields.Integer(required=True)
    title = fields.String(required=True)
    anonymous = fields.Boolean(required=True)
    status = fields.String(required=True)
    downloads = fields.Integer(required=True, metadata={"description": "Members who took it."})
    file_downloads = fields.Integer(
        required=True, metadata={"description": "Every file fetched by others, repeats included."}
    )
    thanks = fields.Integer(required=True)
    kits = fields.Integer(required=True, metadata={"description": "Shared kits that use it."})


class ThanksReceived(ma.Schema):
    note = fields.String(required=True)
    member = fields.Nested(MemberRef, required=True)
    resource_id = fields.Integer(required=True)
    title = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class Impact(ma.Schema):
    member = fields.Nested(MemberRef, required=True)
    resources_shared = fields.Integer(required=True)
    colleagues_reached = fields.Integer(required=True)
    downloads = fields.Integer(
        required=True, metadata={"description": "By colleagues, anonymous gifts included."}
    )
    public_downloads = fields.Integer(
        required=True, metadata={"description": "What the public profile shows."}
    )
    thanks = fields.Integer(required=True)
    kits = fields.Integer(
        required=True, metadata={"description": "Different shared kits using any gift."}
    )
    months = fields.List(fields.Nested(ImpactMonth), required=True)
    regions = fields.List(fields.Nested(ImpactRegion), required=True)
    gifts = fields.List(fields.Nested(Gift), required=True)
    thanks_received = fields.List(fields.Nested(ThanksReceived), required=True)
