"""How the axis client's requests travel: aiohttp on a pool of its own, or an httpx client handed in.

The axis client is the interop service's busiest HTTP user: every poll round lists twice, and
every packet is an upload, a download and an acknowledgement. Measured on loopback against the
simulator, a request through aiohttp costs about 0.15 ms of CPU and one through httpx's
connection pool about 1.2 ms (docs/benchmarks.md, exchange), so the client's own requests go
through aiohttp. An `httpx.AsyncClient` handed in (tests that serve the simulator in-process
through an ASGI transport) is used as it is.

Both raise `AxisUnavailable` for what is worth trying again later (not reached, timed out, the
answer broken off), naming the operation; answering the HTTP status is the caller's business.
Proxies named in the environment (HTTP_PROXY, NO_PROXY and the like) are honoured by both.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import aiohttp
import httpx
import yarl

from vanthu_interop.axis.errors import AxisUnavailable

CHUNK = 64 << 10


@dataclass(frozen=True)
class FileUpload:
    """A multipart/form-data body with one file part: bytes, or a file streamed from disk."""

    field: str
    filename: str
    body: bytes | Path
    content_type: str = "application/octet-stream"


@dataclass
class Answer:
    """An answer whose body is not read yet: read it whole, or chunk by chunk, inside `post`."""

    status: int
    read: Callable[[], Awaitable[bytes]]
    chunks: Callable[[], AsyncIterator[bytes]]


class Transport(ABC):
    """One POST and its answer; what is worth retrying becomes AxisUnavailable naming the operation."""

    # The library's exceptions for a timeout, and for not reaching the axis or losing the answer.
    timeouts: tuple[type[BaseException], ...]
    failures: tuple[type[BaseException], ...]

    @asynccontextmanager
    async def post(
        self,
        operation: str,
        url: str,
        headers: dict[str, str],
        *,
        content: bytes | None = None,
        upload: FileUpload | None = None,
    ) -> AsyncIterator[Answer]:
        try:
            with _source(upload) as source:
                async with self._exchange(url, headers, content, upload, source) as answer:
                    yield answer
        except self.timeouts as exc:
            raise AxisUnavailable(operation, f"timed out: {type(exc).__name__}") from None
        except self.failures as exc:
            raise AxisUnavailable(operation, f"not reached: {type(exc).__name__}: {exc}") from None

    @abstractmethod
    def _exchange(
        self,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        upload: FileUpload | None,
        source: BinaryIO | bytes | None,
    ) -> AbstractAsyncContextManager[Answer]:
        """Send the body (`content`, or `upload` with its `source`) and give the answer unread."""

    async def aclose(self) -> None:
        return None


def _source(upload: FileUpload | None) -> AbstractContextManager[BinaryIO | bytes | None]:
    if upload is None or isinstance(upload.body, bytes):
        return nullcontext(upload.body if upload is not None else None)
    return upload.body.open("rb")


class AiohttpTransport(Transport):
    """The client's own pool. Idle connections are dropped before a server's usual keep-alive
    ends (uvicorn closes after 5 s), so a request rarely goes out on a connection being closed."""

    timeouts = (TimeoutError,)  # aiohttp's timeouts are TimeoutErrors too
    failures = (aiohttp.ClientError,)

    def __init__(self, timeout_s: float, keepalive_s: float = 4.0) -> None:
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout_s, sock_connect=timeout_s, sock_read=timeout_s
        )
        self._keepalive_s = keepalive_s
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[str, tuple[yarl.URL | None, aiohttp.BasicAuth | None]] = {}

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, and again under another event loop (a CLI that runs asyncio.run
        # twice): a ClientSession and its pooled connections belong to the loop they were made on.
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._loop = loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(keepalive_timeout=self._keepalive_s),
                timeout=self._timeout,
                trust_env=False,  # see _proxy_for
            )
        return self._session

    async def _proxy_for(self, url: str) -> tuple[yarl.URL | None, aiohttp.BasicAuth | None]:
        """The proxy the environment names for this origin (HTTP(S)_PROXY, NO_PROXY), if any.

        aiohttp's trust_env looks it up, and ~/.netrc, in a worker thread on every request: two
        thread hops per axis call. The environment does not change while the process runs, so
        the proxy is looked up once per origin; the axis is authenticated by its HMAC headers,
        never by .netrc."""
        origin = yarl.URL(url).origin()
        key = str(origin)
        if key not in self._proxies:
            try:
                found = await asyncio.to_thread(aiohttp.helpers.get_env_proxy_for_url, origin)
            except LookupError:
                found = (None, None)
            self._proxies[key] = found
        return self._proxies[key]

    @asynccontextmanager
    async def _exchange(
        self,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        upload: FileUpload | None,
        source: BinaryIO | bytes | None,
    ) -> AsyncIterator[Answer]:
        data: bytes | aiohttp.FormData | None = content
        if upload is not None:
            data = aiohttp.FormData()
            data.add_field(upload.field, source, filename=upload.filename, content_type=upload.content_type)
        proxy, proxy_auth = await self._proxy_for(url)
        async with self._client().post(
            url, headers=headers, data=data, proxy=proxy, proxy_auth=proxy_auth
        ) as response:

            async def chunks() -> AsyncIterator[bytes]:
                async for chunk in response.content.iter_chunked(CHUNK):
                    yield chunk

            yield Answer(response.status, response.read, chunks)

    async def aclose(self) -> None:
        if self._session is not None and self._loop is asyncio.get_running_loop():
            await self._session.close()
        self._session = None


class HttpxTransport(Transport):
    """An httpx.AsyncClient handed in; its owner closes it."""

    timeouts = (httpx.TimeoutException,)
    failures = (httpx.TransportError,)

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    @asynccontextmanager
    async def _exchange(
        self,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        upload: FileUpload | None,
        source: BinaryIO | bytes | None,
    ) -> AsyncIterator[Answer]:
        files = {upload.field: (upload.filename, source, upload.content_type)} if upload is not None else None
        request = self.http.build_request("POST", url, headers=headers, content=content, files=files)
        response = await self.http.send(request, stream=True)
        try:
            yield Answer(response.status_code, response.aread, response.aiter_bytes)
        finally:
            await response.aclose()
