"""The search index is a replica of the database: it loses nothing and heals itself."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from exchange import create_app
from exchange.access import search_visibility
from exchange.extensions import db
from exchange.models import IndexChange, Member, Resource, StoredFile
from exchange.search import SearchRequest, get_replica
from exchange.search import replica as replica_module
from exchange.search.query import run

from .fixtures.members import Visitor, docx_bytes


def found_titles(app, words: str) -> list[str]:
    """Titles an anonymous visitor finds, read through the app's own search."""
    with app.app_context():
        replica = get_replica()
        replica.catch_up(wait=10)
        results = run(
            replica.searcher(), SearchRequest(q=words, per_page=100), search_visibility(None)
        )
        return sorted(db.session.get(Resource, i).title for i in results.ids)


def share(visitor: Visitor, title: str, text: str) -> int:
    return visitor.share_id(title=title, files=[("sheet.docx", docx_bytes(text))], tags="x")


@pytest.fixture
def giver(app) -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.register()
    return visitor


def test_a_deleted_index_folder_is_rebuilt_from_the_database(app, giver):
    share(giver, "Capybara chart", "capybara")
    shutil.rmtree(app.config["INDEX_DIR"])
    assert found_titles(app, "capybara") == ["Capybara chart"]


def test_a_corrupt_index_folder_is_rebuilt(app, giver):
    share(giver, "Axolotl chart", "axolotl")
    index_dir = Path(app.config["INDEX_DIR"])
    for path in index_dir.iterdir():
        path.write_bytes(b"\x00garbage")
    fresh = create_app({**base_config_of(app)})
    assert found_titles(fresh, "axolotl") == ["Axolotl chart"]


def base_config_of(app) -> dict:
    keys = (
        "ENV",
        "SECRET_KEY",
        "INSTANCE_DIR",
        "DATABASE_URL",
        "STORAGE_URL",
        "INDEX_DIR",
        "FAST_PASSWORDS",
        "WTF_CSRF_ENABLED",
        "RATELIMIT_ENABLED",
        # As the test app: files read right after the share, no scans, no emails sent.
        "JOBS_EAGER",
        "OCR",
        "OFFICE_PREVIEWS",
        "EMAIL_JOBS",
    )
    return {key: app.config[key] for key in keys}


def test_two_nodes_with_their_own_folders_converge(make_app, tmp_path):
    node_a = make_app()
    node_b = make_app(INDEX_DIR=str(tmp_path / "node-b-index"))
    visitor = Visitor(node_a.test_client())
    visitor.register()
    first = share(visitor, "Narwhal notes", "narwhal")
    share(visitor, "Walrus notes", "walrus narwhal")
    assert found_titles(node_b, "narwhal") == ["Narwhal notes", "Walrus notes"]
    visitor.client.post(f"/resources/{first}/delete")
    assert found_titles(node_a, "narwhal") == ["Walrus notes"]
    assert found_titles(node_b, "narwhal") == ["Walrus notes"]
    for node in (node_a, node_b):
        with node.app_context():
            position, head = get_replica().lag()
            assert position == head


def test_healthz_reports_index_position_and_log_head(app, giver):
    share(giver, "Quetzal chart", "quetzal")
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["index"]["head"] == 2  # a share logs twice: its files stored, then read
    assert body["index"]["lag"] == 0


def test_reindex_command_rebuilds_with_progress(app, giver):
    share(giver, "Ibis chart", "ibis")
    result = app.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    # A share logs twice: its files stored, then read.
    assert "Search index rebuilt at change-log position 2" in result.output
    assert "Indexing" in result.output
    assert found_titles(app, "ibis") == ["Ibis chart"]


