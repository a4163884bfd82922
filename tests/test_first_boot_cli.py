"""`labctl first-boot`: every board's disk image and installer, every node's address and disk, before any
`pulumi up`; only the platform stack has nodes."""

import yaml

from components.boards import BOARDS
from components.metal.image import schematic, schematic_id
from labctl.__main__ import main
from labctl.exit_codes import ExitCode
from labctl.synth import PROJECT_DIR


def test_first_boot_prints_each_boards_image_and_each_nodes_check(capsys):
    assert main(["first-boot", "prod"]) == ExitCode.OK
    output = capsys.readouterr().out
    identifier = schematic_id(schematic(BOARDS["rpi4b-8gb"]))
    # Whole on their own lines, to copy.
    assert f"  https://factory.talos.dev/image/{identifier}/v1.12.11/metal-arm64.raw.xz" in output.splitlines()
    assert f"factory.talos.dev/metal-installer/{identifier}:v1.12.11" in output
    printed = "".join(output.split())  # the node table may fold its cells
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())["config"]
    for node in stack["homelab:nodes"]:
        assert f"talosctlgetdisks--insecure--nodes{node['ip']}" in printed
        assert node["installDisk"] in printed


def test_first_boot_of_a_stack_without_nodes_names_the_one_that_has_them(capsys):
    assert main(["first-boot", "lab"]) == ExitCode.USAGE
    assert "run it on prod" in capsys.readouterr().out
