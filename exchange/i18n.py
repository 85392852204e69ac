"""The interface's languages: which one a page speaks, and the catalogues it reads.

English is the source language (the words in the code and templates); French and Spanish
have catalogues in ``exchange/translations/<code>/LC_MESSAGES/messages.po``. A page speaks
the member's own setting, else the visitor's choice (a cookie set by the footer's
switcher), else the best match for the browser's ``Accept-Language``, else English.

The catalogues are read from their ``.po`` files and compiled in memory the first time a
process needs a language (about 30 ms each), and again if the file changed. No compiled
``.mo`` file is generated or committed: a read-only install works, an edited catalogue takes
effect at the next start without a build step, and there is no binary that can fall out of
step with its source.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from babel import dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, g, request
from flask_babel import Babel, Domain, force_locale, format_date, get_locale, gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
SOURCE_LANGUAGE = "en"
# The languages the interface speaks, each named in its own language for the switcher.
LANGUAGES = {"en": "English", "fr": "Français", "es": "Español"}
LANGUAGE_COOKIE = "language"
LANGUAGE_ARG = "hl"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600
# Answers for programs (the API's JSON, its problems) are in English whoever asks: a client
# branches on stable words, and a member's page language must not change what it parses.
PROGRAM_PATHS = ("/api/v1/", "/api/problems/")
# The interface languages whose sentences write a language's name in lower case.
LOWER_CASE_LANGUAGE_NAMES = frozenset({"fr", "es"})
# language code → (the .po file's modification time, its compiled translations)
_COMPILED: dict[str, tuple[float, NullTranslations]] = {}
_UNTRANSLATED = NullTranslations()
_KEPT = "_exchange_translations"  # this request's (language, translations)


def catalogue_path(code: str) -> Path:
    return TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po"


class CatalogueDomain(Domain):
    """Flask-Babel's domain, reading each language's ``.po`` directly (see the module doc)."""

    def get_translations(self) -> NullTranslations:
        """Asked once per translated string, so a page asks it dozens of times: the answer
        is kept for the request (per language, as an email may speak another)."""
        locale = get_locale()
        if locale is None or locale.language == SOURCE_LANGUAGE:
            return _UNTRANSLATED
        kept = g.get(_KEPT)
        if kept is None or kept[0] != locale.language:
            kept = (locale.language, compiled_catalogue(locale.language))
            setattr(g, _KEPT, kept)
        return kept[1]


def compiled_catalogue(code: str) -> NullTranslations:
    """The translations for ``code``, compiled once per process and again when edited."""
    path = catalogue_path(code)
    if not path.exists():
        return NullTranslations()
    stamp = path.stat().st_mtime
    cached = _COMPILED.get(code)
    if cached is None or cached[0] != stamp:
        cached = (stamp, _compile(path, code))
        _COMPILED[code] = cached
    return cached[1]


def _compile(path: Path, code: str) -> Translations:
    with path.open("rb") as source:
        catalogue = read_po(source, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


class ExchangeBabel(Babel):
    """Flask-Babel with the in-memory catalogue domain."""

    @property
    def domain_instance(self) -> Domain:  # type: ignore[override]
        return _DOMAIN


_DOMAIN = CatalogueDomain()
babel = ExchangeBabel()


def supported(code: str | None) -> str | None:
    """``code`` if the interface speaks it (its language part: "fr-CA" is French)."""
    if not code:
        return None
    language = code.replace("_", "-").split("-")[0].lower()
    return language if language in LANGUAGES else None


def select_language() -> str:
    """The member's setting, else the visitor's choice, else the browser's, else English.

    An address carrying ``?hl=fr`` is that page in French whoever reads it: the ``hreflang``
    alternates a page announces point there, so each language has addresses of its own.
    The API's answers are in English (:data:`PROGRAM_PATHS`).
    """
    if request and request.path.startswith(PROGRAM_PATHS):
        return SOURCE_LANGUAGE
    if request:
        chosen = supported(request.args.get(LANGUAGE_ARG))
        if chosen:
            return chosen
    if current_user and getattr(current_user, "is_authenticated", False):
        chosen = supported(getattr(current_user, "language", None))
        if chosen:
            return chosen
    if request:
        chosen = supported(request.cookies.get(LANGUAGE_COOKIE))
        if chosen:
            return chosen
        best = request.accept_languages.best_match(LANGUAGES)
        if best:
            return best
    return SOURCE_LANGUAGE


def label(text: str) -> str:
    """A label kept in English (``vocab``'s kinds, audiences, licences) in the page's language."""
    return gettext(text) if text else text


def lazy_label(text: str) -> LazyString:
    """:func:`label`, worked out when shown: for choices built once, at import."""
    return LazyString(gettext, text)


def in_sentence(language_name: str) -> str:
    """A language's name (a translated label) as a sentence writes it: "in French", but
    "en français", "en francés"; lists and menus keep the label's capital."""
    if current_language() in LOWER_CASE_LANGUAGE_NAMES:
        return language_name.lower()
    return language_name


def long_date(moment: datetime) -> str:
    """ "7 December 2026" in English (the site's house style), each language's long date
    otherwise ("7 décembre 2026", "7 de diciembre de 2026")."""
    return format_date(moment, "d MMMM y" if current_language() == SOURCE_LANGUAGE else "long")


def month_and_year(moment: datetime) -> str:
    """ "Dec 2026", "déc. 2026", "dic 2026": a month in a table."""
    return _skeleton("yMMM", moment)


def short_month(moment: datetime) -> str:
    """ "Dec", "déc.", "dic": a month under a chart's bar."""
    return _skeleton("MMM", moment)


def day_and_month(moment: datetime) -> str:
    """ "7 Dec" in English (day first, as :func:`long_date`), "7 déc.", "7 dic": a week's
    start under a chart's bar."""
    if current_language() == SOURCE_LANGUAGE:
        return dates.format_date(moment, "d MMM", locale=SOURCE_LANGUAGE)
    return _skeleton("MMMd", moment)


def _skeleton(fields: str, moment: datetime) -> str:
    """``moment`` in the way the page's language writes these CLDR fields, in ``moment``'s
    own zone (the one its month or week was counted in)."""
    return dates.format_skeleton(fields, moment, locale=get_locale() or SOURCE_LANGUAGE)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else SOURCE_LANGUAGE


@contextmanager
def speaking(code: str | None) -> Iterator[None]:
    """Words written for someone else (an email, a notification) in *their* language."""
    with force_locale(supported(code) or SOURCE_LANGUAGE):
        yield


def init_app(app: Flask) -> None:
    """Bind Flask-Babel; templates get ``_``/``ngettext``, ``{% trans %}`` trims whitespace."""
    babel.init_app(app, default_locale=SOURCE_LANGUAGE, locale_selector=select_language)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals.update(
        languages=LANGUAGES, current_language=current_language, label=label
    )
    app.jinja_env.filters["in_sentence"] = in_sentence
