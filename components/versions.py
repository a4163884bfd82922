"""Every pinned version of the homelab, in one place.

Stack config may override any of them (``homelab:versions``); the defaults here are what CI tests and what
Renovate bumps (the ``# renovate:`` comments name each upstream). Talos stays on 1.12.x for bare metal and
guest clusters alike: the Cluster API Talos control-plane provider supports Talos <= 1.12, and 1.13 moves
hostname, kubelet and install settings into separate config documents (see FIELD-NOTES).
"""

from typing import Final

# Evidence beside each pin: the upstream tag and commit seen with `fetch`, or the registry that lists it.
# Talos v1.12.11 (2e80771bade5, 2026-08-05), the newest 1.12 tag: no v1.12.12 exists (the release-1.12 branch
# tip is "release(v1.12.11)"). It runs Kubernetes 1.30.0-1.35.99 (pkg/machinery/compatibility/talos112).
# renovate: datasource=github-releases depName=siderolabs/talos
TALOS: Final = "v1.12.11"
# Every cluster runs Kubernetes 1.33, the one minor every layer below supports (KUBERNETES_MINORS_BY_LAYER):
# Cluster API 1.10 stops at 1.33 and Cilium 1.20 starts there. A newer core (>= v1.12.2) would still drive
# these v1beta1 providers (internal/contract/version.go GetCompatibleVersions), but needs operator >= 0.24,
# and KubeVirt 1.6 supports only 1.31-1.33. v1.33.13 (2026-06-11) is 1.33's newest patch the Go module proxy
# serves (v1.33.14 is refused). The cost: 1.33 and Cluster API 1.10 are past their upstream end of life.
# renovate: datasource=github-releases depName=kubernetes/kubernetes
KUBERNETES: Final = "v1.33.13"

# The Pulumi CLI every workflow installs (its pulumi-version is read from here) and labctl requires at least: the
# release of the Python SDK in requirements.txt (they are released together; tests/test_ci_config.py holds them
# equal). Stack tags on the file backend need >= v3.211.0.
# renovate: datasource=github-releases depName=pulumi/pulumi
PULUMI_CLI: Final = "v3.272.0"

# Talos minor versions this program's machine-config patches are written for.
SUPPORTED_TALOS_MINORS: Final = ("1.12",)

# The Kubernetes minors each layer supports, oldest and newest, where each was read:
KUBERNETES_MINORS_BY_LAYER: Final = {
    # pkg/machinery/compatibility/talos112 at v1.12.11.
    "Talos 1.12": ("1.30", "1.35"),
    # docs/book/src/reference/versions.md at v1.10.4: management clusters 1.29-1.33 (workload 1.27-1.33).
    "Cluster API 1.10": ("1.29", "1.33"),
    # kubevirt/sig-release releases/k8s-support-matrix.md (bbf298e); v1.6.2's kubevirtci runs 1.30-1.33.
    "KubeVirt 1.6": ("1.31", "1.33"),
    # Documentation/network/kubernetes/compatibility.rst at v1.20.0.
    "Cilium 1.20": ("1.33", "1.36"),
}


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


def kubernetes_refusals(version: str) -> list[str]:
    """The layers that do not support Kubernetes ``version``, each with its supported range."""
    return [f"{layer} ({oldest}-{newest})" for layer, (oldest, newest) in KUBERNETES_MINORS_BY_LAYER.items()
            if not _minor(oldest) <= _minor(version) <= _minor(newest)]


def supported_kubernetes_minors() -> tuple[str, str]:
    """The oldest and newest Kubernetes minor every layer supports."""
    oldest = max((bounds[0] for bounds in KUBERNETES_MINORS_BY_LAYER.values()), key=_minor)
    newest = min((bounds[1] for bounds in KUBERNETES_MINORS_BY_LAYER.values()), key=_minor)
    return oldest, newest


