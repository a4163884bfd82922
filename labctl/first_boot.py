"""What `labctl first-boot` prints: each board model's image for a blank SSD and its installer, and each node's
address, role and install disk, with the command that shows it is waiting in maintenance mode.

The URLs are the ones `pulumi up` will use: the schematic's ID is the factory's own, computed offline
(components/metal/image.py), so they are known before the first update, when the Pis must already be booted.
"""

from typing import Any

from rich.table import Table


def image_lines(boot_images: dict[str, Any]) -> list[str]:
    """One block per board model, each URL whole on its line so it can be copied."""
    lines = []
    for board, image in sorted(boot_images.items()):
        lines += [f"{board}: write this disk image to each SSD", f"  {image['diskImage']}",
                  f"  installer (the machine config names it): {image['installer']}"]
    return lines


def nodes_table(boot_images: dict[str, Any]) -> Table:
    table = Table(title="nodes (reserve each address in DHCP, then check each is in maintenance mode)")
    for column in ("node", "board", "address", "role", "install disk", "check"):
        table.add_column(column, overflow="fold")
    for board, image in sorted(boot_images.items()):
        for node in image["nodes"]:
            table.add_row(node["name"], board, node["ip"], node["role"], node["installDisk"],
                          f"talosctl get disks --insecure --nodes {node['ip']}")
    return table
