"""The shared filesystem's metadata engine: a three-member etcd, one member per node on local volumes.

JuiceFS does not replicate data itself: its durability is a replicated metadata engine plus a durable
object store (FIELD-NOTES). etcd is the smallest replicated engine JuiceFS supports (Raft; three members
survive the loss of one), runs on arm64, and suits a homelab's file counts. It is separate from the
control plane's etcd so a busy filesystem can never slow the Kubernetes API.

Every member advertises the client Service's address, not its own pod name. JuiceFS's etcd client syncs its
endpoints to the members' advertised client URLs every minute (pkg/meta/tkv_etcd.go sets AutoSyncInterval,
with no way to turn it off; client/v3 Sync at v3.6.14 takes every member's URLs): advertised pod names, which
a guest cannot resolve, would cut a guest's mounts off a minute after they start. The Service address works
from this cluster and from every guest, and routes to a ready member.
"""

from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.platform import metadata_tls
from components.platform.local_volumes import LocalVolumeClaim
from components.platform.storage import NAMESPACE
from components.platform.workloads import spread_statefulset
from components.quantities import resources
from components.versions import ETCD_IMAGE

CLIENT_SERVICE = "etcd-client"
ETCD = "juicefs-meta"
MEMBERS = 3
CLIENT_PORT, PEER_PORT = 2379, 2380
# Health and metrics on a listener of their own (server/embed/etcd.go serveMetrics at v3.6.14 serves /metrics,
# /health, /livez and /readyz there), so probes and scrapes never need the clients' port.
METRICS_PORT = 2381
DATA = LocalVolumeClaim(consumer=ETCD, size="10Gi")
# The client Service's address, given to each member as this variable once the Service has one.
CLIENT_ADDRESS_ENV = "CLIENT_SERVICE_ADDRESS"


def _peer(index: int) -> str:
    return f"{ETCD}-{index}.{ETCD}.{NAMESPACE}.svc.cluster.local"


def metadata_url_at(address: str, volume: str) -> str:
    """``metaurl`` through the client Service's address, for clients outside this cluster's DNS (guests)."""
    return f"etcd://{address}:{CLIENT_PORT}/{volume}{metadata_tls.tls_query()}"


def metadata_url(volume: str) -> str:
    """JuiceFS's ``metaurl`` for a filesystem named ``volume`` on this etcd (TLS, with the client's own
    certificate; see metadata_tls)."""
    members = ",".join(f"{_peer(i)}:{CLIENT_PORT}" for i in range(MEMBERS))
    return f"etcd://{members}/{volume}{metadata_tls.tls_query()}"


def member_metrics_addresses() -> tuple[str, ...]:
    """Each member's metrics listener, by its pod name under the headless Service."""
    return tuple(f"{_peer(i)}:{METRICS_PORT}" for i in range(MEMBERS))


def server_names() -> list[str]:
    """Every name a client dials the members by: the client Service's, then each member's."""
    service = f"{CLIENT_SERVICE}.{NAMESPACE}.svc"
    return [service, f"{service}.cluster.local", *(_peer(i) for i in range(MEMBERS))]


def etcd_statefulset_spec() -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": ETCD}
    cluster = ",".join(f"{ETCD}-{i}=http://{_peer(i)}:{PEER_PORT}" for i in range(MEMBERS))
    container = {
        "name": "etcd",
        "image": ETCD_IMAGE,
        "command": ["/usr/local/bin/etcd"],
        "args": [
            "--name=$(POD_NAME)",
            "--data-dir=/var/lib/etcd",
            f"--listen-client-urls=https://0.0.0.0:{CLIENT_PORT}",
            f"--advertise-client-urls=https://$({CLIENT_ADDRESS_ENV}):{CLIENT_PORT}",
            # Clients only with a certificate of the engine's own CA (a trusted CA file alone already demands one,
            # client/pkg/transport/listener.go at v3.6.14; the flag says so where a reader looks).
            f"--cert-file={metadata_tls.SERVER_DIR}/tls.crt", f"--key-file={metadata_tls.SERVER_DIR}/tls.key",
            f"--trusted-ca-file={metadata_tls.SERVER_DIR}/ca.crt", "--client-cert-auth",
            f"--listen-peer-urls=http://0.0.0.0:{PEER_PORT}",
            f"--initial-advertise-peer-urls=http://$(POD_NAME).{ETCD}.{NAMESPACE}.svc.cluster.local:"
            f"{PEER_PORT}",
            f"--initial-cluster={cluster}",
            "--initial-cluster-state=new",
            f"--initial-cluster-token={ETCD}",
            f"--listen-metrics-urls=http://0.0.0.0:{METRICS_PORT}",
            "--auto-compaction-retention=1h",
            "--quota-backend-bytes=2147483648",
        ],
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "ports": [{"name": "client", "containerPort": CLIENT_PORT},
                  {"name": "peer", "containerPort": PEER_PORT}, {"name": "metrics", "containerPort": METRICS_PORT}],
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/etcd", "subPath": ETCD},
                         {"name": "tls", "mountPath": metadata_tls.SERVER_DIR, "readOnly": True}],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": METRICS_PORT}, "periodSeconds": 10},
        # A member that cannot serve (a stuck disk, a lost quorum it cannot rejoin) is restarted; generous, because
        # a restart during a long snapshot transfer only starts it over.
        "livenessProbe": {"httpGet": {"path": "/livez", "port": METRICS_PORT}, "periodSeconds": 20,
                          "failureThreshold": 6},
        "resources": resources("50m", "128Mi", memory_limit="384Mi"),
    }
    return spread_statefulset(ETCD, MEMBERS, labels, container, [DATA.claim_template()],
                              volumes=[{"name": "tls", "secret": {"secretName": metadata_tls.SERVER_SECRET}}])


