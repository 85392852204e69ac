"""Load benchmark of the production-like stack, on loopback only, bounded in time.

``make bench-load`` (or ``python infra/bench/load.py``) starts a stack of its own (one
gunicorn node, 4 workers, PostgreSQL, SeaweedFS, Redis; see ``infra/stack.py``), seeds it
with a few thousand realistic resources (``infra/bench/corpus.py``), then measures one
kind of request at a time with Locust (headless, as a library, in a separate process):

- ``hello``: ``/bench/hello``, the smallest response the same gunicorn can give;
- ``template``: ``/bench/template``, the site's layout from a cached template, signed in;
- ``lean-search``: ``/bench/search``, the search page's engine call and the same results
  page, with the site's own code around them reduced to the fewest steps;
- ``lean-download``: ``/bench/download/…``, a download's essential work written plainly
  (member from the session, visibility, the ledger row committed, the presigned URL);
- ``page``: resource pages; ``search``: searches; ``download``: the 302 to a presigned
  S3 URL (the redirect is not followed: S3 serves the bytes, not us); ``share``: the
  share form with a small Word document, every fourth share a scanned worksheet (a
  one-page image-only PDF). The share answers once the bytes are stored; the stack's two
  ``exchange worker`` processes read the files (OCR for the scans), credit them and
  publish. Beside the request's own figures ("upload accepted") the phase reports the time
  from the share until it was published and searchable (p50/p95, from the database: the
  share's commit to the read job's), the queue's depth sampled every half second, and
  the scanned pages the workers read per minute per core of their CPU time.

It reports requests per second, p50/p95 latency, errors, peak memory (RSS) of every
gunicorn worker, and the load generator's own CPU use (it shares the 2 cores with the
server, so a client near 100 % of one core caps the fastest baselines). The targets, each
against a baseline measured in the same run: downloads at least 80 % of the lean
download, searches at least 80 % of the lean search, resource pages at least 50 % of the
template, and no errors. Every phase's share of hello-world and of the template is shown
too, for reference only. A phase that could not run is reported as not run, and its
target as missed. Figures go to ``infra/bench/results/``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parents[2]
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

RESULTS_DIR = REPO_DIR / "infra" / "bench" / "results"
PASSWORD = "bench password that is long enough"
MEMBER_EMAIL = "bench-{n}@example.org"
# Each lean baseline runs just before the phase it is the baseline of, so both meet the
# same other work on the machine.
PHASES = (
    "hello",
    "template",
    "page",
    "lean-search",
    "search",
    "lean-download",
    "download",
    "share",
)
TARGETS = {  # phase: (baseline, minimum share of the baseline's throughput)
    "download": ("lean-download", 0.80),
    "search": ("lean-search", 0.80),
    "page": ("template", 0.50),
}
REFERENCES = ("hello", "template")  # every phase's share of these: information, not targets


# -- seeding (runs in a process with the stack's environment) -------------------------------


def seed(count: int, members: int, out: Path) -> None:
    """Fill the stack's database and bucket, unless a previous run already did."""
    from sqlalchemy import text

    from exchange import create_app
    from exchange.extensions import db
    from exchange.models import Member, Resource, StoredFile

    app = create_app()
    with app.app_context():
        have = db.session.query(Resource).count()
        if have < count:
            _seed_rows(count - have, members)
        # Planner statistics, as autovacuum keeps them on a server that has run a while
        # (it may be off, as on a test machine: then plans are guessed from table sizes).
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        pairs = [list(p) for p in db.session.query(StoredFile.resource_id, StoredFile.id)]
        titles = [t for (t,) in db.session.query(Resource.title).limit(2000)]
        emails = [e for (e,) in db.session.query(Member.email).filter(Member.email.like("bench-%"))]
    words = sorted({w.lower() for t in titles for w in re.findall(r"[A-Za-z]{6,}", t)})
    plan = {"resources": pairs, "words": words, "members": emails, "password": PASSWORD}
    plan["store"] = os.environ.get("AWS_ENDPOINT_URL", "http")  # where downloads must lead
    out.write_text(json.dumps(plan))


