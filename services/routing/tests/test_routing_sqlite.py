"""The embedded default: the same handling flow on SQLite (migrations, queries, versioning)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from routing_support import registered, seed_agency, unit_id

from vanthu_contracts.events import registry as reg


async def test_handling_on_sqlite(routing_factory, tmp_path: Path) -> None:
    async with routing_factory(database_url=f"sqlite+aiosqlite:///{tmp_path / 'routing.db'}") as h:
        await seed_agency(h)
        document_id = str(uuid.uuid4())
        await h.publish(reg.DOCUMENT_REGISTERED.type, registered(h.agency, document_id))
        await h.wait_event("routing.handling.accepted", document_id=document_id)
        handling = await h.call("GET", f"/api/v1/documents/{document_id}/handling", "leader")
        assigned = await h.call(
            "POST",
            f"/api/v1/handlings/{handling['id']}/assignments",
            "leader",
            json={
                "assignees": [
                    {"kind": "unit", "assignee_id": unit_id(h, "pa"), "role": "main"},
                    {"kind": "user", "assignee_id": h.people["spec_b"].id, "role": "info"},
                ]
            },
        )
        main = next(a for a in assigned["assignments"] if a["role"] == "main")
        inbox = await h.call("GET", "/api/v1/inbox/main?due_soon=false&urgency=thuong", "head_a")
        assert [i["assignment_id"] for i in inbox["items"]] == [main["id"]]
        # Two writers at once: SQLite serialises them, the version check refuses the second.
        results = await asyncio.gather(
            *(
                h.client.post(
                    f"/api/v1/assignments/{main['id']}/progress",
                    headers=h.token("head_a"),
                    json={"percent": p, "version": main["version"]},
                )
                for p in (20, 40)
            )
        )
        assert sorted(r.status_code for r in results) == [200, 409]
        await h.call("POST", f"/api/v1/assignments/{main['id']}/complete", "head_a", json={"result": "Xong"})
        done = await h.wait_event("routing.handling.completed", document_completed=True)
        assert done["payload"]["status_code"] == "06"
        counts = await h.call("GET", "/api/v1/inbox", "spec_b")
        assert counts["info"]["total"] == 0  # closed with the document


async def test_a_versioned_update_refuses_a_key_that_is_no_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The cached UPDATE takes its SET clause from the parameters: a misspelt key must raise,
    not be dropped with the rest of the row updated."""
    import pytest

    from vanthu_routing.repos.sql import update_versioned
    from vanthu_routing.repository import metadata, tasks
    from vanthu_runtime.db import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'typo.db'}")
    await db.create_all(metadata)
    try:
        async with db.transaction() as session:
            with pytest.raises(ValueError, match="no column titel"):
                await update_versioned(session, tasks, "t1", 1, {"titel": "Báo cáo"})
    finally:
        await db.dispose()
