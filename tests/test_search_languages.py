"""Search understands many languages: accents folded, each resource stemmed by its own
language's rules, Chinese and Japanese found inside longer runs, and "did you mean" that
offers the nearest word. Most cases index resources straight into a Whoosh index; one share
goes through the site, to see the language chosen, shown and counted in the facet.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from whoosh import index as whoosh_index
from whoosh.fields import ID

from exchange.extensions import db
from exchange.files.extract import extract_text
from exchange.models import Resource, StoredFile, Tag
from exchange.ops import doctor
from exchange.search import Visible, detect_language, highlighted
from exchange.search.analysis import ANALYZER, analysis_language, tagged_texts
from exchange.search.query import SearchRequest, run
from exchange.search.schema import POSITION_DOC_ID, SCHEMA, build_schema, document_for

from .fixtures.api import Script, make_token
from .fixtures.corpus import require_corpus
from .fixtures.members import Visitor, docx_bytes

# (title, text inside its file, language, tags)
RESOURCES = {
    1: ("Interview practice worksheet", "Questions to practise before an interview.", "en", []),
    2: ("Internet safety", "Internet internet internet: staying safe on the internet.", "en", []),
    3: ("Internet job boards", "Using the internet to look for work.", "en", ["internet"]),
    4: ("Mon résumé", "Un modèle de résumé pour les clients.", "fr", []),
    5: ("Resume template", "A plain resume template for clients.", "en", []),
    6: ("Plantilla de currículum", "Cómo escribir un currículum claro.", "es", []),
    7: ("Préparer ses entrevues", "Préparer une entrevue d'embauche avec le client.", "fr", []),
}


def resource(resource_id: int, title: str, text: str, language: str, tags=()) -> Resource:
    made = Resource(
        id=resource_id,
        owner_id=1,
        title=title,
        synopsis="",
        how_used="",
        kind="worksheet",
        audience="any",
        licence="cc-by-4.0",
        credit_name="",
        access="everyone",
        visibility="public",
        status="published",
        language=language,
        created_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=resource_id),
    )
    made.tags = [Tag(name=t) for t in tags]
    made.files = [StoredFile(text=text, format="docx")]
    return made


def corpus_resources() -> list[Resource]:
    """The corpus's Czech and Japanese files, as shared (their text, their language)."""
    folder = require_corpus() / "nonenglish"
    found = []
    for number, name in enumerate(
        ("tika-testRTFWord2010CzechCharacters.rtf", "tika-testRTFJapanese.rtf"), start=100
    ):
        text = extract_text(folder / name, "rtf")
        found.append(resource(number, name, text, detect_language(text)))
    return found


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("languages-index")
    index = whoosh_index.create_in(str(folder), SCHEMA)
    writer = index.writer()
    made = [resource(i, *row) for i, row in RESOURCES.items()] + corpus_resources()
    for one in made:
        writer.add_document(**document_for(one))
    writer.add_document(id=POSITION_DOC_ID, position=1)
    writer.commit()
    with index.searcher() as opened:
        yield opened


def found(searcher, q: str, **filters):
    return run(searcher, SearchRequest(q=q, filters=filters), Visible(everything=True))


def test_the_corpus_files_are_told_apart_by_language(searcher):
    assert set(found(searcher, "").facets["language"]) >= {("cs", 1), ("ja", 1), ("fr", 2)}
    assert found(searcher, "", language=["fr"]).ids == [7, 4]


@pytest.mark.parametrize("typed", ["Izajas", "Izajáš", "izajas"])
def test_accents_are_folded(searcher, typed):
    assert found(searcher, typed).ids == [100]


def test_resume_finds_resume_and_written_with_accents_ranks_first(searcher):
    assert set(found(searcher, "resume").ids) == {4, 5}
    assert found(searcher, "résumé").ids[0] == 4


def test_curriculum_finds_the_spanish_curriculum(searcher):
    assert found(searcher, "curriculum").ids == [6]


def test_french_words_are_stemmed_as_french(searcher):
    assert found(searcher, "entrevues").ids == [7]
    assert found(searcher, "entrevue embauche").ids == [7]


def test_french_stop_words_never_exclude_a_resource(searcher):
    assert found(searcher, "modèle de résumé").ids == [4]


def test_japanese_is_found_inside_a_longer_run_and_highlighted(searcher):
    results = found(searcher, "ゾルゲ")
    assert results.ids == [101]
    assert found(searcher, "ゾルゲと尾崎").ids == [101]
    marked = highlighted("ゾルゲと尾崎、淡々と最期", results.terms)
    assert str(marked).startswith("<mark>ゾルゲ</mark>と尾崎")


def test_highlighting_ignores_accents(searcher):
    results = found(searcher, "resume")
    assert "<mark>résumé</mark>" in str(highlighted("Mon résumé", results.terms))


def test_did_you_mean_prefers_the_nearest_word(searcher):
    # "internet" is far commoner (and a tag), but two edits away; "interview" is one.
    assert found(searcher, "intervew").suggestion == "interview"
    assert found(searcher, "intervew practice").suggestion == "interview practice"


def test_did_you_mean_prefers_title_and_tag_words_among_equally_near(searcher):
    # "internat" is one edit from both "internet" (titles, a tag) and nothing else known.
    assert found(searcher, "internat").suggestion == "internet"


