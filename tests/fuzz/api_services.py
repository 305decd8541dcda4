"""The five services as ASGI apps on PostgreSQL and the session's nats-server, for schemathesis.

Each gets a fresh database and a local object store, as its own tests run it; all of them
trust the development issuer whose key pair the fuzz session made, so one token from the
registry's POST /auth/dev-token opens every API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vanthu_contracts.events.common import Role

AGENCY = "000.00.00.H99"  # the province's root agency: its administrator may do everything
ALL_ROLES = [str(role) for role in Role]


@dataclass(frozen=True)
class Keys:
    private_key: Path
    public_key: Path


def _common(tmp: Path, database_url: str, nats_url: str, keys: Keys) -> dict[str, Any]:
    """Settings every service takes the same way."""
    return {
        "database_url": database_url, "nats_url": nats_url, "jwt_public_key_file": keys.public_key,
        "object_store_dir": tmp / "objects", "log_json": False, "log_level": "CRITICAL", "province_agency": AGENCY,
    }  # fmt: skip


def registry(tmp: Path, database_url: str, nats_url: str, keys: Keys) -> Any:
    from vanthu_registry.app import create_app
    from vanthu_registry.settings import RegistrySettings

    return create_app(RegistrySettings(
        **_common(tmp, database_url, nats_url, keys), object_store="local", jwt_private_key_file=keys.private_key,
        text_index_interval_s=0.5, public_url="http://testserver", seed_demo=True,
    ))  # fmt: skip


def routing(tmp: Path, database_url: str, nats_url: str, keys: Keys) -> Any:
    from vanthu_routing.app import create_app
    from vanthu_routing.settings import RoutingSettings

    return create_app(RoutingSettings(**_common(tmp, database_url, nats_url, keys), reminder_interval_s=0))


def signing(tmp: Path, database_url: str, nats_url: str, keys: Keys) -> Any:
    from vanthu_signing.app import create_app
    from vanthu_signing.settings import SigningSettings

    settings = SigningSettings(
        **_common(tmp, database_url, nats_url, keys), worker_instances=0, token_poll_wait_s=0.2
    )
    return create_app(settings)


def interop(tmp: Path, database_url: str, nats_url: str, keys: Keys) -> Any:
    from vanthu_interop.app import create_app
    from vanthu_interop.settings import InteropSettings, OwnAgency

    hosted = [OwnAgency(code=AGENCY, name="Ủy ban nhân dân tỉnh H99")]
    return create_app(InteropSettings(**_common(tmp, database_url, nats_url, keys), agencies=hosted))


def analytics(tmp: Path, database_url: str, nats_url: str, keys: Keys) -> Any:
    from vanthu_analytics.app import create_app
    from vanthu_analytics.settings import AnalyticsSettings

    return create_app(AnalyticsSettings(**_common(tmp, database_url, nats_url, keys)))


SERVICES: dict[str, Callable[[Path, str, str, Keys], Any]] = {
    "registry": registry,
    "routing": routing,
    "signing": signing,
    "interop": interop,
    "analytics": analytics,
}
