"""The journey itself: each step is what one person (or the ministry) does, then the effect waited for.

Every wait is bounded (`JourneyConfig.timeout_s`); a step that does not see its effect fails with
what it waited for and what it saw, and the journey stops there. Polls of the axis are asked for
through interop's REST API (`POST /api/v1/axis/poll`, as the province's administrator) rather than
waited for, so a packet is imported inside the journey's trace and without waiting a poll period.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from vanthu_cli.journey import documents
from vanthu_cli.journey.http import PlatformClient, PlatformTarget, TraceContext
from vanthu_cli.journey.ministry import MINISTRY_NAME, SimulatedMinistry
from vanthu_cli.journey.ministry import TIMEZONE as _TIMEZONE
from vanthu_cli.journey.steps import JourneyReport, Recorder, StepFailed, StepResult, eventually

# What one journey adds to the agency's figures (analytics measures), at least.
EXPECTED_MEASURES = {
    "arrived_axis": 1,
    "received_axis": 1,
    "registered": 1,
    "routed": 1,
    "reassigned": 1,
    "drafted": 1,
    "draft_submitted": 1,
    "approved": 1,
    "signed_personal": 1,
    "signed_seal": 1,
    "issued": 1,
    "issued_digitally_signed": 1,
    "issued_to_axis": 1,
    "sent_axis": 1,
    "statuses_sent": 5,  # 01, 03, 04, 05, 06 to the ministry
    "statuses_received": 2,  # 01, 03 from the ministry
}
STATUS_ORDER = ["01", "03", "04", "05", "06"]


@dataclass(frozen=True)
class JourneyConfig:
    target: PlatformTarget
    axis_url: str  # the axis simulator both the province and the ministry are connected to
    peer: PlatformTarget | None = None  # a second province that also receives the reply
    timeout_s: float = 60.0  # for each effect waited for
    trace_id: str | None = None


async def run_journey(
    config: JourneyConfig, on_step: Callable[[StepResult], None] | None = None
) -> JourneyReport:
    trace = TraceContext(config.trace_id)
    report = JourneyReport(trace_id=trace.trace_id)
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0)) as http:
        journey = _Journey(config, http, trace, Recorder(report, on_step))
        try:
            await journey.run()
        except StepFailed:
            pass  # recorded by the Recorder
        finally:
            report.context = journey.context
            await journey.ministry.close()
    return report


class _Journey:
    def __init__(
        self, config: JourneyConfig, http: httpx.AsyncClient, trace: TraceContext, steps: Recorder
    ) -> None:
        self.config = config
        self.a = PlatformClient(config.target, http, trace)
        self.b = PlatformClient(config.peer, http, trace) if config.peer else None
        self.ministry = SimulatedMinistry(config.axis_url, http)
        self.steps = steps
        self.timeout = config.timeout_s
        self.context: dict[str, Any] = {"trace_id": trace.trace_id}

    async def run(self) -> None:
        s = self.steps
        await s.run("setup", "Chuẩn bị: tài khoản thử, bộ giả lập nối trục", self.setup)
        await s.run("ministry.send", "Bộ gửi công văn qua trục liên thông", self.ministry_sends)
        await s.run("interop.receive", "Liên thông nhận gói tin, văn bản chờ vào sổ", self.receive)
        await s.run("registry.register", "Văn thư vào sổ văn bản đến", self.register)
        await s.run("routing.assign", "Lãnh đạo phân công xử lý chính, phối hợp", self.assign)
        await s.run("routing.reassign", "Trưởng phòng giao chuyên viên", self.reassign)
        await s.run("routing.draft", "Chuyên viên soạn dự thảo trả lời, trình duyệt", self.draft)
        await s.run("routing.review", "Trưởng phòng, lãnh đạo duyệt; lãnh đạo ký", self.review)
        await s.run("signing.sign", "Ký số cá nhân (token) và đóng dấu cơ quan (HSM)", self.signed)
        await s.run("registry.issue", "Cấp số, vào sổ văn bản đi", self.issued)
        await s.run("signing.verify", "Kiểm tra chữ ký số trên văn bản phát hành", self.verify)
        await s.run("interop.send", "Gửi văn bản trả lời qua trục", self.sent)
        await s.run(
            "ministry.reply",
            "Bộ nhận văn bản trả lời, báo đã đến, đã tiếp nhận",
            self.ministry_receives_reply,
        )
        await s.run("interop.status_in", "Trạng thái từ Bộ về tới tỉnh", self.status_from_ministry)
        if self.b is not None:
            await s.run("peer.receive", "Tỉnh bạn nhận, vào sổ, phân công văn bản", self.peer_receives)
            await s.run("interop.status_peer", "Trạng thái từ tỉnh bạn về tới tỉnh", self.status_from_peer)
        await s.run("routing.complete", "Hoàn thành xử lý văn bản đến", self.complete)
        await s.run("ministry.statuses", "Bộ nhận đủ trạng thái 01, 03, 04, 05, 06", self.ministry_statuses)
        await s.run("analytics.count", "Thống kê ghi nhận toàn bộ hành trình", self.analytics)

    # -- helpers

    def user(self, suffix: str, side: PlatformClient | None = None) -> str:
        return (side or self.a).username(suffix)

    async def poll_axis(self, side: PlatformClient) -> dict[str, Any]:
        return dict(await side.call("POST", "interop", "/api/v1/axis/poll", self.user("quantri", side)))

    async def wait(
        self, probe: Callable[[], Any], what_vi: str, what_en: str, seen: Callable[[], str] | None = None
    ) -> Any:
        return await eventually(
            probe, timeout_s=self.timeout, waiting_vi=what_vi, waiting_en=what_en, last_seen=seen
        )

    async def signing_ready(self, side: PlatformClient) -> None:
        """`vanthu up` sets demo signing up (HSM keys, signer profiles and their images, the
        leader's token agent) just after the services report healthy: a journey started at once
        waits for it here rather than failing at the signature."""
        leader = await side.principal(self.user("lanhdao", side))
        agency = side.root_agency["code"]

        async def ready() -> bool:
            profiles = await side.call(
                "GET", "signing", "/api/v1/signer-profiles", self.user("quantri", side)
            )
            usable = [p for p in profiles if p["active"] and p["image_sha256"] and p["agency_code"] == agency]
            seal = any(p["purpose"] == "agency" for p in usable)
            # A token-held key is usable once the token agent has registered its certificate.
            personal = any(
                p["purpose"] == "personal"
                and p["user_id"] == leader["user_id"]
                and (p["key_kind"] != "token_proxy" or p["has_certificate"])
                for p in usable
            )
            return seal and personal

        await self.wait(
            ready,
            f"hồ sơ chữ ký số (con dấu cơ quan và lãnh đạo) của {agency}",
            f"signer profiles (the agency seal and the leader's) of {agency}",
        )

    async def usage(self, side: PlatformClient) -> dict[str, int]:
        today = datetime.now(_TIMEZONE).date().isoformat()
        agency = side.root_agency["code"]
        answer = await side.call(
            "GET", "analytics", "/api/v1/analytics/usage", self.user("lanhdao", side),
            params={"group_by": "agency", "start": today, "end": today, "agency": agency},
        )  # fmt: skip
        row = next((r for r in answer["rows"] if r["agency"] == agency), None)
        return dict(row["measures"]) if row else {}

    # -- the steps

    async def setup(self) -> dict[str, Any]:
        await self.a.load_logins()
        if self.b is not None:
            await self.b.load_logins()
        joined = await self.ministry.connect()
        await self.signing_ready(self.a)  # the peer province (if any) signs nothing
        self.context["baseline"] = await self.usage(self.a)
        if self.b is not None:
            self.context["peer_baseline"] = await self.usage(self.b)
        produced = {
            "agency": self.a.root_agency["code"],
            "ministry": joined["system_id"],
            "trace_id": self.a.trace.trace_id,
        }
        if self.b is not None:
            produced["peer_agency"] = self.b.root_agency["code"]
        return produced

    async def ministry_sends(self) -> dict[str, Any]:
        number = str(100 + int(time.time()) % 9000)
        subject = "V/v báo cáo tình hình ứng dụng văn bản điện tử năm 2026"
        letter = documents.Letter(
            agency_parent="CHÍNH PHỦ", agency=MINISTRY_NAME, symbol=f"Số: {number}/BTN-VP",
            place_and_date=f"Hà Nội, ngày {datetime.now(_TIMEZONE):%d} tháng {datetime.now(_TIMEZONE):%m} năm {datetime.now(_TIMEZONE):%Y}",
            subject=subject,
            body=(
                f"Kính gửi: {self.a.root_agency['name']}.",
                "Đề nghị Quý cơ quan báo cáo tình hình gửi, nhận văn bản điện tử qua Trục liên thông văn bản "
                "quốc gia và kết quả ký số văn bản đi trong năm 2026.",
            ),
            signer_title=("KT. BỘ TRƯỞNG", "THỨ TRƯỞNG"),
            signer_name="Nguyễn Văn Thử",
        )  # fmt: skip
        sent = await self.ministry.send_document(
            to_code=self.a.root_agency["code"], to_name=self.a.root_agency["name"], number=number,
            subject=subject, pdf=documents.render(letter),
        )  # fmt: skip
        self.context["ministry_document"] = sent
        return {"symbol": sent["symbol"], "axis_doc_id": sent["axis_doc_id"]}

    async def find_incoming(self, side: PlatformClient, external_id: str) -> dict[str, Any] | None:
        found = await side.call(
            "GET", "registry", "/api/v1/documents", self.user("vanthu", side),
            params={"direction": "incoming", "external_document_id": external_id, "columns": "id,state,number"},
        )  # fmt: skip
        return found["items"][0] if found["items"] else None

    async def receive(self) -> dict[str, Any]:
        external_id = self.context["ministry_document"]["document_id"]
        reports: list[dict[str, Any]] = []

        async def arrived() -> dict[str, Any] | None:
            reports.append(await self.poll_axis(self.a))
            return await self.find_incoming(self.a, external_id)

        found = await self.wait(arrived, "văn bản của Bộ trong sổ chờ", "the ministry's document in the registry",
                                lambda: f"last poll: {reports[-1] if reports else '-'}")  # fmt: skip
        self.context["incoming_id"] = found["id"]
        return {"document_id": found["id"], "state": found["state"]}

    async def register(self) -> dict[str, Any]:
        doc = await self.a.call(
            "POST",
            "registry",
            f"/api/v1/incoming/{self.context['incoming_id']}/register",
            self.user("vanthu"),
        )
        if doc["state"] != "registered" or not doc.get("number"):
            raise StepFailed(f"văn bản chưa vào sổ: {doc['state']}", f"not registered: {doc['state']}")
        self.context["incoming_number"] = doc["number"]
        return {
            "so_den": f"{doc['number']:04d}/{doc['register_year']}",
            "state": doc["state"],
            "symbol": f"{doc['code_number']}/{doc['code_notation']}",
        }

    async def handling(self, username: str) -> dict[str, Any] | None:
        return await self.a.call(
            "GET",
            "routing",
            f"/api/v1/documents/{self.context['incoming_id']}/handling",
            username,
            allow=(404,),
        )

    async def assign(self) -> dict[str, Any]:
        leader = self.user("lanhdao")
        handling = await self.wait(
            lambda: self.handling(leader),
            "hồ sơ xử lý (chờ phân công)",
            "the handling (waiting for assignment)",
        )
        head = await self.a.principal(self.user("truongphong"))
        units = await self.a.call("GET", "registry", "/api/v1/units", leader)
        support = next(
            (u for u in units if u["id"] != head["unit"] and u.get("abbreviation") not in ("VP",)), None
        )
        assignees = [{"kind": "unit", "assignee_id": head["unit"], "role": "main"}]
        if support is not None:
            assignees.append({"kind": "unit", "assignee_id": support["id"], "role": "support"})
        handling = await self.a.call(
            "POST", "routing", f"/api/v1/handlings/{handling['id']}/assignments", leader,
            json={"assignees": assignees, "instruction": "Giao Phòng chủ trì tham mưu văn bản trả lời Bộ.", "version": handling["version"]},
        )  # fmt: skip
        main = next(a for a in handling["assignments"] if a["role"] == "main" and a["parent_id"] is None)
        self.context |= {"handling_id": handling["id"], "main_assignment": main["id"]}
        return {
            "handling": handling["id"], "main_unit": head["unit"], "support_unit": support["name"] if support else "-",
            "deadline": str(main["deadline"]), "statuses_sent": handling["statuses_sent"],
        }  # fmt: skip

    async def reassign(self) -> dict[str, Any]:
        specialist = await self.a.principal(self.user("chuyenvien"))
        handling = await self.a.call(
            "POST", "routing", f"/api/v1/handlings/{self.context['handling_id']}/assignments", self.user("truongphong"),
            json={
                "assignees": [{"kind": "user", "assignee_id": specialist["user_id"], "role": "main"}],
                "instruction": "Đề nghị đồng chí dự thảo văn bản trả lời.",
                "parent_assignment_id": self.context["main_assignment"],
            },
        )  # fmt: skip
        mine = next(a for a in handling["assignments"] if a["parent_id"] == self.context["main_assignment"])
        self.context["specialist_assignment"] = mine["id"]
        return {"assignee": specialist["name"], "statuses_sent": handling["statuses_sent"]}

    async def draft(self) -> dict[str, Any]:
        author = self.user("chuyenvien")
        symbol = self.context["ministry_document"]["symbol"]
        recipients = [{"organ_id": self.ministry.code, "organ_name": MINISTRY_NAME}]
        if self.b is not None:
            recipients.append(
                {"organ_id": self.b.root_agency["code"], "organ_name": self.b.root_agency["name"]}
            )
        draft = await self.a.call(
            "POST", "routing", "/api/v1/drafts", author,
            json={
                "type_name": "Công văn", "subject": f"V/v trả lời Công văn số {symbol} của {MINISTRY_NAME}",
                "external_recipients": recipients, "reply_to_handling_ids": [self.context["handling_id"]],
            },
        )  # fmt: skip
        leader = await self.a.principal(self.user("lanhdao"))
        head = await self.a.principal(self.user("truongphong"))
        letter = documents.Letter(
            agency_parent="ỦY BAN NHÂN DÂN", agency=self.a.root_agency["name"], symbol="Số:      /UBND",
            place_and_date=f"ngày {datetime.now(_TIMEZONE):%d} tháng {datetime.now(_TIMEZONE):%m} năm {datetime.now(_TIMEZONE):%Y}",
            subject=draft["subject"],
            body=(
                f"Kính gửi: {MINISTRY_NAME}.",
                f"Thực hiện Công văn số {symbol}, {self.a.root_agency['name']} báo cáo: toàn bộ văn bản đi của tỉnh "
                "được ký số và gửi qua Trục liên thông văn bản quốc gia.",
            ),
            signer_title=("CHỦ TỊCH",), signer_name=leader["name"], anchor=True,
        )  # fmt: skip
        await self.a.call(
            "PUT", "routing", f"/api/v1/drafts/{draft['id']}/files/du-thao-tra-loi.pdf", author,
            content=documents.render(letter), headers={"Content-Type": "application/pdf"}, params={"role": "main"},
        )  # fmt: skip
        submitted = await self.a.call(
            "POST", "routing", f"/api/v1/drafts/{draft['id']}/submit", author,
            json={"reviewers": [
                {"reviewer_id": head["user_id"], "label": "Trưởng phòng"},
                {"reviewer_id": leader["user_id"], "label": "Chủ tịch"},
            ]},
        )  # fmt: skip
        self.context["draft_id"] = draft["id"]
        return {"draft": draft["id"], "state": submitted["state"], "chain": "Trưởng phòng → Chủ tịch (ký)"}

    async def review(self) -> dict[str, Any]:
        path = f"/api/v1/drafts/{self.context['draft_id']}/review"
        await self.a.call(
            "POST",
            "routing",
            path,
            self.user("truongphong"),
            json={"decision": "approve", "comment": "Đồng ý, trình Chủ tịch."},
        )
        approved = await self.a.call(
            "POST",
            "routing",
            path,
            self.user("lanhdao"),
            json={"decision": "approve", "comment": "Đồng ý ban hành."},
        )
        return {"state": approved["state"]}

    async def draft_state(self) -> dict[str, Any]:
        return dict(
            await self.a.call(
                "GET", "routing", f"/api/v1/drafts/{self.context['draft_id']}", self.user("chuyenvien")
            )
        )

    async def signed(self) -> dict[str, Any]:
        seen: list[dict[str, Any]] = []

        async def done() -> dict[str, Any] | None:
            draft = await self.draft_state()
            seen.append(draft)
            if draft.get("last_error"):
                error = draft["last_error"]
                raise StepFailed(
                    f"ký số thất bại: {error.get('message_vi') or error}",
                    f"signing failed: {error.get('message_en') or error}",
                )
            return draft if draft["state"] in ("sealed", "issued") and draft.get("signed_file") else None

        draft = await self.wait(done, "văn bản đã ký và đóng dấu", "the signed and sealed document",
                                lambda: f"draft state {seen[-1]['state'] if seen else '-'}")  # fmt: skip
        signer = draft.get("signer") or {}
        return {"state": draft["state"], "signer": signer.get("full_name") or signer.get("name") or "-",
                "signed_sha256": draft["signed_file"]["sha256"][:16] + "…"}  # fmt: skip

    async def issued(self) -> dict[str, Any]:
        draft = await self.wait(
            lambda: self._issued_draft(), "số, ký hiệu văn bản đi", "the outgoing number and symbol"
        )
        doc = await self.a.call(
            "GET", "registry", f"/api/v1/documents/{draft['document_id']}", self.user("vanthu")
        )
        self.context |= {
            "outgoing_id": doc["id"],
            "outgoing_symbol": doc["symbol"],
            "axis_document_id": doc["axis_document_id"],
        }
        return {
            "so_ky_hieu": doc["symbol"],
            "register_year": doc["register_year"],
            "axis_document_id": doc["axis_document_id"],
        }

    async def _issued_draft(self) -> dict[str, Any] | None:
        draft = await self.draft_state()
        return (
            draft if draft["state"] == "issued" and draft.get("document_id") and draft.get("symbol") else None
        )

    async def verify(self) -> dict[str, Any]:
        doc = await self.a.call(
            "GET", "registry", f"/api/v1/documents/{self.context['outgoing_id']}", self.user("vanthu")
        )
        main = doc["files"][-1]
        link = await self.a.call(
            "GET", "registry", f"/api/v1/documents/{doc['id']}/files/{main['id']}/url", self.user("vanthu")
        )
        pdf = await self.a.http.get(link["url"])
        if pdf.status_code != 200:
            raise StepFailed(
                f"không tải được tệp đã ký: HTTP {pdf.status_code}",
                f"cannot download the signed file: HTTP {pdf.status_code}",
            )
        report = await self.a.call(
            "POST", "signing", "/api/v1/verify", self.user("vanthu"),
            files={"file": ("van-ban-di.pdf", pdf.content, "application/pdf")},
        )  # fmt: skip
        signatures = report.get("signatures", [])
        names = [s["signer"].get("common_name") or s["signer"].get("subject") for s in signatures]
        if len(signatures) < 2 or not all(s["intact"] and s["signature_valid"] for s in signatures):
            raise StepFailed(
                f"tệp phát hành cần 2 chữ ký (cá nhân, cơ quan), thấy {len(signatures)}: {names}",
                f"the issued file needs 2 signatures (person, agency), found {len(signatures)}: {names}",
            )
        return {"signatures": len(signatures), "signers": names}

    async def recipients(self) -> list[dict[str, Any]]:
        return list(
            await self.a.call(
                "GET",
                "interop",
                f"/api/v1/outgoing/{self.context['outgoing_id']}/recipients",
                self.user("vanthu"),
            )
        )

    async def sent(self) -> dict[str, Any]:
        wanted = {self.ministry.code} | ({self.b.root_agency["code"]} if self.b else set())
        seen: list[list[dict[str, Any]]] = []

        async def delivered() -> list[dict[str, Any]] | None:
            rows = await self.recipients()
            seen.append(rows)
            codes = {r["recipient_code"] for r in rows if r.get("delivery") == "sent" or r["code"]}
            return rows if wanted <= codes else None

        rows = await self.wait(delivered, "văn bản được gửi tới nơi nhận", "the document sent to its recipients",
                               lambda: str([(r["recipient_code"], r["code"]) for r in (seen[-1] if seen else [])]))  # fmt: skip
        return {r["recipient_code"]: r["label_vi"] for r in rows}

    async def ministry_receives_reply(self) -> dict[str, Any]:
        axis_id = self.context["axis_document_id"]

        async def reply() -> Any:
            await self.ministry.receive()
            return next((d for d in self.ministry.documents if d.document_id == axis_id), None)

        document = await self.wait(reply, "văn bản trả lời tại Bộ", "the reply at the ministry")
        if self.context["ministry_document"]["document_id"] not in document.response_for:
            raise StepFailed(
                f"văn bản trả lời không dẫn chiếu công văn của Bộ (ResponseFor {document.response_for})",
                f"the reply does not refer to the ministry's document (ResponseFor {document.response_for})",
            )
        for code in ("01", "03"):
            await self.ministry.send_status(document, code)
        return {"symbol": document.symbol, "attachments": len(document.attachments), "answered": "01, 03"}

    async def status_from(self, code: str, recipient: str) -> dict[str, Any]:
        seen: list[Any] = []

        async def shown() -> dict[str, Any] | None:
            await self.poll_axis(self.a)
            row = next((r for r in await self.recipients() if r["recipient_code"] == recipient), None)
            seen.append(row)
            return row if row and row["code"] >= code else None

        row = await self.wait(shown, f"trạng thái {code} của {recipient}", f"status {code} from {recipient}",
                              lambda: str(seen[-1]["code"] if seen and seen[-1] else "-"))  # fmt: skip
        return {
            "recipient": recipient,
            "status": f"{row['code']} {row['label_vi']}",
            "history": [h.get("code") for h in row["history"]],
        }

    async def status_from_ministry(self) -> dict[str, Any]:
        return await self.status_from("03", self.ministry.code)

    async def peer_receives(self) -> dict[str, Any]:
        assert self.b is not None
        axis_id = self.context["axis_document_id"]

        async def arrived() -> dict[str, Any] | None:
            await self.poll_axis(self.b)  # type: ignore[arg-type]
            return await self.find_incoming(self.b, axis_id)  # type: ignore[arg-type]

        found = await self.wait(arrived, "văn bản tại tỉnh bạn", "the document at the other province")
        doc = await self.b.call(
            "POST", "registry", f"/api/v1/incoming/{found['id']}/register", self.user("vanthu", self.b)
        )
        leader = self.user("lanhdao", self.b)

        async def opened() -> Any:
            return await self.b.call(
                "GET", "routing", f"/api/v1/documents/{found['id']}/handling", leader, allow=(404,)
            )  # type: ignore[union-attr]

        handling = await self.wait(opened, "hồ sơ xử lý tại tỉnh bạn", "the handling at the other province")
        head = await self.b.principal(self.user("truongphong", self.b))
        handling = await self.b.call(
            "POST", "routing", f"/api/v1/handlings/{handling['id']}/assignments", leader,
            json={"assignees": [{"kind": "unit", "assignee_id": head["unit"], "role": "main"}], "version": handling["version"]},
        )  # fmt: skip
        self.context["peer_incoming_id"] = found["id"]
        return {"agency": self.b.root_agency["code"], "so_den": f"{doc['number']:04d}/{doc['register_year']}",
                "statuses_sent": handling["statuses_sent"]}  # fmt: skip

    async def status_from_peer(self) -> dict[str, Any]:
        assert self.b is not None
        return await self.status_from("04", self.b.root_agency["code"])

    async def complete(self) -> dict[str, Any]:
        await self.a.call(
            "POST", "routing", f"/api/v1/assignments/{self.context['specialist_assignment']}/complete", self.user("chuyenvien"),
            json={"result": f"Đã trả lời bằng văn bản số {self.context['outgoing_symbol']}.", "reply_draft_id": self.context["draft_id"]},
        )  # fmt: skip
        handling = await self.a.call(
            "POST", "routing", f"/api/v1/assignments/{self.context['main_assignment']}/complete", self.user("truongphong"),
            json={"result": f"Hoàn thành; văn bản trả lời số {self.context['outgoing_symbol']}."},
        )  # fmt: skip
        return {"state": handling["state"], "statuses_sent": handling["statuses_sent"]}

    async def ministry_statuses(self) -> dict[str, Any]:
        document_id = self.context["ministry_document"]["document_id"]
        sender = self.a.root_agency["code"]

        async def all_there() -> list[str] | None:
            await self.ministry.receive()
            codes = self.ministry.status_codes(document_id, sender)
            return codes if set(STATUS_ORDER) <= set(codes) else None

        codes = await self.wait(all_there, "đủ trạng thái 01–06 tại Bộ", "statuses 01–06 at the ministry",
                                lambda: str(self.ministry.status_codes(document_id, sender)))  # fmt: skip
        if codes != STATUS_ORDER:
            raise StepFailed(
                f"trạng thái tới Bộ sai thứ tự hoặc lặp lại: {codes}",
                f"statuses out of order or repeated: {codes}",
            )
        return {"statuses": " → ".join(codes)}

    async def analytics(self) -> dict[str, Any]:
        baseline = self.context["baseline"]
        seen: list[dict[str, int]] = []

        async def counted() -> dict[str, int] | None:
            now = await self.usage(self.a)
            delta = {k: now.get(k, 0) - baseline.get(k, 0) for k in EXPECTED_MEASURES}
            seen.append(delta)
            return delta if all(delta[k] >= v for k, v in EXPECTED_MEASURES.items()) else None

        def missing() -> str:
            last = seen[-1] if seen else {}
            return ", ".join(
                f"{k} {last.get(k, 0)}/{v}" for k, v in EXPECTED_MEASURES.items() if last.get(k, 0) < v
            )

        delta = await self.wait(counted, "số liệu thống kê đủ", "the analytics figures", missing)
        self.context["analytics_delta"] = delta
        produced = {
            k: delta[k]
            for k in (
                "registered",
                "routed",
                "signed_personal",
                "signed_seal",
                "issued",
                "sent_axis",
                "statuses_sent",
            )
        }
        if self.b is not None:
            peer_base = self.context["peer_baseline"]

            async def peer_counted() -> dict[str, int] | None:
                now = await self.usage(self.b)  # type: ignore[arg-type]
                delta = {
                    k: now.get(k, 0) - peer_base.get(k, 0) for k in ("arrived_axis", "registered", "routed")
                }
                return delta if all(v >= 1 for v in delta.values()) else None

            peer = await self.wait(peer_counted, "số liệu của tỉnh bạn", "the other province's figures")
            produced["peer"] = peer
        return produced
