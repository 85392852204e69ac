"""The give and take around resources: requests and answers, thanks, toolkits and reports.

Each verb is one database transaction that also writes the notifications it causes
(:func:`notify.notify` inserts if absent, so a verb that runs twice tells nobody twice)
and, whenever search must see a change, the :class:`IndexChange` entry; the index catches
up after the commit, as in :mod:`exchange.operations`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import Select, bindparam, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from . import access, notify, search
from .extensions import db
from .models import (
    Answer,
    Download,
    IndexChange,
    Member,
    ModerationAction,
    Notification,
    OutboxEmail,
    Report,
    Resource,
    ShareRequest,
    Thanks,
    ToolkitItem,
    utcnow,
)

log = logging.getLogger(__name__)

MIN_NOTE_CHARS = 40
# A personal note must hold at least this many words of its own, beyond the stock ones.
MIN_OWN_WORDS = 3
MIN_THANKS_CHARS = 10

# Words that say nothing about why this member is being asked: a note made only of these
# (and the asked member's own name) could be sent to anyone.
STOCK_WORDS = frozenset(
    """
    a about advance all also an and any anything appreciate appreciated are as asap at be
    best can cheers colleague colleagues could d dear do doc docs document documents file
    files for from get give good grateful great have hello hey hi i if in is it just kind
    kindly like ll love m material materials me more much my need nice of on or others
    please pls plz possible really regards resource resources s send sending share shared
    sharing so some something stuff t thank thanks that the them these this those thx to
    tool toolkit tools u useful ve very want wanted we well what will with worksheet
    worksheets would you your yours
    """.split()
)

REPORT_REASONS = {
    "spam": "Spam",
    "not-career": "Not a career resource",
    "client-data": "Contains client data",
    "copyright": "Copyright",
    "other": "Something else",
}


class Refused(ValueError):
    """The action can't be done as asked; the message says why, kindly, and what to do."""


# -- requests --------------------------------------------------------------------------


def post_request(asker: Member, title: str, body: str, tags: Sequence[str]) -> ShareRequest:
    """Put a request on the public board; refused (with the reason) unless it says what the
    member is looking for and why, as a direct ask must (see :func:`board_note_problem`)."""
    problem = board_note_problem(asker, title, body)
    if problem:
        raise Refused(problem)
    share_request = ShareRequest(
        asker_id=asker.id, title=title.strip(), body=body.strip(), tags=",".join(tags)
    )
    db.session.add(share_request)
    db.session.commit()
    log.info("member %s posted request %s", asker.id, share_request.id)
    return share_request


def normalise_note(text: str) -> str:
    """The words of a note, case and punctuation aside: what "the same note" compares."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.findall(r"[^\W_]+", folded))


def note_key(text: str) -> str:
    return hashlib.sha256(normalise_note(text).encode()).hexdigest()


def own_words(note: str, recipient: Member) -> set[str]:
    """The note's words beyond stock phrases and the asked member's own names."""
    names = normalise_note(
        " ".join([recipient.name, recipient.organisation, recipient.credit_name])
    )
    ignored = STOCK_WORDS | set(names.split())
    return {w for w in normalise_note(note).split() if w not in ignored and not w.isdigit()}


def ask_problem(asker: Member, recipient: Member, note: str) -> str | None:
    """Why this direct ask can't be sent, in words for the asker; None when it can."""
    if recipient.id == asker.id:
        return "You can’t send an ask to yourself."
    if recipient.suspended:
        return "This member isn’t taking asks at the moment."
    if _open_ask_between(asker, recipient):
        return (
            f"You already have an open ask with {recipient.name}. "
            "Please wait for their answer before asking again."
        )
    return note_problem(asker, recipient, note)


