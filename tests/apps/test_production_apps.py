"""Production's apps reach the production cluster through Argo CD; what they need is written into the guest."""

import json
import re

import yaml

from components import versions
from tests.conftest import redacted

APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
PROXY = "kubernetes:addons.cluster.x-k8s.io/v1alpha1:HelmChartProxy"
INSIDE = "homelab:apps:InsideProduction"


def _applications(prod):
    return {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in prod.by_type(APPLICATION)
            if r.inputs["metadata"]["name"] != "root"}


def test_home_assistant_and_pihole_are_pinned_argocd_applications_for_the_production_cluster(prod):
    apps = _applications(prod)
    assert set(apps) == {"production-home-assistant", "production-pihole"}
    pins = {spec["source"]["chart"]: spec["source"]["targetRevision"] for spec in apps.values()}
    assert pins == {"home-assistant": versions.HOME_ASSISTANT, "pihole": versions.PIHOLE}
    for spec in apps.values():
        assert spec["project"] == "production" and spec["destination"]["name"] == "production"


def test_app_volumes_are_on_the_guests_shared_filesystem_and_pihole_dns_is_a_lan_load_balancer(prod):
    apps = _applications(prod)
    home = apps["production-home-assistant"]["source"]["helm"]["valuesObject"]
    pihole = apps["production-pihole"]["source"]["helm"]["valuesObject"]
    assert home["persistence"]["storageClass"] == pihole["persistentVolumeClaim"]["storageClass"] == "juicefs"
    assert pihole["serviceDns"]["type"] == "LoadBalancer"
    assert home["service"]["annotations"]["tailscale.com/expose"] == "true"
    classes = [r for r in prod.by_type("kubernetes:storage.k8s.io/v1:StorageClass") if f"{INSIDE}$" in r.urn]
    assert "juicefs" in {c.inputs["metadata"]["name"] for c in classes}


def test_every_port_production_exposes_on_the_tailnet_is_one_the_policy_grants_members(prod):
    (acl,) = prod.by_type("tailscale:index/acl:Acl")
    policy = json.loads(acl.inputs["acl"])
    granted = {port for grant in policy["grants"] if "autogroup:member" in grant["src"]
               and ("tag:k8s" in grant["dst"] or "*" in grant["dst"]) for port in grant["ip"]}
    exposed = [values["service"]["port"] for values in
               (spec["source"]["helm"]["valuesObject"] for spec in _applications(prod).values())
               if values.get("service", {}).get("annotations", {}).get("tailscale.com/expose") == "true"]
    assert exposed == [80]
    assert all("*" in granted or f"tcp:{port}" in granted for port in exposed), (exposed, granted)


def test_pihole_answers_every_network_and_keeps_lan_traffic_on_any_vm(prod):
    pihole = _applications(prod)["production-pihole"]["source"]["helm"]["valuesObject"]
    assert pihole["extraEnvVars"]["FTLCONF_dns_listeningMode"] == "all"
    assert pihole["serviceDns"]["externalTrafficPolicy"] == "Cluster"


def test_pihole_takes_the_configured_dns_address(prod):
    pihole = _applications(prod)["production-pihole"]["source"]["helm"]["valuesObject"]
    assert pihole["serviceDns"]["loadBalancerIP"] == "192.168.10.200"
    records = prod.by_type("cloudflare:index/dnsRecord:DnsRecord")
    (record,) = [r for r in records if r.inputs["name"].startswith("pihole.")]
    assert record.inputs["content"] == "192.168.10.200"


def test_guest_secrets_go_through_the_guests_own_provider_and_stay_secret(prod):
    guest = prod.one("pulumi:providers:kubernetes", "production-guest")
    assert guest.inputs["clusterIdentifier"] == "production" and guest.inputs["kubeconfig"] == "[secret]"
    secrets = {r.inputs["metadata"]["name"]: r for r in prod.by_type("kubernetes:core/v1:Secret")
               if f"{INSIDE}$" in r.urn}
    assert set(secrets) == {"juicefs-volume", "operator-oauth", "velero-offsite-credentials", "velero-repo-credentials"}
    for secret in secrets.values():
        assert secret.provider.startswith(guest.urn)
    assert redacted(secrets["juicefs-volume"].inputs["stringData"])
    assert redacted(secrets["operator-oauth"].inputs["stringData"])
    assert redacted(secrets["velero-repo-credentials"].inputs["stringData"])


