"""Every Talos machine config the program causes, built and validated by the real Talos machinery, strictly:
warnings count as errors (tests/upstream/talos.py says how each is generated)."""

import pytest
import yaml

from tests.upstream.talos import guest_machines, infrastructure_machines, talos_verdicts


@pytest.mark.parametrize("stack", ["prod", "lab", "experiment", "crowded_lab"])
def test_every_machine_config_passes_the_talos_machinery(stack, request, talos_check):
    result = request.getfixturevalue(stack)
    machines = guest_machines(result) + (infrastructure_machines(result) if stack == "prod" else [])
    assert machines, f"{stack}: no Talos machine found"
    if stack == "prod":
        assert {m["generator"] for m in machines} == {"provider", "cabpt"}
    verdicts = talos_verdicts(talos_check, machines)
    rejected = {name: errors for name, errors in verdicts.items() if errors}
    assert not rejected, "Talos rejects:\n" + yaml.safe_dump(rejected, width=200)


def test_the_checker_rejects_what_talos_rejects(prod, talos_check):
    """The tier can fail: a hostname label past 63 characters, and a patch to a field v1alpha1 does not have."""
    (node, *_) = infrastructure_machines(prod)
    long_hostname = "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: " + "x" * 64 + "\n"
    bad_hostname = {**node, "name": "bad-hostname", "patches": [*node["patches"], long_hostname]}
    unknown_field = {**node, "name": "unknown-field", "patches": ["machine:\n  notAField: true\n"]}
    verdicts = talos_verdicts(talos_check, [bad_hostname, unknown_field])
    assert verdicts["bad-hostname"], "a 64-character hostname passed"
    assert verdicts["unknown-field"], "an unknown v1alpha1 field passed"
