"""The account page's API tokens: make one (its secret shown once) and revoke one."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .. import accounts, transactions
from ..extensions import limiter, member_key, succeeded
from ..models import ApiToken, utcnow
from .auth import bp
from .forms import ConfirmForm, SiteForm
from .stale_forms import reshown_when_stale

LIFETIMES = {
    "90": _l("90 days"),
    "30": _l("30 days"),
    "365": _l("A year"),
    "": _l("Until I revoke it"),
}


class TokenForm(SiteForm):
    name = StringField(
        _l("Token name"),
        [
            DataRequired(_l("Please name the token, e.g. the system that will use it.")),
            Length(max=80),
        ],
        description=_l("So you know later what uses it, e.g. “College learning platform”."),
    )
    write = BooleanField(
        _l("Allow it to share and post as me"),
        description=_l("Without this it can only read and download."),
    )
    lifetime = SelectField(
        _l("Expires"),
        choices=[SelectChoice(v, label) for v, label in LIFETIMES.items()],
        default="90",
    )


@bp.route("/account/tokens", methods=["GET"])
@login_required
def tokens():
    return _tokens_page(TokenForm(formdata=None))


@reshown_when_stale
@bp.route("/account/tokens", methods=["POST"])
@login_required
@limiter.limit("20 per hour", key_func=member_key, deduct_when=succeeded)
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form, status=422)
    scopes = [ApiToken.READ, ApiToken.WRITE] if form.write.data else [ApiToken.READ]
    try:
        made = accounts.create_token(current_user, form.name.data, scopes, _expiry(form))
    except accounts.TokenRefused as exc:
        form.name.errors = [str(exc)]
        return _tokens_page(form, status=422)
    transactions.commit()
    # Shown in this response only: the site keeps just its hash.
    return _tokens_page(TokenForm(formdata=None), new_secret=made.secret, new_name=form.name.data)


def _expiry(form: TokenForm):
    days = form.lifetime.data
    return utcnow() + timedelta(days=int(days)) if days else None


@reshown_when_stale
@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("auth.tokens"))
    if not accounts.revoke_token(current_user, token_id):
        abort(404)
    transactions.commit()
    flash(_("The token is revoked: it no longer works."), "success")
    return redirect(url_for("auth.tokens"))


def _tokens_page(form: TokenForm, status: int = 200, **context):
    return render_template("auth/tokens.html", tokens_form=form, **context), status


def init_app(app: Flask) -> None:
    """The account page lists the member's tokens beside its other settings."""
    app.jinja_env.globals.update(
        api_tokens=lambda: accounts.live_tokens_of(current_user),
        token_form=lambda: TokenForm(formdata=None),
        revoke_form=lambda: ConfirmForm(formdata=None),
        now=utcnow,
    )
