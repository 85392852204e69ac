"""The admin area's dead letters: jobs that failed every try, to retry or discard.

Both runners (in-process and the Redis queue) write the same list (:mod:`exchange.jobs`),
so an administrator reads one page whichever a site runs. Routes hang on the admin
blueprint, so its rule (:func:`exchange.access.can_administer`) covers them.
"""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import jobs, transactions
from .admin import bp
from .forms import ConfirmForm


@bp.route("/jobs")
def failed_jobs():
    rows = [(row, ", ".join(map(str, json.loads(row.args)))) for row in jobs.failed_jobs()]
    return render_template(
        "admin/jobs.html", rows=rows, queue=jobs.stats(), form=ConfirmForm(formdata=None)
    )


@bp.route("/jobs/<int:failed_id>/retry", methods=["POST"])
def retry_job(failed_id: int):
    """Run the job again (once this commits) and take it off the list."""
    _checked_form()
    if jobs.retry_failed(failed_id):
        transactions.commit()
        flash(_("The job is queued again."), "success")
    else:
        flash(_("That job is no longer on the list."), "warning")
    return redirect(url_for("admin.failed_jobs"))


@bp.route("/jobs/<int:failed_id>/discard", methods=["POST"])
def discard_job(failed_id: int):
    _checked_form()
    if jobs.discard_failed(failed_id):
        transactions.commit()
        flash(_("The job is discarded."), "success")
    else:
        flash(_("That job is no longer on the list."), "warning")
    return redirect(url_for("admin.failed_jobs"))


def _checked_form() -> None:
    """The buttons carry nothing but their CSRF token; a form without it is refused."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
