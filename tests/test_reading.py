"""The share returns once the bytes are stored; a job reads the files (issue 20).

Most tests run jobs eagerly (tests/conftest.py): a share's files are read before its
request returns. These tests see the waiting itself, on the background thread of the
embedded default, held until the test lets it go: "Reading your files…" with each file's
progress, the status address the page's script asks, nobody else seeing the resource
meanwhile, the privacy hold after reading, and a job that fails, is tried again, runs
twice, or finds its resource deleted.
"""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import select

from exchange import jobs
from exchange.extensions import db
from exchange.models import Resource, StoredFile
from exchange.resources import operations, reading
from exchange.storage import get_storage

from .fixtures.exchange import make_admin, member_id, page, people, share_txt, status_of
from .fixtures.members import SHARE_DEFAULTS, Visitor

PERSONAL = "Client: Jo Bloggs, jo.bloggs@outlook.com, phone 020 7946 0958. Goals: retrain."


@pytest.fixture
def waiting_app(make_app):
    """The embedded default as a site runs it: jobs on this process's background thread."""
    return make_app(JOBS_EAGER=False)


@pytest.fixture
def held(waiting_app):
    """Keep the background thread busy until released: what is queued after waits."""
    release = threading.Event()
    jobs.job("test-hold-reading")(lambda: release.wait(30))
    with waiting_app.app_context():
        jobs.enqueue("test-hold-reading")
    yield release
    release.set()
    with waiting_app.app_context():
        assert jobs.wait(60), "jobs still running"


def stored_keys(app) -> list[str]:
    with app.app_context():
        return sorted(get_storage().iter_keys())


def test_while_its_files_are_read_only_the_giver_sees_the_resource(waiting_app, held):
    giver, other, admin = people(waiting_app, "Dale Briers", "Olu Other", "Ada Admin")
    make_admin(waiting_app, admin)
    response = giver.share(
        files=[("wombat.txt", b"Wombat budgeting worksheet"), ("notes.txt", b"Quokka notes")],
        title="Money sheet",
    )
    assert response.status_code == 302
    resource_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert status_of(waiting_app, resource_id) == Resource.PROCESSING

    shown = page(giver, f"/resources/{resource_id}")
    assert "Reading your files…" in shown and "0 of 2 files read." in shown
    assert 'wombat.txt</span>: <span class="reading-state">reading…' in shown
    assert 'notes.txt</span>: <span class="reading-state">waiting' in shown
    assert (
        f'href="/resources/{resource_id}" data-reading-refresh>Refresh</a>' in shown
        and "reading.js" in shown
    )
    status = giver.client.get(f"/resources/{resource_id}/reading.json").get_json()
    assert status["reading"] is True and status["problem"] == "" and status["done"] == 0
    assert [f["state"] for f in status["files"]] == ["reading", "waiting"]

    for viewer in (other, admin, Visitor(waiting_app.test_client())):
        assert viewer.client.get(f"/resources/{resource_id}").status_code == 404
        assert viewer.client.get(f"/resources/{resource_id}/reading.json").status_code == 404
        assert "Money sheet" not in page(viewer, "/search?q=wombat")
        assert "Money sheet" not in page(viewer, "/resources")
    assert "Money sheet" not in page(other, f"/members/{member_id(waiting_app, giver)}")

    held.set()
    with waiting_app.app_context():
        assert jobs.wait(60)
    assert status_of(waiting_app, resource_id) == Resource.PUBLISHED
    status = giver.client.get(f"/resources/{resource_id}/reading.json").get_json()
    assert status["reading"] is False and status["done"] == 2
    assert status["next"] == f"/resources/{resource_id}"
    assert "Reading your files" not in page(giver, f"/resources/{resource_id}")
    assert "Money sheet" in page(other, "/search?q=wombat")


def test_after_reading_a_file_that_looks_private_holds_it_for_review(waiting_app, held):
    [giver, other] = people(waiting_app, "Dale Briers", "Olu Other")
    resource_id = giver.share_id(files=[("intake.txt", PERSONAL.encode())], title="Intake")
    assert "Reading your files…" in page(giver, f"/resources/{resource_id}")
    held.set()
    with waiting_app.app_context():
        assert jobs.wait(60)
    assert status_of(waiting_app, resource_id) == Resource.DRAFT
    status = giver.client.get(f"/resources/{resource_id}/reading.json").get_json()
    assert status["reading"] is False and status["next"] == f"/resources/{resource_id}/review"
    assert "please check" in page(giver, f"/resources/{resource_id}/review").lower()
    assert other.client.get(f"/resources/{resource_id}").status_code == 404
    assert "Intake" not in page(other, "/search?q=retrain")


