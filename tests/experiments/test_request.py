"""Experiment requests are decided in plain Python: names, derived config, TTL and expiry."""

from datetime import UTC, datetime, timedelta

import pytest

from labctl.experiments.request import (
    EXPIRES_TAG,
    ExperimentRequest,
    RequestError,
    check_name,
    experiment_name,
    expires_at,
    format_time,
    is_expired,
    stack_config,
    stack_name,
)
from labctl.synth import read_stack_file

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_names_become_exp_stacks_and_back():
    assert stack_name("demo") == "exp-demo"
    assert experiment_name("exp-demo") == "demo"
    for stack in ("prod", "lab", "exp-"):
        with pytest.raises(RequestError):
            experiment_name(stack)


@pytest.mark.parametrize(("name", "existing", "problem"), [
    ("Demo", set(), "DNS-safe"),
    ("demo_1", set(), "DNS-safe"),
    ("-demo", set(), "DNS-safe"),
    ("prod", set(), "reserved"),
    ("lab", set(), "reserved"),
    ("production", set(), "reserved"),
    ("exp-x", set(), "reserved"),
    ("demo", {"exp-demo"}, "already exists"),
])
def test_bad_names_are_refused_with_a_fix(name, existing, problem):
    with pytest.raises(RequestError) as caught:
        check_name(name, existing)
    assert problem in caught.value.problem and caught.value.fix


def test_the_derived_config_is_the_lab_template_with_exactly_this_experiment():
    template = read_stack_file("lab")
    config = stack_config(template, ExperimentRequest(name="demo", workers=3, control_planes=3, size="medium",
                                                      zones=2, chaos=True, like="production", ttl="2d"))
    assert config["homelab:role"] == "lab" and config["homelab:prodStack"] == template["homelab:prodStack"]
    assert config["homelab:experiments"] == [{
        "name": "demo", "controlPlanes": 3, "workers": 3, "size": {"cpu": 2, "memory": "3Gi"},
        "zones": ["zone-a", "zone-b"], "ttl": "2d", "chaos": True, "like": "production"}]


@pytest.mark.parametrize(("request_", "problem"), [
    (ExperimentRequest(name="demo", size="huge"), "unknown size"),
    (ExperimentRequest(name="demo", zones=4), "zones"),
    (ExperimentRequest(name="demo", ttl="forever"), "not a TTL"),
    (ExperimentRequest(name="demo", control_planes=2), "homelab:experiments[0].controlPlanes"),
    (ExperimentRequest(name="demo", workers=1, zones=2), "homelab:experiments[0].zones"),
])
def test_bad_flags_are_refused_before_any_stack_exists(request_, problem):
    with pytest.raises(RequestError) as caught:
        stack_config(read_stack_file("lab"), request_)
    assert problem in str(caught.value)


def test_expiry_is_the_ttl_from_now_and_gc_only_takes_the_past():
    assert expires_at("8h", NOW) == NOW + timedelta(hours=8)
    assert expires_at("2d", NOW) == NOW + timedelta(days=2)
    tags = {EXPIRES_TAG: format_time(expires_at("8h", NOW))}
    assert not is_expired(tags, NOW + timedelta(hours=7, minutes=59))
    assert is_expired(tags, NOW + timedelta(hours=8))
    assert not is_expired({}, NOW + timedelta(days=365)), "an experiment without expiry is never collected"