def test_a_rebuild_in_several_segments_keeps_everything_and_its_spellings(app, giver, monkeypatch):
    """A bulk rebuild writes segments of bounded size and gathers spelling words per batch;
    search, "did you mean" (for a word only inside the files) and the doctor still agree."""
    monkeypatch.setattr(replica_module, "BATCH", 2)
    monkeypatch.setattr(replica_module, "COMMAND_SEGMENT_DOCS", 2)
    birds = ["Heron", "Egret", "Stork", "Crane", "Plover"]
    for bird in birds:
        share(giver, f"{bird} chart", f"wetland {bird.lower()} checklist")
    result = app.test_cli_runner().invoke(args=["reindex", "--procs", "1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert len(get_replica().searcher().reader().leaf_readers()) == 3
    assert found_titles(app, "wetland") == sorted(f"{bird} chart" for bird in birds)
    page = giver.client.get("/search", query_string={"q": "wetlnd"}).get_data(as_text=True)
    assert ">wetland</a>?" in page
    doctor = app.test_cli_runner().invoke(args=["doctor"])
    assert "index entries for resources that no longer exist: 0" in doctor.output
    assert "resources missing from the search index: 0" in doctor.output


def segment_sizes(app) -> dict[str, int]:
    """The index's segments by id, with how many documents each holds."""
    with app.app_context():
        leaves = get_replica().searcher().reader().leaf_readers()
        return {reader.segment().segment_id(): reader.doc_count_all() for reader, _ in leaves}


def test_live_commits_merge_only_their_own_small_segments(app, giver, monkeypatch):
    """Whoosh's default policy could merge a rebuild's large segments during one share,
    keeping it from being searchable for minutes at scale: live commits must not."""
    monkeypatch.setattr(replica_module, "BATCH", 2)
    monkeypatch.setattr(replica_module, "COMMAND_SEGMENT_DOCS", 2)
    for number in range(6):
        share(giver, f"Old chart {number}", "heron")
    assert app.test_cli_runner().invoke(args=["reindex", "--procs", "1"]).exit_code == 0
    # A rebuild's segments hold 2 resources and a vocabulary document each.
    rebuilt = {segment for segment, size in segment_sizes(app).items() if size == 3}
    assert len(rebuilt) == 3
    monkeypatch.setattr(replica_module, "LIVE_MERGE_DOCS", 3)
    monkeypatch.setattr(replica_module, "LIVE_MERGE_COUNT", 3)
    for number in range(6):
        share(giver, f"New chart {number}", "heron")
    now = set(segment_sizes(app))
    assert rebuilt <= now, "a rebuilt segment was merged by a live commit"
    assert len(now - rebuilt) < 6, "live commits' own small segments were never merged"
    assert len(found_titles(app, "heron")) == 12


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from exchange import create_app
    from exchange.search import replica as replica_module

    config = eval(sys.argv[1])
    real_write = replica_module._write_resource

    def write_then_die(writer, resource_id, resource):
        real_write(writer, resource_id, resource)
        os.kill(os.getpid(), signal.SIGKILL)  # half-way through applying, before commit

    replica_module._write_resource = write_then_die
    app = create_app(config)
    with app.app_context():
        replica_module.Replica(app.config["INDEX_DIR"]).catch_up(wait=10)
    """
)


def commit_without_indexing(app, title: str, text: str) -> None:
    """A change committed with its log entry, as if the process died before indexing it."""
    with app.app_context():
        owner = db.session.scalars(select(Member)).first()
        resource = Resource(
            owner_id=owner.id,
            title=title,
            synopsis="s",
            how_used="h",
            kind="quiz",
            audience="any",
            licence="cc-by-4.0",
            credit_name="",
        )
        resource.files.append(
            StoredFile(
                storage_key=f"files/{title}",
                original_name="t.txt",
                format="txt",
                content_type="text/plain",
                size=1,
                sha256="0" * 64,
                text=text,
            )
        )
        db.session.add(resource)
        db.session.flush()
        IndexChange.record(resource.id)
        db.session.commit()


def test_an_indexer_killed_half_way_loses_nothing(app, giver):
    share(giver, "Okapi chart", "okapi")
    commit_without_indexing(app, "Tapir chart", "okapi tapir")
    commit_without_indexing(app, "Zebu chart", "okapi zebu")
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, repr(base_config_of(app))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert found_titles(app, "okapi") == ["Okapi chart", "Tapir chart", "Zebu chart"]


def _share_and_search(config: dict, name: str, count: int, queue) -> None:
    """One process of the crowd: register, share ``count`` resources, search for each."""
    try:
        app = create_app(config)
        visitor = Visitor(app.test_client())
        visitor.register(email=f"{name}@example.org")
        misses = []
        for n in range(count):
            word = f"{name}word{n}"
            share(visitor, f"{name} sheet {n}", word)
            page = visitor.client.get("/search", query_string={"q": word}).get_data(as_text=True)
            if f"{name} sheet {n}" not in page:
                misses.append(word)
        queue.put((name, misses, ""))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        queue.put((name, [], repr(exc)))


@pytest.mark.slow
def test_several_processes_share_and_search_at_once(app):
    """Read-your-writes for every member, no LockError, and every share ends up indexed."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    config = base_config_of(app)
    names = ["ant", "bee", "cat"]
    workers = [
        context.Process(target=_share_and_search, args=(config, name, 4, queue)) for name in names
    ]
    for worker in workers:
        worker.start()
    reports = [queue.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    for name, misses, error in reports:
        assert error == "", f"{name}: {error}"
        assert misses == [], f"{name} did not find its own shares: {misses}"
    for name in names:
        assert len(found_titles(app, f"{name}word0 OR {name}word3")) == 2
    with app.app_context():
        position, head = get_replica().lag()
        # 12 shares, each logged twice (its files stored, then read).
        assert head == 24 and position == head
        assert db.session.scalar(select(db.func.count(IndexChange.id))) == 24
    assert os.path.isdir(app.config["INDEX_DIR"])
