"""Requests: members ask colleagues for a resource, on the public Requests board or in a
request sent to one member only, and the resources given in answer.

No lazy strangers: a request must carry a personal note saying why, in the asker's own
words; a generic or empty one is refused with a friendly explanation. Answering counts as
sharing, and the asker hears of an answer once its resource is published.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Sequence

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError

from .. import access, notify
from ..extensions import db
from ..models import (
    Answer,
    Member,
    Resource,
    ShareRequest,
    utcnow,
)
from .rules import Refused
from .thanks import write_thanks

log = logging.getLogger(__name__)

MIN_NOTE_CHARS = 40

# A personal note must hold at least this many words of its own, beyond the stock ones.
MIN_OWN_WORDS = 3

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
    db.session.flush()
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
        return _("You can’t send a request to yourself.")
    if recipient.suspended:
        return _("This member isn’t taking requests at the moment.")
    if _open_ask_between(asker, recipient):
        return _(
            "You already have an open request with %(name)s. Please wait for their answer "
            "before asking again.",
            name=recipient.name,
        )
    return note_problem(asker, recipient, note)


def note_problem(asker: Member, recipient: Member, note: str) -> str | None:
    """The courteous-note rule: long enough, personal, and written for this member."""
    if len(note.strip()) < MIN_NOTE_CHARS:
        return _(
            "Please say a little more about why you’re asking — at least %(count)s "
            "characters. A line about your clients or what you’re working on helps %(name)s "
            "decide.",
            count=MIN_NOTE_CHARS,
            name=recipient.name,
        )
    if len(own_words(note, recipient)) < MIN_OWN_WORDS:
        return _(
            "That reads like a note anyone could send to anyone. Please tell %(name)s why "
            "you’re asking them: who it’s for, what you’re working on, or which of their "
            "resources caught your eye.",
            name=recipient.name,
        )
    previous = db.session.scalar(
        select(ShareRequest.recipient_id).where(
            ShareRequest.asker_id == asker.id, ShareRequest.note_key == note_key(note)
        )
    )
    if previous == recipient.id:
        return _(
            "You’ve sent %(name)s this same note before. If you’re asking again, please say "
            "what has changed.",
            name=recipient.name,
        )
    if previous is not None:
        return _(
            "You’ve already sent this same note to another member. Each request needs a note "
            "written for the person you’re asking — what makes %(name)s the right colleague "
            "to ask?",
            name=recipient.name,
        )
    return None


def board_note_problem(asker: Member, title: str, body: str) -> str | None:
    """The courteous-note rule for the public board: what is wanted, for whom and why.

    The title counts towards the note's own words ("A values card sort for young people"
    says a lot), but "pls" over "please share" says nothing anyone could answer.
    """
    if len(body.strip()) < MIN_NOTE_CHARS:
        return _(
            "Please say a little more about what you’re looking for — at least %(count)s "
            "characters. A line about your clients or what you’re working on helps "
            "colleagues choose the right tool.",
            count=MIN_NOTE_CHARS,
        )
    words = set(normalise_note(f"{title} {body}").split())
    if len({w for w in words if w not in STOCK_WORDS and not w.isdigit()}) < MIN_OWN_WORDS:
        return _(
            "That reads like a note anyone could send to anyone. Please tell colleagues "
            "what you’re looking for: who it’s for, what you’re working on, or what you’ve "
            "tried already."
        )
    if _open_board_request_saying(asker, body):
        return _(
            "You already have this same request open on Requests. Colleagues can see it "
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
        _l("%(name)s sent you a request: “%(title)s”.", name=asker.name, title=share_request.title),
        url_for("requests.show", request_id=share_request.id),
    )
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
        return _("You can answer with a resource you shared yourself.")
    if resource.status not in (Resource.PUBLISHED, Resource.DRAFT, Resource.PROCESSING):
        return _("That resource isn’t available to share right now.")
    return None


def may_answer_problem(share_request: ShareRequest, giver: Member) -> str | None:
    if not share_request.is_open:
        return _("This request is closed, so it can’t take new answers.")
    if giver.id == share_request.asker_id:
        return _("This is your own request.")
    if share_request.is_direct and giver.id != share_request.recipient_id:
        return _("Only the member who was asked can answer this.")
    return None


def answer_request(
    share_request: ShareRequest, giver: Member, resource: Resource, note: str = ""
) -> Answer:
    """Answer a request with one of the giver's resources; answering counts as sharing.

    The asker hears about it once the resource is published (at once, or after the
    giver's privacy review: see :func:`announce_answers`). Written in the caller's
    transaction: a new share answers in its own, so the share and its answer are stored
    together or not at all.
    """
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
        raise Refused(_("That resource already answers this request.")) from exc
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
    titles = {"request": share_request.title, "title": resource.title}
    if resource.anonymous:
        message = _l("A member answered your request “%(request)s” with “%(title)s”.", **titles)
    else:
        message = _l(
            "%(name)s answered your request “%(request)s” with “%(title)s”.",
            name=answer.giver.name,
            **titles,
        )
    notify.notify(
        share_request.asker,
        f"answer:{answer.id}",
        "answer",
        message,
        notify.site_path("requests.show", request_id=share_request.id),
    )


def answerable_request(
    request_id: int | None, member: Member
) -> tuple[ShareRequest | None, str | None]:
    """The open request ``member`` may answer with a new share, or why they can't: the
    request may have closed while they were filling in the share form."""
    share_request = db.session.get(ShareRequest, request_id) if request_id else None
    if share_request is None or not can_see_request(member, share_request):
        return None, _("That request isn’t available any more.")
    problem = may_answer_problem(share_request, member)
    return (None, problem) if problem else (share_request, None)


def visible_answers(user, share_request: ShareRequest) -> list[Answer]:
    """Answers whose resource this viewer may see (drafts and hidden ones stay out)."""
    return [a for a in share_request.answers if access.can_view(user, a.resource)]


# A request is fulfilled by an answer: with none yet, it stays open for colleagues to answer.
NOTHING_TO_FULFIL = _l(
    "Nobody has answered this request yet, so there is nothing to mark fulfilled. "
    "It stays open on Requests until a colleague answers."
)


def fulfil_request(
    share_request: ShareRequest, asker: Member, answer: Answer | None, thanks_note: str = ""
) -> None:
    """The asker marks their request fulfilled, naming the answer that helped and thanking."""
    if share_request.asker_id != asker.id:
        raise Refused(_("Only the member who asked can mark this request fulfilled."))
    if not share_request.is_open:
        raise Refused(_("This request is already closed."))
    if not visible_answers(asker, share_request):
        raise Refused(NOTHING_TO_FULFIL)
    share_request.status = ShareRequest.FULFILLED
    share_request.closed_at = utcnow()
    if answer is not None:
        _accept(share_request, asker, answer, thanks_note)
    db.session.flush()
    log.info("request %s fulfilled", share_request.id)


def _accept(share_request: ShareRequest, asker: Member, answer: Answer, thanks_note: str) -> None:
    answer.accepted = True
    notify.notify(
        answer.giver,
        f"accepted:{answer.id}",
        "accepted",
        _l(
            "%(name)s says your answer fulfilled their request “%(title)s”.",
            name=asker.name,
            title=share_request.title,
        ),
        url_for("requests.show", request_id=share_request.id),
    )
    if thanks_note.strip():
        write_thanks(asker, answer.resource, thanks_note)


def decline_request(share_request: ShareRequest, recipient: Member, reply: str = "") -> None:
    """The member asked directly says, politely, not this time."""
    if share_request.recipient_id != recipient.id:
        raise Refused(_("Only the member who was asked can decline."))
    if not share_request.is_open:
        raise Refused(_("This request is already closed."))
    share_request.status = ShareRequest.DECLINED
    share_request.reply = reply.strip()
    share_request.closed_at = utcnow()
    notify.notify(
        share_request.asker,
        f"declined:{share_request.id}",
        "declined",
        _declined_message(recipient, share_request),
        url_for("requests.show", request_id=share_request.id),
    )
    log.info("member %s declined ask %s", recipient.id, share_request.id)


def _declined_message(recipient: Member, share_request: ShareRequest) -> LazyString:
    names = {"name": recipient.name, "title": share_request.title}
    if share_request.reply:
        return _l(
            "%(name)s can’t share “%(title)s” this time: “%(reply)s”",
            reply=share_request.reply,
            **names,
        )
    return _l("%(name)s can’t share “%(title)s” this time. Thank you for asking.", **names)


# -- lists ---------------------------------------------------------------------------------


def board(status: str) -> Select:
    """The public board's requests in ``status``, newest first, their askers in good
    standing: a statement to paginate."""
    return (
        select(ShareRequest)
        .join(Member, Member.id == ShareRequest.asker_id)
        .where(
            ShareRequest.recipient_id.is_(None),
            ShareRequest.status == status,
            Member.suspended.is_(False),
        )
        .order_by(ShareRequest.created_at.desc(), ShareRequest.id.desc())
    )


def visible_answer_counts(request_ids: list[int], viewer) -> dict[int, int]:
    """How many answers each request has that ``viewer`` may see (as its page lists them)."""
    query = (
        select(Answer.request_id, func.count())
        .join(Resource, Resource.id == Answer.resource_id)
        .where(Answer.request_id.in_(request_ids), access.visible_clause(viewer))
        .group_by(Answer.request_id)
    )
    return dict(db.session.execute(query).tuples().all())
