"""The Talos disk image guest VMs boot: an image-factory schematic for VMs and its OpenStack disk image.

Cluster API's KubeVirt provider hands Talos its machine config on a config drive, which the OpenStack
platform image reads (FIELD-NOTES). The schematic adds the QEMU guest agent so KubeVirt can see inside.
"""

import pulumi
import pulumiverse_talos as talos
import yaml

GUEST_EXTENSIONS = ("siderolabs/qemu-guest-agent",)


def schematic_yaml() -> str:
    return yaml.safe_dump({"customization": {"systemExtensions": {"officialExtensions": list(GUEST_EXTENSIONS)}}},
                          sort_keys=True)


def guest_image_url(name: str, talos_version: str, arch: pulumi.Input[str],
                    parent: pulumi.Resource | None = None) -> pulumi.Output[str]:
    """The disk image URL CDI imports for VMs of ``arch`` running ``talos_version``."""
    schematic = talos.imagefactory.Schematic(name, schematic=schematic_yaml(),
                                             opts=pulumi.ResourceOptions(parent=parent))
    urls = talos.imagefactory.get_urls_output(talos_version=talos_version, schematic_id=schematic.id,
                                              architecture=arch, platform="openstack")
    return urls.urls.disk_image
