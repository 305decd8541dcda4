"""Who is who: our hosted agencies (from settings and registry events) and the axis partner list."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from vanthu_contracts.events import interop as contract
from vanthu_contracts.events.registry import AgencyUpserted
from vanthu_interop.axis.client import AxisClient, AxisRefused
from vanthu_interop.repository import Repository, partners
from vanthu_interop.settings import OwnAgency
from vanthu_interop.usecases.context import Context, publish
from vanthu_runtime.db import dialect_insert
from vanthu_runtime.uow import Tx

log = logging.getLogger("vanthu.interop.directory")
_BATCH = 1000


class Directory:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def seed(self, agencies: list[OwnAgency]) -> None:
        if not agencies:
            return
        async with self.ctx.uow.begin() as tx:
            repo = Repository(tx.session)
            for agency in agencies:
                await repo.upsert_hosted(agency.model_dump() | {"active": True})
        self.ctx.forget_hosted()

    async def on_agency(self, tx: Tx, agency: AgencyUpserted) -> None:
        repo = Repository(tx.session)
        known = await repo.hosted(agency.code)
        if not agency.hosted and known is None:
            return  # an outside agency registry keeps for addressing; the partner list covers it
        values: dict[str, Any] = {
            "code": agency.code,
            "name": agency.name,
            "active": agency.hosted and agency.active,
        }
        if known is None:
            values["organization_in_charge"] = agency.name
        await repo.upsert_hosted(values)
        self.ctx.forget_hosted()

    async def sync_partners(self, axis: AxisClient) -> contract.PartnersSynced:
        """Refresh the partner directory from getAgenciesListQD20 (or getAgenciesList on older axes)."""
        try:
            entries = await axis.get_agencies_list_qd20()
        except AxisRefused:
            entries = await axis.get_agencies_list()
        now = self.ctx.utcnow()
        rows = []
        for item in entries:
            code = str(item.get("code") or "").strip()
            if not code:
                continue
            rows.append(
                {
                    "code": code[:40],
                    "code102": (str(item.get("code102") or "").strip() or None),
                    "old_code": (str(item.get("oldCode") or "").strip() or None),
                    "name": str(item.get("name") or "")[:500],
                    "parent": (str(item.get("pid") or "").strip()[:40] or None),
                    "mail": str(item.get("mail") or "")[:200],
                    "synced_at": now,
                }
            )
        async with self.ctx.uow.begin() as tx:
            existing = {
                r.code: (r.code102, r.old_code, r.name)
                for r in await tx.session.execute(
                    select(partners.c.code, partners.c.code102, partners.c.old_code, partners.c.name)
                )
            }
            added = sum(1 for r in rows if r["code"] not in existing)
            changed = sum(
                1
                for r in rows
                if r["code"] in existing and existing[r["code"]] != (r["code102"], r["old_code"], r["name"])
            )
            insert = dialect_insert(tx.session)
            for start in range(0, len(rows), _BATCH):
                statement = insert(partners).values(rows[start : start + _BATCH])
                statement = statement.on_conflict_do_update(
                    index_elements=["code"],
                    set_={
                        c: statement.excluded[c]
                        for c in ("code102", "old_code", "name", "parent", "mail", "synced_at")
                    },
                )
                await tx.session.execute(statement)
            summary = contract.PartnersSynced(total=len(rows), added=added, changed=changed, synced_at=now)
            await publish(tx, contract.PARTNERS_SYNCED, summary, agency=None)
        self.ctx.forget_partners()
        log.info("partner directory synced: %d entries, %d new, %d changed", len(rows), added, changed)
        return summary

    async def search_partners(self, text: str, limit: int = 50) -> list[dict[str, Any]]:
        pattern = f"%{text}%"
        async with self.ctx.uow.read() as session:
            rows = await session.execute(
                select(partners)
                .where(
                    partners.c.code.like(pattern)
                    | partners.c.name.like(pattern)
                    | partners.c.old_code.like(pattern)
                )
                .order_by(partners.c.code)
                .limit(limit)
            )
            return [dict(r) for r in rows.mappings()]
