"""Tables of the signing service."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from vanthu_runtime.db import new_metadata
from vanthu_runtime.messaging.tables import messaging_tables

metadata = new_metadata()
outbox, inbox = messaging_tables(metadata)

signer_profiles = Table(
    "signer_profiles",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("agency_code", String(13), nullable=False),
    Column("user_id", String(100), nullable=True),
    Column("purpose", String(20), nullable=False, comment="personal | agency"),
    Column("key_kind", String(20), nullable=False, comment="pkcs11 | token_proxy | pkcs12"),
    Column("display_name", String(200), nullable=False, default=""),
    Column("module_path", String(500), nullable=True),
    Column("token_label", String(100), nullable=True),
    Column("key_label", String(100), nullable=True),
    Column("key_id_hex", String(128), nullable=True),
    Column("pin_secret", String(300), nullable=True, comment="env:NAME or file:/path, never the PIN"),
    Column("pkcs12_path", String(500), nullable=True),
    Column("pkcs12_passphrase_secret", String(300), nullable=True),
    Column("certificate_der", LargeBinary, nullable=True, comment="token_proxy: registered by the agent"),
    Column("chain_pem", Text, nullable=True),
    Column("image_sha256", String(64), nullable=True),
    Column("image_width_mm", Float, nullable=False, default=0.0),
    Column("active", Boolean, nullable=False, default=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_signer_profiles_lookup", "agency_code", "purpose", "user_id"),
)

sign_jobs = Table(
    "sign_jobs",
    metadata,
    Column("job_id", String(128), primary_key=True),
    Column("agency_code", String(13), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False, comment="running | signed | failed"),
    Column("worker", String(200), nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("source_sha256", String(64), nullable=False),
    Column("result_sha256", String(64), nullable=True),
    Column("profile_id", String(100), nullable=True),
    Column("field_name", String(100), nullable=True),
    Column("error_code", String(100), nullable=True),
    Column("error_details", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

token_requests = Table(
    "token_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("job_id", String(128), nullable=False, index=True),
    Column("user_id", String(100), nullable=False),
    Column("profile_id", String(100), nullable=False),
    Column("status", String(20), nullable=False, comment="pending | signed | declined | expired | cancelled"),
    Column("display", JSON, nullable=False, comment="What the agent shows the signer"),
    Column("to_sign", LargeBinary, nullable=False, comment="DER of the CMS signed attributes"),
    Column("signature", LargeBinary, nullable=True),
    Column("error_code", String(100), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Index("ix_token_requests_pending", "user_id", "status"),
)