def _seed_rows(count: int, member_count: int) -> None:
    from argon2 import PasswordHasher

    from exchange.extensions import db
    from exchange.models import Member, utcnow
    from infra.bench.corpus import CorpusSource, generate
    from tests.fixtures.corpus import require_corpus

    password_hash = PasswordHasher().hash(PASSWORD)
    start = db.session.query(Member).count()
    members = [
        Member(
            email=MEMBER_EMAIL.format(n=start + n),
            name=f"Counsellor {n}",
            password_hash=password_hash,
            confirmed_at=utcnow(),
        )
        for n in range(member_count)
    ]
    db.session.add_all(members)
    db.session.commit()
    samples = list(generate(CorpusSource(require_corpus()), count, seed=int(time.time())))
    for first in range(0, len(samples), 250):
        _seed_batch(samples[first : first + 250], members, first)
        print(f"seeded {min(first + 250, count)}/{count}", file=sys.stderr, flush=True)


def _seed_batch(samples: list, members: list, offset: int) -> None:
    """Rows for a batch of samples, each with one text file stored in S3, then the log."""
    from concurrent.futures import ThreadPoolExecutor

    from exchange.extensions import db
    from exchange.models import IndexChange, Resource
    from exchange.resources.operations import tags_named
    from exchange.storage import get_storage

    storage = get_storage()  # threads have no app context: hand them the store itself
    with ThreadPoolExecutor(8) as pool:
        files = list(pool.map(lambda sample: _stored_text(storage, sample), samples))
    resources = []
    for number, (sample, stored) in enumerate(zip(samples, files, strict=True)):
        owner = members[(offset + number) % len(members)]
        resource = Resource(
            owner_id=owner.id,
            title=sample.title[:200],
            synopsis=sample.synopsis,
            how_used=sample.how_used,
            kind=sample.kind,
            audience=sample.audience,
            licence=sample.licence,
            credit_name=owner.name,
            access="everyone",
            download_count=max(sample.downloads, 0),
            created_at=sample.created_at,
        )
        resource.tags = tags_named(sample.tags)
        resource.files.append(stored)
        resources.append(resource)
    db.session.add_all(resources)
    db.session.flush()
    db.session.add_all(IndexChange(resource_id=r.id) for r in resources)
    db.session.commit()


def _stored_text(storage: Any, sample: Any) -> Any:
    """The sample's text as a real .txt object in the bucket, and its row."""
    import hashlib

    from exchange.models import StoredFile
    from exchange.storage import new_key

    body = sample.text.encode()
    key = new_key("files")
    storage.put(key, io.BytesIO(body), content_type="text/plain")
    name = re.sub(r"[^A-Za-z0-9]+", "-", sample.title).strip("-")[:80] + ".txt"
    return StoredFile(
        position=0,
        storage_key=key,
        original_name=name,
        content_type="text/plain",
        format="txt",
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        text=sample.text,
    )


# -- one phase under load (runs in its own process: Locust patches the standard library) ----


def drive(
    phase: str, host: str, users: int, seconds: float, plan_path: Path, warmup: float = 0
) -> dict:
    """Run ``users`` simulated people doing ``phase`` for ``seconds``; their statistics.

    The first ``warmup`` seconds are not counted: the workers' caches (parsed queries,
    rendered cards, prepared statements) are then as full for a phase as for its baseline,
    whichever of the two ran first.
    """
    import gevent
    from locust import constant
    from locust.env import Environment

    plan = json.loads(plan_path.read_text())
    user_class = _user_class(phase, plan)
    user_class.host, user_class.wait_time = host, constant(0)
    env = Environment(user_classes=[user_class])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    deadline = time.monotonic() + 60
    while _Ready.count + _Ready.failed < users and time.monotonic() < deadline:
        gevent.sleep(0.05)  # everyone signed in before the clock starts
    if _Ready.count < users:
        runner.quit()
        raise SystemExit(f"{phase}: only {_Ready.count} of {users} people could sign in")
    gevent.sleep(warmup)
    env.stats.reset_all()
    cpu_before, started = time.process_time(), time.monotonic()
    gevent.sleep(seconds)
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_before
    stats = env.stats.get(phase, "POST" if phase == "share" else "GET")
    result = _summary(stats, elapsed, cpu)
    runner.quit()
    return result


