"""The object-store port, one behavioural suite run against both adapters.

`store_kit` gives each test a fresh store: a local directory whose signed URLs
are served by the download router on a real uvicorn server, or a fresh bucket
on the real SeaweedFS server of the `s3_server` fixture. Each kit can also
reach behind the store (overwrite stored bytes, list what is physically
stored) to check what the store itself must not be trusted to report.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import socket
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from minio import Minio

from vanthu_contracts.errors import (
    FORBIDDEN,
    INTEGRITY,
    OBJECT_MISSING,
    PAYLOAD_TOO_LARGE,
    UNAVAILABLE,
    VALIDATION,
)
from vanthu_runtime.errors import AppError
from vanthu_runtime.objectstore import (
    SPOOL_MEMORY_BYTES,
    LocalObjectStore,
    ObjectStore,
    S3ObjectStore,
    UrlSigner,
    build_object_store,
    content_disposition,
    download_router,
)
from vanthu_runtime.settings import ServiceSettings

MiB = 1024 * 1024
VIETNAMESE_NAME = "Quyết định số 12 - Đồng ý.pdf"


@dataclass
class StoreKit:
    store: ObjectStore
    # Replace the stored bytes of an object behind the store's back.
    overwrite: Callable[[str, bytes], Awaitable[None]]
    # Everything physically stored (files or object keys), whatever the store says.
    stored_keys: Callable[[], Awaitable[list[str]]]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


# --- fixtures ---------------------------------------------------------------------------------


def _bound_loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def _serve(app: FastAPI, sock: socket.socket) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = time.monotonic() + 10
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        await asyncio.sleep(0.01)
    return server, task


@pytest.fixture
async def local_kit(tmp_path: Path) -> AsyncIterator[StoreKit]:
    sock = _bound_loopback_socket()
    port = sock.getsockname()[1]
    signer = UrlSigner(b"test-signing-secret-0123456789")
    store = LocalObjectStore(tmp_path / "objects", signer, f"http://127.0.0.1:{port}")
    await store.prepare()
    app = FastAPI()
    app.include_router(download_router(store, signer))
    server, task = await _serve(app, sock)

    async def overwrite(sha256: str, data: bytes) -> None:
        await asyncio.to_thread(store.path_for(sha256).write_bytes, data)

    async def stored_keys() -> list[str]:
        return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())

    try:
        yield StoreKit(store, overwrite, stored_keys)
    finally:
        server.should_exit = True
        await task
        sock.close()


def _raw_client(s3_server) -> Minio:
    return Minio(
        endpoint=s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        secure=s3_server.secure,
        region=s3_server.region,
    )


def _s3_store(s3_server, bucket: str, **kwargs) -> S3ObjectStore:
    return S3ObjectStore(
        endpoint=s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        bucket=bucket,
        secure=s3_server.secure,
        region=s3_server.region,
        **kwargs,
    )


async def _drop_bucket(raw: Minio, bucket: str) -> None:
    def drop() -> None:
        if not raw.bucket_exists(bucket_name=bucket):
            return
        for listed in raw.list_objects(bucket_name=bucket, recursive=True):
            raw.remove_object(bucket_name=bucket, object_name=listed.object_name)
        raw.remove_bucket(bucket_name=bucket)

    await asyncio.to_thread(drop)


def _fresh_bucket() -> str:
    return f"vanthu-test-{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def s3_kit(s3_server) -> AsyncIterator[StoreKit]:
    bucket = _fresh_bucket()
    store = _s3_store(s3_server, bucket)
    raw = _raw_client(s3_server)
    await store.prepare()

    async def overwrite(sha256: str, data: bytes) -> None:
        await asyncio.to_thread(
            raw.put_object,
            bucket_name=bucket,
            object_name=store.object_key(sha256),
            data=io.BytesIO(data),
            length=len(data),
        )

    async def stored_keys() -> list[str]:
        listed = await asyncio.to_thread(lambda: list(raw.list_objects(bucket_name=bucket, recursive=True)))
        return sorted(o.object_name for o in listed)

    try:
        yield StoreKit(store, overwrite, stored_keys)
    finally:
        await _drop_bucket(raw, bucket)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def kit(request: pytest.FixtureRequest) -> StoreKit:
    # Resolved lazily so local runs never start the S3 server.
    return request.getfixturevalue(f"{request.param}_kit")


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


async def read_all(store: ObjectStore, sha256: str) -> bytes:
    received = bytearray()
    async for chunk in await store.open(sha256):
        received += chunk
    return bytes(received)


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- the shared behaviour ---------------------------------------------------------------------


async def test_round_trip_keeps_bytes_size_and_content_type(kit: StoreKit) -> None:
    data = payload(2 * MiB + 12345)  # several read chunks, last one partial

    stored = await kit.store.put(data, content_type="application/pdf")

    assert stored.sha256 == sha256_of(data)
    assert (stored.size, stored.content_type, stored.created) == (len(data), "application/pdf", True)
    assert await kit.store.stat(stored.sha256) == type(stored)(stored.sha256, len(data), "application/pdf")
    assert await kit.store.exists(stored.sha256)
    assert await kit.store.get(stored.sha256) == data
    assert await read_all(kit.store, stored.sha256) == data


async def test_empty_object_round_trips(kit: StoreKit) -> None:
    stored = await kit.store.put(b"", content_type="text/plain")

    assert (stored.sha256, stored.size) == (sha256_of(b""), 0)
    assert await kit.store.get(stored.sha256) == b""


async def test_put_is_idempotent_whatever_the_source(kit: StoreKit) -> None:
    data = payload(300_000, seed=1)

    first = await kit.store.put(data, content_type="application/pdf")
    keys_after_first = await kit.stored_keys()
    from_file = await kit.store.put(io.BytesIO(data), content_type="application/pdf")
    from_chunks = await kit.store.put(chunks_of(data, 4096), content_type="application/octet-stream")
    from_bytes = await kit.store.put(bytes(data), content_type="text/plain")

    assert first.created is True
    assert from_file.created is False and from_chunks.created is False and from_bytes.created is False
    assert {first.sha256, from_file.sha256, from_chunks.sha256, from_bytes.sha256} == {sha256_of(data)}
    # The bytes were stored once, with the content type of the first put.
    assert from_chunks.content_type == from_bytes.content_type == "application/pdf"
    assert await kit.stored_keys() == keys_after_first


async def test_streaming_put_and_read_keep_memory_bounded(kit: StoreKit) -> None:
    size = 32 * MiB  # four times the in-memory spool threshold
    assert size > 2 * SPOOL_MEMORY_BYTES
    rng = random.Random(42)
    expected = hashlib.sha256()

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(size // (64 * 1024)):
            chunk = rng.randbytes(64 * 1024)
            expected.update(chunk)
            yield chunk

    tracemalloc.start()
    try:
        stored = await kit.store.put(upload(), content_type="application/pdf")
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        read_baseline, _ = tracemalloc.get_traced_memory()

        read_back = hashlib.sha256()
        read_size = 0
        async for chunk in await kit.store.open(stored.sha256):
            read_back.update(chunk)
            read_size += len(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (stored.sha256, stored.size) == (expected.hexdigest(), size)
    assert (read_back.hexdigest(), read_size) == (expected.hexdigest(), size)
    # Bounded by the spool threshold plus a part or chunk, far below the payload. The read
    # bound is measured above what was already live when it started (client pools, buffers
    # the put left cached), so it judges only what reading adds.
    assert put_peak < size / 2, f"put peaked at {put_peak / MiB:.1f} MiB"
    read_growth = read_peak - read_baseline
    assert read_growth < size / 8, f"read grew by {read_growth / MiB:.1f} MiB"


async def test_max_bytes_refuses_the_upload_and_stores_nothing(kit: StoreKit) -> None:
    data = payload(4 * MiB, seed=3)
    limit = 1 * MiB
    chunk_size = 64 * 1024
    pulled = 0

    async def upload() -> AsyncIterator[bytes]:
        nonlocal pulled
        for start in range(0, len(data), chunk_size):
            pulled += 1
            yield data[start : start + chunk_size]

    with pytest.raises(AppError) as refused:
        await kit.store.put(upload(), content_type="application/pdf", max_bytes=limit)
    assert refused.value.error is PAYLOAD_TOO_LARGE
    assert refused.value.details == {"limit": limit}
    assert refused.value.http_status == 413
    # It stopped reading as soon as the limit was passed.
    assert pulled == limit // chunk_size + 1

    for source in (data, io.BytesIO(data)):
        with pytest.raises(AppError) as refused_again:
            await kit.store.put(source, content_type="application/pdf", max_bytes=limit)
        assert refused_again.value.error is PAYLOAD_TOO_LARGE

    assert not await kit.store.exists(sha256_of(data))
    assert await kit.stored_keys() == []

    # Exactly at the limit is allowed.
    at_limit = await kit.store.put(data[:limit], content_type="application/pdf", max_bytes=limit)
    assert at_limit.size == limit and at_limit.created


async def test_tampered_object_raises_integrity_instead_of_handing_it_over(kit: StoreKit) -> None:
    data = payload(3 * MiB + 100, seed=5)
    stored = await kit.store.put(data, content_type="application/pdf")
    tampered = bytearray(data)
    tampered[2 * MiB] ^= 0xFF  # one byte, same length
    await kit.overwrite(stored.sha256, bytes(tampered))

    with pytest.raises(AppError) as on_get:
        await kit.store.get(stored.sha256)
    assert on_get.value.error is INTEGRITY
    assert on_get.value.details["sha256"] == stored.sha256

    received = bytearray()
    with pytest.raises(AppError) as on_open:
        async for chunk in await kit.store.open(stored.sha256):
            received += chunk
    assert on_open.value.error is INTEGRITY
    # The last chunk was held back: the consumer never had the whole content.
    assert 0 < len(received) < len(data)


async def test_truncated_object_raises_integrity(kit: StoreKit) -> None:
    data = payload(500_000, seed=6)
    stored = await kit.store.put(data, content_type="application/pdf")
    await kit.overwrite(stored.sha256, data[:-1])

    with pytest.raises(AppError) as raised:
        await kit.store.get(stored.sha256)
    assert raised.value.error is INTEGRITY


async def test_missing_object_is_reported_as_object_missing(kit: StoreKit) -> None:
    absent = sha256_of(b"never stored")

    assert await kit.store.stat(absent) is None
    assert not await kit.store.exists(absent)
    for attempt in (
        kit.store.get(absent),
        kit.store.get(absent, max_bytes=10),
        kit.store.open(absent),
        kit.store.delete(absent),
        kit.store.signed_url(absent, filename=None, ttl_s=60),
    ):
        with pytest.raises(AppError) as raised:
            await attempt
        assert raised.value.error is OBJECT_MISSING
        assert raised.value.http_status == 404


async def test_a_read_with_a_limit_refuses_a_bigger_object_before_reading_it(kit: StoreKit) -> None:
    data = payload(300_000, seed=7)  # beyond the local store's inline read size too
    stored = await kit.store.put(data, content_type="application/pdf")

    with pytest.raises(AppError) as raised:
        await kit.store.get(stored.sha256, max_bytes=len(data) - 1)
    assert raised.value.error is PAYLOAD_TOO_LARGE
    assert raised.value.details == {"size": len(data), "limit": len(data) - 1}
    assert await kit.store.get(stored.sha256, max_bytes=len(data)) == data


async def test_delete_removes_the_object(kit: StoreKit) -> None:
    stored = await kit.store.put(b"to be deleted", content_type="text/plain")

    await kit.store.delete(stored.sha256)

    assert not await kit.store.exists(stored.sha256)
    assert await kit.stored_keys() == []
    with pytest.raises(AppError) as raised:
        await kit.store.delete(stored.sha256)
    assert raised.value.error is OBJECT_MISSING


async def test_keys_that_are_not_sha256_are_refused(kit: StoreKit) -> None:
    for bad in ("../../etc/passwd", "ABCDEF" + "0" * 58, "0" * 63, ""):
        with pytest.raises(AppError) as raised:
            await kit.store.stat(bad)
        assert raised.value.error is VALIDATION


async def test_signed_url_downloads_the_bytes_with_the_vietnamese_name(kit: StoreKit) -> None:
    data = payload(1 * MiB + 7, seed=8)
    stored = await kit.store.put(data, content_type="application/pdf")

    url = await kit.store.signed_url(stored.sha256, filename=VIETNAMESE_NAME, ttl_s=120)

    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(url)
        assert response.status_code == 200, response.text
        assert response.content == data
        assert response.headers["content-type"] == "application/pdf"
        disposition = response.headers["content-disposition"]
        assert disposition == content_disposition(VIETNAMESE_NAME)
        assert 'filename="Quyet dinh so 12 - Dong y.pdf"' in disposition
        assert "filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh" in disposition

        # The signature covers the object, the name and the expiry.
        signature_param = "X-Amz-Signature" if isinstance(kit.store, S3ObjectStore) else "sig"
        signature = dict(parse_qsl(urlsplit(url).query))[signature_param]
        forged = with_query(url, **{signature_param: signature[:-4] + "AAAA"})
        assert (await http.get(forged)).status_code == 403
        other_object = await kit.store.put(b"another document", content_type="text/plain")
        redirected = url.replace(stored.sha256, other_object.sha256)
        assert (await http.get(redirected)).status_code == 403


async def test_expired_signed_url_is_refused(kit: StoreKit) -> None:
    stored = await kit.store.put(b"short-lived", content_type="text/plain")
    url = await kit.store.signed_url(stored.sha256, filename="a.txt", ttl_s=2)

    async with httpx.AsyncClient(timeout=30) as http:
        assert (await http.get(url)).status_code == 200
        await asyncio.sleep(3.2)
        assert (await http.get(url)).status_code == 403


async def test_check_passes_on_a_usable_store(kit: StoreKit) -> None:
    await kit.store.check()
    await kit.store.prepare()  # preparing again is harmless
    await kit.store.check()


# --- the local adapter and its download router ------------------------------------------------


def test_url_signer_verifies_only_what_it_signed() -> None:
    signer = UrlSigner(b"0123456789abcdef0123")
    sha = sha256_of(b"x")
    expires_at = int(time.time()) + 60
    query = dict(parse_qsl(signer.sign(sha, VIETNAMESE_NAME, expires_at)))

    assert query["exp"] == str(expires_at) and query["name"] == VIETNAMESE_NAME
    assert signer.verify(sha, VIETNAMESE_NAME, expires_at, query["sig"])
    assert not signer.verify(sha256_of(b"y"), VIETNAMESE_NAME, expires_at, query["sig"])
    assert not signer.verify(sha, "other.pdf", expires_at, query["sig"])
    assert not signer.verify(sha, VIETNAMESE_NAME, expires_at + 1, query["sig"])
    assert not signer.verify(sha, VIETNAMESE_NAME, expires_at, query["sig"], now=expires_at)
    assert not UrlSigner(b"another-secret-of-20").verify(sha, VIETNAMESE_NAME, expires_at, query["sig"])
    unnamed = dict(parse_qsl(signer.sign(sha, None, expires_at)))
    assert "name" not in unnamed and signer.verify(sha, None, expires_at, unnamed["sig"])
    with pytest.raises(ValueError):
        UrlSigner(b"short")


def test_content_disposition_is_header_safe() -> None:
    assert content_disposition(None) == "attachment"
    header = content_disposition('Tờ trình\r\nX-Evil: 1/"a".pdf')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="To trinhX-Evil: 1__a_.pdf"; ')
    assert header.endswith("filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnhX-Evil%3A%201_%22a%22.pdf")


async def test_download_router_refuses_incomplete_urls_with_forbidden(local_kit: StoreKit) -> None:
    stored = await local_kit.store.put(b"secret memo", content_type="text/plain")
    url = await local_kit.store.signed_url(stored.sha256, filename=None, ttl_s=60)
    bare = urlunsplit(urlsplit(url)._replace(query=""))

    async with httpx.AsyncClient() as http:
        for attempt in (bare, with_query(url, exp="soon"), bare + "?exp=99999999999"):
            response = await http.get(attempt)
            assert response.status_code == 403
            assert response.json() == FORBIDDEN.body().model_dump()
        assert (await http.get(url)).content == b"secret memo"


async def test_download_of_a_deleted_object_is_404(local_kit: StoreKit) -> None:
    stored = await local_kit.store.put(b"soon gone", content_type="text/plain")
    url = await local_kit.store.signed_url(stored.sha256, filename="x.txt", ttl_s=60)
    await local_kit.store.delete(stored.sha256)

    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 404
    assert response.json()["code"] == OBJECT_MISSING.code


async def test_download_of_a_tampered_local_object_breaks_off(local_kit: StoreKit) -> None:
    data = payload(3 * MiB, seed=9)
    stored = await local_kit.store.put(data, content_type="application/pdf")
    url = await local_kit.store.signed_url(stored.sha256, filename="x.pdf", ttl_s=60)
    await local_kit.overwrite(stored.sha256, data[:-1] + b"\x00")

    # Headers promised the full length; the server stops before the last chunk.
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(url)


async def test_local_store_leaves_no_temporary_files(local_kit: StoreKit) -> None:
    stored = await local_kit.store.put(chunks_of(payload(100_000), 1000), content_type="image/png")
    data_path = local_kit.store.path_for(stored.sha256)

    assert data_path.relative_to(local_kit.store.root).parts == (
        stored.sha256[:2],
        stored.sha256[2:4],
        stored.sha256,
    )
    assert await local_kit.stored_keys() == sorted(
        [
            str(data_path.relative_to(local_kit.store.root)),
            f"{data_path.relative_to(local_kit.store.root)}.json",
        ]
    )


async def test_local_check_fails_when_the_directory_is_unusable(tmp_path: Path) -> None:
    (tmp_path / "objects").write_text("a file where the store's directory should be")
    store = LocalObjectStore(tmp_path / "objects", UrlSigner(b"0123456789abcdef"), "http://127.0.0.1:1")

    with pytest.raises(AppError) as raised:
        await store.check()
    assert raised.value.error is UNAVAILABLE


# --- the S3 adapter ---------------------------------------------------------------------------


@pytest.mark.s3
async def test_s3_objects_are_laid_out_by_hash_with_their_metadata(s3_kit: StoreKit, s3_server) -> None:
    assert isinstance(s3_kit.store, S3ObjectStore)
    stored = await s3_kit.store.put(b"%PDF-1.7 hello", content_type="application/pdf")

    key = f"sha256/{stored.sha256[:2]}/{stored.sha256[2:4]}/{stored.sha256}"
    assert await s3_kit.stored_keys() == [key]
    raw = await asyncio.to_thread(
        _raw_client(s3_server).stat_object, bucket_name=s3_kit.store.bucket, object_name=key
    )
    assert (raw.size, raw.content_type) == (len(b"%PDF-1.7 hello"), "application/pdf")
    assert raw.metadata["x-amz-meta-sha256"] == stored.sha256


@pytest.mark.s3
async def test_s3_presigns_for_the_public_endpoint(s3_server) -> None:
    bucket = _fresh_bucket()
    port = s3_server.endpoint.rsplit(":", 1)[1]
    store = _s3_store(s3_server, bucket, public_endpoint=f"localhost:{port}")
    await store.prepare()
    try:
        stored = await store.put(b"public copy", content_type="text/plain")
        url = await store.signed_url(stored.sha256, filename=None, ttl_s=60)
        assert urlsplit(url).netloc == f"localhost:{port}"
        async with httpx.AsyncClient() as http:
            assert (await http.get(url)).content == b"public copy"
    finally:
        await _drop_bucket(_raw_client(s3_server), bucket)


@pytest.mark.s3
async def test_s3_check_fails_fast_when_the_server_is_unreachable(s3_server) -> None:
    with _bound_loopback_socket() as sock:  # bound, never listening: connections are refused
        endpoint = f"127.0.0.1:{sock.getsockname()[1]}"
        store = S3ObjectStore(endpoint, "key", "secret-key", "vanthu", False, s3_server.region)
        started = time.monotonic()
        with pytest.raises(AppError) as raised:
            await store.check()
    assert raised.value.error is UNAVAILABLE
    assert time.monotonic() - started < 15


@pytest.mark.s3
async def test_an_s3_outage_is_service_unavailable_for_every_operation(s3_server) -> None:
    """A stopped S3 server is a 503 the caller may retry, not an internal error (the chaos run
    saw the registry answer 500 while the server was down)."""
    with _bound_loopback_socket() as sock:  # bound, never listening: connections are refused
        endpoint = f"127.0.0.1:{sock.getsockname()[1]}"
        store = S3ObjectStore(endpoint, "key", "secret-key", "vanthu", False, s3_server.region)
        sha256 = hashlib.sha256(b"x").hexdigest()
        operations: dict[str, Callable[[], Awaitable[object]]] = {
            "put": lambda: store.put(b"x", content_type="text/plain"),
            "stat": lambda: store.stat(sha256),
            "open": lambda: store.open(sha256),
            "delete": lambda: store.delete(sha256),
            "signed_url": lambda: store.signed_url(sha256, filename="a.pdf", ttl_s=60),
            "prepare": store.prepare,
        }
        for name, operation in operations.items():
            with pytest.raises(AppError) as raised:
                await operation()
            assert raised.value.error is UNAVAILABLE, name
            assert raised.value.http_status == 503 and raised.value.details["store"] == "s3", name


@pytest.mark.s3
async def test_s3_check_fails_when_the_bucket_is_missing(s3_server) -> None:
    store = _s3_store(s3_server, _fresh_bucket())

    with pytest.raises(AppError) as raised:
        await store.check()
    assert raised.value.error is UNAVAILABLE


# --- building from settings -------------------------------------------------------------------


async def test_factory_builds_the_local_store(tmp_path: Path) -> None:
    settings = ServiceSettings(
        object_store="local",
        object_store_dir=tmp_path / "files",
        public_url="http://files.example:8100/",
        signed_url_secret="a-long-enough-test-secret",
    )
    store = build_object_store(settings)
    assert isinstance(store, LocalObjectStore)

    await store.prepare()
    stored = await store.put(b"embedded", content_type="text/plain")
    url = await store.signed_url(stored.sha256, filename=None, ttl_s=60)

    assert url.startswith(f"http://files.example:8100/objects/{stored.sha256}?exp=")
    assert store.path_for(stored.sha256).is_relative_to(tmp_path / "files")


@pytest.mark.s3
async def test_factory_builds_the_s3_store(s3_server) -> None:
    bucket = _fresh_bucket()
    settings = ServiceSettings(
        object_store="s3",
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_bucket=bucket,
        s3_secure=s3_server.secure,
        s3_region=s3_server.region,
    )
    store = build_object_store(settings)
    assert isinstance(store, S3ObjectStore)
    try:
        await store.prepare()
        stored = await store.put(b"in the bucket", content_type="text/plain")
        assert await store.get(stored.sha256) == b"in the bucket"
    finally:
        await _drop_bucket(_raw_client(s3_server), bucket)


def test_factory_refuses_an_unknown_store_kind() -> None:
    with pytest.raises(ValueError, match="object_store"):
        build_object_store(ServiceSettings(object_store="ftp"))
