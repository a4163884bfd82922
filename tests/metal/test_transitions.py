"""Changes Talos and etcd cannot take in one update are refused before any machine config is applied, each with
the path to follow; a first deployment is not checked."""

import pytest

from components.config import Node
from components.metal.transitions import inventory_issues, kubernetes_rolls, pace_issues, version_issues
from labctl.engine import ProgramError
from labctl.synth import config_error, synthesize
from tests.conftest import prod_nodes

DEPLOYED = {"talos": "v1.11.6", "kubernetes": "v1.33.5"}


@pytest.mark.parametrize(("wanted", "problem", "fix"), [
    ({"talos": "v1.13.0", "kubernetes": "v1.33.13"}, "v1.13.0 skips a minor", "newest v1.12.x first"),
    ({"talos": "v1.10.9", "kubernetes": "v1.33.13"}, "older than the deployed v1.11.6", "keep v1.11.6"),
    ({"talos": "v1.12.11", "kubernetes": "v1.35.0"}, "v1.35.0 skips a minor", "newest v1.34.x first"),
])
def test_a_version_off_the_upgrade_path_is_refused_with_the_path(wanted, problem, fix):
    (issue,) = version_issues(DEPLOYED, wanted)
    assert problem in issue.problem and fix in issue.fix
    assert issue.key.startswith("homelab:versions.")


def test_one_minor_up_a_patch_and_a_first_deployment_pass():
    assert list(version_issues(DEPLOYED, {"talos": "v1.12.11", "kubernetes": "v1.34.2"})) == []
    assert list(version_issues(DEPLOYED, {"talos": "v1.11.9", "kubernetes": "v1.33.13"})) == []
    assert list(version_issues(None, {"talos": "v1.12.11", "kubernetes": "v1.33.13"})) == []


def _nodes(entries):
    return [Node.model_validate(entry) for entry in entries]


def _deployed(entries):
    return {entry["name"]: {"ip": entry["ip"], "role": entry["role"]} for entry in entries}


def test_two_control_planes_gone_at_once_or_a_changed_role_is_refused():
    before = prod_nodes()
    (issue,) = inventory_issues(_deployed(before), _nodes([n for n in before if n["name"] not in ("pi-2", "pi-3")]))
    assert "pi-2, pi-3" in issue.problem and "quorum" in issue.problem and "etcd leave" in issue.fix
    changed = [{**n, "role": "worker"} if n["name"] == "pi-3" else n for n in before]
    (issue,) = inventory_issues(_deployed(before), _nodes(changed))
    assert "pi-3 is deployed as a controlplane and is now a worker" in issue.problem


def test_one_node_gone_a_node_added_and_a_first_deployment_pass():
    before = prod_nodes()
    assert list(inventory_issues(_deployed(before), _nodes([n for n in before if n["name"] != "pi-3"]))) == []
    assert list(inventory_issues(None, _nodes(before))) == []


def test_the_stack_refuses_a_skipped_minor_it_reads_from_its_own_last_outputs(prod):
    deployed = {**prod.outputs, "versions": {**prod.outputs["versions"], "talos": "v1.10.7"}}
    with pytest.raises(ProgramError) as refused:
        synthesize("prod", deployed_outputs=deployed)
    error = config_error(refused.value)
    assert error is not None and [issue.key for issue in error.issues] == ["homelab:versions.talos"]
    # And its last outputs as they are: the same update again passes.
    assert synthesize("prod", deployed_outputs=prod.outputs).outputs["versions"] == prod.outputs["versions"]


def test_talos_and_kubernetes_both_moving_a_minor_or_kubernetes_moving_with_the_inventory_are_refused():
    wanted = {"talos": "v1.12.11", "kubernetes": "v1.34.2"}
    (issue,) = pace_issues(DEPLOYED, wanted, None, [])
    assert "both move a minor" in issue.problem and "move Talos first" in issue.fix
    assert "kubernetes v1.33.5" in issue.fix
    before = prod_nodes()
    (issue,) = pace_issues(DEPLOYED, {"talos": "v1.11.6", "kubernetes": "v1.33.13"}, _deployed(before),
                           _nodes(before[:-1]))
    assert issue.key == "homelab:nodes" and "while nodes are added or removed" in issue.problem


def test_one_kind_of_change_at_a_time_passes_and_says_whether_kubernetes_rolls():
    before = prod_nodes()
    assert list(pace_issues(DEPLOYED, {"talos": "v1.12.11", "kubernetes": "v1.33.9"}, _deployed(before),
                            _nodes(before))) == []
    assert list(pace_issues(DEPLOYED, {"talos": "v1.11.6", "kubernetes": "v1.33.5"}, _deployed(before),
                            _nodes(before[:-1]))) == []
    assert kubernetes_rolls(DEPLOYED, {"talos": "v1.12.11", "kubernetes": "v1.33.9"})
    assert not kubernetes_rolls(DEPLOYED, {"talos": "v1.12.11", "kubernetes": "v1.33.5"})
    assert not kubernetes_rolls(None, {"talos": "v1.12.11", "kubernetes": "v1.33.9"})