class _Ready:
    count = failed = 0


def _summary(stats: Any, elapsed: float, cpu: float) -> dict:
    return {
        "requests": stats.num_requests,
        "errors": stats.num_failures,
        "per_second": round(stats.num_requests / elapsed, 1),
        "p50_ms": stats.get_response_time_percentile(0.50),
        "p95_ms": stats.get_response_time_percentile(0.95),
        "client_cpu": round(cpu / elapsed, 2),
    }


def _user_class(phase: str, plan: dict) -> type:
    from locust import task
    from locust.contrib.fasthttp import FastHttpUser

    class Person(FastHttpUser):
        """A member (from an address of their own, as the proxy reports it) doing one thing."""

        number = 0

        def on_start(self) -> None:
            Person.number += 1
            n = Person.number + PHASES.index(phase) * 1000  # each phase, other people
            self.headers = {"X-Forwarded-For": f"127.{n // 250 % 250}.{n % 250}.1"}
            if phase != "hello":  # and other accounts, as sign-ins are limited per account
                members = plan["members"]
                self._login(members[(Person.number + PHASES.index(phase) * 17) % len(members)])
            if phase == "share":
                self.token = self._token("/resources/new")
            _Ready.count += 1

        def _token(self, path: str) -> str:
            page = self.client.get(path, headers=self.headers, name="setup").text
            return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

        def _login(self, email: str) -> None:
            data = {
                "email": email,
                "password": plan["password"],
                "csrf_token": self._token("/login"),
            }
            signed_in = self.client.post(
                "/login", data=data, headers=self.headers, name="setup", allow_redirects=False
            )
            # A refused sign-in (a limit reached, say) would measure a visitor's pages instead.
            if signed_in.status_code != 302 or "/login" in signed_in.headers.get("Location", ""):
                _Ready.failed += 1
                raise RuntimeError(f"{email} could not sign in: {signed_in.status_code}")

        @task
        def act(self) -> None:
            ACTIONS[phase](self, plan)

    return Person


def _expect(response: Any, status: int) -> None:
    if response.status_code != status:
        response.failure(f"status {response.status_code}, expected {status}")


def _hello(user: Any, plan: dict) -> None:
    with user.client.get(
        "/bench/hello", headers=user.headers, name="hello", catch_response=True
    ) as r:
        _expect(r, 200)


def _template(user: Any, plan: dict) -> None:
    with user.client.get(
        "/bench/template", headers=user.headers, name="template", catch_response=True
    ) as r:
        _expect(r, 200)


def _page(user: Any, plan: dict) -> None:
    resource_id, _ = random.choice(plan["resources"])
    with user.client.get(
        f"/resources/{resource_id}", headers=user.headers, name="page", catch_response=True
    ) as r:
        _expect(r, 200)


def _search(user: Any, plan: dict) -> None:
    word = random.choice(plan["words"])
    with user.client.get(
        f"/search?q={word}", headers=user.headers, name="search", catch_response=True
    ) as r:
        _expect(r, 200)


def _lean_search(user: Any, plan: dict) -> None:
    word = random.choice(plan["words"])
    with user.client.get(
        f"/bench/search?q={word}", headers=user.headers, name="lean-search", catch_response=True
    ) as r:
        _expect(r, 200)


def _download(user: Any, plan: dict) -> None:
    resource_id, file_id = random.choice(plan["resources"])
    _fetch_redirect(user, plan, f"/resources/{resource_id}/files/{file_id}", "download")


def _lean_download(user: Any, plan: dict) -> None:
    resource_id, file_id = random.choice(plan["resources"])
    _fetch_redirect(user, plan, f"/bench/download/{resource_id}/{file_id}", "lean-download")


