"""Jobs on a real queue: the dead-letter list and its admin page, and the fault tests on
Redis with real `exchange worker` processes (a worker killed mid-job, a job whose resource
was deleted meanwhile, a job run twice).

The Redis tests use the machine's Redis at 127.0.0.1:6379 under a queue name of their own,
so parallel runs never meet; they fail (rather than skip) when Redis is not there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import select

from exchange import jobs, notify
from exchange.extensions import db
from exchange.models import Member, OutboxEmail, Resource, StoredFile
from exchange.resources.operations import PREVIEW_JOB
from exchange.search import get_replica
from exchange.storage import get_storage

from . import fixtures
from .conftest import base_config
from .fixtures import queue_worker  # noqa: F401 - declares the worker's test job here too
from .fixtures.exchange import make_admin, page, share_txt, status_of
from .fixtures.members import Visitor
from .fixtures.scans import image_only_pdf, page_picture

REDIS_URL = os.environ.get("EXCHANGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(fixtures.__file__).resolve().parent.parent.parent


def registered(app, name: str) -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.register(name=name)
    return visitor


# -- the dead-letter list (in-process runner) -------------------------------------------


@jobs.job("always-fails")
def always_fails(label: str) -> None:
    raise ValueError(f"cannot do {label}")


@jobs.job("remember")
def remember(path: str) -> None:
    with open(path, "a") as fh:
        fh.write("ran\n")


def test_a_failed_job_is_listed_for_admins_who_retry_or_discard_it(app, tmp_path):
    admin, member = registered(app, "Ada Admin"), registered(app, "Mo Member")
    make_admin(app, admin)
    with app.app_context():
        jobs.enqueue("always-fails", "the preview")
        jobs.enqueue("remember", str(tmp_path / "ran"))
        assert jobs.wait(30)
        [failed] = jobs.failed_jobs()
        assert (failed.name, failed.tries) == ("always-fails", 1)
        assert failed.error == "ValueError: cannot do the preview"
        failed.name = "remember"  # the same dead letter, now a job that succeeds
        failed.args = json.dumps([str(tmp_path / "ran")])
        db.session.commit()
        failed_id = failed.id
    listed = page(admin, "/admin/jobs")
    assert "ValueError: cannot do the preview" in listed and "remember" in listed
    assert member.client.get("/admin/jobs").status_code == 403
    assert member.client.post(f"/admin/jobs/{failed_id}/retry").status_code == 403
    retried = admin.client.post(f"/admin/jobs/{failed_id}/retry", follow_redirects=True)
    assert "The job is queued again." in retried.get_data(as_text=True)
    assert jobs.wait(30)
    assert (tmp_path / "ran").read_text() == "ran\nran\n"
    with app.app_context():
        jobs.enqueue("always-fails", "the export")
        assert jobs.wait(30)
        [failed] = jobs.failed_jobs()
    gone = admin.client.post(f"/admin/jobs/{failed.id}/discard", follow_redirects=True)
    assert "No failed jobs." in gone.get_data(as_text=True)
    again = admin.client.post(f"/admin/jobs/{failed.id}/discard", follow_redirects=True)
    assert "no longer on the list" in again.get_data(as_text=True)


def test_the_queue_setting_is_checked_at_start(make_app):
    from exchange.config import ConfigError

    with pytest.raises(ConfigError, match="EXCHANGE_QUEUE_URL must be a Redis address"):
        make_app(QUEUE_URL="http://127.0.0.1:6379")
    with pytest.raises(ConfigError, match="EXCHANGE_QUEUE_RETRIES"):
        make_app(QUEUE_RETRIES="soon")


# -- on Redis, with real workers --------------------------------------------------------


@pytest.fixture
def queue_config(tmp_path, database_url) -> dict:
    """The test's settings with a Redis queue of its own; removed from Redis afterwards."""
    name = f"exchange-test-{uuid.uuid4().hex[:12]}"
    yield {
        **base_config(tmp_path, database_url),
        "QUEUE_URL": REDIS_URL,
        "QUEUE_NAME": name,
        "QUEUE_RETRIES": "0,0",  # two retries, at once
        "QUEUE_HEARTBEAT_S": 1,  # a silent worker's job is abandoned after 3 s
        "QUEUE_MAINTENANCE_S": 1,
        "JOB_TIMEOUT_S": 30,
        "EMAIL_JOBS": True,
    }
    redis = Redis.from_url(REDIS_URL)
    for key in redis.scan_iter(f"rq:*{name}*"):
        redis.delete(key)


@pytest.fixture
def queue_app(make_app, queue_config):
    return make_app(**queue_config)


@pytest.fixture
def start_worker(queue_config):
    """Start `exchange worker` processes (each in a session of its own, to kill whole)."""
    started: list[subprocess.Popen] = []

    def start(*extra: str) -> subprocess.Popen:
        command = [sys.executable, "-m", "tests.fixtures.queue_worker", json.dumps(queue_config)]
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, *extra], cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(10)


