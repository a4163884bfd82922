"""The capacity check counts every experiment stack; progress comes from real engine events."""

import pytest
from pulumi.automation import events

from components.clusters.experiments import ExperimentCapacityError
from components.config import Versions
from labctl.experiments.capacity import check_name_is_free, request_fits
from labctl.experiments.progress import Progress
from labctl.experiments.request import ExperimentRequest, RequestError, experiment_entry


def _free(cpu_m, memory_mib):
    return {"freeCapacity": {"cpu_m": cpu_m, "memory_mib": memory_mib}}


def test_a_request_fits_only_with_what_other_experiment_stacks_already_hold():
    entry = experiment_entry(ExperimentRequest(name="demo"))
    # demo: 2 small VMs → 2 × 250m + 20m + 500m CPU, 2 × (2048 + 368 launcher) + 64 + 512 Mi in its
    # namespace, and 2 × (50m, 256Mi) for its disks' mount pods
    left = request_fits(_free(2000, 8000), {}, entry, Versions())
    assert (left.cpu_m, left.memory_mib) == (2000 - 1120, 8000 - 5920)
    others = {"lab": {"experimentQuotas": {"sandbox": {"cpu_m": 1000, "memory_mib": 4000}}}}
    with pytest.raises(ExperimentCapacityError) as caught:
        request_fits(_free(2000, 8000), others, entry, Versions())
    message = str(caught.value)
    assert "sandbox (lab): 1000m CPU, 4000Mi memory" in message and "demo: 1120m CPU, 5920Mi memory" in message
    assert "free:  2000m CPU, 8000Mi memory" in message


def test_equal_names_in_two_stacks_both_count():
    entry = experiment_entry(ExperimentRequest(name="demo"))
    quota = {"experimentQuotas": {"sandbox": {"cpu_m": 300, "memory_mib": 1000}}}
    left = request_fits(_free(2000, 8000), {"lab": quota, "exp-sandbox": quota}, entry, Versions())
    assert (left.cpu_m, left.memory_mib) == (2000 - 1120 - 600, 8000 - 5920 - 2000)


def test_a_name_an_experiment_of_another_stack_holds_is_refused():
    with pytest.raises(RequestError) as caught:
        check_name_is_free("sandbox", {"lab": {"experimentQuotas": {"sandbox": {"cpu_m": 1, "memory_mib": 1}}}})
    assert "already runs in the lab stack" in str(caught.value)
    check_name_is_free("demo", {"lab": {"experimentQuotas": {"sandbox": {"cpu_m": 1, "memory_mib": 1}}}})


def _meta(op, name):
    return events.StepEventMetadata(op=op, urn=f"urn:pulumi:exp-demo::homelab::t::{name}", type="t", provider="")


def _event(sequence, **kind):
    return events.EngineEvent(sequence=sequence, timestamp=sequence, **kind)


def test_progress_counts_resources_and_names_the_current_step():
    clock = iter([0.0, 12.4]).__next__
    progress = Progress(total=3, clock=clock)
    progress.handle(_event(1, resource_pre_event=events.ResourcePreEvent(metadata=_meta(events.OpType.CREATE, "ns"))))
    assert progress.current == "create t ns"
    progress.handle(_event(2, res_outputs_event=events.ResOutputsEvent(metadata=_meta(events.OpType.CREATE, "ns"))))
    progress.handle(_event(3, resource_pre_event=events.ResourcePreEvent(metadata=_meta(events.OpType.SAME, "x"))))
    assert progress.current == "create t ns", "unchanged resources do not take over the status line"
    progress.handle(_event(4, res_op_failed_event=events.ResOpFailedEvent(
        metadata=_meta(events.OpType.CREATE, "vm"), status=1, steps=1)))
    assert progress.line() == "1/3 resources, 1 failed · create t ns · 12s"
    progress.handle(_event(5, summary_event=events.SummaryEvent(
        maybe_corrupt=False, duration_seconds=12, resource_changes={events.OpType.CREATE: 2}, policy_packs={})))
    assert progress.finished and progress.changes == {"create": 2}
