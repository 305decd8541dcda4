"""Drafts, their file versions, their log, chain templates and opinion rounds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.events import routing as c
from vanthu_routing.domain.drafts import Draft, DraftState, ReviewStep
from vanthu_routing.ids import new_id
from vanthu_routing.repos.sql import update_versioned
from vanthu_routing.repository import (
    chain_templates,
    dir_agencies,
    draft_files,
    draft_log,
    drafts,
    opinion_requests,
    opinion_rounds,
)
from vanthu_runtime.errors import AppError


@dataclass
class DraftRecord:
    draft: Draft
    row: dict[str, Any]  # every column, for views and events
    files: list[dict[str, Any]] = field(default_factory=list)  # every version

    @property
    def current_files(self) -> list[dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for f in self.files:
            if f["name"] not in latest or f["file_version"] > latest[f["name"]]["file_version"]:
                latest[f["name"]] = f
        return sorted(latest.values(), key=lambda f: (f["role"] != "main", f["name"]))

    @property
    def main_file(self) -> dict[str, Any] | None:
        return next((f for f in self.current_files if f["role"] == "main"), None)


class DraftRepo:
    def __init__(self, session: AsyncConnection) -> None:
        self.session = session

    async def add(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(drafts).values(**values))

    async def get(self, draft_id: str, agency: str | None = None) -> DraftRecord:
        row = (await self.session.execute(select(drafts).where(drafts.c.id == draft_id))).mappings().first()
        if row is None or (agency is not None and row["agency_code"] != agency):
            raise AppError(c.UNKNOWN_DRAFT, {"draft_id": draft_id})
        files = (
            await self.session.execute(
                select(draft_files).where(draft_files.c.draft_id == draft_id).order_by(draft_files.c.uploaded_at)
            )
        ).mappings().all()
        data = dict(row)
        draft = Draft(
            id=data["id"],
            agency=data["agency_code"],
            creator_id=data["creator_id"],
            state=DraftState(data["state"]),
            chain=[ReviewStep.from_dict(s) for s in data["chain"] or []],
            current_step=data["current_step"],
            has_main_file=any(f["role"] == "main" for f in files),
            version=data["version"],
        )
        return DraftRecord(draft=draft, row=data, files=[dict(f) for f in files])

    async def save(self, rec: DraftRecord, now: datetime, **values: Any) -> None:
        d = rec.draft
        current = d.current
        changes = {
            "state": str(d.state),
            "chain": [s.to_dict() for s in d.chain],
            "current_step": d.current_step,
            "current_reviewer_id": current.reviewer_id if current else None,
            "updated_at": now,
            **values,
        }
        d.version = await update_versioned(self.session, drafts, d.id, d.version, changes)
        rec.row.update(changes, version=d.version)

    async def add_file(self, values: dict[str, Any]) -> dict[str, Any]:
        latest = (
            await self.session.execute(
                select(func.max(draft_files.c.file_version)).where(
                    draft_files.c.draft_id == values["draft_id"], draft_files.c.name == values["name"]
                )
            )
        ).scalar_one()
        row = {"id": new_id(), "file_version": (latest or 0) + 1, **values}
        await self.session.execute(insert(draft_files).values(**row))
        return row

    async def log(
        self, draft_id: str, action: str, actor: str, on_behalf_of: str | None, at: datetime, *, step: int | None = None, comment: str = ""
    ) -> None:
        await self.session.execute(
            insert(draft_log).values(
                id=new_id(),
                draft_id=draft_id,
                step=step,
                action=action,
                actor=actor,
                on_behalf_of=on_behalf_of,
                comment=comment,
                at=at,
            )
        )

    async def history(self, draft_id: str) -> list[dict[str, Any]]:
        rows = (
            await self.session.execute(
                select(draft_log).where(draft_log.c.draft_id == draft_id).order_by(draft_log.c.at, draft_log.c.id)
            )
        ).mappings().all()
        return [dict(r) for r in rows]

    async def agency_name(self, agency: str) -> str:
        return (
            await self.session.execute(select(dir_agencies.c.name).where(dir_agencies.c.code == agency))
        ).scalar_one_or_none() or ""

    # -- chain templates -----------------------------------------------------------------

    async def add_template(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(chain_templates).values(**values))

    async def template(self, template_id: str, agency: str) -> dict[str, Any]:
        row = (
            await self.session.execute(
                select(chain_templates).where(chain_templates.c.id == template_id, chain_templates.c.agency_code == agency)
            )
        ).mappings().first()
        if row is None:
            raise AppError(c.UNKNOWN_TEMPLATE, {"template_id": template_id})
        return dict(row)

    async def templates(self, agency: str) -> list[dict[str, Any]]:
        rows = (
            await self.session.execute(
                select(chain_templates).where(chain_templates.c.agency_code == agency).order_by(chain_templates.c.name)
            )
        ).mappings().all()
        return [dict(r) for r in rows]

    # -- opinion rounds ----------------------------------------------------------------------

    async def add_round(self, values: dict[str, Any], participants: list[dict[str, Any]]) -> None:
        await self.session.execute(insert(opinion_rounds).values(**values))
        await self.session.execute(insert(opinion_requests), participants)

    async def rounds(self, draft_id: str) -> list[dict[str, Any]]:
        rounds = (
            await self.session.execute(
                select(opinion_rounds).where(opinion_rounds.c.draft_id == draft_id).order_by(opinion_rounds.c.created_at)
            )
        ).mappings().all()
        out = []
        for r in rounds:
            requests = (
                await self.session.execute(select(opinion_requests).where(opinion_requests.c.round_id == r["id"]))
            ).mappings().all()
            out.append({**dict(r), "requests": [dict(x) for x in requests]})
        return out

    async def round(self, round_id: str) -> dict[str, Any]:
        row = (await self.session.execute(select(opinion_rounds).where(opinion_rounds.c.id == round_id))).mappings().first()
        if row is None:
            raise AppError(c.UNKNOWN_ROUND, {"round_id": round_id})
        requests = (
            await self.session.execute(select(opinion_requests).where(opinion_requests.c.round_id == round_id))
        ).mappings().all()
        return {**dict(row), "requests": [dict(x) for x in requests]}

    async def answer(self, request_id: str, answered_by: str, on_behalf_of: str | None, opinion: str, at: datetime) -> bool:
        result = await self.session.execute(
            update(opinion_requests)
            .where(opinion_requests.c.id == request_id, opinion_requests.c.answered_at.is_(None))
            .values(answered_by=answered_by, on_behalf_of=on_behalf_of, opinion=opinion, answered_at=at)
        )
        return result.rowcount == 1

    async def close_round(self, round_id: str) -> None:
        await self.session.execute(update(opinion_rounds).where(opinion_rounds.c.id == round_id).values(state="closed"))

