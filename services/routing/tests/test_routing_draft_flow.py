"""One outgoing draft from creation through review, opinions, signing and issue, on real NATS
and PostgreSQL. The test plays the signing service and the registry with their contract models:
it receives the real `signing.sign` jobs, answers with `signing.document.signed/failed`, and
answers the registry's `issue_document` RPC."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from routing_support import Harness, seed_agency, unit_id

from vanthu_contracts.events import registry as reg
from vanthu_contracts.events import signing as sg
from vanthu_testing.clock import local_today

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


class FakeSigningAndRegistry:
    """The other side of routing's ports, speaking the real contracts over the real NATS."""

    def __init__(self, h: Harness, *, answer_rpc: bool = True) -> None:
        self.h = h
        self.answer_rpc = answer_rpc
        self.jobs: list[sg.SignDocument] = []
        self.issue_requests: list[Any] = []
        self.subs: list[Any] = []

    async def start(self) -> None:
        async def on_job(msg: Any) -> None:
            env = json.loads(msg.data)
            if env["agency"] == self.h.agency:
                self.jobs.append(sg.SignDocument.model_validate(env["payload"]))

        async def on_issue(msg: Any) -> None:
            request = reg.IssueDocumentRequest.model_validate_json(msg.data)
            if request.agency_code != self.h.agency:
                return
            self.issue_requests.append(request)
            reply = reg.IssueDocumentReply(
                ok=True,
                document_id=str(uuid.uuid5(uuid.NAMESPACE_URL, request.draft_id)),
                register_id="di-2026",
                number=45,
                code_number="45",
                code_notation="UBND-VP",
                symbol="45/UBND-VP",
                axis_document_id=f"{self.h.agency},2026/03/02,45/UBND-VP",
                issued_date=local_today(),
            )
            await msg.respond(reply.model_dump_json().encode())

        self.subs.append(await self.h.nc.subscribe(sg.SIGN.subject, cb=on_job))
        if self.answer_rpc:
            self.subs.append(await self.h.nc.subscribe(reg.ISSUE_DOCUMENT.subject, cb=on_issue))

    async def stop(self) -> None:
        for sub in self.subs:
            await sub.unsubscribe()
        # Take our jobs out of the work queue so no signing worker of another test meets them.
        js = self.h.nc.jetstream()
        info = await js.stream_info("VANTHU_JOBS_SIGNING")
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                msg = await js.get_msg("VANTHU_JOBS_SIGNING", seq)
            except Exception:
                continue
            if msg.data and json.loads(msg.data).get("agency") == self.h.agency:
                await js.delete_msg("VANTHU_JOBS_SIGNING", seq)

    async def job(self, kind: sg.SignatureKind, count: int = 1) -> sg.SignDocument:
        jobs = await self.h.wait_for(
            lambda: [j for j in self.jobs if j.kind is kind][count - 1 :], f"{kind} job"
        )
        return jobs[0]

    async def signed(self, job: sg.SignDocument) -> str:
        data = PDF + f"% signed {job.kind} {job.job_id}\n".encode()
        sha = hashlib.sha256(data).hexdigest()
        await self.h.publish(
            sg.DOCUMENT_SIGNED.type,
            sg.DocumentSigned(
                job_id=job.job_id,
                agency_code=job.agency_code,
                kind=job.kind,
                draft_id=job.draft_id,
                source_sha256=job.file.sha256,
                signed=sg.SignedFile(sha256=sha, size=len(data), name=job.file.name),
                level=sg.PadesLevel.B_T,
                field_name=f"Sig-{job.kind}",
                signer=sg.CertificateSummary(
                    subject="CN=Nguyen Van Lanh",
                    common_name="Nguyen Van Lanh",
                    issuer="CN=Test CA",
                    serial_hex="01",
                    not_before=datetime.now(UTC) - timedelta(days=1),
                    not_after=datetime.now(UTC) + timedelta(days=365),
                    sha256="0" * 64,
                ),
                profile_id="test",
                signed_at=datetime.now(UTC),
            ),
            source="signing",
        )
        return sha

    async def failed(self, job: sg.SignDocument) -> None:
        await self.h.publish(
            sg.DOCUMENT_FAILED.type,
            sg.DocumentSigningFailed(
                job_id=job.job_id,
                agency_code=job.agency_code,
                kind=job.kind,
                draft_id=job.draft_id,
                source_sha256=job.file.sha256,
                code="signing.token_timeout",
                message_vi="Người ký không xác nhận trên thiết bị ký số.",
                message_en="The signer did not confirm on the token.",
                failed_at=datetime.now(UTC),
            ),
            source="signing",
        )


