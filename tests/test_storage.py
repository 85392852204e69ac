"""The storage contract, run for real against the folder store and a SeaweedFS S3 server."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import time
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from exchange.storage import (
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    get_storage,
    new_key,
    storage_from_url,
)
from infra.seaweedfs import SeaweedFS

MiB = 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DISPOSITION = "attachment; filename=\"CV checklist.docx\"; filename*=UTF-8''CV%20checklist.docx"
UNSAFE_KEYS = [
    "../outside",
    "files/../../outside",
    "/etc/passwd",
    "files//double",
    "files/./here",
    "files/",
    ".hidden",
    "files/.tmp-abc",
    "files\\windows",
    "nul\x00byte",
    "",
]


class PatternStream(io.RawIOBase):
    """``size`` reproducible bytes produced on the fly, like an upload arriving off the wire.

    Cannot seek unless asked to, and can fail at ``fail_at`` like a client that goes away.
    """

    def __init__(self, size: int, *, seekable: bool = False, fail_at: int | None = None):
        super().__init__()
        self.size, self.position = size, 0
        self._seekable, self.fail_at = seekable, fail_at

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("seek")
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def readinto(self, buffer) -> int:
        if self.fail_at is not None and self.position >= self.fail_at:
            raise ConnectionResetError("the uploading client went away")
        count = min(len(buffer), self.size - self.position, 65536 - self.position % 65536)
        block = (self.position // 65536).to_bytes(4, "big") * 16384
        start = self.position % 65536
        buffer[:count] = block[start : start + count]
        self.position += count
        return count


def sha256_of(stream: io.RawIOBase | io.BufferedIOBase) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(MiB):
        digest.update(chunk)
    return digest.hexdigest()


def stored_bytes(storage: Storage, key: str) -> bytes:
    with storage.open(key) as reader:
        return reader.read()


def put_bytes(storage: Storage, key: str, data: bytes, content_type: str = DOCX) -> None:
    storage.put(key, io.BytesIO(data), content_type=content_type)


# -- the contract, on both backends ---------------------------------------------------------


def test_round_trip_is_byte_for_byte(storage: Storage) -> None:
    data = bytes(range(256)) * 4099 + b"\r\n\x00 end"
    key = new_key()
    put_bytes(storage, key, data)
    assert stored_bytes(storage, key) == data


def test_twenty_megabyte_stream_is_stored_with_bounded_memory(storage: Storage) -> None:
    size = 20 * MiB
    key = new_key()
    storage.check()  # S3: load boto3's client and service model before measuring one upload
    tracemalloc.start()
    try:
        storage.put(key, PatternStream(size), content_type="application/pdf")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < size // 2, f"put held {peak / MiB:.1f} MiB for a {size / MiB:.0f} MiB file"
    with storage.open(key) as reader:
        assert sha256_of(reader) == sha256_of(PatternStream(size))


def test_put_reads_from_the_current_position_and_leaves_the_source_open(
    storage: Storage, tmp_path: Path
) -> None:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"HEADER" + b"payload" * 1000)
    with upload.open("rb") as source:
        source.seek(6)
        storage.put("files/aa/bb/positioned", source, content_type="text/plain")
        assert not source.closed
        source.seek(0)
        assert source.read(6) == b"HEADER"
    assert stored_bytes(storage, "files/aa/bb/positioned") == b"payload" * 1000


def test_put_replaces_an_existing_object(storage: Storage) -> None:
    key = new_key()
    put_bytes(storage, key, b"first version")
    put_bytes(storage, key, b"second")
    assert stored_bytes(storage, key) == b"second"


@pytest.mark.parametrize("seekable", [False, True], ids=["stream", "file"])
def test_a_failed_upload_leaves_no_partial_object(storage: Storage, seekable: bool) -> None:
    key, fresh_key = new_key(), new_key()
    put_bytes(storage, key, b"the good version")
    for target in (key, fresh_key):
        broken = PatternStream(20 * MiB, seekable=seekable, fail_at=7 * MiB)
        with pytest.raises(ConnectionResetError):
            storage.put(target, broken, content_type="application/pdf")
    assert stored_bytes(storage, key) == b"the good version"
    assert not storage.exists(fresh_key)
    assert sorted(storage.iter_keys()) == [key]


def test_exists_delete_and_missing_objects(storage: Storage) -> None:
    key = new_key()
    assert not storage.exists(key)
    put_bytes(storage, key, b"x")
    assert storage.exists(key)
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # deleting again is not an error
    with pytest.raises(ObjectNotFound):
        stored_bytes(storage, key)


def test_missing_object_is_a_storage_error_too(storage: Storage) -> None:
    with pytest.raises(StorageError):
        stored_bytes(storage, "files/00/00/never-stored")


def test_iter_keys_lists_by_prefix(storage: Storage) -> None:
    keys = ["files/ab/01/one", "files/ab/02/two", "files/cd/01/three", "previews/ab/01/four"]
    for key in keys:
        put_bytes(storage, key, key.encode())
    assert sorted(storage.iter_keys()) == sorted(keys)
    assert sorted(storage.iter_keys("files/")) == keys[:3]
    assert sorted(storage.iter_keys("files/ab/")) == keys[:2]
    assert sorted(storage.iter_keys("files/a")) == keys[:2]
    assert sorted(storage.iter_keys("previews")) == keys[3:]
    assert list(storage.iter_keys("nothing/here/")) == []


def test_new_keys_are_random_fanned_out_and_usable(storage: Storage) -> None:
    keys = {new_key() for _ in range(200)} | {new_key("previews")}
    assert len(keys) == 201
    key = new_key("previews")
    prefix, first, second, token = key.split("/")
    assert prefix == "previews" and (first, second) == (token[:2], token[2:4])
    assert len(token) == 32
    put_bytes(storage, key, b"png")
    assert list(storage.iter_keys("previews/")) == [key]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused_by_every_method(
    storage: Storage, key: str, tmp_path: Path
) -> None:
    calls: list[Callable[[], object]] = [
        lambda: put_bytes(storage, key, b"escape attempt"),
        lambda: stored_bytes(storage, key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.send(
            key, filename="x.docx", content_type=DOCX, content_disposition=DISPOSITION
        ),
    ]
    for call in calls:
        with pytest.raises(ValueError):
            call()
    assert not (tmp_path / "outside").exists()


def test_check_passes_on_a_working_store(storage: Storage) -> None:
    storage.check()


# -- downloads --------------------------------------------------------------------------------


def download_app(storage: Storage) -> Flask:
    """A tiny app wired like the real one: the store in ``app.extensions``."""
    app = Flask(__name__)
    app.extensions["exchange.storage"] = storage

    @app.get("/download/<path:key>")
    def download(key: str):
        return get_storage().send(
            key, filename="CV checklist.docx", content_type=DOCX, content_disposition=DISPOSITION
        )

    return app


def test_folder_store_sends_an_attachment_with_the_given_headers(
    local_storage: LocalStorage,
) -> None:
    data = b"PK\x03\x04 <html><script>alert(1)</script>" * 1000
    put_bytes(local_storage, "files/aa/bb/cv", data, content_type="text/html")
    response = download_app(local_storage).test_client().get("/download/files/aa/bb/cv")
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Type"] == DOCX
    assert response.headers["Content-Disposition"] == DISPOSITION
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_folder_store_reports_a_missing_file(local_storage: LocalStorage) -> None:
    with download_app(local_storage).test_request_context():
        with pytest.raises(ObjectNotFound):
            local_storage.send(
                "files/00/00/gone", filename="a", content_type=DOCX, content_disposition=DISPOSITION
            )


def test_s3_redirects_to_a_presigned_download(
    s3_storage: S3Storage, caplog: pytest.LogCaptureFixture
) -> None:
    data = os.urandom(300_000)
    put_bytes(s3_storage, "files/aa/bb/cv", data, content_type="text/html")
    with caplog.at_level(logging.DEBUG, logger="exchange"):
        response = download_app(s3_storage).test_client().get("/download/files/aa/bb/cv")
    assert response.status_code == 302
    location = response.headers["Location"]
    with urllib.request.urlopen(location, timeout=10) as fetched:
        assert fetched.read() == data
        assert fetched.headers["Content-Disposition"] == DISPOSITION
        assert fetched.headers["Content-Type"] == DOCX
    assert "X-Amz-Signature" not in caplog.text


def test_presigned_download_expires(s3_storage_factory: Callable[..., S3Storage]) -> None:
    store = s3_storage_factory(presign_seconds=1)
    put_bytes(store, "files/aa/bb/cv", b"short-lived")
    location = download_app(store).test_client().get("/download/files/aa/bb/cv").location
    with urllib.request.urlopen(location, timeout=10) as fetched:
        assert fetched.read() == b"short-lived"
    time.sleep(2.5)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(location, timeout=10)
    assert refused.value.code == 403


def test_presigned_download_uses_the_public_endpoint(
    seaweedfs: SeaweedFS, s3_storage_factory: Callable[..., S3Storage]
) -> None:
    public = f"http://localhost:{seaweedfs.ports.s3}"
    store = s3_storage_factory(public_endpoint=public)
    put_bytes(store, "files/aa/bb/cv", b"via the public name")
    location = download_app(store).test_client().get("/download/files/aa/bb/cv").location
    assert location.startswith(public + "/")
    with urllib.request.urlopen(location, timeout=10) as fetched:
        assert fetched.read() == b"via the public name"


def test_files_are_never_sent_inline(storage: Storage) -> None:
    put_bytes(storage, "files/aa/bb/cv", b"x")
    with download_app(storage).test_request_context():
        for disposition in ("inline", "inline; filename=cv.html", "", "attachment\r\nX-Evil: 1"):
            with pytest.raises(ValueError):
                storage.send(
                    "files/aa/bb/cv",
                    filename="cv.html",
                    content_type="text/html",
                    content_disposition=disposition,
                )


# -- the folder store on disk ------------------------------------------------------------------


def test_symlinks_cannot_lead_out_of_the_folder(tmp_path: Path) -> None:
    store, outside = LocalStorage(tmp_path / "files"), tmp_path / "outside"
    outside.mkdir()
    store.check()
    (tmp_path / "files" / "linked").symlink_to(outside)
    with pytest.raises(ValueError):
        put_bytes(store, "linked/escaped", b"x")
    assert list(outside.iterdir()) == []


def test_folder_check_fails_when_the_folder_cannot_be_used(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("a file where the folder should be")
    with pytest.raises(StorageError):
        LocalStorage(tmp_path / "not-a-folder").check()
    with pytest.raises(StorageError):
        put_bytes(LocalStorage(tmp_path / "not-a-folder"), "files/aa/bb/x", b"x")


# -- the S3 store when things go wrong -----------------------------------------------------------


def test_wrong_credentials_are_a_storage_error(
    seaweedfs: SeaweedFS, s3_storage_factory: Callable[..., S3Storage]
) -> None:
    store = s3_storage_factory(secret_access_key="not-the-secret")
    for call in (store.check, lambda: put_bytes(store, "files/aa/bb/x", b"x")):
        with pytest.raises(StorageError) as failed:
            call()
        assert "not-the-secret" not in str(failed.value)
        assert seaweedfs.secret_key not in str(failed.value)


def test_a_missing_bucket_fails_the_check(s3_storage_factory: Callable[..., S3Storage]) -> None:
    with pytest.raises(StorageError):
        s3_storage_factory(bucket="no-such-bucket").check()


@pytest.mark.slow
def test_a_stopped_server_fails_fast_and_a_restart_keeps_the_data(
    seaweedfs: SeaweedFS, s3_storage: S3Storage
) -> None:
    put_bytes(s3_storage, "files/aa/bb/kept", b"still here after the restart")
    seaweedfs.stop()
    try:
        started = time.monotonic()
        for call in (
            s3_storage.check,
            lambda: put_bytes(s3_storage, "files/aa/bb/new", b"x"),
            lambda: stored_bytes(s3_storage, "files/aa/bb/kept"),
            lambda: list(s3_storage.iter_keys()),
        ):
            with pytest.raises(StorageError):
                call()
        assert time.monotonic() - started < 15
    finally:
        seaweedfs.start()
    s3_storage.check()
    assert stored_bytes(s3_storage, "files/aa/bb/kept") == b"still here after the restart"


@pytest.mark.slow
def test_a_hung_server_fails_within_the_timeouts(
    seaweedfs: SeaweedFS, s3_storage_factory: Callable[..., S3Storage]
) -> None:
    store = s3_storage_factory(connect_timeout=1, read_timeout=1, max_attempts=1)
    put_bytes(store, "files/aa/bb/kept", b"kept")
    seaweedfs.freeze()
    try:
        started = time.monotonic()
        with pytest.raises(StorageError):
            store.check()
        with pytest.raises(StorageError):
            stored_bytes(store, "files/aa/bb/kept")
        assert time.monotonic() - started < 6
    finally:
        seaweedfs.thaw()
    store.check()
    assert stored_bytes(store, "files/aa/bb/kept") == b"kept"


def test_a_forked_worker_uses_the_store_after_the_parent_did(s3_storage: S3Storage) -> None:
    put_bytes(s3_storage, "files/aa/bb/parent", b"from the parent")
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child process
        try:
            put_bytes(
                s3_storage, "files/aa/bb/child", stored_bytes(s3_storage, "files/aa/bb/parent")
            )
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert stored_bytes(s3_storage, "files/aa/bb/child") == b"from the parent"


# -- configuration --------------------------------------------------------------------------------


def test_file_url_makes_a_folder_store(tmp_path: Path) -> None:
    store = storage_from_url((tmp_path / "my files").as_uri())
    assert isinstance(store, LocalStorage)
    put_bytes(store, "files/aa/bb/x", b"on disk")
    assert (tmp_path / "my files" / "files" / "aa" / "bb" / "x").read_bytes() == b"on disk"


def test_s3_url_uses_the_aws_environment_and_the_prefix(
    seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    store = storage_from_url(f"s3://{seaweedfs.bucket}/from-url/nested", presign_seconds=30)
    assert isinstance(store, S3Storage) and store.presign_seconds == 30
    put_bytes(store, "files/aa/bb/x", b"in the bucket")
    listed = seaweedfs.client().list_objects_v2(Bucket=seaweedfs.bucket, Prefix="from-url/")
    assert [item["Key"] for item in listed["Contents"]] == ["from-url/nested/files/aa/bb/x"]
    assert list(store.iter_keys()) == ["files/aa/bb/x"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/files",
        "files",
        "file://relative/path",
        "file:relative",
        "s3://",
        "s3://ab",
        "s3://Upper_Case",
        "s3://bucket/../escape",
        "s3://AKIAEXAMPLE:hunter2-secret@bucket",
    ],
)
def test_unusable_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        storage_from_url(url)
    message = str(refused.value)
    assert "file:///" in message or "s3://" in message or "AWS_" in message
    assert "hunter2" not in message
