"""Tables of the analytics service.

Three kinds of rows, none of them raw events:

- roll-ups, incremented per batch: `unit_daily`/`unit_monthly` (agency, unit, measure) and
  `person_daily` (actions) / `person_monthly` (measure) — a report reads these, never events;
- timelines, one row per document or draft, merged by order-free rules (`domain.facts`): the
  compliance checks that need a document's whole story, and the source of two roll-ups kept up
  to date as the timelines change: `document_times_monthly` (processing-time histograms,
  `domain.durations`) and `overdue_daily`;
- the directory (agencies, units, users) as the registry last described it, for names, the
  agency tree (subtree filters) and who counts as inactive.

`inbox` (from the kit) makes each event count once; `skipped_events` counts what was skipped.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, String, Table

from vanthu_analytics.domain.facts import DOCUMENTS
from vanthu_runtime.db import new_metadata
from vanthu_runtime.messaging.tables import messaging_tables

metadata = new_metadata()
outbox, inbox = messaging_tables(metadata)

AGENCY = 20  # identifier codes are 13 characters; partners from the axis may differ a little
ID = 64
MEASURE = 48
# Roll-up and timeline rows are updated in place many times: free room on each page lets
# PostgreSQL update them without touching the indexes (HOT updates).
HOT = {"postgresql_with": {"fillfactor": 70}}

agencies = Table(
    "agencies",
    metadata,
    Column("code", String(AGENCY), primary_key=True),
    Column("name", String(200)),
    Column("abbreviation", String(20)),
    Column("parent_code", String(AGENCY)),
    Column("hosted", Boolean, nullable=False, default=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("changed_at", String(60), nullable=False, comment="Event time and id of this description"),
)

units = Table(
    "units",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("agency_code", String(AGENCY), nullable=False, index=True),
    Column("name", String(200)),
    Column("abbreviation", String(20)),
    Column("parent_unit_id", String(ID)),
    Column("active", Boolean, nullable=False, default=True),
    Column("changed_at", String(60), nullable=False, comment="Event time and id of this description"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("agency_code", String(AGENCY), nullable=False, index=True),
    Column("unit_id", String(ID)),
    Column("full_name", String(50)),
    Column("active", Boolean, nullable=False, default=True),
    Column("changed_at", String(60), nullable=False, comment="Event time and id of this description"),
)

unit_daily = Table(
    "unit_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("agency", String(AGENCY), primary_key=True),
    Column("unit", String(ID), primary_key=True, comment="'' = the agency as a whole"),
    Column("measure", String(MEASURE), primary_key=True),
    Column("value", BigInteger, nullable=False),
    **HOT,
)

unit_monthly = Table(
    "unit_monthly",
    metadata,
    Column("month", Date, primary_key=True, comment="First day of the month"),
    Column("agency", String(AGENCY), primary_key=True),
    Column("unit", String(ID), primary_key=True),
    Column("measure", String(MEASURE), primary_key=True),
    Column("value", BigInteger, nullable=False),
    **HOT,
)

person_daily = Table(
    "person_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("agency", String(AGENCY), primary_key=True),
    Column("person", String(ID), primary_key=True),
    Column("actions", BigInteger, nullable=False),
    **HOT,
)

person_monthly = Table(
    "person_monthly",
    metadata,
    Column("month", Date, primary_key=True),
    Column("agency", String(AGENCY), primary_key=True),
    Column("person", String(ID), primary_key=True),
    Column("measure", String(MEASURE), primary_key=True),
    Column("value", BigInteger, nullable=False),
    **HOT,
)

# Timestamps in timelines are epoch seconds (UTC) and deadlines proleptic ordinals of the date:
# integers merge with min/max the same way on SQLite and PostgreSQL and subtract into durations.
documents = Table(
    "documents",
    metadata,
    Column("document_id", String(ID), primary_key=True),
    Column("agency", String(AGENCY)),
    Column("unit", String(ID), comment="Main handling unit of the earliest top-level assignment"),
    Column("unit_assigned_at", BigInteger),
    Column("channel", String(16)),
    Column("natural_key", String(200), comment="issuer|number|notation|date, to spot paper re-registrations"),
    Column("external_id", String(200)),
    Column("duplicate_of", String(ID)),
    Column("arrived_at", BigInteger),
    Column("registered_at", BigInteger),
    Column("assigned_at", BigInteger),
    Column("completed_at", BigInteger),
    Column("deadline", Integer),
    # Periods that are not whole months read the documents whose stage ended in the period.
    Index("ix_documents_registered", "registered_at"),
    Index("ix_documents_assigned", "assigned_at"),
    Index("ix_documents_completed", "completed_at"),
    Index("ix_documents_natural_key", "natural_key"),
    **HOT,
)

# The fields the derived roll-ups read, as they were before the row's last merge (`prev_…`): the
# roll-ups take back what the old values contributed and add what the new ones do. They are set
# by the merge statement itself, so two batches touching one document cannot interleave.
for _name in DOCUMENTS.previous:
    documents.append_column(Column(f"prev_{_name}", documents.c[_name].type.copy()))

# Processing times per month of the stage's end: how many documents took `bucket`'s durations
# (domain.durations) from the stage's start to its end. Counts, incremented and decremented as
# documents' timelines change; zero rows are left in place.
document_times_monthly = Table(
    "document_times_monthly",
    metadata,
    Column("month", Date, primary_key=True),
    Column("agency", String(AGENCY), primary_key=True),
    Column("unit", String(ID), primary_key=True, comment="'' = not assigned to a unit"),
    Column("stage", Integer, primary_key=True, comment="derived.STAGE_CODES"),
    Column("bucket", Integer, primary_key=True),
    Column("documents", BigInteger, nullable=False),
    **HOT,
)

# Documents due on `day` that were not completed by the end of that day (as they stand now).
overdue_daily = Table(
    "overdue_daily",
    metadata,
    Column("day", Date, primary_key=True, comment="The deadline"),
    Column("agency", String(AGENCY), primary_key=True),
    Column("unit", String(ID), primary_key=True),
    Column("documents", BigInteger, nullable=False),
    **HOT,
)

issued_documents = Table(
    "issued_documents",
    metadata,
    Column("document_id", String(ID), primary_key=True),
    Column("agency", String(AGENCY)),
    Column("draft_id", String(ID)),
    Column("issued_at", BigInteger),
    Column("digitally_signed", Integer),
    Column("to_axis", Integer),
    Column("to_internal", Integer),
    Index("ix_issued_documents_agency_issued", "agency", "issued_at"),
    **HOT,
)

drafts = Table(
    "drafts",
    metadata,
    Column("draft_id", String(ID), primary_key=True),
    Column("agency", String(AGENCY)),
    Column("unit", String(ID)),
    Column("creator", String(ID)),
    Column("created_at", BigInteger),
    Column("approved_at", BigInteger),
    Column("signed_at", BigInteger),
    Column("issued_at", BigInteger),
    Index("ix_drafts_agency_created", "agency", "created_at"),
    **HOT,
)

skipped_events = Table(
    "skipped_events",
    metadata,
    Column("type", String(120), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("reason", String(20), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

ROLLUPS = (unit_daily, unit_monthly, person_daily, person_monthly, document_times_monthly, overdue_daily)
TIMELINE_TABLES = {t.name: t for t in (documents, issued_documents, drafts)}
DIRECTORY_TABLES = {"agency": agencies, "unit": units, "user": users}
