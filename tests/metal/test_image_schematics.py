"""The image factory's schematic IDs, computed offline: the canonical form must hash to the IDs the factory
itself publishes, or every download URL the program prints would be a 404."""

import pytest

from components.boards import BOARDS
from components.metal.image import canonical_yaml, schematic, schematic_id

# IDs the factory serves and the Talos documentation prints for these schematics.
PUBLISHED = [
    ({}, "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"),
    ({"overlay": {"image": "siderolabs/sbc-raspberrypi", "name": "rpi_generic"}},
     "ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9"),
    ({"customization": {"systemExtensions": {"officialExtensions": ["siderolabs/qemu-guest-agent"]}}},
     "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"),
]


@pytest.mark.parametrize(("document", "expected"), PUBLISHED)
def test_the_canonical_form_hashes_to_the_factorys_published_id(document, expected):
    assert schematic_id(document) == expected


def test_key_order_in_the_input_does_not_change_the_id():
    board = BOARDS["rpi4b-8gb"]
    document = schematic(board)
    reordered = {"customization": document["customization"], "overlay": dict(reversed(document["overlay"].items()))}
    assert schematic_id(reordered) == schematic_id(document)
    assert canonical_yaml(document).startswith("overlay:\n    image: siderolabs/sbc-raspberrypi\n")
    assert "        officialExtensions:\n            - siderolabs/util-linux-tools\n" in canonical_yaml(document)


@pytest.mark.parametrize("document", [
    {"customization": {"extraKernelArgs": ["console=ttyS0"]}},
    {"overlay": {"image": "siderolabs/sbc-raspberrypi", "name": "rpi_generic", "options": {"configTxtAppend": "x"}}},
    {"customization": {"systemExtensions": {"officialExtensions": ["true"]}}},
])
def test_a_schematic_the_offline_form_does_not_cover_is_refused_not_misnamed(document):
    with pytest.raises(ValueError, match="offline ID"):
        schematic_id(document)


def test_empty_fields_are_left_out_as_the_factory_leaves_them():
    assert schematic_id({"customization": {"systemExtensions": {"officialExtensions": []}}}) == PUBLISHED[0][1]
