"""Search benchmark: build a realistic toolkit, index it, and time search the way people use it.

One command, one option for the sizes::

    .venv/bin/python infra/bench/search_bench.py --sizes 1000,10000,100000

For each size it bulk-loads synthetic resources (``corpus.py``: O*NET occupations, tasks
and career guides) into a real database, rebuilds the search index from it, and measures:

* search latency through the Flask app (``/search``, with facets, snippets and the
  rendered page) for a realistic query mix, beside a *bare Whoosh query*
  (``searcher.search(parsed, limit=10)``) on the same index in the same run;
* searches per second with two processes (this machine has two cores);
* bulk reindex documents per second;
* time from a share's commit until a search finds it;
* "More like this" (``--phases related``): ``related_to`` for a resource not yet asked
  about in this index generation (cold) and asked again (warm, kept), and the resource
  page with the block beside the same page without it (``RELATED_RESOURCES=0``),
  interleaved in the same run. Members' downloads for "taken together" are added to the
  database the first time (``ensure_takers``): runs of resources taken by the same members.

Figures are printed and written to ``results/search-<date>.json`` and ``.md``. The machine
is shared and noisy, so the report gives ratios to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import multiprocessing
import os
import platform
import random
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path[:0] = [str(REPO), str(HERE)]

from corpus import CorpusSource, SampleResource, generate, member_name  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from exchange import create_app  # noqa: E402
from exchange.extensions import db  # noqa: E402
from exchange.models import (  # noqa: E402
    IndexChange,
    Member,
    Resource,
    StoredFile,
    Tag,
    Taker,
    resource_tags,
)

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "pdf": "application/pdf",
    "txt": "text/plain",
}
INSERT_BATCH = 2000
PHASES = ("search", "related")


# -- building the toolkit ----------------------------------------------------------------


def bench_app(workdir: Path, database_url: str = "", **overrides):
    """An app on its own database and index under ``workdir`` (no CSRF, no rate limits)."""
    return create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "benchmark-secret-key-that-is-long-enough-to-pass",
            "INSTANCE_DIR": str(workdir / "instance"),
            "DATABASE_URL": database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
            "STORAGE_URL": (workdir / "files").as_uri(),
            "INDEX_DIR": str(workdir / "index"),
            "FAST_PASSWORDS": True,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            **overrides,
        }
    )


def member_count(size: int) -> int:
    return max(20, size // 50)


def build_database(app, source: CorpusSource, size: int, seed: int) -> float:
    """Bulk-insert ``size`` resources (SQLAlchemy core, not the share form); returns seconds."""
    started = time.perf_counter()
    with app.app_context():
        db.drop_all()
        db.create_all()
        members = member_count(size)
        with db.engine.begin() as conn:
            conn.execute(insert(Member), [_member_row(n) for n in range(members)])
        samples = generate(source, size, seed=seed, members=members)
        tag_ids: dict[str, int] = {}
        for first_id, chunk in _chunks(samples, INSERT_BATCH):
            _insert_chunk(first_id, chunk, tag_ids)
    return time.perf_counter() - started


def _chunks(items: Iterable, size: int) -> Iterator[tuple[int, list]]:
    iterator = iter(items)
    first = 1
    while chunk := list(islice(iterator, size)):
        yield first, chunk
        first += len(chunk)


def _member_row(number: int) -> dict:
    return {
        "id": number + 1,
        "email": f"member{number + 1}@bench.example",
        "name": member_name(number),
        "password_hash": "!unusable",
    }


def _insert_chunk(first_id: int, chunk: list[SampleResource], tag_ids: dict[str, int]) -> None:
    with db.engine.begin() as conn:
        for name in sorted({t for s in chunk for t in s.tags} - tag_ids.keys()):
            tag_ids[name] = conn.execute(insert(Tag).values(name=name)).inserted_primary_key[0]
        rows = list(zip(range(first_id, first_id + len(chunk)), chunk, strict=True))
        conn.execute(insert(Resource), [_resource_row(i, s) for i, s in rows])
        conn.execute(insert(StoredFile), [_file_row(i, s) for i, s in rows])
        links = [{"resource_id": i, "tag_id": tag_ids[t]} for i, s in rows for t in s.tags]
        conn.execute(insert(resource_tags), links)


def _resource_row(resource_id: int, sample: SampleResource) -> dict:
    return {
        "id": resource_id,
        "owner_id": sample.owner + 1,
        "title": sample.title[:200],
        "synopsis": sample.synopsis,
        "how_used": sample.how_used,
        "kind": sample.kind,
        "audience": sample.audience,
        "licence": sample.licence,
        "credit_name": sample.credit_name,
        "access": sample.access,
        "status": sample.status,
        "language": sample.language,
        "download_count": max(0, sample.downloads),
        "created_at": sample.created_at,
        "updated_at": sample.created_at,
    }


def _file_row(resource_id: int, sample: SampleResource) -> dict:
    body = sample.text.encode()
    return {
        "resource_id": resource_id,
        "position": 0,
        "storage_key": f"bench/{uuid.uuid4().hex}",
        "original_name": f"{sample.title.split(':')[0][:60]}.{sample.format}",
        "content_type": CONTENT_TYPES[sample.format],
        "format": sample.format,
        "size": len(body) * 3,
        "sha256": hashlib.sha256(body).hexdigest(),
        "text": sample.text,
        "language": sample.language,  # as reading it detects: the sample's own language
        "text_status": "searchable",
        "created_at": sample.created_at,
    }


# -- the query mix -----------------------------------------------------------------------

STOP = set(
    "a an and are as at be by for from has have in into is it its of on or such that the "
    "their them these this to use used using with within other all may can when which who "
    "what how will your you".split()
)
MIX = [  # (category, share of the searches)
    ("one word", 20),
    ("other languages", 5),
    ("two or three words", 25),
    ("phrase", 10),
    ("prefix", 10),
    ("empty", 5),
    ("filtered", 15),
    ("sorted", 10),
]


@dataclass
class BenchQuery:
    category: str
    args: dict  # /search query-string arguments
    member: int | None  # a member id to search as, or None for a visitor


def query_mix(source: CorpusSource, count: int, members: int, seed: int = 11) -> list[BenchQuery]:
    """Searches people plausibly make: words they remember from titles and task lists."""
    rnd = random.Random(seed)
    words = _common_words(source)
    tasks = [t for tasks in source.tasks.values() for t in tasks]
    categories, weights = zip(*MIX, strict=True)
    mix = []
    for _ in range(count):
        category = rnd.choices(categories, weights)[0]
        args = _query_args(rnd, category, words, tasks)
        member = rnd.randint(1, members) if rnd.random() < 0.8 else None
        mix.append(BenchQuery(category, args, member))
    return mix


def _common_words(source: CorpusSource) -> list[str]:
    counts: dict[str, int] = {}
    for _, title, description in source.occupations:
        for word in f"{title} {description}".lower().split():
            word = word.strip(".,;:()'\"")
            if word.isalpha() and word not in STOP and len(word) > 3:
                counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=counts.get, reverse=True)
    return ranked[:600]


# Words of the multilingual slice, typed with and without their accents, and Japanese
# and Czech found inside longer runs (see corpus.py).
OTHER_LANGUAGES = (
    "entrevue entrevues résumé resume compétences competences métier curriculum currículum "
    "habilidades entrevista orgulloso ゾルゲ 尾崎 Izajas Izajáš"
).split()


def _query_args(rnd: random.Random, category: str, words: list[str], tasks: list[str]) -> dict:
    word = rnd.choice(words[:300])
    if category == "other languages":
        return {"q": rnd.choice(OTHER_LANGUAGES)}
    if category == "two or three words":
        return {"q": " ".join(_run_of_words(rnd, tasks, rnd.randint(2, 3)))}
    if category == "phrase":
        return {"q": '"' + " ".join(_run_of_words(rnd, tasks, 2)) + '"'}
    if category == "prefix":
        return {"q": word[: rnd.randint(4, 6)] + "*"}
    if category == "empty":
        return {}
    if category == "filtered":
        facet = rnd.choice([("kind", "worksheet"), ("tag", "job search"), ("format", "pdf")])
        return {"q": word, facet[0]: facet[1]}
    if category == "sorted":
        return {"q": word, "sort": rnd.choice(["newest", "downloads"])}
    return {"q": word}


def _run_of_words(rnd: random.Random, tasks: list[str], length: int) -> list[str]:
    """``length`` consecutive meaningful words from a task statement."""
    for _ in range(50):
        words = [w.strip(".,;:()'\"").lower() for w in rnd.choice(tasks).split()]
        for start in rnd.sample(range(len(words)), len(words)):
            run = words[start : start + length]
            if len(run) == length and all(w.isalpha() and w not in STOP for w in run):
                return run
    return ["career", "plan"][:length]


# -- timing ------------------------------------------------------------------------------


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    if not ordered:
        return {}

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "mean": round(statistics.fmean(ordered), 2),
        "n": len(ordered),
    }


def timed(action: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


class Searcher:
    """Runs one benchmark query through the app, the engine, or bare Whoosh."""

    def __init__(self, app) -> None:
        from exchange.search import get_replica

        self.app = app
        self.clients = {}
        with app.app_context():
            self.replica = get_replica()

    def client_for(self, member: int | None):
        if member not in self.clients:
            client = self.app.test_client()
            if member is not None:
                with client.session_transaction() as session:
                    session["_user_id"] = f"{member}:0"
                    session["_fresh"] = True
            self.clients[member] = client
        return self.clients[member]

    def through_app(self, query: BenchQuery) -> None:
        response = self.client_for(query.member).get("/search", query_string=query.args)
        if response.status_code != 200:
            raise RuntimeError(f"/search {query.args} answered {response.status_code}")

    def bare(self, query: BenchQuery) -> None:
        """The baseline: Whoosh's own top-10 for the same parsed words, nothing else."""
        from exchange.search.query import clean_query, parse

        parsed = parse(clean_query(query.args.get("q", "")))
        if parsed is not None:
            with self.app.app_context():
                self.replica.searcher().search(parsed, limit=10)