# Charts and release manifests of the infrastructure cluster's platform.
# renovate: datasource=helm depName=cilium registryUrl=https://helm.cilium.io/
CILIUM: Final = "1.20.0"
# renovate: datasource=helm depName=cert-manager registryUrl=https://charts.jetstack.io
CERT_MANAGER: Final = "v1.21.1"
# v1.6.2 (29fd465b6f91); v1.63.1 (7eebb59ba250) for CDI.
# renovate: datasource=github-releases depName=kubevirt/kubevirt
KUBEVIRT: Final = "v1.6.2"
# renovate: datasource=github-releases depName=kubevirt/containerized-data-importer
CDI: Final = "v1.63.1"
# Cluster API: one v1beta1 contract family (core 1.10, Talos providers supporting Talos <= 1.12; CACPPT 0.5's
# README lists Kubernetes 1.26-1.35, CABPT 0.6's 1.26-1.36). The operator
# (v0.17.0, da897f79e04b; internal/controller/phases.go validateRepoCAPIVersion) refuses a provider whose release
# metadata.yaml has no release series of its major.minor, or a contract other than v1alpha4/v1beta1.
# renovate: datasource=helm depName=cluster-api-operator registryUrl=https://kubernetes-sigs.github.io/cluster-api-operator
CAPI_OPERATOR: Final = "0.17.0"
# v1.10.4 (737edc88faed): metadata.yaml lists 1.10 → v1beta1.
# renovate: datasource=github-releases depName=kubernetes-sigs/cluster-api
CAPI: Final = "v1.10.4"
# v0.10.4 (3d1981a6d7ae): v0.10.0's metadata.yaml listed only 0.1, which the operator refuses; 0.10 → v1beta1
# arrived in 8a1e675, first tagged v0.10.4. (v0.11 is v1beta2, which operator 0.17 refuses.)
# renovate: datasource=github-releases depName=kubernetes-sigs/cluster-api-provider-kubevirt
CAPK: Final = "v0.10.4"
# v0.6.12 (065b6843501a) and v0.5.12 (97b33e78ff10): config/metadata/metadata.yaml, shipped as the release's
# metadata.yaml, lists 0.6 and 0.5 → v1beta1.
# renovate: datasource=github-releases depName=siderolabs/cluster-api-bootstrap-provider-talos
CABPT: Final = "v0.6.12"
# renovate: datasource=github-releases depName=siderolabs/cluster-api-control-plane-provider-talos
CACPPT: Final = "v0.5.12"
# v0.3.2: v0.3.0's metadata.yaml had no 0.3 series (added in 53f8e9e, tagged v0.3.1) and no `kind: Metadata`
# (f567b21, tagged v0.3.2). Its CRDs are those of v0.3.0 and v0.3.1 (../shared/schemas/SOURCES.md).
# renovate: datasource=github-releases depName=kubernetes-sigs/cluster-api-addon-provider-helm
CAAPH: Final = "v0.3.2"
# renovate: datasource=helm depName=argo-cd registryUrl=https://argoproj.github.io/argo-helm
ARGO_CD: Final = "10.1.1"
# renovate: datasource=helm depName=velero registryUrl=https://vmware-tanzu.github.io/helm-charts
VELERO: Final = "12.1.0"
# v1.14.2 (5463822, 2026-06-16) from velero-io/velero-plugin-for-aws, where the plugin moved (the
# vmware-tanzu snapshot stops at v1.13.x, the Velero 1.17 line): its README at v1.14.2 pairs v1.14.x with
# Velero v1.18.x and its go.mod requires velero v1.18.0. The image is still velero/velero-plugin-for-aws.
# renovate: datasource=docker depName=velero/velero-plugin-for-aws
VELERO_AWS_PLUGIN: Final = "v1.14.2"
# renovate: datasource=helm depName=tailscale-operator registryUrl=https://pkgs.tailscale.com/helmcharts
TAILSCALE_OPERATOR: Final = "1.98.2"
# MinIO's last community release, from a registry that still serves it (its Docker Hub images are gone):
# RELEASE.2025-09-07T16-13-09Z (07c3a429bfed).
# renovate: datasource=docker depName=quay.io/minio/minio versioning=loose
MINIO_IMAGE: Final = "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
# MinIO's client, for the setup Job that makes the buckets and users: its last release,
# RELEASE.2025-08-13T08-35-41Z (minio/mc, 2025-08-13), from the registry the server comes from.
# renovate: datasource=docker depName=quay.io/minio/mc versioning=loose
MINIO_CLIENT_IMAGE: Final = "quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z"
# The shared filesystem's metadata engine: etcd 3.6's newest patch, v3.6.14 (fc04cf702b0a); Talos 1.12.11's
# own etcd is v3.6.11 (pkg/machinery/constants).
# renovate: datasource=docker depName=quay.io/coreos/etcd
ETCD_IMAGE: Final = "quay.io/coreos/etcd:v3.6.14"
# renovate: datasource=helm depName=juicefs-csi-driver registryUrl=https://juicedata.github.io/charts/
JUICEFS_CSI: Final = "0.23.1"
# The JuiceFS client of every mount pod and of the off-site jobs. The chart leaves the mount image to the
# driver, whose built-in default is juicedata/mount:ce-nightly (pkg/config/config.go at v0.27.0) unless its
# image was built with the JuiceFS release of that day, so it is pinned here: v1.3.1 (e0032b2ae, 2025-12-02),
# the newest release the Go module proxy serves (v1.3.3 and v1.4.1 are refused), so the upstream tier runs the
# very client the jobs run. The driver's release workflow publishes juicedata/mount:ce-<tag> for each tag.
# renovate: datasource=docker depName=juicedata/mount
JUICEFS_MOUNT_IMAGE: Final = "juicedata/mount:ce-v1.3.1"
# renovate: datasource=docker depName=rclone/rclone
RCLONE_IMAGE: Final = "rclone/rclone:1.69.1"

