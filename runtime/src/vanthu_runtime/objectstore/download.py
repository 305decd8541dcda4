"""The HTTP side of signed download URLs for stores without their own (the local store).

Mount `download_router(store, signer)` in the owning service's app; the URLs
`LocalObjectStore.signed_url` hands out point at it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse

from vanthu_contracts.errors import FORBIDDEN, OBJECT_MISSING
from vanthu_runtime.errors import AppError
from vanthu_runtime.objectstore.disposition import content_disposition
from vanthu_runtime.objectstore.local import DOWNLOAD_PREFIX
from vanthu_runtime.objectstore.port import ObjectStore
from vanthu_runtime.objectstore.url_signing import UrlSigner


def download_router(store: ObjectStore, signer: UrlSigner, prefix: str = DOWNLOAD_PREFIX) -> APIRouter:
    router = APIRouter(prefix=prefix)

    # Parameters are optional on purpose: a URL missing any of them is refused with
    # the same 403 as a forged one, not with a validation error that explains the scheme.
    @router.get("/{sha256}", include_in_schema=False, response_model=None)
    async def download_object(
        sha256: str,
        exp: Annotated[str | None, Query()] = None,
        name: Annotated[str | None, Query()] = None,
        sig: Annotated[str | None, Query()] = None,
    ) -> Response:
        if exp is None or sig is None or not exp.isdigit():
            return _forbidden()
        if not signer.verify(sha256, name, int(exp), sig):
            return _forbidden()
        try:
            stored = await store.stat(sha256)
            if stored is None:
                raise AppError(OBJECT_MISSING, details={"sha256": sha256})
            chunks = await store.open(sha256)
        except AppError as error:
            return JSONResponse(error.body().model_dump(), status_code=error.http_status)
        return StreamingResponse(
            chunks,
            media_type=stored.content_type,
            headers={
                "Content-Length": str(stored.size),
                "Content-Disposition": content_disposition(name),
                # The URL is a bearer credential: keep it out of shared caches.
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return router


def _forbidden() -> JSONResponse:
    return JSONResponse(FORBIDDEN.body().model_dump(), status_code=FORBIDDEN.http_status)