async def _draft(h: Harness, who: str = "spec_a") -> dict:
    return await h.call(
        "POST",
        "/api/v1/drafts",
        who,
        json={
            "type_name": "Công văn",
            "subject": "V/v trả lời kiến nghị về cải cách hành chính",
            "urgency": "khan",
            "external_recipients": [{"organ_id": "000.00.00.G22", "organ_name": "Bộ Nội vụ"}],
        },
    )


async def _upload(
    h: Harness, draft_id: str, data: bytes, who: str = "spec_a", name: str = "du-thao.pdf"
) -> dict:
    return await h.call(
        "PUT",
        f"/api/v1/drafts/{draft_id}/files/{name}",
        who,
        content=data,
        headers={"Content-Type": "application/pdf"},
    )


async def test_draft_from_creation_through_review_signing_and_issue(routing: Harness) -> None:
    h = routing
    await seed_agency(h)
    other = FakeSigningAndRegistry(h)
    await other.start()
    try:
        people = h.people
        template = await h.call(
            "POST",
            "/api/v1/chain-templates",
            "leader",
            json={
                "name": "Công văn của phòng A",
                "steps": [
                    {"reviewer_id": people["head_a"].id, "label": "Trưởng phòng"},
                    {"reviewer_id": people["deputy"].id, "label": "Phó Giám đốc"},
                    {"reviewer_id": people["leader"].id, "label": "Giám đốc"},
                ],
            },
        )
        draft = await _draft(h)
        did = draft["id"]
        created = await h.wait_event("routing.draft.created", draft_id=did)
        assert created["payload"]["urgency"] == "khan"
        no_file = await h.call(
            "POST", f"/api/v1/drafts/{did}/submit", "spec_a", expect=422, json={"template_id": template["id"]}
        )
        assert no_file["code"] == "routing.file_required"
        wrong_type = await h.client.put(
            f"/api/v1/drafts/{did}/files/x.docx",
            headers=h.token("spec_a") | {"Content-Type": "application/msword"},
            content=b"x",
        )
        assert wrong_type.status_code == 415 and wrong_type.json()["code"] == "unsupported_media_type"
        v1 = await _upload(h, did, PDF)
        assert v1["file_version"] == 1 and v1["sha256"] == hashlib.sha256(PDF).hexdigest()
        assert (await h.call("GET", "/api/v1/inbox", "spec_a"))["drafts"]["total"] == 1

        submitted = await h.call(
            "POST", f"/api/v1/drafts/{did}/submit", "spec_a", json={"template_id": template["id"]}
        )
        assert submitted["state"] == "in_review" and submitted["current_reviewer_id"] == people["head_a"].id
        twice = await h.call(
            "POST", f"/api/v1/drafts/{did}/submit", "spec_a", expect=409, json={"template_id": template["id"]}
        )
        assert twice["code"] == "routing.already_submitted"
        assert (await h.call("GET", "/api/v1/inbox/review", "head_a"))["items"][0]["draft_id"] == did
        early = await h.call(
            "POST", f"/api/v1/drafts/{did}/review", "deputy", expect=403, json={"decision": "approve"}
        )
        assert early["code"] == "routing.not_your_turn"

        await h.call(
            "POST",
            f"/api/v1/drafts/{did}/review",
            "head_a",
            json={"decision": "approve", "comment": "Đồng ý"},
        )
        forwarded = await h.call(
            "POST",
            f"/api/v1/drafts/{did}/review",
            "deputy",
            json={
                "decision": "forward",
                "forward_to": people["head_b"].id,
                "forward_label": "Trưởng phòng B",
            },
        )
        assert forwarded["current_reviewer_id"] == people["head_b"].id
        assert [s["reviewer_id"] for s in forwarded["chain"]][2] == people["head_b"].id
        no_reason = await h.call(
            "POST", f"/api/v1/drafts/{did}/review", "head_b", expect=422, json={"decision": "return"}
        )
        assert no_reason["code"] == "routing.reason_required"
        returned = await h.call(
            "POST",
            f"/api/v1/drafts/{did}/review",
            "head_b",
            json={"decision": "return", "comment": "Bổ sung số liệu quý I"},
        )
        assert returned["state"] == "returned"
        back = await h.wait_event("routing.draft.returned", draft_id=did)
        assert back["payload"]["comment"] == "Bổ sung số liệu quý I"

        v2 = await _upload(h, did, PDF + b"% v2\n")
        assert v2["file_version"] == 2
        resubmitted = await h.call(
            "POST",
            f"/api/v1/drafts/{did}/submit",
            "spec_a",
            json={
                "reviewers": [
                    {"reviewer_id": people["head_a"].id, "label": "Trưởng phòng"},
                    {"reviewer_id": people["leader"].id, "label": "Giám đốc"},
                ]
            },
        )
        assert [s["signer"] for s in resubmitted["chain"]] == [False, True]
        await h.call("POST", f"/api/v1/drafts/{did}/review", "head_a", json={"decision": "approve"})

        # Opinion round: a person and a unit, answered by the person and the unit's head.
        due = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
        rnd = await h.call(
            "POST",
            f"/api/v1/drafts/{did}/opinion-rounds",
            "leader",
            json={
                "participants": [
                    {"kind": "user", "participant_id": people["spec_b"].id},
                    {"kind": "unit", "participant_id": unit_id(h, "pb")},
                ],
                "question": "Đề nghị góp ý dự thảo",
                "due_date": due,
            },
        )
        assert (await h.call("GET", "/api/v1/inbox", "spec_b"))["opinion"]["total"] == 1
        stranger = await h.call(
            "POST", f"/api/v1/opinion-rounds/{rnd['id']}/answer", "spec_a", expect=403, json={"opinion": "x"}
        )
        assert stranger["code"] == "routing.not_a_participant"
        await h.call(
            "POST", f"/api/v1/opinion-rounds/{rnd['id']}/answer", "spec_b", json={"opinion": "Nhất trí"}
        )
        again = await h.call(
            "POST", f"/api/v1/opinion-rounds/{rnd['id']}/answer", "spec_b", expect=409, json={"opinion": "x"}
        )
        assert again["code"] == "routing.already_answered"
        closed = await h.call(
            "POST",
            f"/api/v1/opinion-rounds/{rnd['id']}/answer",
            "head_b",
            json={"opinion": "Đề nghị bổ sung căn cứ"},
        )
        assert closed["state"] == "closed"
        kept = await h.call("GET", f"/api/v1/drafts/{did}", "spec_a")
        assert {r["opinion"] for r in kept["opinion_rounds"][0]["requests"]} == {
            "Nhất trí",
            "Đề nghị bổ sung căn cứ",
        }

        # The signer approves: the personal signature is requested from signing.
        approved = await h.call(
            "POST", f"/api/v1/drafts/{did}/review", "leader", json={"decision": "approve"}
        )
        assert approved["state"] == "approved" and approved["signer"]["id"] == people["leader"].id
        personal = await other.job(sg.SignatureKind.PERSONAL)
        assert personal.draft_id == did and personal.signer.user_id == people["leader"].id
        assert personal.file.sha256 == v2["sha256"]  # the latest version is what gets signed
        assert personal.appearance.full_name == "Nguyễn Văn Lãnh"

        # A failure is reported and the signer asks again with a new job id.
        await other.failed(personal)
        failed = await h.wait_event("routing.draft.signing_failed", draft_id=did)
        assert failed["payload"]["code"] == "signing.token_timeout"
        retried = await h.call("POST", f"/api/v1/drafts/{did}/retry-signing", "leader")
        assert retried["last_error"] is None
        personal2 = await other.job(sg.SignatureKind.PERSONAL, count=2)
        assert personal2.job_id != personal.job_id

        personal_sha = await other.signed(personal2)
        seal = await other.job(sg.SignatureKind.SEAL)
        assert seal.file.sha256 == personal_sha and seal.draft_id == did
        assert not h.events("routing.draft.signed", draft_id=did)  # not before the seal is on
        sealed_sha = await other.signed(seal)
        signed_event = await h.wait_event("routing.draft.signed", draft_id=did)
        assert (
            signed_event["payload"]["signed_file"]["sha256"] == sealed_sha
            and signed_event["payload"]["sealed"]
        )
        chain_ids = [people["head_a"].id, people["leader"].id]
        assert signed_event["payload"]["reviewer_ids"] == chain_ids

        issued = await h.wait_event("routing.draft.issued", draft_id=did)
        assert issued["payload"]["symbol"] == "45/UBND-VP"
        [request] = other.issue_requests
        assert request.draft_id == did and request.sealed and request.files[0].sha256 == sealed_sha
        assert request.signer_name == "Nguyễn Văn Lãnh" and request.actor == people["leader"].id
        # Who handled it, so the registry grants a secret one to them (with the văn thư).
        assert request.drafter_id == people["spec_a"].id and request.signer_id == people["leader"].id
        assert request.reviewer_ids == chain_ids
        # The unit's own abbreviation: the registry writes the agency's before it (UBND-VP), once.
        assert request.unit_abbreviation == unit_id(h, "pa").upper()[:20]
        final = await h.call("GET", f"/api/v1/drafts/{did}", "spec_a")
        assert final["state"] == "issued" and final["document_id"] == str(uuid.uuid5(uuid.NAMESPACE_URL, did))
        actions = [x["action"] for x in final["history"]]
        assert actions[:2] == ["created", "file"] and actions[-2:] == ["sealed", "issued"]

        # The registry's own event for the same issue changes nothing (no second draft.issued).
        await h.publish(
            reg.DOCUMENT_ISSUED.type,
            reg.OutgoingIssued(
                document_id=str(uuid.uuid5(uuid.NAMESPACE_URL, did)),
                agency_code=h.agency,
                type_name="Công văn",
                subject="V/v trả lời kiến nghị về cải cách hành chính",
                register_id="di-2026",
                register_year=2026,
                number=45,
                symbol="45/UBND-VP",
                axis_document_id=f"{h.agency},2026/03/02,45/UBND-VP",
                issued_at=datetime.now(UTC),
                draft_id=did,
            ),
        )
        await asyncio.sleep(1.0)
        assert len(h.events("routing.draft.issued", draft_id=did)) == 1
        kinds = [e["type"] for e in h.events("routing.draft.") if e["payload"]["draft_id"] == did]
        assert kinds == [
            "routing.draft.created",
            "routing.draft.submitted",
            "routing.draft.reviewed",
            "routing.draft.reviewed",
            "routing.draft.returned",
            "routing.draft.submitted",
            "routing.draft.reviewed",
            "routing.draft.approved",
            "routing.draft.signing_failed",
            "routing.draft.signed",
            "routing.draft.issued",
        ]
        notes = await h.call("GET", "/api/v1/notifications", "spec_a")
        assert any(n["kind"] == "draft_issued" for n in notes["items"])
    finally:
        await other.stop()


