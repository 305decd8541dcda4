"""Paths and small helpers shared by the deployment checks (imported by the test modules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = ROOT / "deploy" / "docker"
CHART_DIR = ROOT / "deploy" / "helm" / "vanthu"
COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = ("registry", "routing", "signing", "interop", "analytics")
DEFAULT_PORTS = {"registry": 8101, "routing": 8102, "signing": 8103, "interop": 8104, "analytics": 8105}


def load_yaml_documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def settings_class(service: str) -> type:
    """The service's settings class (the ServiceSettings subclass its settings module defines)."""
    import importlib

    from vanthu_runtime.settings import ServiceSettings

    module = importlib.import_module(f"vanthu_{service}.settings")
    found = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, ServiceSettings) and obj.__module__ == module.__name__
    ]
    assert len(found) == 1, f"vanthu_{service}.settings should define one settings class, found {found}"
    return found[0]


def known_env_names(service: str) -> set[str]:
    """Env vars the service's settings read: VANTHU_<SVC>_<FIELD> and the platform-wide VANTHU_<FIELD>."""
    fields = settings_class(service).model_fields
    prefix = f"VANTHU_{service.upper()}_"
    return {prefix + name.upper() for name in fields} | {"VANTHU_" + name.upper() for name in fields}
