"""Process entry point helper: run one service's ASGI app under uvicorn."""

from __future__ import annotations

from fastapi import FastAPI

from vanthu_runtime.settings import ServiceSettings


def run(app: FastAPI, settings: ServiceSettings) -> None:
    import uvicorn

    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # our JSON logging is set up by the runtime
        access_log=False,  # HTTP metrics and spans cover requests; access logs would double them
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
