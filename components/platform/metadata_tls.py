"""The metadata engine's TLS: a CA of its own, the members' serving certificate, one client certificate per client.

The JuiceFS metadata etcd's members serve clients over TLS and admit only a client certificate signed by their own
CA (``--client-cert-auth``). cert-manager issues every certificate and
renews it: the CA from the homelab's self-signed issuer, everything else from a ClusterIssuer over that CA.
Each client holds its own certificate, named after it: the infrastructure cluster's JuiceFS (``juicefs-homelab``),
the off-site copy (``offsite-replication``) and each guest's JuiceFS (``juicefs-<filesystem>``), so one can be
revoked by deleting its Secret. Peers still talk plain HTTP to one another (their URLs are fixed in the cluster's
membership, so a change needs each member updated by hand); a network policy lets only the members reach that
port.

Every client finds its files in one directory, ``CLIENT_DIR``, named in the ``metaurl`` itself (JuiceFS's etcd
client reads ``cacert``, ``cert`` and ``key`` from its query; pkg/meta/tkv_etcd.go buildTlsConfig at v1.3.1):

- mount pods and the off-site copy mount their Secret there (the volume secret's ``configs``, read by the CSI
  driver's mount pod builder, pkg/juicefs/mount/builder/common.go at v0.27.0);
- the CSI driver's own plugins reach the engine themselves: ``juicefs status <metaurl>`` on every mount and every
  deletion of a volume (pkg/config/setting.go GetJfsVolUUID, from node.go NodePublishVolume and provisioner.go at
  v0.27.0) and ``juicefs quota set`` (pkg/juicefs/juicefs.go SetQuota, on mount and on expansion), so without
  their copy no volume mounts or goes away. The chart (0.23.1) gives their pods no extra volume, but both already
  mount the node's ``/var/lib/juicefs/config`` at ``/root/.juicefs`` (templates/daemonset.yaml and
  controller.yaml), so a small DaemonSet copies the client Secret there. The delete Job's pod (``juicefs rmr``)
  is a mount pod's sibling and gets ``configs`` too (pkg/juicefs/mount/builder/job.go).

etcd reloads its serving certificate and JuiceFS its client certificate at each handshake
(client/pkg/transport/listener.go at v3.6.14), so a renewal needs no restart.
"""

from collections.abc import Sequence
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.platform.certificates import NAMESPACE as CERT_MANAGER_NAMESPACE
from components.platform.certificates import SELF_SIGNED_ISSUER
from components.platform.workloads import CONTAINER_SECURITY, restricted
from components.quantities import resources
from components.versions import BUSYBOX_IMAGE, KUBECTL_IMAGE

CA = "juicefs-meta-ca"
SERVER_SECRET = "juicefs-meta-server"
# Every client's Secret has this name in its own namespace.
CLIENT_SECRET = "juicefs-meta-client"
CLIENT_DIR = "/root/.juicefs/meta-tls"
# The node's directory the CSI plugins see as /root/.juicefs (the chart's jfsConfigDir).
NODE_CONFIG_DIR = "/var/lib/juicefs/config"
FILES = ("ca.crt", "tls.crt", "tls.key")
# Where each member mounts its serving certificate (with the CA beside it).
SERVER_DIR = "/etc/etcd/tls"
CA_DURATION, LEAF_DURATION, LEAF_RENEW_BEFORE = "87600h", "2160h", "720h"
CLIENT_FILES_SYNC = "juicefs-meta-tls"
SYNC_RESOURCES = resources("5m", "8Mi", memory_limit="32Mi")
SYNC_PERIOD_SECONDS = 60
_API = "cert-manager.io/v1"


def tls_query() -> str:
    """The ``metaurl`` query that makes JuiceFS's etcd client speak TLS with the files in ``CLIENT_DIR``."""
    params = zip(("cacert", "cert", "key"), FILES, strict=True)
    return "?" + "&".join(f"{param}={CLIENT_DIR}/{file}" for param, file in params)


def _certificate(name: str, namespace: str, spec: dict[str, Any], opts: pulumi.ResourceOptions,
                 resource_name: str | None = None) -> k8s.apiextensions.CustomResource:
    """A cert-manager Certificate; Pulumi waits until it is issued, so what mounts its Secret comes after it."""
    return k8s.apiextensions.CustomResource(
        resource_name or name, api_version=_API, kind="Certificate",
        metadata={"name": name, "namespace": namespace, "annotations": {"pulumi.com/waitFor": "condition=Ready"}},
        spec={"privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}, **spec},
        opts=opts)


def _leaf(secret: str, common_name: str, *usages: str) -> dict[str, Any]:
    return {"secretName": secret, "commonName": common_name, "usages": ["digital signature", *usages],
            "duration": LEAF_DURATION, "renewBefore": LEAF_RENEW_BEFORE,
            "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": CA}}