def _fetch_redirect(user: Any, plan: dict, path: str, name: str) -> None:
    """A download: a 302 to the store (not followed: S3 serves the bytes, not us)."""
    with user.client.get(
        path, headers=user.headers, name=name, allow_redirects=False, catch_response=True
    ) as r:
        _expect(r, 302)
        if r.status_code == 302 and not r.headers.get("Location", "").startswith(plan["store"]):
            r.failure(f"redirected to {r.headers.get('Location')}, not to the store")


def _share(user: Any, plan: dict) -> None:
    user.shared = getattr(user, "shared", 0) + 1
    body, content_type = _share_form(user.token, scan=user.shared % 4 == 0)
    headers = {**user.headers, "Content-Type": content_type}
    with user.client.post(
        "/resources/new",
        data=body,
        headers=headers,
        name="share",
        allow_redirects=False,
        catch_response=True,
    ) as r:
        _expect(r, 302)


ACTIONS = {
    "hello": _hello,
    "template": _template,
    "page": _page,
    "lean-search": _lean_search,
    "search": _search,
    "lean-download": _lean_download,
    "download": _download,
    "share": _share,
}


_SCAN: list[bytes] = []


def _scan_bytes() -> bytes:
    """One scanned worksheet page (an image-only PDF), made once per load generator."""
    if not _SCAN:
        from tests.fixtures.scans import image_only_pdf, page_picture

        text = "Budgeting worksheet: income, outgoings and savings each month"
        _SCAN.append(image_only_pdf(page_picture(text, size=(1700, 500))))
    return _SCAN[0]


def _share_form(token: str, scan: bool = False) -> tuple[bytes, str]:
    """A multipart share form with a small real Word document (unique, so never a repeat),
    or with ``scan`` a scanned worksheet."""
    from tests.fixtures.members import SHARE_DEFAULTS, docx_bytes

    boundary = f"bench{random.getrandbits(64):x}"
    title = f"Benchmark worksheet {random.getrandbits(40):x}"
    fields = {**SHARE_DEFAULTS, "title": title, "csrf_token": token}
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    if scan:
        name, document = "scan.pdf", _scan_bytes()
    else:
        name = "worksheet.docx"
        document = docx_bytes(f"{title}: list three strengths and one example of each.")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + document
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# -- orchestration --------------------------------------------------------------------------


class MemoryWatch:
    """Samples every gunicorn worker's resident memory while the phases run."""

    def __init__(self, master_pid: int) -> None:
        self.master_pid = master_pid
        self.peak_kb: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            for pid in _children(self.master_pid):
                kb = _status_kb(pid, "VmHWM")  # the kernel's own peak, between samples too
                if kb:
                    self.peak_kb[pid] = max(self.peak_kb.get(pid, 0), kb)


