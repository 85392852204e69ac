"""Where file bytes live: a folder (the embedded default) or any S3-compatible store.

The rest of the app sees one small contract, :class:`Storage`, so the same code serves a
single machine and a scaled-out deployment. Three rules shape every backend:

- Keys are made by the server (:func:`new_key`), never taken from a user's file name, and
  both backends refuse the same unsafe keys, so code that works on one works on the other.
- Bytes are streamed in bounded chunks; no file is ever read whole into memory.
- Every failure of the store itself surfaces as :class:`StorageError`, whose message is safe
  to log (no credentials, no presigned URLs); the app turns it into a friendly 503 page.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

import flask
from flask import current_app
from werkzeug.utils import redirect

COPY_CHUNK = 1024 * 1024
MAX_KEY_LENGTH = 512
_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}"
_KEY = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_PREFIX = re.compile(rf"(?:{_SEGMENT}/)*[A-Za-z0-9._-]*")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_TEMP_PREFIX = ".tmp-"


class StorageError(Exception):
    """A storage backend failed; message safe to log (no secrets, no presigned URLs)."""


class ObjectNotFound(StorageError):
    """The store answered, but holds no object under this key.

    A subclass of :class:`StorageError` so callers that only care "did it work?" need no
    extra branch, while a view can still tell a missing object (404) from a store outage.
    """


def new_key(prefix: str = "files") -> str:
    """A fresh random key such as ``files/3f/2a/3f2a9c…``.

    Two levels of fan-out keep any one folder small in the folder store; a UUID4 makes keys
    unguessable and collision-free without asking the store first.
    """
    token = uuid.uuid4().hex
    return validate_key(f"{prefix}/{token[:2]}/{token[2:4]}/{token}")


def validate_key(key: str) -> str:
    """Return ``key`` if it is safe on every backend, else raise :class:`ValueError`.

    Segments are ``[A-Za-z0-9_-][A-Za-z0-9._-]*`` joined by single slashes: no absolute
    paths, no ``.``/``..``, no backslashes, no hidden names (the folder store keeps its
    temporary files under a leading dot, so they can never collide with a key).
    """
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise ValueError(f"unsafe storage key refused: {key!r}")
    return key


def _validate_prefix(prefix: str) -> str:
    """Like :func:`validate_key`, but the last segment may be partial or empty."""
    if not isinstance(prefix, str) or len(prefix) > MAX_KEY_LENGTH:
        raise ValueError(f"unsafe storage key prefix refused: {prefix!r}")
    if not _PREFIX.fullmatch(prefix) or prefix.rpartition("/")[2] in (".", ".."):
        raise ValueError(f"unsafe storage key prefix refused: {prefix!r}")
    return prefix


def _validate_download(content_type: str, content_disposition: str) -> None:
    """Downloads are always attachments with a clean, explicit content type."""
    for value in (content_type, content_disposition):
        if not value or "\r" in value or "\n" in value:
            raise ValueError("content type and disposition must be non-empty single lines")
    if not content_disposition.lower().startswith("attachment"):
        raise ValueError("files are only ever sent as attachments, never inline")


def get_storage() -> Storage:
    """The store the running app was configured with (set up by the app factory)."""
    return current_app.extensions["exchange.storage"]


class Storage(ABC):
    """The one contract the app uses for file bytes.

    Every method refuses an unsafe key with :class:`ValueError` (a programming error, not
    an outage) and reports a failing store with :class:`StorageError`.
    """

    @abstractmethod
    def put(self, key: str, source: BinaryIO, *, content_type: str) -> None:
        """Store ``source`` (from its current position to its end) under ``key``.

        Streams in bounded chunks. Atomic: readers see either no object or the complete
        new one, never a partial write, also when ``source`` fails half-way. An existing
        object is replaced. ``source`` is left open for the caller.
        """

    @abstractmethod
    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A streaming reader for the object; raises :class:`ObjectNotFound` if absent."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object. An absent key is not an error, so retries are harmless."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    @abstractmethod
    def stored_at(self, key: str) -> datetime:
        """When the object was written (UTC); raises :class:`ObjectNotFound` if absent.

        ``exchange doctor`` uses it to leave young unreferenced objects alone: they may
        belong to a share whose database transaction has not committed yet.
        """

    @abstractmethod
    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key starting with ``prefix``, in no promised order (for doctor)."""

    @abstractmethod
    def send(
        self, key: str, *, filename: str, content_type: str, content_disposition: str
    ) -> flask.Response:
        """A response that downloads the object as an attachment, never inline.

        ``content_disposition`` must start with ``attachment``; it and ``content_type``
        are what the browser gets, whatever the object was stored with.
        """

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`StorageError` if the store cannot be used (for ``/readyz``)."""


class LocalStorage(Storage):
    """A folder on the local disk: the embedded default for a single machine.

    Keys map to nested paths below ``root``. Writes go to a hidden temporary file in the
    target folder, are fsynced, then renamed into place, so a crash never leaves a
    half-written object under a real key. Files are created with mode 0600.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        """The file for ``key``; refuses keys that would land outside the root (symlinks)."""
        path = self.root.joinpath(*validate_key(key).split("/"))
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key escapes the storage folder: {key!r}")
        return path

    def put(self, key: str, source: BinaryIO, *, content_type: str) -> None:
        """See :meth:`Storage.put`; errors raised by ``source`` itself pass through as-is."""
        path, failed = self._path(key), _FolderErrors(f"could not write {key!r} to {self.root}")
        with failed:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                _copy_durably(source, out, failed)
            with failed:
                os.replace(temp_name, path)
                _fsync_folder(path.parent)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"no object {key!r} in {self.root}") from exc
        except OSError as exc:
            raise StorageError(f"could not read {key!r} from {self.root}: {exc}") from exc
        with handle:
            yield handle

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            message = f"could not delete {key!r} from {self.root}: {exc}"  # nosec B608: not SQL
            raise StorageError(message) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def stored_at(self, key: str) -> datetime:
        try:
            return datetime.fromtimestamp(self._path(key).stat().st_mtime, UTC)
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"no object {key!r}") from exc
        except OSError as exc:
            raise StorageError(f"cannot read {key!r}: {exc.strerror}") from exc

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        start = self.root.joinpath(*_validate_prefix(prefix).split("/")[:-1])
        return self._walk(start, prefix)

    def _walk(self, start: Path, prefix: str) -> Iterator[str]:
        """Walk only the deepest folder the prefix names, skipping temporary files."""
        for folder, dirs, files in os.walk(start, onerror=self._raise_walk_error):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            base = Path(folder).relative_to(self.root).as_posix()
            for name in files:
                key = name if base == "." else f"{base}/{name}"
                if key.startswith(prefix) and not name.startswith("."):
                    yield key

    def _raise_walk_error(self, exc: OSError) -> None:
        """A missing start folder just means "no keys"; any other error is an outage."""
        if not isinstance(exc, FileNotFoundError):
            raise StorageError(f"could not list {self.root}: {exc}") from exc

    def send(
        self, key: str, *, filename: str, content_type: str, content_disposition: str
    ) -> flask.Response:
        _validate_download(content_type, content_disposition)
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"no object {key!r} in {self.root}")
        response = flask.send_file(
            path, mimetype=content_type, as_attachment=True, download_name=filename
        )
        response.headers["Content-Type"] = content_type
        response.headers["Content-Disposition"] = content_disposition
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.cache_control.private = True
        return response

    def check(self) -> None:
        """Ready means the folder exists (it is made on a fresh install) and is writable."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"storage folder {self.root} cannot be created: {exc}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"storage folder {self.root} is not writable")


class _FolderErrors:
    """Failures of the disk become :class:`StorageError`; other errors pass through.

    Reusable, unlike a generator context manager, so one instance can guard every write.
    """

    def __init__(self, message: str) -> None:
        self.message = message

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        if isinstance(exc, OSError):
            raise StorageError(f"{self.message}: {exc}") from exc


def _copy_durably(source: BinaryIO, out: BinaryIO, failed: _FolderErrors) -> None:
    """Copy in bounded chunks and fsync; only the disk's errors are the store's."""
    while chunk := source.read(COPY_CHUNK):
        with failed:
            out.write(chunk)
    with failed:
        out.flush()
        os.fsync(out.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable: the database will soon point at this key."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- S3 -----------------------------------------------------------------------------------

_client_lock = threading.Lock()


def _renew_lock_after_fork() -> None:
    """A lock held by another thread at fork time would stay locked forever in the child."""
    global _client_lock
    _client_lock = threading.Lock()


os.register_at_fork(after_in_child=_renew_lock_after_fork)


class S3Storage(Storage):
    """A bucket (optionally below a key prefix) in any S3-compatible store, through boto3.

    Endpoint, keys and region default to boto3's own ``AWS_*`` environment variables. The
    client is made on first use and once per process: a process forked after first use
    (e.g. a gunicorn worker) makes its own, as boto3 clients must not cross a fork.
    Timeouts and a small retry budget make a hung store fail in bounded time instead of
    holding a web worker. ``public_endpoint`` is the address browsers use to reach the
    store when it differs from the app's (presigned URLs are signed for that host).
    """

    #: Objects up to this size go up in one streamed PUT; larger ones in parts.
    multipart_threshold = 16 * 1024 * 1024
    #: Upload part size: the memory one upload holds (S3's minimum part size is 5 MiB).
    multipart_chunksize = 5 * 1024 * 1024

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        presign_seconds: int = 60,
        public_endpoint: str | None = None,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region_name: str | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 20.0,
        max_attempts: int = 2,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._root = f"{self.prefix}/" if self.prefix else ""
        if self.prefix:
            validate_key(self.prefix)
        self.presign_seconds = presign_seconds
        self.public_endpoint = public_endpoint
        self.endpoint_url = endpoint_url
        self._credentials = (access_key_id, secret_access_key, region_name)
        self._timeouts = (connect_timeout, read_timeout, max_attempts)
        self._clients: tuple[int, Any, Any] | None = None

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    # -- clients ------------------------------------------------------------------------

    def _client(self) -> Any:
        """The API client of this process."""
        return self._process_clients()[1]

    def _signer(self) -> Any:
        """The client that signs download URLs (for the public endpoint, if any)."""
        return self._process_clients()[2]

    def _process_clients(self) -> tuple[int, Any, Any]:
        clients = self._clients
        if clients is None or clients[0] != os.getpid():
            with _client_lock:
                if self._clients is None or self._clients[0] != os.getpid():
                    self._clients = self._make_clients()
                clients = self._clients
        return clients

    def _make_clients(self) -> tuple[int, Any, Any]:
        import boto3
        from botocore.config import Config

        access_key, secret_key, region = self._credentials
        connect_timeout, read_timeout, max_attempts = self._timeouts
        session = boto3.session.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
        )
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            signature_version="s3v4",
        )
        api = session.client("s3", endpoint_url=self.endpoint_url, config=config)
        signer = api
        if self.public_endpoint:
            signer = session.client("s3", endpoint_url=self.public_endpoint, config=config)
        return os.getpid(), api, signer

    @contextmanager
    def _translated_errors(self, action: str, key: str | None = None) -> Iterator[None]:
        """Turn boto3's many exception types into :class:`StorageError`."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            if key is not None and _is_not_found(exc):
                raise ObjectNotFound(f"no object {key!r} in {self}") from exc
            raise StorageError(f"S3 {action} failed on {self}: {exc}") from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise StorageError(f"S3 {action} failed on {self}: {exc}") from exc

    # -- the contract -------------------------------------------------------------------

    def put(self, key: str, source: BinaryIO, *, content_type: str) -> None:
        object_key = self._root + validate_key(key)
        with _seekable(source) as body, self._translated_errors("upload"):
            self._client().upload_fileobj(
                body,
                self.bucket,
                object_key,
                ExtraArgs={"ContentType": content_type},
                Config=self._transfer_config(),
            )

    def _transfer_config(self) -> Any:
        """Sequential parts: one upload holds one part in memory, whatever the file size."""
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=self.multipart_chunksize,
            use_threads=False,
        )

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        object_key = self._root + validate_key(key)
        with self._translated_errors("download", key):
            body = self._client().get_object(Bucket=self.bucket, Key=object_key)["Body"]
        reader = io.BufferedReader(_GuardedStream(body, self, key), buffer_size=COPY_CHUNK)
        with reader:
            yield reader

    def delete(self, key: str) -> None:
        object_key = self._root + validate_key(key)
        with self._translated_errors("delete"):
            self._client().delete_object(Bucket=self.bucket, Key=object_key)

    def exists(self, key: str) -> bool:
        object_key = self._root + validate_key(key)
        try:
            with self._translated_errors("lookup", key):
                self._client().head_object(Bucket=self.bucket, Key=object_key)
        except ObjectNotFound:
            return False
        return True

    def stored_at(self, key: str) -> datetime:
        object_key = self._root + validate_key(key)
        with self._translated_errors("lookup", key):
            head = self._client().head_object(Bucket=self.bucket, Key=object_key)
        return head["LastModified"].astimezone(UTC)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        return self._list(self._root + _validate_prefix(prefix))

    def _list(self, full_prefix: str) -> Iterator[str]:
        with self._translated_errors("listing"):
            paginator = self._client().get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
                for item in page.get("Contents", ()):
                    yield item["Key"][len(self._root) :]

    def send(
        self, key: str, *, filename: str, content_type: str, content_disposition: str
    ) -> flask.Response:
        """Redirect to a short-lived presigned GET that forces the download headers.

        The URL is signed locally (the store is not contacted) and is never logged.
        """
        _validate_download(content_type, content_disposition)
        params = {
            "Bucket": self.bucket,
            "Key": self._root + validate_key(key),
            "ResponseContentDisposition": content_disposition,
            "ResponseContentType": content_type,
        }
        with self._translated_errors("signing"):
            url = self._signer().generate_presigned_url(
                "get_object", Params=params, ExpiresIn=self.presign_seconds
            )
        response = redirect(url, code=302)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def check(self) -> None:
        with self._translated_errors("health check"):
            self._client().head_bucket(Bucket=self.bucket)


