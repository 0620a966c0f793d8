"""US-006 (autoscaling, graceful shutdown) and the workloads, checked on the manifests."""

from __future__ import annotations

import re

import yaml

from conftest import K8S, TF, find, load_hcl, setting_exists, settings_fields


NAMESPACED = {"ConfigMap", "Secret", "ServiceAccount", "Deployment", "Service", "PodDisruptionBudget",
              "NetworkPolicy", "Ingress", "HorizontalPodAutoscaler"}
DEPLOYMENTS = ["ode-api", "ode-worker", "ode-viewer"]


def _container(dep):
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    return c


def _config(manifests):
    return find(manifests, "ConfigMap", "ode-config")["data"]


def test_the_five_manifests_and_the_kustomization_are_there():
    names = sorted(p.name for p in (K8S / "base").glob("*.yaml"))
    assert names == ["00-common.yaml", "01-api.yaml", "02-worker.yaml", "03-viewer-ingress.yaml",
                     "04-hpa.yaml", "kustomization.yaml"]
    kust = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    assert kust["resources"] == names[:5]


def test_everything_lives_in_the_ode_namespace(manifests):
    find(manifests, "Namespace", "ode")
    for d in manifests:
        if d["kind"] in NAMESPACED:
            assert d["metadata"].get("namespace") == "ode", f'{d["kind"]}/{d["metadata"]["name"]}'


# ------------------------------------------------------------------ US-006 AC1
def test_workers_scale_from_2_to_20_on_queue_depth_above_100(manifests):
    hpa = find(manifests, "HorizontalPodAutoscaler", "ode-worker")
    spec = hpa["spec"]
    assert spec["scaleTargetRef"]["name"] == "ode-worker"
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 20)
    (metric,) = spec["metrics"]
    assert metric["type"] == "External"
    assert metric["external"]["metric"]["name"] == "ode_queue_depth"
    target = metric["external"]["target"]
    assert target["type"] in ("AverageValue", "Value")
    assert int(target.get("averageValue", target.get("value"))) == 100


def test_prometheus_adapter_serves_the_metric_the_worker_hpa_reads(manifests):
    values = yaml.safe_load((K8S / "prometheus-adapter" / "values.yaml").read_text())
    (rule,) = values["rules"]["external"]
    assert "ode_queue_depth" in rule["seriesQuery"]
    assert 'service="ode-worker-metrics"' in rule["seriesQuery"]
    assert rule["name"]["as"] == "ode_queue_depth"
    assert "<<.Series>>" in rule["metricsQuery"]
    svc = find(manifests, "Service", "ode-worker-metrics")
    assert svc["metadata"]["annotations"]["prometheus.io/scrape"] == "true"


def test_both_hpas_wait_10_minutes_before_scaling_down(manifests):
    for name in ("ode-worker", "ode-api"):
        hpa = find(manifests, "HorizontalPodAutoscaler", name)
        assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 600, name


# ------------------------------------------------------------------ US-006 AC3
def test_the_api_scales_from_2_to_10_on_cpu_70_and_memory_80(manifests):
    spec = find(manifests, "HorizontalPodAutoscaler", "ode-api")["spec"]
    assert spec["scaleTargetRef"]["name"] == "ode-api"
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
    targets = {m["resource"]["name"]: m["resource"]["target"] for m in spec["metrics"]}
    assert targets["cpu"] == {"type": "Utilization", "averageUtilization": 70}
    assert targets["memory"] == {"type": "Utilization", "averageUtilization": 80}
    api = find(manifests, "Deployment", "ode-api")
    requests = _container(api)["resources"]["requests"]
    assert "cpu" in requests and "memory" in requests, "utilization needs requests"


# ------------------------------------------------------------------ US-006 AC2
def test_workers_get_120_seconds_to_finish_their_jobs(manifests):
    worker = find(manifests, "Deployment", "ode-worker")
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 120
    grace = int(_config(manifests)["ODE__WORKER__SHUTDOWN_GRACE_SECS"])
    assert grace < 120, "the worker must finish before Kubernetes sends SIGKILL"
    svc = find(manifests, "Service", "ode-worker-metrics")
    assert svc["spec"]["ports"][0]["port"] == 9090
    assert svc["spec"]["selector"] == worker["spec"]["selector"]["matchLabels"]
    assert _container(worker)["ports"][0]["containerPort"] == 9090