def note_problem(asker: Member, recipient: Member, note: str) -> str | None:
    """The courteous-note rule: long enough, personal, and written for this member."""
    if len(note.strip()) < MIN_NOTE_CHARS:
        return (
            f"Please say a little more about why you’re asking — at least {MIN_NOTE_CHARS} "
            f"characters. A line about your clients or what you’re working on helps "
            f"{recipient.name} decide."
        )
    if len(own_words(note, recipient)) < MIN_OWN_WORDS:
        return (
            "That reads like a note anyone could send to anyone. Please tell "
            f"{recipient.name} why you’re asking them: who it’s for, what you’re working "
            "on, or which of their resources caught your eye."
        )
    previous = db.session.scalar(
        select(ShareRequest.recipient_id).where(
            ShareRequest.asker_id == asker.id, ShareRequest.note_key == note_key(note)
        )
    )
    if previous == recipient.id:
        return (
            f"You’ve sent {recipient.name} this same note before. If you’re asking again, "
            "please say what has changed."
        )
    if previous is not None:
        return (
            "You’ve already sent this same note to another member. Each ask needs a note "
            f"written for the person you’re asking — what makes {recipient.name} the "
            "right colleague to ask?"
        )
    return None


def board_note_problem(asker: Member, title: str, body: str) -> str | None:
    """The courteous-note rule for the public board: what is wanted, for whom and why.

    The title counts towards the note's own words ("A values card sort for young people"
    says a lot), but "pls" over "please share" says nothing anyone could answer.
    """
    if len(body.strip()) < MIN_NOTE_CHARS:
        return (
            f"Please say a little more about what you’re looking for — at least "
            f"{MIN_NOTE_CHARS} characters. A line about your clients or what you’re working "
            "on helps colleagues choose the right tool."
        )
    words = set(normalise_note(f"{title} {body}").split())
    if len({w for w in words if w not in STOCK_WORDS and not w.isdigit()}) < MIN_OWN_WORDS:
        return (
            "That reads like a note anyone could send to anyone. Please tell colleagues "
            "what you’re looking for: who it’s for, what you’re working on, or what you’ve "
            "tried already."
        )
    if _open_board_request_saying(asker, body):
        return (
            "You already have this same request open on the board. Colleagues can see it "
            "there; if you’re asking again, please say what has changed."
        )
    return None


def _open_board_request_saying(asker: Member, body: str) -> bool:
    """Whether the asker has an open board request with the same words (a repost)."""
    bodies = db.session.scalars(
        select(ShareRequest.body).where(
            ShareRequest.asker_id == asker.id,
            ShareRequest.recipient_id.is_(None),
            ShareRequest.status == ShareRequest.OPEN,
        )
    )
    wanted = normalise_note(body)
    return any(normalise_note(existing) == wanted for existing in bodies)


def _open_ask_between(asker: Member, recipient: Member) -> bool:
    query = select(
        exists().where(
            ShareRequest.asker_id == asker.id,
            ShareRequest.recipient_id == recipient.id,
            ShareRequest.status == ShareRequest.OPEN,
        )
    )
    return bool(db.session.scalar(query))


def ask_member(asker: Member, recipient: Member, title: str, note: str) -> ShareRequest:
    """Ask one member directly; refused (with the reason) unless the note is personal."""
    problem = ask_problem(asker, recipient, note)
    if problem:
        raise Refused(problem)
    share_request = ShareRequest(
        asker_id=asker.id,
        recipient_id=recipient.id,
        title=title.strip(),
        body=note.strip(),
        note_key=note_key(note),
    )
    db.session.add(share_request)
    db.session.flush()
    notify.notify(
        recipient,
        f"ask:{share_request.id}",
        "ask",
        f"{asker.name} asked you directly for “{share_request.title}”.",
        url_for("requests.show", request_id=share_request.id),
    )
    db.session.commit()
    log.info("member %s asked member %s directly (%s)", asker.id, recipient.id, share_request.id)
    return share_request


def can_see_request(user, share_request: ShareRequest) -> bool:
    """Board requests are public while their asker is in good standing; direct asks are
    between the two members (and admins)."""
    member = user if getattr(user, "is_authenticated", False) else None
    if member is not None and member.is_admin:
        return True
    if share_request.is_direct:
        return member is not None and member.id in (
            share_request.asker_id,
            share_request.recipient_id,
        )
    return not share_request.asker.suspended


def answer_problem(share_request: ShareRequest, giver: Member, resource: Resource) -> str | None:
    """Why ``giver`` can't answer with ``resource``; None when they can."""
    problem = may_answer_problem(share_request, giver)
    if problem:
        return problem
    if resource.owner_id != giver.id:
        return "You can answer with a resource you shared yourself."
    if resource.status not in (Resource.PUBLISHED, Resource.DRAFT):
        return "That resource isn’t available to share right now."
    return None


