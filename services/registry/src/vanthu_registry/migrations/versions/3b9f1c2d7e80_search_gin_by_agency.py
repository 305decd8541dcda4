"""search: one GIN index over (agency_code, tsv) on PostgreSQL

Every search is inside one agency. With the agency in the same GIN index, a rare word
is answered from that index alone, instead of the planner AND-ing the word's postings
with a bitmap of every document of the agency. btree_gin (a trusted extension since
PostgreSQL 13) lets GIN index the plain text column.

Revision ID: 3b9f1c2d7e80
Revises: fa769dbf5954
Create Date: 2026-11-21 11:58:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3b9f1c2d7e80"
down_revision: str | None = "fa769dbf5954"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute("CREATE INDEX ix_document_search_agency_tsv ON document_search USING gin (agency_code, tsv)")
    op.execute("DROP INDEX IF EXISTS ix_document_search_tsv")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_document_search_tsv ON document_search USING gin (tsv)")
    op.execute("DROP INDEX IF EXISTS ix_document_search_agency_tsv")
