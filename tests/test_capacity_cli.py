"""`labctl capacity`: the plan per node and in total with its chart; a shrunken inventory is refused."""

import shutil

import yaml

from labctl.__main__ import main
from labctl.capacity import with_experiments
from labctl.synth import PROJECT_DIR


def test_capacity_prints_the_plan_and_writes_the_chart(tmp_path, capsys):
    assert main(["capacity", "prod", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for row in ("total allocatable", "total kubernetes", "total platform", "total production",
                "total experimentQuota", "total free", "pi-4 per-node agents"):
        assert row in printed
    # Each guest cluster's VM with KubeVirt's overhead: production's Guaranteed 2-vCPU VM, the lab's sandbox.
    assert "launcher overhead" in printed
    rows = [[cell.strip() for cell in line.split("│")[1:4]] for line in printed.splitlines() if "│" in line]
    assert ["production", "2048", "476"] in rows and ["sandbox", "2048", "368"] in rows
    chart = tmp_path / "capacity.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000


def test_experiment_quotas_come_out_of_prods_free_capacity(prod):
    capacity = prod.outputs["capacity"]
    plan = with_experiments(capacity, {"experimentQuotas": {"a": {"cpu_m": 100, "memory_mib": 1000},
                                                           "b": {"cpu_m": 50, "memory_mib": 24}}})
    assert plan["total"]["experimentQuota"] == {"cpu_m": 150, "memory_mib": 1024}
    assert plan["total"]["free"]["memory_mib"] == capacity["total"]["free"]["memory_mib"] - 1024
    assert capacity["total"]["experimentQuota"] == {"cpu_m": 0, "memory_mib": 0}, "prod's own output unchanged"


def test_a_shrunken_inventory_is_refused_with_the_numbers(tmp_path, capsys):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", project)
    shutil.copytree(PROJECT_DIR / "tailnet", project / "tailnet")
    stack_file = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())
    for node in stack_file["config"]["homelab:nodes"]:
        node["board"] = "rpi4b-4gb"
    (project / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack_file))
    assert main(["capacity", "prod", "--project", str(project), "--out", str(tmp_path / "out")]) == 1
    printed = capsys.readouterr().out
    assert "does not fit" in printed and "allocatable total" in printed and "platform requests" in printed
    assert not (tmp_path / "out" / "capacity.png").exists()


def test_the_chart_gives_each_meaning_its_own_colour():
    from labctl.capacity import COLOURS

    assert len(set(COLOURS.values())) == len(COLOURS)


def test_piped_output_keeps_every_type_name_whole(tmp_path, capsys):
    assert main(["synth", "prod", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "…" not in printed
    assert "kubernetes:infrastructure.cluster.x-k8s.io/v1alpha1:KubevirtMachineTemplate" in printed
    assert "adds the lab's experiment quotas" in printed
