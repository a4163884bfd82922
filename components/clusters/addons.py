"""What makes a guest cluster usable once its VMs boot: its CNI, its kubeconfig, and Argo CD knowing it.

Cilium goes in through Cluster API's Helm add-on provider (a HelmChartProxy selecting the cluster by label),
pinned to the same release as the infrastructure cluster, with the values any Talos cluster needs. Cluster
API writes ``<cluster>-kubeconfig`` once the control plane is up; the program waits for that, reads it back
as a Pulumi secret, and registers the cluster with Argo CD as a cluster Secret built from it.
"""

import base64
import json
from dataclasses import replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.capacity import Workload
from components.platform.chart import ChartSpec
from components.platform.gitops import NAMESPACE as ARGOCD_NAMESPACE
from components.platform.network import GUEST_CILIUM_CHART, talos_cilium_values
from components.quantities import resources
from components.versions import BUSYBOX_IMAGE, CHAOS_MESH, LOCAL_PATH_PROVISIONER

CLUSTER_LABEL = "homelab.dev/cluster"


CHAOS_MESH_CHART = ChartSpec(
    release="chaos-mesh", chart="chaos-mesh", repo="https://charts.chaos-mesh.org", version=CHAOS_MESH,
    namespace="chaos-mesh", workloads=(
        Workload("controller-manager", ("controllerManager", "resources"), ("controllerManager", "replicaCount")),
        Workload("chaos-daemon", ("chaosDaemon", "resources"), per_node=True),
        Workload("dns-server", ("dnsServer", "resources"))))
# Experiments keep their volumes on the VMs' own disks: a Talos bind mount the provisioner's helper writes to.
LOCAL_PATH = "/var/local-path-provisioner"
LOCAL_PATH_NAMESPACE = "local-path-storage"
LOCAL_PATH_CLASS = "local-path"
LOCAL_PATH_CHART = ChartSpec(release="local-path-provisioner", chart="local-path-provisioner",
                             repo="https://charts.containeroo.ch", version=LOCAL_PATH_PROVISIONER,
                             namespace=LOCAL_PATH_NAMESPACE,
                             workloads=(Workload("provisioner", ("resources",), ("replicaCount",)),))


# The Cluster API Helm add-on provider's API (CAAPH), the one kind the program installs guest charts with.
HELM_ADDON = "addons.cluster.x-k8s.io/v1alpha1"


