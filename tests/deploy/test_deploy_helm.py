"""deploy/helm/vanthu: lints in strict mode, renders with the default and the production values,
and every rendered object validates against the Kubernetes schemas (kubernetes-validate, offline)
or, for the KEDA and Prometheus Operator kinds it has no schema for, against the subsets in
crd_schemas/. Then what the chart promises: per-service scaling, hooks, secrets by reference,
and env that the services' settings accept in production.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from deploy_support import (
    CHART_DIR,
    DEFAULT_PORTS,
    ROOT,
    SERVICES,
    known_env_names,
    load_yaml_documents,
    settings_class,
)

KUBE_VERSION = "1.30.0"
CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh-v1alpha1-scaledobject.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com-v1-servicemonitor.json",
}
VALUE_SETS = ("default", "production")
RELEASE, NAMESPACE = "vanthu", "vanthu"


def values_of(helm: Any, value_set: str) -> dict[str, Any] | None:
    if value_set == "default":
        return None
    return helm.values_from_yaml((CHART_DIR / f"values-{value_set}.yaml").read_text())


def render(helm: Any, values: dict[str, Any] | None) -> list[dict[str, Any]]:
    with helm.Chart.load(str(CHART_DIR)) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    documents = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        documents.extend(load_yaml_documents(text))
    return documents


@pytest.fixture(scope="module", params=VALUE_SETS)
def rendered(request: pytest.FixtureRequest, helm: Any) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(helm, values_of(helm, request.param))


@pytest.fixture(scope="module")
def production(helm: Any) -> list[dict[str, Any]]:
    return render(helm, values_of(helm, "production"))


def of_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def component(document: dict[str, Any]) -> str:
    return document["metadata"]["labels"]["app.kubernetes.io/component"]


# ------------------------------------------------------------------ lint, render, schemas


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_chart_lints_in_strict_mode(helm: Any, value_set: str) -> None:
    report = helm.lint(
        str(CHART_DIR),
        values_of(helm, value_set),
        strict=True,
        namespace=NAMESPACE,
        kube_version=f"v{KUBE_VERSION}",
    )
    assert report["total_charts_linted"] == 1
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_strict_lint_reports_a_broken_chart(helm: Any, tmp_path: Path) -> None:
    # What the check above relies on: a template error is reported, not swallowed.
    chart = tmp_path / "broken"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 0.1.0\n")
    (chart / "templates").mkdir()
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.x.y }\n"
    )
    report = helm.lint(str(chart), strict=True)
    assert report["errors"]


def test_values_schema_refuses_typos_and_wrong_types(helm: Any) -> None:
    with helm.Chart.load(str(CHART_DIR)) as chart:
        with pytest.raises(helm.HelmValuesError, match="servces"):
            chart.render({"servces": {}}, name=RELEASE)
        with pytest.raises(helm.HelmValuesError, match="lagThreshold"):
            chart.render({"services": {"signing": {"keda": {"lagThreshold": 20}}}}, name=RELEASE)


def validate(document: dict[str, Any]) -> None:
    key = (document["apiVersion"], document["kind"])
    if key in CRD_SCHEMAS:
        schema = json.loads((Path(__file__).parent / "crd_schemas" / CRD_SCHEMAS[key]).read_text())
        jsonschema.Draft202012Validator(schema).validate(document)
    else:
        kubernetes_validate.validate(document, KUBE_VERSION, strict=True)


def test_every_rendered_object_validates(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    value_set, documents = rendered
    problems = []
    for document in documents:
        name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
        try:
            validate(document)
        except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as exc:
            problems.append(f"{name}: {exc.message} at {list(exc.absolute_path)}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{name}: no schema to check it against ({exc.message})")
    assert not problems, f"{value_set} values:\n" + "\n".join(problems)
    assert len(documents) > 20


def test_validators_reject_broken_objects(production: list[dict[str, Any]]) -> None:
    deployment = json.loads(json.dumps(next(iter(of_kind(production, "Deployment").values()))))
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    scaled = json.loads(json.dumps(next(iter(of_kind(production, "ScaledObject").values()))))
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 20
    with pytest.raises(jsonschema.ValidationError):
        validate(scaled)
    monitor = json.loads(json.dumps(next(iter(of_kind(production, "ServiceMonitor").values()))))
    monitor["spec"]["endpoints"][0]["intervall"] = "30s"
    with pytest.raises(jsonschema.ValidationError):
        validate(monitor)


# ------------------------------------------------------------------ what the chart promises


def test_one_deployment_service_and_pdb_per_service(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, documents = rendered
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"):
        per_component = {
            component(d)
            for d in of_kind(documents, kind).values()
            if "app.kubernetes.io/component" in d["metadata"]["labels"]
        }
        assert set(SERVICES) <= per_component, kind
    for deployment in of_kind(documents, "Deployment").values():
        name = component(deployment)
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["ports"] == [
            {"name": "http", "containerPort": DEFAULT_PORTS[name], "protocol": "TCP"}
        ]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["image"].split("/")[-1].startswith(f"{name}:")


def test_production_scales_signing_and_interop_on_queue_lag_and_the_rest_on_cpu(
    production: list[dict[str, Any]],
) -> None:
    from vanthu_contracts.streams import STREAMS, consumers

    scaled = {component(d): d for d in of_kind(production, "ScaledObject").values()}
    hpas = {component(d): d for d in of_kind(production, "HorizontalPodAutoscaler").values()}
    assert set(scaled) == {"signing", "interop"}
    assert set(hpas) == {"registry", "routing"}, "KEDA makes its own HPA: never two on one Deployment"
    deployments = {component(d): d for d in of_kind(production, "Deployment").values()}
    for name, deployment in deployments.items():
        autoscaled = name in scaled or name in hpas
        assert ("replicas" in deployment["spec"]) is not autoscaled, f"{name}: replicas vs autoscaler"
    stream_names = {s.name for s in STREAMS}
    declared = consumers()
    for name, obj in scaled.items():
        assert obj["spec"]["scaleTargetRef"]["name"] == deployments[name]["metadata"]["name"]
        [trigger] = obj["spec"]["triggers"]
        assert trigger["type"] == "nats-jetstream"
        meta = trigger["metadata"]
        assert meta["stream"] in stream_names
        on_stream = {c.durable for c in declared if c.stream == meta["stream"] and c.service == name}
        # The durable must be one the contracts declare on that stream, once the service declares it.
        if on_stream:
            assert meta["consumer"] in on_stream, f"{name}: {meta['consumer']} not in {on_stream}"
        assert meta["consumer"].startswith(f"{name}_")


def test_migrations_and_provisioning_run_as_a_pre_install_and_pre_upgrade_hook(
    production: list[dict[str, Any]],
) -> None:
    [job] = of_kind(production, "Job").values()
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    pod = job["spec"]["template"]["spec"]
    [migrate] = pod["initContainers"]
    [provision] = pod["containers"]
    assert migrate["command"] == ["vanthu-migrate", "--wait", "120"]
    assert migrate["args"] == sorted(SERVICES)
    urls = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in migrate["env"]
        if e["name"].endswith("_DATABASE_URL")
    }
    assert set(urls) == {f"VANTHU_{s.upper()}_DATABASE_URL" for s in SERVICES}
    assert provision["command"][:2] == ["vanthu", "provision"]
    assert any(e["name"] == "VANTHU_NATS_URL" for e in provision["env"])
    assert migrate["image"].endswith("/vanthu/tools:0.1.0") and provision["image"] == migrate["image"]
    # Services do not migrate at start-up when the Job does.
    for deployment in of_kind(production, "Deployment").values():
        env = {
            e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env["VANTHU_AUTO_MIGRATE"] == "false"


def test_without_the_job_services_migrate_themselves(helm: Any) -> None:
    documents = render(helm, {"migrations": {"enabled": False}, "provisioning": {"enabled": False}})
    assert not of_kind(documents, "Job")
    for deployment in of_kind(documents, "Deployment").values():
        env = {
            e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env["VANTHU_AUTO_MIGRATE"] == "true"


def test_helm_test_runs_the_smoke_command_against_every_service(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, documents = rendered
    [pod] = [
        d
        for d in of_kind(documents, "Pod").values()
        if d["metadata"]["annotations"].get("helm.sh/hook") == "test"
    ]
    [container] = pod["spec"]["containers"]
    assert container["command"] == ["vanthu-smoke", "--wait", "60"]
    assert container["args"] == [arg for s in sorted(SERVICES) for arg in ("--service", s)]
    env = {e["name"]: e.get("value") for e in container["env"]}
    services = {component(d): d["metadata"]["name"] for d in of_kind(documents, "Service").values()}
    for name in SERVICES:
        assert env[f"VANTHU_{name.upper()}_URL"] == f"http://{services[name]}:{DEFAULT_PORTS[name]}"


def test_the_test_command_is_a_value(helm: Any) -> None:
    documents = render(helm, {"tests": {"command": ["vanthu", "demo", "journey"], "passServices": False}})
    [pod] = of_kind(documents, "Pod").values()
    [container] = pod["spec"]["containers"]
    assert container["command"] == ["vanthu", "demo", "journey"] and "args" not in container


def test_a_cron_job_checks_the_audit_log_against_its_anchors(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, documents = rendered
    [cron] = of_kind(documents, "CronJob").values()
    assert component(cron) == "audit-verify" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    job = cron["spec"]["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0  # a failure stays failed: it is the alert
    [container] = job["template"]["spec"]["containers"]
    assert container["command"] == ["vanthu", "audit", "verify", "--anchors", "nats"]
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["VANTHU_REGISTRY_DATABASE_URL"]["valueFrom"]
    assert "VANTHU_NATS_URL" in env


def test_the_audit_cron_job_goes_with_the_registry(helm: Any) -> None:
    assert not of_kind(render(helm, {"auditVerify": {"enabled": False}}), "CronJob")
    assert not of_kind(render(helm, {"services": {"registry": {"enabled": False}}}), "CronJob")


def test_secrets_are_only_referenced_never_rendered(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    value_set, documents = rendered
    assert not of_kind(documents, "Secret"), "the chart must not carry secret values"
    referenced = _referenced_secrets(documents)
    # Every Secret the chart expects is documented for the operator, with its keys.
    guide = (ROOT / "docs" / "operations.md").read_text()
    for name, keys in referenced.items():
        assert f"`{name}`" in guide, f"{value_set}: Secret {name} is not in docs/operations.md"
        for key in keys:
            assert f"`{key}`" in guide, (
                f"{value_set}: key {key} of Secret {name} is not in docs/operations.md"
            )


def _referenced_secrets(documents: list[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("secretKeyRef")
            if isinstance(ref, dict):
                found.setdefault(ref["name"], set()).add(ref["key"])
            if "secretName" in node and isinstance(node["secretName"], str) and "secret" in str(node.keys()):
                found.setdefault(node["secretName"], set())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for document in documents:
        walk(document)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_rendered_env_is_accepted_by_the_service_in_production(
    service: str, production: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    [deployment] = [d for d in of_kind(production, "Deployment").values() if component(d) == service]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    passthrough = _passthrough_env_names(service)
    generated = [e["name"] for e in container["env"] if e["name"] not in passthrough]
    unknown = sorted(n for n in generated if n.startswith("VANTHU_") and n not in known_env_names(service))
    assert not unknown, f"{service}: the chart sets env vars no setting reads: {unknown}"
    # The operator's plain env in the shipped values must name real settings as well (secretEnv
    # may name a variable a signer profile reads, e.g. the HSM PIN, so it is not checked).
    operator_env = [e["name"] for e in container["env"] if e["name"] in _operator_plain_env_names(service)]
    misspelt = sorted(
        n
        for n in operator_env
        if n.startswith(f"VANTHU_{service.upper()}_") and n not in known_env_names(service)
    )
    assert not misspelt, f"{service}: values set env vars no setting reads: {misspelt}"
    # Start the service's settings from exactly this env, with production-grade secret values.
    for key in [k for k in os.environ if k.startswith("VANTHU_")]:
        monkeypatch.delenv(key)
    for entry in container["env"]:
        if "value" in entry:
            value = entry["value"]
        elif "secretKeyRef" in entry.get("valueFrom", {}):
            value = _production_secret(service, entry["valueFrom"]["secretKeyRef"])
        else:
            value = f"{deployment['metadata']['name']}-5d9c7b-abcde"  # the pod name (fieldRef)
        monkeypatch.setenv(entry["name"], value)
    settings = settings_class(service)()  # raises on development secrets in production
    assert settings.env.value == "production"
    assert settings.port == DEFAULT_PORTS[service] and settings.host == "0.0.0.0"
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.auto_migrate is False
    assert settings.nats_creds_file is not None and str(settings.nats_creds_file).startswith(
        "/var/run/secrets/"
    )
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert str(settings.nats_creds_file.parent) in mounts
    assert settings.production_problems() == []


def _passthrough_env_names(service: str) -> set[str]:
    """Env names the operator chooses in values (services.<name>.env / secretEnv): not the chart's."""
    return _values_env_names(service, ("env", "secretEnv"))


