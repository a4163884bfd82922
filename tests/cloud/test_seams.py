"""Lab and experiment stacks read prod's outputs; a missing one is named in one clear error."""

import pytest

from components.cloud.seams import REQUIRED_PROD_OUTPUTS, MissingProdOutputsError
from labctl.engine import ProgramError
from labctl.synth import stack_reference_outputs


def test_prod_exports_every_output_lab_needs(prod):
    assert set(REQUIRED_PROD_OUTPUTS) <= set(prod.outputs)
    assert prod.outputs["backup"] == {"region": "eu-west-2", "endpoint": "https://s3.eu-west-2.amazonaws.com",
                                      "veleroBucket": "example-homelab-velero",
                                      "storageBucket": "example-homelab-storage-offsite"}


def test_lab_registers_nothing_of_prods(lab):
    assert not [r for r in lab.registrations if r.type.startswith(("talos:", "aws:", "cloudflare:", "tailscale:"))]


@pytest.mark.parametrize("missing", [["kubeconfig"], ["backup", "dnsZoneId"]])
def test_a_missing_prod_output_is_named(build, prod, missing):
    outputs = {name: value for name, value in stack_reference_outputs(prod).items() if name not in missing}
    with pytest.raises(ProgramError) as caught:
        build("lab", prod_outputs=outputs)
    cause = caught.value.__cause__
    while cause is not None and not isinstance(cause, MissingProdOutputsError):
        cause = cause.__cause__
    assert isinstance(cause, MissingProdOutputsError)
    assert cause.missing == sorted(missing)
    assert all(name in str(cause) for name in missing) and "pulumi up --stack prod" in str(cause)