def may_answer_problem(share_request: ShareRequest, giver: Member) -> str | None:
    if not share_request.is_open:
        return "This request is closed, so it can’t take new answers."
    if giver.id == share_request.asker_id:
        return "This is your own request."
    if share_request.is_direct and giver.id != share_request.recipient_id:
        return "Only the member who was asked can answer this."
    return None


def answer_request(
    share_request: ShareRequest, giver: Member, resource: Resource, note: str = ""
) -> Answer:
    """Answer a request with one of the giver's resources; answering counts as sharing.

    The asker hears about it once the resource is published (at once, or after the
    giver's privacy review: see :func:`announce_answers`).
    """
    answer = add_answer(share_request, giver, resource, note)
    db.session.commit()
    return answer


def add_answer(
    share_request: ShareRequest, giver: Member, resource: Resource, note: str = ""
) -> Answer:
    """:func:`answer_request` without the commit: a new share answers in its own
    transaction, so the share and its answer are stored together or not at all."""
    problem = answer_problem(share_request, giver, resource)
    if problem:
        raise Refused(problem)
    answer = Answer(
        request_id=share_request.id, resource_id=resource.id, giver_id=giver.id, note=note.strip()
    )
    try:
        with db.session.begin_nested():
            db.session.add(answer)
    except IntegrityError as exc:
        raise Refused("That resource already answers this request.") from exc
    if resource.status == Resource.PUBLISHED:
        _announce(answer)
    log.info("member %s answers request %s with %s", giver.id, share_request.id, resource.id)
    return answer


def announce_answers(resource: Resource) -> None:
    """Tell askers about answers made with ``resource`` (caller commits; safe to repeat)."""
    for answer in db.session.scalars(select(Answer).where(Answer.resource_id == resource.id)):
        _announce(answer)


def _announce(answer: Answer) -> None:
    share_request, resource = answer.request, answer.resource
    who = "A member" if resource.anonymous else answer.giver.name
    notify.notify(
        share_request.asker,
        f"answer:{answer.id}",
        "answer",
        f"{who} answered your request “{share_request.title}” with “{resource.title}”.",
        url_for("requests.show", request_id=share_request.id),
    )


def answerable_request(
    request_id: int | None, member: Member
) -> tuple[ShareRequest | None, str | None]:
    """The open request ``member`` may answer with a new share, or why they can't: the
    request may have closed while they were filling in the share form."""
    share_request = db.session.get(ShareRequest, request_id) if request_id else None
    if share_request is None or not can_see_request(member, share_request):
        return None, "That request isn’t available any more."
    problem = may_answer_problem(share_request, member)
    return (None, problem) if problem else (share_request, None)


def visible_answers(user, share_request: ShareRequest) -> list[Answer]:
    """Answers whose resource this viewer may see (drafts and hidden ones stay out)."""
    return [a for a in share_request.answers if access.can_view(user, a.resource)]


def fulfil_request(
    share_request: ShareRequest, asker: Member, answer: Answer | None, thanks_note: str = ""
) -> None:
    """The asker marks their request fulfilled, naming the answer that helped and thanking."""
    if share_request.asker_id != asker.id:
        raise Refused("Only the member who asked can mark this request fulfilled.")
    if not share_request.is_open:
        raise Refused("This request is already closed.")
    share_request.status = ShareRequest.FULFILLED
    share_request.closed_at = utcnow()
    if answer is not None:
        _accept(share_request, asker, answer, thanks_note)
    db.session.commit()
    log.info("request %s fulfilled", share_request.id)


def _accept(share_request: ShareRequest, asker: Member, answer: Answer, thanks_note: str) -> None:
    answer.accepted = True
    notify.notify(
        answer.giver,
        f"accepted:{answer.id}",
        "accepted",
        f"{asker.name} says your answer fulfilled their request “{share_request.title}”.",
        url_for("requests.show", request_id=share_request.id),
    )
    if thanks_note.strip():
        _thank(asker, answer.resource, thanks_note)