def _operator_plain_env_names(service: str) -> set[str]:
    return _values_env_names(service, ("env",))


def _values_env_names(service: str, sections: tuple[str, ...]) -> set[str]:
    import yaml

    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    production = yaml.safe_load((CHART_DIR / "values-production.yaml").read_text())
    names: set[str] = set()
    for source in (values, production):
        own = source.get("services", {}).get(service, {})
        for section in sections:
            names |= set(own.get(section, {}))
    return names


def _production_secret(service: str, ref: dict[str, str]) -> str:
    if ref["key"].endswith("-url") and ref["name"] == "vanthu-database":
        return f"postgresql+asyncpg://vanthu_{service}:Xk29-q7Lm@postgres.db.svc:5432/vanthu_{service}"
    import hashlib

    # Random-looking, as a real one is (the settings refuse values that look like development ones).
    return "Pk" + hashlib.sha256(f"{ref['name']}/{ref['key']}".encode()).hexdigest()[:30]


def test_ingress_gives_each_rest_api_its_own_host(production: list[dict[str, Any]]) -> None:
    ingresses = {component(d): d for d in of_kind(production, "Ingress").values()}
    assert set(ingresses) == set(SERVICES)
    services = {component(d): d["metadata"]["name"] for d in of_kind(production, "Service").values()}
    hosts = set()
    for name, ingress in ingresses.items():
        [rule] = ingress["spec"]["rules"]
        hosts.add(rule["host"])
        assert rule["host"] == f"{name}.vanthu.example.gov.vn"
        [path] = rule["http"]["paths"]
        assert path["backend"]["service"] == {"name": services[name], "port": {"name": "http"}}
        assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]
    assert len(hosts) == len(SERVICES)


