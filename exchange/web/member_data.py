"""A member's own data, from the account page: export it as a zip, or delete the account."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from .. import accounts, transactions
from ..extensions import limiter, member_key
from ..resources import leaving
from ..storage import get_storage
from .auth import bp
from .forms import ConfirmForm
from .member_forms import KEEP, DeleteAccountForm
from .stale_forms import reshown_when_stale


@bp.route("/account/data")
@login_required
def my_data():
    return _data_page(DeleteAccountForm(formdata=None))


def _data_page(form: DeleteAccountForm, status: int = 200):
    context = dict(
        exports=accounts.exports_of(current_user),
        keep_days=accounts.KEEP_FOR.days,
        export_form=ConfirmForm(formdata=None),
        form=form,
    )
    return render_template("auth/my_data.html", **context), status


@reshown_when_stale
@bp.route("/account/data/export", methods=["POST"])
@login_required
@limiter.limit("10 per day", key_func=member_key)
def export_my_data():
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("auth.my_data"))
    try:
        accounts.request_export(current_user)
    except accounts.ExportUnderway as exc:
        flash(str(exc), "warning")
    else:
        transactions.commit()
        flash(_("We’re gathering your data. We’ll email you when it’s ready."), "success")
    return redirect(url_for("auth.my_data"))


@bp.route("/account/data/exports/<int:export_id>")
@login_required
def download_export(export_id: int):
    export = accounts.export_to_download(current_user, export_id)
    if export is None:
        abort(404)
    name = accounts.export_file_name(export)
    return get_storage().send(
        export.storage_key,
        filename=name,
        content_type="application/zip",
        content_disposition=f'attachment; filename="{name}"',
    )


@reshown_when_stale
@bp.route("/account/delete", methods=["POST"])
@login_required
@limiter.limit("5 per hour", key_func=member_key)
def delete_account():
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _data_page(form, 422)
    choices = leaving.Choices(
        keep_resources=form.resources.data == KEEP, keep_words=form.words.data == KEEP
    )
    try:
        leaving.delete_account(current_user._get_current_object(), form.password.data, choices)
    except leaving.WrongPassword as exc:
        form.password.errors.append(str(exc))
        return _data_page(form, 422)
    transactions.commit()
    logout_user()
    session.clear()
    flash(_("Your account is deleted. Thank you for what you gave."), "success")
    return redirect(url_for("main.home"))
