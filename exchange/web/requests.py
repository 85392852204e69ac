"""Requests: the board where members ask colleagues for a resource, and a request sent to
one member only. One name everywhere: "Requests" for the feature, "Ask for a resource" for
the verb, so nobody confuses it with sharing one's own."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import community, transactions
from ..extensions import db, limiter, member_key, succeeded
from ..models import Member, Resource, ShareRequest
from ..resources import listings
from ..vocab import parse_tags
from .errors import AccessDenied
from .forms import AnswerForm, AskForm, DeclineForm, FulfilForm, RequestForm
from .helpers import form_page, page_number
from .stale_forms import reshown_when_stale

bp = Blueprint("requests", __name__)

PER_PAGE = 20
BOARD_FILTERS = {"open": ShareRequest.OPEN, "fulfilled": ShareRequest.FULFILLED}


@bp.route("/requests")
def board():
    shown = request.args.get("status", "open")
    status = BOARD_FILTERS.get(shown, ShareRequest.OPEN)
    query = community.board(status)
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    counts = community.visible_answer_counts([item.id for item in page.items], current_user)
    return render_template("requests/board.html", page=page, status=status, answer_counts=counts)


@reshown_when_stale
@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per hour", methods=["POST"], key_func=member_key, deduct_when=succeeded)
def new():
    form = RequestForm()
    if form.validate_on_submit():
        tags = parse_tags(form.tags.data or "")
        try:
            share_request = community.post_request(
                current_user, form.title.data, form.body.data, tags
            )
        except community.Refused as exc:
            form.body.errors = [str(exc)]
        else:
            transactions.commit()
            flash(_("Your request is on Requests. We’ll tell you when someone answers."), "success")
            return redirect(url_for("requests.show", request_id=share_request.id))
    return form_page("requests/new.html", form)


def visible_request_or_404(request_id: int) -> ShareRequest:
    share_request = db.get_or_404(ShareRequest, request_id)
    if not community.can_see_request(current_user, share_request):
        abort(404)
    return share_request


@bp.route("/requests/<int:request_id>")
def show(request_id: int):
    share_request = visible_request_or_404(request_id)
    return _show_page(share_request, answer_form=_answer_form(share_request))


def _show_page(share_request: ShareRequest, status: int = 200, **forms):
    """The request page; forms shown again with problems named come in ``forms``."""
    answers = community.visible_answers(current_user, share_request)
    forms.setdefault("answer_form", _answer_form(share_request))
    forms.setdefault("fulfil_form", _fulfil_form(answers))
    forms.setdefault("decline_form", DeclineForm())
    context = dict(
        share_request=share_request,
        answers=answers,
        answer_problem=_answer_problem(share_request),
        **forms,
    )
    return render_template("requests/show.html", **context), status


def _answer_problem(share_request: ShareRequest) -> str | None:
    if not current_user.is_authenticated:
        return _("Log in to answer.")
    return community.may_answer_problem(share_request, current_user)


def _answer_form(share_request: ShareRequest) -> AnswerForm:
    form = AnswerForm()
    if current_user.is_authenticated:
        answered = {a.resource_id for a in share_request.answers}
        own = listings.published_by(current_user)
        form.resource.choices = [(r.id, r.title) for r in own if r.id not in answered]
    return form


def _fulfil_form(answers) -> FulfilForm:
    form = FulfilForm()
    form.answer.choices = [(a.id, f"“{a.resource.title}” from {_giver_label(a)}") for a in answers]
    return form


def _giver_label(answer) -> str:
    return _("an anonymous member") if answer.resource.anonymous else answer.giver.name


@reshown_when_stale
@bp.route("/requests/<int:request_id>/answer", methods=["POST"])
@login_required
def answer(request_id: int):
    share_request = visible_request_or_404(request_id)
    form = _answer_form(share_request)
    if form.validate_on_submit():
        resource = db.get_or_404(Resource, form.resource.data)
        try:
            community.answer_request(share_request, current_user, resource, form.note.data or "")
        except community.Refused as exc:
            form.resource.errors = [str(exc)]
        else:
            transactions.commit()
            flash(_("Thank you! Your answer is on its way to them."), "success")
            return redirect(url_for("requests.show", request_id=share_request.id))
    return _show_page(share_request, 422, answer_form=form)


@reshown_when_stale
@bp.route("/requests/<int:request_id>/fulfil", methods=["POST"])
@login_required
def fulfil(request_id: int):
    share_request = visible_request_or_404(request_id)
    answers = community.visible_answers(current_user, share_request)
    form = _fulfil_form(answers)
    if form.validate_on_submit():
        chosen = next((a for a in answers if a.id == form.answer.data), None)
        try:
            community.fulfil_request(share_request, current_user, chosen, form.thanks.data or "")
        except community.Refused as exc:
            back = url_for("requests.show", request_id=share_request.id)
            raise AccessDenied(str(exc), _("Back to the request"), back) from exc
        transactions.commit()
        flash(_("Marked fulfilled. Thank you for letting everyone know."), "success")
        return redirect(url_for("requests.show", request_id=share_request.id))
    return _show_page(share_request, 422, fulfil_form=form)


@reshown_when_stale
@bp.route("/requests/<int:request_id>/decline", methods=["POST"])
@login_required
def decline(request_id: int):
    share_request = visible_request_or_404(request_id)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            community.decline_request(share_request, current_user, form.reply.data or "")
        except community.Refused as exc:
            raise AccessDenied(str(exc)) from exc
        transactions.commit()
        flash(_("We’ve let them know, kindly."), "success")
        return redirect(url_for("community.exchange"))
    return _show_page(share_request, 422, decline_form=form)


@reshown_when_stale
@bp.route("/members/<int:member_id>/ask", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per hour", methods=["POST"], key_func=member_key, deduct_when=succeeded)
def ask(member_id: int):
    recipient = db.get_or_404(Member, member_id)
    if recipient.suspended and not current_user.is_admin:
        abort(404)
    if recipient.id == current_user.id:
        raise AccessDenied(
            _("You can’t send a request to yourself."),
            "Go to Requests",
            url_for("requests.board"),
        )
    form = AskForm()
    if form.validate_on_submit():
        try:
            share_request = community.ask_member(
                current_user, recipient, form.title.data, form.note.data
            )
        except community.Refused as exc:
            form.note.errors = [str(exc)]
        else:
            transactions.commit()
            flash(_("Your request is on its way to %(name)s.", name=recipient.name), "success")
            return redirect(url_for("requests.show", request_id=share_request.id))
    return form_page("requests/ask.html", form, recipient=recipient)
