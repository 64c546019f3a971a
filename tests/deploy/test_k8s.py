"""deploy/k8s: rendered, validated against the Kubernetes schemas, and read for what matters.

The overlay is rendered by :mod:`kustomizelite` (compared with ``kubectl kustomize`` where
kubectl is installed) and every manifest is validated offline, strictly (no unknown field),
against the JSON schemas ``kubernetes-validate`` ships. The migration gate the API pods run
before starting is executed for real on a database before and after the migrations.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kustomizelite import Manifest, UnsupportedError, pod_spec, render
from prometheus_client.exposition import generate_latest

from realty.services.metrics import Metrics
from realty.settings import Settings, env_name
from realty.store.engine import upgrade
from realty_ui.settings import UiSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE, PRODUCTION = K8S / "base", K8S / "overlays" / "production"
# The oldest Kubernetes minor still offered by the big managed services, and the newest schemas.
VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


def by_kind(manifests: list[Manifest]) -> dict[tuple[str, str], Manifest]:
    return {(m["kind"], m["metadata"]["name"]): m for m in manifests}


RENDERED = {name: by_kind(render(path)) for name, path in (("base", BASE), ("prod", PRODUCTION))}
PROD = RENDERED["prod"]


def container(manifest: Manifest, name: str, init: bool = False) -> dict[str, Any]:
    spec = pod_spec(manifest)
    assert spec is not None
    (found,) = [c for c in spec["initContainers" if init else "containers"] if c["name"] == name]
    return found


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) not here")
@pytest.mark.parametrize("path", [BASE, PRODUCTION], ids=["base", "production"])
def test_the_python_rendering_is_kustomize_s(path: Path) -> None:
    out = subprocess.run(
        ["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert by_kind(list(yaml.safe_load_all(out))) == by_kind(render(path))


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "resources: []\nconfigMapGenerator: [{name: x, literals: [A=b]}]\n", "utf-8"
    )
    with pytest.raises(UnsupportedError, match="configMapGenerator"):
        render(tmp_path)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", ["base", "prod"])
def test_every_manifest_is_valid_kubernetes(overlay: str, version: str) -> None:
    manifests = RENDERED[overlay]
    assert {kind for kind, _ in manifests} == {
        "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler",
        "PodDisruptionBudget", "Job",
    }  # fmt: skip
    for manifest in manifests.values():
        kubernetes_validate.validate(manifest, version, strict=True)


def test_the_schema_validation_can_fail() -> None:
    broken = yaml.safe_load((BASE / "api-pdb.yaml").read_text("utf-8"))
    broken["spec"]["minAvailible"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def _http_probe(probe: dict[str, Any], ports: dict[str, int]) -> tuple[str, int]:
    return probe["httpGet"]["path"], ports[probe["httpGet"]["port"]]


def test_the_api_probes_readiness_liveness_and_start_up() -> None:
    api = container(PROD[("Deployment", "realty-api")], "api")
    ports = {p["name"]: p["containerPort"] for p in api["ports"]}
    assert _http_probe(api["readinessProbe"], ports) == ("/readyz", 8000)
    assert _http_probe(api["livenessProbe"], ports) == ("/healthz", 8000)
    assert _http_probe(api["startupProbe"], ports) == ("/healthz", 8000)
    startup = api["startupProbe"]
    # The model's load (about 5 s) fits many times in the start-up allowance.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def test_the_app_probes_streamlit_s_health() -> None:
    app = container(PROD[("Deployment", "realty-app")], "app")
    ports = {p["name"]: p["containerPort"] for p in app["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        assert _http_probe(app[probe], ports) == ("/_stcore/health", 8501)
    assert app["command"] == ["realty", "ui"]
    # The app talks to the API through its Service.
    config = PROD[("ConfigMap", "realty-config")]["data"]
    service = PROD[("Service", "realty-api")]["spec"]
    assert config["REALTY_UI_API_URL"] == f"http://realty-api:{service['ports'][0]['port']}"


def test_services_select_the_pods_of_their_deployment() -> None:
    for name in ("realty-api", "realty-app"):
        pods = PROD[("Deployment", name)]["spec"]["template"]["metadata"]["labels"]
        selector = PROD[("Service", name)]["spec"]["selector"]
        assert selector.items() <= pods.items()
        target = PROD[("Service", name)]["spec"]["ports"][0]["targetPort"]
        short = name.removeprefix("realty-")
        assert target in {p["name"] for p in container(PROD[("Deployment", name)], short)["ports"]}


def test_the_hpa_scales_the_api_on_cpu_and_on_request_rate() -> None:
    hpa = PROD[("HorizontalPodAutoscaler", "realty-api")]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "realty-api",
    }
    metrics = {m["type"]: m for m in hpa["metrics"]}
    assert metrics["Resource"]["resource"]["name"] == "cpu"
    assert metrics["Resource"]["resource"]["target"]["type"] == "Utilization"
    pods = metrics["Pods"]["pods"]
    assert pods["metric"]["name"] == "realty_http_requests_per_second"
    assert pods["target"]["type"] == "AverageValue"
    replicas = PROD[("Deployment", "realty-api")]["spec"]["replicas"]
    assert hpa["minReplicas"] == replicas == 3
    assert hpa["maxReplicas"] > hpa["minReplicas"]


def test_the_request_rate_metric_comes_from_a_counter_the_api_exports() -> None:
    rules = yaml.safe_load((K8S / "prometheus-adapter-rules.yaml").read_text("utf-8"))
    (rule,) = rules["rules"]["custom"]
    hpa = PROD[("HorizontalPodAutoscaler", "realty-api")]["spec"]
    (pods,) = [m["pods"] for m in hpa["metrics"] if m["type"] == "Pods"]
    assert rule["name"]["as"] == pods["metric"]["name"]
    series = rule["seriesQuery"].split("{")[0].strip("'")
    metrics = Metrics()
    metrics.requests.labels("GET", "/v1/conversations/{id}", "200").inc()
    assert f"\n{series}{{" in generate_latest(metrics.registry).decode()
    annotations = PROD[("Deployment", "realty-api")]["spec"]["template"]["metadata"]["annotations"]
    api = container(PROD[("Deployment", "realty-api")], "api")
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) == api["ports"][0]["containerPort"]


def test_disruption_budgets_keep_pods_up_and_still_allow_a_drain() -> None:
    for name in ("realty-api", "realty-app"):
        pdb = PROD[("PodDisruptionBudget", name)]["spec"]
        pods = PROD[("Deployment", name)]["spec"]["template"]["metadata"]["labels"]
        assert pdb["selector"]["matchLabels"].items() <= pods.items()
        replicas = PROD[("Deployment", name)]["spec"]["replicas"]
        assert 1 <= pdb["minAvailable"] < replicas
    rollout = PROD[("Deployment", "realty-api")]["spec"]["strategy"]["rollingUpdate"]
    assert rollout["maxUnavailable"] == 0


def test_the_migration_job_runs_alembic_with_the_api_s_image_before_the_rollout() -> None:
    job = PROD[("Job", "realty-migrate")]
    api = PROD[("Deployment", "realty-api")]
    migrate = container(job, "migrate")
    assert migrate["command"] == ["realty", "db", "upgrade"]
    assert migrate["image"] == container(api, "api")["image"] == "ghcr.io/example/realty-api:1.0.0"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    # The pods wait for the Job's work before the API container starts.
    gate = container(api, "schema", init=True)
    assert gate["image"] == migrate["image"]
    assert PROD[("ConfigMap", "realty-config")]["data"]["REALTY_DB_AUTO_MIGRATE"] == "false"


def _run_gate(database: Path, seconds: str) -> subprocess.CompletedProcess[str]:
    gate = container(PROD[("Deployment", "realty-api")], "schema", init=True)
    assert gate["command"][:2] == ["python", "-c"]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env["REALTY_DATA_DIR"] = str(database.parent)
    return subprocess.run(
        [sys.executable, "-c", gate["command"][2], seconds],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_schema_gate_holds_a_pod_until_the_migrations_ran(tmp_path: Path) -> None:
    database = tmp_path / "realty.db"
    before = _run_gate(database, "1")
    assert before.returncode != 0
    assert "run the migration Job" in before.stderr
    upgrade(f"sqlite:///{database}")
    after = _run_gate(database, "1")
    assert after.returncode == 0, after.stderr
    assert "schema at" in after.stdout


def test_the_schema_gate_lets_a_pod_start_on_a_later_release_s_schema(tmp_path: Path) -> None:
    # Expand/contract: the previous release keeps running (and restarting) on the new schema.
    import sqlite3

    database = tmp_path / "realty.db"
    upgrade(f"sqlite:///{database}")
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00d_next_release'")
    connection.close()
    assert _run_gate(database, "1").returncode == 0


def test_keys_and_the_database_url_come_from_the_secret_only() -> None:
    assert not [key for key in PROD if key[0] == "Secret"]
    for kind, name, cname, init in (
        ("Job", "realty-migrate", "migrate", False),
        ("Deployment", "realty-api", "schema", True),
        ("Deployment", "realty-api", "api", False),
    ):
        env = {e["name"]: e for e in container(PROD[(kind, name)], cname, init).get("env", [])}
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "realty-secrets",
            "key": "DATABASE_URL",
        }
    api = container(PROD[("Deployment", "realty-api")], "api")
    assert {"secretRef": {"name": "realty-secrets"}} in api["envFrom"]
    app = container(PROD[("Deployment", "realty-app")], "app")
    assert all("secretRef" not in source for source in app["envFrom"])


def test_the_config_map_holds_known_settings_and_nothing_secret() -> None:
    known = {env_name(field) for field in Settings.model_fields}
    known |= {f"REALTY_UI_{field.upper()}" for field in UiSettings.model_fields}
    data = PROD[("ConfigMap", "realty-config")]["data"]
    assert set(data) <= known
    secret = {"DATABASE_URL", "REDIS_URL"} | {
        env_name(f) for f, info in Settings.model_fields.items() if "SecretStr" in str(info)
    }
    assert "REALTY_STAFF_API_KEY" in secret
    assert not set(data) & secret
    # The ConfigMap's values are valid settings.
    Settings(**{k.removeprefix("REALTY_").lower(): v for k, v in data.items() if "_UI_" not in k})


def _quantity(value: str) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if value.endswith(suffix):
            return float(value.removesuffix(suffix)) * factor
    return float(value)


def test_every_container_has_requests_within_its_limits() -> None:
    for manifest in PROD.values():
        spec = pod_spec(manifest)
        if spec is None:
            continue
        for c in spec.get("initContainers", []) + spec["containers"]:
            resources = c["resources"]
            for kind in ("cpu", "memory"):
                request = _quantity(resources["requests"][kind])
                assert 0 < request <= _quantity(resources["limits"][kind])
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True


def test_the_api_has_room_for_the_model_and_its_threads() -> None:
    api = container(PROD[("Deployment", "realty-api")], "api")["resources"]
    config = PROD[("ConfigMap", "realty-config")]["data"]
    # docs/llm.md: the loaded model takes about 2 GB; llama.cpp runs REALTY_LLM_THREADS threads.
    assert _quantity(api["requests"]["memory"]) >= 2 * 2**30
    assert _quantity(api["limits"]["cpu"]) == int(config["REALTY_LLM_THREADS"])
    assert config["REALTY_WORKERS"] == "1"


def test_production_runs_tagged_images_in_its_own_namespace() -> None:
    assert {m["metadata"].get("namespace") for m in PROD.values()} == {"realty"}
    images = {
        c["image"]
        for m in PROD.values()
        if (spec := pod_spec(m)) is not None
        for c in spec.get("initContainers", []) + spec["containers"]
    }
    assert images == {"ghcr.io/example/realty-api:1.0.0", "ghcr.io/example/realty-app:1.0.0"}
    base = RENDERED["base"]
    assert "namespace" not in base[("Deployment", "realty-api")]["metadata"]


def _selects(selector: str, labels: dict[str, str]) -> bool:
    """A label selector of ``key=value`` and ``key notin (a,b)`` terms (what the docs use)."""
    for term in re.split(r",(?![^(]*\))", selector):
        if match := re.fullmatch(r"\s*([\w./-]+)\s+notin\s+\(([^)]*)\)\s*", term):
            if labels.get(match[1]) in {v.strip() for v in match[2].split(",")}:
                return False
        else:
            key, value = term.split("=")
            if labels.get(key.strip()) != value.strip():
                return False
    return True


def test_the_documented_first_apply_selects_the_config_and_the_job_only() -> None:
    docs = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    (selector,) = re.findall(r"apply -k deploy/k8s/overlays/production \\\n\s+-l '([^']+)'", docs)
    chosen = {key for key, m in PROD.items() if _selects(selector, m["metadata"]["labels"])}
    assert chosen == {("ConfigMap", "realty-config"), ("Job", "realty-migrate")}
    assert not _selects(selector, {"app.kubernetes.io/name": "other"})
