"""The metadata engine admits only clients with a certificate of its own CA, and every client holds its own.

What was registered: the members' TLS flags and mounts, the serving certificate's names against every address a
client dials, one client certificate per client (the guest's issued beside its Cluster API objects and copied
in), and the node copy the CSI plugins read. Whether the real etcd and JuiceFS agree is the upstream tier's
(tests/upstream/test_metadata_tls.py).
"""

from urllib.parse import parse_qs, urlsplit

import yaml

from components.platform import metadata, metadata_tls
from components.platform.metadata import metadata_url, metadata_url_at, server_names
from components.platform.metadata_tls import CLIENT_DIR, CLIENT_FILES_SYNC, CLIENT_SECRET

CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate"
DAEMONSET = "kubernetes:apps/v1:DaemonSet"


def _members(prod):
    (container,) = prod.one("kubernetes:apps/v1:StatefulSet", metadata.ETCD).inputs["spec"]["template"]["spec"][
        "containers"]
    return container


def test_members_serve_clients_over_tls_and_require_a_client_certificate(prod):
    container = _members(prod)
    args = container["args"]
    assert "--client-cert-auth" in args
    assert f"--trusted-ca-file={metadata_tls.SERVER_DIR}/ca.crt" in args
    assert all(a.split("=", 1)[1].startswith("https://") for a in args
               if a.startswith(("--listen-client-urls=", "--advertise-client-urls=")))
    assert {"name": "tls", "mountPath": metadata_tls.SERVER_DIR, "readOnly": True} in container["volumeMounts"]
    pod = prod.one("kubernetes:apps/v1:StatefulSet", metadata.ETCD).inputs["spec"]["template"]["spec"]
    assert {"name": "tls", "secret": {"secretName": metadata_tls.SERVER_SECRET}} in pod["volumes"]


