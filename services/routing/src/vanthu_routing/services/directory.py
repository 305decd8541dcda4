"""The directory projection, fed by registry.{agency,unit,user}.upserted."""

from __future__ import annotations

from vanthu_contracts.envelope import RawEnvelope
from vanthu_contracts.events import registry as reg
from vanthu_contracts.events import routing as c
from vanthu_routing.repos.directory import DirectoryRepo
from vanthu_runtime.uow import Tx

CONSUMER = c.DIRECTORY_CONSUMER.durable


async def apply_directory_event(tx: Tx, raw: RawEnvelope) -> bool:
    """Upsert the agency, unit or user; the latest event wins (the registry sends full rows)."""
    if not await tx.claim(CONSUMER, raw.id):
        return False
    repo = DirectoryRepo(tx.session)
    if raw.type == reg.AGENCY_UPSERTED.type:
        a = reg.AgencyUpserted.model_validate(raw.payload)
        await repo.save_agency(
            {
                "code": a.code,
                "name": a.name,
                "abbreviation": a.abbreviation,
                "parent_code": a.parent_code,
                "hosted": a.hosted,
                "active": a.active,
            }
        )
    elif raw.type == reg.UNIT_UPSERTED.type:
        u = reg.UnitUpserted.model_validate(raw.payload)
        await repo.save_unit(
            {
                "id": u.id,
                "agency_code": u.agency_code,
                "name": u.name,
                "abbreviation": u.abbreviation,
                "parent_unit_id": u.parent_unit_id,
                "active": u.active,
            }
        )
    elif raw.type == reg.USER_UPSERTED.type:
        user = reg.UserUpserted.model_validate(raw.payload)
        await repo.save_user(
            {
                "id": user.id,
                "agency_code": user.agency_code,
                "unit_id": user.unit_id,
                "full_name": user.full_name,
                "position": user.position,
                "roles": [str(r) for r in user.roles],
                # The contract may carry an e-mail address; routing's own preference wins.
                "email": str(raw.payload.get("email") or "")[:100],
                "active": user.active,
            }
        )
    else:
        return False
    return True
