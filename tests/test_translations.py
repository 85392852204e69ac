"""Every word a visitor reads can be translated, and each catalogue translates every one.

Two checks, both fast (no app, no database):

- the templates hold no unmarked text: the Jinja lexer's "data" tokens (what a template
  writes out as is) outside ``{% trans %}`` may carry markup, punctuation and symbols, but
  no words; nor may the attributes people read (``title``, ``alt``, ``placeholder``,
  ``aria-label``);
- the messages the code and templates use (extracted with Babel into a catalogue) are all
  in each language's ``.po``, translated, and not fuzzy.
"""

from __future__ import annotations

import re

import jinja2
import pytest
from babel.messages.catalog import Catalog

from exchange.i18n import LANGUAGES, SOURCE_LANGUAGE
from infra.translations import ROOT, missing_from, read_catalogue, used_messages

TEMPLATES = ROOT / "templates"

READ_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")
ATTRIBUTE_START = re.compile(r"\b(?:" + "|".join(READ_ATTRIBUTES) + r')="([^"]*)("?)')
ENTITY = re.compile(r"&#?\w+;")
# A tag opens with a name, a closing slash, "!" (comments), or a name a template writes.
TAG_START = re.compile(r"<(?=[A-Za-z/!]|$)")
WORD = re.compile(r"[^\W\d_]{2,}")
# Written the same in every language: names and symbols, not words to translate.
NOT_WORDS = {"CSV", "PDF", "Atom", "RSS", "OK", "ID", "URL", "API", "CV", "UTC", "cc"}


def _has_words(text: str) -> bool:
    words = WORD.findall(ENTITY.sub(" ", text))
    return any(word not in NOT_WORDS for word in words)


class _Scanner:
    """Walks one template's data tokens, keeping track of whether it is inside a tag, a
    read attribute's value, or a ``{% trans %}`` block, and collects unmarked text."""

    def __init__(self) -> None:
        self.in_tag = False
        self.in_attribute = False
        self.found: list[tuple[int, str]] = []

    def data(self, lineno: int, text: str) -> None:
        position = 0
        while position < len(text):
            position = (self._tag if self.in_tag else self._text)(lineno, text, position)

    def _text(self, lineno: int, text: str, start: int) -> int:
        match = TAG_START.search(text, start)
        end = match.start() if match else len(text)
        if _has_words(text[start:end]):
            self.found.append((lineno, " ".join(text[start:end].split())))
        if match:
            self.in_tag = True
            return end + 1
        return end

    def _tag(self, lineno: int, text: str, start: int) -> int:
        if self.in_attribute:
            close = text.find('"', start)
            value = text[start:] if close < 0 else text[start:close]
            if _has_words(value):
                self.found.append((lineno, value.strip()))
            if close < 0:
                return len(text)
            self.in_attribute = False
            start = close + 1
        end = text.find(">", start)
        inside = text[start:] if end < 0 else text[start:end]
        for match in ATTRIBUTE_START.finditer(inside):
            if _has_words(match.group(1)):
                self.found.append((lineno, match.group(1).strip()))
            if not match.group(2) and match.end() == len(inside):
                self.in_attribute = True
        if end < 0:
            return len(text)
        self.in_tag = False
        return end + 1


def unmarked_strings(source: str) -> list[tuple[int, str]]:
    """(line, text) for each run of words a template writes out without translating it."""
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    scanner = _Scanner()
    in_trans = block_name_next = False
    for lineno, kind, value in env.lex(source):
        if kind == "block_begin":
            block_name_next = True
        elif block_name_next and kind == "name":
            in_trans = (in_trans or value == "trans") and value != "endtrans"
            block_name_next = False
        elif kind == "data" and not in_trans:
            scanner.data(lineno, value)
    return scanner.found


def test_every_template_string_is_marked_for_translation() -> None:
    unmarked = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for line, text in unmarked_strings(path.read_text(encoding="utf-8"))
    ]
    assert not unmarked, "Unmarked template text:\n" + "\n".join(unmarked)


def test_the_scanner_finds_text_attributes_and_ignores_trans_blocks() -> None:
    source = (
        '<p class="x">Hello</p>{{ _("Fine") }} <a title="Go {{ x }} there">·</a>'
        "{% trans n=1 %}Also fine {{ n }}{% endtrans %}<img alt=\"{{ _('ok') }}\"> &nbsp; 12"
    )
    assert [text for _, text in unmarked_strings(source)] == ["Hello", "Go", "there"]


@pytest.fixture(scope="module")
def used() -> Catalog:
    return used_messages()


@pytest.mark.parametrize("code", [code for code in LANGUAGES if code != SOURCE_LANGUAGE])
def test_each_catalogue_translates_every_message_the_code_uses(used: Catalog, code: str):
    missing = missing_from(read_catalogue(code), used)
    assert not missing, f"{code}: {len(missing)} messages untranslated:\n" + "\n".join(missing)
