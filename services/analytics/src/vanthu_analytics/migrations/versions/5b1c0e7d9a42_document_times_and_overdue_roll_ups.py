"""document times and overdue roll-ups

Processing-time histograms per month (`document_times_monthly`) and overdue counts per deadline
day (`overdue_daily`), kept up to date by ingest from the documents' `prev_…` columns, so that a
report no longer reads the documents. Filled here from the documents already applied. The
documents' indexes now lead with the stage timestamps (periods that are not whole months read
the documents of a time range, whatever the agencies); the deadline is no longer read.

Revision ID: 5b1c0e7d9a42
Revises: ee28cb43d9b2
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vanthu_analytics.derived import derived_sql

revision: str = "5b1c0e7d9a42"
down_revision: str | None = "ee28cb43d9b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PREVIOUS = {
    "agency": sa.String(length=20),
    "unit": sa.String(length=64),
    "arrived_at": sa.BigInteger(),
    "registered_at": sa.BigInteger(),
    "assigned_at": sa.BigInteger(),
    "completed_at": sa.BigInteger(),
    "deadline": sa.Integer(),
}
_OLD_INDEXES = {
    "ix_documents_agency_registered": ["agency", "registered_at"],
    "ix_documents_agency_completed": ["agency", "completed_at"],
    "ix_documents_agency_assigned": ["agency", "assigned_at"],
    "ix_documents_agency_deadline": ["agency", "deadline"],
}
_NEW_INDEXES = {
    "ix_documents_registered": ["registered_at"],
    "ix_documents_assigned": ["assigned_at"],
    "ix_documents_completed": ["completed_at"],
}


def upgrade() -> None:
    op.create_table(
        "document_times_monthly",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("agency", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False, comment="'' = not assigned to a unit"),
        sa.Column("stage", sa.Integer(), nullable=False, comment="derived.STAGE_CODES"),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("documents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "agency", "unit", "stage", "bucket", name=op.f("pk_document_times_monthly")
        ),
        postgresql_with={"fillfactor": 70},
    )
    op.create_table(
        "overdue_daily",
        sa.Column("day", sa.Date(), nullable=False, comment="The deadline"),
        sa.Column("agency", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("documents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "agency", "unit", name=op.f("pk_overdue_daily")),
        postgresql_with={"fillfactor": 70},
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        for name, kind in _PREVIOUS.items():
            batch_op.add_column(sa.Column(f"prev_{name}", kind, nullable=True))
        for index in _OLD_INDEXES:
            batch_op.drop_index(index)
        for index, columns in _NEW_INDEXES.items():
            batch_op.create_index(index, columns, unique=False)
    # The documents applied so far, counted once.
    for statement in derived_sql(op.get_bind().dialect.name, changed_only=False):
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        for index in _NEW_INDEXES:
            batch_op.drop_index(index)
        for index, columns in _OLD_INDEXES.items():
            batch_op.create_index(index, columns, unique=False)
        for name in _PREVIOUS:
            batch_op.drop_column(f"prev_{name}")
    op.drop_table("overdue_daily")
    op.drop_table("document_times_monthly")