def test_each_text_of_a_field_is_analysed_by_its_own_rules_positions_running_on():
    # A stray mark inside a file's text starts no text of its own; Czech is not stemmed.
    texts = [("en", "preparing"), ("fr", "Préparez\x1fde"), (analysis_language("cs"), "testing")]
    terms = [(t.text, t.pos) for t in ANALYZER(tagged_texts(texts), positions=True)]
    assert terms == [("prepar", 0), ("prepar", 1), ("prépar", 1), ("testing", 2)]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Préparez vos réponses aux questions les plus fréquentes des employeurs.", "fr"),
        ("Cómo preparar tu currículum para una entrevista de trabajo.", "es"),
        ("A worksheet to practise interview questions with clients.", "en"),
        ("Budget", ""),
    ],
)
def test_detection(text, language):
    assert detect_language(text) == language


@pytest.fixture
def giver(app) -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.register(name="Amélie Giver")
    return visitor


def test_a_share_detects_its_language_or_takes_the_givers_and_search_counts_it(app, giver):
    french = "Une fiche pour préparer les entrevues d'embauche avec vos clients."
    sheet = [("fiche.docx", docx_bytes(french))]
    detected = giver.share_id(title="Fiche", synopsis=french, how_used=french, files=sheet)
    tips = [("tips.docx", docx_bytes("Tips"))]
    chosen = giver.share_id(title="Bilingual tips", files=tips, language="es")
    assert "in French" in giver.client.get(f"/resources/{detected}").get_data(as_text=True)
    assert "in Spanish" in giver.client.get(f"/resources/{chosen}").get_data(as_text=True)
    results = giver.client.get("/search?q=entrevues&language=fr").get_data(as_text=True)
    assert f"/resources/{detected}" in results and f"/resources/{chosen}" not in results
    assert "Language" in results and "French" in results


ENGLISH_SHEET = "Track every application you send to employers, with the date and the answer."
FRENCH_SHEET = (
    "Préparez vos réponses aux questions les plus fréquentes des employeurs avant chaque "
    "entrevue d'embauche."
)


def test_a_french_file_in_an_english_resource_is_read_shown_and_counted_as_french(app, giver):
    files = [("tracker.docx", docx_bytes(ENGLISH_SHEET)), ("fiche.docx", docx_bytes(FRENCH_SHEET))]
    shared = giver.share_id(title="Interview kit", files=files, language="en")
    page = giver.client.get(f"/resources/{shared}").get_data(as_text=True)
    assert page.count("· French ·") == 1, "beside the French file's format, not the English one's"
    # Stemmed as French, "Préparez" is "prepar", as "préparer" is; as English it stays whole.
    assert f"/resources/{shared}" in giver.client.get("/search?q=préparer").get_data(as_text=True)
    assert f"/resources/{shared}" in giver.client.get("/search?language=fr").get_data(as_text=True)
    script = Script(app, make_token(giver, write=False))
    assert [f["language"] for f in script.get(f"/resources/{shared}").json["files"]] == ["en", "fr"]
    facets = script.get("/resources?language=fr").json["facets"]["language"]
    assert sorted((f["value"], f["count"]) for f in facets) == [("en", 1), ("fr", 1)]


def test_an_index_written_before_files_had_languages_still_merges_and_counts(tmp_path):
    before = build_schema()
    before.remove("language")
    before.add("language", ID(sortable=True))  # one language a resource, as it was
    old = whoosh_index.create_in(str(tmp_path), before)
    with old.writer() as writer:
        writer.add_document(**document_for(resource(1, *RESOURCES[7])))
    writer = whoosh_index.open_dir(str(tmp_path), schema=SCHEMA).writer()
    mixed = resource(2, *RESOURCES[1])
    mixed.files.append(StoredFile(text=FRENCH_SHEET, format="docx", language="fr"))
    writer.add_document(**document_for(mixed))
    writer.add_document(id=POSITION_DOC_ID, position=2)
    writer.commit(optimize=True)  # the old segment and the new merged into one
    with whoosh_index.open_dir(str(tmp_path), schema=SCHEMA).searcher() as merged:
        assert len(merged.reader().leaf_readers()) == 1
        assert found(merged, "", language=["fr"]).ids == [2, 1]
        assert found(merged, "").facets["language"] == [("fr", 2), ("en", 1)]


def test_doctor_repair_detects_the_language_of_resources_and_files_read_before(app, giver):
    french = "Une fiche pour préparer les entrevues d'embauche avec vos clients."
    sheet = [("fiche.docx", docx_bytes(french))]
    shared = giver.share_id(title="Fiche", synopsis=french, how_used=french, files=sheet)
    with app.app_context():
        db.session.execute(update(Resource).values(language=None))
        db.session.execute(update(StoredFile).values(language=None))
        db.session.commit()
        found = doctor.examine(checksums=False)
        assert (found.language_unknown, len(found.file_language_unknown)) == ([shared], 1)
        report = doctor.run(repair=True, checksums=False)
        assert "detected the language of 1 resources" in report.repaired
        assert "detected the language of 1 files" in report.repaired
        assert report.file_language_unknown == []
        assert db.session.get(Resource, shared).language == "fr"
        assert db.session.get(Resource, shared).files[0].language == "fr"
