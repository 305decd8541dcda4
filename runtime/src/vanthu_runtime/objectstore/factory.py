"""Build the object store a service's settings ask for (no I/O; call `prepare()` at startup)."""

from __future__ import annotations

from vanthu_runtime.objectstore.local import LocalObjectStore
from vanthu_runtime.objectstore.port import ObjectStore
from vanthu_runtime.objectstore.s3 import S3ObjectStore
from vanthu_runtime.objectstore.url_signing import UrlSigner
from vanthu_runtime.settings import ServiceSettings


def build_object_store(settings: ServiceSettings) -> ObjectStore:
    kind = settings.object_store.strip().lower()
    if kind == "s3":
        return S3ObjectStore(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            bucket=settings.s3_bucket,
            secure=settings.s3_secure,
            region=settings.s3_region,
            public_endpoint=settings.s3_public_endpoint or None,
        )
    if kind == "local":
        # Signed URLs point back at this service; without a public URL, at its bind address.
        base_url = settings.public_url or f"http://{settings.host}:{settings.port}"
        return LocalObjectStore(
            root=settings.object_store_dir,
            url_signer=url_signer(settings),
            base_url=base_url,
        )
    raise ValueError(f"object_store must be 'local' or 's3', not {settings.object_store!r}")


def url_signer(settings: ServiceSettings) -> UrlSigner:
    """The signer a service also needs to mount `download_router` for the local store."""
    return UrlSigner(settings.signed_url_secret.get_secret_value().encode())
