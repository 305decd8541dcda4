"""The axis protocol: signed headers byte for byte, the client against the simulator, faults."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from interop_edxml_samples import axis_2019_packet, status_packet

from vanthu_interop.axis.client import AxisClient, AxisConnection, AxisRefused, AxisUnavailable
from vanthu_interop.axis.jsonstream import FieldStreamer, JsonStreamError
from vanthu_interop.axis.signing import SignatureInvalid, sdk_timestamp, signed_headers, verify
from vanthu_interop.simulator.app import create_sim_app
from vanthu_interop.simulator.state import AxisState, Faults, SimAgency

SECRET = "bXktNDQtY2hhcmFjdGVyLXNlY3JldC1mb3ItdmFudGh1"  # 44 characters, like the issued keys
MOMENT = datetime(2026, 3, 2, 9, 30, 15, 123456)


def test_sdk_timestamp_format() -> None:
    assert sdk_timestamp(MOMENT) == "02032026T093015+0123"
    assert sdk_timestamp(datetime(2026, 12, 31, 23, 59, 59, 7000)) == "31122026T235959+0007"


def test_signed_headers_match_a_worked_example_byte_for_byte() -> None:
    """The expected values are written out by hand from the protocol description; the HMAC was
    computed with `openssl dgst -sha256 -hmac` over the literal JSON text below."""
    headers = signed_headers(
        {
            "from": "000.00.00.H99",
            "servicetype": "eDoc",
            "messagetype": "edoc",
            "to": '["000.00.00.G22","000.00.00.H41"]',
            "hash-file": hashlib.sha256(b"test").hexdigest(),
            "Content-Type": "application/octet-stream",
        },
        system_id="00.99.W00",
        secret=SECRET,
        timestamp=sdk_timestamp(MOMENT),
    )
    sign_header = (
        '{"XroadVnpt-timestamp":"02032026T093015+0123","XroadVnpt-systemid":"00.99.W00",'
        '"XroadVnpt-from":"000.00.00.H99","XroadVnpt-servicetype":"eDoc","XroadVnpt-messagetype":"edoc",'
        '"XroadVnpt-to":"[\\"000.00.00.G22\\",\\"000.00.00.H41\\"]",'
        '"XroadVnpt-hash-file":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",'
        '"XroadVnpt-Content-Type":"application/octet-stream"}'
    )
    openssl_hmac = "57fc9ef4b469cdd1874934dcc1efc261a64aecdbf3e827ec73645c7f430175a9"
    assert hmac.new(SECRET.encode(), sign_header.encode(), hashlib.sha256).hexdigest() == openssl_hmac
    assert headers == {
        "timestamp": "02032026T093015+0123",
        "XroadVnpt-timestamp": "02032026T093015+0123",
        "systemid": "00.99.W00",
        "XroadVnpt-systemid": "00.99.W00",
        "from": "000.00.00.H99",
        "XroadVnpt-from": "000.00.00.H99",
        "servicetype": "eDoc",
        "XroadVnpt-servicetype": "eDoc",
        "messagetype": "edoc",
        "XroadVnpt-messagetype": "edoc",
        "to": '["000.00.00.G22","000.00.00.H41"]',
        "XroadVnpt-to": '["000.00.00.G22","000.00.00.H41"]',
        "hash-file": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "XroadVnpt-hash-file": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "XroadVnpt-Content-Type": "application/octet-stream",
        "XroadVnpt-sign-header-key": "timestamp;systemid;from;servicetype;messagetype;to;hash-file;Content-Type",
        "XroadVnpt-sign-header": sign_header,
        "XroadVnpt-hash-header": openssl_hmac,
        "XroadVnpt-version": "3.0.201608",
        "User-Agent": "JAVASDKAgent/1.0.0 XRoad/VPCP",
    }


def _verify(headers: dict[str, str]) -> object:
    return verify(httpx.Headers(headers), {"00.99.W00": SECRET})


def test_verification_accepts_good_headers_and_names_what_is_wrong() -> None:
    good = signed_headers(
        {"docid": "abc", "status": "done"}, system_id="00.99.W00", secret=SECRET, timestamp="x"
    )
    verified = _verify(good)
    assert verified.system_id == "00.99.W00" and verified.params["status"] == "done"
    with pytest.raises(SignatureInvalid, match="hash-header"):
        _verify(signed_headers({"docid": "abc"}, system_id="00.99.W00", secret="wrong", timestamp="x"))
    with pytest.raises(SignatureInvalid, match="differs"):
        _verify(good | {"status": "fail"})  # the plain copy changed after signing
    with pytest.raises(SignatureInvalid, match="differs"):
        _verify(good | {"XroadVnpt-status": "fail"})
    with pytest.raises(SignatureInvalid, match="unknown systemId"):
        _verify(signed_headers({}, system_id="00.98.W00", secret=SECRET, timestamp="x"))
    with pytest.raises(SignatureInvalid, match="missing"):
        _verify({"docid": "abc"})


def test_the_json_streamer_reads_a_large_field_in_pieces_with_escapes() -> None:
    document = json.dumps(
        {"status": "OK", "nested": {"a": [1, '}"']}, "ErrorCode": 0, "data": 'ab/c\\d\u00e9"', "x": None}
    ).replace("/", "\\/")
    pieces: list[str] = []
    streamer = FieldStreamer("data", pieces.append)
    raw = document.encode()
    for i in range(len(raw)):  # one byte at a time, splitting escapes and UTF-8 sequences
        streamer.feed(raw[i : i + 1])
    fields = streamer.close()
    assert "".join(pieces) == 'ab/c\\d\u00e9"'
    assert fields == {"status": "OK", "nested": {"a": [1, '}"']}, "ErrorCode": 0, "x": None}
    broken = FieldStreamer("data", pieces.append)
    broken.feed(b'{"status":"OK","data":"abc')
    with pytest.raises(JsonStreamError):
        broken.close()


def test_the_json_streamer_gives_the_same_text_however_the_answer_is_cut() -> None:
    """Base64 with a Java library's `\\/` every few characters, cut anywhere: inside an escape,
    between a backslash and its character, in a small field after the streamed one."""
    text = "".join(chr(c) for c in range(33, 127)) * 40 + 'é"\\/\u00e9'
    document = json.dumps({"status": "OK", "data": text, "after": 'a"b/\\c'}).replace("/", "\\/").encode()
    for size in (1, 2, 3, 5, 7, 64, 1000, len(document)):
        pieces: list[str] = []
        streamer = FieldStreamer("data", pieces.append)
        for start in range(0, len(document), size):
            streamer.feed(document[start : start + size])
        assert "".join(pieces) == text, size
        assert streamer.close() == {"status": "OK", "after": 'a"b/\\c'}, size


# -- the client against the simulator (in process) -----------------------------------------------

A = ("00.99.W00", SECRET)
B = ("00.41.W00", "c2Vjb25kLXN5c3RlbS1zZWNyZXQtZm9yLXRlc3RzLTE=")


@pytest.fixture
def sim(tmp_path: Path) -> AxisState:
    state = AxisState(tmp_path / "sim")
    state.add_system(*A, routes=["H99"])
    state.add_system(*B, routes=["H41"])
    state.add_agency(
        SimAgency(code="000.00.00.G22", name="Văn phòng Chính phủ", system_id=A[0], old_code="01.02.G22")
    )
    return state


def _client(state: AxisState, system: tuple[str, str]) -> AxisClient:
    transport = httpx.ASGITransport(app=create_sim_app(state))
    http = httpx.AsyncClient(transport=transport, base_url="http://axis")
    return AxisClient(AxisConnection("http://axis", system[0], system[1]), http=http)


def _packet_from_h99(tmp_path: Path) -> Path:
    path = tmp_path / "out.edxml"
    path.write_bytes(axis_2019_packet().replace(b"01.02.G22", b"000.00.00.H99"))
    return path


async def test_send_list_get_acknowledge_round_trip(sim: AxisState, tmp_path: Path) -> None:
    sender, receiver = _client(sim, A), _client(sim, B)
    packet = _packet_from_h99(tmp_path)
    doc_id = await sender.send_edoc(
        packet, from_code="000.00.00.H99", message_type="edoc", to_codes=["000.00.00.H41"]
    )
    [entry] = await receiver.get_received_edoc_list("edoc")
    assert entry.from_code == "000.00.00.H99" and entry.to_code == "000.00.00.H41"
    target = await receiver.get_edoc(entry.doc_id, tmp_path / "in.edxml")
    assert target.read_bytes() == packet.read_bytes()  # base64 and "\/" escapes undone, streamed
    [sent] = await sender.get_sent_edoc_list("edoc", doc_id)
    assert sent.receiver_doc_id == entry.doc_id and sent.receive_status == "pending"
    assert sent.notation == "3805/VPCP-HC"
    await receiver.update_status(entry.doc_id, "done")
    assert await receiver.get_received_edoc_list("edoc") == []
    [sent] = await sender.get_sent_edoc_list("edoc", doc_id)
    assert sent.receive_status == "done"
    # A status packet is routed by its ResponseFor, not by a `to` header.
    status = tmp_path / "status.edxml"
    status.write_bytes(status_packet("03").replace(b"000.00.00.G22</", b"000.00.00.H99</"))
    await receiver.send_edoc(status, from_code="000.00.00.H41", message_type="status")
    [status_entry] = await sender.get_received_edoc_list("status")
    assert status_entry.from_code == "000.00.00.H41" and status_entry.to_code == "000.00.00.H99"


async def test_packets_above_the_inline_size_go_through_threads_and_stream_alike(
    sim: AxisState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulator stores, reads and answers small packets on its event loop and bigger ones in
    threads and streamed: both ways the receiver gets the same bytes, and a bad hash is refused."""
    from vanthu_interop.simulator import app as sim_app

    sender, receiver = _client(sim, A), _client(sim, B)
    packet = _packet_from_h99(tmp_path)
    for inline in (1 << 20, 100):  # the packet is a few KB: inline, then over the limit
        monkeypatch.setattr(sim_app, "_INLINE_BYTES", inline)
        await sender.send_edoc(
            packet.read_bytes(), from_code="000.00.00.H99", message_type="edoc", to_codes=["000.00.00.H41"]
        )
        [entry] = await receiver.get_received_edoc_list("edoc")
        target = await receiver.get_edoc(entry.doc_id, tmp_path / f"in-{inline}.edxml")
        assert target.read_bytes() == packet.read_bytes(), inline
        await receiver.update_status(entry.doc_id, "done")
    sim.set_faults(Faults(escape_slashes=False))
    await sender.send_edoc(packet, from_code="000.00.00.H99", message_type="edoc", to_codes=["000.00.00.H41"])
    [entry] = await receiver.get_received_edoc_list("edoc")
    assert (
        await receiver.get_edoc(entry.doc_id, tmp_path / "plain.edxml")
    ).read_bytes() == packet.read_bytes()
    headers = sender.headers(
        {"from": "000.00.00.H99", "servicetype": "eDoc", "messagetype": "edoc",
         "to": '["000.00.00.H41"]', "hash-file": "0" * 64, "Content-Type": "application/octet-stream"}
    )  # fmt: skip
    raw = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sim_app(sim)))
    answer = await raw.post(
        "http://axis/sendEdoc", headers=headers, files={"file_doc": ("p.edxml", packet.read_bytes())}
    )
    assert answer.json()["ErrorCode"] == "21"