def test_the_api_drains_before_it_stops(manifests):
    api = find(manifests, "Deployment", "ode-api")
    pod = api["spec"]["template"]["spec"]
    sleep = _container(api)["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = int(_config(manifests)["ODE__API__SHUTDOWN_GRACE_SECS"])
    assert pod["terminationGracePeriodSeconds"] > sleep + grace


# ------------------------------------------------------------------ rollouts, probes, security
def test_rolling_updates_never_take_a_pod_away_first(manifests):
    for name in DEPLOYMENTS:
        strategy = find(manifests, "Deployment", name)["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0, name
        assert strategy["rollingUpdate"]["maxSurge"] >= 1, name


def test_probes_use_health_for_liveness_and_ready_for_readiness(manifests):
    api = _container(find(manifests, "Deployment", "ode-api"))
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    assert api["readinessProbe"]["httpGet"]["path"] == "/ready"
    viewer = _container(find(manifests, "Deployment", "ode-viewer"))
    assert viewer["livenessProbe"]["httpGet"]["path"] == "/health"
    assert viewer["readinessProbe"]["httpGet"]["path"] == "/ready"
    # The worker serves /health and /metrics only (on its metrics port).
    worker = _container(find(manifests, "Deployment", "ode-worker"))
    assert worker["livenessProbe"]["httpGet"] == {"path": "/health", "port": "metrics"}
    assert worker["readinessProbe"]["httpGet"]["path"] == "/health"


def test_containers_run_as_non_root_on_a_read_only_root_with_a_tmp_volume(manifests):
    for name in DEPLOYMENTS:
        dep = find(manifests, "Deployment", name)
        pod = dep["spec"]["template"]["spec"]
        c = _container(dep)
        sc = c["securityContext"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] >= 10000
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["capabilities"]["drop"] == ["ALL"], name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], name
        assert c["resources"]["requests"] and c["resources"]["limits"], name
        assert pod["automountServiceAccountToken"] is False


def test_every_deployment_has_a_disruption_budget_and_a_network_policy(manifests):
    pdbs = [d for d in manifests if d["kind"] == "PodDisruptionBudget"]
    policies = [d for d in manifests if d["kind"] == "NetworkPolicy"]
    deny = find(manifests, "NetworkPolicy", "default-deny-ingress")
    assert deny["spec"]["podSelector"] == {} and deny["spec"]["policyTypes"] == ["Ingress"]
    assert "ingress" not in deny["spec"]
    for name in DEPLOYMENTS:
        labels = find(manifests, "Deployment", name)["spec"]["selector"]["matchLabels"]
        assert any(p["spec"]["selector"]["matchLabels"] == labels and p["spec"]["minAvailable"] >= 1 for p in pdbs), name
        assert any(p["spec"]["podSelector"].get("matchLabels") == labels for p in policies), name


def test_the_alb_ingress_terminates_tls_with_acm_and_routes_two_hosts(manifests):
    ing = find(manifests, "Ingress", "ode")
    ann = ing["metadata"]["annotations"]
    assert ing["spec"]["ingressClassName"] == "alb"
    assert ann["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
    assert ann["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert ann["alb.ingress.kubernetes.io/target-type"] == "ip"
    routes = {r["host"]: r["http"]["paths"][0]["backend"]["service"]["name"] for r in ing["spec"]["rules"]}
    assert sorted(routes.values()) == ["ode-api", "ode-viewer"]
    assert len(set(routes)) == 2
    assert set(ing["spec"]["tls"][0]["hosts"]) == set(routes)
    for svc in routes.values():
        find(manifests, "Service", svc)


def test_the_viewer_and_the_api_name_each_others_ingress_hosts(manifests):
    """The browser loads the viewer from its host and calls the API on the other: the API
    admits exactly the viewer's origin (CORS), the viewer's config.json names the API's."""
    ing = find(manifests, "Ingress", "ode")
    hosts = {r["http"]["paths"][0]["backend"]["service"]["name"]: r["host"] for r in ing["spec"]["rules"]}
    tls_hosts = set(ing["spec"]["tls"][0]["hosts"])
    assert {hosts["ode-api"], hosts["ode-viewer"]} <= tls_hosts, "both origins are https"
    origins = [o.strip() for o in _config(manifests)["ODE__API__CORS_ORIGINS"].split(",")]
    assert origins == [f"https://{hosts['ode-viewer']}"]
    viewer = _container(find(manifests, "Deployment", "ode-viewer"))
    env = {e["name"]: e.get("value") for e in viewer.get("env", [])}
    assert env.get("ODE_VIEWER_API_URL") == f"https://{hosts['ode-api']}"
    # The viewer has its own pods here: the API serves no viewer.
    assert "ODE__API__VIEWER_DIR" not in _env_names(manifests)


def test_the_secret_is_a_template_that_apply_never_sends(manifests):
    secret = find(manifests, "Secret", "ode-secrets")
    for key, value in secret["stringData"].items():
        assert "REPLACE_ME" in value, f"{key} looks like a real secret"
    assert secret["stringData"]["ODE__QUEUE__URL"].startswith("rediss://:")
    assert secret["stringData"]["ODE__DATABASE__URL"].startswith("postgres://")
    kust = (K8S / "base" / "kustomization.yaml").read_text()
    assert "kind: Secret" in kust and "$patch: delete" in kust


# ------------------------------------------------------------------ configuration names
def _env_names(manifests):
    names = set(_config(manifests))
    names |= set(find(manifests, "Secret", "ode-secrets")["stringData"])
    for name in DEPLOYMENTS:
        for e in _container(find(manifests, "Deployment", name)).get("env", []):
            names.add(e["name"])
    return names


def test_config_rs_is_parsed():
    structs = settings_fields()
    assert {"database", "queue", "blobs", "api", "worker"} <= set(structs["Settings"])
    assert "documents_bucket" in structs["S3Settings"]


def test_every_setting_name_is_one_the_binaries_read(manifests):
    names = _env_names(manifests)
    ode = sorted(n for n in names if n.startswith("ODE__"))
    assert ode, "no ODE__ settings"
    unknown = [n for n in ode if not setting_exists(n)]
    assert not unknown, f"not fields of ode_sdk::config::Settings: {unknown}"
    assert not setting_exists("ODE__QUEUE__URLS") and not setting_exists("ODE__BLOBS__S3")


def test_the_production_settings_are_all_given(manifests):
    names = _env_names(manifests)
    required = {
        "ODE__DATABASE__URL", "ODE__QUEUE__URL", "ODE__QUEUE__NAMESPACE", "ODE__BLOBS__BACKEND",
        "ODE__BLOBS__S3__REGION", "ODE__BLOBS__S3__DOCUMENTS_BUCKET", "ODE__BLOBS__S3__EXPORTS_BUCKET",
        "ODE__BLOBS__S3__FONTS_BUCKET", "ODE__API__HOST", "ODE__API__PORT", "ODE__WORKER__METRICS_PORT",
    }
    assert required <= names, required - names
    cfg = _config(manifests)
    assert cfg["ODE__BLOBS__BACKEND"] == "s3"
    assert cfg["ODE__API__HOST"] == "0.0.0.0"
    assert "ODE__BLOBS__S3__ACCESS_KEY_ID" not in names, "S3 credentials come from IRSA"
    api = _container(find(manifests, "Deployment", "ode-api"))
    assert int(cfg["ODE__API__PORT"]) == api["ports"][0]["containerPort"] == 8080
    worker = _container(find(manifests, "Deployment", "ode-worker"))
    assert int(cfg["ODE__WORKER__METRICS_PORT"]) == worker["ports"][0]["containerPort"]


def test_the_settings_match_what_terraform_creates(manifests):
    cfg = _config(manifests)
    example = load_hcl(TF / "envs" / "production" / "terraform.tfvars.example")
    prefix = example["bucket_prefix"]
    assert cfg["ODE__BLOBS__S3__DOCUMENTS_BUCKET"] == f"{prefix}-documents"
    assert cfg["ODE__BLOBS__S3__EXPORTS_BUCKET"] == f"{prefix}-exports"
    assert cfg["ODE__BLOBS__S3__FONTS_BUCKET"] == f"{prefix}-fonts"
    assert cfg["ODE__BLOBS__S3__REGION"] == example["region"]
    for sa in ("ode-api", "ode-worker"):
        arn = find(manifests, "ServiceAccount", sa)["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert arn.endswith(f":role/ode-{example['environment']}-cluster-{sa}"), arn
        dep = find(manifests, "Deployment", sa)
        assert dep["spec"]["template"]["spec"]["serviceAccountName"] == sa
    for name in DEPLOYMENTS:
        image = _container(find(manifests, "Deployment", name))["image"]
        assert re.match(rf"^\d{{12}}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/{name}:", image), image


def test_worker_and_api_pool_sizes_fit_the_database(manifests):
    pool = int(_config(manifests)["ODE__DATABASE__POOL_SIZE"])
    api = find(manifests, "HorizontalPodAutoscaler", "ode-api")["spec"]["maxReplicas"]
    worker = find(manifests, "HorizontalPodAutoscaler", "ode-worker")["spec"]["maxReplicas"]
    # db.t4g.medium: max_connections about 410 (LEAST(memory/9531392, 5000)); keep headroom.
    assert pool * (api + worker) <= 300