@dataclass
class Timings:
    """Wall-clock samples per side ("app", "bare") and per category, and CPU time per side.

    CPU milliseconds per search are reported too: other programs on a shared machine
    disturb them far less than wall-clock time.
    """

    wall: dict[str, list[float]] = field(default_factory=lambda: {"app": [], "bare": []})
    cpu: dict[str, float] = field(default_factory=lambda: {"app": 0.0, "bare": 0.0})
    by_category: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def record(self, side: str, category: str, action: Callable[[], object]) -> None:
        wall, cpu = timed_with_cpu(action)
        self.wall[side].append(wall)
        self.cpu[side] += cpu
        self.by_category.setdefault(category, {"app": [], "bare": []})[side].append(wall)

    def summary(self) -> dict:
        return {
            **{side: percentiles(samples) for side, samples in self.wall.items()},
            "cpu_ms_per_search": {
                side: round(self.cpu[side] / max(1, len(self.wall[side])), 2) for side in self.cpu
            },
            "by_category": {
                name: {side: percentiles(ms) for side, ms in sides.items()}
                for name, sides in self.by_category.items()
            },
        }


def measure_latency(app, mix: list[BenchQuery], passes: int) -> dict:
    """A first pass on cold caches, then ``passes`` passes with app and bare interleaved."""
    runner = Searcher(app)
    cold = [timed(lambda q=q: runner.through_app(q)) for q in mix]
    timings = Timings()
    for _ in range(passes):
        for query in mix:
            timings.record("app", query.category, lambda q=query: runner.through_app(q))
            if query.args.get("q"):
                timings.record("bare", query.category, lambda q=query: runner.bare(q))
    return {"app_cold": percentiles(cold), **timings.summary()}


