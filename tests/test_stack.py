"""The production-like stack: two gunicorn nodes on one PostgreSQL, SeaweedFS and Redis.

Everything goes over real HTTP to real processes started by ``infra/stack.py``: sharing
through the share form on node A and finding it on node B, a node rebuilding a wiped
index while it runs, rate limits shared through Redis, metrics added up across workers,
logs that keep secrets out, and ``exchange init`` run by two nodes at once.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from infra.stack import Settings, Stack, StackError, create_database, drop_database
from tests.browser.people import ShareDetails, Upload, share_with_browser
from tests.fixtures.members import LINK, PASSWORD, SHARE_DEFAULTS, docx_bytes
from tests.fixtures.scans import image_only_pdf, page_picture, phone_photo

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]

PG_URL = os.environ.get("EXCHANGE_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("EXCHANGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REPO_DIR = Path(__file__).resolve().parent.parent


def postgres_server() -> str:
    """The server of ``EXCHANGE_TEST_DATABASE_URL`` (without its database), or skip."""
    if not PG_URL.startswith("postgresql"):
        pytest.skip("set EXCHANGE_TEST_DATABASE_URL to a PostgreSQL server for stack tests")
    parts = urlsplit(PG_URL)
    return f"{parts.scheme}://{parts.netloc}"


def require_redis() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}); set EXCHANGE_TEST_REDIS_URL")
    return REDIS_URL


def free_port_pair(start: int) -> int:
    """The first port from ``start`` such that it and the next one are both free."""
    for port in range(start, start + 500, 2):
        if all(_free(p) for p in (port, port + 1)):
            return port
    raise RuntimeError("no two free ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def running_stack(
    tmp_path_factory: pytest.TempPathFactory, name: str, port_base: int, **settings
) -> Iterator[Stack]:
    """A stack on a fresh database of its own, stopped and purged afterwards.

    ``port_base`` picks the gunicorn ports and ``port_base + 1000`` the SeaweedFS ones,
    spread by process id so parallel test runs on one machine do not collide.
    Office previews are off (LibreOffice would draw each shared .docx in the background).
    """
    settings["env"] = {"EXCHANGE_OFFICE_PREVIEWS": "0", **settings.get("env", {})}
    stack = Stack(
        Settings(
            state_dir=str(tmp_path_factory.mktemp(name)),
            database=f"exchange_{name}_test_{os.getpid()}",
            postgres=postgres_server(),
            redis=require_redis(),
            port=free_port_pair(port_base + 10 * (os.getpid() % 50)),
            s3_port_base=port_base + 1000 + 100 * (os.getpid() % 40),
            **settings,
        )
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop(purge=True)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Two nodes of two workers each, behind an (imagined) proxy, on a fresh database."""
    env = {"EXCHANGE_PROXY_FIX": "1", "EXCHANGE_PRESIGN_SECONDS": "60"}
    with running_stack(tmp_path_factory, "stack", 23000, nodes=2, workers=2, env=env) as stack:
        yield stack


ADDRESSES = itertools.count(1)