def test_network_policies_open_each_port_to_the_release_ingress_and_monitoring(
    production: list[dict[str, Any]],
) -> None:
    policies = of_kind(production, "NetworkPolicy")
    per_service = [
        p for p in policies.values() if p["metadata"]["labels"].get("app.kubernetes.io/component") in SERVICES
    ]
    assert len(per_service) == len(SERVICES)
    for policy in per_service:
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        [rule] = policy["spec"]["ingress"]
        assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
        assert len(rule["from"]) == 3
    [egress] = [p for p in policies.values() if p["spec"]["policyTypes"] == ["Egress"]]
    ports = {port["port"] for rule in egress["spec"]["egress"] for port in rule.get("ports", [])}
    assert {53, 4222, 5432, 9000, 4318, 443} <= ports


def test_service_monitor_scrapes_the_metrics_port_of_every_service(production: list[dict[str, Any]]) -> None:
    [monitor] = of_kind(production, "ServiceMonitor").values()
    selector = monitor["spec"]["selector"]["matchLabels"]
    for service in of_kind(production, "Service").values():
        assert selector.items() <= service["metadata"]["labels"].items()
        assert [p["name"] for p in service["spec"]["ports"]] == ["http"]
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def test_softhsm_tokens_are_unpacked_per_pod(helm: Any) -> None:
    documents = render(
        helm,
        {"services": {"signing": {"softhsm": {"enabled": True, "tokensSecret": {"name": "vanthu-softhsm"}}}}},
    )
    [signing] = [d for d in of_kind(documents, "Deployment").values() if component(d) == "signing"]
    pod = signing["spec"]["template"]["spec"]
    [init] = pod["initContainers"]
    assert init["command"][:2] == ["tar", "-xzf"] and init["command"][-1] == "/var/lib/vanthu/softhsm/tokens"
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["softhsm-tokens"] == "/var/lib/vanthu/softhsm/tokens"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["softhsm-archive"]["secret"]["secretName"] == "vanthu-softhsm"
    assert "emptyDir" in volumes["softhsm-tokens"]
