"""Members' public pages: what they have shared and the credit they have received."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..community import public_thanks_count
from ..counts import giver_downloads, is_public_gift
from ..models import Member
from ..resources import listings
from .helpers import member_or_404

bp = Blueprint("members", __name__)


@bp.route("/members/<int:member_id>")
def show(member_id: int):
    member = member_or_404(member_id)
    shared = listings.shared_by(member, current_user)
    # Anonymous gifts are never tied to their giver in public.
    credited = [r for r in shared if not r.anonymous or _is_self(member)]
    # The same number for every viewer, the giver included (see exchange.counts).
    taken = giver_downloads(r for r in credited if is_public_gift(r))
    return render_template(
        "members/show.html",
        member=member,
        shared=credited,
        taken=taken,
        thanks=public_thanks_count(member),
        is_self=_is_self(member),
    )


def _is_self(member: Member) -> bool:
    return current_user.is_authenticated and (current_user.id == member.id or current_user.is_admin)
