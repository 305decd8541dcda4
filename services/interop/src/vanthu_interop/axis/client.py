"""Client of the national document axis, speaking the VNPT SDK's HTTP protocol.

Every operation is `POST <endpoint>/<operation>` with its parameters as signed headers
(signing.py) and a JSON answer `{"status": "OK"|"FAIL", "ErrorCode", "ErrorDesc", …}`.
Transport problems (connection refused, timeouts, 5xx) raise `AxisUnavailable`, which the
caller retries; a FAIL answer raises `AxisRefused`. Packets are streamed both ways: uploads
from a file, and `getEdoc`'s base64 answer decoded chunk by chunk into a file.
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pybase64

from vanthu_interop.axis.errors import AxisError, AxisRefused, AxisUnavailable
from vanthu_interop.axis.jsonstream import FieldStreamer, JsonStreamError
from vanthu_interop.axis.signing import sdk_timestamp, signed_headers
from vanthu_interop.axis.transport import AiohttpTransport, FileUpload, HttpxTransport, Transport

__all__ = [
    "AxisClient",
    "AxisConnection",
    "AxisError",
    "AxisRefused",
    "AxisUnavailable",
    "ReceivedEntry",
    "SentEntry",
]

SERVICE_TYPE = "eDoc"
# getEdoc and updateStatus post an empty multipart/form-data body, as the SDK does.
_BOUNDARY = "vanthu-axis-boundary"
_EMPTY_MULTIPART = f"--{_BOUNDARY}--\r\n".encode()


@dataclass(frozen=True)
class AxisConnection:
    endpoint: str
    system_id: str
    secret: str
    store_path: str = "/var/lib/vanthu/edoc"
    timeout_s: float = 30.0


@dataclass(frozen=True)
class ReceivedEntry:
    doc_id: str
    message_type: str
    from_code: str
    to_code: str
    status: str
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SentEntry:
    sender_doc_id: str
    receiver_doc_id: str
    from_code: str
    to_code: str
    title: str
    notation: str
    send_status: str
    receive_status: str
    raw: dict[str, Any] = field(default_factory=dict)


class _Base64ToFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._sink = path.open("wb")
        self._pending = ""
        self.size = 0
        self.digest = hashlib.sha256()

    def feed(self, text: str) -> None:
        text = self._pending + "".join(text.split())
        usable = len(text) - len(text) % 4
        self._pending = text[usable:]
        if usable:
            self._write(text[:usable])

    def _write(self, text: str) -> None:
        data = pybase64.b64decode(text, validate=True)
        self.size += len(data)
        self.digest.update(data)
        self._sink.write(data)

    def finish(self) -> None:
        """Decode what is left (restoring dropped padding); raises like feed() on bad base64."""
        if self._pending:
            pending, self._pending = self._pending, ""
            self._write(pending + "=" * (-len(pending) % 4))

    def close(self) -> None:
        self._sink.close()


def _sha256_of(packet: Path | bytes) -> str:
    if isinstance(packet, bytes):
        return hashlib.sha256(packet).hexdigest()
    digest = hashlib.sha256()
    with packet.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _items(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects of a list answer's `data`; anything else in it is not an entry."""
    data = answer.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


