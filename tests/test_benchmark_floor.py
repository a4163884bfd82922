"""The benchmark's floor is only a floor if it registers what the program registers, through the same classes."""

import pytest

from benchmarks.cases import replay_program, sdk_class
from labctl import engine
from labctl.mocks import HomelabMocks
from labctl.synth import PROJECT_DIR, read_stack_file, runtime_config, stack_reference_outputs


def test_every_provider_type_the_program_registers_has_its_sdk_class(prod, lab):
    registered = {r.type for r in [*prod.registrations, *lab.registrations] if r.custom}
    providers = {t for t in registered if t.split(":")[0] in ("aws", "cloudflare", "tailscale", "talos")}
    builtin = {t for t in registered if t.startswith("kubernetes:") and "." not in t.split(":")[1].split("/")[0]}
    assert providers and builtin
    missing = sorted(t for t in providers | builtin if sdk_class(t) is None)
    assert not missing, f"the floor would register these as bare custom resources: {missing}"


@pytest.mark.parametrize("stack", ["prod", "lab"])
def test_the_floor_replays_exactly_the_programs_registrations(stack, prod, lab):
    recorded = {"prod": prod, "lab": lab}[stack]
    references = {"organization/homelab/prod": stack_reference_outputs(prod)} if stack == "lab" else {}
    config, secret_keys = runtime_config(read_stack_file(stack))
    floor = engine.run_program(replay_program(recorded.registrations), mocks=HomelabMocks(references), stack=stack,
                               config=config, secret_keys=secret_keys, project_dir=PROJECT_DIR)

    def shape(registrations: list[engine.Registration]) -> list[tuple[object, ...]]:
        return sorted((r.urn, r.type, r.parent, r.provider, r.dependencies, r.protect, r.aliases, r.read, r.inputs)
                      for r in registrations)

    assert shape(floor.registrations) == shape(recorded.registrations)
