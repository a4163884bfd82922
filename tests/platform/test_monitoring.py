"""Monitoring: collectors on every node feed one gateway, the gateway feeds the three stores, Grafana reads them.

The endpoints are checked against what the stores actually register (service names, ports, buckets), so
a renamed service or a bucket that nobody creates fails here instead of on the Pis.
"""

import yaml

from components import versions
from tests.conftest import redacted

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"


def _values(prod, release):
    return prod.one(RELEASE, release).inputs["values"]


def _exporters(values, signal):
    return values["config"]["service"]["pipelines"][signal]["exporters"]


def test_the_agent_runs_on_every_node_and_sends_everything_to_the_gateway_only(prod):
    agent = _values(prod, "otel-agent")
    assert agent["mode"] == "daemonset"
    assert {name for name, preset in agent["presets"].items() if preset["enabled"]} == {
        "logsCollection", "kubeletMetrics", "hostMetrics", "kubernetesAttributes"}
    assert agent["config"]["exporters"] == {
        "otlp": {"endpoint": "otel-gateway.monitoring.svc.cluster.local:4317", "tls": {"insecure": True}}}
    assert all(_exporters(agent, signal) == ["otlp"] for signal in ("logs", "metrics", "traces"))
    gateway = _values(prod, "otel-gateway")
    assert gateway["fullnameOverride"] == "otel-gateway" and gateway["mode"] == "deployment"
    assert prod.one(RELEASE, "otel-agent").inputs["version"] == versions.OTEL_COLLECTOR


