"""The user's CI workflows lint and audit clean; Renovate's patterns find every pinned version."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components import versions

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(("schema", "files"), [("vendor.github-workflows", WORKFLOWS),
                                               ("vendor.renovate", [ROOT / "renovate.json"])],
                         ids=["workflows", "renovate"])
def test_ci_files_match_their_schema(schema, files):
    run = subprocess.run([BIN / "check-jsonschema", "--builtin-schema", schema, *files],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_zizmor_finds_nothing_of_medium_severity_or_above():
    run = subprocess.run([BIN / "zizmor", "--offline", "--min-severity", "medium", *WORKFLOWS],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_and_permissions_start_empty(workflow):
    document = yaml.safe_load(workflow.read_text())
    assert document["permissions"] == {}
    uses = re.findall(r"uses:\s*(\S+)", workflow.read_text())
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", use) for use in uses), uses


def test_prod_deploys_only_behind_the_approval_environment():
    deploy = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    assert deploy[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads `on` as True
    assert deploy["jobs"]["up"]["environment"] == "production"


def _pulumi_jobs():
    for workflow in WORKFLOWS:
        for name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            if any("pulumi/actions" in step.get("uses", "") for step in job["steps"]):
                yield f"{workflow.name}: {name}", job


def test_only_the_deploy_holds_cloud_keys_that_write_and_every_job_reads_them_from_its_environment():
    """Cloud keys are environment secrets: `production` (behind approval) can write, `preview` (pull requests,
    the drift check) can only read. Every provider's variables are set from there, and the program refuses the
    same credentials in a stack file, where they would win over these."""
    from components.config.checks import PROVIDER_CREDENTIALS

    used = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CLOUDFLARE_API_TOKEN", "TAILSCALE_OAUTH_CLIENT_ID",
            "TAILSCALE_OAUTH_CLIENT_SECRET"}
    assert used <= set(PROVIDER_CREDENTIALS.values())
    environments = {}
    for name, job in _pulumi_jobs():
        environments[name] = job["environment"]
        assert {key: job["env"].get(key) for key in used} == {key: f"${{{{ secrets.{key} }}}}" for key in used}, name
    assert environments == {"deploy.yml: up": "production", "drift.yml: refresh": "preview",
                            "pull-request.yml: preview": "preview"}


def test_the_deploy_is_gated_by_a_preview_with_the_pack_and_every_pulumi_step_runs_it():
    """`up` through the Automation API skips its preview, so the whole-stack rules would run only after prod
    had changed: a preview with the pack runs first, in the same job."""
    deploy = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())["jobs"]["up"]
    commands = [step["with"]["command"] for step in deploy["steps"] if "pulumi/actions" in step.get("uses", "")
                and "command" in step.get("with", {})]
    assert commands == ["preview", "up"]
    for name, job in _pulumi_jobs():
        for step in job["steps"]:
            if step.get("with", {}).get("command") in ("preview", "up"):
                assert step["with"]["policyPacks"] == "policy", name


def test_pulumi_runs_on_the_lan_runner_and_never_for_fork_code():
    """Previews, updates and refreshes reach the Talos API and the VIP: only a runner at home can."""
    for workflow in WORKFLOWS:
        for name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            runs_pulumi = any("pulumi/actions" in step.get("uses", "") for step in job["steps"])
            assert (job["runs-on"] == ["self-hosted", "homelab"]) is runs_pulumi, f"{workflow.name}: {name}"
    preview = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())["jobs"]["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"


def _patterns(manager):
    return [re.compile(p.strip("/")) for p in manager["managerFilePatterns"]]


def _python_regex(js: str) -> re.Pattern[str]:
    return re.compile(js.replace("(?<", "(?P<"))


def _matches(path: str, text: str):
    config = json.loads((ROOT / "renovate.json").read_text())
    for manager in config["customManagers"]:
        if any(p.search(path) for p in _patterns(manager)):
            for pattern in manager["matchStrings"]:
                yield from _python_regex(pattern).finditer(text)


def test_renovate_finds_every_pinned_version_in_the_versions_module():
    text = (ROOT / "components" / "versions.py").read_text()
    found = {m.group("currentValue") for m in _matches("components/versions.py", text)}
    pinned = {name: value for name, value in vars(versions).items()
              if name.isupper() and isinstance(value, str)}
    expected = {value.rsplit(":", 1)[1] if name.endswith("_IMAGE") else value for name, value in pinned.items()}
    assert expected == found
    matches = list(_matches("components/versions.py", text))
    assert len(matches) == len(pinned), "one Renovate match per pinned constant"
    assert all(match.group("datasource") and match.group("depName") for match in matches)


def test_renovate_finds_version_overrides_in_stack_files():
    text = "config:\n  homelab:versions:\n    talos: v1.12.11\n    kubernetes: v1.33.13\n"
    assert {m.group("currentValue") for m in _matches("Pulumi.lab.yaml", text)} == {"v1.12.11", "v1.33.13"}


def _bounds() -> dict[str, tuple[int, ...]]:
    """Each dependency Renovate may not move past, and its exclusive upper bound."""
    config = json.loads((ROOT / "renovate.json").read_text())
    bounds = {}
    for rule in config["packageRules"]:
        match = re.fullmatch(r"<(\d+)\.(\d+)\.0", rule.get("allowedVersions", ""))
        assert match, f"{rule['description']}: bounds are written <MAJOR.MINOR.0"
        for name in rule["matchDepNames"]:
            bounds[name] = tuple(int(part) for part in match.groups())
    return bounds


def test_renovate_keeps_every_family_pin_inside_its_bound():
    text = (ROOT / "components" / "versions.py").read_text()
    current = {m.group("depName"): m.group("currentValue") for m in _matches("components/versions.py", text)}
    bounds = _bounds()
    assert {"siderolabs/talos", "kubernetes/kubernetes", "kubernetes-sigs/cluster-api",
            "kubernetes-sigs/cluster-api-provider-kubevirt", "cilium"} <= set(bounds)
    for name, bound in bounds.items():
        pinned = tuple(int(part) for part in current[name].lstrip("v").split(".")[:2])
        assert pinned < bound, f"{name} {current[name]} is already past Renovate's bound"


def test_renovate_stops_kubernetes_where_the_first_layer_stops():
    newest = tuple(int(part) for part in versions.supported_kubernetes_minors()[1].split("."))
    assert _bounds()["kubernetes/kubernetes"] == (newest[0], newest[1] + 1)
    talos = max(tuple(int(p) for p in minor.split(".")) for minor in versions.SUPPORTED_TALOS_MINORS)
    assert _bounds()["siderolabs/talos"] == (talos[0], talos[1] + 1)



def test_every_pulumi_step_installs_the_pinned_cli_read_from_the_versions_module():
    for workflow in WORKFLOWS:
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            steps = job.get("steps", [])
            for index, step in enumerate(steps):
                if not str(step.get("uses", "")).startswith("pulumi/actions@"):
                    continue
                assert step["with"]["pulumi-version"] == "${{ steps.pins.outputs.pulumi }}", workflow.name
                (pins,) = [s for s in steps[:index] if s.get("id") == "pins"]
                assert "from components.versions import PULUMI_CLI" in pins["run"]
    # The CLI and the Python SDK are released together: Renovate moves both, and this holds them equal.
    requirement = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert requirement and f"v{requirement.group(1)}" == versions.PULUMI_CLI


def test_the_drift_check_never_runs_beside_a_deploy():
    groups = {name: yaml.safe_load((ROOT / ".github" / "workflows" / f"{name}.yml").read_text())["concurrency"]
              for name in ("deploy", "drift")}
    assert groups["deploy"] == groups["drift"] == {"group": "deploy-prod", "cancel-in-progress": False}


def test_experiment_stack_files_are_never_committed(tmp_path):
    """The repository's .gitignore, judged by git in a repository of its own (this checkout may sit inside
    another one, as the mutation run's copy does)."""
    (tmp_path / ".gitignore").write_text((ROOT / ".gitignore").read_text())
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)

    def ignored(name: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", name], cwd=tmp_path, check=False).returncode == 0

    assert ignored("Pulumi.exp-demo.yaml") and not ignored("Pulumi.lab.yaml") and not ignored("Pulumi.prod.yaml")