class Browser:
    """One person's browser, on whichever node the load balancer sends them to."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = requests.Session()
        # Each person comes from an address of their own, as nginx would report it.
        self.http.headers["X-Forwarded-For"] = f"198.51.100.{next(ADDRESSES)}"

    def url(self, node: int, path: str) -> str:
        return self.stack.nodes[node].url + path

    def get(self, node: int, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url(node, path), timeout=30, **kwargs)

    def post_form(self, node: int, path: str, data: dict, **kwargs) -> requests.Response:
        """Open the form's page for its CSRF token, then submit it (without following)."""
        page = self.get(node, path)
        token = CSRF.search(page.text)
        assert token, f"no CSRF token on {path}"
        data = {**data, "csrf_token": token.group(1)}
        return self.http.post(
            self.url(node, path), data=data, timeout=60, allow_redirects=False, **kwargs
        )

    def register(self, node: int) -> None:
        """Register, then open the confirmation link the stack emailed (to its outbox)."""
        self.email = f"stack-{uuid.uuid4().hex[:10]}@example.org"
        data = {"name": "Stack Tester", "email": self.email, "password": PASSWORD}
        assert self.post_form(node, "/register", data).status_code == 302
        confirmed = self.get(node, emailed_path(self.stack, self.email), allow_redirects=False)
        assert confirmed.status_code == 302 and "/login" not in confirmed.headers["Location"]

    def share(self, node: int, title: str, words: str) -> int:
        """Share a worksheet and wait until the stack's workers have read it."""
        files = [("files", ("worksheet.docx", io.BytesIO(docx_bytes(words))))]
        resource_id = self.share_files(node, title, files)
        assert self.wait_until_read(node, resource_id)
        return resource_id

    def share_files(self, node: int, title: str, files: list) -> int:
        """Post the share form; its answer comes once the bytes are stored, not read."""
        fields = {**SHARE_DEFAULTS, "title": title}
        response = self.post_form(node, "/resources/new", fields, files=files)
        assert response.status_code == 302, response.text[:2000]
        return int(re.search(r"/resources/(\d+)", response.headers["Location"]).group(1))

    def wait_until_read(self, node: int, resource_id: int, timeout: float = 180) -> bool:
        """What the page's script does: ask the status address, once a second, until the
        files are read (fifty clients asking faster would take the CPU the reading needs)."""
        address = f"/resources/{resource_id}/reading.json"
        return wait_for(lambda: not self.get(node, address).json()["reading"], timeout, 1.0)

    def search_titles(self, node: int, query: str) -> str:
        """The results page's text, the words searched for unmarked (titles mark them)."""
        return re.sub(r"</?mark>", "", self.get(node, f"/search?q={query}").text)


def emailed_path(stack: Stack, address: str) -> str:
    """The path of the newest account link emailed to ``address`` (read from the outbox)."""
    engine = create_engine(stack.settings.database_url)
    try:
        with engine.connect() as conn:
            body = conn.execute(
                text("SELECT body FROM outbox WHERE to_address = :a ORDER BY id DESC"),
                {"a": address},
            ).scalar()
    finally:
        engine.dispose()
    return urlsplit(LINK.search(body).group(0)).path


