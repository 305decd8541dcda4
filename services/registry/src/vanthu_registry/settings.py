"""Settings of the registry service (env prefix VANTHU_REGISTRY_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from vanthu_runtime.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VANTHU_REGISTRY_", extra="ignore", env_nested_delimiter="__")

    port: int = 8101
    database_url: str = "sqlite+aiosqlite:///./var/registry.db"
    seed_demo: bool = Field(False, description="Create the fictitious demo province H99 at startup")
    seed_demo_province: str = Field(
        "H99", pattern=r"^[A-Z]\d{2}$", description="Province code of the demo (a second demo platform: H98)"
    )

    # Documents
    timezone: str = Field("Asia/Ho_Chi_Minh", description="Dates (ngày đến, ngày ban hành, the year) are local")
    max_file_bytes: int = Field(50 * 1024 * 1024, description="Largest PDF accepted for one file version")
    auto_register_electronic: bool = Field(
        False,
        description="Register documents arriving from interop at once instead of waiting for the văn thư",
    )
    # Search
    search_count_cap: int = Field(1000, description="Totals above this are reported as 'at least'")
    text_index_interval_s: float = Field(1.0, description="How often the PDF text-layer indexer looks for work")
    text_index_enabled: bool = True
    audit_seal_interval_s: float = Field(0.5, description="How often pending audit entries are chained")
    audit_anchor_interval_s: float = Field(
        30.0,
        ge=0,
        description="How often the audit log's head is published as an anchor (registry.audit.sealed); 0 = every sealing",
    )
    # Prints
    font_regular: Path = Field(
        Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"),
        description="TrueType font for prints; must have Vietnamese glyphs (else DejaVu Serif is used)",
    )
    font_bold: Path = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf")
    # The request/reply responder for vanthu.rpc.registry.issue_document
    rpc_enabled: bool = True

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.seed_demo:
            problems.append("seed_demo is on")
        return problems
