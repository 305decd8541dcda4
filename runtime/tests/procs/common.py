"""Tables and helpers shared by the crash-test processes."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table

from vanthu_runtime.db import new_metadata
from vanthu_runtime.messaging.tables import messaging_tables


def producer_metadata() -> tuple[MetaData, Table]:
    metadata = new_metadata()
    messaging_tables(metadata)
    ledger = Table("ledger", metadata, Column("item", Integer, primary_key=True, autoincrement=False))
    return metadata, ledger


def applier_metadata() -> tuple[MetaData, Table, Table]:
    metadata = new_metadata()
    messaging_tables(metadata)
    # Deliberately NOT unique: a double application would show up as a duplicate row.
    applied = Table(
        "applied",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("item", Integer, nullable=False),
    )
    totals = Table(
        "totals", metadata, Column("id", Integer, primary_key=True), Column("count", Integer, nullable=False)
    )
    return metadata, applied, totals