def wait_for(check, timeout: float = 15.0, every: float = 0.2) -> bool:
    """Poll ``check`` until it is true or the time is up (nodes converge, not instantly)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()


def test_a_share_on_node_a_is_found_on_node_b_even_after_b_loses_its_index(stack):
    person = Browser(stack)
    person.register(node=0)
    word = f"zephyrine{uuid.uuid4().hex[:6]}"
    title = f"Values card sort {word}"
    person.share(0, title, f"Sort the cards: {word} comes first.")
    assert title in person.search_titles(0, word)  # read-your-writes on the node that took it
    assert wait_for(lambda: title in person.search_titles(1, word))

    shutil.rmtree(stack.node_dir(1) / "index")  # while node B runs
    assert title in person.search_titles(1, word)
    ready = person.get(1, "/readyz").json()
    assert ready["status"] == "ready"
    assert ready["checks"]["index"]["lag"] == 0


def test_a_scan_and_a_phone_photo_shared_in_a_browser_are_read_by_a_worker_and_found(
    stack, browser
):
    """Issue 20 on the production stack, in Chromium: the share form answers once the bytes
    are stored, the giver's page says "Reading your files…" until a separate `exchange
    worker` process has read the scans, then opens the resource by itself; a word on each
    is found on both nodes. (The same journey on the embedded site, with jobs in the web
    process: tests/browser/test_scan_journey.py.)"""
    person = Browser(stack)
    person.register(node=0)  # confirmed through the link the stack put in its outbox
    word = f"wombat{uuid.uuid4().hex[:4]}"
    title = f"Scanned sheet {word}"
    scan = image_only_pdf(page_picture(f"Budgeting worksheet {word}", size=(1400, 320)))
    uploads = [
        Upload("scan.pdf", "application/pdf", scan),
        Upload("photo.jpg", "image/jpeg", phone_photo("Kangaroo interview checklist")),
    ]
    context = browser.new_context(base_url=stack.nodes[0].url)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email", exact=True).fill(person.email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        share_with_browser(page, ShareDetails(title=title), uploads)
        expect(page.get_by_text("Text read from a scan").first).to_be_visible(timeout=120_000)
        for node in (0, 1):
            for query in (word, "kangaroo"):
                page.goto(f"{stack.nodes[node].url}/search?q={query}")
                expect(page.get_by_role("link", name=title)).to_be_visible(timeout=15_000)
    finally:
        context.close()
    # The nodes put jobs on the Redis queue: only the stack's `exchange worker`s run them.
    ready = person.get(0, "/readyz").json()
    assert ready["checks"]["queue"]["runner"] == "redis"


def test_downloads_redirect_to_s3_and_logs_keep_the_url_and_query_out(stack):
    giver, taker = Browser(stack), Browser(stack)
    giver.register(node=0)
    secret_word = f"confidential{uuid.uuid4().hex[:8]}"
    resource_id = giver.share(0, "Interview practice cards", f"Practise aloud {secret_word}.")
    taker.register(node=1)
    taker.share(1, "Networking map", "People who could help.")  # a sharer takes freely
    page = taker.get(1, f"/resources/{resource_id}").text
    file_path = re.search(rf'href="(/resources/{resource_id}/files/\d+)"', page).group(1)
    taker.search_titles(1, secret_word)

    redirect = taker.get(1, file_path, allow_redirects=False)
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert "X-Amz-Signature=" in location
    download = requests.get(location, timeout=30)
    assert download.status_code == 200
    assert download.content[:2] == b"PK"  # the Word document itself, from the S3 server
    assert "attachment" in download.headers["Content-Disposition"]

    node_dir = stack.node_dir(1)
    logs = (node_dir / "access.log").read_text() + (node_dir / "gunicorn.log").read_text()
    assert f'GET {file_path} HTTP/1.1" 302' in logs
    for secret in ("X-Amz-Signature", "Signature=", secret_word, "q="):
        assert secret not in logs, secret


def test_login_attempts_are_limited_across_nodes_through_redis(stack):
    attacker = Browser(stack)

    def attempt(node: int, number: int) -> int:
        wrong = {"email": f"guess{number}@example.org", "password": "not the password at all"}
        return attacker.post_form(node, "/login", wrong).status_code

    codes = [attempt(n % 2, n) for n in range(10)]
    assert codes == [422] * 10  # each node's workers saw only some of these
    assert attempt(1, 10) == 429
    assert attempt(0, 11) == 429

    someone_else = Browser(stack)  # another address still gets in
    wrong = {"email": "guess0@example.org", "password": "still not it"}
    assert someone_else.post_form(1, "/login", wrong).status_code == 422


def test_metrics_add_up_every_worker_of_a_node(stack):
    person = Browser(stack)
    person.register(node=0)
    before = [_shares(person.get(0, "/metrics").text) for _ in range(4)]
    person.share(0, "Budget planner for returners", "Income, outgoings, savings.")
    after = [_shares(person.get(0, "/metrics").text) for _ in range(6)]
    assert len(set(before)) == 1 and len(set(after)) == 1  # every worker reports the same sum
    assert after[0] == before[0] + 1


def _shares(text: str) -> float:
    match = re.search(r"^exchange_shares_total (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_stack_status_reports_each_node_ready(stack):
    status = Stack.load(stack.dir).status()
    assert [node["ready"] for node in status["nodes"].values()] == [True, True]
    assert status["s3"]["pid"] is not None


def test_a_restarted_node_is_a_new_master_that_serves_again(stack):
    node = stack.nodes[0]
    before = (node.pid, _start_time(node.pid))
    stack.restart_node(node)
    assert (node.pid, _start_time(node.pid)) != before
    assert _zombie(before[0]) or _start_time(before[0]) != before[1], "the old master is gone"
    assert Stack.load(stack.dir).status()["nodes"][node.url] == {"pid": node.pid, "ready": True}


def test_jobs_go_to_the_stack_s_own_workers(stack):
    status = Stack.load(stack.dir).status()
    assert len(status["job_workers"]) == 2
    stack.exchange("send-digests", "--queue")
    logs = sorted((stack.dir / "workers").glob("worker-*.log"))
    deadline = time.monotonic() + 30
    while not any("job send-digests() done" in p.read_text() for p in logs):
        tails = "\n".join(p.read_text()[-1500:] for p in logs)
        assert time.monotonic() < deadline, f"no worker ran the job:\n{tails}"
        time.sleep(0.2)
    ready = requests.get(f"{stack.nodes[0].url}/readyz", timeout=10).json()
    assert ready["checks"]["queue"]["runner"] == "redis"


def test_stop_ends_every_process_it_started(stack):
    status = Stack.load(stack.dir).status()
    pids = [node.pid for node in stack.nodes] + [status["s3"]["pid"], *status["job_workers"]]
    started = {pid: _start_time(pid) for pid in pids + _children(pids[:2])}
    stack.stop()
    for pid, start_time in started.items():
        # Gone, a zombie, or its number already reused by a newer process of the suite.
        assert _zombie(pid) or _start_time(pid) != start_time, pid


def _children(parents: list[int]) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if int(fields.get("PPid", "0").strip()) in parents:
            found.append(int(status.parent.name))
    return found


def _start_time(pid: int) -> str | None:
    """When the process numbered ``pid`` started (None when there is none), to tell it apart
    from a later process given the same number."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _zombie(pid: int) -> bool:
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def test_a_stack_will_not_start_where_another_server_holds_its_port(tmp_path):
    """Else the other server would answer the readiness checks for a node that never ran."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        stack = Stack(Settings(state_dir=str(tmp_path / "stack"), port=port))
        with pytest.raises(StackError, match=f"port {port} is in use"):
            stack.start()
    assert not (tmp_path / "stack").exists(), "nothing was started or written"


# -- two nodes migrating at once --------------------------------------------------------------


def test_two_nodes_running_init_at_once_both_succeed_and_migrate_once(tmp_path):
    server = postgres_server()
    name = f"exchange_init_test_{uuid.uuid4().hex[:10]}"
    create_database(server, name)
    try:
        url = f"{server}/{name}"
        runs = [_start_init(url, tmp_path / f"node-{n}") for n in range(2)]
        results = [run.communicate(timeout=120) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], results
        assert all("Database is up to date." in out for out, _ in results)
        assert _versions(url) == 1
    finally:
        drop_database(server, name)


def _start_init(url: str, instance: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "EXCHANGE_ENV": "production",
        "EXCHANGE_SECRET_KEY": "an-init-test-secret-that-is-long-enough-1234",
        "EXCHANGE_SITE_URL": "https://toolkit.example.org",
        "EXCHANGE_DATABASE_URL": url,
        "EXCHANGE_INSTANCE_DIR": str(instance),
    }
    command = [str(Path(sys.executable).parent / "exchange"), "init"]
    return subprocess.Popen(
        command, cwd=REPO_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _versions(url: str) -> int:
    """Rows in alembic_version (exactly one when the schema was made once), tables checked."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"members", "resources", "files", "index_changes"} <= tables
    return rows


# -- the nginx configuration --------------------------------------------------------------------


def test_the_nginx_configuration_is_accepted_by_nginx(tmp_path):
    """`nginx -t` on infra/nginx.conf, with a throwaway certificate in place of the real one."""
    nginx, openssl = shutil.which("nginx"), shutil.which("openssl")
    if not nginx or not openssl:
        pytest.skip("nginx and openssl are needed (apt-get install nginx-light openssl)")
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(certs / "privkey.pem"), "-out", str(certs / "fullchain.pem"),
         "-subj", "/CN=toolkit.example.org"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (REPO_DIR / "infra" / "nginx.conf").read_text()
    site = site.replace("/etc/ssl/exchange", str(certs)).replace("/var/log/nginx", str(tmp_path))
    (tmp_path / "exchange.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log {tmp_path}/access.log;\n  include {tmp_path}/exchange.conf;\n}}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-c", str(main)], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    assert "client_max_body_size 30m;" in site  # EXCHANGE_MAX_UPLOAD_MB 25 + 5 MB margin
    for port, refusal in (("80", "return 444;"), ("443 ssl http2", "ssl_reject_handshake on;")):
        default = re.search(rf"listen {port} default_server;.*?\}}", site, re.S)
        assert default and refusal in default.group(0), f"port {port}: other hosts get nothing"
