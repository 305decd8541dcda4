"""SeaweedFS S3 launcher: signed round trip, refusal of bad signatures, data kept across restarts."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from minio import Minio
from minio.error import S3Error

from vanthu_testing.procs import SeaweedS3

pytestmark = pytest.mark.s3


def client_for(server, secret_key: str | None = None) -> Minio:
    return Minio(
        endpoint=server.endpoint,
        access_key=server.access_key,
        secret_key=secret_key or server.secret_key,
        secure=server.secure,
        region=server.region,
    )


def test_put_get_round_trip(s3_server) -> None:
    client = client_for(s3_server)
    client.make_bucket(bucket_name="harness-round-trip")
    body = os.urandom(256 * 1024)
    client.put_object(
        bucket_name="harness-round-trip",
        object_name="ho-so/van-ban.pdf",
        data=io.BytesIO(body),
        length=len(body),
    )
    response = client.get_object(bucket_name="harness-round-trip", object_name="ho-so/van-ban.pdf")
    try:
        assert hashlib.sha256(response.read()).digest() == hashlib.sha256(body).digest()
    finally:
        response.close()
        response.release_conn()
    stat = client.stat_object(bucket_name="harness-round-trip", object_name="ho-so/van-ban.pdf")
    assert stat.size == len(body)


def test_wrong_secret_and_anonymous_requests_are_refused(s3_server) -> None:
    with pytest.raises(S3Error) as wrong_secret:
        client_for(s3_server, secret_key="not-the-secret").list_buckets()
    assert wrong_secret.value.code == "SignatureDoesNotMatch"

    anonymous = Minio(endpoint=s3_server.endpoint, secure=False, region=s3_server.region)
    with pytest.raises(S3Error) as unsigned:
        anonymous.list_buckets()
    assert unsigned.value.code == "AccessDenied"


def test_missing_bucket_is_an_error_not_a_silent_create(s3_server) -> None:
    with pytest.raises(S3Error) as missing:
        client_for(s3_server).put_object(
            bucket_name="harness-never-made", object_name="x", data=io.BytesIO(b"x"), length=1
        )
    assert missing.value.code == "NoSuchBucket"


def test_second_instance_coexists_and_keeps_data_across_stop_start(s3_server, tmp_path: Path) -> None:
    with SeaweedS3(tmp_path / "s3") as second:
        assert second.endpoint != s3_server.endpoint
        client = second.client()
        client.make_bucket(bucket_name="harness-restart")
        client.put_object(
            bucket_name="harness-restart", object_name="k", data=io.BytesIO(b"giu lai"), length=7
        )
        endpoint = second.endpoint

        second.stop()
        with pytest.raises(Exception):  # noqa: B017 - connection refused surfaces as urllib3 errors
            second.client().list_buckets()
        second.start()

        assert second.endpoint == endpoint
        response = client.get_object(bucket_name="harness-restart", object_name="k")
        try:
            assert response.read() == b"giu lai"
        finally:
            response.close()
            response.release_conn()
        # The first server was not disturbed by the second.
        assert "harness-restart" not in {b.name for b in client_for(s3_server).list_buckets()}
    second.stop()