def test_a_job_that_fails_every_try_says_why_and_can_be_tried_again(app, monkeypatch):
    [giver] = people(app, "Dale Briers")
    real = operations.read_and_credit

    def broken(*args, **kwargs):
        raise RuntimeError("the store did not answer")

    monkeypatch.setattr(operations, "read_and_credit", broken)
    resource_id = share_txt(giver, "Values cards", "Values cards: pick five.")
    assert status_of(app, resource_id) == Resource.PROCESSING
    shown = page(giver, f"/resources/{resource_id}")
    assert (
        "We could not read “sheet-" in shown and "RuntimeError: the store did not answer" in shown
    )
    assert ">Try again</button>" in shown
    with app.app_context():
        [failed] = jobs.failed_jobs()
        assert failed.name == operations.READ_JOB
    assert giver.client.get(f"/resources/{resource_id}/reading.json").get_json()["problem"]

    monkeypatch.setattr(operations, "read_and_credit", real)
    response = giver.client.post(f"/resources/{resource_id}/read-again", follow_redirects=True)
    assert "We’re reading your files again." in response.get_data(as_text=True)
    assert status_of(app, resource_id) == Resource.PUBLISHED
    assert "Values cards" in page(giver, "/search?q=pick")


def test_a_job_run_twice_changes_nothing_and_one_for_a_deleted_resource_ends_quietly(
    waiting_app, held, caplog
):
    [giver] = people(waiting_app, "Dale Briers")
    gone = share_txt(giver, "Soon deleted")
    assert giver.client.post(f"/resources/{gone}/delete").status_code == 302
    held.set()
    with waiting_app.app_context():
        assert jobs.wait(60)
    assert stored_keys(waiting_app) == []

    kept = share_txt(giver, "Kept sheet")
    with waiting_app.app_context():
        assert jobs.wait(60)
        before = _files(kept)
        keys = stored_keys(waiting_app)
        jobs.enqueue(operations.READ_JOB, kept)
        jobs.enqueue(operations.READ_JOB, gone)
        assert jobs.wait(60)
        assert _files(kept) == before
    assert stored_keys(waiting_app) == keys and len(keys) == 2  # the file and its credited copy
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def _files(resource_id: int) -> list[tuple]:
    rows = db.session.scalars(select(StoredFile).where(StoredFile.resource_id == resource_id))
    return [(f.id, f.storage_key, f.credited_key, f.text, f.pending) for f in rows]


def test_an_edit_bringing_a_file_reads_it_before_anyone_sees_it_again(waiting_app):
    giver, other = people(waiting_app, "Dale Briers", "Olu Other")
    resource_id = share_txt(giver, "Money sheet", "Wombat budgeting worksheet")
    with waiting_app.app_context():
        assert jobs.wait(60)
    release = threading.Event()
    jobs.job("test-hold-edit")(lambda: release.wait(30))
    with waiting_app.app_context():
        jobs.enqueue("test-hold-edit")
    edit = f"/resources/{resource_id}/edit"
    assert giver.client.post(edit, data=_edit_data()).status_code == 302
    assert other.client.get(f"/resources/{resource_id}").status_code == 404
    refused = giver.client.post(edit, data=_edit_data())
    assert "still reading this resource’s files" in refused.get_data(as_text=True)
    release.set()
    with waiting_app.app_context():
        assert jobs.wait(60)
    assert status_of(waiting_app, resource_id) == Resource.PUBLISHED
    assert "Money sheet" in page(other, "/search?q=numbat")


def _edit_data() -> dict:
    data = {**SHARE_DEFAULTS, "title": "Money sheet"}
    data["files"] = [(io.BytesIO(b"Numbat savings plan"), "plan.txt")]
    return data


def test_progress_names_each_file_in_order(app):
    """The page's words for each state come from one place, the status address's too."""
    [giver] = people(app, "Dale Briers")
    resource_id = share_txt(giver, "Sheet")
    with app.app_context():
        resource = db.session.get(Resource, resource_id)
        progress = reading.progress(resource)
    assert not progress.reading and progress.done == 1
    assert [f.state for f in progress.files] == ["read"]


def test_doctor_reads_the_files_of_a_resource_whose_job_was_lost(app):
    """In-process, a job waiting when the process stopped is lost: the doctor runs it."""
    from exchange.ops import doctor

    [giver] = people(app, "Dale Briers")
    resource_id = share_txt(giver, "Lost sheet", "Bilby budgeting worksheet")
    with app.app_context():
        resource = db.session.get(Resource, resource_id)
        resource.status, resource.files[0].pending = Resource.PROCESSING, True
        db.session.commit()
        assert doctor.examine(checksums=False).waiting_reads == [resource_id]
        report = doctor.run(repair=True, checksums=False)
        assert f"read the files of resource {resource_id}" in report.repaired
        assert report.waiting_reads == []
    assert status_of(app, resource_id) == Resource.PUBLISHED