def _is_not_found(exc: Any) -> bool:
    error = exc.response.get("Error", {})
    return str(error.get("Code")) in {"404", "NoSuchKey", "NotFound"}


class _KeepOpen(io.RawIOBase):
    """A view of a seekable stream that boto3 may close without closing the caller's file."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """Full reads: boto3 takes a short read for the end of an upload part."""
        data = self._raw.read(size)
        if size is None or size < 0 or not data or len(data) == size:
            return data
        gathered = bytearray(data)
        while len(gathered) < size and (more := self._raw.read(size - len(gathered))):
            gathered += more
        return bytes(gathered)

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


@contextmanager
def _seekable(source: BinaryIO) -> Iterator[BinaryIO]:
    """``source`` itself if it can seek, else a copy spooled to a temporary file.

    boto3 buffers a stream that cannot seek in memory, several parts at a time; spooling
    it to disk first keeps one upload's memory at one part and makes retries possible.
    """
    if _can_seek(source):
        yield _KeepOpen(source)  # type: ignore[misc]
        return
    with tempfile.TemporaryFile(prefix="exchange-upload-") as spool:
        shutil.copyfileobj(source, spool, COPY_CHUNK)
        spool.seek(0)
        yield spool  # type: ignore[misc]


def _can_seek(source: BinaryIO) -> bool:
    try:
        return bool(source.seekable())
    except (AttributeError, OSError, ValueError):
        return False


class _GuardedStream(io.RawIOBase):
    """An S3 response body whose read errors (store died mid-download) are StorageErrors."""

    def __init__(self, body: Any, storage: S3Storage, key: str) -> None:
        super().__init__()
        self._body = body
        self._storage = storage
        self._key = key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with self._storage._translated_errors("download", self._key):
            data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        with suppress(Exception):
            self._body.close()
        super().close()


# --- configuration ------------------------------------------------------------------------


def storage_from_url(
    url: str,
    *,
    presign_seconds: int = 60,
    public_endpoint: str | None = None,
    connect_timeout: float = 3.0,
    read_timeout: float = 20.0,
) -> Storage:
    """Build the store named by ``EXCHANGE_STORAGE_URL``.

    ``file:///absolute/path`` is a folder; ``s3://bucket`` or ``s3://bucket/prefix`` is S3
    with endpoint, keys and region from boto3's ``AWS_*`` environment variables. Anything
    else raises :class:`ValueError` saying what is accepted (never echoing credentials).
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        return _local_from_url(parts)
    if parts.scheme == "s3":
        bucket, prefix = _bucket_and_prefix(parts)
        return S3Storage(
            bucket,
            prefix,
            presign_seconds=presign_seconds,
            public_endpoint=public_endpoint,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
    raise ValueError(
        f"unsupported storage URL scheme {parts.scheme!r}: "
        "use file:///absolute/path or s3://bucket[/prefix]"
    )


def _local_from_url(parts: Any) -> LocalStorage:
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        raise ValueError("a file storage URL needs an absolute path: file:///absolute/path")
    if parts.query or parts.fragment:
        raise ValueError("a file storage URL takes no query or fragment")
    return LocalStorage(Path(unquote(parts.path)))


def _bucket_and_prefix(parts: Any) -> tuple[str, str]:
    if "@" in parts.netloc:
        raise ValueError(
            "credentials do not belong in the storage URL; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY instead"
        )
    if not _BUCKET.fullmatch(parts.netloc) or parts.query or parts.fragment:
        raise ValueError(
            "an S3 storage URL is s3://bucket or s3://bucket/prefix, with a bucket name of "
            "3-63 lowercase letters, digits, dots or hyphens"
        )
    prefix = parts.path.strip("/")
    if prefix and not _KEY.fullmatch(prefix):
        raise ValueError(
            "the prefix in s3://bucket/prefix is made of letters, digits, '.', '_', '-' "
            "and single slashes, and no segment may start with a dot"
        )
    return parts.netloc, prefix
