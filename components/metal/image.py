"""Talos image-factory schematics: which overlay and system extensions each board's image carries, and the
ID the factory gives each one.

The ID is the SHA-256 of the schematic in the factory's canonical form: Go's yaml.v3 encoding of its Schematic
struct, fields in declaration order (overlay, then customization) and four-space indents, sequences indented
under their key (image-factory pkg/schematic/schematic.go, ``ID`` and ``Marshal``). Computing it here gives
every board's download URL before the first ``pulumi up`` (``labctl first-boot``).
"""

import hashlib
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


class _GoYaml(yaml.SafeDumper):
    """yaml.v3's block style: a sequence is indented under its key, as every nested mapping is."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


# The factory's field order (pkg/schematic/schematic.go): Schematic, Overlay, Customization.
_ORDER = ("overlay", "customization", "image", "name", "options", "extraKernelArgs", "meta", "systemExtensions",
          "secureboot", "officialExtensions")


def _ordered(value: Any) -> Any:
    if isinstance(value, dict):
        known = [key for key in _ORDER if key in value] + sorted(key for key in value if key not in _ORDER)
        return {key: _ordered(value[key]) for key in known}
    if isinstance(value, list):
        return [_ordered(item) for item in value]
    return value


def canonical_yaml(document: dict[str, Any]) -> str:
    """The schematic as the factory re-encodes it; ``customization`` is always there, ``{}`` when empty."""
    return yaml.dump(_ordered({"customization": {}, **document}), Dumper=_GoYaml, indent=4, sort_keys=False,
                     default_flow_style=False)


def schematic_id(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_yaml(document).encode()).hexdigest()
