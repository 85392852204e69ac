"""The home page and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import select, text

from ..access import visible_clause
from ..counts import RESOURCE_DOWNLOADS
from ..extensions import db
from ..models import Resource
from ..search import get_replica

bp = Blueprint("main", __name__)

HOME_LIST_SIZE = 6


@bp.route("/")
def home():
    visible = select(Resource).where(visible_clause(current_user))
    newest = db.session.scalars(visible.order_by(Resource.created_at.desc()).limit(HOME_LIST_SIZE))
    most_used = db.session.scalars(
        visible.where(RESOURCE_DOWNLOADS > 0)
        .order_by(RESOURCE_DOWNLOADS.desc(), Resource.created_at.desc())
        .limit(HOME_LIST_SIZE)
    )
    return render_template("home.html", newest=list(newest), most_used=list(most_used))


@bp.route("/healthz")
def healthz():
    """Liveness, plus where this node's search index stands against the change log."""
    db.session.execute(text("SELECT 1"))
    position, head = get_replica().lag()
    return jsonify(status="ok", index={"position": position, "head": head, "lag": head - position})
