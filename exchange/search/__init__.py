"""Full-text search: a Whoosh replica of the database, queried with permission filters.

The rest of the app uses only the names exported here (``make lint`` checks it): the index
for this app (:func:`get_replica`: its lag, rebuild and the resources it holds),
:func:`catch_up` after a change is committed, :func:`search`, :func:`related_to` ("more
like this"), :func:`snippets_for`, :func:`highlighted` (a title with the words searched for
marked) and :func:`detect_language` (which language a resource's text is in, for it to be
analysed by).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from flask import Flask, current_app
from whoosh.searching import Searcher

from ..extensions import db
from . import engine, whoosh_internals
from .languages import detect_language, load_language_detector
from .query import SearchRequest, SearchResults, clean_query
from .query import run as _run
from .related import Likeness, Related, related_resources
from .replica import Replica
from .results import Visible
from .schema import FACET_FIELDS, TEXT_FIELDS
from .snippets import highlighted, snippets_for

__all__ = [
    "Likeness",
    "Related",
    "SearchRequest",
    "SearchResults",
    "Visible",
    "catch_up",
    "clean_query",
    "detect_language",
    "get_replica",
    "highlighted",
    "init_app",
    "load_language_detector",
    "answers_no_searches",
    "related_to",
    "search",
    "snippets_for",
    "warm",
]

log = logging.getLogger(__name__)

READ_YOUR_WRITES_WAIT = 10.0
_AFTER_COMMITS = "exchange.search.after_commits"
# What searches read: the words, whose own resources a member sees, what visitors may not
# see, and the filters.
WARM_FIELDS = (*TEXT_FIELDS, "owner", "visibility", *FACET_FIELDS)


def init_app(app: Flask) -> None:
    whoosh_internals.enable()  # before any index is opened or written
    app.extensions["exchange.search"] = Replica(Path(app.config["INDEX_DIR"]))


def get_replica() -> Replica:
    return current_app.extensions["exchange.search"]


def answers_no_searches(app: Flask) -> None:
    """This process answers no searches (a job worker): its index need not catch up after
    each commit. Web nodes read the same change log, so they still find what a job
    published; writing an index nobody reads would only cost every job the time, and the
    workers sharing one index would queue for its lock."""
    app.extensions[_AFTER_COMMITS] = False


def catch_up(wait: float = READ_YOUR_WRITES_WAIT) -> int | None:
    """Bring this node's index up to the log head (called right after a change commits).

    Never raises: the change is already committed and logged, so an index that cannot be
    written now simply catches up on a later search or ``exchange doctor``.
    """
    if not current_app.extensions.get(_AFTER_COMMITS, True):
        return None
    return _catch_up(wait)


def _catch_up(wait: float) -> int | None:
    try:
        return get_replica().catch_up(wait=wait)
    except Exception:
        log.warning("search index could not catch up; a later search will", exc_info=True)
        return None


def warm(app: Flask, seconds: float) -> int:
    """Read the index's postings into this process's caches, for at most ``seconds``.

    The gunicorn master calls it (infra/gunicorn.conf.py) so that every worker, including
    each one that replaces a recycled worker, forks with them. Never raises: a node whose
    index is missing or broken still starts, and repairs it as usual.
    """
    deadline = time.monotonic() + seconds
    with app.app_context():
        replica = get_replica()
        try:
            return engine.warm(replica.searcher(), WARM_FIELDS, deadline)
        except Exception:  # noqa: BLE001 - warming is an optimisation
            log.warning("search caches not warmed", exc_info=True)
            return 0
        finally:
            replica.forget_searchers()  # its open files are not for the workers


def search(request: SearchRequest, visible: Visible) -> SearchResults:
    """Search what is ``visible`` (:func:`exchange.access.search_visibility` says what, for
    a viewer), after applying pending changes.

    If pending changes cannot be applied right now, the index as it stands still answers.
    """
    return _run(_current_searcher(get_replica()), request, visible)


def related_to(likeness: Likeness, visible: Visible, limit: int = 6) -> list[Related]:
    """Up to ``limit`` resources like ``likeness``'s that are ``visible`` (the same rule as
    :func:`search`), best first; kept per index generation, so a repeat costs a look-up."""
    return related_resources(_current_searcher(get_replica()), likeness, visible, limit)


def _current_searcher(replica: Replica) -> Searcher:
    """A searcher that has every change logged so far (so a member finds at once what they
    shared a moment ago, on any node). That is one small query on the request's own session
    when nothing is pending; a failure to ask is left to :func:`catch_up`, which reports it.
    """
    try:
        searcher = replica.searcher()
        current = replica.is_current(searcher, db.session)
    except Exception:  # noqa: BLE001 - catch_up retries and logs
        current = False
    if current:
        return searcher
    _catch_up(wait=0)
    return replica.searcher()
