"""Service settings: pydantic-settings with a per-service env prefix.

Each service subclasses `ServiceSettings` with its own prefix, e.g.
`VANTHU_REGISTRY_`. Settings shared by the whole platform can also be given once
with the bare `VANTHU_` prefix (`VANTHU_NATS_URL`, `VANTHU_ENV`); the service's
own prefix wins when both are set.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from vanthu_runtime.sqlite_loop import SqliteDriver

# Values that are fine on a laptop and fatal in production.
DEV_SECRET_MARKERS = ("changeme", "dev-", "development", "minioadmin", "secret")
DEV_OBJECT_STORE_KEYS = {"vanthu", "minioadmin", "vanthu-dev-secret"}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclass and set `model_config` with the service prefix."""

    model_config = SettingsConfigDict(env_prefix="VANTHU_SERVICE_", extra="ignore", env_nested_delimiter="__")
    service_name: ClassVar[str] = "service"

    env: Environment = Environment.DEVELOPMENT
    instance: str = Field("", description="Replica name; defaults to host and pid")

    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = Field("", description="Base URL others use to reach this service")

    # Blocking calls (object store client, PDF parsing, file I/O) run in this many threads.
    # Python's default (cores + 4 = 6 here) queues a replica's in-flight uploads behind each other.
    thread_pool_size: int = Field(32, ge=1, le=512, description="Worker threads for blocking I/O")

    # Storage of rows
    database_url: str = "sqlite+aiosqlite:///./var/service.db"
    database_pool_size: int = 10
    sqlite_driver: SqliteDriver = Field(
        "loop",
        description="SQLite only: 'loop' calls SQLite on the event loop's thread (a few times less CPU per "
        "statement); 'thread' uses aiosqlite, which keeps a long statement off the loop",
    )
    auto_migrate: bool = Field(True, description="Run Alembic migrations at startup (embedded mode)")

    # Messaging
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str = ""
    nats_password: SecretStr = SecretStr("")
    nats_creds_file: Path | None = None
    outbox_batch_size: int = 500
    outbox_poll_interval_s: float = 0.2

    # Object storage: "local" or "s3"
    object_store: str = "local"
    object_store_dir: Path = Path("./var/objects")
    s3_endpoint: str = "127.0.0.1:9000"
    s3_public_endpoint: str = Field(
        "", description="Host:port browsers use for presigned URLs, if not s3_endpoint"
    )
    s3_access_key: str = "vanthu"
    s3_secret_key: SecretStr = SecretStr("vanthu-dev-secret")
    s3_bucket: str = "vanthu"
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    signed_url_secret: SecretStr = SecretStr("dev-signed-url-secret")
    signed_url_ttl_s: int = 300

    # Identity
    jwt_public_key_file: Path | None = None
    jwks_url: str = ""
    jwt_issuer: str = "vanthu-dev"
    jwt_audience: str = "vanthu"
    jwt_private_key_file: Path | None = Field(None, description="Only for the built-in development issuer")
    province_agency: str = Field(
        "",
        description="Identifier code of the province's root agency (UBND tỉnh, e.g. 000.00.00.H99): its "
        "administrators may trigger province-wide operations over HTTP. Empty: nobody may (use the CLI).",
    )

    # Observability
    log_level: str = "INFO"
    log_json: bool = True
    otel_exporter: str = Field(
        "none", description="none | otlp | console | jsonl:<path> (jsonl is for tests and debugging)"
    )
    otel_endpoint: str = Field("", description="OTLP/HTTP endpoint, e.g. http://otel-collector:4318")
    otel_sample_ratio: float = 1.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        platform_env = EnvSettingsSource(settings_cls, env_prefix="VANTHU_", env_nested_delimiter="__")
        return init_settings, env_settings, platform_env, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> ServiceSettings:
        if self.env is not Environment.PRODUCTION:
            return self
        problems = self.production_problems()
        if problems:
            raise ValueError(
                "refusing to start with development settings in production: " + "; ".join(problems)
            )
        return self

    def production_problems(self) -> list[str]:
        """What would be unsafe in production. Subclasses extend this with their own secrets."""
        problems: list[str] = []
        if self.database_url.startswith("sqlite"):
            problems.append("database_url points at SQLite; use PostgreSQL")
        if self.jwt_private_key_file is not None:
            problems.append("the development token issuer is enabled (jwt_private_key_file)")
        if self.jwt_public_key_file is None and not self.jwks_url:
            problems.append("no token verification keys (jwks_url or jwt_public_key_file)")
        if _looks_dev(self.signed_url_secret.get_secret_value()):
            problems.append("signed_url_secret is a development value")
        if self.object_store == "s3" and (
            self.s3_access_key in DEV_OBJECT_STORE_KEYS
            or self.s3_secret_key.get_secret_value() in DEV_OBJECT_STORE_KEYS
            or _looks_dev(self.s3_secret_key.get_secret_value())
        ):
            problems.append("S3 credentials are development values")
        if self.nats_password.get_secret_value() and _looks_dev(self.nats_password.get_secret_value()):
            problems.append("nats_password is a development value")
        return problems

    @property
    def instance_name(self) -> str:
        if self.instance:
            return self.instance
        import os
        import socket

        return f"{socket.gethostname()}-{os.getpid()}"

    def safe_dict(self) -> dict[str, Any]:
        """Settings for logs and `vanthu status`: secrets masked by pydantic's SecretStr."""
        return self.model_dump(mode="json")


def _looks_dev(value: str) -> bool:
    lowered = value.lower()
    return not value or any(marker in lowered for marker in DEV_SECRET_MARKERS)
