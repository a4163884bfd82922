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

**A member that comes back empty** (its Pi replaced, its SSD wiped) cannot simply start again: started as
before, etcd exits with "member … has already been bootstrapped" (the others know its ID), a crash loop. So
before etcd starts, an init container looks: a member with data starts as it is; one with an
empty data directory asks the others (``etcdctl member list``) and, if they answer, removes its old self
(``member remove``), adds itself again (``member add``) and starts with ``--initial-cluster-state=existing``,
taking a snapshot from the leader. If they answer only a serializable read (a cluster that has lost its quorum),
it waits and tries again: started as ``new`` it would take its old ID with no log and no vote record. If nobody
answers at all, this is the first start of the cluster (members serve no client before it has a quorum), and it
starts as ``new``. etcd's strict reconfiguration check (on by default) refuses a change that would lose the quorum. The
etcd image is distroless, so the scripts run in the static busybox (components/platform/workloads.py).
"""

from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.platform import metadata_tls
from components.platform.local_volumes import LocalVolumeClaim
from components.platform.storage import NAMESPACE
from components.platform.workloads import (
    SHELL_MOUNT,
    SHELL_TOOLS,
    SHELL_VOLUME,
    shell_command,
    shell_copy_container,
    spread_statefulset,
)
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
DATA_DIR = "/var/lib/etcd"
# What the rejoin step decided, for the member's start: "new" or "existing" (kept for the pod's life).
STATE_FILE = f"{SHELL_TOOLS}/initial-cluster-state"

# Shell builtins, etcdctl, and busybox's sleep (``$BUSYBOX``). etcd's strict reconfiguration check refuses a
# member add until the member asked has been connected to a quorum, the new member counted, for HealthInterval
# (server/etcdserver/server.go mayAddMember at v3.6.14), which right after a remove it may not be: the add is
# tried again. Each step is safe to repeat, so a failed run is simply run again by the kubelet. `member list`'s
# simple format is "ID, status, name, peer URLs, client URLs, learner" per member
# (etcdctl/ctlv3/command/printer_simple.go at v3.6.14); a member is found by its peer URL, which a never-started
# member also has (its name is empty).
REJOIN_SCRIPT = """set -eu
state=new
if [ -d "$DATA_DIR/member" ]; then
  echo "$POD_NAME has its data: it starts as it is"
elif members=$("$ETCDCTL" member list 2>&1); then
  id=
  while IFS= read -r line; do
    case "$line" in *"$PEER_URL"*) id=${line%%,*} ;; esac
  done <<MEMBERS
$members
MEMBERS
  if [ -n "$id" ]; then
    echo "$POD_NAME has no data but the others know it as member $id: replacing that member"
    "$ETCDCTL" member remove "$id"
  else
    echo "$POD_NAME has no data and is not a member: adding it"
  fi
  tries=0
  until "$ETCDCTL" member add "$POD_NAME" --peer-urls="$PEER_URL"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 30 ]; then exit 1; fi
    echo "the others refuse a new member for now (a peer not connected long enough); trying again"
    $BUSYBOX sleep 2
  done
  state=existing
elif "$ETCDCTL" member list --consistency=s > /dev/null 2>&1; then
  echo "the others answer but have no quorum: $POD_NAME waits for it rather than start a cluster of its own" >&2
  exit 1
else
  echo "no other member answers, so the cluster is starting for the first time: $POD_NAME starts as new"
  echo "$members"
fi
echo "$state" > "$STATE_FILE"
"""
# etcd, started with the state the rejoin step wrote.
START_SCRIPT = 'read -r state < "$STATE_FILE"; exec /usr/local/bin/etcd "$@" --initial-cluster-state="$state"'
POD_NAME_ENV = {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}


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


def rejoin_environment() -> list[dict[str, Any]]:
    """The rejoin step's settings: etcdctl reaches every member (the starting one does not answer, so the
    client moves on to the others) with the server's own certificate, which is also a client's."""
    endpoints = ",".join(f"https://{_peer(i)}:{CLIENT_PORT}" for i in range(MEMBERS))
    values = {"DATA_DIR": DATA_DIR, "STATE_FILE": STATE_FILE, "ETCDCTL": "/usr/local/bin/etcdctl",
              "BUSYBOX": f"{SHELL_TOOLS}/busybox",
              "PEER_URL": f"http://$(POD_NAME).{ETCD}.{NAMESPACE}.svc.cluster.local:{PEER_PORT}",
              "ETCDCTL_ENDPOINTS": endpoints, "ETCDCTL_CACERT": f"{metadata_tls.SERVER_DIR}/ca.crt",
              "ETCDCTL_CERT": f"{metadata_tls.SERVER_DIR}/tls.crt",
              "ETCDCTL_KEY": f"{metadata_tls.SERVER_DIR}/tls.key",
              "ETCDCTL_DIAL_TIMEOUT": "5s", "ETCDCTL_COMMAND_TIMEOUT": "15s"}
    return [POD_NAME_ENV, *({"name": key, "value": value} for key, value in values.items())]


def etcd_statefulset_spec() -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": ETCD}
    cluster = ",".join(f"{ETCD}-{i}=http://{_peer(i)}:{PEER_PORT}" for i in range(MEMBERS))
    tls = {"name": "tls", "mountPath": metadata_tls.SERVER_DIR, "readOnly": True}
    data = {"name": "data", "mountPath": DATA_DIR, "subPath": ETCD}
    rejoin = {"name": "rejoin", "image": ETCD_IMAGE, "command": shell_command(REJOIN_SCRIPT),
              "env": rejoin_environment(), "volumeMounts": [data, tls, SHELL_MOUNT],
              "resources": resources("20m", "32Mi", memory_limit="64Mi")}
    container = {
        "name": "etcd",
        "image": ETCD_IMAGE,
        "command": shell_command(START_SCRIPT, "etcd"),
        "args": [
            "--name=$(POD_NAME)",
            f"--data-dir={DATA_DIR}",
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
            f"--initial-cluster-token={ETCD}",
            f"--listen-metrics-urls=http://0.0.0.0:{METRICS_PORT}",
            "--auto-compaction-retention=1h",
            "--quota-backend-bytes=2147483648",
        ],
        "env": [POD_NAME_ENV, {"name": "STATE_FILE", "value": STATE_FILE}],
        "ports": [{"name": "client", "containerPort": CLIENT_PORT},
                  {"name": "peer", "containerPort": PEER_PORT}, {"name": "metrics", "containerPort": METRICS_PORT}],
        "volumeMounts": [data, tls, SHELL_MOUNT],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": METRICS_PORT}, "periodSeconds": 10},
        # A member that cannot serve (a stuck disk, a lost quorum it cannot rejoin) is restarted; generous, because
        # a restart during a long snapshot transfer only starts it over.
        "livenessProbe": {"httpGet": {"path": "/livez", "port": METRICS_PORT}, "periodSeconds": 20,
                          "failureThreshold": 6},
        "resources": resources("50m", "128Mi", memory_limit="384Mi"),
    }
    return spread_statefulset(ETCD, MEMBERS, labels, container, [DATA.claim_template()],
                              volumes=[{"name": "tls", "secret": {"secretName": metadata_tls.SERVER_SECRET}},
                                       SHELL_VOLUME],
                              init_containers=[shell_copy_container(), rejoin])


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