def decline_request(share_request: ShareRequest, recipient: Member, reply: str = "") -> None:
    """The member asked directly says, politely, not this time."""
    if share_request.recipient_id != recipient.id:
        raise Refused("Only the member who was asked can decline.")
    if not share_request.is_open:
        raise Refused("This ask is already closed.")
    share_request.status = ShareRequest.DECLINED
    share_request.reply = reply.strip()
    share_request.closed_at = utcnow()
    notify.notify(
        share_request.asker,
        f"declined:{share_request.id}",
        "declined",
        f"{recipient.name} can’t share “{share_request.title}” this time"
        + (f": “{share_request.reply}”" if share_request.reply else ". Thank you for asking."),
        url_for("requests.show", request_id=share_request.id),
    )
    db.session.commit()
    log.info("member %s declined ask %s", recipient.id, share_request.id)


# -- thanks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Where a signed-in member stands with one resource, as its page needs to know."""

    downloaded: bool = False
    asked_for_it: bool = False  # it answered one of the member's requests
    saved: bool = False

    @property
    def took_it(self) -> bool:
        return self.downloaded or self.asked_for_it


def standing(member: Member, resource: Resource) -> Standing:
    """All of :class:`Standing` in one round trip: resource pages are the most viewed."""
    ids = {"member_id": member.id, "resource_id": resource.id}
    return Standing(*db.session.execute(_standing_query(), ids).one())


@functools.cache
def _standing_query() -> Select:
    member, resource = bindparam("member_id"), bindparam("resource_id")
    downloaded = exists().where(Download.member_id == member, Download.resource_id == resource)
    asked = access.answers_request_of(member, resource)
    saved = exists().where(ToolkitItem.member_id == member, ToolkitItem.resource_id == resource)
    return select(downloaded, asked, saved)


def may_thank(user, resource: Resource, known: Standing | None = None) -> bool:
    """Takers thank: members who downloaded it, or whose request it answered."""
    if not getattr(user, "is_authenticated", False) or user.id == resource.owner_id:
        return False
    return (known or standing(user, resource)).took_it


def thanks_from(member: Member, resource: Resource) -> Thanks | None:
    query = select(Thanks).where(Thanks.member_id == member.id, Thanks.resource_id == resource.id)
    return db.session.scalar(query)


def thank(member: Member, resource: Resource, note: str) -> Thanks:
    """Say (or change) how you used a resource; the giver is emailed about it once, and their
    notification always quotes the note as it now reads."""
    if not may_thank(member, resource):
        raise Refused("Download it first, then come back and say how it went.")
    thanks = _thank(member, resource, note)
    db.session.commit()
    return thanks


def _thank(member: Member, resource: Resource, note: str) -> Thanks:
    """A member thanks a resource once; thanking again changes that one note."""
    thanks = thanks_from(member, resource)
    if thanks is not None:
        _revise_thanks(thanks, member, resource, note)
        return thanks
    thanks = Thanks(member_id=member.id, resource_id=resource.id, note=note.strip())
    try:
        with db.session.begin_nested():
            db.session.add(thanks)
    except IntegrityError:  # the same member thanking from two tabs at once
        return _thank(member, resource, note)
    notify.notify(resource.owner, *_thanks_notice(thanks, member, resource), _thanks_url(resource))
    log.info("member %s thanked the giver of resource %s", member.id, resource.id)
    return thanks


def _thanks_notice(thanks: Thanks, member: Member, resource: Resource) -> tuple[str, str, str]:
    """The key, kind and message of the giver's notice of ``thanks``, quoting its note."""
    message = f"{member.name} thanked you for “{resource.title}”: “{_short(thanks.note)}”"
    return f"thanks:{thanks.id}", "thanks", message


def _thanks_url(resource: Resource) -> str:
    return url_for("resources.show", resource_id=resource.id, _anchor="thanks")


def _revise_thanks(thanks: Thanks, member: Member, resource: Resource, note: str) -> None:
    """Change the note, and the giver's notice with it, so the notice never quotes words
    the member took back: it shows the new note (unread again, so the giver sees it), and
    an email not yet sent is rewritten. An email already sent is not sent again: each event
    is emailed at most once."""
    thanks.note = note.strip()
    key, _, message = _thanks_notice(thanks, member, resource)
    db.session.execute(
        update(Notification)
        .where(Notification.key == key)
        .values(message=message[:500], read_at=None)
    )
    unsent = delete(OutboxEmail).where(
        OutboxEmail.key == f"email:{key}", OutboxEmail.status == OutboxEmail.PENDING
    )
    if db.session.execute(unsent).rowcount:
        notify.queue_email(resource.owner, key, message, _thanks_url(resource))


