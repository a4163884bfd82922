"""The boards the homelab knows how to run, and what each can do.

A node in the inventory names its board; everything hardware-specific (CPU architecture, memory, the Talos
image-factory overlay, whether KubeVirt can run VMs on it) is looked up here, so adding a node of a known
board is one entry in the stack config, and a new board model is one entry in this table.
"""

from dataclasses import dataclass
from typing import Literal

Architecture = Literal["arm64", "amd64"]


@dataclass(frozen=True)
class Board:
    """Hardware facts about one board model."""

    id: str
    description: str
    arch: Architecture
    cpu_cores: int
    memory_mib: int
    # Image-factory overlay for single-board computers; None for generic UEFI machines.
    overlay_image: str | None
    overlay_name: str | None
    # Image-factory `sbc` name for get_urls; None for generic machines.
    sbc: str | None
    # Whether KubeVirt VMs run on this board under Talos (needs /dev/kvm and a CPU KubeVirt can model).
    kvm: bool
    # Oldest Talos release that boots this board.
    min_talos: str
    # The name Talos gives the wired LAN interface (a node's `link` overrides it).
    lan_link: str = "end0"


_RPI_OVERLAY = "siderolabs/sbc-raspberrypi"

BOARDS: dict[str, Board] = {
    board.id: board
    for board in (
        Board("rpi4b-4gb", "Raspberry Pi 4 Model B, 4 GB", "arm64", 4, 4096,
              _RPI_OVERLAY, "rpi_generic", "rpi_generic", kvm=True, min_talos="1.5.0"),
        Board("rpi4b-8gb", "Raspberry Pi 4 Model B, 8 GB", "arm64", 4, 8192,
              _RPI_OVERLAY, "rpi_generic", "rpi_generic", kvm=True, min_talos="1.5.0"),
        # Talos 1.12 lists rpi_5 from 1.12.3 (pkg/machinery/platforms/sbcs.go at v1.12.11, MinVersion), but
        # KubeVirt VMs fail on its CPU (kubevirt #14583): it joins as a node for platform pods, never VMs.
        Board("rpi5-8gb", "Raspberry Pi 5, 8 GB", "arm64", 4, 8192,
              _RPI_OVERLAY, "rpi_5", "rpi_5", kvm=False, min_talos="1.12.3"),
        Board("rpi5-16gb", "Raspberry Pi 5, 16 GB", "arm64", 4, 16384,
              _RPI_OVERLAY, "rpi_5", "rpi_5", kvm=False, min_talos="1.12.3"),
        Board("generic-amd64", "Generic x86-64 mini PC (UEFI), 16 GB", "amd64", 4, 16384,
              None, None, None, kvm=True, min_talos="1.5.0", lan_link="enp1s0"),
    )
}
