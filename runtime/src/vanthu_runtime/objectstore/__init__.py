"""Content-addressed file storage: the port, its S3 and local-directory adapters.

    store = build_object_store(settings)
    await store.prepare()                      # at startup: bucket / directories
    stored = await store.put(upload_chunks, content_type="application/pdf", max_bytes=50 << 20)
    async for chunk in await store.open(stored.sha256): ...
    url = await store.signed_url(stored.sha256, filename="Công văn 45.pdf", ttl_s=300)

With the local store, mount `download_router(store, url_signer(settings))` in the
service's app so its signed URLs resolve.
"""

from vanthu_runtime.objectstore.disposition import content_disposition
from vanthu_runtime.objectstore.download import download_router
from vanthu_runtime.objectstore.factory import build_object_store, url_signer
from vanthu_runtime.objectstore.local import DOWNLOAD_PREFIX, LocalObjectStore
from vanthu_runtime.objectstore.port import ObjectStore, PutSource, StoredObject, check_sha256
from vanthu_runtime.objectstore.s3 import S3ObjectStore
from vanthu_runtime.objectstore.streams import CHUNK_BYTES, SPOOL_MEMORY_BYTES
from vanthu_runtime.objectstore.url_signing import UrlSigner

__all__ = [
    "CHUNK_BYTES",
    "DOWNLOAD_PREFIX",
    "SPOOL_MEMORY_BYTES",
    "LocalObjectStore",
    "ObjectStore",
    "PutSource",
    "S3ObjectStore",
    "StoredObject",
    "UrlSigner",
    "build_object_store",
    "check_sha256",
    "content_disposition",
    "download_router",
    "url_signer",
]