async def test_refusals_and_injected_faults(sim: AxisState, tmp_path: Path) -> None:
    sender = _client(sim, A)
    packet = _packet_from_h99(tmp_path)
    impostor = _client(sim, (A[0], B[1]))
    with pytest.raises(AxisRefused) as refused:
        await impostor.get_received_edoc_list()
    assert refused.value.error_code == "401"
    with pytest.raises(AxisRefused, match="unknown recipients"):
        await sender.send_edoc(
            packet, from_code="000.00.00.H99", message_type="edoc", to_codes=["000.00.00.H01"]
        )
    with pytest.raises(AxisRefused, match="không thuộc"):
        await sender.send_edoc(
            packet, from_code="000.00.00.H41", message_type="edoc", to_codes=["000.00.00.H41"]
        )
    sim.set_faults(Faults(fail_next={"sendEdoc": 1}))
    with pytest.raises(AxisUnavailable):
        await sender.send_edoc(
            packet, from_code="000.00.00.H99", message_type="edoc", to_codes=["000.00.00.H41"]
        )
    assert sim.deliveries == {}  # failed before doing anything
    sim.set_faults(Faults(lose_answer_next={"sendEdoc": 1}))
    with pytest.raises(AxisUnavailable):
        await sender.send_edoc(
            packet, from_code="000.00.00.H99", message_type="edoc", to_codes=["000.00.00.H41"]
        )
    assert len(sim.deliveries) == 1  # done, but the answer was lost: the sender must not resend blindly
    [sent] = await sender.get_sent_edoc_list("edoc")
    assert sent.to_code == "000.00.00.H41"


