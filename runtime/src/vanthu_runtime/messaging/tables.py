"""The outbox and inbox tables, added to each service's own metadata."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)


def outbox_table(metadata: MetaData) -> Table:
    table = Table(
        "outbox",
        metadata,
        Column("id", String(36), primary_key=True, comment="Envelope id (UUIDv7) = Nats-Msg-Id"),
        Column("subject", String(255), nullable=False),
        Column("type", String(120), nullable=False),
        Column("data", LargeBinary, nullable=False, comment="The envelope as JSON bytes"),
        Column("headers", JSON, nullable=False, comment="traceparent and friends"),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
    )
    # The relay scans only the unpublished rows, in id (= time) order.
    Index(
        "ix_outbox_pending",
        table.c.id,
        postgresql_where=table.c.published_at.is_(None),
        sqlite_where=table.c.published_at.is_(None),
    )
    Index("ix_outbox_published_at", table.c.published_at)
    return table


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("applied_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
    )


def messaging_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Add both tables to a service's metadata (so its Alembic migrations create them)."""
    return outbox_table(metadata), inbox_table(metadata)
