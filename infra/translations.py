"""The interface's catalogues: find the messages the code uses, and bring each .po up to date.

    python infra/translations.py            # write exchange/translations/messages.pot and
                                            # add new messages (untranslated) to each .po

``make translations`` runs it. The same extraction backs tests/test_translations.py, which
fails while any .po lacks a translation for a message the code uses. Why .po files only (no
compiled .mo): see :mod:`exchange.i18n`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exchange.i18n import LANGUAGES, SOURCE_LANGUAGE, TRANSLATIONS_DIR, catalogue_path  # noqa: E402

# Python code, and the templates through Jinja's own extractor ({% trans %} trimmed, as the
# app renders them).
METHOD_MAP = [
    ("exchange/**.py", "python"),
    ("templates/**.html", "jinja2.ext:babel_extract"),
]
OPTIONS_MAP = {"templates/**.html": {"trimmed": "true", "extensions": "jinja2.ext.i18n"}}
# gettext and its lazy form under the names the code imports them as; N_ marks labels kept
# in English in the database and translated when shown (exchange.vocab).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "_l": None,
    "N_": None,
}
POT = TRANSLATIONS_DIR / "messages.pot"


def used_messages() -> Catalog:
    """The messages the code and templates use, as ``pybabel extract`` would find them."""
    catalog = Catalog(locale=SOURCE_LANGUAGE, project="Toolkit Exchange")
    found = extract_from_dir(
        str(ROOT), METHOD_MAP, OPTIONS_MAP, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read_catalogue(code: str) -> Catalog:
    with catalogue_path(code).open("rb") as source:
        return read_po(source, locale=code)


def missing_from(catalogue: Catalog, used: Catalog) -> list[str]:
    """The messages ``used`` that ``catalogue`` lacks, leaves empty, or marks fuzzy."""
    missing = []
    for message in used:
        if not message.id:
            continue
        translated = catalogue.get(message.id, message.context)
        strings = translated.string if translated is not None else None
        forms = strings if isinstance(strings, tuple | list) else [strings]
        if translated is None or translated.fuzzy or not all(forms):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update() -> None:
    """Write the template catalogue and add new messages to each language's .po."""
    used = used_messages()
    with POT.open("wb") as out:
        write_po(out, used, width=100, include_lineno=False, sort_output=True)
    for code in LANGUAGES:
        if code == SOURCE_LANGUAGE:
            continue
        catalogue = read_catalogue(code)
        catalogue.update(used, no_fuzzy_matching=True)
        with catalogue_path(code).open("wb") as out:
            write_po(out, catalogue, width=100, include_lineno=False, sort_output=True)
        print(f"{code}: {len(missing_from(catalogue, used))} messages to translate")


if __name__ == "__main__":
    update()