def with_client_address(spec: dict[str, Any], address: pulumi.Input[str]) -> dict[str, Any]:
    """``spec`` with the client Service's address in the members' environment (what they advertise)."""
    (container,) = spec["template"]["spec"]["containers"]
    env = [*container["env"], {"name": CLIENT_ADDRESS_ENV, "value": address}]
    pod = {**spec["template"]["spec"], "containers": [{**container, "env": env}]}
    return {**spec, "template": {**spec["template"], "spec": pod}}


def peer_policy_spec(labels: dict[str, str]) -> dict[str, Any]:
    """Clients (TLS with a certificate) and scrapes from anywhere; the peer port from the members alone."""
    return {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress"], "ingress": [
        {"ports": [{"protocol": "TCP", "port": CLIENT_PORT}, {"protocol": "TCP", "port": METRICS_PORT}]},
        {"from": [{"podSelector": {"matchLabels": labels}}], "ports": [{"protocol": "TCP", "port": PEER_PORT}]}]}


def install(parent: pulumi.Resource, namespace: pulumi.Resource, data: list[pulumi.Resource],
            spec: dict[str, Any], issuer: pulumi.Resource) -> tuple[k8s.apps.v1.StatefulSet, k8s.core.v1.Service]:
    # Guest clusters cannot resolve this cluster's names; they reach the members through one stable address.
    client = k8s.core.v1.Service(
        CLIENT_SERVICE, metadata=k8s.meta.v1.ObjectMetaArgs(name=CLIENT_SERVICE, namespace=NAMESPACE),
        spec=k8s.core.v1.ServiceSpecArgs(selector=spec["selector"]["matchLabels"],
                                         ports=[k8s.core.v1.ServicePortArgs(name="client", port=CLIENT_PORT)]),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]),
    )
    service = k8s.core.v1.Service(
        ETCD, metadata=k8s.meta.v1.ObjectMetaArgs(name=ETCD, namespace=NAMESPACE),
        spec=k8s.core.v1.ServiceSpecArgs(
            cluster_ip="None", publish_not_ready_addresses=True, selector=spec["selector"]["matchLabels"],
            ports=[k8s.core.v1.ServicePortArgs(name="client", port=CLIENT_PORT),
                   k8s.core.v1.ServicePortArgs(name="peer", port=PEER_PORT)]),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]),
    )
    # Peers talk plain HTTP (their URLs are fixed in the cluster's membership): only the members reach that port.
    members_only = k8s.networking.v1.NetworkPolicy(
        f"{ETCD}-peers", metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{ETCD}-peers", namespace=NAMESPACE),
        spec=cast(k8s.networking.v1.NetworkPolicySpecArgsDict, peer_policy_spec(spec["selector"]["matchLabels"])),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]))
    certificate = metadata_tls.server_certificate(parent, issuer, NAMESPACE, server_names(), client.spec.cluster_ip)
    members = k8s.apps.v1.StatefulSet(
        ETCD, metadata=k8s.meta.v1.ObjectMetaArgs(name=ETCD, namespace=NAMESPACE),
        spec=cast(k8s.apps.v1.StatefulSetSpecArgsDict, with_client_address(spec, client.spec.cluster_ip)),
        opts=pulumi.ResourceOptions(parent=parent,
                                    depends_on=[namespace, service, client, certificate, members_only, *data]),
    )
    return members, client
