"""Settings of the routing service (env prefix VANTHU_ROUTING_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from vanthu_contracts.events.common import Urgency
from vanthu_routing.domain.deadlines import DEFAULT_PERIODS
from vanthu_runtime.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VANTHU_ROUTING_", extra="ignore", env_nested_delimiter="__")

    port: int = 8102
    database_url: str = "sqlite+aiosqlite:///./var/routing.db"
    max_upload_bytes: int = 50 * 1024 * 1024

    # Deadlines
    calendar_file: Path | None = Field(None, description="TOML overrides of the Vietnamese holiday calendar")
    handling_days: dict[Urgency, int] = Field(
        default_factory=lambda: dict(DEFAULT_PERIODS),
        description="Default handling period in working days, per urgency",
    )
    agency_handling_days: dict[str, dict[Urgency, int]] = Field(
        default_factory=dict, description="Per-agency periods (quy chế làm việc), e.g. {'000.00.12.H99': {'thuong': 7}}"
    )
    direct_forward_agencies: list[str] = Field(
        default_factory=list,
        description="Agencies whose văn thư forwards straight to the proposed unit (no leader step)",
    )

    # Reminders
    due_soon_working_days: int = Field(1, ge=0, description="'Due soon' = within this many working days")
    reminder_interval_s: float = Field(300.0, description="How often reminders are looked for; 0 disables")

    # E-mail (in-app notifications are always stored; e-mail only when smtp_host is set)
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_from: str = "vanthu@localhost"
    smtp_timeout_s: float = 10.0
    mail_interval_s: float = 5.0
    mail_max_attempts: int = 5

    # Signing and issuing
    signing_anchor_text: str | None = Field(None, description="Placeholder the personal signature replaces")

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.smtp_host and self.smtp_user and not self.smtp_password.get_secret_value():
            problems.append("smtp_user is set without smtp_password")
        return problems
