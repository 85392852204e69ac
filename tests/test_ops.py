"""Operations: readiness checks, Prometheus metrics, JSON logs, proxies, benchmark baselines."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import re
import time
import urllib.request
import uuid

import pytest
from sqlalchemy import select

from exchange.config import ConfigError
from exchange.extensions import db
from exchange.models import Download, IndexChange, Member, Resource
from tests.fixtures.members import PASSWORD, Visitor, docx_bytes

CSV = b"Employer,Role,Applied on\nAcme,Clerk,2026-01-04\n"


BENCH_PATHS = ("/bench/hello", "/bench/template", "/bench/download/1/1", "/bench/search?q=cv")


def registered(app) -> Visitor:
    """A member signed in through this app's own pages."""
    visitor = Visitor(app.test_client())
    assert visitor.register().status_code == 302
    return visitor


def metric_value(text: str, name: str, **labels: str) -> float:
    """One sample's value from a Prometheus text page (0 when the series is absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}(?:\{{([^}}]*)\}})? (\S+)$"
    for match in re.finditer(pattern, text, re.MULTILINE):
        found = ",".join(sorted((match.group(1) or "").split(","))) if match.group(1) else ""
        if found == wanted:
            return float(match.group(2))
    return 0.0


# -- readiness ------------------------------------------------------------------------------


def test_readyz_reports_every_store_ready_after_a_share(make_app):
    from exchange import jobs

    app = make_app(JOBS_EAGER=False)  # the runner a site without Redis has
    registered(app).share_id()
    with app.app_context():
        assert jobs.wait(60)  # the share's files read
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "storage": True,
        "index": True,
        "queue": True,
    }
    assert body["checks"]["queue"] == {
        "ok": True,
        "runner": "in-process",
        "depth": 0,
        "oldest_age_s": 0.0,
    }
    assert body["checks"]["index"]["lag"] == 0
    assert body["checks"]["index"]["head"] >= 1


def test_readyz_names_a_storage_folder_that_cannot_be_used(make_app, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the storage folder should be")
    app = make_app(STORAGE_URL=(blocker / "files").as_uri())
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["storage"] == {"ok": False, "error": "StorageError"}
    assert checks["database"]["ok"] is True


def test_readyz_names_an_unreachable_database_quickly(tmp_path):
    from exchange import create_app
    from tests.conftest import base_config

    config = base_config(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:9/nowhere")
    app = create_app(config)
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"]["ok"] is False
    assert checks["storage"]["ok"] is True


def test_readyz_gives_up_on_a_hung_s3_store_within_its_deadline(make_app, seaweedfs, monkeypatch):
    for name, value in seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    app = make_app(STORAGE_URL=f"s3://{seaweedfs.bucket}/ready", READY_TIMEOUT_S=1.0)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    seaweedfs.freeze()
    try:
        started = time.monotonic()
        response = client.get("/readyz")
        waited = time.monotonic() - started
    finally:
        seaweedfs.thaw()
    assert response.status_code == 503
    assert response.get_json()["checks"]["storage"] == {"ok": False, "error": "no answer in time"}
    assert waited < 2.5


def test_readyz_fails_while_the_index_is_too_far_behind_and_recovers(make_app):
    app = make_app(READY_MAX_INDEX_LAG=0)
    resource_id = registered(app).share_id()
    replica = app.extensions["exchange.search"]
    with open(replica.lock_path, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process is busy writing this index
        with app.app_context():
            IndexChange.record(resource_id)  # a change made on another node
            db.session.commit()
        response = app.test_client().get("/readyz")
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert response.status_code == 503
    assert response.get_json()["checks"]["index"]["error"].startswith("1 changes behind")
    recovered = app.test_client().get("/readyz")
    assert recovered.status_code == 200
    assert recovered.get_json()["checks"]["index"]["lag"] == 0


def test_healthz_stays_a_cheap_liveness_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


# -- metrics --------------------------------------------------------------------------------


def test_metrics_and_bench_pages_are_not_exposed_by_default(client):
    for path in ("/metrics", *BENCH_PATHS):
        assert client.get(path).status_code == 404, path


def test_metrics_count_shares_downloads_and_time_pages(make_app):
    app = make_app(METRICS=True)
    client = app.test_client()
    before = client.get("/metrics").get_data(as_text=True)

    resource_id = registered(app).share_id()
    taker = registered(app)
    taker.share_id(title="Networking map")  # a member who shares takes without limits
    page = taker.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    file_url = re.search(rf'href="(/resources/{resource_id}/files/\d+)"', page).group(1)
    download = taker.client.get(file_url)
    assert download.headers["Content-Disposition"].startswith("attachment")

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    after = response.get_data(as_text=True)
    shares = metric_value(after, "exchange_shares_total") - metric_value(
        before, "exchange_shares_total"
    )
    assert shares == 2
    downloads = "exchange_downloads_total"
    assert metric_value(after, downloads) - metric_value(before, downloads) == 1
    shown = {"endpoint": "resources.show", "method": "GET"}
    series = "exchange_request_duration_seconds_count"
    assert metric_value(after, series, **shown) - metric_value(before, series, **shown) == 1
    # Shares are indexed before their request ends (their files read right after, as the
    # tests run jobs): two log entries each, stored then read. Downloads never touch it.
    assert metric_value(after, "exchange_index_lag") == 0
    assert metric_value(after, "exchange_change_log_head") == 4
    assert metric_value(after, "exchange_queue_depth") == 0
    assert "exchange_queue_oldest_age_seconds 0.0" in after
    assert "exchange_failed_jobs 0.0" in after
    caught_up = after
    assert metric_value(caught_up, "exchange_index_position") == metric_value(
        caught_up, "exchange_change_log_head"
    )


def test_metrics_do_not_count_a_refused_share(make_app):
    app = make_app(METRICS=True)
    member = registered(app)
    client = app.test_client()
    before = metric_value(client.get("/metrics").get_data(as_text=True), "exchange_shares_total")
    response = member.share(files=[("notes.exe", b"MZ\x90\x00 not a document")])
    assert response.status_code == 422
    after = metric_value(client.get("/metrics").get_data(as_text=True), "exchange_shares_total")
    assert after == before


# -- logs -----------------------------------------------------------------------------------


@pytest.fixture
def log_lines():
    """Everything the ``exchange`` logger writes during the test, one string per line."""
    stream = io.StringIO()
    handlers = [h for h in logging.getLogger("exchange").handlers if getattr(h, "_exchange", 0)]
    previous = [handler.setStream(stream) for handler in handlers]
    yield lambda: stream.getvalue().splitlines()
    for handler, old in zip(handlers, previous, strict=True):
        handler.setStream(old)


def test_json_logs_carry_the_request_id_the_proxy_sent(make_app, log_lines):
    visitor = Visitor(make_app(LOG_FORMAT="json").test_client())
    visitor.client.environ_base["HTTP_X_REQUEST_ID"] = "support-ticket-0042"
    response = visitor.register()
    assert response.headers["X-Request-ID"] == "support-ticket-0042"
    entries = [json.loads(line) for line in log_lines()]
    registered = [e for e in entries if "registered" in e["message"]]
    assert len(registered) == 1
    assert registered[0]["request_id"] == "support-ticket-0042"
    assert registered[0]["level"] == "INFO"
    assert registered[0]["logger"] == "exchange.accounts.members"


def test_json_logs_make_a_request_id_when_none_is_sent(make_app, log_lines):
    visitor = Visitor(make_app(LOG_FORMAT="json").test_client())
    visitor.client.environ_base["HTTP_X_REQUEST_ID"] = "bad id with spaces"
    response = visitor.client.post(
        "/register", data={"name": "Kim", "email": "kim@example.org", "password": PASSWORD}
    )
    made = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    entries = [json.loads(line) for line in log_lines()]
    assert [e["request_id"] for e in entries if "registered" in e["message"]] == [made]


# -- proxies --------------------------------------------------------------------------------

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def test_forwarded_headers_are_ignored_unless_a_proxy_is_configured(client):
    response = client.get("/healthz", headers=FORWARDED)
    assert "Strict-Transport-Security" not in response.headers


def test_forwarded_headers_are_honoured_behind_a_configured_proxy(make_app):
    app = make_app(PROXY_FIX=1, SITE_URL="https://toolkit.example.org")
    seen = {}

    @app.get("/test-remote")
    def remote():
        from flask import request

        seen.update(addr=request.remote_addr, scheme=request.scheme, host=request.host)
        return "ok"

    headers = {**FORWARDED, "X-Forwarded-Host": "toolkit.example.org"}
    response = app.test_client().get("/test-remote", headers=headers)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert seen == {"addr": "203.0.113.9", "scheme": "https", "host": "toolkit.example.org"}


@pytest.mark.parametrize(
    "setting",
    [{"PROXY_FIX": -1}, {"PROXY_FIX": "yes"}, {"METRICS": "maybe"}, {"READY_TIMEOUT_S": 0}],
)
def test_operations_settings_are_checked_at_start(make_app, setting):
    with pytest.raises(ConfigError, match="EXCHANGE_" + next(iter(setting))):
        make_app(**setting)


# -- benchmark baselines --------------------------------------------------------------------


def test_bench_endpoints_answer_when_switched_on(make_app):
    client = make_app(BENCH_ENDPOINTS=True).test_client()
    hello = client.get("/bench/hello")
    assert hello.status_code == 200
    assert hello.get_data(as_text=True) == "Hello, world!\n"
    page = client.get("/bench/template")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "A page with the site's layout" in html
    assert 'role="search"' in html  # the real layout, header search included


def test_every_bench_endpoint_answers_only_when_switched_on(make_app):
    visitor = registered(make_app())
    resource_id = visitor.share_id()
    with visitor.client.application.app_context():
        file_id = db.session.get(Resource, resource_id).files[0].id
    for path in (*BENCH_PATHS, f"/bench/download/{resource_id}/{file_id}"):
        assert visitor.client.get(path).status_code == 404, path


def bench_s3_app(make_app, seaweedfs, monkeypatch):
    """An app with the bench endpoints on, its files in a real S3 store (SeaweedFS)."""
    for name, value in seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    return make_app(BENCH_ENDPOINTS=True, STORAGE_URL=f"s3://{seaweedfs.bucket}/{prefix}")


def ledger(app) -> list[tuple[int, int, int | None]]:
    with app.app_context():
        rows = db.session.execute(
            select(Download.member_id, Download.resource_id, Download.file_id).order_by(Download.id)
        )
        return [tuple(row) for row in rows]


def lean_download_of(app, giver: Visitor) -> tuple[int, str]:
    resource_id = giver.share_id(files=[("tracker.csv", CSV)])
    with app.app_context():
        file_id = db.session.get(Resource, resource_id).files[0].id
    return resource_id, f"/bench/download/{resource_id}/{file_id}"


def test_lean_download_records_then_redirects_to_a_presigned_url(make_app, seaweedfs, monkeypatch):
    app = bench_s3_app(make_app, seaweedfs, monkeypatch)
    giver, taker = registered(app), registered(app)
    resource_id, path = lean_download_of(app, giver)
    response = taker.client.get(path)
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        taker_id = db.session.scalar(select(Member.id).where(Member.email == taker.email))
        counted = db.session.get(Resource, resource_id).download_count
    assert ledger(app) == [(taker_id, resource_id, int(path.rsplit("/", 1)[1]))]
    assert counted == 1  # the taker is counted, as by the real download
    location = response.headers["Location"]
    assert location.startswith(seaweedfs.env()["AWS_ENDPOINT_URL"])
    assert "X-Amz-Signature=" in location
    with urllib.request.urlopen(location, timeout=10) as remote:
        assert remote.read() == CSV
        assert "shared by" in remote.headers["Content-Disposition"]


def test_lean_download_refuses_a_hidden_resource_and_records_nothing(
    make_app, seaweedfs, monkeypatch
):
    app = bench_s3_app(make_app, seaweedfs, monkeypatch)
    giver, taker = registered(app), registered(app)
    resource_id, path = lean_download_of(app, giver)
    with app.app_context():
        db.session.get(Resource, resource_id).status = Resource.HIDDEN
        db.session.commit()
    assert taker.client.get(path).status_code == 404
    assert ledger(app) == []
    assert giver.client.get(path).status_code == 302  # its owner still may
    assert len(ledger(app)) == 1
    signed_out = app.test_client().get(path)
    assert "/login" in signed_out.headers["Location"]
    assert len(ledger(app)) == 1


def result_ids(page: str) -> list[str]:
    return re.findall(r'<h3 class="card-title"><a href="/resources/(\d+)">', page)


def test_lean_search_shows_the_same_hits_and_page_as_the_search_page(make_app):
    app = make_app(BENCH_ENDPOINTS=True)
    giver = registered(app)
    for title in ("Interview practice cards", "Budget planner", "Mock interview checklist"):
        giver.share_id(title=title, files=[("sheet.docx", docx_bytes(f"{title} worksheet"))])
    hidden = giver.share_id(title="Interview notes to hide")
    with app.app_context():
        db.session.get(Resource, hidden).status = Resource.HIDDEN
        db.session.commit()
    viewer = registered(app)
    viewer.client.get("/")  # where the welcome message is shown, once
    real = viewer.client.get("/search?q=interview").get_data(as_text=True)
    lean = viewer.client.get("/bench/search?q=interview")
    assert lean.status_code == 200
    assert len(result_ids(real)) == 2
    assert "<mark>" in real
    assert result_ids(lean.get_data(as_text=True)) == result_ids(real)
    # The same page, facets and snippets included; CSRF tokens carry the second they were
    # signed in, so two pages a moment apart differ only there.
    assert "TOKEN" in without_csrf_tokens(real)
    # Each page names its own address (its hreflang alternates and language links).
    lean_page = lean.get_data(as_text=True).replace("/bench/search", "/search")
    assert without_csrf_tokens(lean_page) == without_csrf_tokens(real)


def without_csrf_tokens(page: str) -> str:
    """Every signed token (payload.timestamp.signature) in ``page`` made alike."""
    return re.sub(r"[\w-]{10,}\.[\w-]{6}\.[\w-]{20,}", "TOKEN", page)