class AxisClient:
    def __init__(
        self,
        connection: AxisConnection,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.connection = connection
        # Our own aiohttp pool, or the httpx client handed in (tests, an ASGI transport): transport.py.
        self._transport: Transport = (
            HttpxTransport(http) if http is not None else AiohttpTransport(connection.timeout_s)
        )
        self.clock = clock

    async def aclose(self) -> None:
        await self._transport.aclose()

    def headers(self, params: dict[str, str]) -> dict[str, str]:
        return signed_headers(
            params,
            system_id=self.connection.system_id,
            secret=self.connection.secret,
            timestamp=sdk_timestamp(self.clock()),
        )

    def _url(self, operation: str) -> str:
        return f"{self.connection.endpoint.rstrip('/')}/{operation}"

    async def _call(
        self,
        operation: str,
        params: dict[str, str],
        *,
        file: FileUpload | None = None,
        json_body: Any = None,
        empty_multipart: bool = False,
    ) -> dict[str, Any]:
        headers = self.headers(params)
        content: bytes | None = None
        if empty_multipart:
            content = _EMPTY_MULTIPART
            headers["Content-Type"] = f"multipart/form-data; boundary={_BOUNDARY}"
        elif json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        async with self._transport.post(
            operation, self._url(operation), headers, content=content, upload=file
        ) as answer:
            body = await answer.read()
        return self._answer(operation, answer.status, body)

    @staticmethod
    def _answer(operation: str, http_status: int, body: bytes) -> dict[str, Any]:
        if http_status >= 500:
            raise AxisUnavailable(operation, f"HTTP {http_status}")
        try:
            data = json.loads(body) if body else {}
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            raise AxisUnavailable(operation, f"HTTP {http_status}, not JSON") from None
        if not isinstance(data, dict):
            raise AxisUnavailable(operation, "answer is not a JSON object")
        return AxisClient._checked(operation, http_status, data)

    @staticmethod
    def _checked(operation: str, http_status: int, data: dict[str, Any]) -> dict[str, Any]:
        status = str(data.get("status", "")).upper()
        if http_status >= 400 or status != "OK":
            raise AxisRefused(
                operation,
                str(data.get("ErrorDesc") or f"HTTP {http_status}, status {status or 'missing'}"),
                str(data.get("ErrorCode") or http_status),
            )
        return data

    # -- documents ------------------------------------------------------------------------

    async def send_edoc(
        self,
        packet: Path | bytes,
        *,
        from_code: str,
        message_type: str,
        to_codes: list[str] | None = None,
        filename: str = "packet.edxml",
        sha256: str | None = None,
    ) -> str:
        """Upload a packet as the multipart part `file_doc`; returns the axis DocId.

        A packet in memory (`bytes`, named `filename`) goes as one body; a file is streamed.
        `sha256` is the packet's hash when the caller has it already (the builder computes it)."""
        params = {"from": from_code, "servicetype": SERVICE_TYPE, "messagetype": message_type}
        if message_type == "edoc":
            params["to"] = json.dumps(to_codes or [], separators=(",", ":"))
        if isinstance(packet, Path):
            filename = packet.name
        params["hash-file"] = sha256 or await asyncio.to_thread(_sha256_of, packet)
        params["Content-Type"] = "application/octet-stream"
        data = await self._call("sendEdoc", params, file=FileUpload("file_doc", filename, packet))
        doc_id = data.get("DocId") or data.get("docId")
        if not doc_id:
            raise AxisRefused("sendEdoc", "no DocId in the answer")
        return str(doc_id)

    async def get_received_edoc_list(self, message_type: str = "edoc") -> list[ReceivedEntry]:
        data = await self._call(
            "getReceivedEdocList", {"servicetype": SERVICE_TYPE, "messagetype": message_type}
        )
        entries = []
        for item in _items(data):
            if not item.get("docId"):
                continue
            entries.append(
                ReceivedEntry(
                    doc_id=str(item["docId"]),
                    message_type=str(item.get("messageType") or message_type),
                    from_code=str(item.get("from") or ""),
                    to_code=str(item.get("to") or ""),
                    status=str(item.get("status") or ""),
                    raw=item,
                )
            )
        return entries

    async def get_edoc(self, doc_id: str, target: Path) -> Path:
        """Download a packet into `target`, decoding the base64 answer as it streams in."""
        headers = self.headers({"docId": doc_id, "filePath": self.connection.store_path})
        headers["Content-Type"] = f"multipart/form-data; boundary={_BOUNDARY}"
        sink = _Base64ToFile(target)
        streamer = FieldStreamer("data", sink.feed)
        try:
            async with self._transport.post(
                "getEdoc", self._url("getEdoc"), headers, content=_EMPTY_MULTIPART
            ) as answer:
                if answer.status >= 500:
                    raise AxisUnavailable("getEdoc", f"HTTP {answer.status}")
                async for chunk in answer.chunks():
                    streamer.feed(chunk)
                fields = streamer.close()
                sink.finish()
            self._checked("getEdoc", answer.status, fields)
        except (JsonStreamError, binascii.Error, ValueError, RecursionError) as exc:
            raise AxisUnavailable(
                "getEdoc", f"unreadable answer: {type(exc).__name__}: {str(exc)[:200]}"
            ) from None
        finally:
            sink.close()
        if not streamer.seen_field:
            raise AxisRefused("getEdoc", "no data in the answer")
        return target

    async def update_status(self, doc_id: str, status: str) -> None:
        """Transport acknowledgement: done | fail | processing (not an edXML status packet)."""
        await self._call("updateStatus", {"docid": doc_id, "status": status}, empty_multipart=True)

    async def get_sent_edoc_list(
        self, message_type: str = "edoc", doc_id: str | None = None
    ) -> list[SentEntry]:
        params = {"servicetype": SERVICE_TYPE, "messagetype": message_type}
        if doc_id:
            params["docId"] = doc_id
        data = await self._call("getSentEdocList", params)
        return [
            SentEntry(
                sender_doc_id=str(item.get("senderDocId") or ""),
                receiver_doc_id=str(item.get("receiverDocId") or ""),
                from_code=str(item.get("fromCode") or ""),
                to_code=str(item.get("toCode") or ""),
                title=str(item.get("title") or ""),
                notation=str(item.get("notation") or ""),
                send_status=str(item.get("sendStatus") or ""),
                receive_status=str(item.get("receiveStatus") or ""),
                raw=item,
            )
            for item in _items(data)
        ]

    # -- agency directory -----------------------------------------------------------------

    async def get_agencies_list(self) -> list[dict[str, Any]]:
        return _items(await self._call("getAgenciesList", {}))

    async def get_agencies_list_qd20(self) -> list[dict[str, Any]]:
        return _items(await self._call("getAgenciesListQD20", {}))

    async def register_agency(
        self, *, code: str, name: str, pcode: str, mail: str = "", mobile: str = "", fax: str = ""
    ) -> None:
        body = {
            "id": code,
            "pcode": pcode,
            "code": code,
            "name": name,
            "mail": mail,
            "mobile": mobile,
            "fax": fax,
        }
        await self._call("registerAgency", {}, json_body=body)