def certificate_authority(parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource]) -> pulumi.Resource:
    """The CA certificate (self-signed) and the ClusterIssuer that signs with it; returns the issuer.
    ``depends_on`` holds cert-manager's release (its CRDs) and the self-signed issuer."""
    opts = pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on))
    ca = _certificate(CA, CERT_MANAGER_NAMESPACE, {
        "isCA": True, "commonName": CA, "secretName": CA, "duration": CA_DURATION,
        "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": SELF_SIGNED_ISSUER}}, opts)
    return k8s.apiextensions.CustomResource(
        f"{CA}-issuer", api_version=_API, kind="ClusterIssuer", metadata={"name": CA}, spec={"ca": {"secretName": CA}},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*depends_on, ca]))


def server_certificate(parent: pulumi.Resource, issuer: pulumi.Resource, namespace: str,
                       dns_names: list[str], address: pulumi.Input[str]) -> k8s.apiextensions.CustomResource:
    """The members' serving certificate: every name a client dials, and the client Service's address, which is
    what the members advertise and so what every client's endpoints become after its first sync."""
    # Also a client certificate: each member's own HTTP gateway dials its gRPC port with it, and with
    # --client-cert-auth a serving-only certificate is refused (CertFile doubles as the client certificate when
    # no --client-cert-file is set; client/pkg/transport/listener.go at v3.6.14).
    spec = {**_leaf(SERVER_SECRET, dns_names[0], "server auth", "client auth"), "dnsNames": dns_names,
            "ipAddresses": [address]}
    return _certificate(SERVER_SECRET, namespace, spec, pulumi.ResourceOptions(parent=parent, depends_on=[issuer]))


def client_certificate(parent: pulumi.Resource, issuer: pulumi.Resource, namespace: str, client: str,
                       depends_on: Sequence[pulumi.Resource] = (),
                       secret: str = CLIENT_SECRET) -> k8s.apiextensions.CustomResource:
    """``client``'s own certificate (its name is the common name), in ``namespace`` as ``secret``."""
    return _certificate(secret, namespace, _leaf(secret, client, "client auth"),
                        pulumi.ResourceOptions(parent=parent, depends_on=[issuer, *depends_on]),
                        resource_name=f"{CLIENT_SECRET}-{client}")


def client_mount() -> tuple[dict[str, Any], dict[str, Any]]:
    """The pod volume of a client's Secret and its container mount at ``CLIENT_DIR``."""
    return ({"name": CLIENT_SECRET, "secret": {"secretName": CLIENT_SECRET}},
            {"name": CLIENT_SECRET, "mountPath": CLIENT_DIR, "readOnly": True})


# Root, as the plugins reading the files and the node directory's owner are; no capability, no escalation.
NODE_WRITER_SECURITY: dict[str, Any] = {**CONTAINER_SECURITY, "runAsUser": 0, "runAsNonRoot": False}
# Each file replaced in one rename, so a plugin never reads half a key; the key readable by root alone.
_SYNC_SCRIPT = (f"umask 077; while true; do for f in {' '.join(FILES)}; do "
                'cp "/secret/$f" "/node/.$f" && mv -f "/node/.$f" "/node/$f"; done; '
                f"sleep {SYNC_PERIOD_SECONDS}; done")


def client_files_daemonset_spec() -> dict[str, Any]:
    """The DaemonSet that keeps the node's copy of the client Secret where the CSI plugins read it."""
    labels = {"app.kubernetes.io/name": CLIENT_FILES_SYNC}
    container = {
        "name": "copy", "image": BUSYBOX_IMAGE, "command": ["sh", "-c", _SYNC_SCRIPT],
        "volumeMounts": [{"name": "secret", "mountPath": "/secret", "readOnly": True},
                         {"name": "node", "mountPath": "/node"}],
        "readinessProbe": {"exec": {"command": ["test", "-s", f"/node/{FILES[-1]}"]}, "periodSeconds": 10},
        "securityContext": NODE_WRITER_SECURITY,
        "resources": SYNC_RESOURCES,
    }
    return {
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "tolerations": [{"operator": "Exists"}],
            "containers": [container],
            "volumes": [{"name": "secret", "secret": {"secretName": CLIENT_SECRET}},
                        {"name": "node", "hostPath": {"path": f"{NODE_CONFIG_DIR}/{CLIENT_DIR.rsplit('/', 1)[1]}",
                                                      "type": "DirectoryOrCreate"}}],
        }},
    }


# The outside scanner's findings on this one pod, with the reason each stays, where it reads them (checkov's
# per-resource skip annotations); the README's Pod Security table says the same.
SCANNER_EXCEPTIONS = {
    "checkov.io/skip1": "CKV_K8S_23=root writes the node's root-owned JuiceFS directory for the root CSI plugins",
    "checkov.io/skip2": "CKV_K8S_40=root, with every capability dropped, is the one user it needs",
}


