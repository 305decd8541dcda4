"""Tables of the routing service (SQLAlchemy Core). Queries live in `vanthu_routing.repos`."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from vanthu_runtime.db import new_metadata
from vanthu_runtime.messaging.tables import messaging_tables

metadata = new_metadata()
outbox, inbox = messaging_tables(metadata)

ID = 36  # UUIDs; ids coming from other services fit the same width

# -- the directory, projected from registry.{agency,unit,user}.upserted ------------------

dir_agencies = Table(
    "dir_agencies",
    metadata,
    Column("code", String(13), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("abbreviation", String(20), nullable=False),
    Column("parent_code", String(13), nullable=True),
    Column("hosted", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
)

dir_units = Table(
    "dir_units",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("agency_code", String(13), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("abbreviation", String(20), nullable=False, server_default=""),
    Column("parent_unit_id", String(ID), nullable=True),
    Column("active", Boolean, nullable=False),
)

dir_users = Table(
    "dir_users",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("agency_code", String(13), nullable=False, index=True),
    Column("unit_id", String(ID), nullable=True, index=True),
    Column("full_name", String(50), nullable=False),
    Column("position", String(100), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("email", String(100), nullable=False, default=""),
    Column("active", Boolean, nullable=False),
)

# -- handling of incoming documents ----------------------------------------------------

handlings = Table(
    "handlings",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("document_id", String(ID), nullable=False, unique=True),
    Column("agency_code", String(13), nullable=False),
    Column("state", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("sender", JSON, nullable=True, comment="OrganRef of the sender"),
    Column("external_document_id", String(200), nullable=True),
    Column("type_name", String(100), nullable=False, default=""),
    Column("code_notation", String(60), nullable=True, comment="Số, ký hiệu of the incoming document"),
    Column("subject", String(500), nullable=False),
    Column("incoming_number", Integer, nullable=False, default=0),
    Column("urgency", String(20), nullable=False),
    Column("secrecy", String(20), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("default_deadline", Date, nullable=True),
    Column("statuses_sent", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_handlings_waiting", "agency_code", "state"),
)

secret_readers = Table(
    "secret_readers",
    metadata,
    Column("document_id", String(ID), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("source", String(20), nullable=False, comment="registration | arrival | issue | manual"),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    comment="Who may read a secret document (the registry's secret grants): they see its handling in full",
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("handling_id", String(ID), ForeignKey("handlings.id"), nullable=False, index=True),
    Column("parent_id", String(ID), nullable=True),
    Column("kind", String(10), nullable=False),
    Column("assignee_id", String(ID), nullable=False),
    Column("assignee_key", String(ID + 2), nullable=False, comment="u:<user id> or o:<unit id>"),
    Column("role", String(10), nullable=False),
    Column("assigned_by", String(ID), nullable=False),
    Column("assigned_on_behalf_of", String(ID), nullable=True),
    Column("deadline", Date, nullable=True),
    Column("instruction", Text, nullable=False, default=""),
    Column("state", String(20), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("percent", Integer, nullable=False, default=0),
    Column("result", Text, nullable=False, default=""),
    Column("reply_draft_id", String(ID), nullable=True),
    Column("urgency", String(20), nullable=False, comment="Copied from the handling for inbox filters"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("extension_requested", Date, nullable=True),
    Column("extension_reason", Text, nullable=False, default=""),
    Column("version", Integer, nullable=False),
    # The inbox query: one user's (or unit's) open items of a role, by deadline.
    Index("ix_assignments_inbox", "assignee_key", "role", "is_open", "deadline"),
)

handling_log = Table(
    "handling_log",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("handling_id", String(ID), nullable=False, index=True),
    Column("assignment_id", String(ID), nullable=True),
    Column("action", String(30), nullable=False),
    Column("actor", String(ID), nullable=False, comment="Who clicked"),
    Column("on_behalf_of", String(ID), nullable=True, comment="Whose authority (ủy quyền)"),
    Column("note", Text, nullable=False, default=""),
    Column("percent", Integer, nullable=True),
    Column("files", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

urgings = Table(
    "urgings",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("agency_code", String(13), nullable=False),
    Column("handling_id", String(ID), nullable=False),
    Column("assignment_id", String(ID), nullable=False),
    Column("assignee_key", String(ID + 2), nullable=False),
    Column("level", String(20), nullable=False),
    Column("message", Text, nullable=False, default=""),
    Column("urged_by", String(ID), nullable=False),
    Column("on_behalf_of", String(ID), nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_urgings_handler", "agency_code", "assignee_key", "level"),
)

# -- notifications and reminders -------------------------------------------------------

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("agency_code", String(13), nullable=False),
    Column("user_id", String(ID), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("title_vi", String(500), nullable=False),
    Column("title_en", String(500), nullable=False),
    Column("ref_type", String(20), nullable=False),
    Column("ref_id", String(ID), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=True),
    Column("email_state", String(10), nullable=False, comment="none | pending | sent | failed"),
    Column("email_attempts", Integer, nullable=False, default=0),
    Index("ix_notifications_user", "user_id", "created_at"),
    Index("ix_notifications_email", "email_state"),
)

reminders_sent = Table(
    "reminders_sent",
    metadata,
    Column("key", String(120), primary_key=True, comment="<assignment>:<kind>:<deadline>"),
    Column("at", DateTime(timezone=True), nullable=False),
)

notification_prefs = Table(
    "notification_prefs",
    metadata,
    Column("user_id", String(ID), primary_key=True),
    Column("email", String(100), nullable=False, default=""),
    Column("email_enabled", Boolean, nullable=False, default=True),
)

# -- delegation ------------------------------------------------------------------------

delegations = Table(
    "delegations",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("agency_code", String(13), nullable=False),
    Column("delegator_id", String(ID), nullable=False),
    Column("delegate_id", String(ID), nullable=False, index=True),
    Column("scopes", JSON, nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("ended_at", DateTime(timezone=True), nullable=True, comment="When the end was published"),
)

# -- drafts, review chains, opinion rounds ---------------------------------------------

chain_templates = Table(
    "chain_templates",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("agency_code", String(13), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("steps", JSON, nullable=False, comment="[{reviewer_id, label}], the signer last"),
    Column("created_by", String(ID), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

drafts = Table(
    "drafts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("agency_code", String(13), nullable=False),
    Column("unit_id", String(ID), nullable=True),
    Column("creator_id", String(ID), nullable=False, index=True),
    Column("type_name", String(100), nullable=False),
    Column("type_abbreviation", String(10), nullable=True),
    Column("subject", String(500), nullable=False),
    Column("urgency", String(20), nullable=False),
    Column("secrecy", String(20), nullable=False),
    Column("internal_recipients", JSON, nullable=False),
    Column("external_recipients", JSON, nullable=False),
    Column("reply_to", JSON, nullable=False, comment="Handling ids this draft answers"),
    Column("state", String(20), nullable=False),
    Column("chain", JSON, nullable=False, comment="Review steps with their decisions"),
    Column("current_step", Integer, nullable=True),
    Column("current_reviewer_id", String(ID), nullable=True, index=True),
    Column("signer", JSON, nullable=True, comment="Signer id, name, position, competence"),
    Column("sign_job_id", String(128), nullable=True),
    Column("signed_file", JSON, nullable=True),
    Column("document_id", String(ID), nullable=True),
    Column("symbol", String(60), nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=True),
    Column("last_error", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

draft_files = Table(
    "draft_files",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("draft_id", String(ID), ForeignKey("drafts.id"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("role", String(20), nullable=False, comment="main | attachment"),
    Column("file_version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("uploaded_by", String(ID), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("draft_id", "name", "file_version", name="uq_draft_files_version"),
)

draft_log = Table(
    "draft_log",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("draft_id", String(ID), nullable=False, index=True),
    Column("step", Integer, nullable=True),
    Column("action", String(30), nullable=False),
    Column("actor", String(ID), nullable=False),
    Column("on_behalf_of", String(ID), nullable=True),
    Column("comment", Text, nullable=False, default=""),
    Column("at", DateTime(timezone=True), nullable=False),
)

opinion_rounds = Table(
    "opinion_rounds",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("draft_id", String(ID), nullable=False, index=True),
    Column("agency_code", String(13), nullable=False),
    Column("requested_by", String(ID), nullable=False),
    Column("question", Text, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("state", String(10), nullable=False, comment="open | closed"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

opinion_requests = Table(
    "opinion_requests",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("round_id", String(ID), ForeignKey("opinion_rounds.id"), nullable=False, index=True),
    Column("participant_kind", String(10), nullable=False),
    Column("participant_id", String(ID), nullable=False),
    Column("participant_key", String(ID + 2), nullable=False, index=True),
    Column("due_date", Date, nullable=False),
    Column("answered_by", String(ID), nullable=True),
    Column("on_behalf_of", String(ID), nullable=True),
    Column("opinion", Text, nullable=True),
    Column("answered_at", DateTime(timezone=True), nullable=True),
)

# -- tasks -----------------------------------------------------------------------------

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("agency_code", String(13), nullable=False, index=True),
    Column("parent_task_id", String(ID), nullable=True, index=True),
    Column("title", String(500), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("owner_unit_id", String(ID), nullable=False, index=True),
    Column("assignee_id", String(ID), nullable=True, index=True),
    Column("assigned_by", String(ID), nullable=False),
    Column("source_document_id", String(ID), nullable=True),
    Column("deadline", Date, nullable=True),
    Column("expected_result", Text, nullable=False, default=""),
    Column("state", String(20), nullable=False),
    Column("percent", Integer, nullable=False, default=0),
    Column("result", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False),
)

task_log = Table(
    "task_log",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("task_id", String(ID), nullable=False, index=True),
    Column("action", String(30), nullable=False),
    Column("actor", String(ID), nullable=False),
    Column("on_behalf_of", String(ID), nullable=True),
    Column("note", Text, nullable=False, default=""),
    Column("percent", Integer, nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
)
