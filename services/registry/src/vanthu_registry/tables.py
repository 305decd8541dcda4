"""Every table of the registry, on one metadata (the Alembic migrations are generated from it)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from vanthu_runtime.db import new_metadata
from vanthu_runtime.messaging.tables import messaging_tables

metadata = new_metadata()
outbox, inbox = messaging_tables(metadata)

agencies = Table(
    "agencies",
    metadata,
    Column("code", String(13), primary_key=True, comment="Mã định danh (QĐ 20/2020)"),
    Column("name", String(200), nullable=False),
    Column("abbreviation", String(20), nullable=False),
    Column("parent_code", String(13), ForeignKey("agencies.code"), nullable=True, index=True),
    Column("hosted", Boolean, nullable=False, default=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("address", String(500), nullable=False, default=""),
    Column("email", String(100), nullable=False, default=""),
    Column("phone", String(20), nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

units = Table(
    "units",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_code", String(13), ForeignKey("agencies.code"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("abbreviation", String(20), nullable=False),
    Column("parent_unit_id", String(36), ForeignKey("units.id"), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", String(50), nullable=False),
    Column("agency_code", String(13), ForeignKey("agencies.code"), nullable=False, index=True),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=True),
    Column("position", String(100), nullable=False, default=""),
    Column("email", String(100), nullable=False, default=""),
    Column("roles", JSON, nullable=False),
    Column("granted_secrecy", JSON, nullable=False, default=list),
    Column("password_hash", String(255), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# -- registers (sổ văn bản) and their numbering series -----------------------------------

numbering_series = Table(
    "numbering_series",
    metadata,
    Column("agency_code", String(13), ForeignKey("agencies.code"), nullable=False),
    Column("direction", String(10), nullable=False, comment="incoming | outgoing"),
    Column("series", String(30), nullable=False, comment="Key of the series, e.g. di, qd, di-mat"),
    Column("name", String(200), nullable=False),
    Column("type_codes", JSON, nullable=False, comment="Types numbered in it; [] = every other type"),
    Column("secret", Boolean, nullable=False, default=False, comment="Series of secret documents"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("agency_code", "direction", "series", name="pk_numbering_series"),
)

registers = Table(
    "registers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_code", String(13), ForeignKey("agencies.code"), nullable=False),
    Column("direction", String(10), nullable=False),
    Column("year", Integer, nullable=False),
    Column("series", String(30), nullable=False),
    Column("name", String(200), nullable=False),
    Column("type_codes", JSON, nullable=False),
    Column("secret", Boolean, nullable=False, default=False),
    Column("last_number", Integer, nullable=False, default=0, comment="Counter; row-locked while numbering"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("agency_code", "direction", "year", "series", name="uq_registers_series_year"),
)

# -- documents (Phụ lục VI parts I and II) ----------------------------------------------------

documents = Table(
    "documents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_code", String(13), ForeignKey("agencies.code"), nullable=False),
    Column("direction", String(10), nullable=False),
    Column("state", String(12), nullable=False),
    Column("register_id", String(36), ForeignKey("registers.id"), nullable=True),
    Column("register_year", Integer, nullable=True),
    Column("number", Integer, nullable=True, comment="Số đến (ArrivalNumber) or số đi"),
    Column("type_code", String(30), nullable=False),
    Column("type_name", String(100), nullable=False, comment="TypeName"),
    Column("type_abbreviation", String(10), nullable=True),
    Column("code_number", String(11), nullable=True, comment="CodeNumber"),
    Column("code_notation", String(30), nullable=True, comment="CodeNotation"),
    Column("issued_date", Date, nullable=True, comment="IssuedDate"),
    Column("organ_id", String(13), nullable=True, comment="OrganId of the issuer"),
    Column("organ_name", String(200), nullable=False, default="", comment="OrganName"),
    Column("subject", String(500), nullable=False, comment="Subject (trích yếu)"),
    Column("language", String(30), nullable=False, default="Tiếng Việt"),
    Column("page_amount", Integer, nullable=True, comment="PageAmount, counted from the PDF"),
    Column("description", String(500), nullable=False, default=""),
    Column("signer_position", String(100), nullable=False, default=""),
    Column("signer_name", String(50), nullable=False, default=""),
    Column("signer_competence", String(10), nullable=False, default=""),
    Column("urgency", String(12), nullable=False),
    Column("secrecy", String(12), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("to_places", String(1000), nullable=False, default="", comment="ToPlaces"),
    Column("trace_header_list", Text, nullable=False, default="", comment="TraceHeaderList"),
    Column("due_date", Date, nullable=True, comment="DueDate"),
    Column("arrival_date", Date, nullable=True, comment="ArrivalDate"),
    Column("received_at", DateTime(timezone=True), nullable=True),
    Column("registered_at", DateTime(timezone=True), nullable=True),
    Column("channel", String(10), nullable=True),
    Column("external_document_id", String(200), nullable=True),
    Column("sender_organ_id", String(13), nullable=True),
    Column("sender_organ_name", String(200), nullable=True),
    Column("response_for", JSON, nullable=False, default=list),
    Column("recipients", JSON, nullable=False, default=list, comment="To: [{organ_id, organ_name}]"),
    Column("issued_amount", Integer, nullable=True, comment="IssuedAmount"),
    Column("axis_document_id", String(100), nullable=True),
    Column("draft_id", String(64), nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=True),
    Column("digitally_signed", Boolean, nullable=False, default=False),
    Column("sealed", Boolean, nullable=False, default=False),
    Column("unit_abbreviation", String(20), nullable=True),
    Column("return_reason", String(500), nullable=True),
    Column("returned_at", DateTime(timezone=True), nullable=True),
    Column("proposed_unit_id", String(36), nullable=True),
    Column("duplicate_of", JSON, nullable=False, default=list),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sort_at", DateTime(timezone=True), nullable=False, comment="received_at or issued_at"),
    UniqueConstraint("register_id", "number", name="uq_documents_register_number"),
    UniqueConstraint("agency_code", "draft_id", name="uq_documents_agency_draft"),
    Index("ix_documents_agency_sort", "agency_code", "sort_at"),
    Index("ix_documents_duplicate_key", "agency_code", "code_number", "code_notation"),
    Index("ix_documents_external_id", "agency_code", "external_document_id"),
)

document_files = Table(
    "document_files",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("document_id", String(36), ForeignKey("documents.id"), nullable=False, index=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("name", String(500), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("page_count", Integer, nullable=True),
    Column("role", String(20), nullable=False, comment="main | attachment | signed | scan"),
    Column("version", Integer, nullable=False, default=1),
    Column("text_state", String(10), nullable=False, default="pending", comment="pending | done | none"),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)

# Folded (accent-free) tokens of the metadata and of the PDF text layer. PostgreSQL adds a
# generated tsvector with a GIN index (migration); SQLite mirrors it into an FTS5 table.
document_search = Table(
    "document_search",
    metadata,
    Column("document_id", String(36), ForeignKey("documents.id"), primary_key=True),
    Column("agency_code", String(13), nullable=False),
    # Copies of what every search filters and sorts on, so a query stays inside this table.
    Column("direction", String(10), nullable=False),
    Column("secrecy", String(12), nullable=False),
    Column("sort_at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False, default=""),
    Column("content", Text, nullable=False, default=""),
    Index("ix_document_search_agency_sort", "agency_code", "sort_at"),
)

access_grants = Table(
    "access_grants",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("document_id", String(36), ForeignKey("documents.id"), nullable=False, index=True),
    Column("principal_type", String(10), nullable=False, comment="user | unit"),
    Column("principal_id", String(64), nullable=False),
    Column("kind", String(10), nullable=False, comment="assigned | given | secret"),
    Column("granted_by", String(64), nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("source", String(100), nullable=False, default=""),
    UniqueConstraint("document_id", "principal_type", "principal_id", "kind", name="uq_access_grants_who"),
    Index("ix_access_grants_principal", "principal_id", "document_id"),
)

# -- audit log (hash-chained) -----------------------------------------------------------------

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("on_behalf_of", String(64), nullable=True),
    Column("agency_code", String(13), nullable=True),
    Column("action", String(60), nullable=False),
    Column("target_type", String(30), nullable=False),
    Column("target_id", String(64), nullable=False, index=True),
    Column("source_ip", String(64), nullable=True),
    Column("details", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Entries written by the transactions of the changes themselves, not yet in the chain. The
# sealer moves them into audit_log in order, so no request waits on the chain's one lock.
audit_pending = Table(
    "audit_pending",
    metadata,
    Column("id", String(36), primary_key=True, comment="UUIDv7: orders entries written in the same microsecond"),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("on_behalf_of", String(64), nullable=True),
    Column("agency_code", String(13), nullable=True),
    Column("action", String(60), nullable=False),
    Column("target_type", String(30), nullable=False),
    Column("target_id", String(64), nullable=False, index=True),
    Column("source_ip", String(64), nullable=True),
    Column("details", JSON, nullable=False),
)

# One row: the last sequence number and hash. Sealing locks it, which orders the chain.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# -- work files (hồ sơ) and the yearly Danh mục hồ sơ ------------------------------------------

work_file_headings = Table(
    "work_file_headings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_code", String(13), ForeignKey("agencies.code"), nullable=False),
    Column("year", Integer, nullable=False),
    Column("position", Integer, nullable=False, comment="Roman numeral of the main heading"),
    Column("abbreviation", String(16), nullable=False, comment="e.g. TCCB"),
    Column("title", String(500), nullable=False),
    UniqueConstraint("agency_code", "year", "abbreviation", name="uq_work_file_headings_abbr"),
)

work_files = Table(
    "work_files",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_code", String(13), ForeignKey("agencies.code"), nullable=False),
    Column("year", Integer, nullable=False, comment="FileCatalog"),
    Column("notation", String(20), nullable=False, comment="FileNotation, e.g. 01.TCCB"),
    Column("heading_id", String(36), ForeignKey("work_file_headings.id"), nullable=True),
    Column("title", String(500), nullable=False),
    Column("maintenance", String(30), nullable=False, default=""),
    Column("rights", String(30), nullable=False, default=""),
    Column("creator", String(30), nullable=False, default=""),
    Column("creator_id", String(64), nullable=True),
    Column("language", String(50), nullable=False, default="Tiếng Việt"),
    Column("start_date", Date, nullable=True),
    Column("end_date", Date, nullable=True),
    Column("description", String(500), nullable=False, default=""),
    Column("state", String(10), nullable=False),
    Column("in_catalog", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("agency_code", "year", "notation", name="uq_work_files_code"),
)

work_file_documents = Table(
    "work_file_documents",
    metadata,
    Column("file_id", String(36), ForeignKey("work_files.id"), nullable=False),
    Column("document_id", String(36), ForeignKey("documents.id"), nullable=False, index=True),
    Column("ordinal", Integer, nullable=False, comment="DocOrdinal"),
    Column("added_by", String(64), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("file_id", "document_id", name="pk_work_file_documents"),
)
