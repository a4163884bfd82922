"""Cloudflare records the program owns, cert-manager's scoped token, and the operator's tailnet objects."""

import json

from components.cloud.tailnet import OPERATOR_TAG, PROXY_TAG, policy_document

RECORD = "cloudflare:index/dnsRecord:DnsRecord"


def test_records_from_config_are_owned_and_never_proxy_private_addresses(prod):
    records = {r.inputs["name"]: r.inputs for r in prod.by_type(RECORD)}
    assert set(records) == {"pihole.example.net"}
    zone = prod.outputs["dnsZoneId"]
    for record in records.values():
        assert record["zoneId"] == zone
        assert record["proxied"] is False
        assert "Managed by Pulumi" in record["comment"]


def test_dns01_token_edits_this_zone_only_and_reaches_cert_manager_as_a_secret(prod):
    (token,) = prod.by_type("cloudflare:index/apiToken:ApiToken")
    (policy,) = token.inputs["policies"]
    assert json.loads(policy["resources"]) == {f"com.cloudflare.api.account.zone.{prod.outputs['dnsZoneId']}": "*"}
    secret = prod.one("kubernetes:core/v1:Secret", "cloudflare-dns01-token")
    assert secret.inputs["stringData"] == {"api-token": "[secret]"}
    issuer = prod.one("kubernetes:cert-manager.io/v1:ClusterIssuer", "letsencrypt-dns01").inputs["spec"]["acme"]
    assert issuer["solvers"][0]["dns01"]["cloudflare"]["apiTokenSecretRef"]["name"] == "cloudflare-dns01-token"
    assert secret.urn in prod.one("kubernetes:cert-manager.io/v1:ClusterIssuer", "letsencrypt-dns01").dependencies


def test_no_token_and_no_acme_issuer_unless_asked(build):
    from labctl.synth import read_stack_file

    cloud = read_stack_file("prod")["homelab:cloud"]
    result = build("prod", {"homelab:cloud": {**cloud, "dns": {**cloud["dns"], "certManagerToken": False}}})
    assert result.by_type("cloudflare:index/apiToken:ApiToken") == []
    # The self-signed issuer and the metadata engine's CA, nothing that talks to Let's Encrypt.
    issuers = result.by_type("kubernetes:cert-manager.io/v1:ClusterIssuer")
    assert [r.name for r in issuers] == ["homelab-selfsigned", "juicefs-meta-ca-issuer"]
    assert not any("acme" in r.inputs["spec"] for r in issuers)


def test_operator_tag_owns_the_proxy_tag_and_user_rules_are_kept(prod):
    (acl,) = prod.by_type("tailscale:index/acl:Acl")
    policy = json.loads(acl.inputs["acl"])
    assert policy["tagOwners"][PROXY_TAG] == [OPERATOR_TAG]
    assert policy["tagOwners"][OPERATOR_TAG] == []
    assert policy["groups"] == {"group:homelab-admins": []}  # from tailnet/policy.json
    merged = policy_document({"tagOwners": {PROXY_TAG: ["group:ops"]}})
    assert merged["tagOwners"][PROXY_TAG] == ["group:ops", OPERATOR_TAG]


def test_one_least_scope_oauth_client_per_operator_cluster(prod):
    clients = {r.name: r for r in prod.by_type("tailscale:index/oauthClient:OauthClient")}
    assert set(clients) == {"operator-infrastructure", "operator-production"}
    (acl,) = prod.by_type("tailscale:index/acl:Acl")
    for client in clients.values():
        assert client.inputs["scopes"] == ["devices:core", "auth_keys", "services"]
        assert client.inputs["tags"] == [OPERATOR_TAG]
        assert acl.urn in client.dependencies
    assert prod.outputs["tailnetTags"] == {"operator": OPERATOR_TAG, "proxies": PROXY_TAG}
