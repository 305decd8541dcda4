"""The rows that must come out the same whatever the batching, redeliveries or replays."""

from __future__ import annotations

from vanthu_analytics.repository import documents

TABLES = ("unit_daily", "unit_monthly", "person_daily", "person_monthly", "document_times_monthly",
          "overdue_daily", "documents", "issued_documents", "drafts", "agencies", "units", "users",
          "skipped_events")  # fmt: skip


def figures_sql(table: str) -> str:
    """A table's rows, less the bookkeeping that depends on batching: the documents' `prev_…`
    columns (the values before the last merge) and derived roll-up rows that went back to zero."""
    if table == "documents":
        columns = ", ".join(c.name for c in documents.columns if not c.name.startswith("prev_"))
        return f"SELECT {columns} FROM documents"
    if table in ("document_times_monthly", "overdue_daily"):
        return f"SELECT * FROM {table} WHERE documents <> 0"
    return f"SELECT * FROM {table}"