# Monitoring: OpenTelemetry collectors (agent + gateway) into Loki, Tempo and Mimir, shown by Grafana.
# renovate: datasource=helm depName=opentelemetry-collector registryUrl=https://open-telemetry.github.io/opentelemetry-helm-charts
OTEL_COLLECTOR: Final = "0.170.0"
# Grafana's Loki, Tempo and Grafana charts moved to the grafana-community repository in 2026 (FIELD-NOTES).
# renovate: datasource=helm depName=loki registryUrl=https://grafana-community.github.io/helm-charts
LOKI: Final = "12.0.0"
# renovate: datasource=helm depName=tempo registryUrl=https://grafana-community.github.io/helm-charts
TEMPO: Final = "1.26.2"
# renovate: datasource=helm depName=grafana registryUrl=https://grafana-community.github.io/helm-charts
GRAFANA: Final = "11.1.7"
# renovate: datasource=docker depName=grafana/mimir
MIMIR_IMAGE: Final = "grafana/mimir:2.17.2"

# Guest clusters: LoadBalancer Services inside them become Services of the infrastructure cluster.
# renovate: datasource=docker depName=quay.io/kubevirt/kubevirt-cloud-controller-manager
KUBEVIRT_CCM_IMAGE: Final = "quay.io/kubevirt/kubevirt-cloud-controller-manager:v0.5.1"
# Fault injection inside experiments that ask for it.
# renovate: datasource=helm depName=chaos-mesh registryUrl=https://charts.chaos-mesh.org
CHAOS_MESH: Final = "2.7.2"

# Production's apps (Argo CD Applications into the production guest cluster): home-assistant-0.3.5
# (d03f40e77a29), pihole-2.38.0 (e8223a808ed1, the newest tag; appVersion 2026.07.2), the first line with
# FTLCONF_dns_listeningMode in its values being 2.32.0 (d1c3d00a1de4).
# renovate: datasource=helm depName=home-assistant registryUrl=http://pajikos.github.io/home-assistant-helm-chart/
HOME_ASSISTANT: Final = "0.3.5"
# renovate: datasource=helm depName=pihole registryUrl=https://mojo2600.github.io/pihole-kubernetes/
PIHOLE: Final = "2.38.0"

# The restore drill: Velero's own CLI to start the restore, kubectl to wait for the restored apps.
# The same Velero the chart runs (velero 12.1.0's appVersion 1.18.1; v1.18.1 is 26ef8fa7df68).
# renovate: datasource=docker depName=velero/velero
VELERO_IMAGE: Final = "velero/velero:v1.18.1"
# renovate: datasource=docker depName=registry.k8s.io/kubectl
KUBECTL_IMAGE: Final = "registry.k8s.io/kubectl:v1.33.13"
# The kustomize that kubectl embeds at KUBECTL_IMAGE (k8s.io/kubernetes's go.mod at v1.33.13 requires it), which
# the guests' certificate delivery runs as `kubectl apply -k`; the upstream tier builds it to render that.
# renovate: datasource=go depName=sigs.k8s.io/kustomize/kustomize/v5
KUSTOMIZE: Final = "v5.6.0"
# Scratch volumes inside experiment clusters (node-local, thrown away with the experiment).
# renovate: datasource=helm depName=local-path-provisioner registryUrl=https://charts.containeroo.ch
LOCAL_PATH_PROVISIONER: Final = "0.0.33"
# The local-path provisioner's helper pods, and the stores' one-off hand-over of data written as root.
# renovate: datasource=docker depName=busybox
BUSYBOX_IMAGE: Final = "busybox:1.37.0"
# The same busybox linked statically (its musl build sets CONFIG_STATIC: latest/musl/Dockerfile.builder in
# docker-library/busybox), so it runs inside an image that has nothing else, as the talosctl image.
# renovate: datasource=docker depName=busybox
STATIC_BUSYBOX_IMAGE: Final = "busybox:1.37.0-musl"

