"""Settings of the signing service (env prefix VANTHU_SIGNING_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from vanthu_contracts.events.signing import PadesLevel
from vanthu_runtime.settings import ServiceSettings


class SigningSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VANTHU_SIGNING_", extra="ignore", env_nested_delimiter="__")

    port: int = 8103
    database_url: str = "sqlite+aiosqlite:///./var/signing.db"

    # Workers
    worker_instances: int = Field(
        2, ge=0, description="Sign jobs handled at once by this process (0 = API only)"
    )
    pkcs11_modules: list[str] = Field(
        default_factory=list,
        description="PKCS#11 libraries signer profiles may load (absolute paths, JSON list); "
        "empty = any, refused in production",
    )
    pkcs11_sessions: int = Field(0, ge=0, description="PKCS#11 sessions per HSM key; 0 = worker_instances")
    job_lease_s: float = Field(
        120.0, gt=0, description="How long a claimed job stays ours without a heartbeat"
    )
    heartbeat_s: float = Field(
        15.0, gt=0, description="Progress report interval while waiting (ack wait is 60 s)"
    )
    max_pdf_bytes: int = Field(50 * 1024 * 1024, gt=0)
    retry_delays_s: list[float] = Field(
        default_factory=list,
        description="Delays between attempts after a passing failure; empty = the consumer's back-off",
    )

    # PAdES
    default_level: PadesLevel = Field(PadesLevel.B_B, description="Level when a job does not ask for one")
    tsa_url: str = Field("", description="RFC 3161 TSA for B-T and B-LT, e.g. http://ca.gov.vn/tsa")
    tsa_timeout_s: float = 10.0
    revocation_cache_s: float = Field(300.0, description="How long fetched OCSP/CRL answers are reused")
    fetch_timeout_s: float = 10.0

    # Trust anchors (files the operator provides: PEM, DER or a PKCS#7 bundle)
    trust_anchor_vgca_g2: Path | None = Field(
        None, description='Ban Cơ yếu Chính phủ root "RootCA chuyên dùng Chính phủ G2"'
    )
    trust_anchor_vn_national_root: Path | None = Field(None, description='NEAC "Vietnam National Root CA"')
    extra_trust_anchors: list[Path] = Field(
        default_factory=list, description="Further roots (other CAs, tests)"
    )

    # Appearance
    stamp_font: str | None = Field(None, description="TTF covering Vietnamese; default Liberation Serif 2")
    signature_anchor: str = Field(
        "[[CHU_KY]]", description="Placeholder text marking where the signature goes"
    )
    signature_max_width_mm: float = 45.0
    signature_max_height_mm: float = 22.0
    seal_diameter_mm: float = Field(36.0, description="Seal size when the profile does not say")

    # Token agent
    token_request_timeout_s: float = Field(
        300.0, gt=0, description="How long a person has to answer on their token"
    )
    token_poll_wait_s: float = Field(25.0, gt=0, le=60, description="Longest long-poll the agent may hold")

    @property
    def sessions_per_key(self) -> int:
        return self.pkcs11_sessions or max(1, self.worker_instances)

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if not (self.trust_anchor_vgca_g2 or self.trust_anchor_vn_national_root or self.extra_trust_anchors):
            problems.append("no trust anchors (trust_anchor_vgca_g2, trust_anchor_vn_national_root)")
        if not self.pkcs11_modules:
            problems.append(
                "pkcs11_modules is empty: list the HSM's PKCS#11 library (VANTHU_SIGNING_PKCS11_MODULES)"
            )
        if self.default_level is not PadesLevel.B_B and not self.tsa_url:
            problems.append(f"default_level {self.default_level} needs tsa_url")
        return problems