def helm_chart_proxy(resource_name: str, namespace: str, name: str, spec: pulumi.Input[dict[str, Any]],
                     opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """A HelmChartProxy ``name`` in a guest's namespace of the infrastructure cluster (its spec from
    ``helm_proxy_spec``); ``resource_name`` is its Pulumi name, kept as each caller always had it."""
    return k8s.apiextensions.CustomResource(resource_name, api_version=HELM_ADDON, kind="HelmChartProxy",
                                            metadata={"name": name, "namespace": namespace}, spec=spec, opts=opts)


def helm_proxy_spec(cluster: str, chart: ChartSpec, values: dict[str, Any]) -> dict[str, Any]:
    """A pinned chart installed into one guest cluster (selected by its label) by the Helm add-on provider."""
    return {"clusterSelector": {"matchLabels": {CLUSTER_LABEL: cluster}}, "repoURL": chart.repo,
            "chartName": chart.chart, "version": chart.version, "namespace": chart.namespace,
            "releaseName": chart.release, "valuesTemplate": yaml.safe_dump(values, sort_keys=True)}


def cilium_proxy_spec(cluster: str, version: str) -> dict[str, Any]:
    return helm_proxy_spec(cluster, replace(GUEST_CILIUM_CHART, version=version), talos_cilium_values())


def chaos_mesh_proxy_spec(cluster: str) -> dict[str, Any]:
    """Chaos Mesh inside one experiment, its daemon on Talos' containerd socket."""
    return helm_proxy_spec(cluster, CHAOS_MESH_CHART, {
        # One controller (the chart runs three) in a VM-sized cluster; the daemon on every node.
        "controllerManager": {"replicaCount": 1, "resources": resources("25m", "128Mi", memory_limit="384Mi")},
        "chaosDaemon": {"runtime": "containerd", "socketPath": "/run/containerd/containerd.sock",
                        "resources": resources("25m", "64Mi", memory_limit="256Mi")},
        # The DNS server DNSChaos needs; the chart sets a request and leaves the limit to the user.
        "dnsServer": {"resources": resources("25m", "48Mi", memory_limit="128Mi")},
        "dashboard": {"create": False}})


def local_path_mount_patch() -> dict[str, Any]:
    """The Talos patch that lets the local-path provisioner's pods write under ``LOCAL_PATH`` (Talos' root is
    read-only; the kubelet needs the directory bind-mounted, shared)."""
    return {"machine": {"kubelet": {"extraMounts": [{
        "destination": LOCAL_PATH, "type": "bind", "source": LOCAL_PATH,
        "options": ["bind", "rshared", "rw"]}]}}}


def local_path_proxy_spec(cluster: str) -> dict[str, Any]:
    helper_repository, helper_tag = BUSYBOX_IMAGE.rsplit(":", 1)
    return helm_proxy_spec(cluster, LOCAL_PATH_CHART, {
        "storageClass": {"name": LOCAL_PATH_CLASS, "defaultClass": True, "reclaimPolicy": "Delete"},
        "nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [LOCAL_PATH]}],
        "replicaCount": 1,
        "resources": resources("10m", "32Mi", memory_limit="96Mi"),
        # The chart's helper (it makes and removes volume directories) defaults to busybox:latest.
        "helperImage": {"repository": helper_repository, "tag": helper_tag},
        "helperPod": {"resources": resources("10m", "16Mi", memory_limit="64Mi")}})


def read_kubeconfig(parent: pulumi.Resource, cluster: str, namespace: str,
                    after: pulumi.CustomResource) -> pulumi.Output[str]:
    """The guest's admin kubeconfig from the Secret Cluster API writes, as a Pulumi secret.

    The Secret's id is derived from the Cluster's, so a preview of a cluster not yet created (its id
    unknown) skips the read instead of failing on a Secret that cannot exist yet.
    """
    secret_id = after.id.apply(lambda _: f"{namespace}/{cluster}-kubeconfig")
    secret = k8s.core.v1.Secret.get(f"{cluster}-kubeconfig", secret_id,
                                    opts=pulumi.ResourceOptions(parent=parent, depends_on=[after]))
    return pulumi.Output.secret(secret.data.apply(lambda data: base64.b64decode(data["value"]).decode()))


def argocd_cluster_entry(cluster: str, kubeconfig: str) -> dict[str, str]:
    """Argo CD's declarative cluster Secret data (name, server, TLS client config) from a kubeconfig."""
    document = yaml.safe_load(kubeconfig)
    server = document["clusters"][0]["cluster"]
    user = document["users"][0]["user"]
    tls = {"caData": server["certificate-authority-data"], "certData": user["client-certificate-data"],
           "keyData": user["client-key-data"]}
    return {"name": cluster, "server": server["server"], "config": json.dumps({"tlsClientConfig": tls})}


def argocd_secret_name(argocd_name: str) -> str:
    """The name of a guest's cluster Secret in Argo CD's namespace."""
    return f"cluster-{argocd_name}"


def register_in_argocd(parent: pulumi.Resource, cluster: str, cluster_class: str, kubeconfig: pulumi.Output[str],
                       owner: k8s.core.v1.Namespace | None = None) -> k8s.core.v1.Secret:
    """The guest's cluster Secret in Argo CD. With an ``owner`` (an experiment's namespace), the Secret goes with
    it: Kubernetes' garbage collector deletes it, and Pulumi leaves it (components/platform/lab_access.py)."""
    owners = None
    if owner is not None:
        owners = [k8s.meta.v1.OwnerReferenceArgs(api_version="v1", kind="Namespace", name=owner.metadata.name,
                                                 uid=owner.metadata.uid)]
    return k8s.core.v1.Secret(
        f"argocd-cluster-{cluster}",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=argocd_secret_name(cluster), namespace=ARGOCD_NAMESPACE, owner_references=owners,
            labels={"argocd.argoproj.io/secret-type": "cluster", "homelab.dev/cluster-class": cluster_class}),
        type="Opaque",
        string_data=kubeconfig.apply(lambda text: argocd_cluster_entry(cluster, text)),
        opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=owner is not None),
    )