def test_the_serving_certificate_names_every_address_a_client_dials(prod):
    server = prod.one(CERTIFICATE, metadata_tls.SERVER_SECRET).inputs
    assert server["metadata"]["namespace"] == metadata.NAMESPACE
    spec = server["spec"]
    hosts = {host.rsplit(":", 1)[0] for host in urlsplit(metadata_url("homelab")).netloc.split(",")}
    assert hosts <= set(spec["dnsNames"]) and set(server_names()) == set(spec["dnsNames"])
    # What the members advertise, so what every client's endpoints become after its first sync: the address.
    advertised = {e["name"]: e.get("value") for e in _members(prod)["env"]}[metadata.CLIENT_ADDRESS_ENV]
    assert spec["ipAddresses"] == [advertised]
    # The members' HTTP gateway presents it as a client to their own gRPC port (the upstream tier shows why).
    assert spec["usages"] == ["digital signature", "server auth", "client auth"]
    assert spec["issuerRef"] == {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": metadata_tls.CA}
    members = prod.one("kubernetes:apps/v1:StatefulSet", metadata.ETCD)
    assert prod.one(CERTIFICATE, metadata_tls.SERVER_SECRET).urn in members.dependencies


def test_the_ca_is_self_signed_and_signs_through_a_cluster_issuer(prod):
    ca = prod.one(CERTIFICATE, metadata_tls.CA).inputs
    assert ca["spec"]["isCA"] is True and ca["metadata"]["namespace"] == "cert-manager"
    assert ca["spec"]["issuerRef"]["name"] == "homelab-selfsigned"
    issuer = prod.one("kubernetes:cert-manager.io/v1:ClusterIssuer", f"{metadata_tls.CA}-issuer")
    assert issuer.inputs["spec"] == {"ca": {"secretName": metadata_tls.CA}}
    assert prod.one(CERTIFICATE, metadata_tls.CA).urn in issuer.dependencies


def test_each_client_holds_a_certificate_of_its_own(prod):
    clients = {r.inputs["spec"]["commonName"]: r.inputs for r in prod.by_type(CERTIFICATE)
               if r.inputs["spec"].get("usages") == ["digital signature", "client auth"]}
    assert {name: c["metadata"]["namespace"] for name, c in clients.items()} == {
        "juicefs-homelab": "juicefs", "offsite-replication": "storage", "juicefs-production": "production"}
    assert {c["spec"]["secretName"] for c in clients.values()} == {CLIENT_SECRET, f"production-{CLIENT_SECRET}"}
    for certificate in prod.by_type(CERTIFICATE):
        # Pulumi waits for each to be issued before anything mounts its Secret.
        assert certificate.inputs["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}


def test_every_metaurl_names_the_client_files_where_each_client_mounts_them():
    for url in (metadata_url("homelab"), metadata_url_at("10.96.1.2", "production")):
        query = parse_qs(urlsplit(url).query)
        assert query == {"cacert": [f"{CLIENT_DIR}/ca.crt"], "cert": [f"{CLIENT_DIR}/tls.crt"],
                         "key": [f"{CLIENT_DIR}/tls.key"]}


def test_the_csi_plugins_read_a_node_copy_kept_by_a_daemonset_on_every_node(prod):
    for within, provider in (("homelab:platform:Platform", "infrastructure"),
                             ("homelab:apps:InsideProduction", "production-guest")):
        sync = prod.one(DAEMONSET, CLIENT_FILES_SYNC, within=within)
        assert sync.inputs["metadata"]["namespace"] == "juicefs"
        assert sync.provider.split("::")[-2] == provider, sync.provider
        pod = sync.inputs["spec"]["template"]["spec"]
        assert pod["tolerations"] == [{"operator": "Exists"}]
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["secret"]["secret"]["secretName"] == CLIENT_SECRET
        assert volumes["node"]["hostPath"]["path"] == "/var/lib/juicefs/config/meta-tls"
        # The storage classes (so every mount) come after the node copy.
        classes = [r for r in prod.by_type("kubernetes:storage.k8s.io/v1:StorageClass")
                   if f"{within}$" in r.urn and r.inputs["provisioner"] == "csi.juicefs.com"]
        assert classes and all(sync.urn in c.dependencies for c in classes)


def test_the_guest_certificate_is_copied_in_first_and_then_hourly(prod):
    kustomization = yaml.safe_load(prod.one("kubernetes:core/v1:ConfigMap", f"production-{CLIENT_SECRET}").inputs[
        "data"]["kustomization.yaml"])
    assert kustomization["namespace"] == "juicefs"
    (generated,) = kustomization["secretGenerator"]
    assert generated["name"] == CLIENT_SECRET and generated["files"] == ["ca.crt", "tls.crt", "tls.key"]
    first = prod.one("kubernetes:batch/v1:Job", f"production-{CLIENT_SECRET}-first")
    hourly = prod.one("kubernetes:batch/v1:CronJob", f"production-{CLIENT_SECRET}")
    assert hourly.inputs["spec"]["jobTemplate"]["spec"] == first.inputs["spec"]
    pod = first.inputs["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["guest"]["secret"]["secretName"] == "production-kubeconfig"
    sources = volumes["delivery"]["projected"]["sources"]
    assert sources[1]["secret"]["name"] == f"production-{CLIENT_SECRET}"
    guest_namespace = prod.one("kubernetes:core/v1:Namespace", "ns-juicefs", within="homelab:apps:InsideProduction")
    assert guest_namespace.urn in first.dependencies, "the copy lands in a namespace that exists"
    sync = prod.one(DAEMONSET, CLIENT_FILES_SYNC, within="homelab:apps:InsideProduction")
    assert first.urn in sync.dependencies


def test_the_budget_counts_the_node_copy_on_every_node(prod):
    budget = prod.outputs["capacity"]
    (entry,) = [w for w in budget["workloads"] if w["owner"] == CLIENT_FILES_SYNC]
    assert entry["perNode"] is True and entry["pods"] == len(budget["nodes"])
    assert entry["perPod"] == {"cpu_m": 5, "memory_mib": 8}


def test_only_the_members_reach_the_peer_port(prod):
    policy = prod.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", f"{metadata.ETCD}-peers").inputs["spec"]
    open_rule, peer_rule = policy["ingress"]
    assert "from" not in open_rule and {p["port"] for p in open_rule["ports"]} == {2379, 2381}
    assert peer_rule["from"] == [{"podSelector": policy["podSelector"]}]
    assert [p["port"] for p in peer_rule["ports"]] == [2380]
