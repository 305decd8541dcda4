"""The load of the chaos scenario: documents entering the platform the four ways they do in a province.

1. paper: a văn thư scans a paper document (`POST /api/v1/incoming`, PDF upload, registered);
2. electronic: an integrator hands in an electronic document whose file is already stored
   (`POST /api/v1/incoming/electronic`, registered at once);
3. outgoing: a văn thư issues a signed document (`POST /api/v1/outgoing`) to one agency outside
   the province (over the axis) and, every other time, to one hosted agency (delivered inside);
4. axis: an agency of another province (H98, played by this driver as its own axis system)
   sends an edXML packet to one of ours through the axis simulator.

Every registered incoming document opens a handling in routing; the leaders of each agency
assign what waits in their chờ phân công box to a unit (a delivery to the unit heads), and for
documents that came over the axis interop sends the status packets 01, 03 and 04 back.

Clients retry what failed while a service was down, the way a careful client does: with the
idempotency key where the API has one (`draft_id` for outgoing, the handling's `version` for
an assignment), and otherwise by asking the registry first whether the first attempt went
through (`POST /api/v1/incoming/duplicates` by the document's own keys). The ledger records
what the platform accepted (a 2xx) so the invariants can look for every one of them.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx

from vanthu_interop.axis.client import AxisClient, AxisConnection, AxisUnavailable
from vanthu_interop.bench.platforms import B_SECRET, B_SYSTEM
from vanthu_interop.domain.outgoing import edoc_packet
from vanthu_interop.edxml import build_file
from vanthu_interop.edxml.model import Attachment, Organ
from vanthu_testing.clock import local_today

DEMO_PASSWORD = "vanthu-demo-2026"
# The demo province H99 (registry's demo_province.json): code -> login prefix.
AGENCIES: dict[str, str] = {
    "000.00.00.H99": "ubnd",
    "000.00.11.H99": "snv",
    "000.00.12.H99": "sxd",
    "000.00.13.H99": "stc",
    "000.01.31.H99": "xaanphu",
    "000.02.31.H99": "xabinhminh",
}
FOREIGN = Organ(organ_id="000.00.00.H98", organ_name="UBND tỉnh Sơn Lâm")
RETRY_DELAY_S = 0.5
GIVE_UP_AFTER_S = 180.0  # a client gives a request this long to succeed across outages
REQUEST_TIMEOUT_S = 60.0


class Kind(StrEnum):
    PAPER = "paper"
    ELECTRONIC = "electronic"
    OUTGOING = "outgoing"
    AXIS = "axis"


KINDS = tuple(Kind)


class Unanswered(Exception):
    """The platform did not accept a request within GIVE_UP_AFTER_S."""


@dataclass
class Accepted:
    kind: Kind
    agency: str
    key: str  # the client's own key: code number, external id, draft id


@dataclass
class Ledger:
    """What the clients asked for and what the platform accepted."""

    accepted: dict[str, Accepted] = field(default_factory=dict)  # registry document id -> request
    axis_sent: dict[str, str] = field(default_factory=dict)  # edXML DocumentId -> receiving agency
    outgoing: dict[str, dict[str, Any]] = field(default_factory=dict)  # registry id -> issue answer
    internal_expected: dict[str, str] = field(default_factory=dict)  # axis_document_id -> hosted recipient
    requests: int = 0
    retries: int = 0
    resolved_by_lookup: int = 0  # an ambiguous failure that had in fact gone through
    gave_up: int = 0
    assigned: set[str] = field(default_factory=set)  # handling ids assigned by a leader
    failures: Counter[str] = field(default_factory=Counter)
    done: int = 0


@dataclass
class Actor:
    username: str
    agency: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_pdf(base: bytes, tag: str) -> bytes:
    """The same one-page PDF with a comment after it: distinct bytes, so a distinct stored object."""
    return base + f"\n% chaos {tag}\n".encode()


def sample_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.drawString(72, 760, "Van ban thu nghiem chaos")
    page.showPage()
    page.save()
    return out.getvalue()


class LoadDriver:
    def __init__(
        self,
        urls: dict[str, str],
        sim_url: str,
        work_dir: Path,
        *,
        total: int,
        concurrency: int,
        run_id: str,
        rate: float | None = None,
    ) -> None:
        """`rate`: at most this many requests started per second (None: as fast as answered)."""
        self.urls = urls
        self.sim_url = sim_url
        self.work_dir = work_dir
        self.total = total
        self.concurrency = concurrency
        self.rate = rate
        self._next_slot = 0.0
        self.run_id = run_id
        self.ledger = Ledger()
        self.clerks: dict[str, Actor] = {}
        self.leaders: dict[str, Actor] = {}
        self.main_units: dict[str, str] = {}  # agency -> the unit leaders assign to
        self.pdf = b""
        self.stored_pdf: dict[str, Any] = {}
        self.http = httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=httpx.Limits(max_connections=64))
        self.axis = AxisClient(AxisConnection(sim_url, B_SYSTEM, B_SECRET, timeout_s=30.0))
        self._next = 1  # document 0 is the one `prepare` stores for the electronic intake
        self._leader_tasks: list[asyncio.Task[None]] = []

    async def aclose(self) -> None:
        await self.stop_leaders()
        await self.http.aclose()
        await self.axis.aclose()

    # -- preparation --------------------------------------------------------------------------

    async def prepare(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.pdf = sample_pdf()
        for code, slug in AGENCIES.items():
            self.clerks[code] = await self._login(f"{slug}.vanthu", code)
            self.leaders[code] = await self._login(f"{slug}.lanhdao", code)
            # Leaders assign to the unit of the agency's trưởng phòng (it has a trưởng and a phó).
            head = await self._login(f"{slug}.truongphong", code)
            me = await self.http.get(f"{self.urls['registry']}/api/v1/me", headers=head.headers)
            self.main_units[code] = me.json()["unit"]
        await self._wait_for_directory()
        # One stored file the electronic intake refers to by its SHA-256.
        first = await self._paper(0)
        self.stored_pdf = first["files"][0]

    async def _login(self, username: str, agency: str) -> Actor:
        response = await self.http.post(
            f"{self.urls['registry']}/auth/dev-token", json={"username": username, "password": DEMO_PASSWORD}
        )
        response.raise_for_status()
        return Actor(username, agency, response.json()["access_token"])

    async def _wait_for_directory(self, timeout: float = 60.0) -> None:
        """Routing must know the leaders and units (projected from registry events) before assigning."""
        deadline = time.monotonic() + timeout
        leader = self.leaders[next(iter(AGENCIES))]
        while time.monotonic() < deadline:
            response = await self.http.get(f"{self.urls['routing']}/api/v1/inbox", headers=leader.headers)
            if response.status_code == 200:
                return
            await asyncio.sleep(0.5)
        raise AssertionError(
            f"routing does not know the demo leaders: {response.status_code} {response.text}"
        )

    # -- the load -----------------------------------------------------------------------------

    async def run(self, keep_going: Callable[[], bool] = lambda: False) -> None:
        """Send `total` documents with `concurrency` clients, and more while `keep_going()`.

        The leaders start assigning at the same time.
        """

        async def client() -> None:
            while self._next <= self.total or keep_going():
                await self._pace()
                index = self._next
                self._next += 1
                await self._one(index)
                self.ledger.done += 1

        self._leader_tasks = [asyncio.create_task(self._leader(code)) for code in AGENCIES]
        await asyncio.gather(*(client() for _ in range(self.concurrency)))

    async def _pace(self) -> None:
        if not self.rate:
            return
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self.rate
        if slot > now:
            await asyncio.sleep(slot - now)

    async def stop_leaders(self) -> None:
        for task in self._leader_tasks:
            task.cancel()
        await asyncio.gather(*self._leader_tasks, return_exceptions=True)

    async def _one(self, index: int) -> None:
        kind = KINDS[index % len(KINDS)]
        try:
            if kind is Kind.PAPER:
                await self._paper(index)
            elif kind is Kind.ELECTRONIC:
                await self._electronic(index)
            elif kind is Kind.OUTGOING:
                await self._outgoing(index)
            else:
                await self._axis(index)
        except Unanswered:
            self.ledger.gave_up += 1

    def _agency(self, index: int) -> str:
        codes = list(AGENCIES)
        return codes[(index // len(KINDS)) % len(codes)]

    def _key(self, index: int) -> str:
        return f"{self.run_id}{index}"

    async def _paper(self, index: int) -> dict[str, Any]:
        agency = self._agency(index)
        clerk = self.clerks[agency]
        number = str(index + 1)
        notation = f"UBND-P{self.run_id}"
        meta = {
            "type": "cong_van",
            "subject": f"V/v kiểm thử chịu lỗi, văn bản giấy số {number}",
            "code_number": number,
            "code_notation": notation,
            "issued_date": local_today().isoformat(),
            "organ_id": FOREIGN.organ_id,
            "organ_name": FOREIGN.organ_name,
        }
        pdf = unique_pdf(self.pdf, self._key(index))

        def attempt() -> Awaitable[httpx.Response]:
            return self.http.post(
                f"{self.urls['registry']}/api/v1/incoming",
                headers=clerk.headers,
                data={"metadata": json.dumps(meta, ensure_ascii=False), "register": "true"},
                files={"file": (f"scan-{number}.pdf", pdf, "application/pdf")},
            )

        lookup = self._duplicates(
            clerk, code_number=number, code_notation=notation, organ_id=FOREIGN.organ_id
        )
        document = await self._until_accepted(attempt, lookup)
        self._accept(document, Kind.PAPER, agency, number)
        return document

    async def _electronic(self, index: int) -> None:
        agency = self._agency(index)
        clerk = self.clerks[agency]
        external_id = f"{FOREIGN.organ_id},{local_today():%Y/%m/%d},{index + 1}/UBND-E{self.run_id}"
        body = {
            "metadata": {
                "type": "cong_van",
                "subject": f"V/v kiểm thử chịu lỗi, văn bản điện tử {index + 1}",
                "code_number": str(index + 1),
                "code_notation": f"UBND-E{self.run_id}",
                "issued_date": local_today().isoformat(),
                "organ_id": FOREIGN.organ_id,
                "organ_name": FOREIGN.organ_name,
            },
            "files": [{k: self.stored_pdf[k] for k in ("sha256", "name", "content_type", "size")}],
            "channel": "axis",
            "external_document_id": external_id,
            "sender": {"organ_id": FOREIGN.organ_id, "organ_name": FOREIGN.organ_name},
            "register_now": True,
        }

        def attempt() -> Awaitable[httpx.Response]:
            return self.http.post(
                f"{self.urls['registry']}/api/v1/incoming/electronic", headers=clerk.headers, json=body
            )

        document = await self._until_accepted(
            attempt, self._duplicates(clerk, external_document_id=external_id)
        )
        self._accept(document, Kind.ELECTRONIC, agency, external_id)

    async def _outgoing(self, index: int) -> None:
        agency = self._agency(index)
        clerk = self.clerks[agency]
        draft_id = f"chaos-{self._key(index)}"
        recipients = [{"organ_id": FOREIGN.organ_id, "organ_name": FOREIGN.organ_name}]
        internal = None
        if (index // len(KINDS)) % 2 == 0:
            codes = list(AGENCIES)
            internal = codes[(codes.index(agency) + 1) % len(codes)]
            recipients.append({"organ_id": internal, "organ_name": ""})
        meta = {
            "type": "cong_van",
            "subject": f"V/v kiểm thử chịu lỗi, văn bản đi {index + 1}",
            "draft_id": draft_id,
            "unit_abbreviation": "VP",
            "signer_name": "Trần Văn Hùng",
            "signer_position": "Chủ tịch",
            "recipients": recipients,
        }
        pdf = unique_pdf(self.pdf, self._key(index))

        def attempt() -> Awaitable[httpx.Response]:
            return self.http.post(
                f"{self.urls['registry']}/api/v1/outgoing",
                headers=clerk.headers,
                data={"metadata": json.dumps(meta, ensure_ascii=False)},
                files={"file": (f"di-{index}.pdf", pdf, "application/pdf")},
            )

        # draft_id is the idempotency key: a repeated issue answers with the first one.
        document = await self._until_accepted(attempt, None)
        self._accept(document, Kind.OUTGOING, agency, draft_id)
        self.ledger.outgoing[document["id"]] = {
            "agency": agency,
            "axis_document_id": document["axis_document_id"],
            "external": [FOREIGN.organ_id],
            "internal": [internal] if internal else [],
        }
        if internal:
            self.ledger.internal_expected[document["axis_document_id"]] = internal

    async def _axis(self, index: int) -> None:
        agency = self._agency(index)
        number = index + 1
        external_id = f"{FOREIGN.organ_id},{local_today():%Y/%m/%d},{number}/UBND-A{self.run_id}"
        pdf = self.work_dir / f"axis-{index}.pdf"
        pdf.write_bytes(unique_pdf(self.pdf, self._key(index)))
        facts = {
            "axis_document_id": external_id,
            "code_number": str(number),
            "code_notation": f"UBND-A{self.run_id}",
            "type_name": "Công văn",
            "subject": f"V/v kiểm thử chịu lỗi, văn bản qua trục {number}",
            "issued_date": local_today().isoformat(),
            "signer_name": "Nguyễn Văn Sơn",
            "signer_position": "Chủ tịch",
        }
        packet = edoc_packet(
            facts,
            sender=FOREIGN,
            recipients=[Organ(organ_id=agency, organ_name="")],
            business_doc_type=0,
            reason=None,
            related_document_ids=[],
            attachments=[Attachment(name=f"cong-van-{number}.pdf", content_type="application/pdf", path=pdf)],
            sent_at=datetime.now(),
        )
        path = self.work_dir / f"axis-{index}.edxml"
        await asyncio.to_thread(build_file, packet, path)
        # The axis is not one of the faults, but a busy machine can make it slow to answer. A
        # repeat would reach us under a new axis docId and must still be imported once.
        deadline = time.monotonic() + GIVE_UP_AFTER_S
        while True:
            self.ledger.requests += 1
            try:
                await self.axis.send_edoc(
                    path, from_code=FOREIGN.organ_id or "", message_type="edoc", to_codes=[agency]
                )
                break
            except AxisUnavailable as exc:
                self.ledger.failures[f"axis {exc.error_code or type(exc).__name__}"] += 1
                if time.monotonic() > deadline:
                    raise Unanswered() from exc
                self.ledger.retries += 1
                await asyncio.sleep(RETRY_DELAY_S)
        self.ledger.axis_sent[external_id] = agency
        path.unlink()
        pdf.unlink()

    # -- the leaders ---------------------------------------------------------------------------

    async def _leader(self, agency: str) -> None:
        """Assign every document waiting in the agency's chờ phân công box to a unit, over and over."""
        leader = self.leaders[agency]
        routing = self.urls["routing"]
        while True:
            try:
                response = await self.http.get(
                    f"{routing}/api/v1/inbox/waiting", params={"limit": 100}, headers=leader.headers
                )
            except httpx.TransportError as exc:
                self.ledger.failures[f"routing {type(exc).__name__}"] += 1
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            if response.status_code != 200:
                self.ledger.failures[f"routing inbox HTTP {response.status_code}"] += 1
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            items = response.json()["items"]
            for item in items:
                await self._assign(leader, agency, item)
            if not items:
                await asyncio.sleep(0.5)

    async def _assign(self, leader: Actor, agency: str, item: dict[str, Any]) -> None:
        body = {
            "assignees": [{"kind": "unit", "assignee_id": self.main_units[agency], "role": "main"}],
            "instruction": "Đề nghị xử lý",
            # The version makes a repeated assignment a 409 instead of a second one.
            "version": item["version"],
        }
        try:
            response = await self.http.post(
                f"{self.urls['routing']}/api/v1/handlings/{item['handling_id']}/assignments",
                headers=leader.headers,
                json=body,
            )
        except httpx.TransportError as exc:
            self.ledger.failures[f"routing {type(exc).__name__}"] += 1
            return  # still waiting if it did not go through: the next look at the box finds it
        if response.status_code == 200 or response.status_code == 409:
            # 409: an earlier attempt that looked failed went through (the version moved on).
            self.ledger.assigned.add(item["handling_id"])
        else:
            self.ledger.failures[f"routing assign HTTP {response.status_code}"] += 1

    # -- retries --------------------------------------------------------------------------------

    def _duplicates(self, clerk: Actor, **keys: str | None) -> Callable[[], Awaitable[str | None]]:
        async def lookup() -> str | None:
            response = await self.http.post(
                f"{self.urls['registry']}/api/v1/incoming/duplicates", headers=clerk.headers, json=keys
            )
            response.raise_for_status()
            found = response.json()["duplicate_of"]
            assert len(found) <= 1, f"the client's keys {keys} name {len(found)} documents"
            return found[0] if found else None

        return lookup

    async def _until_accepted(
        self,
        attempt: Callable[[], Awaitable[httpx.Response]],
        lookup: Callable[[], Awaitable[str | None]] | None,
    ) -> dict[str, Any]:
        """Send until a 2xx. After a failure that may have gone through, look before sending again."""
        deadline = time.monotonic() + GIVE_UP_AFTER_S
        maybe_applied = False
        first = True
        while time.monotonic() < deadline:
            if maybe_applied and lookup is not None:
                try:
                    found = await lookup()
                except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                    self.ledger.failures[f"lookup {type(exc).__name__}"] += 1
                    await asyncio.sleep(RETRY_DELAY_S)
                    continue  # still unknown: never send again blindly
                if found is not None:
                    self.ledger.resolved_by_lookup += 1
                    return {"id": found}
                maybe_applied = False
            if not first:
                self.ledger.retries += 1
            first = False
            self.ledger.requests += 1
            try:
                response = await attempt()
            except httpx.ConnectError:
                self.ledger.failures["connect refused"] += 1  # never reached the service
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            except httpx.TransportError as exc:
                self.ledger.failures[type(exc).__name__] += 1
                maybe_applied = True
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            if response.is_success:
                return response.json()
            if response.status_code >= 500:
                self.ledger.failures[f"HTTP {response.status_code} {_code(response)}"] += 1
                maybe_applied = True
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            raise AssertionError(
                f"the platform refused a valid request: {response.status_code} {response.text}"
            )
        raise Unanswered()

    def _accept(self, document: dict[str, Any], kind: Kind, agency: str, key: str) -> None:
        self.ledger.accepted[document["id"]] = Accepted(kind, agency, key)


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code", ""))
    except ValueError:
        return ""
