"""Settings of the interop service (env prefix VANTHU_INTEROP_).

Decisions on facts the domain notes mark [R] are settings here, so a province can follow what
its axis operator says without a code change (docs/interop.md lists each one).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from vanthu_runtime.settings import ServiceSettings, _looks_dev


class RecallRoute(StrEnum):
    STATUS_13 = "status_13"  # a status packet 13 (what production integrators do)
    REVOCATION_PACKET = "revocation_packet"  # an edoc with BussinessDocType 1
    BOTH = "both"


class OwnAgency(BaseModel):
    """An agency hosted on this platform, with the edXML organisation block it sends as."""

    code: str
    name: str
    organization_in_charge: str = ""
    address: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


class InteropSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VANTHU_INTEROP_", extra="ignore", env_nested_delimiter="__")

    port: int = 8104
    database_url: str = "sqlite+aiosqlite:///./var/interop.db"

    agencies: list[OwnAgency] = Field(
        default_factory=list,
        description="Agencies hosted here, besides those registry announces (JSON list)",
    )

    # The national axis connection (one adapter endpoint, systemId and secret per platform).
    axis_enabled: bool = False
    axis_endpoint: str = "http://127.0.0.1:8480"
    axis_system_id: str = ""
    axis_secret: SecretStr = SecretStr("")
    axis_store_path: str = Field("/var/lib/vanthu/edoc", description="Sent as getEdoc's filePath header")
    axis_timeout_s: float = 30.0
    poll_interval_s: float = Field(60.0, description="How often the axis is asked for new packets")
    poll_concurrency: int = Field(4, ge=1, le=32)
    partner_sync_interval_s: float = Field(900.0, description="0 turns the scheduled directory sync off")
    ack_publish_wait_s: float = Field(
        15.0, description="How long a poll waits for the import's events to reach NATS before acknowledging"
    )

    send_workers: int = Field(2, ge=1, le=32, description="Concurrent send-job handlers in this process")
    send_backoff_s: list[float] = Field(
        default_factory=list,
        description="Delays between send attempts; empty: the interop_send consumer's back-off from contracts",
    )

    # edXML choices
    zip_attachments: bool = True
    cid_prefix: bool = True
    max_packet_bytes: int = 600 << 20
    recall_route: RecallRoute = RecallRoute.STATUS_13
    timezone: str = "Asia/Ho_Chi_Minh"
    work_dir: str = Field(
        "", description="Temporary files of packets being built or parsed (default: system temp)"
    )

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.axis_enabled and _looks_dev(self.axis_secret.get_secret_value()):
            problems.append("axis_secret is empty or a development value")
        return problems
