"""The S3 adapter: any S3-compatible server (MinIO, SeaweedFS, Garage, Ceph RGW).

Objects live at `<key_prefix>ab/cd/<sha256>` in one bucket, with their content
type. Downloads are presigned GET URLs that ask the server to send the
Vietnamese filename in Content-Disposition. The `minio` client is synchronous
(urllib3), so every call runs in a worker thread; arguments are passed by
keyword because minio 8 makes them keyword-only.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import certifi
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error, ServerError

from vanthu_contracts.errors import OBJECT_MISSING, UNAVAILABLE
from vanthu_runtime.errors import AppError
from vanthu_runtime.objectstore.disposition import content_disposition
from vanthu_runtime.objectstore.port import ObjectStore, PutSource, StoredObject, check_sha256
from vanthu_runtime.objectstore.streams import (
    SPOOL_MEMORY_BYTES,
    VerifyingReader,
    receive,
    verified_chunks,
)

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})
_BUCKET_ALREADY_THERE = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})
# The server could not be reached (refused, reset, timed out after urllib3's retries) or answered
# 5xx without an S3 error: an outage that passes. Callers get `service_unavailable` (503, "try
# again later"), which clients retry and consumers redeliver, instead of an internal error.
_OUTAGE = (urllib3.exceptions.HTTPError, OSError, ServerError)


def _unavailable(error: BaseException) -> AppError:
    return AppError(UNAVAILABLE, details={"store": "s3", "reason": type(error).__name__})


async def _call(method: Any, /, **kwargs: Any) -> Any:
    """One blocking minio call in a worker thread, an outage reported as `service_unavailable`."""
    try:
        return await asyncio.to_thread(method, **kwargs)
    except _OUTAGE as error:
        raise _unavailable(error) from error


def _http_client(secure: bool) -> urllib3.PoolManager:
    # minio's default waits 5 minutes to connect and retries 5 times, which turns a
    # readiness probe against a dead server into a hang. Fail fast on connect; allow
    # slow reads of large objects.
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=120),
        maxsize=10,
        cert_reqs="CERT_REQUIRED" if secure else "CERT_NONE",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


class S3ObjectStore(ObjectStore):
    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool,
        region: str,
        key_prefix: str = "sha256/",
        *,
        public_endpoint: str | None = None,
        spool_memory_bytes: int = SPOOL_MEMORY_BYTES,
    ) -> None:
        """`public_endpoint` (host:port) is the address browsers use when it differs
        from the one the service uses (compose, Kubernetes): presigned URLs sign the
        host, so they must be made for the public one."""
        self.bucket = bucket
        self.key_prefix = key_prefix
        self._spool_memory_bytes = spool_memory_bytes
        # With the region given, the client never asks the server for the bucket's
        # location, so presigning stays a local computation.
        self._client = Minio(
            endpoint=endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=_http_client(secure),
        )
        self._presigner = (
            Minio(
                endpoint=public_endpoint,
                access_key=access_key,
                secret_key=secret_key,
                secure=secure,
                region=region,
            )
            if public_endpoint
            else self._client
        )

    def object_key(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.key_prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    async def prepare(self) -> None:
        await self.ensure_bucket()

    async def ensure_bucket(self) -> None:
        if await _call(self._client.bucket_exists, bucket_name=self.bucket):
            return
        try:
            await _call(self._client.make_bucket, bucket_name=self.bucket)
        except S3Error as error:
            # Another replica starting at the same time created it first.
            if error.code not in _BUCKET_ALREADY_THERE:
                raise

    async def put(
        self, source: PutSource, *, content_type: str, max_bytes: int | None = None
    ) -> StoredObject:
        content_type = content_type or DEFAULT_CONTENT_TYPE
        with tempfile.SpooledTemporaryFile(max_size=self._spool_memory_bytes) as spool:
            received = await receive(source, spool, max_bytes=max_bytes)
            existing = await self.stat(received.sha256)
            if existing is not None:
                return existing
            spool.seek(0)
            await _call(
                self._client.put_object,
                bucket_name=self.bucket,
                object_name=self.object_key(received.sha256),
                data=spool,
                length=received.size,
                content_type=content_type,
                metadata={"sha256": received.sha256},
                # One part in memory at a time; parallel parts would each hold one.
                num_parallel_uploads=1,
            )
        return StoredObject(received.sha256, received.size, content_type, created=True)

    async def open(self, sha256: str) -> AsyncIterator[bytes]:
        key = self.object_key(sha256)
        if await self.stat(sha256) is None:
            raise AppError(OBJECT_MISSING, details={"sha256": sha256})

        def open_reader() -> VerifyingReader:
            try:
                response = self._client.get_object(bucket_name=self.bucket, object_name=key)
            except S3Error as error:
                if error.code in _MISSING_CODES:
                    raise AppError(OBJECT_MISSING, details={"sha256": sha256}) from None
                raise
            except _OUTAGE as error:
                raise _unavailable(error) from error

            def close() -> None:
                response.close()
                response.release_conn()

            # decode_content=False: the stored bytes exactly, whatever headers say.
            return VerifyingReader(lambda amount: response.read(amount, decode_content=False), close)

        return verified_chunks(sha256, open_reader)

    async def stat(self, sha256: str) -> StoredObject | None:
        key = self.object_key(sha256)
        try:
            found = await _call(self._client.stat_object, bucket_name=self.bucket, object_name=key)
        except S3Error as error:
            if error.code in _MISSING_CODES:
                return None
            raise
        return StoredObject(
            sha256=sha256,
            size=int(found.size or 0),
            content_type=found.content_type or DEFAULT_CONTENT_TYPE,
        )

    async def delete(self, sha256: str) -> None:
        # S3 deletes succeed for absent keys; the port promises OBJECT_MISSING.
        if await self.stat(sha256) is None:
            raise AppError(OBJECT_MISSING, details={"sha256": sha256})
        await _call(self._client.remove_object, bucket_name=self.bucket, object_name=self.object_key(sha256))

    async def signed_url(self, sha256: str, *, filename: str | None, ttl_s: int) -> str:
        stored = await self.stat(sha256)
        if stored is None:
            raise AppError(OBJECT_MISSING, details={"sha256": sha256})
        return await asyncio.to_thread(
            self._presigner.presigned_get_object,
            bucket_name=self.bucket,
            object_name=self.object_key(sha256),
            expires=timedelta(seconds=ttl_s),
            response_headers={
                "response-content-disposition": content_disposition(filename),
                "response-content-type": stored.content_type,
            },
        )

    async def check(self) -> None:
        try:
            found = await asyncio.to_thread(self._client.bucket_exists, bucket_name=self.bucket)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as error:
            raise AppError(UNAVAILABLE, details={"store": "s3", "reason": type(error).__name__}) from error
        if not found:
            raise AppError(UNAVAILABLE, details={"store": "s3", "reason": f"bucket {self.bucket} is missing"})