async def test_directory_operations(sim: AxisState) -> None:
    client = _client(sim, A)
    await client.register_agency(
        code="000.00.12.H99", name="Sở Tài chính", pcode="00.99.W00", mail="stc@h99.gov.vn"
    )
    plain = await client.get_agencies_list()
    assert {a["code"] for a in plain} == {"000.00.00.G22", "000.00.12.H99"} and "code102" not in plain[0]
    qd20 = {a["code"]: a for a in await client.get_agencies_list_qd20()}
    assert (
        qd20["000.00.00.G22"]["oldCode"] == "01.02.G22"
        and qd20["000.00.12.H99"]["code102"] == "000.00.12.H99"
    )
    assert sim.system_of("000.00.12.H99") == A[0]


async def test_reserialised_and_duplicated_deliveries(sim: AxisState, tmp_path: Path) -> None:
    sender, receiver = _client(sim, A), _client(sim, B)
    sim.set_faults(Faults(reserialise=True, duplicate_list_entries=True, redeliver_next=1))
    packet = tmp_path / "p.edxml"
    packet.write_bytes(axis_2019_packet().replace(b"01.02.G22", b"000.00.00.H99"))
    await sender.send_edoc(packet, from_code="000.00.00.H99", message_type="edoc", to_codes=["000.00.00.H41"])
    entries = await receiver.get_received_edoc_list()
    assert len(entries) == 2 and entries[0].doc_id == entries[1].doc_id
    text = (await receiver.get_edoc(entries[0].doc_id, tmp_path / "in.edxml")).read_text("utf-8")
    assert "<edXML:OrganId>001.00.20.TT2</edXML:OrganId>" in text and text.count("<edXML:TraceHeader>") == 3
    assert "<edXML:OrganAdd/>" in text
    await receiver.update_status(entries[0].doc_id, "done")
    again = await receiver.get_received_edoc_list()
    assert {e.doc_id for e in again} != {entries[0].doc_id} and len({e.doc_id for e in again}) == 1


