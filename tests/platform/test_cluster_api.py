"""Cluster API: the operator after cert-manager, and one pinned provider object per contract piece."""

from components import versions

RELEASE = "kubernetes:helm.sh/v3:Release"
EXPECTED = {
    "CoreProvider": ("cluster-api", versions.CAPI),
    "InfrastructureProvider": ("kubevirt", versions.CAPK),
    "BootstrapProvider": ("talos", versions.CABPT),
    "ControlPlaneProvider": ("talos", versions.CACPPT),
    "AddonProvider": ("helm", versions.CAAPH),
}


def _providers(prod):
    return {r.type.rsplit(":", 1)[-1]: r for r in prod.registrations
            if r.type.startswith("kubernetes:operator.cluster.x-k8s.io/v1alpha2:")}


def test_one_pinned_provider_per_contract_piece(prod):
    providers = _providers(prod)
    assert set(providers) == set(EXPECTED)
    for kind, (name, version) in EXPECTED.items():
        inputs = providers[kind].inputs
        assert inputs["metadata"]["name"] == name
        assert inputs["spec"]["version"] == version
        assert inputs["spec"]["fetchConfig"]["url"].startswith("https://github.com/")


def test_providers_wait_for_the_operator_which_waits_for_cert_manager(prod):
    operator = prod.one(RELEASE, "capi-operator")
    assert prod.one(RELEASE, "cert-manager").urn in operator.dependencies
    for provider in _providers(prod).values():
        assert operator.urn in provider.dependencies


def test_talos_providers_match_the_pinned_talos_minor():
    # CACPPT 0.5 supports Talos <= 1.12; the whole homelab pins 1.12.
    assert versions.CACPPT.startswith("v0.5.") and versions.TALOS.startswith("v1.12.")
    assert versions.CAPI.startswith("v1.10.")


def test_production_objects_wait_until_every_provider_is_ready(prod):
    """The operator's providers come up minutes after their objects exist; a guest object created before its
    CRD and webhooks serve fails. Each provider is held until Ready, and every production CR waits for them."""
    providers = [r for r in prod.registrations if r.type.startswith("kubernetes:operator.cluster.x-k8s.io/")]
    assert len(providers) == 5
    for provider in providers:
        assert provider.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"
    guest_objects = [r for r in prod.registrations if "homelab:clusters:GuestCluster$kubernetes:" in r.urn
                     and ".x-k8s.io/" in r.type and not r.read]
    assert len(guest_objects) >= 8
    for guest_object in guest_objects:
        assert {p.urn for p in providers} <= set(guest_object.dependencies), guest_object.name
