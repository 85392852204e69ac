"""Faults in the real stores: nothing lost, a clear message, and recovery proven.

The S3 server here is the real SeaweedFS, stopped, frozen and restarted — never a mock.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from whoosh.writing import SegmentWriter

from exchange.extensions import db
from exchange.models import Resource, StoredFile
from exchange.ops import doctor
from exchange.storage import get_storage

from .fixtures.corpus import corpus_file
from .fixtures.members import Visitor, docx_bytes


def rows(app, model=Resource) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def objects(app) -> list[str]:
    with app.app_context():
        return list(get_storage().iter_keys())


def search_titles(client, words: str) -> list[str]:
    page = client.get("/search", query_string={"q": words}).get_data(as_text=True)
    found = re.findall(r'<h3 class="card-title"><a href="/resources/\d+">(.*?)</a>', page)
    return [re.sub(r"</?mark>", "", title) for title in found]


@pytest.fixture
def s3_app(make_app, seaweedfs, monkeypatch):
    """An app on the real S3 server with short timeouts; the server is running again after."""
    for name, value in seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    app = make_app(
        STORAGE_URL=f"s3://{seaweedfs.bucket}/faults-{uuid.uuid4().hex[:10]}",
        S3_CONNECT_TIMEOUT_S=1,
        S3_READ_TIMEOUT_S=2,
        DOCTOR_ORPHAN_GRACE_S=0,
    )
    yield app
    seaweedfs.thaw()
    if not seaweedfs.running:
        seaweedfs.start()


@pytest.fixture
def sharer(s3_app) -> Visitor:
    visitor = Visitor(s3_app.test_client())
    visitor.register()
    return visitor


def share(visitor: Visitor, word: str):
    return visitor.share(title=f"{word} sheet", files=[("s.docx", docx_bytes(word))])


# What the file store does decides these, not the database: one database is enough.
S3_FAULTS_ON_ONE_DATABASE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.slow
@S3_FAULTS_ON_ONE_DATABASE
def test_s3_refusing_a_put_stores_nothing_and_says_so(s3_app, sharer, seaweedfs):
    seaweedfs.stop()
    response = share(sharer, "gannet")
    assert response.status_code == 503
    assert "We can’t reach our file store right now" in response.get_data(as_text=True)
    assert rows(s3_app) == 0
    seaweedfs.start()
    assert share(sharer, "gannet").status_code == 302
    assert "gannet sheet" in search_titles(sharer.client, "gannet")
    assert rows(s3_app) == 1


@pytest.mark.slow
@S3_FAULTS_ON_ONE_DATABASE
def test_a_hung_s3_fails_in_bounded_time(s3_app, sharer, seaweedfs):
    seaweedfs.freeze()
    started = time.monotonic()
    response = share(sharer, "heron")
    elapsed = time.monotonic() - started
    seaweedfs.thaw()
    assert response.status_code == 503
    assert elapsed < 20, f"the request hung for {elapsed:.1f} s"
    assert rows(s3_app) == 0


@pytest.mark.slow
@S3_FAULTS_ON_ONE_DATABASE
def test_a_failed_s3_delete_leaves_an_orphan_that_doctor_removes(s3_app, sharer, seaweedfs):
    resource_id = sharer.share_id(title="Puffin sheet", files=[("p.docx", docx_bytes("puffin"))])
    keys = objects(s3_app)
    assert keys
    seaweedfs.stop()
    response = sharer.client.post(f"/resources/{resource_id}/delete")
    assert response.status_code == 302, "the member's delete succeeds"
    assert rows(s3_app) == 0
    assert "Puffin sheet" not in search_titles(sharer.client, "puffin")
    seaweedfs.start()
    with s3_app.app_context():
        report = doctor.run(repair=True, checksums=True)
    assert sorted(item.removeprefix("deleted orphaned object ") for item in report.repaired) == (
        sorted(keys)
    )
    assert report.healthy
    assert objects(s3_app) == []


def test_a_database_failure_after_the_put_discards_the_stored_bytes(store_app):
    sharer = Visitor(store_app.test_client())
    sharer.register()
    store_app.config["PROPAGATE_EXCEPTIONS"] = False

    def fail(session):
        raise OperationalError("COMMIT", {}, Exception("database went away"))

    with store_app.app_context():
        event.listen(db.session, "before_commit", fail)
        try:
            response = share(sharer, "ibis")
        finally:
            event.remove(db.session, "before_commit", fail)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    assert rows(store_app) == 0
    assert objects(store_app) == [], "bytes stored before the failed commit are deleted"
    assert share(sharer, "ibis").status_code == 302


def test_an_index_failure_after_commit_keeps_the_share_and_recovers(app, monkeypatch):
    sharer = Visitor(app.test_client())
    sharer.register()
    share(sharer, "jacana")  # the index exists and works

    def disk_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as fault:
        fault.setattr(SegmentWriter, "commit", disk_full)
        response = share(sharer, "kestrel")
        assert response.status_code == 302, "the share itself succeeds"
        assert rows(app) == 2
        assert search_titles(sharer.client, "jacana") == ["jacana sheet"], "search still works"
        assert search_titles(sharer.client, "kestrel") == []
        # Both of kestrel's log entries (its files stored, then read) wait for the index.
        assert app.test_client().get("/healthz").get_json()["index"]["lag"] == 2
    assert search_titles(sharer.client, "kestrel") == ["kestrel sheet"]
    assert app.test_client().get("/healthz").get_json()["index"]["lag"] == 0


KILL_BETWEEN_STEPS = textwrap.dedent(
    """
    import io, os, signal, sys
    from exchange import create_app
    from exchange.resources import operations
    from exchange.extensions import db
    from exchange.models import IndexChange, Member
    from tests.fixtures.members import docx_bytes

    def die(resource_id):  # bytes are stored; the transaction has not committed
        os.kill(os.getpid(), signal.SIGKILL)

    IndexChange.record = staticmethod(die)
    app = create_app(eval(sys.argv[1]))
    with app.app_context():
        owner = db.session.query(Member).first()
        details = operations.ResourceDetails(
            title="Lost sheet", synopsis="s", how_used="h", tags=[], kind="quiz",
            audience="any", licence="cc-by-4.0", access="everyone", credit_name="Me",
        )
        upload = operations.Upload(io.BytesIO(docx_bytes("lost")), "lost.docx")
        operations.share_resource(owner, details, [upload])
    """
)


def test_a_worker_killed_between_storage_and_commit_leaves_no_half_shared_resource(make_app):
    app = make_app(DOCTOR_ORPHAN_GRACE_S=0)
    Visitor(app.test_client()).register()
    config = {
        k: app.config[k]
        for k in (
            "ENV",
            "SECRET_KEY",
            "INSTANCE_DIR",
            "DATABASE_URL",
            "STORAGE_URL",
            "INDEX_DIR",
            "FAST_PASSWORDS",
        )
    }
    killed = subprocess.run(
        [sys.executable, "-c", KILL_BETWEEN_STEPS, repr(config)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert rows(app) == 0 and rows(app, StoredFile) == 0
    orphans = objects(app)
    assert orphans, "the bytes reached storage before the process died"
    with app.app_context():
        report = doctor.run(repair=True, checksums=True)
    assert report.healthy
    assert objects(app) == []
    assert app.test_cli_runner().invoke(args=["doctor"]).exit_code == 0


def test_a_hanging_parser_does_not_hold_up_the_share(make_app):
    app = make_app(EXTRACT_TIMEOUT_S=0.5)
    sharer = Visitor(app.test_client())
    sharer.register()
    big = corpus_file("career/onet/Skills.xlsx").read_bytes()
    started = time.monotonic()
    resource_id = sharer.share_id(files=[("skills.xlsx", big)])
    assert time.monotonic() - started < 15
    page = sharer.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    assert "Contents not searchable: reading it took too long." in page


@pytest.mark.slow
def test_a_presigned_link_stops_working_after_it_expires(make_app, seaweedfs, monkeypatch):
    for name, value in seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    app = make_app(
        STORAGE_URL=f"s3://{seaweedfs.bucket}/expiry-{uuid.uuid4().hex[:10]}", PRESIGN_SECONDS=1
    )
    sharer = Visitor(app.test_client())
    sharer.register()
    resource_id = sharer.share_id(files=[("notes.txt", b"plain notes")])
    with app.app_context():
        file_id = db.session.get(Resource, resource_id).files[0].id
    location = sharer.client.get(f"/resources/{resource_id}/files/{file_id}").headers["Location"]
    time.sleep(2.5)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(location, timeout=10)
    assert refused.value.code == 403


def test_doctor_reports_missing_and_damaged_bytes_it_cannot_fix(app):
    sharer = Visitor(app.test_client())
    sharer.register()
    first = sharer.share_id(files=[("a.txt", b"first file")])
    second = sharer.share_id(files=[("b.txt", b"second file")])
    with app.app_context():
        storage = get_storage()
        missing = db.session.get(Resource, first).files[0].storage_key
        damaged = db.session.get(Resource, second).files[0].storage_key
        storage.delete(missing)
        storage.put(damaged, __import__("io").BytesIO(b"tampered"), content_type="text/plain")
    result = app.test_cli_runner().invoke(args=["doctor", "--repair"])
    assert result.exit_code == 1
    assert "objects the database refers to that are missing: 1" in result.output
    assert "objects whose bytes no longer match their checksum: 1" in result.output
    assert f"NOT repaired: missing object {missing}" in result.output
    assert f"NOT repaired: damaged object {damaged}" in result.output


def test_doctor_rebuilds_missing_index_entries(app):
    sharer = Visitor(app.test_client())
    sharer.register()
    sharer.share_id(title="Lapwing sheet", files=[("l.docx", docx_bytes("lapwing"))])
    with app.app_context():
        from exchange.search import get_replica

        index = get_replica()._open_index()
        writer = index.writer()
        writer.delete_by_term("id", "1")
        writer.commit()
    assert "Lapwing sheet" not in search_titles(sharer.client, "lapwing")
    result = app.test_cli_runner().invoke(args=["doctor", "--repair"])
    assert "resources missing from the search index: 0" in result.output
    assert "repaired: re-indexed resource 1" in result.output
    assert result.exit_code == 0
    assert "Lapwing sheet" in search_titles(sharer.client, "lapwing")


def test_doctor_draws_the_previews_whose_jobs_were_lost(app):
    """A restart loses the jobs queued in the stopped process: the file would say "Preview
    being made…" for good. ``doctor --repair`` runs them again."""
    sharer = Visitor(app.test_client())
    sharer.register()
    resource_id = sharer.share_id(title="Lost job", files=[("l.docx", docx_bytes("lapwing"))])
    with app.app_context():
        row = db.session.get(Resource, resource_id).files[0]
        row.preview_pending, row.preview_key, row.preview_note = True, None, ""
        db.session.commit()
    assert "Preview being made" in sharer.client.get(f"/resources/{resource_id}").text
    checked = app.test_cli_runner().invoke(args=["doctor"])
    assert "files waiting for a picture of their first page: 1" in checked.output
    repaired = app.test_cli_runner().invoke(args=["doctor", "--repair"])
    assert "repaired: drew the preview of file 1" in repaired.output
    assert "files waiting for a picture of their first page: 0" in repaired.output
    page = sharer.client.get(f"/resources/{resource_id}").text
    assert "Preview being made" not in page
    assert "First page of l.docx" in page or "No picture of this file’s first page" in page