async def test_editing_is_for_the_drafter_and_the_reviewer_in_turn(routing: Harness) -> None:
    h = routing
    await seed_agency(h)
    did = (await _draft(h))["id"]
    theirs = await h.call("PATCH", f"/api/v1/drafts/{did}", "spec_b", expect=403, json={"subject": "x"})
    assert theirs["code"] == "routing.not_yours"
    peek = await h.call("GET", f"/api/v1/drafts/{did}", "spec_b", expect=403)
    assert peek["code"] == "routing.not_yours"
    await h.call("GET", f"/api/v1/drafts/{did}", "leader")
    edited = await h.call(
        "PATCH", f"/api/v1/drafts/{did}", "spec_a", json={"subject": "V/v mới", "version": 1}
    )
    stale = await h.call(
        "PATCH", f"/api/v1/drafts/{did}", "spec_a", expect=409, json={"subject": "cũ", "version": 1}
    )
    assert edited["subject"] == "V/v mới" and stale["code"] == "version_conflict"
    await _upload(h, did, PDF)
    bad_chain = await h.call(
        "POST",
        f"/api/v1/drafts/{did}/submit",
        "spec_a",
        expect=422,
        json={"reviewers": [{"reviewer_id": h.people["spec_a"].id}]},
    )
    assert bad_chain["code"] == "routing.review_chain_invalid"
    outsider = await h.call(
        "POST",
        f"/api/v1/drafts/{did}/submit",
        "spec_a",
        expect=422,
        json={"reviewers": [{"reviewer_id": str(uuid.uuid4())}]},
    )
    assert outsider["code"] == "routing.review_chain_invalid"
    empty = await h.call("POST", f"/api/v1/drafts/{did}/submit", "spec_a", expect=422, json={"reviewers": []})
    assert empty["code"] == "routing.review_chain_required"
    await h.call(
        "POST",
        f"/api/v1/drafts/{did}/submit",
        "spec_a",
        json={"reviewers": [{"reviewer_id": h.people["head_a"].id}]},
    )
    locked = await h.call("PATCH", f"/api/v1/drafts/{did}", "spec_a", expect=409, json={"subject": "x"})
    assert locked["code"] == "routing.draft_not_editable"
    by_reviewer = await h.call(
        "PATCH", f"/api/v1/drafts/{did}", "head_a", json={"subject": "V/v đã sửa khi duyệt"}
    )
    assert by_reviewer["subject"] == "V/v đã sửa khi duyệt"


