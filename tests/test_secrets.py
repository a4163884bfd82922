"""No secret config value (placeholder) or provider secret (canary) appears in clear anywhere synth writes."""

import pytest

from labctl import render
from labctl.engine import Registration
from labctl.mocks import CANARY, PLACEHOLDER
from labctl.synth import SynthResult
from tests.conftest import redacted


def _leaks(result: SynthResult) -> list[str]:
    return [
        f"{file.path}: {marker}"
        for file in render.rendered_files(result)
        for marker in (CANARY, PLACEHOLDER)
        if marker in file.content
    ]


@pytest.mark.parametrize("stack", ["prod", "lab", "experiment"])
def test_nothing_secret_is_written_in_clear(stack, request):
    result: SynthResult = request.getfixturevalue(stack)
    assert _leaks(result) == []


def test_the_mocks_really_produce_canaries_and_placeholders(prod):
    """Guards the test above against passing vacuously: secrets did flow through the program."""
    sent = str([invocation.args for invocation in prod.invocations])
    assert f"{CANARY}:homelab-secrets.bootstrapToken" in sent
    exported = str(prod.raw_outputs)  # wire form, secret markers and values inside
    for canary in ("velero-key.secret", "restore-drill-key.secret", "operator-production.key", "homelab-kubeconfig"):
        assert f"{CANARY}:{canary}" in exported
    assert sorted(prod.placeholders) == [f"{PLACEHOLDER}:homelab:{key}"
                                         for key in ("backupRepositoryPassword", "grafanaAdminPassword",
                                                     "storageRootPassword")]


def test_the_leak_check_catches_a_secret_in_clear(prod):
    leaked = Registration(urn="urn:pulumi:prod::homelab::test:Leak::leak", type="test:Leak", name="leak",
                          custom=True, parent="", provider="", dependencies=(), protect=False,
                          inputs={"password": f"{CANARY}:planted"})
    planted = SynthResult(prod.stack, [*prod.registrations, leaked], prod.outputs, prod.raw_outputs,
                          prod.invocations, prod.placeholders)
    assert _leaks(planted) == [f"resources.json: {CANARY}"]


def test_what_the_talos_invokes_return_reaches_state_only_as_a_secret(prod):
    """The machine configurations and the talosconfig are computed by invokes from the machine secrets: every
    resource input and output that carries them is secret, whichever resource or output holds them."""
    carriers = [(r.urn, key) for r in prod.registrations for key, value in r.inputs.items()
                if key in ("machineConfigurationInput", "clientConfiguration")]
    assert len(carriers) >= 4 + 4 + 2, carriers
    for registration in prod.registrations:
        for key in ("machineConfigurationInput", "clientConfiguration"):
            if key in registration.inputs:
                value = registration.inputs[key]
                assert value == "[secret]" or redacted(value), f"{registration.urn}: {key} is not secret"
    assert prod.outputs["talosconfig"] == "[secret]"
    sent = {i.token for i in prod.invocations if CANARY in str(i.args)}
    assert {"talos:machine/getConfiguration:getConfiguration",
            "talos:client/getConfiguration:getConfiguration"} <= sent
