"""Lab and experiment stacks read prod's outputs; a missing one is named in one clear error."""

import pulumi
import pytest
from pulumi.runtime.rpc import is_rpc_secret

from components.cloud.seams import REQUIRED_PROD_OUTPUTS, MissingProdOutputsError, read_prod
from labctl import engine
from labctl.engine import ProgramError
from labctl.mocks import HomelabMocks
from labctl.synth import PROJECT_DIR, stack_reference_outputs


def test_prod_exports_every_output_lab_needs(prod):
    assert set(REQUIRED_PROD_OUTPUTS) <= set(prod.outputs)
    assert prod.outputs["backup"] == {"region": "eu-west-2", "endpoint": "https://s3.eu-west-2.amazonaws.com",
                                      "veleroBucket": "example-homelab-velero",
                                      "storageBucket": "example-homelab-storage-offsite"}


def test_lab_registers_nothing_of_prods(lab):
    assert not [r for r in lab.registrations if r.type.startswith(("talos:", "aws:", "cloudflare:", "tailscale:"))]


def test_each_prod_output_read_keeps_its_own_secrecy(prod):
    """Outputs are lifted once for all names, so secrecy must come from prod's own list, per output."""
    outputs = stack_reference_outputs(prod)
    reference = "organization/homelab/prod"

    def program() -> None:
        seams = read_prod(reference)
        for name in REQUIRED_PROD_OUTPUTS:
            pulumi.export(name, seams.get(name))

    monitor = engine.run_program(program, mocks=HomelabMocks({reference: outputs}), stack="lab", config={},
                                 secret_keys=[], project_dir=PROJECT_DIR)
    secret_in_prod = {name for name in REQUIRED_PROD_OUTPUTS if is_rpc_secret(outputs[name])}
    secret_read = {name for name, value in monitor.raw_stack_outputs.items() if is_rpc_secret(value)}
    assert secret_in_prod >= {"labKubeconfig", "restoreDrillCredentials"}
    assert "kubeconfig" not in REQUIRED_PROD_OUTPUTS and "talosconfig" not in REQUIRED_PROD_OUTPUTS
    assert secret_read == secret_in_prod
    assert monitor.stack_outputs["freeCapacity"] == prod.outputs["freeCapacity"]


@pytest.mark.parametrize("missing", [["labKubeconfig"], ["backup", "dnsZoneId"]])
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


def test_a_bare_prod_stack_name_is_read_in_the_reading_stacks_own_organization():
    from components.cloud.seams import qualified_stack

    assert qualified_stack("prod", "organization", "homelab") == "organization/homelab/prod"
    assert qualified_stack("prod", "my-team", "homelab") == "my-team/homelab/prod"
    assert qualified_stack("other/proj/prod", "my-team", "homelab") == "other/proj/prod"