def test_the_gateway_routes_each_signal_to_the_store_that_registers_that_endpoint(prod):
    gateway = _values(prod, "otel-gateway")
    exporters = gateway["config"]["exporters"]
    routed = {signal: exporters[_exporters(gateway, signal)[0]]["endpoint"] for signal in ("logs", "metrics", "traces")}
    mimir = prod.one("kubernetes:core/v1:Service", "mimir").inputs
    mimir_port = next(p["port"] for p in mimir["spec"]["ports"] if p["name"] == "http")
    assert routed["metrics"] == f"http://{mimir['metadata']['name']}.monitoring.svc.cluster.local:{mimir_port}/otlp"
    # The charts name their services after the release (no overrides): loki:3100, tempo's OTLP receiver.
    assert prod.one(RELEASE, "loki").inputs["namespace"] == "monitoring"
    assert routed["logs"] == "http://loki.monitoring.svc.cluster.local:3100/otlp"
    tempo = _values(prod, "tempo")["tempo"]
    tempo_port = tempo["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].rsplit(":", 1)[1]
    assert routed["traces"] == f"tempo.monitoring.svc.cluster.local:{tempo_port}"


def test_every_store_keeps_its_data_in_a_bucket_the_setup_job_creates(prod):
    script = prod.one("kubernetes:batch/v1:Job", "object-store-setup").inputs["spec"]["template"]["spec"][
        "containers"][0]["command"][2]
    created = {line.rsplit("/", 1)[1] for line in script.splitlines() if line.startswith("mc mb")} - {"juicefs"}
    loki = _values(prod, "loki")["loki"]["storage"]
    tempo = _values(prod, "tempo")["tempo"]["storage"]["trace"]
    mimir = yaml.safe_load(prod.one("kubernetes:core/v1:ConfigMap", "mimir-config").inputs["data"]["mimir.yaml"])
    used = {*loki["bucketNames"].values(), tempo["s3"]["bucket"], mimir["common"]["storage"]["s3"]["bucket_name"]}
    assert used == created == {"loki", "tempo", "mimir"}
    assert loki["type"] == "s3" and tempo["backend"] == "s3" and mimir["common"]["storage"]["backend"] == "s3"


def test_each_store_reads_its_own_object_store_keys_from_a_secret_never_from_values(prod):
    for store in ("loki", "tempo", "mimir"):
        secret = prod.one(SECRET, f"{store}-object-store")
        assert secret.inputs["metadata"]["namespace"] == "monitoring"
        assert secret.inputs["metadata"]["labels"]["homelab.dev/object-store-user"] == store
        assert redacted(secret.inputs["stringData"])
    for release, path in (("loki", ("singleBinary", "extraEnv")), ("tempo", ("tempo", "extraEnv"))):
        values = _values(prod, release)
        env = values[path[0]][path[1]]
        assert {e["valueFrom"]["secretKeyRef"]["name"] for e in env} == {f"{release}-object-store"}
        assert "${S3_SECRET_ACCESS_KEY}" in str(values)
    mimir_env = prod.one("kubernetes:apps/v1:StatefulSet", "mimir").inputs["spec"]["template"]["spec"][
        "containers"][0]["env"]
    assert {e["valueFrom"]["secretKeyRef"]["name"] for e in mimir_env if "valueFrom" in e} == {"mimir-object-store"}


def test_stores_start_after_their_buckets_and_collectors_after_the_stores(prod):
    job = prod.one("kubernetes:batch/v1:Job", "object-store-setup")
    assert prod.one("kubernetes:apps/v1:StatefulSet", "minio").urn in job.dependencies
    stores = [prod.one(RELEASE, "loki"), prod.one(RELEASE, "tempo"),
              prod.one("kubernetes:apps/v1:StatefulSet", "mimir")]
    assert all(job.urn in store.dependencies for store in stores)
    gateway = prod.one(RELEASE, "otel-gateway")
    assert all(store.urn in gateway.dependencies for store in stores)
    assert gateway.urn in prod.one(RELEASE, "otel-agent").dependencies


def test_grafana_has_the_three_stores_as_data_sources_and_its_password_from_the_secret_config(prod):
    grafana = _values(prod, "grafana")
    sources = {s["type"]: s for s in grafana["datasources"]["datasources.yaml"]["datasources"]}
    assert sources["prometheus"]["url"] == "http://mimir.monitoring.svc.cluster.local:8080/prometheus"
    assert sources["prometheus"]["isDefault"] is True
    assert sources["loki"]["url"] == "http://loki.monitoring.svc.cluster.local:3100"
    assert sources["tempo"]["url"] == "http://tempo.monitoring.svc.cluster.local:3200"
    assert sources["tempo"]["jsonData"]["tracesToLogsV2"]["datasourceUid"] == sources["loki"]["uid"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin"
    admin = prod.one(SECRET, "grafana-admin")
    assert redacted(admin.inputs["stringData"]["admin-password"])


def test_monitoring_is_in_the_budget_with_an_agent_per_node(prod):
    workloads = {(w["owner"], w["workload"]): w for w in prod.outputs["capacity"]["workloads"]}
    assert workloads[("otel-agent", "agent")]["pods"] == 4
    for key in (("otel-gateway", "gateway"), ("loki", "loki"), ("tempo", "tempo"), ("grafana", "grafana"),
                ("mimir", "mimir")):
        assert workloads[key]["pods"] == 1, key


# Every path Mimir 2.17.2 defaults relative to its working directory, by config key (cmd/mimir/help-all.txt.tmpl
# at mimir-2.17.2: -activity-tracker.filepath, -ruler.rule-path, -blocks-storage.tsdb.dir,
# -blocks-storage.bucket-store.sync-dir, -compactor.data-dir).
MIMIR_RELATIVE_DEFAULTS = {("activity_tracker", "filepath"): "./metrics-activity.log",
                           ("ruler", "rule_path"): "./data-ruler/",
                           ("blocks_storage", "tsdb", "dir"): "./tsdb/",
                           ("blocks_storage", "bucket_store", "sync_dir"): "./tsdb-sync/",
                           ("compactor", "data_dir"): "./data-compactor/"}


def test_mimir_writes_only_inside_its_data_volume_as_its_non_root_user(prod):
    config = yaml.safe_load(prod.one("kubernetes:core/v1:ConfigMap", "mimir-config").inputs["data"]["mimir.yaml"])
    pod = prod.one("kubernetes:apps/v1:StatefulSet", "mimir").inputs["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    data = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "data")
    assert pod["securityContext"]["runAsUser"] != 0 and container["workingDir"] == data
    for path in MIMIR_RELATIVE_DEFAULTS:
        value = config
        for key in path:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        assert isinstance(value, str) and value.startswith(f"{data}/"), f"{'.'.join(path)} is {value or 'unset'}"