def client_files_sync(parent: pulumi.Resource, namespace: str,
                      depends_on: Sequence[pulumi.Resource]) -> k8s.apps.v1.DaemonSet:
    return k8s.apps.v1.DaemonSet(
        CLIENT_FILES_SYNC, metadata=k8s.meta.v1.ObjectMetaArgs(name=CLIENT_FILES_SYNC, namespace=namespace,
                                                               annotations=SCANNER_EXCEPTIONS),
        spec=cast(k8s.apps.v1.DaemonSetSpecArgsDict, client_files_daemonset_spec()),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)))


# A guest's certificate is issued in the infrastructure cluster, beside the guest's Cluster API objects, and
# copied into the guest every hour (renewal comes a month before expiry, so a missed copy is caught up long
# before). The copy is `kubectl apply -k` over a kustomization that generates the guest's Secret from the files
# of the issued one: the kubectl image has no shell, and kustomize reads the files where the pod mounts them.
DELIVERY_SCHEDULE = "41 * * * *"
_DELIVERY_DIR, _GUEST_KUBECONFIG_DIR = "/delivery", "/guest"


def delivery_name(cluster: str) -> str:
    return f"{cluster}-{CLIENT_SECRET}"


def delivery_kustomization(guest_namespace: str) -> dict[str, Any]:
    """The kustomization that turns the mounted files back into the guest's ``CLIENT_SECRET``."""
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "namespace": guest_namespace,
            "generatorOptions": {"disableNameSuffixHash": True},
            "secretGenerator": [{"name": CLIENT_SECRET, "type": "kubernetes.io/tls", "files": list(FILES)}]}


def delivery_pod_spec(cluster: str) -> dict[str, Any]:
    """One copy into ``cluster``: its certificate's files and the kustomization in one directory, applied with
    the guest's kubeconfig (the Secret Cluster API keeps beside it). No token of this cluster is mounted."""
    name = delivery_name(cluster)
    projected = {"sources": [{"configMap": {"name": name}}, {"secret": {"name": name, "items": [
        {"key": file, "path": file} for file in FILES]}}]}
    return restricted({
        "restartPolicy": "OnFailure",
        "containers": [{
            "name": "deliver", "image": KUBECTL_IMAGE,
            "command": ["kubectl", "apply", f"--kubeconfig={_GUEST_KUBECONFIG_DIR}/value", "-k", _DELIVERY_DIR],
            "volumeMounts": [{"name": "delivery", "mountPath": _DELIVERY_DIR, "readOnly": True},
                             {"name": "guest", "mountPath": _GUEST_KUBECONFIG_DIR, "readOnly": True}],
            "resources": resources("20m", "32Mi", memory_limit="128Mi"),
        }],
        "volumes": [{"name": "delivery", "projected": projected},
                    {"name": "guest", "secret": {"secretName": f"{cluster}-kubeconfig"}}],
    })


def guest_delivery(parent: pulumi.Resource, issuer: pulumi.Resource, cluster: str, namespace: str,
                   filesystem_client: str, guest_namespace: str,
                   depends_on: Sequence[pulumi.Resource]) -> list[pulumi.Resource]:
    """The guest's client certificate and its delivery: a first copy now (Pulumi waits for the Job, so the
    guest's mounts come after it), then every hour."""
    name = delivery_name(cluster)
    certificate = client_certificate(parent, issuer, namespace, filesystem_client, depends_on, secret=name)
    kustomization = k8s.core.v1.ConfigMap(
        name, metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
        data={"kustomization.yaml": yaml.safe_dump(delivery_kustomization(guest_namespace), sort_keys=False)},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)))
    opts = pulumi.ResourceOptions(parent=parent, depends_on=[certificate, kustomization, *depends_on])
    job_spec: dict[str, Any] = {"backoffLimit": 6, "activeDeadlineSeconds": 600,
                                "template": {"spec": delivery_pod_spec(cluster)}}
    cron_spec: dict[str, Any] = {"schedule": DELIVERY_SCHEDULE, "concurrencyPolicy": "Forbid",
                                 "successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 3,
                                 "jobTemplate": {"spec": job_spec}}
    first = k8s.batch.v1.Job(f"{name}-first", metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{name}-first",
                                                                                  namespace=namespace),
                             spec=cast(k8s.batch.v1.JobSpecArgsDict, job_spec), opts=opts)
    hourly = k8s.batch.v1.CronJob(name, metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
                                  spec=cast(k8s.batch.v1.CronJobSpecArgsDict, cron_spec), opts=opts)
    return [certificate, kustomization, first, hourly]
