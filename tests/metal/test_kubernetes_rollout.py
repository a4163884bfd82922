"""A Kubernetes version bump reaches the nodes one at a time, each after Talos reports the cluster healthy; an
update that moves nothing else applies every node at once, as before."""

import itertools

import yaml

from components.versions import KUBERNETES
from labctl.synth import SynthResult, synthesize

APPLY = "talos:machine/configurationApply:ConfigurationApply"
HEALTH = "talos:cluster/getHealth:getHealth"
# prod's inventory in the rollout order: control planes by name, then the worker.
ORDER = ["pi-1", "pi-2", "pi-3", "pi-4"]


def _older_patch(version: str) -> str:
    major, minor, patch = version.lstrip("v").split(".")
    return f"v{major}.{minor}.{int(patch) - 1}"


def _with_kubernetes(prod: SynthResult, version: str, preview: bool = False) -> SynthResult:
    deployed = {**prod.outputs, "versions": {**prod.outputs["versions"], "kubernetes": version}}
    return synthesize("prod", deployed_outputs=deployed, preview=preview)


def _waits_for(result: SynthResult) -> dict[str, bool]:
    """Per node: whether its config waits for the node before it in the rollout order."""
    applies = {node: result.one(APPLY, f"homelab-{node}") for node in ORDER}
    return {node: applies[before].urn in applies[node].dependencies for before, node in itertools.pairwise(ORDER)}


def test_a_kubernetes_bump_rolls_node_by_node_with_a_health_check_before_each(prod):
    rolled = _with_kubernetes(prod, _older_patch(KUBERNETES))
    assert _waits_for(rolled) == dict.fromkeys(ORDER[1:], True)
    checks = [call for call in rolled.invocations if call.token == HEALTH]
    # One before the first node, one after each, and the one that releases the kubeconfig.
    assert len(checks) == len(ORDER) + 2
    assert all(check.args["workerNodes"] == ["192.168.10.14"] for check in checks)


def test_the_machine_configs_of_a_rollout_are_the_ones_a_plain_update_applies(prod):
    rolled = _with_kubernetes(prod, _older_patch(KUBERNETES))
    for node in ORDER:
        assert rolled.one(APPLY, f"homelab-{node}").inputs == prod.one(APPLY, f"homelab-{node}").inputs


def test_a_preview_of_a_rollout_shows_every_node_and_runs_no_check(prod):
    previewed = _with_kubernetes(prod, _older_patch(KUBERNETES), preview=True)
    assert [call for call in previewed.invocations if call.token == HEALTH][:-1] == []
    for node in ORDER:
        patches = previewed.one(APPLY, f"homelab-{node}").inputs["configPatches"]
        assert yaml.safe_load(patches[0])["machine"]["install"]["disk"]


def test_an_update_that_keeps_kubernetes_applies_every_node_at_once(prod):
    same = synthesize("prod", deployed_outputs=prod.outputs)
    assert _waits_for(same) == dict.fromkeys(ORDER[1:], False)
    assert len([call for call in same.invocations if call.token == HEALTH]) == 1
    assert _waits_for(prod) == dict.fromkeys(ORDER[1:], False)