def eventually(check, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_worker_killed_mid_job_leaves_the_job_to_another_worker(
    queue_app, start_worker, tmp_path
):
    folder = tmp_path / "job"
    folder.mkdir()
    with queue_app.app_context():
        jobs.enqueue("hold-then-write", str(folder))
        first = start_worker()
        eventually(lambda: (folder / "started").exists())
        child = int((folder / "started").read_text())
        os.killpg(first.pid, signal.SIGKILL)  # the worker, then the child running the job
        os.kill(child, signal.SIGKILL)
        first.wait(5)
        (folder / "release").touch()
        start_worker()
        eventually(lambda: (folder / "done").exists())
        assert jobs.wait(10)
        finished_by = (folder / "done").read_text().split()
        assert len(finished_by) == 1 and int(finished_by[0]) != child
        assert jobs.failed_jobs() == []
        assert jobs.stats().depth == 0


@pytest.mark.slow
def test_on_the_queue_a_job_for_a_deleted_resource_ends_quietly_and_a_repeat_changes_nothing(
    queue_app, start_worker, caplog
):
    giver = registered(queue_app, "Gil Giver")
    resource_id = share_txt(giver, "Values cards")
    taker = registered(queue_app, "Tam Taker")
    with queue_app.app_context():
        assert jobs.stats().depth == 1  # the share's read job: its resource goes first
        [file_id] = db.session.scalars(
            select(StoredFile.id).where(StoredFile.resource_id == resource_id)
        )
        member = db.session.scalars(select(Member).where(Member.email == taker.email)).one()
        notify.notify(member, "thanks:1", "thanks", "Gil thanked you.", "/resources/1")
        db.session.commit()  # the email's job is queued now, after this commit
        jobs.enqueue(notify.SEND_EMAIL_JOB, "email:thanks:1")  # and the same job once more
        assert jobs.stats().depth == 3
    assert giver.client.post(f"/resources/{resource_id}/delete").status_code in (302, 303)
    with queue_app.app_context():
        jobs.enqueue(PREVIEW_JOB, file_id)
    start_worker("--burst").wait(30)
    with queue_app.app_context():
        assert jobs.wait(5)
        email = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.key == "email:thanks:1")
        ).one()
        assert (email.status, email.attempts) == (OutboxEmail.SENT, 1)
        assert jobs.failed_jobs() == []


@pytest.mark.slow
def test_a_worker_publishes_a_share_and_the_site_finds_it_though_the_worker_kept_no_index(
    queue_app, start_worker
):
    """Workers answer no searches, so they leave the index to the web process, which
    catches up from the change log when the giver next searches."""
    giver = registered(queue_app, "Wren Worker")
    resource_id = share_txt(giver, "Quokka values cards")
    with queue_app.app_context():
        before = get_replica().position()
    start_worker("--burst").wait(30)
    assert status_of(queue_app, resource_id) == Resource.PUBLISHED
    with queue_app.app_context():
        get_replica().forget_searchers()
        assert get_replica().position() == before  # nothing written by the worker
    assert ">Quokka values cards</a>" in page(giver, "/search?q=strengths")


# -- a share's files read by workers that die mid-way ------------------------------------

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.slow
@sqlite_only
@pytest.mark.parametrize("step", ["ocr", "credit"])
def test_a_worker_killed_while_reading_a_scan_leaves_it_to_another_once(
    make_app, queue_config, start_worker, tmp_path, step
):
    """SIGKILL during OCR, and during crediting (its copy stored, not yet recorded): the
    next worker reads the file, the resource ends published and found once, and the store
    holds exactly the objects its row names (the copy is written over, never beside)."""
    queue_config["OCR"] = True
    app = make_app(**queue_config)
    giver = registered(app, "Dale Briers")
    scan = image_only_pdf(page_picture("Wombat budgeting worksheet", size=(1400, 320)))
    resource_id = giver.share_id(title="Money sheet", files=[("scan.pdf", scan)])
    assert status_of(app, resource_id) == Resource.PROCESSING
    first = start_worker("--hold-at", step, str(tmp_path))
    eventually(lambda: (tmp_path / "started").exists(), timeout_s=60)
    child = int((tmp_path / "started").read_text())
    os.killpg(first.pid, signal.SIGKILL)
    _kill_if_alive(child)
    first.wait(5)
    start_worker()
    eventually(lambda: status_of(app, resource_id) == Resource.PUBLISHED, timeout_s=90)
    # This process's index catches up from the change log the worker wrote to.
    eventually(lambda: ">Money sheet</a>" in page(giver, "/search?q=wombat"), timeout_s=30)
    results = page(giver, "/search?q=wombat")
    assert results.count(">Money sheet</a>") == 1 and "1 result" in results
    with app.app_context():
        [row] = db.session.scalars(select(StoredFile))
        assert row.text_source == StoredFile.FROM_SCANS and not row.pending
        named = {row.storage_key, row.credited_key, row.preview_key} - {None}
        assert row.credited_key and sorted(get_storage().iter_keys()) == sorted(named)
        assert jobs.failed_jobs() == []


def _kill_if_alive(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
