"""Following members and topics, "What's new", and the weekly digest's setting.

The buttons are small forms (a POST with its CSRF token), so they work without script;
each verb flushes and the view commits once.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import community, transactions
from ..extensions import db
from .forms import ConfirmForm, DigestForm
from .helpers import member_or_404, page_number, safe_next

bp = Blueprint("follows", __name__)

NEWS_PER_PAGE = 20


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _back(fallback: str) -> str:
    back = request.form.get("next")
    return safe_next(back) if back else fallback


@bp.route("/members/<int:member_id>/follow", methods=["POST"])
@login_required
def follow_member(member_id: int):
    _confirmed()
    member = member_or_404(member_id)
    try:
        community.follow_member(current_user, member)
    except community.Refused as exc:
        flash(str(exc), "warning")
    else:
        transactions.commit()
        flash(
            _("You follow %(name)s: their new shares appear in “What’s new”.", name=member.name),
            "success",
        )
    return redirect(_back(url_for("members.show", member_id=member.id)))


@bp.route("/members/<int:member_id>/unfollow", methods=["POST"])
@login_required
def unfollow_member(member_id: int):
    _confirmed()
    member = member_or_404(member_id)
    community.unfollow_member(current_user, member)
    transactions.commit()
    flash(_("You no longer follow %(name)s.", name=member.name), "success")
    return redirect(_back(url_for("members.show", member_id=member.id)))


@bp.route("/topics/follow", methods=["POST"])
@login_required
def follow_topic():
    _confirmed()
    name = request.form.get("tag", "")
    try:
        tag = community.follow_topic(current_user, name)
    except community.Refused as exc:
        flash(str(exc), "warning")
    else:
        transactions.commit()
        flash(
            _("You follow the topic “%(name)s”: new shares appear in “What’s new”.", name=tag.name),
            "success",
        )
    return redirect(_back(url_for("search.search", tag=name)))


@bp.route("/topics/unfollow", methods=["POST"])
@login_required
def unfollow_topic():
    _confirmed()
    name = request.form.get("tag", "")
    community.unfollow_topic(current_user, name)
    transactions.commit()
    flash(_("You no longer follow the topic “%(name)s”.", name=name), "success")
    return redirect(_back(url_for("search.search", tag=name)))


@bp.route("/whats-new")
@login_required
def whats_new():
    query = community.news_query(current_user)
    page = db.paginate(query, page=page_number(), per_page=NEWS_PER_PAGE, error_out=False)
    items = community.news_items(current_user, list(page.items))
    return render_template(
        "community/whats_new.html",
        page=page,
        items=items,
        kit_news=community.kit_news(current_user, NEWS_PER_PAGE),
        following=community.following(current_user),
    )


@bp.route("/account/digest", methods=["POST"])
@login_required
def digest():
    form = DigestForm()
    if not form.validate_on_submit():
        abort(400)
    current_user.weekly_digest = form.weekly_digest.data
    transactions.commit()
    if form.weekly_digest.data:
        flash(_("You’ll get a weekly digest when something is new."), "success")
    else:
        flash(_("No more weekly digests."), "success")
    return redirect(url_for("auth.account", _anchor="digest-heading"))


def digest_form() -> DigestForm:
    """The account page's digest setting as it stands."""
    return DigestForm(formdata=None, weekly_digest=current_user.weekly_digest)


def init_app(app: Flask) -> None:
    """What templates ask about follows: the button to show, the account page's setting."""
    app.jinja_env.globals.update(
        follows_member=lambda member: community.follows_member(current_user, member),
        follows_topic=lambda name: community.follows_topic(current_user, name),
        digest_form=digest_form,
        following=community.following,
    )
