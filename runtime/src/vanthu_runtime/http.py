"""The HTTP shell every service shares: lifespan, health, metrics, error mapping, tracing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vanthu_contracts import errors as codes
from vanthu_runtime.errors import AppError
from vanthu_runtime.runtime import ServiceRuntime

log = logging.getLogger("vanthu.http")

Hook = Callable[[FastAPI], Awaitable[None]]

_STATUS_CODES = {
    400: codes.MALFORMED_JSON,
    401: codes.UNAUTHENTICATED,
    403: codes.FORBIDDEN,
    404: codes.NOT_FOUND,
    409: codes.CONFLICT,
    413: codes.PAYLOAD_TOO_LARGE,
    415: codes.UNSUPPORTED_MEDIA,
    429: codes.RATE_LIMITED,
    503: codes.UNAVAILABLE,
}


# Every route may answer these with the standard error body; documented once for all of them
# (FastAPI would otherwise describe its own 422 shape, which the error handlers never send).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": codes.ErrorBody, "description": description}
    for status, description in (
        (400, "Malformed request"),
        (401, "Not authenticated"),
        (403, "Not allowed"),
        (404, "Not found"),
        (409, "Conflict with the current state"),
        (413, "Too large"),
        (415, "Unsupported media type"),
        (422, "Invalid data (the code says which rule)"),
        (429, "Too many requests"),
        (503, "Temporarily unavailable"),
    )
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_answer(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route answering with a file (PDF, XLSX, an image …), so its OpenAPI
    says what comes back; a route that can also answer JSON keeps its JSONResponse class."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": "The file", "content": dict.fromkeys(media_types, binary)}}


def error_response(error: AppError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.http_status == 401 else None
    return JSONResponse(error.body().model_dump(), status_code=error.http_status, headers=headers)


def _validation_details(exc: RequestValidationError) -> dict[str, Any]:
    # The offending input is left out on purpose: it may hold a password or a PIN.
    return {
        "errors": [
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
    }


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(AppError(codes.VALIDATION, _validation_details(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = codes.METHOD_NOT_ALLOWED if exc.status_code == 405 else _STATUS_CODES.get(exc.status_code)
        if code is None:
            code = codes.INTERNAL if exc.status_code >= 500 else codes.MALFORMED_JSON
        body = code.body({"detail": str(exc.detail)} if exc.detail else None).model_dump()
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        if _is_bad_value(exc):
            log.warning("a submitted value cannot be stored: %s", str(exc.orig).splitlines()[0][:300])
            return error_response(
                AppError(codes.VALIDATION, {"reason": "a value is out of range or cannot be stored"})
            )
        log.exception("unhandled database error: %r", exc)
        return error_response(AppError(codes.INTERNAL))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error: %r", exc)
        return error_response(AppError(codes.INTERNAL))


def _is_bad_value(exc: DBAPIError) -> bool:
    """A data exception: a number out of the column's range, a string too long for it, a NUL
    character PostgreSQL cannot store (SQLSTATE class 22), or asyncpg refusing a parameter
    before sending it. The value came from the request, so it is the caller's error (422),
    not a 500; the API models bound what they can, this catches what they do not."""
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if isinstance(state, str) and state.startswith("22"):
        return True
    cause = getattr(exc.orig, "__cause__", None)
    return type(cause).__name__ == "DataError" and type(cause).__module__.startswith("asyncpg")


def health_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "healthy", "service": runtime.service}

    @router.get("/readyz", summary="Readiness: database, NATS and object storage reachable")
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "service": runtime.service, "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Any:
        from vanthu_runtime.metrics import metrics_response

        return metrics_response(runtime.metrics)

    return router


def create_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    version: str = "0.1.0",
    routers: Sequence[APIRouter] = (),
    on_started: Sequence[Hook] = (),
    on_stopping: Sequence[Hook] = (),
) -> FastAPI:
    """Build the FastAPI app of one service; the runtime starts and stops with it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        app.state.token_verifier = runtime.token_verifier
        try:
            for hook in on_started:
                await hook(app)
            yield
        finally:
            for hook in on_stopping:
                try:
                    await hook(app)
                except Exception:
                    log.exception("shutdown hook failed")
            await runtime.stop()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: (
            f"{route.tags[0]}-{route.name}" if route.tags else route.name
        ),
        responses=ERROR_RESPONSES,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(health_router(runtime))
    for router in routers:
        app.include_router(router)
    if runtime.object_store is not None and runtime.settings.object_store == "local":
        # The local store's signed download URLs point back at this service.
        from vanthu_runtime.objectstore import download_router, url_signer

        app.include_router(download_router(runtime.object_store, url_signer(runtime.settings)))

    from vanthu_runtime.metrics import instrument_http
    from vanthu_runtime.telemetry import instrument_fastapi

    instrument_http(app, runtime.metrics)
    instrument_fastapi(app)
    return app
