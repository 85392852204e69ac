"""How text becomes index terms, in whatever language a resource is written.

Counsellors share in many languages, so one field holds them all and each resource is
analysed with its own language's rules: its stop words dropped and its words stemmed with
that language's stemmer, after accents are folded (so "resume" finds "résumé" and "Izajas"
finds "Izajáš"). A word that carried accents is also indexed as written (stemmed, not
folded), at the same position: a query typed with the accents matches that form too, and
ranks the resources that spell it that way first.

A field value may hold several texts in different languages (a resource's files: a French
worksheet inside an English resource): :func:`tagged_texts` marks each, and the analyzer
switches rules at every mark, the word positions running on across them.

Runs of Chinese, Japanese and Korean characters carry no spaces between words, so they are
cut into overlapping pairs of characters (bigrams): "ゾルゲ" is then found inside
"ゾルゲと尾崎". Everything else is cut into words.

A query's words are not stemmed by the parser: :func:`expand` turns each word into the
stems it has in every language the index holds (an ``Or`` of terms), because a query does
not say which language it is in. A word that is a stop word in some language only adds to
a match (it is never required), or a French "de" would exclude every French resource.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterable, Iterator
from functools import cache, lru_cache

from whoosh import query as wq
from whoosh.analysis import Analyzer, Token
from whoosh.lang import has_stemmer, stemmer_for_language, stopwords_for_language
from whoosh.lang.porter import stem as porter_stem
from whoosh.support.charset import accent_map

# Languages analysed with a stemmer and stop words of their own (Whoosh's Snowball set).
STEMMED_LANGUAGES = ("en", "fr", "es", "de", "pt", "it", "nl", "sv", "no", "da", "fi", "ru")
STEMMED_LANGUAGES += ("hu", "ro")
# Text in any other language: words folded and lower-cased, nothing dropped or stemmed.
PLAIN = ""
# A resource whose language could not be told: English, what the site was built for.
FALLBACK_LANGUAGE = "en"
# How much more a word typed with its accents counts where it is written with them.
EXACT_BOOST = 1.5
# How a document's text carries its language to the analyzer (Whoosh passes fields only).
LANGUAGE_MARK = "\x1f"
MIN_WORD = 2  # shorter words are not indexed (as before); a lone CJK character is

WORD = re.compile(r"\w+(?:\.?\w+)*")
CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
CJK_RUN = re.compile(f"[{CJK_CLASS}]+")


def fold(text: str) -> str:
    """``text`` with accents and ligatures reduced to plain letters ("Izajáš" → "Izajas")."""
    return text.translate(accent_map)


def is_cjk(text: str) -> bool:
    return bool(text) and CJK_RUN.fullmatch(text) is not None


def tagged(language: str, text: str) -> str:
    """A field value telling the analyzer which rules (:func:`analysis_language`) ``text``
    is analysed with. A mark inside the text (a control character a file may hold) is
    dropped, so it can never start a run of its own."""
    return f"{LANGUAGE_MARK}{language}{LANGUAGE_MARK}{text.replace(LANGUAGE_MARK, ' ')}"


def tagged_texts(texts: Iterable[tuple[str, str]]) -> str:
    """One field value holding each ``(rules, text)`` pair, analysed each by its own rules."""
    return "".join(tagged(language, text) for language, text in texts)


def analysis_language(language: str | None) -> str:
    """The rules a resource (or file) in ``language`` is analysed with."""
    if not language:
        return FALLBACK_LANGUAGE
    return language if language in STEMMED_LANGUAGES else PLAIN


def runs_of(value: str) -> list[tuple[str, str]]:
    """The ``(rules, text)`` runs of a field value as :func:`tagged` marked them (its
    rules already chosen: an unknown mark is :data:`PLAIN`); an unmarked value is
    :data:`FALLBACK_LANGUAGE` text."""
    if not value.startswith(LANGUAGE_MARK):
        return [(FALLBACK_LANGUAGE, value)]
    parts = value.split(LANGUAGE_MARK)
    return [
        (parts[i] if parts[i] in STEMMED_LANGUAGES else PLAIN, parts[i + 1])
        for i in range(1, len(parts) - 1, 2)
    ]


@cache
def stemmer(language: str) -> Callable[[str], str]:
    """The language's stemmer, remembering its last 50,000 words (stemming is the dearest
    step of indexing, and words repeat). English keeps the Porter stemmer search always
    used, so existing English indexes and habits do not change."""
    if language == "en":
        return lru_cache(maxsize=50_000)(porter_stem)
    if language and has_stemmer(language):
        return lru_cache(maxsize=50_000)(stemmer_for_language(language))
    return _unchanged


def _unchanged(word: str) -> str:
    return word


@cache
def stop_words(language: str) -> frozenset[str]:
    if language == "en":
        from whoosh.analysis import STOP_WORDS

        return frozenset(STOP_WORDS)
    if language in STEMMED_LANGUAGES:
        return frozenset(stopwords_for_language(language))
    return frozenset()


def pieces(text: str) -> Iterator[tuple[str, int, int]]:
    """Words, and the character bigrams of CJK runs, with where each is in ``text``."""
    for match in WORD.finditer(text):
        word, start = match.group(0), match.start()
        if not CJK_RUN.search(word):
            yield word, start, match.end()
            continue
        last = 0
        for run in CJK_RUN.finditer(word):
            if run.start() > last:
                yield word[last : run.start()], start + last, start + run.start()
            yield from _bigrams(run.group(0), start + run.start())
            last = run.end()
        if last < len(word):
            yield word[last:], start + last, match.end()


def _bigrams(run: str, offset: int) -> Iterator[tuple[str, int, int]]:
    if len(run) == 1:
        yield run, offset, offset + 1
        return
    for i in range(len(run) - 1):
        yield run[i : i + 2], offset + i, offset + i + 2


def index_terms(language: str, word: str) -> tuple[str, str | None]:
    """A word's folded stem, and its stem as written when folding changed it."""
    lower = word.lower()
    folded = fold(lower)
    stem = stemmer(language)
    main = stem(folded)
    if folded == lower:
        return main, None
    exact = stem(lower)
    return main, (exact if exact != main else None)