# Snapshots the infrastructure cluster's etcd through the Talos API, age-encrypted, to S3
# (components/platform/etcd_backup.py); its newest release, built against Talos machinery v1.9.
# renovate: datasource=docker depName=ghcr.io/siderolabs/talos-backup
TALOS_BACKUP_IMAGE: Final = "ghcr.io/siderolabs/talos-backup:v0.1.0-beta.3"

# Tools of the upstream test tier (`make tools`, labctl/toolchain.py), each beside what it must match. The
# kube-apiserver follows KUBERNETES and etcd follows ETCD_IMAGE.
# Helm v3 as pulumi-kubernetes embeds it. The module proxy serves neither the v4.34.2 tag of
# github.com/pulumi/pulumi-kubernetes/provider/v4 nor any tag's commit, and the newest tag `fetch` shows is
# v4.32.0 (a03ff6ba58d2, 2026-06-08): its provider/go.mod requires helm.sh/helm/v3 v3.20.2, as master does.
# renovate: datasource=go depName=helm.sh/helm/v3
HELM: Final = "v3.20.2"
# promtool, which parses and unit-tests every alert rule (`promtool check rules`, `promtool test rules`): the
# newest github.com/prometheus/prometheus the Go module proxy serves here (v0.316.0, Prometheus 3.16).
# renovate: datasource=go depName=github.com/prometheus/prometheus
PROMETHEUS: Final = "v0.316.0"
# amtool, which loads every Alertmanager configuration the contact point can produce, built as Mimir builds its
# Alertmanager: mimir-2.17.2's go.mod requires github.com/prometheus/alertmanager v0.28.1 and replaces it with
# github.com/grafana/prometheus-alertmanager v0.25.1-0.20250620093340-be61a673dee6, as tools/amtool does. It moves
# with MIMIR_IMAGE: a bump takes both the require and the replace from that Mimir's go.mod.
# renovate: datasource=go depName=github.com/prometheus/alertmanager
ALERTMANAGER: Final = "v0.28.1"
# Mermaid's own parser (with jsdom for the DOM it expects), from npm, for the README's diagrams.
# renovate: datasource=npm depName=mermaid
MERMAID: Final = "11.17.2"
# Grafana's LogQL and TraceQL grammars (Apache-2.0; the ones its query editors parse with), from npm, for the
# dashboards' log and trace queries. Loki and Tempo themselves are AGPL: nothing of theirs is used.
# renovate: datasource=npm depName=@grafana/lezer-logql
LEZER_LOGQL: Final = "0.4.2"
# renovate: datasource=npm depName=@grafana/lezer-traceql
LEZER_TRACEQL: Final = "1.0.0"
# The Grafana foundation SDK's "next" build (no epoch: generated from Grafana's main-branch schemas of January 2026,
# the nearest to the Grafana 12.3 the chart runs; the epoch-numbered builds stop at Grafana 11.6). Its PyPI
# versions carry an epoch, so requirements.txt pins this exact one (tests/test_toolchain.py holds the two together).
# renovate: datasource=pypi depName=grafana-foundation-sdk
GRAFANA_FOUNDATION_SDK: Final = "1769699241"
# The Talos machinery pulumiverse-talos 0.8.1 is built with (its provider/go.mod at v0.8.1, via
# terraform-provider-talos v0.11.0): the generator and validator of every infrastructure node's config.
# renovate: datasource=go depName=github.com/siderolabs/talos/pkg/machinery
TALOS_MACHINERY: Final = "v1.13.0"

# The infrastructure cluster's Helm releases by release name, each at its pin above: what a stack may
# override under `homelab:versions.charts` (a guest's Cilium follows the `cilium` entry).
PLATFORM_CHART_PINS: Final = {
    "cilium": CILIUM, "cert-manager": CERT_MANAGER, "capi-operator": CAPI_OPERATOR, "argocd": ARGO_CD,
    "velero": VELERO, "tailscale-operator": TAILSCALE_OPERATOR, "juicefs-csi-driver": JUICEFS_CSI,
    "otel-agent": OTEL_COLLECTOR, "otel-gateway": OTEL_COLLECTOR, "loki": LOKI, "tempo": TEMPO, "grafana": GRAFANA,
}