async def test_a_proxy_named_in_the_environment_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client posts straight to its own connection pool, except where the environment names a
    proxy for the axis: there the request must go through it, as httpx does."""
    import asyncio

    contacted: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        contacted.append(await reader.readline())
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        client = AxisClient(AxisConnection("http://axis.invalid:9", *A, timeout_s=5))
        with pytest.raises(AxisUnavailable):
            await client.get_received_edoc_list()
        await client.aclose()
        assert contacted and b"axis.invalid" in contacted[0]  # asked the proxy for the axis
    finally:
        server.close()
        await server.wait_closed()


async def test_the_clients_own_transport_against_the_simulator_over_real_http(tmp_path: Path) -> None:
    """The client's own pool (aiohttp), not a handed-in httpx client: a packet from memory and a
    bigger one streamed from a file as multipart uploads, downloads decoded as they stream in,
    acknowledgements, and a refusal — against the simulator as a separate process on loopback."""
    from vanthu_interop.bench.platforms import (
        A_PROVINCE,
        A_SECRET,
        A_SYSTEM,
        B_PROVINCE,
        B_SECRET,
        B_SYSTEM,
        start_simulator,
        stop_process,
    )

    process, url = await asyncio.to_thread(start_simulator, tmp_path / "sim")
    sender = AxisClient(AxisConnection(url, A_SYSTEM, A_SECRET))
    receiver = AxisClient(AxisConnection(url, B_SYSTEM, B_SECRET))
    try:
        small = axis_2019_packet().replace(b"01.02.G22", A_PROVINCE.encode())
        big_path = tmp_path / "big.edxml"  # ~3 MB: several reads of the download stream
        big_path.write_bytes(small.replace(b"</edXML:edXMLEnvelope>", b"<!--" + os.urandom(1_500_000).hex().encode() + b"-->\n</edXML:edXMLEnvelope>"))  # fmt: skip
        sent = [
            await sender.send_edoc(small, from_code=A_PROVINCE, message_type="edoc", to_codes=[B_PROVINCE]),
            await sender.send_edoc(
                big_path, from_code=A_PROVINCE, message_type="edoc", to_codes=[B_PROVINCE]
            ),
        ]
        entries = await receiver.get_received_edoc_list("edoc")
        assert len(entries) == 2 and all(e.from_code == A_PROVINCE for e in entries)
        got = [await receiver.get_edoc(e.doc_id, tmp_path / f"in-{i}.edxml") for i, e in enumerate(entries)]
        assert sorted(p.read_bytes() for p in got) == sorted([small, big_path.read_bytes()])
        await asyncio.gather(*(receiver.update_status(e.doc_id, "done") for e in entries))
        assert await receiver.get_received_edoc_list("edoc") == []
        assert {e.sender_doc_id for e in await sender.get_sent_edoc_list("edoc")} >= set(sent)
        impostor = AxisClient(AxisConnection(url, A_SYSTEM, B_SECRET))
        with pytest.raises(AxisRefused):
            await impostor.get_received_edoc_list()
        await impostor.aclose()
    finally:
        await sender.aclose()
        await receiver.aclose()
        await asyncio.to_thread(stop_process, process)


def test_one_client_serves_two_event_loops_in_turn(tmp_path: Path) -> None:
    """A command-line tool may run asyncio.run twice with one client: the second loop gets a
    connection pool of its own instead of one bound to the first, closed loop."""
    from vanthu_interop.bench.platforms import B_SECRET, B_SYSTEM, start_simulator, stop_process

    process, url = start_simulator(tmp_path / "sim")
    client = AxisClient(AxisConnection(url, B_SYSTEM, B_SECRET))
    try:
        assert asyncio.run(client.get_received_edoc_list("edoc")) == []
        assert asyncio.run(client.get_received_edoc_list("status")) == []
        asyncio.run(client.aclose())
    finally:
        stop_process(process)
