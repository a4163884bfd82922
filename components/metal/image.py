"""Talos image-factory schematics: which overlay and system extensions each board's image carries, and the
ID the factory gives each one.

The ID is the SHA-256 of the schematic in the factory's canonical form: Go's yaml.v3 encoding of its Schematic
struct, fields in declaration order (overlay, then customization), empty ones left out, four-space indents,
sequences indented under their key (image-factory pkg/schematic/schematic.go, ``ID`` and ``Marshal``). Only the
shapes the program writes are encoded here; any other is refused. Computing it here gives
every board's download URL before the first ``pulumi up`` (``labctl first-boot``).
"""

import hashlib
import re
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


# What the offline form covers: a plain scalar Go's encoder writes unquoted (no YAML keyword, number or space).
_PLAIN = re.compile(r"^[a-z][a-z0-9_./-]*$")


def _plain(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _PLAIN.match(value) or value in ("true", "false", "null", "yes", "no"):
        raise ValueError(f"schematic {where}: {value!r} is not a plain name the offline ID covers")
    return value


def canonical_yaml(document: dict[str, Any]) -> str:
    """The schematic as the factory re-encodes it, for the shapes this program writes: an overlay's image and
    name, and official extensions. Anything else (kernel arguments, META, overlay options, SecureBoot) is
    encoded by Go in ways this does not reproduce, so it is refused rather than given a wrong ID."""
    unknown = set(document) - {"overlay", "customization"}
    customization = document.get("customization") or {}
    unknown |= {f"customization.{key}" for key in customization if key != "systemExtensions"}
    overlay = document.get("overlay") or {}
    unknown |= {f"overlay.{key}" for key in overlay if key not in ("image", "name")}
    if unknown:
        raise ValueError(f"schematic fields {sorted(unknown)} are not covered by the offline ID")
    lines = []
    if overlay:
        lines += ["overlay:", f"    image: {_plain(overlay['image'], 'overlay.image')}",
                  f"    name: {_plain(overlay['name'], 'overlay.name')}"]
    extensions = (customization.get("systemExtensions") or {}).get("officialExtensions") or []
    if extensions:
        lines += ["customization:", "    systemExtensions:", "        officialExtensions:",
                  *(f"            - {_plain(name, 'officialExtensions')}" for name in extensions)]
    else:
        # The factory drops empty fields (omitempty) and always writes customization.
        lines.append("customization: {}")
    return "\n".join(lines) + "\n"


def schematic_id(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_yaml(document).encode()).hexdigest()
