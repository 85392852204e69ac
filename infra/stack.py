"""The production-like stack on this machine, without containers.

PostgreSQL and Redis are the machine's own (already running on loopback); SeaweedFS (S3)
and gunicorn are started here, on 127.0.0.1 only, with every piece of state under one
folder::

    python infra/stack.py start --dir .stack/dev            # make stack-up
    python infra/stack.py status --dir .stack/dev
    python infra/stack.py env --dir .stack/dev --node 0     # exports to run `exchange …`
    python infra/stack.py stop --dir .stack/dev             # make stack-down

``start`` creates the database if needed, starts SeaweedFS with credentials and a bucket,
runs ``exchange init``, then starts the job workers (``exchange worker``, on the machine's
Redis under a queue named after the stack) and each app node (a gunicorn master with its
workers and its own search index folder) and waits until its ``/readyz`` answers 200. ``stop`` stops
exactly what ``start`` recorded in ``<dir>/stack.json`` (checking each process is still
the one it started), gunicorn gracefully first.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

from infra.seaweedfs import SeaweedFS, _recorded_pid, _stop_recorded  # noqa: E402

HOST = "127.0.0.1"
STATE_FILE = "stack.json"
GUNICORN_CONF = REPO_DIR / "infra" / "gunicorn.conf.py"
READY_TIMEOUT = 90.0
# `exchange` from this checkout (run in REPO_DIR), whichever checkout the virtualenv knows.
EXCHANGE_COMMAND = (sys.executable, "-m", "exchange")
STOP_TIMEOUT = 30.0


class StackError(RuntimeError):
    """The stack could not be started or stopped; the message says which part and why."""


@dataclass
class Settings:
    """What a stack is made of; kept in ``stack.json`` so ``stop`` and ``env`` know it."""

    state_dir: str
    database: str = "exchange_stack"
    postgres: str = "postgresql+psycopg://postgres@127.0.0.1:5432"
    redis: str = "redis://127.0.0.1:6379/3"
    nodes: int = 1
    workers: int = 4
    job_workers: int = 2  # `exchange worker` processes; 0 runs jobs inside the web workers
    port: int = 8000
    bucket: str = "exchange"
    s3_port_base: int = 22000
    env: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return f"{self.postgres.rstrip('/')}/{self.database}"


@dataclass
class Node:
    number: int
    port: int
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


class Stack:
    """One stack: start it, ask its state, stop it, from any process that knows its folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = Path(settings.state_dir).absolute()
        self.nodes = [Node(n, settings.port + n) for n in range(settings.nodes)]
        self._started: dict[int, subprocess.Popen] = {}
        self.worker_pids: list[int] = []
        self._started_workers: list[subprocess.Popen] = []

    @classmethod
    def load(cls, state_dir: str | os.PathLike[str]) -> Stack:
        """The stack last started in ``state_dir``."""
        state = json.loads((Path(state_dir) / STATE_FILE).read_text())
        stack = cls(Settings(**state["settings"]))
        stack.nodes = [Node(**node) for node in state["nodes"]]
        stack.worker_pids = state.get("worker_pids", [])
        return stack

    # -- environment ------------------------------------------------------------------

    def node_dir(self, number: int) -> Path:
        return self.dir / f"node-{number}"

    def env(self, number: int = 0) -> dict[str, str]:
        """The variables with which node ``number`` and ``exchange`` commands run."""
        node_dir = self.node_dir(number)
        env = {
            "EXCHANGE_ENV": "production",
            "EXCHANGE_SECRET_KEY": self._secret(),
            "EXCHANGE_DATABASE_URL": self.settings.database_url,
            "EXCHANGE_STORAGE_URL": f"s3://{self.settings.bucket}",
            "EXCHANGE_INSTANCE_DIR": str(node_dir / "instance"),
            "EXCHANGE_INDEX_DIR": str(node_dir / "index"),
            "EXCHANGE_RATELIMIT_STORAGE_URL": self.settings.redis,
            "EXCHANGE_RATELIMIT_KEY_PREFIX": f"exchange-{self.settings.database}",
            "EXCHANGE_LOG_FORMAT": "json",
            # Links in emails lead to the first node; every node answers for its host name.
            "EXCHANGE_SITE_URL": self.nodes[0].url,
            **self._queue_env(),
            **self._s3().env(),
            **self.settings.env,
        }
        return env

    def _queue_env(self) -> dict[str, str]:
        if not self.settings.job_workers:
            return {}
        return {
            "EXCHANGE_QUEUE_URL": self.settings.redis,
            "EXCHANGE_QUEUE_NAME": f"exchange-{self.settings.database}",
        }

    def _secret(self) -> str:
        """One random secret per stack, so every node accepts every node's cookies."""
        path = self.dir / "secret_key"
        if not path.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def _s3(self) -> SeaweedFS:
        s3_dir = self.dir / "s3"
        if (s3_dir / "seaweedfs.json").exists():
            return SeaweedFS.load(s3_dir)
        return SeaweedFS(s3_dir, bucket=self.settings.bucket, port_base=self.settings.s3_port_base)

    # -- start ------------------------------------------------------------------------

    def start(self) -> None:
        """Start every part not running yet; safe to run again on a running stack."""
        self._check_ports_free()
        self.dir.mkdir(parents=True, exist_ok=True)
        self._save()
        create_database(self.settings.postgres, self.settings.database)
        self._start_s3()
        self.exchange("init")
        self._start_job_workers()
        for node in self.nodes:
            if not self._gunicorn_running(node):
                node.pid = self._start_node(node)
                self._save()
        for node in self.nodes:
            self._wait_ready(node)

    def _check_ports_free(self) -> None:
        """A node to start whose port already answers would fail to bind, while the other
        server (an old stack, say) passed every readiness check in its place."""
        for node in self.nodes:
            if not self._gunicorn_running(node) and port_answers(node.port):
                raise StackError(
                    f"port {node.port} is in use by another server; stop it, or choose "
                    "another port for this stack"
                )

    def _start_s3(self) -> None:
        s3_dir = self.dir / "s3"
        if _recorded_pid(s3_dir) is not None:
            return
        server = self._s3()
        server.start()
        server.detach()

    def exchange(self, *args: str, node: int = 0, **run: Any) -> subprocess.CompletedProcess:
        """Run an ``exchange`` command against this stack (as node ``node``)."""
        command = [*EXCHANGE_COMMAND, *args]
        env = {**os.environ, **self.env(node)}
        result = subprocess.run(
            command, cwd=REPO_DIR, env=env, capture_output=True, text=True, **run
        )
        if result.returncode != 0:
            raise StackError(f"`exchange {' '.join(args)}` failed:\n{result.stderr[-3000:]}")
        return result

    def _start_node(self, node: Node) -> int:
        node_dir = self.node_dir(node.number)
        node_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            # Metrics for the web workers only: commands run beside them (imports, seeding)
            # would otherwise add their own counts to the node's.
            "EXCHANGE_METRICS": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(node_dir / "metrics"),
            **self.env(node.number),
            "GUNICORN_BIND": f"{HOST}:{node.port}",
            "GUNICORN_WORKERS": str(self.settings.workers),
            "GUNICORN_ACCESS_LOG": str(node_dir / "access.log"),
        }
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [str(gunicorn), "-c", str(GUNICORN_CONF), "wsgi:app"]
        with open(node_dir / "gunicorn.log", "ab") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._started[node.number] = process
        return process.pid

    def _start_job_workers(self) -> None:
        """Start the `exchange worker` processes not running yet (their pids are kept)."""
        workers_dir = self.dir / "workers"
        workers_dir.mkdir(parents=True, exist_ok=True)
        index_dir = workers_dir / "index"
        alive = [pid for pid in self.worker_pids if self._worker_running(pid)]
        for number in range(len(alive), self.settings.job_workers):
            with open(workers_dir / f"worker-{number}.log", "ab") as log:
                process = subprocess.Popen(
                    [*EXCHANGE_COMMAND, "worker"],
                    cwd=REPO_DIR,
                    # The workers' index in a folder of its own: a rebuild empties its folder.
                    env={**os.environ, **self.env(0), "EXCHANGE_INDEX_DIR": str(index_dir)},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self._started_workers.append(process)
            alive.append(process.pid)
        self.worker_pids = alive
        self._save()

    def _worker_running(self, pid: int) -> bool:
        """Whether ``pid`` is still one of this stack's job workers (not a recycled pid)."""
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            return False
        queue = f"EXCHANGE_QUEUE_NAME=exchange-{self.settings.database}".encode()
        return b"worker" in command and queue in environ.split(b"\0")

    def stop_job_workers(self, timeout: float = STOP_TIMEOUT) -> None:
        """Warm stop (a worker finishes its job on SIGTERM), then SIGKILL; a job cut short
        is taken up again by the next worker that starts."""
        for pid in self.worker_pids:
            _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(map(self._worker_running, self.worker_pids)) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self.worker_pids:
            _signal_group(pid, signal.SIGKILL)
            _wait_for_group_to_go(pid)
        for process in self._started_workers:
            process.wait(timeout=5)  # reap our own children
        self.worker_pids, self._started_workers = [], []

    def _wait_ready(self, node: Node) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if self._exited(node):
                raise StackError(f"node {node.number} exited:\n{self.log_tail(node)}")
            status, body = http_get(f"{node.url}/readyz")
            if status == 200:
                return
            last = f"{status} {body[:300]}"
            time.sleep(0.25)
        raise StackError(f"node {node.number} not ready after {READY_TIMEOUT:.0f} s ({last})")

    def _exited(self, node: Node) -> bool:
        """Started here: ask the child itself; else check the recorded process."""
        process = self._started.get(node.number)
        if process is not None:
            return process.poll() is not None
        return not self._gunicorn_running(node)

    def log_tail(self, node: Node, lines: int = 30) -> str:
        path = self.node_dir(node.number) / "gunicorn.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    # -- state ------------------------------------------------------------------------

    def _save(self) -> None:
        state = {
            "settings": asdict(self.settings),
            "nodes": [asdict(n) for n in self.nodes],
            "worker_pids": self.worker_pids,
        }
        fd = os.open(self.dir / STATE_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(state, out, indent=2)

    def _gunicorn_running(self, node: Node) -> bool:
        """Whether the recorded pid is still our gunicorn master (not a recycled pid)."""
        if not node.pid:
            return False
        try:
            command = Path(f"/proc/{node.pid}/cmdline").read_bytes()
            environ = Path(f"/proc/{node.pid}/environ").read_bytes()
        except OSError:
            return False
        bind = f"GUNICORN_BIND={HOST}:{node.port}".encode()
        return b"gunicorn" in command and bind in environ.split(b"\0")

    def status(self) -> dict[str, Any]:
        """What runs: each node's pid and readiness, and the S3 server."""
        nodes = {}
        for node in self.nodes:
            running = self._gunicorn_running(node)
            code, _ = http_get(f"{node.url}/readyz") if running else (None, "")
            nodes[node.url] = {"pid": node.pid if running else None, "ready": code == 200}
        return {
            "dir": str(self.dir),
            "database": self.settings.database_url,
            "s3": {"pid": _recorded_pid(self.dir / "s3")},
            "nodes": nodes,
            "job_workers": [pid for pid in self.worker_pids if self._worker_running(pid)],
        }

    # -- stop -------------------------------------------------------------------------

    def stop_node(self, node: Node, timeout: float = STOP_TIMEOUT) -> None:
        """Graceful stop (SIGTERM lets workers finish their requests), then SIGKILL."""
        if not self._gunicorn_running(node):
            node.pid = None
            return
        assert node.pid is not None
        _signal_group(node.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self._gunicorn_running(node) and time.monotonic() < deadline:
            time.sleep(0.1)
        _signal_group(node.pid, signal.SIGKILL)
        started = self._started.pop(node.number, None)
        if started is not None:
            started.wait(timeout=5)  # reap our own child, or it lingers as a zombie
        _wait_for_group_to_go(node.pid)
        node.pid = None

    def restart_node(self, node: Node) -> None:
        """Stop the node and start it again, as a deploy does (the master reads the index
        it finds, and every worker forks from it)."""
        self.stop_node(node)
        node.pid = self._start_node(node)
        self._save()
        self._wait_ready(node)

    def stop(self, purge: bool = False) -> None:
        """Stop the nodes, then S3; ``purge`` also drops the database and the rate-limit keys."""
        for node in self.nodes:
            self.stop_node(node)
        self.stop_job_workers()
        if self.dir.exists():
            self._save()
            _stop_recorded(self.dir / "s3")
        if purge:
            drop_database(self.settings.postgres, self.settings.database)
            forget_rate_limits(self.settings.redis, f"exchange-{self.settings.database}")


def _wait_for_group_to_go(pgid: int, timeout: float = 5.0) -> None:
    """Return once no process of the group is left (a killed worker takes a moment to go)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def port_answers(port: int) -> bool:
    """Whether something accepts connections on ``port`` of the loopback address."""
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


def http_get(url: str, timeout: float = 5.0) -> tuple[int | None, str]:
    """(status, body) of a GET, or (None, reason) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        return None, str(exc)


# -- the machine's own services ---------------------------------------------------------------


def _admin_connection(postgres: str) -> Any:
    import psycopg

    url = postgres.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/postgres"
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def create_database(postgres: str, name: str) -> bool:
    """Create database ``name`` unless it exists; True when it was created."""
    from psycopg import sql

    with _admin_connection(postgres) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def drop_database(postgres: str, name: str) -> None:
    from psycopg import sql

    with _admin_connection(postgres) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))


def forget_rate_limits(redis_url: str, prefix: str) -> None:
    """Delete this stack's rate-limit counters (and only those) from the shared Redis."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# -- command line ---------------------------------------------------------------------------


def _settings_from(args: argparse.Namespace) -> Settings:
    extra = dict(item.split("=", 1) for item in args.env)
    return Settings(
        state_dir=str(Path(args.dir).absolute()),
        database=args.database,
        postgres=args.postgres,
        redis=args.redis,
        nodes=args.nodes,
        workers=args.workers,
        job_workers=args.job_workers,
        port=args.port,
        env=extra,
    )


def _command_start(args: argparse.Namespace) -> None:
    if (Path(args.dir) / STATE_FILE).exists():
        stack = Stack.load(args.dir)
    else:
        stack = Stack(_settings_from(args))
    started = time.monotonic()
    stack.start()
    print(f"Stack ready in {time.monotonic() - started:.1f} s:")
    for node in stack.nodes:
        print(f"  node {node.number}: {node.url}  (gunicorn pid {node.pid})")
    print(f"  job workers: {', '.join(map(str, stack.worker_pids)) or 'none'}")
    print(f"  state and logs: {stack.dir}")


def _command_stop(args: argparse.Namespace) -> None:
    if not (Path(args.dir) / STATE_FILE).exists():
        print("no stack recorded there")
        return
    Stack.load(args.dir).stop(purge=args.purge)
    print("stopped" + (" and purged" if args.purge else ""))


def _command_status(args: argparse.Namespace) -> None:
    if not (Path(args.dir) / STATE_FILE).exists():
        print("no stack recorded there")
        raise SystemExit(3)
    status = Stack.load(args.dir).status()
    print(json.dumps(status, indent=2))
    if not all(node["ready"] for node in status["nodes"].values()):
        raise SystemExit(1)


def _command_env(args: argparse.Namespace) -> None:
    env = Stack.load(args.dir).env(args.node)
    print("\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The production-like stack on loopback.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start (or complete) the stack")
    start.add_argument("--database", default="exchange_stack")
    start.add_argument("--postgres", default=Settings.postgres, help="server URL, no database")
    start.add_argument("--redis", default=Settings.redis, help="Redis URL with a db number")
    start.add_argument("--nodes", type=int, default=1)
    start.add_argument("--workers", type=int, default=4, help="gunicorn workers per node")
    start.add_argument(
        "--job-workers", type=int, default=2, help="`exchange worker` processes (0: none)"
    )
    start.add_argument("--port", type=int, default=8000, help="first node's port")
    start.add_argument("--env", action="append", default=[], help="extra KEY=VALUE for nodes")
    stop = commands.add_parser("stop", help="stop what start started")
    stop.add_argument("--purge", action="store_true", help="also drop the database")
    commands.add_parser("status", help="what runs (exit 1 if a node is not ready)")
    env = commands.add_parser("env", help="print exports for `exchange` commands")
    env.add_argument("--node", type=int, default=0)
    for command in commands.choices.values():
        command.add_argument("--dir", required=True, help="state folder")
    args = parser.parse_args(argv)
    handlers = {
        "start": _command_start,
        "stop": _command_stop,
        "status": _command_status,
        "env": _command_env,
    }
    handlers[args.command](args)


if __name__ == "__main__":
    main()
