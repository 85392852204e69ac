"""Catalogue cards, with the parts that do not depend on the search kept rendered.

A results page is twenty cards, and rendering them was the largest part of a search page
after the search itself. A card's picture, badges, tags, byline and counts come only from
its row (and the address the site is served under), so each worker keeps them rendered,
keyed by every value they show: a row that changed (a new title, one more download) is a new
key, never a stale card. The title, with the words searched for marked, and the passage that
matched them are rendered each time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Flask, current_app, request
from markupsafe import Markup, escape

from .. import search as search_mod
from ..i18n import current_language
from ..vocab import LICENCE_URLS

CARDS_KEPT = 4096  # per worker: a few MiB, and far more cards than a page of results
TEMPLATE = "_resource_card.html"


def init_app(app: Flask) -> None:
    app.extensions["exchange.cards"] = lru_cache(maxsize=CARDS_KEPT)(_fixed_parts)
    app.jinja_env.globals["licence_urls"] = LICENCE_URLS


def search_cards(
    hits: list[Any], snippets: dict[int, Any], tags_by_id: dict, terms: list[str]
) -> Markup:
    """The cards for ``hits`` (frozen rows): each title with ``terms`` marked, each with its
    snippet or else its synopsis."""
    fixed = current_app.extensions["exchange.cards"]
    macros = current_app.jinja_env.get_template(TEMPLATE).module
    pieces: list[str] = []
    for hit in hits:
        opening, after_title, synopsis, closing = fixed(
            request.script_root, current_language(), hit, tuple(tags_by_id[hit.id])
        )
        found = snippets.get(hit.id)
        passage = macros.card_passage(hit, found) if found else synopsis
        title = search_mod.highlighted(hit.title, terms)
        pieces += (opening, title, after_title, passage, closing)
    return Markup("".join(pieces))  # nosec B704: each piece is a rendered, escaped template


def related_cards(hits: list[Any], tags_by_id: dict, why: dict[int, tuple[bool, list]]) -> Markup:
    """Small cards for "More like this": each with, where known, why it is there (``why``:
    taken by the same members, and the tags it shares)."""
    fixed = current_app.extensions["exchange.cards"]
    macros = current_app.jinja_env.get_template(TEMPLATE).module
    pieces: list[str] = []
    for hit in hits:
        opening, after_title, synopsis, closing = fixed(
            request.script_root, current_language(), hit, tuple(tags_by_id[hit.id])
        )
        reason = macros.card_why(*why.get(hit.id, (False, [])))
        pieces += (opening, escape(hit.title), after_title, reason, synopsis, closing)
    return Markup("".join(pieces))  # nosec B704: each piece is a rendered, escaped template


def _fixed_parts(
    script_root: str, language: str, hit: Any, tag_names: tuple[str, ...]
) -> tuple[str, ...]:
    """``script_root`` is in the key because every link in a card starts with it, and the
    language because every word in it is translated."""
    macros = current_app.jinja_env.get_template(TEMPLATE).module
    return (
        macros.card_opening(hit),
        macros.card_after_title(hit),
        macros.card_passage(hit, None),
        macros.card_closing(hit, list(tag_names)),
    )
