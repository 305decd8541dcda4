"""Tables of the interop service and the queries over them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_runtime.db import dialect_insert, new_metadata
from vanthu_runtime.messaging.tables import messaging_tables

metadata = new_metadata()
outbox, inbox = messaging_tables(metadata)

hosted_agencies = Table(
    "hosted_agencies",
    metadata,
    Column("code", String(13), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("organization_in_charge", String(500), nullable=False, default=""),
    Column("address", String(500), nullable=False, default=""),
    Column("email", String(100), nullable=False, default=""),
    Column("telephone", String(20), nullable=False, default=""),
    Column("fax", String(20), nullable=False, default=""),
    Column("website", String(200), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

partners = Table(
    "partners",
    metadata,
    Column("code", String(40), primary_key=True, comment="QĐ 20/2020 code (the axis `code`)"),
    Column("code102", String(40), nullable=True, index=True, comment="QCVN 102 code"),
    Column("old_code", String(40), nullable=True, index=True),
    Column("name", String(500), nullable=False, default=""),
    Column("parent", String(40), nullable=True),
    Column("mail", String(200), nullable=False, default=""),
    Column("synced_at", DateTime(timezone=True), nullable=False),
)

receipts = Table(
    "receipts",
    metadata,
    Column("id", String(36), primary_key=True, comment="DocumentReceived.document_id"),
    Column("agency_code", String(13), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("dedupe_key", String(64), nullable=False, unique=True, comment="sha256 of the de-duplication key"),
    Column("external_document_id", String(300), nullable=False),
    Column("business_doc_type", Integer, nullable=False, default=0),
    Column("sender", JSON, nullable=False, comment="edXML From as OrganInfo"),
    Column("symbol", String(60), nullable=False, default=""),
    Column("promulgation_date", String(10), nullable=True),
    Column("subject", Text, nullable=False, default=""),
    Column("axis_doc_id", String(100), nullable=True),
    Column("registry_document_id", String(64), nullable=True, index=True),
    Column(
        "source_document_id",
        String(64),
        nullable=True,
        index=True,
        comment="Internal deliveries: the sender's registry id (the DocumentId may repeat, see docs/interop.md)",
    ),
    Column("state", String(20), nullable=False, default="received", comment="received | recalled"),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("recalled_at", DateTime(timezone=True), nullable=True),
    Column("recall_reason", Text, nullable=True),
    Index("ix_receipts_lookup", "agency_code", "external_document_id"),
)

axis_packets = Table(
    "axis_packets",
    metadata,
    Column("axis_doc_id", String(100), primary_key=True),
    Column("message_type", String(10), nullable=False),
    Column("outcome", String(20), nullable=False, comment="imported | duplicate | ignored | rejected"),
    Column("detail", Text, nullable=False, default=""),
    Column("event_ids", JSON, nullable=False, comment="Events the import published; acked once they left"),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("acked_at", DateTime(timezone=True), nullable=True),
)

outgoing = Table(
    "outgoing",
    metadata,
    Column("document_id", String(64), primary_key=True, comment="Registry id: the identity of what we send"),
    Column("agency_code", String(13), nullable=False),
    # Not unique: a secret document, numbered in its own series, may repeat an ordinary one's
    # number and symbol and so its edXML DocumentId (docs/interop.md, "Which id is the document").
    Column("external_document_id", String(300), nullable=False, index=True),
    Column("facts", JSON, nullable=False, comment="The OutgoingIssued payload"),
    Column("version", Integer, nullable=False, default=0),
    Column("state", String(20), nullable=False, default="sent", comment="sent | recalled"),
    Column("recall_reason", Text, nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("recalled_at", DateTime(timezone=True), nullable=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("kind", String(10), nullable=False, comment="edoc | status"),
    Column("agency_code", String(13), nullable=False, comment="Our agency sending it"),
    Column("recipient_code", String(40), nullable=False),
    Column("recipient_name", String(500), nullable=False, default=""),
    Column("channel", String(10), nullable=False),
    Column("document_id", String(64), nullable=True, comment="Outgoing registry id or receipt id"),
    Column("external_document_id", String(300), nullable=False),
    Column("business_doc_type", Integer, nullable=False, default=0),
    Column("status_code", String(2), nullable=True),
    Column("version", Integer, nullable=False, default=0),
    Column("payload", JSON, nullable=False, comment="What the packet needs beyond the columns"),
    Column("state", String(10), nullable=False, comment="pending | sending | sent | failed"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error_code", String(100), nullable=True),
    Column("error", Text, nullable=True),
    Column("axis_doc_id", String(100), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("failed_at", DateTime(timezone=True), nullable=True),
    Index("ix_deliveries_state", "state"),
    Index("ix_deliveries_document", "document_id"),
)

recipient_status = Table(
    "recipient_status",
    metadata,
    Column("document_id", String(64), primary_key=True, comment="Registry id of our outgoing document"),
    Column("recipient_code", String(40), primary_key=True),
    Column("recipient_name", String(500), nullable=False, default=""),
    Column("channel", String(10), nullable=False),
    Column("code", String(2), nullable=True, comment="Latest status code; None: sent, nothing back yet"),
    Column("description", Text, nullable=False, default=""),
    Column("history", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

status_log = Table(
    "status_log",
    metadata,
    Column(
        "dedupe_key", String(64), primary_key=True, comment="sha256 of document, reporter, code, timestamp"
    ),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


def now() -> datetime:
    return datetime.now(UTC)


async def insert_once(session: AsyncConnection, table: Table, values: dict[str, Any]) -> bool:
    """Insert unless a unique key already holds the row; True when inserted.

    One `INSERT … ON CONFLICT DO NOTHING` (SQLite and PostgreSQL): a conflict neither raises
    nor spoils the surrounding transaction, and costs no savepoint round trips.
    """
    result = await session.execute(_insert_once(session, table), values)
    return result.rowcount == 1


async def insert_many_once(session: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """`insert_once` for several rows in one statement; rows whose key is taken are skipped."""
    if rows:
        await session.execute(_insert_once(session, table), rows)


_INSERTS_ONCE: dict[tuple[str, Table], Any] = {}


def _insert_once(session: AsyncConnection, table: Table) -> Any:
    # Built once per table, the values passed as parameters: a statement built with .values() on
    # every call costs SQLAlchemy a new cache key each time, a fifth of a short insert's CPU.
    dialect = session.dialect.name
    key = (dialect, table)
    statement = _INSERTS_ONCE.get(key)
    if statement is None:
        statement = _INSERTS_ONCE[key] = dialect_insert(dialect)(table).on_conflict_do_nothing()
    return statement


# The hot path's statements (several per document sent or received), built once and bound per
# call: building one anew costs SQLAlchemy its construction and a fresh cache key, about as
# much CPU as running it on SQLite.
_OUTGOING_BY_ID = select(outgoing).where(outgoing.c.document_id == bindparam("document_id"))
_OUTGOING_BY_EXTERNAL = (
    select(outgoing)
    .where(outgoing.c.external_document_id == bindparam("external_document_id"))
    .order_by(outgoing.c.issued_at)
)
_DELIVERY_BY_ID = select(deliveries).where(deliveries.c.id == bindparam("delivery_id"))
# No .values(): the SET clause is the columns named in the parameters (a compiled form per set).
_UPDATE_DELIVERY = update(deliveries).where(deliveries.c.id == bindparam("_delivery_id"))


class Repository:
    """Queries used by more than one use case; the simple ones stay next to their use case."""

    def __init__(self, session: AsyncConnection) -> None:
        self.session = session

    async def hosted(self, code: str) -> dict[str, Any] | None:
        row = (
            (await self.session.execute(select(hosted_agencies).where(hosted_agencies.c.code == code)))
            .mappings()
            .first()
        )
        return dict(row) if row is not None and row["active"] else None

    async def hosted_rows(self) -> list[dict[str, Any]]:
        rows = await self.session.execute(select(hosted_agencies).where(hosted_agencies.c.active.is_(True)))
        return [dict(r) for r in rows.mappings()]

    async def hosted_codes(self) -> set[str]:
        rows = await self.session.execute(
            select(hosted_agencies.c.code).where(hosted_agencies.c.active.is_(True))
        )
        return {r[0] for r in rows}

    async def upsert_hosted(self, values: dict[str, Any]) -> None:
        values = {**values, "updated_at": now()}
        updated = await self.session.execute(
            update(hosted_agencies).where(hosted_agencies.c.code == values["code"]).values(**values)
        )
        if updated.rowcount == 0:
            await self.session.execute(insert(hosted_agencies).values(**values))

    async def partner(self, code: str) -> dict[str, Any] | None:
        """The directory entry a code names: the current code, its QCVN 102 code or an old one."""
        row = (
            (
                await self.session.execute(
                    select(partners)
                    .where(
                        or_(partners.c.code == code, partners.c.code102 == code, partners.c.old_code == code)
                    )
                    .order_by((partners.c.code == code).desc())
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row is not None else None

    async def receipt_by_id(self, receipt_id: str) -> dict[str, Any] | None:
        row = (
            (await self.session.execute(select(receipts).where(receipts.c.id == receipt_id)))
            .mappings()
            .first()
        )
        return dict(row) if row is not None else None

    async def receipts_for(
        self,
        external_document_id: str,
        agency_code: str | None = None,
        *,
        source_document_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Copies held of a DocumentId; with `source_document_id`, only those of that sender's
        document (or older copies that did not record one)."""
        condition = receipts.c.external_document_id == external_document_id
        if agency_code is not None:
            condition = and_(condition, receipts.c.agency_code == agency_code)
        if source_document_id is not None:
            condition = and_(
                condition,
                or_(
                    receipts.c.source_document_id == source_document_id,
                    receipts.c.source_document_id.is_(None),
                ),
            )
        rows = await self.session.execute(select(receipts).where(condition).order_by(receipts.c.received_at))
        return [dict(r) for r in rows.mappings()]

    async def outgoing_by_id(self, document_id: str) -> dict[str, Any] | None:
        row = (await self.session.execute(_OUTGOING_BY_ID, {"document_id": document_id})).mappings().first()
        return dict(row) if row is not None else None

    async def outgoing_by_external(self, external_document_id: str) -> list[dict[str, Any]]:
        """Our documents with this DocumentId, oldest first: usually one, but a secret document
        may repeat an ordinary one's number and symbol (its own numbering series)."""
        rows = await self.session.execute(
            _OUTGOING_BY_EXTERNAL, {"external_document_id": external_document_id}
        )
        return [dict(r) for r in rows.mappings()]

    async def delivery(self, delivery_id: str) -> dict[str, Any] | None:
        row = (await self.session.execute(_DELIVERY_BY_ID, {"delivery_id": delivery_id})).mappings().first()
        return dict(row) if row is not None else None

    async def set_delivery(self, delivery_id: str, **values: Any) -> None:
        if not values:
            return
        await self.session.execute(_UPDATE_DELIVERY, {"_delivery_id": delivery_id, **values})

    async def deliveries_in(
        self, state: str, limit: int = 500, agency_code: str | None = None
    ) -> list[dict[str, Any]]:
        query = select(deliveries).where(deliveries.c.state == state)
        if agency_code is not None:
            query = query.where(deliveries.c.agency_code == agency_code)
        rows = await self.session.execute(query.order_by(deliveries.c.created_at).limit(limit))
        return [dict(r) for r in rows.mappings()]

    async def count_deliveries(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
        )
        return {state: count for state, count in rows}
