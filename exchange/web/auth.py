"""Accounts: register, log in, log out, profile and password."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import accounts, community, transactions
from ..extensions import failed, limiter, login_manager, member_key, succeeded
from . import stale_forms
from .forms import (
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from .helpers import form_page, safe_next, same_site_path
from .stale_forms import reshown_when_stale

bp = Blueprint("auth", __name__)
bp.record_once(lambda state: stale_forms.register(state.app))


@login_manager.user_loader
def load_user(token: str):
    return accounts.load_member(token)


# The session key under which a browser keeps proof that it asked for a confirmation link.
BROWSER_NONCE = "confirm_nonce"
# The address a confirmation link was for, to fill in on the login form it leads to.
LOGIN_EMAIL = "login_email"


def _browser_nonce() -> str:
    """A fresh secret kept in this browser's session and put into the confirmation link:
    only the browser that registered (or proved the password) is signed in by the link."""
    nonce = secrets.token_urlsafe(16)
    session[BROWSER_NONCE] = nonce
    return nonce


def _start_session(member, remember: bool = False) -> None:
    """A fresh session on sign-in, so a session id planted before login is worthless.

    The session (and the remember-me cookie made from it) names the member with the time
    of sign-in, which the loader checks: see :func:`accounts.sign_in_token`.
    """
    session.clear()
    login_user(member, remember=remember)
    session["_user_id"] = accounts.sign_in_token(member)


def _submitted_email() -> str:
    """The account a request is aimed at, so guessing is limited per account too."""
    return "account:" + accounts.normalise_email(request.form.get("email", ""))[:254]


@reshown_when_stale
@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], deduct_when=succeeded)
def register():
    going_to = same_site_path(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(safe_next(going_to))
    form = RegisterForm()
    if form.validate_on_submit():
        link = accounts.start_registration(
            form.name.data, form.email.data, form.password.data, _browser_nonce(), going_to
        )
        transactions.commit()
        return _link_sent("register", form.email.data, link)
    return form_page("auth/register.html", form)


def _link_sent(purpose: str, email: str, link: str = ""):
    """The same "check your inbox" page whether or not the address has an account.

    ``link`` is a confirmation link for an account this browser just made or proved the
    password of; a development server without email shows it. Nothing else is ever shown.
    """
    session["link_sent"] = {
        "purpose": purpose,
        "email": accounts.normalise_email(email),
        "link": link if current_app.config["MAIL_LINKS_ON_PAGE"] else "",
    }
    return redirect(url_for("auth.link_sent"))


@bp.route("/check-your-email")
def link_sent():
    sent = session.get("link_sent")
    if not sent:
        return redirect(url_for("main.home"))
    return render_template(
        "auth/link_sent.html",
        sent=sent,
        confirm_lifetime=accounts.CONFIRM_LIFETIME,
        reset_lifetime=accounts.RESET_LIFETIME,
    )


@bp.route("/confirm/<token>")
def confirm(token: str):
    """Confirm the address; the new member lands where they were going when they registered
    (the link carries it, checked again here: only ever a path on this site)."""
    done = accounts.confirm(token, session.get(BROWSER_NONCE, ""))
    transactions.commit()
    if done is None:
        flash(
            _("That link has expired or was already replaced. Log in to get a new one."), "warning"
        )
        return redirect(url_for("auth.login"))
    going_to = same_site_path(done.next_path)
    if done.same_browser:
        _start_session(done.member)
        welcome = _(
            "Welcome, %(name)s! Share a tool you use and the toolkit opens up.",
            name=done.member.name,
        )
        flash(welcome, "success")
        return redirect(safe_next(going_to))
    # Any other browser (a link forwarded, or planted by someone else) is asked to log in.
    session[LOGIN_EMAIL] = done.member.email
    flash(_("Your email address is confirmed. Please log in with your password."), "success")
    return redirect(url_for("auth.login", next=going_to or None))


@reshown_when_stale
@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], deduct_when=succeeded)
@limiter.limit("3 per hour", methods=["POST"], key_func=_submitted_email, deduct_when=succeeded)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.send_reset(accounts.find_by_email(form.email.data), form.email.data)
        transactions.commit()
        return _link_sent("reset", form.email.data)
    return form_page("auth/forgot.html", form)


@reshown_when_stale
@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    member = accounts.member_for_reset(token)
    if member is None:
        flash(_("That link has expired or was already used. Ask for a new one below."), "warning")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        accounts.change_password(member, form.new_password.data)
        accounts.confirm_address(member)
        transactions.commit()
        _start_session(member)
        flash(_("Your new password is set. Other browsers have been signed out."), "success")
        return redirect(url_for("main.home"))
    return form_page("auth/reset.html", form)


@reshown_when_stale
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"], deduct_when=failed)  # per address
@limiter.limit(
    "5 per minute; 20 per hour", methods=["POST"], key_func=_submitted_email, deduct_when=failed
)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET" and LOGIN_EMAIL in session:
        form.email.data = session.pop(LOGIN_EMAIL)
    if form.validate_on_submit():
        member = accounts.authenticate(form.email.data, form.password.data)
        if member is not None and member.is_active and member.confirmed_at is None:
            # The password is right, so nothing is revealed by saying what is missing.
            going_to = same_site_path(request.args.get("next"))
            link = accounts.send_confirmation(member, _browser_nonce(), going_to)
            transactions.commit()
            return _link_sent("confirm", member.email, link)
        if member is not None and member.is_active:
            transactions.commit()  # a password hash renewed on the way in
            _start_session(member, remember=form.remember.data)
            flash(_("Welcome back, %(name)s.", name=member.name), "success")
            return redirect(safe_next(request.args.get("next")))
        if member is not None and member.suspended:  # the password is right: say why
            reason = community.suspension_reason(member)
            form.password.errors.append(community.suspension_notice(reason))
        else:
            form.password.errors.append(_("That email and password don’t match an account."))
    return form_page("auth/login.html", form)


@reshown_when_stale
@bp.route("/logout", methods=["GET", "POST"])
def logout():
    form = ConfirmForm()
    if request.method == "GET":
        return render_template("auth/logout.html", form=form)
    if not form.validate_on_submit():
        return form_page("auth/logout.html", form)
    if current_user.is_authenticated:
        accounts.end_all_sessions(current_user)
        transactions.commit()
        logout_user()
        session.clear()
        flash(_("You’re logged out. See you soon."), "success")
    return redirect(url_for("main.home"))


@reshown_when_stale
@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        accounts.update_profile(
            current_user, **{f: form[f].data or "" for f in accounts.PROFILE_FIELDS}
        )
        transactions.commit()
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("auth.account"))
    return form_page("auth/account.html", form)


@reshown_when_stale
@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(
    "5 per minute; 20 per hour", methods=["POST"], key_func=member_key, deduct_when=failed
)
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        if not accounts.check_password(current_user, form.current_password.data):
            form.current_password.errors.append(_("That isn’t your current password."))
        else:
            member = current_user._get_current_object()
            accounts.change_password(member, form.new_password.data)
            transactions.commit()
            _start_session(member)
            flash(_("Your password is changed. Other browsers have been signed out."), "success")
            return redirect(url_for("auth.account"))
    return form_page("auth/password.html", form)
