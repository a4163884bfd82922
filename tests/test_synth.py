"""``labctl synth``: the fixed layout, deterministic files, the summary, and bad config writing nothing."""

import json
import shutil
from pathlib import Path

import pulumi
import pytest
import yaml

from labctl import engine, output_dir, render
from labctl.__main__ import main
from labctl.mocks import HomelabMocks
from labctl.synth import PROJECT_DIR, cause_of


def _synth(tmp_path: Path, stack: str, project: Path = PROJECT_DIR) -> tuple[int, Path]:
    out = tmp_path / "out" / stack
    return main(["synth", stack, "--out", str(out), "--project", str(project)]), out


def test_prod_layout_holds_every_resource_and_each_node_patch(tmp_path, capsys):
    code, out = _synth(tmp_path, "prod")
    assert code == 0
    resources = json.loads((out / "resources.json").read_text())
    assert {r["type"] for r in resources} >= {"talos:machine/secrets:Secrets", "homelab:metal:TalosCluster"}
    for resource in resources:
        assert set(resource) >= {"urn", "type", "name", "parent", "provider", "dependencies", "protect", "inputs"}
    assert sorted(p.name for p in (out / "talos" / "homelab").iterdir()) == [f"pi-{i}.yaml" for i in range(1, 5)]
    documents = list(yaml.safe_load_all((out / "talos" / "homelab" / "pi-1.yaml").read_text()))
    assert [d.get("kind") for d in documents][:2] == [None, "HostnameConfig"]
    assert json.loads((out / "outputs.json").read_text())["kubeconfig"] == "[secret]"
    summary = capsys.readouterr().out
    assert "talos:machine/configurationApply:ConfigurationApply" in summary and "placeholders used" in summary


def test_output_is_deterministic_and_wiped_first(tmp_path, prod):
    first = render.rendered_files(prod)
    _, out = _synth(tmp_path, "prod")
    (out / "stale.yaml").write_text("left over\n")
    _synth(tmp_path, "prod")
    assert not (out / "stale.yaml").exists()
    assert {f.path: f.content for f in first} == {
        str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != output_dir.MARKER
    }


def test_lab_reads_prod_through_a_stack_reference(lab):
    (reference,) = lab.by_type("pulumi:pulumi:StackReference")
    assert reference.name == "organization/homelab/prod"
    provider = lab.one("pulumi:providers:kubernetes", "infrastructure")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.inputs["clusterIdentifier"] == "homelab"
    assert not [r for r in lab.registrations if r.type.startswith("talos:")]


def test_the_engine_refuses_a_second_resource_with_the_same_urn():
    def program() -> None:
        for _ in range(2):
            pulumi.ComponentResource("homelab:test:Twin", "twin")

    with pytest.raises(engine.ProgramError) as caught:
        engine.run_program(program, mocks=HomelabMocks({}), stack="prod", config={}, secret_keys=[],
                           project_dir=PROJECT_DIR)
    cause = cause_of(caught.value, engine.DuplicateUrnError)
    assert isinstance(cause, engine.DuplicateUrnError)
    assert "homelab:test:Twin" in str(cause) and "'twin'" in str(cause) and "unique" in str(cause)


def test_bad_config_exits_non_zero_and_writes_nothing(tmp_path, capsys):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", project)
    stack_file = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())
    stack_file["config"]["homelab:nodes"][1]["ip"] = stack_file["config"]["homelab:nodes"][0]["ip"]
    (project / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack_file))
    code, out = _synth(tmp_path, "prod", project)
    assert code == 1
    assert not out.exists()
    printed = capsys.readouterr().out
    assert "homelab:nodes[1].ip" in printed and "nothing was written" in printed


def test_unknown_stack_is_a_clear_error(tmp_path, capsys):
    code, out = _synth(tmp_path, "staging")
    assert code == 2 and not out.exists()
    assert "Pulumi.staging.yaml not found" in capsys.readouterr().out


def test_synth_never_empties_a_folder_it_did_not_make(tmp_path, capsys):
    from labctl.__main__ import main

    precious = tmp_path / "checkout"
    (precious / ".git").mkdir(parents=True)
    (precious / "notes.txt").write_text("mine")
    assert main(["synth", "prod", "--out", str(precious)]) == 2
    assert "synth did not make" in capsys.readouterr().out
    assert (precious / "notes.txt").read_text() == "mine" and (precious / ".git").is_dir()
    # A folder synth made is replaced on the next run, stale files and all.
    out = tmp_path / "out"
    assert main(["synth", "prod", "--out", str(out)]) == 0
    (out / "stale.json").write_text("{}")
    assert main(["synth", "prod", "--out", str(out)]) == 0
    assert not (out / "stale.json").exists() and (out / ".labctl-synth").is_file()


def test_a_cause_chain_that_loops_ends():
    from components.config import ConfigError
    from labctl.synth import cause_of

    error = RuntimeError("loops")
    error.__cause__ = error
    assert cause_of(error, ConfigError) is None


def _project_with(tmp_path, prod_text):
    import shutil

    from labctl.synth import PROJECT_DIR

    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", project)
    shutil.copytree(PROJECT_DIR / "tailnet", project / "tailnet")
    (project / "Pulumi.prod.yaml").write_text(prod_text)
    return project


def _reference_text():
    from labctl.synth import PROJECT_DIR

    return (PROJECT_DIR / "Pulumi.prod.yaml").read_text()


@pytest.mark.parametrize(("name", "text", "says"), [
    ("yaml syntax", "config:\n  homelab:role: platform\n  homelab:cluster: [oops\n",
     "is not valid YAML at line 4, column 1"),
    ("no config wrapper", "homelab:role: platform\n", "has no `config:` map"),
    ("config not a map", "config: [1, 2]\n", "must be a map with a `config:` map"),
    ("role missing", None, "homelab:role: required key is missing"),
    ("production too big", None, "does not fit"),
])
def test_a_broken_stack_file_gets_one_message_and_exit_1_never_a_traceback(tmp_path, capsys, name, text, says):
    import time

    from labctl.__main__ import main

    if name == "role missing":
        text = "\n".join(line for line in _reference_text().splitlines() if "homelab:role" not in line)
    if name == "production too big":
        text = _reference_text().replace("      memory: 2Gi", "      memory: 6Gi", 1)
        assert text != _reference_text()
    project = _project_with(tmp_path, text)
    started = time.monotonic()
    assert main(["synth", "prod", "--project", str(project), "--out", str(tmp_path / "out")]) == 1
    assert time.monotonic() - started < 30
    printed = capsys.readouterr().out
    assert says in printed and "Traceback" not in printed
    assert not (tmp_path / "out").exists()


def test_capacity_of_the_lab_points_at_prod(capsys, tmp_path):
    from labctl.__main__ import main

    assert main(["capacity", "lab", "--out", str(tmp_path / "out")]) == 2
    assert "labctl capacity prod" in capsys.readouterr().out


def test_an_experiment_that_does_not_fit_is_refused_with_its_numbers_and_no_traceback(tmp_path, capsys):
    from labctl.__main__ import main

    out = tmp_path / "out"
    assert main(["synth", "exp-demo", "--workers", "2", "--zones", "2", "--size", "medium", "--chaos",
                 "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "does not fit" in printed and "free:" in printed and "Traceback" not in printed
    assert not out.exists()