def thanks_for(resource: Resource) -> list[Thanks]:
    """The thanks shown on a resource page, newest first (suspended members' left out)."""
    return list(db.session.scalars(_thanks_query(), {"resource_id": resource.id}))


@functools.cache
def _thanks_query() -> Select:
    return (
        select(Thanks)
        .join(Thanks.member)
        .options(contains_eager(Thanks.member))
        .where(Thanks.resource_id == bindparam("resource_id"), Member.suspended.is_(False))
        .order_by(Thanks.created_at.desc(), Thanks.id.desc())
    )


def _short(text: str, limit: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- toolkit ---------------------------------------------------------------------------


def toggle_saved(member: Member, resource: Resource) -> bool:
    """Save the resource to the member's toolkit, or take it out; True when now saved."""
    item = db.session.get(ToolkitItem, (member.id, resource.id))
    if item is not None:
        db.session.delete(item)
        db.session.commit()
        return False
    try:
        with db.session.begin_nested():
            db.session.add(ToolkitItem(member_id=member.id, resource_id=resource.id))
    except IntegrityError:
        pass  # saved a moment ago from another tab: it is saved either way
    db.session.commit()
    return True


def toolkit_of(member: Member) -> list[Resource]:
    """Saved resources the member may still see, most recently saved first."""
    query = (
        select(Resource)
        .join(ToolkitItem, ToolkitItem.resource_id == Resource.id)
        .where(ToolkitItem.member_id == member.id, access.visible_clause(member))
        .order_by(ToolkitItem.created_at.desc())
    )
    return list(db.session.scalars(query))


# -- reports and moderation ------------------------------------------------------------


def report(
    reporter: Member,
    reason: str,
    note: str = "",
    resource: Resource | None = None,
    member: Member | None = None,
) -> Report:
    """Report a resource or a member to the admins; a repeat updates the open report."""
    _check_report(reporter, reason, note, resource, member)
    target = {
        "resource_id": resource.id if resource else None,
        "member_id": member.id if member else None,
    }
    item = _open_report(reporter, **target)
    if item is None:
        item = Report(reporter_id=reporter.id, reason=reason, note=note.strip(), **target)
        db.session.add(item)
        db.session.flush()
        _tell_admins(item)
        log.info("member %s reported %s", reporter.id, report_target(item))
    item.reason, item.note = reason, note.strip()
    db.session.commit()
    return item


def _open_report(reporter: Member, resource_id: int | None, member_id: int | None):
    query = select(Report).where(
        Report.reporter_id == reporter.id,
        Report.status == Report.OPEN,
        Report.resource_id == resource_id,
        Report.member_id == member_id,
    )
    return db.session.scalar(query)


def _check_report(
    reporter: Member, reason: str, note: str, resource: Resource | None, member: Member | None
) -> None:
    if (resource is None) == (member is None):
        raise Refused("A report is about one resource or one member.")
    if reason not in REPORT_REASONS:
        raise Refused("Please choose a reason.")
    if reason == "other" and not note.strip():
        raise Refused("Please say in a few words what’s wrong.")
    owner_id = resource.owner_id if resource else member.id
    if owner_id == reporter.id:
        raise Refused("You can’t report your own resources or yourself.")


def report_target(item: Report) -> str:
    if item.resource is not None:
        return f"resource “{item.resource.title}”"
    return f"member {item.member.name}" if item.member else "something since removed"


def _tell_admins(item: Report) -> None:
    admins = db.session.scalars(
        select(Member).where(Member.is_admin.is_(True), Member.suspended.is_(False))
    )
    for admin in admins:
        notify.notify(
            admin,
            f"report:{item.id}:{admin.id}",
            "report",
            f"New report ({REPORT_REASONS[item.reason].lower()}) about {report_target(item)}.",
            url_for("admin.reports"),
        )


def hide_resource(admin: Member, resource: Resource, note: str) -> None:
    """Take a resource off the exchange (pages, search, downloads) after a report."""
    if resource.status == Resource.HIDDEN:
        raise Refused("That resource is already hidden.")
    resource.status = Resource.HIDDEN
    IndexChange.record(resource.id)
    action = _log_action(admin, "hide", note, resource_id=resource.id)
    _close_reports(admin, note, Report.resource_id == resource.id)
    notify.notify(
        resource.owner,
        f"hidden:{action.id}",
        "moderation",
        f"An administrator hid your resource “{resource.title}”: {note.strip()}",
        url_for("resources.show", resource_id=resource.id),
    )
    db.session.commit()
    log.info("admin %s hid resource %s", admin.id, resource.id)
    search.catch_up()


def restore_resource(admin: Member, resource: Resource, note: str) -> None:
    """Publish a hidden resource again."""
    if resource.status != Resource.HIDDEN:
        raise Refused("Only a hidden resource can be restored.")
    resource.status = Resource.SUSPENDED if resource.owner.suspended else Resource.PUBLISHED
    IndexChange.record(resource.id)
    action = _log_action(admin, "restore", note, resource_id=resource.id)
    notify.notify(
        resource.owner,
        f"restored:{action.id}",
        "moderation",
        f"Your resource “{resource.title}” is visible again.",
        url_for("resources.show", resource_id=resource.id),
    )
    db.session.commit()
    log.info("admin %s restored resource %s", admin.id, resource.id)
    search.catch_up()


def suspend_member(admin: Member, member: Member, note: str) -> None:
    """Sign a member out everywhere, refuse their logins and hide what they've shared.

    Their published resources become "suspended" (not "hidden"), so reinstating them
    brings back exactly those, while anything an admin hid on its own stays hidden.
    """
    if member.is_admin:
        raise Refused("Administrators can’t be suspended here.")
    if member.suspended:
        raise Refused("That member is already suspended.")
    member.suspended = True
    member.session_epoch += 1
    _set_status(member, Resource.PUBLISHED, Resource.SUSPENDED)
    _log_action(admin, "suspend", note, member_id=member.id)
    _close_reports(admin, note, Report.member_id == member.id)
    db.session.commit()
    log.info("admin %s suspended member %s", admin.id, member.id)
    search.catch_up()


def reinstate_member(admin: Member, member: Member, note: str) -> None:
    """Let a suspended member back in, with the resources their suspension hid."""
    if not member.suspended:
        raise Refused("That member isn’t suspended.")
    member.suspended = False
    _set_status(member, Resource.SUSPENDED, Resource.PUBLISHED)
    _log_action(admin, "reinstate", note, member_id=member.id)
    db.session.commit()
    log.info("admin %s reinstated member %s", admin.id, member.id)
    search.catch_up()


def _set_status(member: Member, old: str, new: str) -> None:
    for resource in member.resources:
        if resource.status == old:
            resource.status = new
            IndexChange.record(resource.id)


def dismiss_report(admin: Member, item: Report, note: str) -> None:
    """Close a report with no action, telling the reporter it was looked at."""
    if item.status != Report.OPEN:
        raise Refused("That report has already been handled.")
    _log_action(admin, "dismiss", note, report_id=item.id)
    _handle(admin, item, Report.DISMISSED, note)
    db.session.commit()


def _close_reports(admin: Member, note: str, about) -> None:
    open_reports = db.session.scalars(select(Report).where(about, Report.status == Report.OPEN))
    for item in open_reports:
        _handle(admin, item, Report.ACTIONED, note)


def _handle(admin: Member, item: Report, status: str, note: str) -> None:
    item.status, item.handled_by_id = status, admin.id
    item.handled_note, item.handled_at = note.strip(), utcnow()
    outcome = "taken action" if status == Report.ACTIONED else "decided to leave it as it is"
    notify.notify(
        item.reporter,
        f"report-handled:{item.id}",
        "report-handled",
        f"Thank you for your report about {report_target(item)}. "
        f"An administrator has looked into it and {outcome}.",
        "",
    )


def _log_action(admin: Member, action: str, note: str, **target: int) -> ModerationAction:
    entry = ModerationAction(admin_id=admin.id, action=action, note=note.strip(), **target)
    db.session.add(entry)
    db.session.flush()
    return entry
