"""The home page and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from .. import community
from ..extensions import db
from ..resources import listings
from ..search import get_replica

bp = Blueprint("main", __name__)

HOME_LIST_SIZE = 6
HOME_NEWS_SIZE = 5


@bp.route("/")
def home():
    return render_template(
        "home.html",
        whats_new=_whats_new(),
        kit_news=_kit_news(),
        news_size=HOME_NEWS_SIZE,
        newest=listings.newest(current_user, HOME_LIST_SIZE),
        most_used=listings.most_used(current_user, HOME_LIST_SIZE),
    )


def _whats_new() -> list[community.NewsItem] | None:
    """A signed-in member's news (one more than shown, to know whether to link to the rest)."""
    if not current_user.is_authenticated:
        return None
    return community.whats_new(current_user, HOME_NEWS_SIZE + 1)


def _kit_news() -> list[community.KitNews]:
    """Changes to, and new versions of, the kits a signed-in member follows."""
    if not current_user.is_authenticated:
        return []
    return community.kit_news(current_user, HOME_NEWS_SIZE)


@bp.route("/healthz")
def healthz():
    """Liveness, plus where this node's search index stands against the change log."""
    db.session.execute(text("SELECT 1"))
    position, head = get_replica().lag()
    return jsonify(status="ok", index={"position": position, "head": head, "lag": head - position})