def _children(parent: int) -> list[int]:
    try:
        found = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in found]


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_phase(
    phase: str, host: str, users: int, seconds: float, plan: Path, warmup: float = 0
) -> dict:
    command = [
        sys.executable,
        __file__,
        "drive",
        phase,
        "--host",
        host,
        "--users",
        str(users),
        "--seconds",
        str(seconds),
        "--plan",
        str(plan),
        "--warmup",
        str(warmup),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=warmup + seconds + 120)
    if done.returncode != 0:
        raise RuntimeError(f"phase {phase} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def evaluate(results: dict) -> dict:
    """Each target: the measured share of its baseline, and whether it is met.

    A target whose phase or baseline did not run is missed, never passed.
    """
    verdicts = {}
    for phase, (baseline, minimum) in TARGETS.items():
        if phase not in results:  # a run of other phases only
            continue
        share = _share_of(results, phase, baseline)
        verdicts[f"{phase} vs {baseline}"] = {
            "ratio": None if share is None else round(share, 2),
            "target": minimum,
            "met": share is not None and share >= minimum,
        }
    ran = [r for r in results.values() if "not_run" not in r]
    errors = sum(r["errors"] for r in ran)
    verdicts["errors"] = {"count": errors, "target": 0, "met": errors == 0}
    missing = len(results) - len(ran)
    verdicts["phases not run"] = {"count": missing, "target": 0, "met": missing == 0}
    return verdicts


def _share_of(results: dict, phase: str, baseline: str) -> float | None:
    """``phase``'s throughput as a share of ``baseline``'s; None if either did not run."""
    measured, base = results.get(phase, {}), results.get(baseline, {})
    if "per_second" not in measured or "per_second" not in base:
        return None
    return measured["per_second"] / max(base["per_second"], 0.1)


def report(results: dict, verdicts: dict, memory: dict, settings: dict) -> str:
    lines = [
        f"# Load benchmark, {settings['when']}",
        "",
        f"Machine: {settings['machine']}. Stack: 1 node, {settings['workers']} gunicorn "
        f"sync workers, PostgreSQL, SeaweedFS, Redis; {settings['resources']} resources; "
        f"{settings['users']} simulated users per phase, {settings['seconds']:.0f} s each "
        f"after {settings['warmup_seconds']:.0f} s not counted "
        f"(shares: {settings['share_users']} users). Machine load average before/after: "
        f"{settings['load_average'][0]} / {settings['load_average'][1]}.",
        "",
        "Targets are shares of baselines measured in this run by the same gunicorn. The "
        "shares of hello and template are for reference only.",
        "",
        "| phase | req/s | p50 ms | p95 ms | errors | client CPU | × hello | × template |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [_phase_row(phase, r, results) for phase, r in results.items()]
    lines += ["", "| target | measured | wanted | met |", "|---|---:|---:|---|"]
    for name, v in verdicts.items():
        measured = v["ratio"] if "ratio" in v else v["count"]
        shown = "not run" if measured is None else measured
        lines.append(f"| {name} | {shown} | {v['target']} | {'yes' if v['met'] else 'NO'} |")
    peaks = ", ".join(f"{kb / 1024:.0f}" for kb in sorted(memory.values(), reverse=True))
    lines += ["", f"Peak RSS per worker (MiB): {peaks or 'not measured'}."]
    lines += _reading_lines(results.get("share", {}))
    return "\n".join(lines) + "\n"


def _reading_lines(share: dict) -> list[str]:
    """The share phase's second half: the job workers reading what was shared."""
    read, queue = share.get("read"), share.get("queue_depth")
    if not read or not queue:
        return []
    return [
        "",
        "## Shares read by 2 job workers",
        "",
        f"- Upload accepted (the share's request): {share['per_second']} shares/s, "
        f"p50 {share['p50_ms']} ms, p95 {share['p95_ms']} ms.",
        f"- Until published and searchable (share's commit to the read job's): "
        f"p50 {read['searchable_p50_s']} s, p95 {read['searchable_p95_s']} s "
        f"({read['published']} of {read['shares']} shares; all read: {read['all_read']}).",
        f"- Scanned pages read: {read['scanned_pages']} in {read['worker_cpu_s']} s of "
        f"worker CPU: {read['ocr_pages_per_min_per_core']} pages/minute per core "
        "(with the rest of each job: text, credit, picture).",
        f"- Queue depth: max {queue['max']}, mean {queue['mean']}; every "
        f"{queue['sampled_every_s']} s: {' '.join(map(str, queue['every_half_second']))}.",
    ]


def _phase_row(phase: str, r: dict, results: dict) -> str:
    if "not_run" in r:
        return f"| {phase} | not run: {r['not_run'].splitlines()[-1][:200]} |" + " |" * 6
    shares = [_share_of(results, phase, reference) for reference in REFERENCES]
    shown = " | ".join("—" if share is None else f"{share:.2f}" for share in shares)
    return (
        f"| {phase} | {r['per_second']} | {r['p50_ms']} | {r['p95_ms']} | {r['errors']} "
        f"| {r['client_cpu']:.0%} | {shown} |"
    )


def main_run(args: argparse.Namespace) -> int:
    from infra.stack import HOST, Settings, Stack

    settings = Settings(
        state_dir=str(Path(args.dir).absolute()),
        database="exchange_bench",
        workers=4,
        port=args.port,
        env={
            "EXCHANGE_BENCH_ENDPOINTS": "1",
            "EXCHANGE_PROXY_FIX": "1",
            # The address the load generator uses (production requires it, and trusts
            # requests for this host alone).
            "EXCHANGE_SITE_URL": f"http://{HOST}:{args.port}",
            # The share phase measures the request; LibreOffice drawing previews in the
            # workers' background would take the CPU from it and make runs incomparable.
            "EXCHANGE_OFFICE_PREVIEWS": "0",
        },
    )
    stack = Stack(settings)
    stack.start()
    try:
        return _measure(stack, args)
    finally:
        if not args.keep:
            stack.stop()


def _measure(stack: Any, args: argparse.Namespace) -> int:
    plan = stack.dir / "plan.json"
    env = {**os.environ, **stack.env(0), "PYTHONPATH": str(REPO_DIR)}
    command = [
        sys.executable,
        __file__,
        "seed",
        "--count",
        str(args.resources),
        "--members",
        str(args.members),
        "--plan",
        str(plan),
    ]
    subprocess.run(command, env=env, check=True, timeout=1800)
    stack.exchange("reindex")
    node = stack.nodes[0]
    stack.restart_node(node)  # measured as deployed: on the index it serves, not an empty one
    results = {}
    args.load_before = os.getloadavg()[0]
    with MemoryWatch(node.pid) as memory:
        for phase in args.phases:
            if phase == "share":
                results[phase] = _share_phase(stack, node.url, args, plan)
            else:
                results[phase] = _phase_or_why_not(phase, node.url, args, plan)
            print(f"{phase:>13}: {results[phase]}", flush=True)
    return _write_results(results, memory.peak_kb, args)


def _share_phase(stack: Any, host: str, args: argparse.Namespace, plan: Path) -> dict:
    """Shares under load with the stack's job workers reading them; then, once the queue
    is empty, how long each took to be published, the queue's depth, and OCR's pace."""
    from sqlalchemy import create_engine

    engine = create_engine(stack.settings.database_url)
    workers = stack.worker_pids
    started, cpu_before = datetime.now(UTC), _cpu_seconds(workers)
    with QueueWatch(stack.settings.redis, f"exchange-{stack.settings.database}") as queue:
        figures = _phase_or_why_not("share", host, args, plan)
        drained = queue.wait_empty(engine, started, timeout=args.drain)
    cpu = _cpu_seconds(workers) - cpu_before
    figures["read"] = _read_figures(engine, started, cpu, drained)
    figures["queue_depth"] = queue.summary()
    engine.dispose()
    return figures


class QueueWatch:
    """Samples the job queue's depth (jobs waiting) every half second."""

    def __init__(self, redis_url: str, queue_name: str) -> None:
        from redis import Redis

        self.redis, self.key = Redis.from_url(redis_url), f"rq:queue:{queue_name}"
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> QueueWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.samples.append(int(self.redis.llen(self.key)))

    def wait_empty(self, engine: Any, since: datetime, timeout: float) -> bool:
        """Until every share of the phase is read (none still processing), or time is up."""
        from sqlalchemy import text

        query = text(
            "SELECT count(*) FROM resources WHERE status = 'processing' AND created_at >= :t"
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if not conn.execute(query, {"t": since}).scalar():
                    return True
            time.sleep(0.5)
        return False

    def summary(self) -> dict:
        samples = self.samples or [0]
        step = max(1, len(samples) // 40)
        return {
            "max": max(samples),
            "mean": round(sum(samples) / len(samples), 1),
            "every_half_second": samples[::step],
            "sampled_every_s": 0.5 * step,
        }


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of the job workers and of the children they waited for (each
    job runs in a forked child, its reading in a limited grandchild, Tesseract below)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / ticks


def _read_figures(engine: Any, since: datetime, cpu_s: float, drained: bool) -> dict:
    """From the share's commit (created_at) to its publication by the read job (the last
    write, updated_at): p50/p95; and the scanned pages read per minute of worker CPU."""
    from sqlalchemy import text

    query = text(
        "SELECT r.status, EXTRACT(EPOCH FROM r.updated_at - r.created_at), f.text_source "
        "FROM resources r JOIN files f ON f.resource_id = r.id WHERE r.created_at >= :t"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"t": since}).all()
    waits = sorted(float(w) for status, w, _ in rows if status == "published")
    scans = sum(1 for status, _, source in rows if status == "published" and source == "ocr")
    return {
        "shares": len(rows),
        "published": len(waits),
        "all_read": drained,
        "searchable_p50_s": _percentile(waits, 0.50),
        "searchable_p95_s": _percentile(waits, 0.95),
        "scanned_pages": scans,
        "worker_cpu_s": round(cpu_s, 1),
        "ocr_pages_per_min_per_core": round(scans / (cpu_s / 60), 1) if cpu_s else None,
    }


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(fraction * len(values)))], 2)