def test_the_guest_reaches_the_metadata_engine_through_a_client_service_address(prod):
    from components.platform.metadata import metadata_url_at

    client = prod.one("kubernetes:core/v1:Service", "etcd-client")
    assert client.inputs["spec"]["ports"] == [{"name": "client", "port": 2379}]
    assert "clusterIP" not in client.inputs["spec"], "an allocated address, not a headless service"
    assert re.fullmatch(r"etcd://10\.96\.1\.2:2379/production\?cacert=\S+&cert=\S+&key=\S+",
                        metadata_url_at("10.96.1.2", "production"))


def test_metadata_members_advertise_the_client_service_address_a_guest_can_reach(prod):
    # JuiceFS's etcd client replaces its endpoints with the members' advertised client URLs every minute.
    members = prod.one("kubernetes:apps/v1:StatefulSet", "juicefs-meta")
    (container,) = members.inputs["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    advertised = [a for a in container["args"] if a.startswith("--advertise-client-urls=")]
    assert advertised == ["--advertise-client-urls=https://$(CLIENT_SERVICE_ADDRESS):2379"]
    assert re.fullmatch(r"10\.96\.\d+\.\d+", env["CLIENT_SERVICE_ADDRESS"])
    assert prod.one("kubernetes:core/v1:Service", "etcd-client").urn in members.dependencies


def test_velero_in_production_backs_the_app_namespaces_up_under_its_own_prefix(prod):
    proxies = {r.inputs["spec"]["chartName"]: r.inputs["spec"] for r in prod.by_type(PROXY)
               if r.inputs["metadata"]["namespace"] == "production"}
    assert set(proxies) == {"cilium", "juicefs-csi-driver", "tailscale-operator", "velero"}
    velero = yaml.safe_load(proxies["velero"]["valuesTemplate"])
    (location,) = velero["configuration"]["backupStorageLocation"]
    assert location["prefix"] == "production" and location["bucket"] == "example-homelab-velero"
    assert set(velero["schedules"]["apps"]["template"]["includedNamespaces"]) == {"home-assistant", "pihole"}
    assert velero["credentials"]["existingSecret"] == "velero-offsite-credentials"
    assert "aws_secret_access_key" not in proxies["velero"]["valuesTemplate"]
    for spec in proxies.values():
        assert spec["clusterSelector"]["matchLabels"] == {"homelab.dev/cluster": "production"}


def test_a_like_production_experiment_gets_throwaway_copies_of_productions_apps(build, prod):
    from labctl.synth import stack_reference_outputs

    # Two small experiments: the reference inventory leaves room for one of the default size beside production.
    small = {"size": {"cpu": 1, "memory": "1Gi"}}
    result = build("lab", {"homelab:experiments": [{"name": "dev", "like": "production", **small},
                                                   {"name": "plain", **small}]},
                   prod_outputs=stack_reference_outputs(prod))
    apps = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in result.by_type(APPLICATION)}
    assert set(apps) == {"exp-dev-home-assistant", "exp-dev-pihole"}
    production = _applications(prod)
    for name, spec in apps.items():
        twin = production[name.replace("exp-dev", "production")]
        assert spec["project"] == "experiment" and spec["destination"]["name"] == "exp-dev"
        assert spec["source"]["targetRevision"] == twin["source"]["targetRevision"]
        values = spec["source"]["helm"]["valuesObject"]
        assert "tailscale.com/expose" not in str(values) and "loadBalancerIP" not in str(values)
        assert all(v == {"enabled": False} for k, v in values.items() if k in ("persistence", "persistentVolumeClaim"))


def test_home_assistant_gets_a_record_pointing_at_its_tailnet_name_when_the_tailnet_is_named(build, prod):
    from labctl.synth import read_stack_file

    assert not [r for r in prod.by_type("cloudflare:index/dnsRecord:DnsRecord") if r.name == "home-assistant-cname"]
    cloud = read_stack_file("prod")["homelab:cloud"]
    named = build("prod", {"homelab:cloud": {**cloud, "tailnet": {**cloud["tailnet"], "dnsName": "tail1234.ts.net"}}})
    record = named.one("cloudflare:index/dnsRecord:DnsRecord", "home-assistant-cname").inputs
    assert record["content"] == "home-assistant.tail1234.ts.net" and record["proxied"] is False
    from components.cloud.dns import record_comment

    assert record["comment"] == record_comment("prod")
