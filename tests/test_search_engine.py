"""The array search engine gives Whoosh's answers: same matches, same BM25F ranking, same
counts, only faster. Checked on a few hundred generated resources in a real Whoosh index
with several segments, deletions and updates, against Whoosh's own exhaustive search.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher

from exchange.access import search_visibility
from exchange.models import Member, Resource, StoredFile, Tag
from exchange.search import engine, segments
from exchange.search import whoosh_internals as postings
from exchange.search.engine import evaluate, view_of
from exchange.search.query import SearchRequest, parse, run
from exchange.search.results import top_k
from exchange.search.schema import POSITION_DOC_ID, SCHEMA, build_schema, document_for

WORDS = (
    "career interview resume cover letter skills strengths values goals plan budget "
    "network networking employer job search training course education client counsellor "
    "worksheet template checklist reflection feedback practice question answer salary "
    "negotiation workplace conflict manager team project deadline customer service "
    "safety equipment repair maintenance records report schedule volunteer mentor "
    "confidence motivation barrier wellbeing change transition retirement apprenticeship "
    "portfolio reference application online profile strength weakness achievement story"
).split()
TOPICS = ["job search", "interview skills", "self-esteem", "networking", "budgeting", "values"]
KINDS = ["worksheet", "template", "quiz", "guide"]
AUDIENCES = ["youth", "adults", "job-seekers"]
FORMATS = ["docx", "pdf", "xlsx"]
OWNERS = [1, 2, 3, 4]

QUERIES = [
    "interview",
    "interviewing",
    "career plan",
    "job search skills",
    "customer service records",
    '"job search"',
    '"cover letter"',
    '"customer service" safety',
    "resume OR portfolio",
    "interview -salary",
    "interv*",
    "net*",
    "budget NOT plan",
    "career ANDMAYBE goals",
    "+mentor confidence",
    "inter*view",
    "Okafor",
    "values strengths goals reflection",
    "zzzz",
]


def _text(rnd: random.Random, low: int, high: int) -> str:
    """Words drawn with a Zipf-like skew, so some are common and most are rare."""
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    return " ".join(rnd.choices(WORDS, weights, k=rnd.randint(low, high)))


def make_resource(rnd: random.Random, resource_id: int) -> Resource:
    resource = Resource(
        id=resource_id,
        owner_id=rnd.choice(OWNERS),
        title=_text(rnd, 2, 5).title(),
        synopsis=_text(rnd, 8, 30),
        how_used=_text(rnd, 0, 15),
        kind=rnd.choice(KINDS),
        audience=rnd.choice(AUDIENCES),
        licence="cc-by-4.0",
        credit_name=rnd.choice(["", "Ada Okafor", "Ben Walsh"]),
        access="everyone",
        status=rnd.choices(["published", "draft", "hidden"], [8, 1, 1])[0],
        created_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=resource_id),
    )
    resource.tags = [Tag(name=t) for t in sorted(set(rnd.sample(TOPICS, rnd.randint(0, 3))))]
    resource.files = [
        StoredFile(text=_text(rnd, 10, 200), format=rnd.choice(FORMATS))
        for _ in range(rnd.randint(1, 2))
    ]
    return resource


def build_index(folder: Path, count: int = 400, seed: int = 3) -> dict[int, Resource]:
    """An index of ``count`` resources in three segments, some deleted and some updated."""
    rnd = random.Random(seed)
    live = {i: make_resource(rnd, i) for i in range(1, count + 1)}
    index = whoosh_index.create_in(str(folder), SCHEMA)
    ids = list(live)
    batches = (ids[: count // 2], ids[count // 2 : count - 40], ids[count - 40 :])
    for number, batch in enumerate(batches):
        writer = index.writer(compound=number == 0)  # both ways Whoosh may store a segment
        for resource_id in batch:
            writer.add_document(**document_for(live[resource_id]))
        writer.commit(merge=False)
    writer = index.writer()
    for resource_id in rnd.sample(ids, 30):
        writer.delete_by_term("id", str(live.pop(resource_id).id))
    for resource_id in rnd.sample(sorted(live), 20):
        live[resource_id] = make_resource(rnd, resource_id)
        writer.update_document(**document_for(live[resource_id]))
    writer.add_document(id=POSITION_DOC_ID, position=1)
    writer.commit(merge=False)
    return live


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[whoosh_index.FileIndex, dict[int, Resource]]:
    folder = tmp_path_factory.mktemp("engine-index")
    resources = build_index(folder)
    return whoosh_index.open_dir(str(folder), schema=SCHEMA), resources


@pytest.fixture
def searcher(corpus):
    with corpus[0].searcher() as opened:
        yield opened


def seen_by(member_id: int | None = None, is_admin: bool = False):
    """What the site's access rules let this person find: a visitor, a member or an admin."""
    signed_in = member_id is not None or is_admin
    person = Member(id=member_id or 0, is_admin=is_admin) if signed_in else None
    return search_visibility(person)


