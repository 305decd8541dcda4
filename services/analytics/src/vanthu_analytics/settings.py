"""Settings of the analytics service (env prefix VANTHU_ANALYTICS_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from vanthu_runtime.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="VANTHU_ANALYTICS_", extra="ignore", env_nested_delimiter="__"
    )

    port: int = 8105
    database_url: str = "sqlite+aiosqlite:///./var/analytics.db"

    # Ingest
    batch_size: int = Field(1000, ge=1, le=5000, description="Events fetched and applied per transaction")
    fetch_loops: int = Field(
        2, ge=1, le=4, description="Concurrent fetch loops on the durable: one fetches while another writes"
    )
    validate_payloads: bool = Field(
        False,
        description="Check every field of each payload against its contract (the mappings check what they read)",
    )

    # Compliance flags (see docs/analytics.md for why these defaults)
    inactive_days: int = Field(30, ge=1, le=3650, description="No activity for this many days → inactive")
    register_only_min_registered: int = Field(10, ge=1, description="Registered at least this many …")
    register_only_max_routed_share: float = Field(
        0.05, ge=0, le=1, description="… and routed at most this share"
    )
    scan_and_send_min_issued: int = Field(5, ge=1, description="Issued at least this many …")
    scan_and_send_min_share: float = Field(
        0.5, ge=0, le=1, description="… and at least this share had no trail"
    )
    report_max_days: int = Field(3660, ge=1, description="Longest period a report may span")