class MultilingualAnalyzer(Analyzer):
    """One pass over the text (a chain of Whoosh filters costs a generator per step per
    word): words and CJK bigrams, stop words dropped, folded and stemmed per language.

    In query mode it only cuts and lower-cases: :func:`expand` does the rest, for every
    language at once."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs,
    ) -> Iterator[Token]:
        runs = runs_of(value)
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.boost, token.stopped = 1.0, False
        if tokenize and mode != "query":
            yield from self._runs(token, runs, start_pos, start_char, removestops)
            return
        text = " ".join(text for _, text in runs)
        if not tokenize:
            yield self._one(token, text.lower(), start_pos, start_char, 0, len(text))
            return
        yield from self._words(token, text, start_pos, start_char)

    def _runs(
        self, token: Token, runs: list[tuple[str, str]], pos: int, char: int, removestops: bool
    ) -> Iterator[Token]:
        """Each run's terms by its own rules, positions and characters running on."""
        for language, text in runs:
            pos = yield from self._terms(token, language, text, pos, char, removestops)
            char += len(text)

    def _words(self, token: Token, text: str, pos: int, char: int) -> Iterator[Token]:
        for number, (word, start, end) in enumerate(pieces(text)):
            yield self._one(token, word.lower(), pos + number, char, start, end)

    def _terms(
        self, token: Token, language: str, text: str, pos: int, char: int, removestops: bool
    ) -> Generator[Token, None, int]:
        """The text's index terms by ``language``'s rules; returns the position after its
        last word (where the next text's words start)."""
        stops = stop_words(language) if removestops else frozenset()
        for word, start, end in pieces(text):
            lower = word.lower()
            if lower in stops or (len(word) < MIN_WORD and not is_cjk(word)):
                continue
            main, exact = index_terms(language, lower)
            yield self._one(token, main, pos, char, start, end)
            if exact is not None:
                yield self._one(token, exact, pos, char, start, end)
            pos += 1
        return pos

    @staticmethod
    def _one(token: Token, text: str, pos: int, char: int, start: int, end: int) -> Token:
        token.text = token.original = text
        if token.positions:
            token.pos = pos
        if token.chars:
            token.startchar, token.endchar = char + start, char + end
        return token