def distrust_whoosh_internals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as a process whose start-up check found Whoosh's internals changed: public API
    only, with caches of its own (nothing read through the internals is reused)."""
    monkeypatch.setattr(postings, "_trusted", False)
    monkeypatch.setattr(engine, "TERMS", engine.TermCache())
    fresh_segments = segments.SegmentCache()
    monkeypatch.setattr(engine, "SEGMENTS", fresh_segments)
    monkeypatch.setattr(segments, "SEGMENTS", fresh_segments)


@pytest.fixture(params=["internals", "public-api"])
def any_searcher(request, corpus, monkeypatch):
    """A searcher, with the engine reading Whoosh through its internals, then without."""
    if request.param == "public-api":
        distrust_whoosh_internals(monkeypatch)
    with corpus[0].searcher() as opened:
        yield opened


def whoosh_ranking(searcher, query) -> list[tuple[int, float]]:
    """Whoosh scoring every match (no top-N shortcuts), best first, ties by document."""
    return [(hit.docnum, hit.score) for hit in searcher.search(query, limit=None)]


def engine_ranking(searcher, query) -> list[tuple[int, float]]:
    hits = evaluate(view_of(searcher), searcher, query)
    docs = np.flatnonzero(hits.mask)
    ordered = docs[top_k([hits.scores[docs]], len(docs))]
    return [(int(d), float(hits.scores[d])) for d in ordered]


def test_the_index_really_has_several_segments_and_deletions(searcher):
    readers = searcher.reader().leaf_readers()
    assert len(readers) >= 3
    assert any(reader.has_deletions() for reader, _ in readers)


def test_bulk_postings_equal_the_public_per_posting_api(searcher, monkeypatch):
    monkeypatch.setattr(postings, "_trusted", True)  # whatever this process decided before
    compared = 0
    for reader, _ in searcher.reader().leaf_readers():
        deleted = reader.deleted_docs_set
        for field_name in ("content", "title", "tags", "status"):
            for btext in list(reader.lexicon(field_name))[:40]:
                fast = postings.read_postings(reader, field_name, btext)
                slow = postings.read_one_by_one(reader.postings(field_name, btext))
                kept = np.asarray([d not in deleted for d in fast.docs.tolist()], dtype=bool)
                assert fast.docs[kept].tolist() == slow.docs.tolist()
                assert fast.weights[kept].tolist() == slow.weights.tolist()
                compared += 1
    assert compared > 100


def test_bulk_reading_covers_posting_lists_longer_than_one_block(searcher):
    reader, _ = max(searcher.reader().leaf_readers(), key=lambda pair: pair[0].doc_count_all())
    longest = max(reader.lexicon("content"), key=lambda t: reader.doc_frequency("content", t))
    matcher = postings.raw_matcher(reader, "content", longest)
    assert type(matcher) is W3LeafMatcher and reader.doc_frequency("content", longest) > 128
    assert len(postings.read_postings(reader, "content", longest).docs) == reader.doc_frequency(
        "content", longest
    )


@pytest.mark.parametrize("text", QUERIES)
def test_same_matches_as_whoosh(any_searcher, text):
    query = parse(text)
    mine = {doc for doc, _ in engine_ranking(any_searcher, query)}
    theirs = {doc for doc, _ in whoosh_ranking(any_searcher, query)}
    assert mine == theirs


@pytest.mark.parametrize("text", QUERIES)
def test_same_top_ten_and_scores_as_whoosh(any_searcher, text, monkeypatch):
    # In segments under 5,000 documents Whoosh may switch to an *unscored* array matcher
    # for a prefix's words; large segments, and this engine, always score them.
    monkeypatch.setattr(wq.Or, "matcher_type", wq.Or.DEFAULT_MATCHER)
    query = parse(text)
    theirs = whoosh_ranking(any_searcher, query)
    mine = engine_ranking(any_searcher, query)[:10]
    assert len(mine) == min(10, len(theirs))
    for rank, (doc, score) in enumerate(mine):
        expected = theirs[rank][1]
        assert score == pytest.approx(expected, rel=1e-9)
        tied = {d for d, s in theirs if s == pytest.approx(expected, rel=1e-9)}
        assert doc in tied, f"rank {rank + 1} of {text!r}"


def test_counts_and_facets_equal_counting_by_hand(any_searcher, corpus):
    resources = corpus[1]
    viewer = seen_by(member_id=2)
    request = SearchRequest(q="career", filters={"tags": ["job search"]}, per_page=500)
    found = run(any_searcher, request, viewer)
    by_hand = [
        r
        for r in resources.values()
        if (r.status == "published" or r.owner_id == 2)
        and "job search" in r.tag_names
        and _matches_career(r)
    ]
    assert sorted(found.ids) == sorted(r.id for r in by_hand)
    assert found.total == len(by_hand)
    assert dict(found.facets["kind"]) == dict(Counter(r.kind for r in by_hand))
    tags = Counter(t for r in by_hand for t in r.tag_names)
    assert dict(found.facets["tags"]) == dict(tags)


def _matches_career(resource: Resource) -> bool:
    texts = [
        resource.title,
        resource.synopsis,
        resource.how_used,
        *(f.text for f in resource.files),
    ]
    return any("career" in text.lower().split() for text in texts)


def test_everyone_sees_only_published_unless_owner_or_admin(any_searcher, corpus):
    resources = corpus[1]
    everyone = run(any_searcher, SearchRequest(per_page=1000), seen_by())
    assert sorted(everyone.ids) == sorted(
        i for i, r in resources.items() if r.status == "published"
    )
    owner = run(any_searcher, SearchRequest(per_page=1000), seen_by(member_id=3))
    assert sorted(owner.ids) == sorted(
        i for i, r in resources.items() if r.status == "published" or r.owner_id == 3
    )
    admin = run(any_searcher, SearchRequest(per_page=1000), seen_by(member_id=1, is_admin=True))
    assert sorted(admin.ids) == sorted(resources), "the reserved position document never shows"


def test_newest_first_and_pages_that_do_not_overlap(any_searcher, corpus):
    published = sorted(
        (r for r in corpus[1].values() if r.status == "published"),
        key=lambda r: r.created_at,
        reverse=True,
    )
    pages = [
        run(any_searcher, SearchRequest(page=n, per_page=25), seen_by()).ids for n in (1, 2, 3)
    ]
    assert pages[0] + pages[1] + pages[2] == [r.id for r in published[:75]]
    last = -(-len(published) // 25)
    beyond = run(any_searcher, SearchRequest(page=last + 5, per_page=25), seen_by())
    assert beyond.ids == [r.id for r in published[(last - 1) * 25 :]], "past the end: last page"


def test_an_updated_resource_appears_once_in_the_next_generation(tmp_path):
    resources = build_index(tmp_path, count=60, seed=5)
    index = whoosh_index.open_dir(str(tmp_path), schema=SCHEMA)
    with index.searcher() as before:
        run(before, SearchRequest(q="career"), seen_by(is_admin=True))  # load and cache
    changed = next(iter(resources.values()))
    changed.title = "Quetzal planning sheet"
    writer = index.writer()
    writer.update_document(**document_for(changed))
    writer.commit(merge=False)
    with index.searcher() as after:
        everything = run(after, SearchRequest(per_page=500), seen_by(is_admin=True))
        found = run(after, SearchRequest(q="quetzal"), seen_by(is_admin=True))
    assert everything.ids.count(changed.id) == 1
    assert found.ids == [changed.id]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3)), min_size=1, max_size=60),
    st.integers(0, 70),
)
def test_top_k_equals_a_full_sort(rows, k):
    primary = np.asarray([r[0] for r in rows], dtype=np.int64)
    secondary = np.asarray([r[1] for r in rows], dtype=np.int64)
    full = sorted(range(len(rows)), key=lambda i: (-primary[i], -secondary[i], i))
    assert top_k([primary, secondary], k).tolist() == full[:k]


def test_an_index_written_before_the_id_column_still_finds_resources(tmp_path):
    older = build_schema()
    older.remove("resource_id")
    index = whoosh_index.create_in(str(tmp_path), older)
    writer = index.writer()
    rnd = random.Random(9)
    for resource_id in (7, 8, 9):
        document = document_for(make_resource(rnd, resource_id))
        document.pop("resource_id")
        document["status"] = "published"
        writer.add_document(**document)
    writer.add_document(id=POSITION_DOC_ID, position=3)
    writer.commit()
    with whoosh_index.open_dir(str(tmp_path), schema=SCHEMA).searcher() as opened:
        found = run(opened, SearchRequest(), seen_by())
    assert found.ids == [9, 8, 7]


# --------------------------------------------------------------------------- trusting Whoosh


def test_the_pinned_whoosh_is_installed_and_its_internals_are_trusted():
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert f'"{postings.PINNED_DISTRIBUTION}=={postings.PINNED_VERSION}"' in pyproject
    assert postings.verify() == ""


def test_a_process_decides_to_trust_the_pinned_whoosh(monkeypatch):
    monkeypatch.setattr(postings, "_trusted", None)  # as at start-up
    assert postings.enable() is True
    assert postings.bulk_reads()


def test_another_whoosh_version_is_not_trusted():
    assert "2.7.5 is installed, but 2.8.0 is pinned" in postings.verify(expected_version="2.8.0")


def test_internals_that_answer_differently_are_not_trusted(monkeypatch):
    """A Whoosh whose block reader changed meaning (here: weights no longer in the block)."""
    original = W3LeafMatcher._read_data

    def changed(self):
        original(self)
        ids, _weights, values = self._data
        self._data = (ids, None, values)

    monkeypatch.setattr(W3LeafMatcher, "_read_data", changed)
    assert "differ from Whoosh's own" in postings.verify()


def test_distrusted_internals_are_left_alone_and_warned_about(monkeypatch, caplog):
    monkeypatch.setattr(postings, "_trusted", None)
    monkeypatch.setattr(postings, "PINNED_VERSION", "0.0")
    monkeypatch.setattr(postings.verify, "__defaults__", ("0.0",))
    assert postings.enable() is False
    assert "public API" in caplog.text and "0.0 is pinned" in caplog.text
    assert postings.bulk_reads() is False