def _phase_or_why_not(phase: str, host: str, args: argparse.Namespace, plan: Path) -> dict:
    """The phase's figures, or why it could not run (the next phases still run)."""
    users = args.share_users if phase == "share" else args.users
    seconds = min(args.seconds, 10) if phase == "share" else args.seconds
    try:
        return run_phase(phase, host, users, seconds, plan, args.warmup)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        return {"not_run": str(exc).strip()[-1000:] or type(exc).__name__}


def _write_results(results: dict, memory: dict, args: argparse.Namespace) -> int:
    verdicts = evaluate(results)
    settings = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}",
        "workers": 4,
        "resources": args.resources,
        "users": args.users,
        "share_users": args.share_users,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup,
        # Other work on the machine takes cores from the server: say how busy it was.
        "load_average": [round(args.load_before, 2), round(os.getloadavg()[0], 2)],
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "settings": settings,
        "results": results,
        "targets": verdicts,
        "peak_rss_mib": sorted(round(kb / 1024, 1) for kb in memory.values()),
    }
    # A run of some phases only (the share phase alone, say) keeps the full run's files.
    name = "load" if list(args.phases) == list(PHASES) else "load-" + "-".join(args.phases)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    text = report(results, verdicts, memory, settings)
    (RESULTS_DIR / f"{name}.md").write_text(text)
    print(text)
    return 0 if all(v["met"] for v in verdicts.values()) else 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    seed_cmd = commands.add_parser("seed")
    seed_cmd.add_argument("--count", type=int, required=True)
    seed_cmd.add_argument("--members", type=int, required=True)
    seed_cmd.add_argument("--plan", type=Path, required=True)
    drive_cmd = commands.add_parser("drive")
    drive_cmd.add_argument("phase", choices=PHASES)
    drive_cmd.add_argument("--host", required=True)
    drive_cmd.add_argument("--users", type=int, required=True)
    drive_cmd.add_argument("--seconds", type=float, required=True)
    drive_cmd.add_argument("--plan", type=Path, required=True)
    drive_cmd.add_argument("--warmup", type=float, default=0)
    parser.add_argument("--dir", default=str(REPO_DIR / "instance" / "bench-stack"))
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--resources", type=int, default=3000)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--share-users", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=10, help="seconds not counted")
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help="the phases to run, comma-separated"
    )
    parser.add_argument(
        "--drain", type=float, default=180, help="seconds to wait for the shares to be read"
    )
    args = parser.parse_args(argv)
    args.phases = [p for p in args.phases.split(",") if p]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"no such phase: {', '.join(sorted(unknown))}")
    if args.command == "seed":
        seed(args.count, args.members, args.plan)
    elif args.command == "drive":
        figures = drive(args.phase, args.host, args.users, args.seconds, args.plan, args.warmup)
        print(json.dumps(figures))
    else:
        raise SystemExit(main_run(args))


if __name__ == "__main__":
    main()