async def test_issue_falls_back_to_the_registry_event(routing: Harness) -> None:
    """No answer to issue_document: the draft stays sealed until registry.document.issued arrives."""
    h = routing
    await seed_agency(h)
    other = FakeSigningAndRegistry(h, answer_rpc=False)
    await other.start()
    try:
        did = (await _draft(h))["id"]
        await _upload(h, did, PDF)
        await h.call(
            "POST",
            f"/api/v1/drafts/{did}/submit",
            "spec_a",
            json={"reviewers": [{"reviewer_id": h.people["leader"].id}]},
        )
        await h.call("POST", f"/api/v1/drafts/{did}/review", "leader", json={"decision": "approve"})
        await other.signed(await other.job(sg.SignatureKind.PERSONAL))
        await other.signed(await other.job(sg.SignatureKind.SEAL))
        signed = await h.wait_event("routing.draft.signed", draft_id=did)
        assert signed["payload"]["sealed"] is True
        await asyncio.sleep(0.5)
        assert (await h.call("GET", f"/api/v1/drafts/{did}", "spec_a"))["state"] == "sealed"
        document_id = str(uuid.uuid4())
        await h.publish(
            reg.DOCUMENT_ISSUED.type,
            reg.OutgoingIssued(
                document_id=document_id,
                agency_code=h.agency,
                type_name="Công văn",
                subject="V/v trả lời kiến nghị về cải cách hành chính",
                register_id="di-2026",
                register_year=2026,
                number=7,
                symbol="07/SXD-PA",
                axis_document_id=f"{h.agency},2026/03/02,07/SXD-PA",
                issued_at=datetime.now(UTC),
                draft_id=did,
            ),
        )
        issued = await h.wait_event("routing.draft.issued", draft_id=did)
        assert issued["payload"]["symbol"] == "07/SXD-PA" and issued["payload"]["document_id"] == document_id
    finally:
        await other.stop()
