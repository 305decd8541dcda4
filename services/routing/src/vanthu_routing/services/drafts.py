"""Use cases of outgoing drafts: create, edit, files, submit, review, opinions, sign, issue."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

from vanthu_contracts.envelope import Envelope, RawEnvelope
from vanthu_contracts.errors import UNSUPPORTED_MEDIA
from vanthu_contracts.events import registry as reg
from vanthu_contracts.events import routing as c
from vanthu_contracts.events import signing as sg
from vanthu_contracts.events.common import Role, Secrecy, Urgency
from vanthu_contracts.events.registry import FileRef, OrganRef
from vanthu_contracts.events.routing import (
    AssigneeKind,
    DelegationScope,
    HandlingRole,
    NotificationKind,
    ReviewDecision,
)
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.drafts import Draft, DraftState, build_chain
from vanthu_routing.domain.handling import assignee_key
from vanthu_routing.ids import new_id
from vanthu_routing.issuing import Issuer, IssuingUnavailable
from vanthu_routing.repos.directory import DirectoryRepo
from vanthu_routing.repos.drafts import DraftRecord, DraftRepo
from vanthu_routing.repos.handlings import HandlingRepo
from vanthu_routing.repos.sql import check_expected
from vanthu_routing.services.actors import resolve_actor
from vanthu_routing.services.context import RoutingContext, envelope, rules
from vanthu_routing.services.notifier import Message
from vanthu_runtime.auth import Principal
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import Tx

log = logging.getLogger("vanthu.routing.drafts")
SIGNING_CONSUMER = c.SIGNING_CONSUMER.durable
DOCUMENTS_CONSUMER = c.DOCUMENTS_CONSUMER.durable

COMPETENCE = {
    str(Role.HEAD): "",
    str(Role.DEPUTY_HEAD): "KT.",
    str(Role.UNIT_HEAD): "TL.",
    str(Role.DEPUTY_UNIT_HEAD): "TL.",
}


def _facts(rec: DraftRecord) -> dict[str, Any]:
    r = rec.row
    return {
        "draft_id": r["id"],
        "agency_code": r["agency_code"],
        "unit_id": r["unit_id"],
        "creator_id": r["creator_id"],
        "type_name": r["type_name"],
        "type_abbreviation": r["type_abbreviation"],
        "subject": r["subject"],
        "urgency": r["urgency"],
        "secrecy": r["secrecy"],
        "internal_recipients": r["internal_recipients"],
        "external_recipients": r["external_recipients"],
        "reply_to_handling_ids": r["reply_to"],
        "files": [_file_ref(f) for f in rec.current_files],
    }


def _file_ref(f: dict[str, Any]) -> FileRef:
    return FileRef(sha256=f["sha256"], name=f["name"], content_type=f["content_type"], size=f["size"], role=f["role"])


def _reviewer_ids(d: Draft) -> list[str]:
    return list(dict.fromkeys(s.reviewer_id for s in d.chain if s.reviewer_id))


def _chain_out(d: Draft) -> list[c.ReviewStepOut]:
    return [c.ReviewStepOut(order=s.order, reviewer_id=s.reviewer_id, label=s.label, signer=s.signer) for s in d.chain]


class DraftService:
    def __init__(self, ctx: RoutingContext, *, object_store: Any, issuer: Issuer | None, anchor_text: str | None = None, max_upload_bytes: int = 50 * 1024 * 1024) -> None:
        self.ctx = ctx
        self.store = object_store
        self.issuer = issuer
        self.anchor_text = anchor_text
        self.max_upload_bytes = max_upload_bytes

    async def _actor(self, tx: Tx, principal: Principal, on_behalf_of: str | None) -> Actor:
        return await resolve_actor(tx.session, principal, on_behalf_of, DelegationScope.DRAFTS, self.ctx.clock.now())

    async def _notify(self, tx: Tx, rec: DraftRecord, users: list[str], kind: NotificationKind, vi: str, en: str, actor: str) -> None:
        subject = rec.row["subject"][:200]
        await self.ctx.notifier.notify(
            tx, rec.row["agency_code"], users, Message(kind, f"{vi}: {subject}", f"{en}: {subject}", "draft", rec.row["id"]),
            self.ctx.clock.now(), actor,
        )

    # -- drafting --------------------------------------------------------------------------------

    async def create(self, principal: Principal, data: dict[str, Any], on_behalf_of: str | None = None) -> DraftRecord:
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            actor = await self._actor(tx, principal, on_behalf_of)
            draft_id = new_id()
            repo = DraftRepo(tx.session)
            await repo.add(
                {
                    "id": draft_id,
                    "agency_code": actor.agency,
                    "unit_id": actor.unit_id,
                    "creator_id": actor.user_id,
                    **_editable(data),
                    "state": str(DraftState.DRAFTING),
                    "chain": [],
                    "current_step": None,
                    "current_reviewer_id": None,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
            await repo.log(draft_id, "created", actor.person, actor.on_behalf_of, now)
            rec = await repo.get(draft_id)
            await tx.publish(envelope(c.DRAFT_CREATED.type, c.DraftCreated(**_facts(rec), created_at=now), actor.agency, actor))
        return rec

    async def update(self, principal: Principal, draft_id: str, data: dict[str, Any], expected_version: int | None, on_behalf_of: str | None = None) -> DraftRecord:
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            actor = await self._actor(tx, principal, on_behalf_of)
            repo = DraftRepo(tx.session)
            rec = await repo.get(draft_id, actor.agency)
            check_expected(expected_version, rec.draft.version, draft_id)
            with rules():
                rec.draft.check_edit(actor)
            await repo.save(rec, now, **_editable(data))
            await repo.log(draft_id, "edited", actor.person, actor.on_behalf_of, now)
        return rec

    async def upload_file(
        self, principal: Principal, draft_id: str, name: str, role: str, content_type: str, body: AsyncIterator[bytes],
        on_behalf_of: str | None = None,
    ) -> dict[str, Any]:
        if role == "main" and content_type != "application/pdf":
            raise AppError(UNSUPPORTED_MEDIA, {"content_type": content_type, "expected": "application/pdf"})
        async with self.ctx.uow.read() as session:
            actor = await resolve_actor(session, principal, on_behalf_of, DelegationScope.DRAFTS, self.ctx.clock.now())
            rec = await DraftRepo(session).get(draft_id, actor.agency)
            with rules():
                rec.draft.check_edit(actor)
        stored = await self.store.put(body, content_type=content_type, max_bytes=self.max_upload_bytes)
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            repo = DraftRepo(tx.session)
            rec = await repo.get(draft_id, actor.agency)
            with rules():
                rec.draft.check_edit(actor)  # again: the state may have moved during the upload
            row = await repo.add_file(
                {
                    "draft_id": draft_id,
                    "name": name,
                    "role": role,
                    "sha256": stored.sha256,
                    "size": stored.size,
                    "content_type": content_type,
                    "uploaded_by": actor.person,
                    "uploaded_at": now,
                }
            )
            await repo.save(rec, now)  # a new file version is a change of the draft
            await repo.log(draft_id, "file", actor.person, actor.on_behalf_of, now, comment=f"{name} v{row['file_version']}")
        return row

    # -- review chain ----------------------------------------------------------------------------

    async def submit(
        self,
        principal: Principal,
        draft_id: str,
        *,
        reviewers: list[tuple[str, str]] | None,
        template_id: str | None,
        expected_version: int | None,
        on_behalf_of: str | None = None,
    ) -> DraftRecord:
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            actor = await self._actor(tx, principal, on_behalf_of)
            repo = DraftRepo(tx.session)
            rec = await repo.get(draft_id, actor.agency)
            check_expected(expected_version, rec.draft.version, draft_id)
            if template_id is not None:
                template = await repo.template(template_id, actor.agency)
                reviewers = [(s["reviewer_id"], s.get("label", "")) for s in template["steps"]]
            tree = await DirectoryRepo(tx.session).tree(actor.agency, [r for r, _ in reviewers or []])
            with rules():
                chain = build_chain(reviewers or [], rec.draft.creator_id, set(tree.user_unit))
                rec.draft.submit(actor, chain)
            await repo.save(rec, now)
            await repo.log(draft_id, "submitted", actor.person, actor.on_behalf_of, now)
            await tx.publish(
                envelope(
                    c.DRAFT_SUBMITTED.type,
                    c.DraftSubmitted(**_facts(rec), chain=_chain_out(rec.draft), submitted_at=now),
                    actor.agency,
                    actor,
                )
            )
            first = rec.draft.current
            assert first is not None
            await self._notify(tx, rec, [first.reviewer_id], NotificationKind.REVIEW_REQUESTED, "Dự thảo chờ duyệt", "Draft waiting for your review", actor.person)
        return rec

    async def review(
        self,
        principal: Principal,
        draft_id: str,
        decision: ReviewDecision,
        comment: str,
        *,
        forward_to: str | None,
        forward_label: str,
        signer_competence: str | None,
        expected_version: int | None,
        on_behalf_of: str | None = None,
    ) -> DraftRecord:
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            actor = await self._actor(tx, principal, on_behalf_of)
            repo = DraftRepo(tx.session)
            rec = await repo.get(draft_id, actor.agency)
            check_expected(expected_version, rec.draft.version, draft_id)
            directory = DirectoryRepo(tx.session)
            users = (
                set((await directory.tree(actor.agency, [forward_to] if forward_to else [])).user_unit)
                if decision is ReviewDecision.FORWARD
                else None
            )
            with rules():
                step = rec.draft.review(actor, decision, comment, now, forward_to, forward_label, users)
            extra: dict[str, Any] = {}
            if rec.draft.state is DraftState.APPROVED:
                extra["signer"] = await self._signer(directory, actor, signer_competence)
                extra["sign_job_id"] = f"{draft_id}:personal:{rec.draft.version + 1}"
                extra["last_error"] = None
            await repo.save(rec, now, **extra)
            await repo.log(draft_id, str(decision), actor.person, actor.on_behalf_of, now, step=step.order, comment=comment)
            await self._after_review(tx, rec, actor, step, decision, comment, now)
        return rec

    async def _signer(self, directory: DirectoryRepo, actor: Actor, competence: str | None) -> dict[str, Any]:
        person = await directory.user(actor.user_id)
        roles = person.roles if person else actor.roles
        derived = next((COMPETENCE[r] for r in (Role.HEAD, Role.DEPUTY_HEAD, Role.UNIT_HEAD, Role.DEPUTY_UNIT_HEAD) if str(r) in roles), "")
        return {
            "id": actor.user_id,
            "name": person.full_name if person else "",
            "position": person.position if person else "",
            "competence": competence if competence is not None else derived,
            "acted_by": actor.person,
        }

    async def _after_review(self, tx: Tx, rec: DraftRecord, actor: Actor, step: Any, decision: ReviewDecision, comment: str, now: datetime) -> None:
        d = rec.draft
        agency = d.agency
        if d.state is DraftState.RETURNED:
            await tx.publish(
                envelope(
                    c.DRAFT_RETURNED.type,
                    c.DraftReturned(draft_id=d.id, agency_code=agency, returned_by=actor.user_id, step=step.order, comment=comment, returned_at=now),
                    agency,
                    actor,
                )
            )
            await self._notify(tx, rec, [d.creator_id], NotificationKind.DRAFT_RETURNED, "Dự thảo bị trả lại", "Draft returned", actor.person)
            return
        if d.state is DraftState.APPROVED:
            signer = rec.row["signer"]
            await tx.publish(
                envelope(
                    c.DRAFT_APPROVED.type,
                    c.DraftApproved(
                        **_facts(rec),
                        signer_id=signer["id"],
                        signer_name=signer["name"],
                        signer_position=signer["position"],
                        signer_competence=signer["competence"],
                        approved_at=now,
                    ),
                    agency,
                    actor,
                )
            )
            await self._request_signature(tx, rec, sg.SignatureKind.PERSONAL, actor.person)
            return
        nxt = d.current
        await tx.publish(
            envelope(
                c.DRAFT_REVIEWED.type,
                c.DraftReviewed(
                    draft_id=d.id, agency_code=agency, step=step.order, reviewer_id=actor.user_id, decision=decision,
                    comment=comment, next_reviewer_id=nxt.reviewer_id if nxt else None, reviewed_at=now,
                ),
                agency,
                actor,
            )
        )
        if nxt is not None:
            await self._notify(tx, rec, [nxt.reviewer_id], NotificationKind.REVIEW_REQUESTED, "Dự thảo chờ duyệt", "Draft waiting for your review", actor.person)

    # -- signatures and issue ---------------------------------------------------------------------

    async def _request_signature(self, tx: Tx, rec: DraftRecord, kind: sg.SignatureKind, requested_by: str) -> None:
        """Queue the sign job in the outbox: it leaves only if the transaction commits."""
        r = rec.row
        signer = r["signer"] or {}
        if kind is sg.SignatureKind.PERSONAL:
            source = rec.main_file
            assert source is not None
            file = sg.FileToSign(sha256=source["sha256"], name=source["name"], size=source["size"])
            job = sg.SignDocument(
                job_id=r["sign_job_id"],
                agency_code=r["agency_code"],
                kind=kind,
                file=file,
                signer=sg.SignerRef(user_id=signer["id"]),
                appearance=sg.Appearance(
                    position_title=" ".join(x for x in (signer.get("competence"), signer.get("position")) if x)[:200],
                    full_name=(signer.get("name") or "")[:50],
                    placement=sg.Placement(anchor_text=self.anchor_text),
                ),
                draft_id=r["id"],
                subject=r["subject"],
                requested_by=requested_by,
            )
        else:
            signed = r["signed_file"]
            job = sg.SignDocument(
                job_id=r["sign_job_id"],
                agency_code=r["agency_code"],
                kind=kind,
                file=sg.FileToSign(sha256=signed["sha256"], name=signed["name"], size=signed["size"]),
                appearance=sg.Appearance(agency_name=(await DraftRepo(tx.session).agency_name(r["agency_code"]))[:200]),
                draft_id=r["id"],
                subject=r["subject"],
                requested_by=requested_by,
            )
        await tx.publish(
            Envelope(type=sg.SIGN.type, source="routing", agency=r["agency_code"], actor=requested_by, correlation_id=r["id"], payload=job),
            subject=sg.SIGN.subject,
        )

    async def retry_signing(self, principal: Principal, draft_id: str, on_behalf_of: str | None = None) -> DraftRecord:
        """After signing.document.failed: ask again with a new job id (the signer or the văn thư)."""
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            actor = await self._actor(tx, principal, on_behalf_of)
            repo = DraftRepo(tx.session)
            rec = await repo.get(draft_id, actor.agency)
            d = rec.draft
            signer_id = (rec.row["signer"] or {}).get("id")
            if d.state not in (DraftState.APPROVED, DraftState.SIGNED) or rec.row["last_error"] is None:
                raise AppError(c.TRANSITION_NOT_ALLOWED, {"state": str(d.state)}, state=str(d.state))
            if actor.user_id != signer_id and str(Role.CLERK) not in actor.roles:
                raise AppError(c.NOT_YOURS, {"draft_id": draft_id})
            kind = sg.SignatureKind.PERSONAL if d.state is DraftState.APPROVED else sg.SignatureKind.SEAL
            await repo.save(rec, now, sign_job_id=f"{draft_id}:{kind}:{d.version + 1}", last_error=None)
            await repo.log(draft_id, "retry_signing", actor.person, actor.on_behalf_of, now)
            await self._request_signature(tx, rec, kind, actor.person)
        return rec

    async def on_signing_outcome(self, tx: Tx, raw: RawEnvelope) -> str | None:
        """signing.document.signed / failed for one of our jobs.

        Returns the id of a draft that is now sealed: the caller asks the registry to issue it
        once this transaction has committed (`issue_now`)."""
        if not await tx.claim(SIGNING_CONSUMER, raw.id):
            return None
        draft_id = raw.payload.get("draft_id")
        if not draft_id:
            return None  # someone else's signature (a copy, a registry document)
        repo = DraftRepo(tx.session)
        try:
            rec = await repo.get(draft_id)
        except AppError:
            log.warning("signing outcome for unknown draft %s", draft_id)
            return None
        now = self.ctx.clock.now()
        if raw.type == sg.DOCUMENT_FAILED.type:
            failed = sg.DocumentSigningFailed.model_validate(raw.payload)
            if failed.job_id != rec.row["sign_job_id"]:
                return None  # an older job's outcome
            await repo.save(rec, now, last_error={"code": failed.code, "message_vi": failed.message_vi, "message_en": failed.message_en})
            await tx.publish(
                envelope(
                    c.DRAFT_SIGNING_FAILED.type,
                    c.DraftSigningFailed(draft_id=draft_id, agency_code=failed.agency_code, code=failed.code, message=failed.message_en, failed_at=now),
                    failed.agency_code,
                    "system",
                    raw.correlation_id,
                )
            )
            signer = (rec.row["signer"] or {}).get("id")
            await self._notify(tx, rec, [u for u in (signer, rec.draft.creator_id) if u], NotificationKind.SIGNING_FAILED, f"Ký số không thành công ({failed.message_vi})", f"Signing failed ({failed.message_en})", "system")
            return None
        signed = sg.DocumentSigned.model_validate(raw.payload)
        if signed.job_id != rec.row["sign_job_id"]:
            return None
        file = {"sha256": signed.signed.sha256, "name": signed.signed.name, "size": signed.signed.size, "content_type": signed.signed.content_type}
        if signed.kind is sg.SignatureKind.PERSONAL and rec.draft.personal_signed():
            await repo.save(rec, now, signed_file=file, sign_job_id=f"{draft_id}:seal:{rec.draft.version + 1}", last_error=None)
            await repo.log(draft_id, "signed", "system", None, now, comment=signed.signer.common_name[:200])
            # At issue the văn thư's agency seal goes on the signed file (Decree 30 Art. 14, 32).
            await self._request_signature(tx, rec, sg.SignatureKind.SEAL, "system")
            return None
        if signed.kind is sg.SignatureKind.SEAL and rec.draft.sealed():
            await repo.save(rec, now, signed_file=file, last_error=None)
            await repo.log(draft_id, "sealed", "system", None, now)
            signer = rec.row["signer"]
            # Both signatures are on: this is the document to issue. The registry issues it from
            # this event or from the RPC that follows the commit, whichever comes first (by draft id).
            await tx.publish(
                envelope(
                    c.DRAFT_SIGNED.type,
                    c.DraftSigned(
                        **_facts(rec),
                        signer_id=signer["id"],
                        signer_name=signer["name"],
                        signer_position=signer["position"],
                        signer_competence=signer["competence"],
                        approved_at=now,
                        signed_file=FileRef(sha256=file["sha256"], name=file["name"], size=file["size"], role="signed"),
                        signed_at=signed.signed_at,
                        sealed=True,
                        response_for=await HandlingRepo(tx.session).external_document_ids(rec.row["reply_to"]),
                        reviewer_ids=_reviewer_ids(rec.draft),
                    ),
                    rec.draft.agency,
                    "system",
                    raw.correlation_id,
                )
            )
        return draft_id if rec.draft.state is DraftState.SEALED else None

    async def issue_now(self, draft_id: str) -> None:
        """Ask the registry for the number and symbol of a sealed draft, right away.

        The fast path: if the registry cannot answer now, its own consumer of
        `routing.draft.signed` issues the draft and `registry.document.issued` closes it here."""
        if self.issuer is None:
            return
        async with self.ctx.uow.read() as session:
            rec = await DraftRepo(session).get(draft_id)
            if rec.draft.state is not DraftState.SEALED:
                return
            request = await self._issue_request(session, rec)
        try:
            reply = await self.issuer.issue(request)
        except IssuingUnavailable as exc:
            log.warning("issue_document for draft %s not answered (%s); the registry's event path will issue it", draft_id, exc)
            return
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            rec = await DraftRepo(tx.session).get(draft_id)
            if rec.draft.state is not DraftState.SEALED:
                return  # issued meanwhile through the event path
            if not reply.ok:
                error = reply.error.model_dump() if reply.error else {"code": "registry.issue_failed"}
                await DraftRepo(tx.session).save(rec, now, last_error=error)
                await self._notify(tx, rec, [rec.draft.creator_id], NotificationKind.SIGNING_FAILED, "Không cấp được số văn bản", "The registry could not issue the document", "system")
                return
            await self._mark_issued(tx, rec, reply.document_id or "", reply.symbol or "", now)

    async def _issue_request(self, session: Any, rec: DraftRecord) -> Any:
        r = rec.row
        signer = r["signer"] or {}
        request = reg.IssueDocumentRequest(
            agency_code=r["agency_code"],
            draft_id=r["id"],
            actor=signer.get("acted_by") or signer.get("id") or "system",
            on_behalf_of=signer.get("id") if signer.get("acted_by") not in (None, signer.get("id")) else None,
            type=r["type_abbreviation"] or r["type_name"],
            subject=r["subject"],
            unit_abbreviation=await DirectoryRepo(session).unit_abbreviation(r["unit_id"]),
            signer_position=(signer.get("position") or "")[:100],
            signer_name=(signer.get("name") or "")[:50],
            signer_competence=(signer.get("competence") or "")[:10],
            urgency=Urgency(r["urgency"]),
            secrecy=Secrecy(r["secrecy"]),
            recipients=[OrganRef.model_validate(x) for x in r["internal_recipients"] + r["external_recipients"]],
            files=[FileRef(sha256=r["signed_file"]["sha256"], name=r["signed_file"]["name"], size=r["signed_file"]["size"], role="signed")],
            digitally_signed=True,
            sealed=True,
            # The incoming documents it answers, so the packet's ResponseFor names them.
            response_for=await HandlingRepo(session).external_document_ids(r["reply_to"]),
            # Who handled it: of a secret document they hold the issued copy, with the văn thư.
            drafter_id=rec.draft.creator_id or None,
            signer_id=signer.get("id"),
            reviewer_ids=_reviewer_ids(rec.draft)[:50],
        )
        return request

    async def _mark_issued(self, tx: Tx, rec: DraftRecord, document_id: str, symbol: str, now: datetime) -> None:
        with rules():
            changed = rec.draft.issued()
        if not changed:
            return
        await DraftRepo(tx.session).save(rec, now, document_id=document_id, symbol=symbol, issued_at=now)
        await DraftRepo(tx.session).log(rec.draft.id, "issued", "system", None, now, comment=symbol)
        await tx.publish(
            envelope(
                c.DRAFT_ISSUED.type,
                c.DraftIssued(draft_id=rec.draft.id, agency_code=rec.draft.agency, document_id=document_id, symbol=symbol, issued_at=now),
                rec.draft.agency,
                "system",
                rec.draft.id,
            )
        )
        signer = (rec.row["signer"] or {}).get("id")
        await self._notify(tx, rec, [u for u in (rec.draft.creator_id, signer) if u], NotificationKind.DRAFT_ISSUED, f"Đã phát hành văn bản số {symbol}", f"Issued as {symbol}", "system")

    async def on_issued(self, tx: Tx, raw: RawEnvelope) -> None:
        """registry.document.issued for one of our drafts (the RPC reply may have been lost)."""
        if not await tx.claim(DOCUMENTS_CONSUMER, raw.id):
            return
        draft_id = raw.payload.get("draft_id")
        if not draft_id:
            return
        issued = reg.OutgoingIssued.model_validate(raw.payload)
        try:
            rec = await DraftRepo(tx.session).get(draft_id)
        except AppError:
            return
        if rec.draft.state is DraftState.SEALED:
            await self._mark_issued(tx, rec, issued.document_id, issued.symbol, self.ctx.clock.now())

    # -- opinions --------------------------------------------------------------------------------

    async def ask_opinions(
        self, principal: Principal, draft_id: str, participants: list[tuple[AssigneeKind, str]], question: str, due_date: date, on_behalf_of: str | None = None
    ) -> dict[str, Any]:
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            actor = await self._actor(tx, principal, on_behalf_of)
            repo = DraftRepo(tx.session)
            rec = await repo.get(draft_id, actor.agency)
            current = rec.draft.current
            if actor.user_id != rec.draft.creator_id and (current is None or current.reviewer_id != actor.user_id):
                raise AppError(c.NOT_YOURS, {"draft_id": draft_id})
            if rec.draft.state is DraftState.ISSUED:
                raise AppError(c.DRAFT_NOT_EDITABLE, {"state": str(rec.draft.state)})
            if due_date < self.ctx.clock.today():
                raise AppError(c.DEADLINE_IN_PAST, {"field": "due_date"})
            tree = await DirectoryRepo(tx.session).tree(
                actor.agency, [pid for kind, pid in participants if kind is AssigneeKind.USER]
            )
            keys = [assignee_key(k, i) for k, i in participants]
            if not participants or len(set(keys)) != len(keys):
                raise AppError(c.DUPLICATE_ASSIGNEE)
            for kind, pid in participants:
                known = tree.user_exists(pid) if kind is AssigneeKind.USER else tree.unit_exists(pid)
                if not known:
                    raise AppError(c.OUTSIDE_AGENCY, {"participant_id": pid})
            round_id = new_id()
            requests = [
                {"id": new_id(), "round_id": round_id, "participant_kind": str(k), "participant_id": pid,
                 "participant_key": assignee_key(k, pid), "due_date": due_date}
                for k, pid in participants
            ]
            await repo.add_round(
                {"id": round_id, "draft_id": draft_id, "agency_code": actor.agency, "requested_by": actor.user_id,
                 "question": question, "due_date": due_date, "state": "open", "created_at": now},
                requests,
            )
            await repo.log(draft_id, "opinions_requested", actor.person, actor.on_behalf_of, now, comment=question)
            await tx.publish(
                envelope(
                    c.OPINION_REQUESTED.type,
                    c.OpinionRequested(
                        round_id=round_id, draft_id=draft_id, agency_code=actor.agency, requested_by=actor.user_id,
                        question=question, due_date=due_date,
                        participants=[c.AssigneeOut(assignment_id=q["id"], kind=k, assignee_id=pid, role=HandlingRole.INFO, deadline=due_date)
                                      for q, (k, pid) in zip(requests, participants, strict=True)],
                        requested_at=now,
                    ),
                    actor.agency,
                    actor,
                )
            )
            for kind, pid in participants:
                users = await self.ctx.notifier.recipients(tx, actor.agency, kind, pid)
                await self._notify(tx, rec, users, NotificationKind.OPINION_REQUESTED, f"Xin ý kiến trước {due_date:%d/%m/%Y}", f"Opinion requested by {due_date.isoformat()}", actor.person)
            return await repo.round(round_id)

    async def answer_opinion(self, principal: Principal, round_id: str, opinion: str, on_behalf_of: str | None = None) -> dict[str, Any]:
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            actor = await self._actor(tx, principal, on_behalf_of)
            repo = DraftRepo(tx.session)
            rnd = await repo.round(round_id)
            if rnd["agency_code"] != actor.agency:
                raise AppError(c.UNKNOWN_ROUND, {"round_id": round_id})
            if rnd["state"] != "open":
                raise AppError(c.ROUND_CLOSED)
            mine = [q for q in rnd["requests"] if q["participant_key"] == f"u:{actor.user_id}"
                    or (q["participant_kind"] == "unit" and actor.heads_unit(q["participant_id"]))]
            if not mine:
                raise AppError(c.NOT_A_PARTICIPANT)
            open_ = [q for q in mine if q["answered_at"] is None]
            if not open_ or not await repo.answer(open_[0]["id"], actor.person, actor.on_behalf_of, opinion, now):
                raise AppError(c.ALREADY_ANSWERED)
            q = open_[0]
            rnd = await repo.round(round_id)
            if all(x["answered_at"] is not None for x in rnd["requests"]):
                await repo.close_round(round_id)
            rec = await repo.get(rnd["draft_id"])
            await repo.log(rnd["draft_id"], "opinion", actor.person, actor.on_behalf_of, now, comment=opinion[:2000])
            await tx.publish(
                envelope(
                    c.OPINION_ANSWERED.type,
                    c.OpinionAnswered(
                        round_id=round_id, draft_id=rnd["draft_id"], agency_code=actor.agency,
                        participant_kind=AssigneeKind(q["participant_kind"]), participant_id=q["participant_id"],
                        answered_by=actor.user_id, opinion=opinion, answered_at=now,
                    ),
                    actor.agency,
                    actor,
                )
            )
            await self._notify(tx, rec, [rnd["requested_by"]], NotificationKind.OPINION_ANSWERED, "Đã có ý kiến góp ý", "An opinion was given", actor.person)
            return await repo.round(round_id)

    # -- reads and templates ----------------------------------------------------------------------

    async def get(
        self, principal: Principal, draft_id: str, on_behalf_of: str | None = None
    ) -> tuple[DraftRecord, list[dict[str, Any]], list[dict[str, Any]]]:
        async with self.ctx.uow.read() as session:
            actor = await resolve_actor(session, principal, on_behalf_of, None, self.ctx.clock.now())
            repo = DraftRepo(session)
            rec = await repo.get(draft_id, actor.agency)
            rounds = await repo.rounds(draft_id)
            if not _may_read(actor, rec, rounds):
                raise AppError(c.NOT_YOURS, {"draft_id": draft_id})
            return rec, await repo.history(draft_id), rounds

    async def add_template(self, principal: Principal, name: str, steps: list[dict[str, str]]) -> dict[str, Any]:
        if not (principal.has_role(Role.HEAD, Role.DEPUTY_HEAD, Role.UNIT_HEAD, Role.ADMIN)):
            raise AppError(c.NOT_A_LEADER)
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            tree = await DirectoryRepo(tx.session).tree(principal.agency, [s["reviewer_id"] for s in steps])
            with rules():
                build_chain([(s["reviewer_id"], s.get("label", "")) for s in steps], "", set(tree.user_unit))
            values = {"id": new_id(), "agency_code": principal.agency, "name": name, "steps": steps, "created_by": principal.user_id, "created_at": now}
            await DraftRepo(tx.session).add_template(values)
        return values

    async def templates(self, principal: Principal) -> list[dict[str, Any]]:
        async with self.ctx.uow.read() as session:
            return await DraftRepo(session).templates(principal.agency)


def _may_read(actor: Actor, rec: DraftRecord, rounds: list[dict[str, Any]]) -> bool:
    """The drafter, the reviewers, those asked for an opinion; leaders, văn thư, administrators."""
    if actor.is_leader or actor.roles & {str(Role.CLERK), str(Role.ADMIN)}:
        return True
    if actor.user_id == rec.draft.creator_id or any(s.reviewer_id == actor.user_id for s in rec.draft.chain):
        return True
    return any(
        q["participant_key"] == f"u:{actor.user_id}"
        or (q["participant_kind"] == "unit" and actor.heads_unit(q["participant_id"]))
        for r in rounds
        for q in r["requests"]
    )


def _editable(data: dict[str, Any]) -> dict[str, Any]:
    keys = ("type_name", "type_abbreviation", "subject", "urgency", "secrecy")
    out = {k: str(data[k]) if k in ("urgency", "secrecy") else data[k] for k in keys if k in data}
    for k in ("internal_recipients", "external_recipients"):
        if k in data:
            out[k] = [OrganRef.model_validate(x).model_dump() for x in data[k]]
    if "reply_to_handling_ids" in data:
        out["reply_to"] = list(data["reply_to_handling_ids"])
    return out
