"""A ministry outside the province: one more system on the axis, played by the journey.

It joins the axis simulator through its control routes (`/_sim/systems`, `/_sim/agencies`),
then speaks only the axis protocol, with interop's own client and edXML builder and parser:
it sends a công văn, reads the statuses the province sends back, receives the reply and
answers it with statuses of its own, as the ministry's document system would.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from vanthu_cli.journey.steps import StepFailed

MINISTRY_CODE = "000.00.00.G99"  # fictitious, like the demo province
MINISTRY_NAME = "Bộ Thử nghiệm (giả lập)"
MINISTRY_ABBREVIATION = "BTN"
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # edXML times are local wall-clock time


@dataclass
class ReceivedStatus:
    code: str
    from_code: str
    document_id: str  # the edXML DocumentId of the document the status is about
    description: str


@dataclass
class ReceivedDocument:
    document_id: str
    from_code: str
    symbol: str
    subject: str
    promulgation_date: date | None
    response_for: list[str]
    attachments: list[dict[str, Any]] = field(default_factory=list)


class SimulatedMinistry:
    def __init__(self, axis_url: str, http: httpx.AsyncClient, *, code: str = MINISTRY_CODE) -> None:
        self.axis_url = axis_url.rstrip("/")
        self.http = http
        self.code = code
        self.secret = secrets.token_urlsafe(18)
        self.statuses: list[ReceivedStatus] = []
        self.documents: list[ReceivedDocument] = []
        self._workdir = Path(tempfile.mkdtemp(prefix="vanthu-journey-ministry-"))
        self._client: Any = None

    async def connect(self) -> dict[str, Any]:
        """Become a system of the simulator, serving the ministry's code group."""
        group = self.code.rsplit(".", 1)[-1]
        for path, body in (
            ("/_sim/systems", {"system_id": self.code, "secret": self.secret, "routes": [group]}),
            ("/_sim/agencies", {"code": self.code, "name": MINISTRY_NAME, "system_id": self.code}),
        ):
            try:
                response = await self.http.post(f"{self.axis_url}{path}", json=body)
            except httpx.HTTPError as exc:
                raise StepFailed(
                    f"không kết nối được trục {self.axis_url}: {type(exc).__name__}",
                    f"cannot reach the axis {self.axis_url}: {type(exc).__name__}",
                ) from exc
            if response.status_code != 200:
                raise StepFailed(
                    f"{self.axis_url} không phải trục giả lập (POST {path}: HTTP {response.status_code}); "
                    "hành trình thử cần trục giả lập để đóng vai bộ",
                    f"{self.axis_url} is not the axis simulator (POST {path}: HTTP {response.status_code}); "
                    "the journey needs the simulator to play the ministry",
                )
        from vanthu_interop.axis.client import AxisClient, AxisConnection

        self._client = AxisClient(AxisConnection(self.axis_url, self.code, self.secret), http=self.http)
        return {"system_id": self.code, "agency": MINISTRY_NAME}

    def organ(self) -> Any:
        from vanthu_interop.edxml.model import Organ

        return Organ(
            organ_id=self.code, organ_name=MINISTRY_NAME, organization_in_charge=MINISTRY_NAME,
            organ_add="Hà Nội", email="vanthu@btn.gov.vn", telephone="024 0000 0000", fax="", website="",
        )  # fmt: skip

    async def send_document(
        self, *, to_code: str, to_name: str, number: str, subject: str, pdf: bytes, due_in_days: int = 10
    ) -> dict[str, Any]:
        from vanthu_interop.edxml.build import build_file
        from vanthu_interop.edxml.model import Attachment, Business, EdocPacket, Organ, OtherInfo, Trace

        now = datetime.now(TIMEZONE).replace(tzinfo=None, microsecond=0)
        notation = f"{MINISTRY_ABBREVIATION}-VP"
        document_id = f"{self.code},{now:%Y/%m/%d},{number}/{notation}"
        main = self._workdir / f"{number}-{notation}.pdf"
        main.write_bytes(pdf)
        packet = EdocPacket(
            from_=self.organ(),
            to=[Organ(organ_id=to_code, organ_name=to_name)],
            document_id=document_id,
            code_number=number,
            code_notation=notation,
            promulgation_place="Hà Nội",
            promulgation_date=now.date(),
            type=1,
            type_detail=0,
            type_name="Công văn",
            subject=subject,
            content=subject,
            signer_competence="KT. BỘ TRƯỞNG",
            signer_position="Thứ trưởng",
            signer_full_name="Nguyễn Văn Thử",
            due_date=now.date() + timedelta(days=due_in_days),
            other=OtherInfo(priority=0, promulgation_amount=1, page_amount=1),
            steering_type=1,
            to_places=[to_name, "Lưu: VT, VP."],
            trace=[Trace(organ_id=self.code, timestamp=now)],
            business=Business(doc_type=0, reason="Văn bản điện tử mới", paper=0, document_id=document_id),
            attachments=[Attachment(name=main.name, content_type="application/pdf", path=main)],
        )
        path = self._workdir / f"edoc-{number}.edxml"
        await asyncio.to_thread(build_file, packet, path)
        axis_doc_id = await self._client.send_edoc(
            path, from_code=self.code, message_type="edoc", to_codes=[to_code]
        )
        return {"document_id": document_id, "symbol": f"{number}/{notation}", "axis_doc_id": axis_doc_id}

    async def receive(self) -> None:
        """Take what the axis holds for the ministry: statuses and documents; acknowledge each."""
        from vanthu_interop.edxml import parse
        from vanthu_interop.edxml.model import StatusPacket

        for message_type in ("status", "edoc"):
            for entry in await self._client.get_received_edoc_list(message_type):
                target = self._workdir / f"in-{entry.doc_id}.edxml"
                await self._client.get_edoc(entry.doc_id, target)
                with await asyncio.to_thread(parse, target, workdir=self._workdir) as parsed:
                    packet = parsed.packet
                    if isinstance(packet, StatusPacket):
                        self.statuses.append(
                            ReceivedStatus(
                                code=str(packet.status_code or ""),
                                from_code=packet.from_.organ_id or entry.from_code,
                                document_id=packet.response_for.document_id or "",
                                description=packet.description or "",
                            )
                        )
                    else:
                        self.documents.append(
                            ReceivedDocument(
                                document_id=packet.document_id or "",
                                from_code=packet.from_.organ_id or entry.from_code,
                                symbol=packet.symbol,
                                subject=packet.subject or "",
                                promulgation_date=packet.promulgation_date,
                                response_for=[r.document_id or "" for r in packet.response_for],
                                attachments=[
                                    {"name": a.name, "size": a.size, "sha256": a.sha256}
                                    for a in packet.attachments
                                ],
                            )
                        )
                await self._client.update_status(entry.doc_id, "done")
                target.unlink(missing_ok=True)

    def status_codes(self, document_id: str, from_code: str | None = None) -> list[str]:
        return [
            s.code
            for s in self.statuses
            if s.document_id == document_id and (from_code is None or s.from_code == from_code)
        ]

    async def send_status(self, document: ReceivedDocument, code: str, staff: str = "Văn thư Bộ") -> None:
        """Tell the sender what happened to their document (01 arrived, 03 accepted …)."""
        from vanthu_interop.domain.outgoing import status_packet
        from vanthu_interop.edxml.build import build_file

        packet = status_packet(
            reporter=self.organ(),
            addressee=document.from_code,
            external_document_id=document.document_id,
            symbol=document.symbol,
            promulgation_date=document.promulgation_date,
            code=code,
            description="",
            staff=staff,
            reported_at=datetime.now(TIMEZONE).replace(tzinfo=None, microsecond=0),
        )
        path = self._workdir / f"status-{code}-{secrets.token_hex(4)}.edxml"
        await asyncio.to_thread(build_file, packet, path)
        await self._client.send_edoc(path, from_code=self.code, message_type="status")
        path.unlink(missing_ok=True)

    async def close(self) -> None:
        import shutil

        shutil.rmtree(self._workdir, ignore_errors=True)
