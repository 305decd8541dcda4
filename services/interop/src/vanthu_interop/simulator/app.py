"""The axis simulator's HTTP server: the VNPT SDK protocol, HMAC-checked, with fault injection.

A TEST DOUBLE for tests and the demo. It checks each request's XroadVnpt-* signature against
the system's secret, routes packets between registered systems, keeps per-recipient
delivery state, and injects faults on request (see `Faults`). `/_sim/*` is its control
surface (faults, state) and is not part of the axis protocol.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pybase64
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from vanthu_interop.axis.signing import SignatureInvalid, VerifiedRequest, verify
from vanthu_interop.edxml import parse
from vanthu_interop.edxml.model import EdocPacket, StatusPacket
from vanthu_interop.simulator.reserialise import reserialise
from vanthu_interop.simulator.state import AxisState, Delivery, Faults, SimAgency

log = logging.getLogger("vanthu.axis_sim")
_STREAM_CHUNK = 3 * (1 << 18)
# Packets up to this size are stored, read and answered on the event loop: a hop to a worker
# thread costs more than the work (most packets are a few KB). Bigger ones go to a thread.
_INLINE_BYTES = 1 << 20


class _Refusal(Exception):
    def __init__(self, code: str, desc: str, http_status: int = 200) -> None:
        super().__init__(desc)
        self.code = code
        self.desc = desc
        self.http_status = http_status


def _ok(**extra: Any) -> JSONResponse:
    return JSONResponse({"status": "OK", "ErrorCode": "0", "ErrorDesc": ""} | extra)


def _fail(code: str, desc: str, http_status: int = 200) -> JSONResponse:
    return JSONResponse({"status": "FAIL", "ErrorCode": code, "ErrorDesc": desc}, status_code=http_status)


def _unavailable() -> JSONResponse:
    return JSONResponse(
        {"status": "FAIL", "ErrorCode": "503", "ErrorDesc": "injected fault"}, status_code=503
    )


def create_sim_app(state: AxisState) -> FastAPI:
    app = FastAPI(
        title="vanthu axis simulator (test double)",
        description="A test double of the national document axis speaking the VNPT SDK protocol. Not the real axis.",
    )
    app.state.sim = state

    async def guarded(operation: str, request: Request, handler: Any) -> Response:
        state.requests[operation] = state.requests.get(operation, 0) + 1
        faults = state.faults
        if faults.take(faults.fail_next, operation) or (
            faults.error_rate and state.rng.random() < faults.error_rate
        ):
            return _unavailable()
        if faults.take(faults.timeout_next, operation):
            await asyncio.sleep(faults.timeout_s)
        try:
            caller = verify(request.headers, state.systems)
        except SignatureInvalid as exc:
            return _fail("401", f"chữ ký không hợp lệ / invalid signature: {exc}", 401)
        try:
            response = await handler(caller, request)
        except _Refusal as refusal:
            return _fail(refusal.code, refusal.desc, refusal.http_status)
        if faults.take(faults.lose_answer_next, operation):
            return _unavailable()
        return response

    def route(operation: str) -> None:
        handler = HANDLERS[operation]

        async def endpoint(request: Request) -> Response:
            return await guarded(operation, request, lambda caller, req: handler(state, caller, req))

        # A plain Starlette route: the operations take their parameters from signed headers, so
        # FastAPI's parameter resolution would only add its cost to every request.
        app.add_route(
            f"/{operation}", endpoint, methods=["POST", "GET"], name=operation, include_in_schema=False
        )

    for operation in HANDLERS:
        route(operation)
    _control_routes(app, state)
    return app


# -- the protocol -------------------------------------------------------------------------------


async def _send_edoc(state: AxisState, caller: VerifiedRequest, request: Request) -> Response:
    params = caller.params
    message_type = params.get("messagetype", "edoc")
    from_code = params.get("from", "")
    if state.system_of(from_code) != caller.system_id:
        raise _Refusal("19", f"đơn vị gửi {from_code} không thuộc hệ thống {caller.system_id}")
    form = await request.form(max_part_size=1 << 30)
    upload = form.get("file_doc")
    if upload is None or isinstance(upload, str):
        raise _Refusal("10", "thiếu tệp file_doc / missing file_doc")
    sender_doc_id, path = state.new_packet_path()

    def store_and_read() -> EdocPacket | StatusPacket:
        digest = hashlib.sha256()
        with path.open("wb") as sink:
            while chunk := upload.file.read(1 << 20):
                digest.update(chunk)
                sink.write(chunk)
        if params.get("hash-file") and params["hash-file"].lower() != digest.hexdigest():
            path.unlink(missing_ok=True)
            raise _Refusal("21", "hash-file không khớp / hash-file mismatch")
        try:
            with parse(path, attachments=False) as parsed:
                return parsed.packet
        except Exception as exc:
            path.unlink(missing_ok=True)
            raise _Refusal("22", f"edXML không hợp lệ / not edXML: {exc}") from None

    try:
        small = upload.size is not None and upload.size <= _INLINE_BYTES
        packet = store_and_read() if small else await asyncio.to_thread(store_and_read)
    finally:
        await upload.close()
    if message_type == "status":
        if not isinstance(packet, StatusPacket):
            raise _Refusal("22", "messagetype=status but the packet is a document")
        recipients = [packet.response_for.organ_id or ""]
        title, notation = packet.description or "", packet.response_for.code or ""
    else:
        try:
            recipients = [str(code) for code in json.loads(params.get("to", "[]"))]
        except ValueError:
            raise _Refusal("18", "to không phải mảng JSON / to is not a JSON array") from None
        title = getattr(packet, "subject", None) or ""
        notation = getattr(packet, "symbol", "")
    if not recipients or any(state.system_of(code) is None for code in recipients):
        path.unlink(missing_ok=True)
        unknown = [code for code in recipients if state.system_of(code) is None]
        raise _Refusal("18", f"đơn vị nhận không tồn tại / unknown recipients {unknown}")
    for code in recipients:
        delivered = path
        if message_type == "edoc" and state.faults.reserialise:
            delivered = path.with_name(f"{path.stem}-{code}.edxml")
            await asyncio.to_thread(reserialise, path, delivered, axis_organ_id=state.axis_organ_id)
        state.deliver(
            sender_doc_id=sender_doc_id,
            sender_system=caller.system_id,
            message_type=message_type,
            from_code=from_code,
            to_code=code,
            packet=delivered,
            title=title,
            notation=notation,
        )
    return _ok(DocId=sender_doc_id)


async def _received_list(state: AxisState, caller: VerifiedRequest, request: Request) -> Response:
    entries = [
        d.received_entry()
        for d in state.pending_for(caller.system_id, caller.params.get("messagetype", "edoc"))
    ]
    if state.faults.duplicate_list_entries:
        entries = [e for e in entries for _ in (0, 1)]
    return _ok(data=entries)


def _delivery_of(state: AxisState, caller: VerifiedRequest, doc_id: str | None) -> Delivery:
    delivery = state.deliveries.get(doc_id or "")
    if delivery is None or delivery.receiver_system != caller.system_id:
        raise _Refusal("404", f"không tìm thấy văn bản / unknown docId {doc_id}")
    return delivery


async def _get_edoc(state: AxisState, caller: VerifiedRequest, request: Request) -> Response:
    delivery = _delivery_of(state, caller, caller.params.get("docId") or caller.params.get("docid"))
    escape = state.faults.escape_slashes
    if delivery.packet.stat().st_size <= _INLINE_BYTES:
        encoded = pybase64.b64encode(delivery.packet.read_bytes())
        return Response(
            b'{"status":"OK","ErrorCode":"0","ErrorDesc":"","data":"'
            + (encoded.replace(b"/", b"\\/") if escape else encoded)
            + b'"}',
            media_type="application/json",
        )

    async def body() -> AsyncIterator[bytes]:
        yield b'{"status":"OK","ErrorCode":"0","ErrorDesc":"","data":"'
        with delivery.packet.open("rb") as source:
            while chunk := await asyncio.to_thread(source.read, _STREAM_CHUNK):
                encoded = pybase64.b64encode(chunk)
                yield encoded.replace(b"/", b"\\/") if escape else encoded
        yield b'"}'

    return StreamingResponse(body(), media_type="application/json")


async def _update_status(state: AxisState, caller: VerifiedRequest, request: Request) -> Response:
    params = caller.params
    delivery = _delivery_of(state, caller, params.get("docid") or params.get("docId"))
    status = params.get("status", "")
    if status not in ("done", "fail", "processing"):
        raise _Refusal("400", f"trạng thái không hợp lệ / bad status {status!r}")
    state.acknowledge(delivery, status)
    return _ok()


async def _sent_list(state: AxisState, caller: VerifiedRequest, request: Request) -> Response:
    wanted = caller.params.get("docId")
    message_type = caller.params.get("messagetype", "edoc")
    entries = [
        state.deliveries[receiver].sent_entry()
        for sender, receivers in state.sent.items()
        if state.sender_of.get(sender) == caller.system_id and (not wanted or wanted == sender)
        for receiver in receivers
        if state.deliveries[receiver].message_type == message_type
    ]
    return _ok(data=entries)


def _agency_entries(state: AxisState, qd20: bool) -> list[dict[str, Any]]:
    entries = []
    for agency in state.agencies.values():
        item: dict[str, Any] = {
            "id": agency.code,
            "pid": agency.pcode,
            "code": agency.code,
            "name": agency.name,
            "mail": agency.mail,
        }
        if qd20:
            item |= {"code102": agency.code102 or agency.code, "oldCode": agency.old_code}
        entries.append(item)
    return entries


async def _agencies(state: AxisState, caller: VerifiedRequest, request: Request) -> Response:
    return _ok(data=_agency_entries(state, qd20=False))


async def _agencies_qd20(state: AxisState, caller: VerifiedRequest, request: Request) -> Response:
    return _ok(data=_agency_entries(state, qd20=True))


async def _register_agency(state: AxisState, caller: VerifiedRequest, request: Request) -> Response:
    try:
        body = json.loads(await request.body())
        code, name = str(body["code"]), str(body["name"])
    except (ValueError, KeyError, TypeError):
        raise _Refusal("400", "thân yêu cầu không hợp lệ / bad registerAgency body") from None
    state.add_agency(
        SimAgency(code=code, name=name, system_id=caller.system_id, pcode=str(body.get("pcode") or ""),
                  mail=str(body.get("mail") or ""))
    )  # fmt: skip
    return _ok()


HANDLERS = {
    "sendEdoc": _send_edoc,
    "getReceivedEdocList": _received_list,
    "getEdoc": _get_edoc,
    "updateStatus": _update_status,
    "getSentEdocList": _sent_list,
    "getAgenciesList": _agencies,
    "getAgenciesListQD20": _agencies_qd20,
    "registerAgency": _register_agency,
}


# -- control surface (not the axis protocol) -----------------------------------------------------


def _control_routes(app: FastAPI, state: AxisState) -> None:
    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        # The launcher probes its children the same way; not part of the axis protocol.
        return {"status": "healthy", "service": "axis-sim"}

    @app.get("/_sim/faults")
    async def get_faults() -> dict[str, Any]:
        return state.faults.as_dict()

    @app.put("/_sim/faults")
    async def put_faults(request: Request) -> dict[str, Any]:
        state.set_faults(Faults(**await request.json()))
        return state.faults.as_dict()

    @app.post("/_sim/systems")
    async def add_system(request: Request) -> dict[str, str]:
        body = await request.json()
        state.add_system(body["system_id"], body["secret"], body.get("routes") or [])
        return {"status": "OK"}

    @app.post("/_sim/agencies")
    async def add_agency(request: Request) -> dict[str, str]:
        body = await request.json()
        state.add_agency(SimAgency(**body))
        return {"status": "OK"}

    @app.get("/_sim/deliveries")
    async def deliveries() -> list[dict[str, Any]]:
        return [
            d.sent_entry()
            | {"status": d.status, "acknowledged": d.acknowledged, "receiverSystem": d.receiver_system}
            for d in state.deliveries.values()
        ]

    @app.get("/_sim/requests")
    async def requests() -> dict[str, int]:
        return dict(state.requests)

    @app.post("/_sim/reset")
    async def reset() -> dict[str, str]:
        state.deliveries.clear()
        state.sent.clear()
        state.sender_of.clear()
        state.requests.clear()
        state.set_faults(Faults())
        for leftover in state.packets_dir.iterdir():
            if leftover.is_file():
                leftover.unlink()
            else:
                shutil.rmtree(leftover, ignore_errors=True)
        return {"status": "OK", "at": datetime.now().isoformat()}