def timed_with_cpu(action: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU milliseconds of one call."""
    cpu = time.process_time()
    wall = timed(action)
    return wall, (time.process_time() - cpu) * 1000


def measure_engine(app, mix: list[BenchQuery], passes: int) -> dict:
    """The search itself (``query.run``: match, rank, facets, page) without Flask or HTML."""
    from exchange.access import search_visibility
    from exchange.models import Member
    from exchange.search import SearchRequest, get_replica
    from exchange.search.query import run

    samples = []
    with app.app_context():
        replica = get_replica()
        for _ in range(passes):
            for query in mix:
                request = _request_of(query, SearchRequest)
                person = Member(id=query.member) if query.member is not None else None
                viewer = search_visibility(person)
                samples.append(timed(lambda r=request, v=viewer: run(replica.searcher(), r, v)))
    return percentiles(samples)


def _request_of(query: BenchQuery, request_class):
    facets = {"tag": "tags", "kind": "kind", "format": "format"}
    filters = {facets[k]: [v] for k, v in query.args.items() if k in facets}
    return request_class(
        q=query.args.get("q", ""), filters=filters, sort=query.args.get("sort", "")
    )


# -- throughput with two processes ---------------------------------------------------------


@dataclass
class WorkerJob:
    workdir: str
    database_url: str
    mix: list[BenchQuery]
    seconds: float
    bare: bool


def _worker(job: WorkerJob) -> dict:
    """One process: its own app (as a gunicorn worker would be), warmed up, then timed."""
    app = bench_app(Path(job.workdir), job.database_url)
    runner = Searcher(app)
    search = runner.bare if job.bare else runner.through_app
    for query in job.mix:
        search(query)
    done, deadline = 0, time.perf_counter() + job.seconds
    while time.perf_counter() < deadline:
        search(job.mix[done % len(job.mix)])
        done += 1
    from exchange.search.engine import TERMS

    return {"searches": done, "term_cache_mb": round(TERMS.nbytes / 2**20, 1), **_memory_mb()}


def measure_throughput(workdir: Path, database_url: str, mix: list, seconds: float) -> dict:
    """Searches per second with two worker processes, through the app and bare."""
    found = {}
    context = multiprocessing.get_context("spawn")
    for bare in (False, True):
        jobs = [WorkerJob(str(workdir), database_url, mix, seconds, bare) for _ in range(2)]
        with context.Pool(2) as pool:
            results = pool.map(_worker, jobs)
        side = "bare" if bare else "app"
        found[f"{side}_searches_per_s"] = round(sum(r["searches"] for r in results) / seconds, 1)
        for measure in ("rss_mb", "anonymous_mb", "term_cache_mb"):
            found[f"{side}_{measure}_per_process"] = max(r[measure] for r in results)
    return found


def _memory_mb() -> dict[str, float]:
    """Resident memory, and the part that is the process's own (not shared index pages).

    Index files are memory-mapped, so resident size counts page cache that every process
    on the node shares; "anonymous" is what each extra worker really adds.
    """
    found = {}
    with open("/proc/self/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss", "Anonymous"):
                found[name.lower() + "_mb"] = round(int(rest.split()[0]) / 1024, 1)
    return found


# -- reindex and freshness ---------------------------------------------------------------


def measure_reindex(app, procs: int) -> dict:
    """Bulk reindex speed, by the clock and by CPU time (the machine is shared and noisy)."""
    from exchange.search import get_replica

    with app.app_context():
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        get_replica().force_rebuild(procs=procs)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        count = db.session.query(Resource).count()
        segments = len(get_replica().searcher().reader().leaf_readers())
    return {
        "seconds": round(seconds, 1),
        "docs_per_s": round(count / seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "docs_per_cpu_s": round(count / cpu, 1),
        "procs": procs,
        "segments": segments,
    }


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the reindex workers)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure_freshness(app, shares: int, seed: int = 5) -> dict:
    """Commit a new resource (rows + change-log entry), then search until it is found."""
    rnd = random.Random(seed)
    client = app.test_client()
    waits, reopen = [], []
    for number in range(shares):
        word = "".join(rnd.choice("bcdfghjklmnpqrstvwxz") for _ in range(6)) + f"x{number}"
        committed = _commit_resource(app, word)
        waits.append(_wait_until_found(client, word, committed))
        reopen.append(timed(lambda: client.get("/search", query_string={"q": "career"})))
    return {"commit_to_searchable": percentiles(waits), "next_search": percentiles(reopen)}


def _commit_resource(app, word: str) -> float:
    with app.app_context():
        resource = Resource(
            owner_id=1,
            title=f"Fresh {word} planner",
            synopsis=f"A planner about {word}.",
            how_used="Weekly.",
            kind="worksheet",
            audience="any",
            licence="cc-by-4.0",
        )
        resource.files = [_fresh_file(word)]
        db.session.add(resource)
        db.session.flush()
        IndexChange.record(resource.id)
        db.session.commit()
        return time.perf_counter()


def _fresh_file(word: str) -> StoredFile:
    return StoredFile(
        storage_key=f"bench/{uuid.uuid4().hex}",
        original_name="planner.docx",
        content_type=CONTENT_TYPES["docx"],
        format="docx",
        size=100,
        sha256="0" * 64,
        text=f"This week's {word} goals.",
    )


def _wait_until_found(client, word: str, committed: float, limit_s: float = 30.0) -> float:
    while time.perf_counter() - committed < limit_s:
        page = client.get("/search", query_string={"q": word}).get_data(as_text=True)
        if f"Fresh <mark>{word}</mark> planner" in page:  # titles mark the words searched for
            return (time.perf_counter() - committed) * 1000
    raise RuntimeError(f"{word} not searchable after {limit_s} s")


def open_searcher_ms(app) -> float:
    """How long opening a fresh searcher on this index takes (what a new generation costs)."""
    from whoosh import index as whoosh_index

    from exchange.search.schema import SCHEMA

    path = app.config["INDEX_DIR"]
    return round(timed(lambda: whoosh_index.open_dir(path, schema=SCHEMA).searcher().close()), 1)


# -- more like this ----------------------------------------------------------------------

WORKSHOP, WORKSHOPS = 20, 50  # runs of resources that members take together
WORKSHOPS_EACH, TAKEN_PER_WORKSHOP = 3, 8


def ensure_takers(app, size: int, seed: int) -> int:
    """Members' downloads, so "taken together" has something to find: each member takes a
    few resources from each of a few of ``WORKSHOPS`` runs of ``WORKSHOP`` consecutive
    resources, the first runs far more often (a few kits everyone uses). Added once;
    returns how many rows."""
    with app.app_context():
        found = db.session.query(Taker).count()
        if found:
            return found
        owners = dict(db.session.execute(select(Resource.id, Resource.owner_id)).all())
        rnd, runs = random.Random(seed), max(1, min(WORKSHOPS, size // WORKSHOP))
        rows = set()
        for member in range(1, member_count(size) + 1):
            for _ in range(WORKSHOPS_EACH):
                first = int(runs * rnd.random() ** 2) * WORKSHOP + 1
                for resource_id in rnd.sample(range(first, first + WORKSHOP), TAKEN_PER_WORKSHOP):
                    if owners.get(resource_id, member) != member:  # never the giver's own
                        rows.add((resource_id, member))
        with db.engine.begin() as conn:
            conn.execute(insert(Taker), [{"resource_id": r, "member_id": m} for r, m in rows])
        return len(rows)


@dataclass
class RelatedSample:
    resource_id: int
    member: int | None  # None: a visitor


def related_samples(app, size: int, count: int, seed: int = 13) -> list[RelatedSample]:
    """Published resources visitors may see, each looked at by a member (80 %) or a visitor;
    half of them among those members took (popular pages are viewed more), half any."""
    rnd = random.Random(seed)
    public = select(Resource.id).where(
        Resource.status == Resource.PUBLISHED, Resource.visibility == Resource.PUBLIC
    )
    with app.app_context():
        ids = sorted(db.session.scalars(public))
        taken = sorted(db.session.scalars(public.where(Resource.id.in_(select(Taker.resource_id)))))
    chosen = rnd.sample(taken, min(count // 2, len(taken)))
    rest = sorted(set(ids) - set(chosen))
    chosen += rnd.sample(rest, min(count - len(chosen), len(rest)))
    rnd.shuffle(chosen)
    members = member_count(size)
    viewers = [rnd.randint(1, members) if rnd.random() < 0.8 else None for _ in chosen]
    return [RelatedSample(i, viewer) for i, viewer in zip(chosen, viewers, strict=True)]


def measure_related(workdir: Path, database_url: str, samples: list, passes: int) -> dict:
    """``related_to`` cold and warm, and the resource page with the block (warm, and on
    its first view) beside the page without it, in one process on one index generation."""
    with_block = bench_app(workdir, database_url)
    without = bench_app(workdir, database_url, RELATED_RESOURCES=0)
    half = len(samples) // 2
    found = related_calls(with_block, samples[:half])
    pages = Pages(Searcher(with_block), Searcher(without))
    for sample in samples[half:]:  # first views: nothing kept for them yet
        pages.record("first_view", with_block, sample)
        pages.record("without", without, sample)
    for _ in range(passes):
        for sample in samples[:half]:  # kept by related_calls above
            pages.record("without", without, sample)
            pages.record("with", with_block, sample)
    return {**found, **pages.summary()}


def related_calls(app, samples: list) -> dict:
    """The face call itself, as the page makes it: cold (not yet kept), then warm (kept)."""
    from exchange import search as search_mod
    from exchange.access import search_visibility
    from exchange.resources.listings import for_page, likeness_of

    cold, warm, shown, together = [], [], [], 0
    with app.test_request_context():
        for sample in samples:
            likeness = likeness_of(for_page(sample.resource_id))
            viewer = search_visibility(Member(id=sample.member) if sample.member else None)
            cold.append(timed(lambda li=likeness, v=viewer: search_mod.related_to(li, v)))
            started = time.perf_counter()
            answer = search_mod.related_to(likeness, viewer)
            warm.append((time.perf_counter() - started) * 1000)
            shown.append(len(answer))
            together += any(r.taken_together for r in answer)
    return {
        "related_to_cold": percentiles(cold),
        "related_to_warm": percentiles(warm),
        "mean_shown": round(statistics.fmean(shown), 2) if shown else 0,
        "share_with_taken_together": round(together / max(1, len(samples)), 3),
    }


class Pages:
    """Resource pages through the two apps, timed per kind ("with", "without", ...)."""

    def __init__(self, with_block: Searcher, without: Searcher) -> None:
        self.runners = {id(with_block.app): with_block, id(without.app): without}
        self.samples: dict[str, list[float]] = {}

    def record(self, kind: str, app, sample: RelatedSample) -> None:
        client = self.runners[id(app)].client_for(sample.member)
        url = f"/resources/{sample.resource_id}"
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        self.samples.setdefault(kind, []).append(elapsed)

    def summary(self) -> dict:
        found = {f"page_{kind}": percentiles(ms) for kind, ms in self.samples.items()}
        with_p50, without_p50 = found["page_with"]["p50"], found["page_without"]["p50"]
        found["page_ratio_p50"] = ratio(with_p50, without_p50)
        found["page_added_ms_p50"] = round(with_p50 - without_p50, 2)
        return found


# -- one size, all sizes, the report -------------------------------------------------------


def bench_size(options: argparse.Namespace, source: CorpusSource, size: int) -> dict:
    workdir = options.workdir / f"size-{size}"
    workdir.mkdir(parents=True, exist_ok=True)
    app = bench_app(workdir, options.database_url)
    found: dict = {"size": size}
    built = workdir / "built"
    if not (options.reuse and built.exists()):
        found["build_s"] = round(build_database(app, source, size, options.seed), 1)
        _say(f"{size}: built in {found['build_s']} s; reindexing")
        found["reindex"] = measure_reindex(app, options.procs)
        built.touch()
    if "search" in options.phases:
        bench_search(options, source, size, app, workdir, found)
    if "related" in options.phases:
        found["takers"] = ensure_takers(app, size, options.seed)
        samples = related_samples(app, size, options.related)
        _say(f"{size}: more like this, {len(samples)} resources")
        found["related"] = measure_related(workdir, options.database_url, samples, options.passes)
        _say(f"{size}: {related_line(found['related'])}")
    return found


def bench_search(options, source, size: int, app, workdir: Path, found: dict) -> None:
    """The search phases: latency, the engine alone, throughput, freshness, memory."""
    mix = query_mix(source, options.queries, member_count(size))
    found["open_searcher_ms"] = open_searcher_ms(app)
    _say(f"{size}: timing {len(mix)} searches x {options.passes}")
    found["latency"] = measure_latency(app, mix, options.passes)
    found["engine"] = measure_engine(app, mix, options.passes)
    _say(f"{size}: throughput, {options.seconds} s per side")
    found["throughput"] = measure_throughput(workdir, options.database_url, mix, options.seconds)
    found["freshness"] = measure_freshness(app, options.shares)
    found["bench_process_memory"] = _memory_mb()
    _say(f"{size}: {summary_line(found)}")


def related_line(related: dict) -> str:
    cold, warm = related["related_to_cold"], related["related_to_warm"]
    return (
        f"related_to cold p50 {cold['p50']} p95 {cold['p95']} ms | warm p50 {warm['p50']} "
        f"p95 {warm['p95']} ms | page with/without p50 {related['page_ratio_p50']} "
        f"(+{related['page_added_ms_p50']} ms)"
    )


def summary_line(found: dict) -> str:
    app, bare = found["latency"]["app"], found["latency"]["bare"]
    fresh = found["freshness"]["commit_to_searchable"]
    return (
        f"app p50 {app['p50']} ms p95 {app['p95']} ms | bare p50 {bare['p50']} p95 "
        f"{bare['p95']} | ratio p95 {ratio(app['p95'], bare['p95'])} | "
        f"{found['throughput']['app_searches_per_s']}/s | searchable p95 {fresh['p95']} ms"
    )


def ratio(mine: float, baseline: float) -> float | None:
    return round(mine / baseline, 2) if baseline else None


def markdown(run: dict) -> str:
    lines = [f"# Search benchmark, {run['date']}", ""]
    searched = [found for found in run["sizes"] if "latency" in found]
    if searched:
        lines += _search_table(run, searched)
    related = [found for found in run["sizes"] if "related" in found]
    if related:
        lines += [""] * bool(searched) + _related_table(run, related)
    return "\n".join(lines) + "\n"


def _search_table(run: dict, sizes: list[dict]) -> list[str]:
    lines = [
        f"Machine: {run['machine']}. Query mix: {run['options']['queries']} searches "
        f"({', '.join(f'{n} {p}%' for n, p in MIX)}), {run['options']['passes']} timed passes "
        "after a cold first pass. *Bare* = `searcher.search(parsed, limit=10)` on the same "
        "index in the same run (no facets, no snippets, no page).",
        "",
        "| resources | app p50 ms | app p95 ms | bare p50 ms | bare p95 ms | p95 / bare "
        "| CPU ms/search app (bare) | engine p95 ms | cold p95 ms | searches/s app (bare) "
        "| reindex docs/s (per CPU-s) | commit→found p50/p95 ms | MB/process own (RSS) |",
        "|---" * 13 + "|",
    ]
    lines += [_markdown_row(found) for found in sizes]
    lines += ["", *_growth_lines(sizes), "", "Per category (p95 ms, app / bare):", ""]
    return lines + [_category_line(found) for found in sizes]


def _related_table(run: dict, sizes: list[dict]) -> list[str]:
    lines = [
        "## More like this",
        "",
        f"Machine: {run['machine']}. {run['options']['related']} published resources, each "
        "viewed by a member (80 %) or a visitor. Half of them: `related_to` cold (not yet "
        "kept for this index generation), then warm (kept), then their resource page with "
        f"the block and without it (`RELATED_RESOURCES=0`), interleaved, "
        f"{run['options']['passes']} passes. The other half: the page's first view with the "
        "block (nothing kept yet). Same process, same index generation.",
        "",
        "| resources | taker rows | related_to cold p50 / p95 ms | warm p50 / p95 ms "
        "| page without p50 / p95 ms | page with p50 / p95 ms | with ÷ without (p50) "
        "| added p50 ms | first view p50 / p95 ms | shown (with taken together) |",
        "|---" * 10 + "|",
    ]
    return lines + [_related_row(found) for found in sizes]


def _related_row(found: dict) -> str:
    related = found["related"]

    def both(name: str) -> str:
        return f"{related[name]['p50']} / {related[name]['p95']}"

    cells = [
        found["size"],
        found["takers"],
        both("related_to_cold"),
        both("related_to_warm"),
        both("page_without"),
        both("page_with"),
        related["page_ratio_p50"],
        related["page_added_ms_p50"],
        both("page_first_view"),
        f"{related['mean_shown']} ({round(100 * related['share_with_taken_together'])} %)",
    ]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _markdown_row(found: dict) -> str:
    latency, throughput = found["latency"], found["throughput"]
    app, bare = latency["app"], latency["bare"]
    fresh = found["freshness"]["commit_to_searchable"]
    reindex = found.get("reindex")
    reindexed = f"{reindex['docs_per_s']} ({reindex['docs_per_cpu_s']})" if reindex else "reused"
    cpu = latency["cpu_ms_per_search"]
    cells = [
        found["size"],
        app["p50"],
        app["p95"],
        bare["p50"],
        bare["p95"],
        ratio(app["p95"], bare["p95"]),
        f"{cpu['app']} ({cpu['bare']})",
        found["engine"]["p95"],
        latency["app_cold"]["p95"],
        f"{throughput['app_searches_per_s']} ({throughput['bare_searches_per_s']})",
        reindexed,
        f"{fresh['p50']} / {fresh['p95']}",
        f"{throughput['app_anonymous_mb_per_process']} ({throughput['app_rss_mb_per_process']})",
    ]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _growth_lines(sizes: list[dict]) -> list[str]:
    by_size = {found["size"]: found["latency"]["app"]["p95"] for found in sizes}
    if 10_000 in by_size and 100_000 in by_size:
        return [f"Growth of app p95 from 10k to 100k: {ratio(by_size[100_000], by_size[10_000])}×"]
    return []


def _category_line(found: dict) -> str:
    parts = [
        f"{name} {sides['app'].get('p95')} / {sides['bare'].get('p95', '–')}"
        for name, sides in sorted(found["latency"]["by_category"].items())
    ]
    return f"- {found['size']}: " + "; ".join(parts)


def write_results(run: dict, folder: Path) -> Path:
    """``search-DATE``; a run of some phases only is ``search-PHASE-DATE`` (``--phases``)."""
    folder.mkdir(parents=True, exist_ok=True)
    phases = run["options"]["phases"]
    name = "search" if phases == ",".join(PHASES) else "search-" + phases.replace(",", "-")
    stem = folder / f"{name}-{run['date']}"
    stem.with_suffix(".json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    stem.with_suffix(".md").write_text(markdown(run), encoding="utf-8")
    return stem


def _say(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def options_from(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--sizes", default="1000,10000,100000", help="comma-separated resource counts")
    add("--workdir", type=Path, default=Path("/tmp/exchange-search-bench"))
    add("--corpus", type=Path, default=DEFAULT_CORPUS, help="the shared corpus folder")
    add("--database-url", default="", help="default: a SQLite file per size")
    add("--queries", type=int, default=200, help="searches in the mix")
    add("--passes", type=int, default=3, help="timed passes over the mix")
    add("--seconds", type=float, default=15.0, help="length of each throughput run")
    add("--shares", type=int, default=20, help="commits timed until searchable")
    add("--procs", type=int, default=2, help="processes for the bulk reindex")
    add("--seed", type=int, default=7)
    add("--reuse", action="store_true", help="keep a size's database and index if built")
    add("--results", type=Path, default=HERE / "results")
    add("--phases", default=",".join(PHASES), help="search and/or related (more like this)")
    add("--related", type=int, default=200, help="resources timed for more like this")
    options = parser.parse_args(argv)
    options.phases = ",".join(p for p in PHASES if p in options.phases.split(","))
    return options


def main(argv: list[str] | None = None) -> int:
    options = options_from(argv)
    source = CorpusSource(options.corpus)
    run = {
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "options": {k: str(v) for k, v in vars(options).items()},
        "sizes": [],
    }
    for size in (int(s) for s in options.sizes.split(",")):
        run["sizes"].append(bench_size(options, source, size))
        gc.collect()
        stem = write_results(run, options.results)
    print(markdown(run))
    print(f"Written to {stem}.json and {stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
