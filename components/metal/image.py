"""Talos image-factory schematics: which overlay and system extensions each board's image carries."""

from typing import Any

import yaml

from components.boards import Board

# util-linux-tools gives the CSI node plugins the block tools (lsblk, fstrim, blkid) Talos leaves out.
PLATFORM_EXTENSIONS: tuple[str, ...] = ("siderolabs/util-linux-tools",)
MICROCODE_BY_ARCH: dict[str, tuple[str, ...]] = {"amd64": ("siderolabs/amd-ucode", "siderolabs/intel-ucode")}


def schematic(board: Board) -> dict[str, Any]:
    """The image-factory schematic for one board: its SBC overlay (if any) and the platform's extensions."""
    extensions = sorted({*PLATFORM_EXTENSIONS, *MICROCODE_BY_ARCH.get(board.arch, ())})
    document: dict[str, Any] = {"customization": {"systemExtensions": {"officialExtensions": extensions}}}
    if board.overlay_image and board.overlay_name:
        document["overlay"] = {"image": board.overlay_image, "name": board.overlay_name}
    return document


def schematic_yaml(board: Board) -> str:
    return yaml.safe_dump(schematic(board), sort_keys=True)