ANALYZER = MultilingualAnalyzer()


# -- queries -----------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def word_variants(word: str, languages: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    """The terms a typed word may be indexed as, in any of ``languages``, with the boost
    each counts for: its folded stem in each, and (typed with accents) its stem as typed."""
    found: dict[str, float] = {}
    for language in languages:
        if word in stop_words(language):
            continue
        main, exact = index_terms(language, word)
        found.setdefault(main, 1.0)
        if exact is not None:
            found[exact] = max(found.get(exact, 0.0), EXACT_BOOST)
    return tuple(found.items())


def is_soft(word: str, languages: tuple[str, ...]) -> bool:
    """A stop word in one of the languages: it may add to a match, never decide one."""
    return any(word in stop_words(language) for language in languages)


def expand(query: wq.Query, fields: Iterable[str], languages: tuple[str, ...]) -> wq.Query:
    """``query`` (as parsed: words lower-cased, not stemmed) with each word of a text field
    replaced by its variants in ``languages``, and stop words made optional."""
    return _Expander(frozenset(fields), languages).expand(query).normalize()


class _Expander:
    def __init__(self, fields: frozenset[str], languages: tuple[str, ...]) -> None:
        self.fields, self.languages = fields, languages

    def expand(self, query: wq.Query) -> wq.Query:
        kind = type(query)
        if kind is wq.Term and query.fieldname in self.fields and isinstance(query.text, str):
            return self._word(query)
        if kind is wq.Phrase and query.fieldname in self.fields:
            return self._phrase(query)
        if kind is wq.Prefix and query.fieldname in self.fields:
            return wq.Prefix(query.fieldname, fold(query.text), boost=query.boost)
        if kind is wq.And:
            return self._and(query)
        return query.apply(self.expand)

    def _word(self, query: wq.Term) -> wq.Query:
        variants = word_variants(query.text, self.languages)
        terms = [wq.Term(query.fieldname, text, boost=boost) for text, boost in variants]
        if len(terms) == 1:
            terms[0].boost *= query.boost
            return terms[0]
        return wq.Or(terms, boost=query.boost) if terms else wq.NullQuery

    def _phrase(self, query: wq.Phrase) -> wq.Query:
        """One phrase per language (each drops its own stop words, as its resources do)."""
        phrases: dict[tuple[str, ...], None] = {}
        for language in self.languages:
            stops = stop_words(language)
            words = [index_terms(language, w)[0] for w in query.words if w not in stops]
            if words:
                phrases[tuple(words)] = None
        found = [_phrase_of(query, list(words)) for words in phrases]
        return found[0] if len(found) == 1 else wq.Or(found) if found else wq.NullQuery

    def _and(self, query: wq.And) -> wq.Query:
        required, optional = [], []
        for sub in query.subqueries:
            (optional if self._is_soft(sub) else required).append(self.expand(sub))
        if not optional:
            return wq.And(required, boost=query.boost)
        if not required:
            return wq.Or(optional, boost=query.boost)
        must = required[0] if len(required) == 1 else wq.And(required)
        return wq.AndMaybe(must, wq.Or(optional))

    def _is_soft(self, query: wq.Query) -> bool:
        """A word (in each text field) that is a stop word in some language."""
        leaves = [query] if type(query) is wq.Term else list(query.children())
        texts = {
            leaf.text for leaf in leaves if type(leaf) is wq.Term and leaf.fieldname in self.fields
        }
        if len(texts) != 1 or len(leaves) != len([q for q in leaves if type(q) is wq.Term]):
            return False
        return is_soft(texts.pop(), self.languages)


def _phrase_of(query: wq.Phrase, words: list[str]) -> wq.Query:
    if len(words) == 1:
        return wq.Term(query.fieldname, words[0], boost=query.boost)
    return wq.Phrase(query.fieldname, words, slop=query.slop, boost=query.boost)
