"""Fixtures: build a stack from its real ``Pulumi.<stack>.yaml`` under a fresh mock runtime per call."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from components.capacity import CapacityError
from components.config import ConfigError
from labctl.engine import ProgramError, Registration
from labctl.synth import SynthResult, cause_of, config_error, synthesize

PROD_NODES_KEY = "homelab:nodes"
STACK_FIXTURES = frozenset({"build", "reject", "reject_capacity", "prod", "lab", "experiment", "crowded_lab",
                            "first_preview"})
# Names a test's code uses when it builds a stack itself: synth, labctl's entry point, a stack fixture by name.
STACK_CALLS = frozenset({"synthesize", "main", "getfixturevalue"})


def _builds_a_stack(item: pytest.Item) -> bool:
    if STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    function = getattr(item, "function", None)
    return function is not None and bool(STACK_CALLS & set(function.__code__.co_names))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that builds a whole stack, so the mutation run can keep to the fast, direct tests."""
    for item in items:
        if _builds_a_stack(item):
            item.add_marker(pytest.mark.stack)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.upstream.conftest import not_run_because, required

    reason = not_run_because()
    if reason and not required():
        terminalreporter.write_line(f"upstream tier not run: {reason}")


def _build(stack: str = "prod", overrides: Mapping[str, Any] | None = None, omit: Iterable[str] = (),
           **kwargs: Any) -> SynthResult:
    return synthesize(stack, config_overrides=overrides, omit=omit, **kwargs)


@dataclass(frozen=True)
class RejectedConfig:
    error: ConfigError
    registered: list[Registration]


def _reject(stack: str = "prod", overrides: Mapping[str, Any] | None = None,
            omit: Iterable[str] = ()) -> RejectedConfig:
    with pytest.raises(ProgramError) as caught:
        _build(stack, overrides, omit)
    error = config_error(caught.value)
    assert error is not None, f"expected a config error, got {caught.value.__cause__!r}"
    return RejectedConfig(error, caught.value.monitor.registrations)


def _refuse(stack: str = "prod", overrides: Mapping[str, Any] | None = None, omit: Iterable[str] = ()) -> ConfigError:
    from components.config import parse_stack_config
    from labctl.synth import read_stack_file, runtime_config

    config, secret_keys = runtime_config({**read_stack_file(stack), **(overrides or {})}, omit)
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(config, stack, secret_keys)
    return caught.value


@pytest.fixture
def refuse() -> Callable[..., ConfigError]:
    """``refuse(stack, overrides=..., omit=...)`` → the ConfigError for that config, as the program would load it
    (the same values and secret marks), without running the program: the fast path for one rule at a time."""
    return _refuse


@dataclass(frozen=True)
class RejectedPlan:
    message: str
    registered: list[Registration]


def _reject_capacity(overrides: Mapping[str, Any]) -> RejectedPlan:
    with pytest.raises(ProgramError) as caught:
        _build("prod", overrides)
    cause = cause_of(caught.value, CapacityError)
    assert isinstance(cause, CapacityError), f"expected a capacity error, got {caught.value.__cause__!r}"
    return RejectedPlan(str(cause), caught.value.monitor.registrations)


@pytest.fixture
def reject_capacity() -> Callable[..., RejectedPlan]:
    """``reject_capacity(overrides)`` → the CapacityError's message and what was registered before it."""
    return _reject_capacity


@pytest.fixture
def build() -> Callable[..., SynthResult]:
    """``build(stack, overrides={...}, omit=[...])`` → every resource the real program registered."""
    return _build


@pytest.fixture
def reject() -> Callable[..., RejectedConfig]:
    """``reject(stack, overrides=...)`` → the ConfigError the program raised and what it had registered."""
    return _reject


@pytest.fixture(scope="session")
def prod() -> SynthResult:
    """The reference prod stack, built once for the read-only tests."""
    return _build("prod")


@pytest.fixture(scope="session")
def lab(prod: SynthResult) -> SynthResult:
    from labctl.synth import stack_reference_outputs

    return _build("lab", prod_outputs=stack_reference_outputs(prod))


@pytest.fixture(scope="session")
def experiment(prod: SynthResult) -> SynthResult:
    """An exp-* stack from the config `labctl experiment create demo --workers 2 --zones 2 --chaos --like
    production` derives."""
    from labctl.experiments.request import ExperimentRequest, stack_config
    from labctl.synth import read_stack_file, stack_reference_outputs

    request = ExperimentRequest(name="demo", workers=2, zones=2, chaos=True, like="production")
    return _build("exp-demo", stack_config(read_stack_file("lab"), request), prod_outputs=stack_reference_outputs(prod))


@pytest.fixture(scope="session")
def crowded_lab(prod: SynthResult) -> SynthResult:
    """A lab stack with two experiments using every option: what is made once per guest must stay distinct."""
    from labctl.synth import stack_reference_outputs

    every_option = {"chaos": True, "like": "production", "restore_from": "latest",
                    "size": {"cpu": 1, "memory": "1Gi"}}
    experiments = [{"name": name, "workers": 1, **every_option} for name in ("a", "b")]
    return _build("lab", {"homelab:experiments": experiments}, prod_outputs=stack_reference_outputs(prod))


def prod_nodes() -> list[dict[str, Any]]:
    """A fresh copy of the reference inventory to mutate in a test."""
    from labctl.synth import read_stack_file

    return [dict(node) for node in read_stack_file("prod")[PROD_NODES_KEY]]


def redacted(value: Any) -> bool:
    """True when every leaf of ``value`` was redacted as a secret (and there is at least one)."""
    if isinstance(value, dict):
        return bool(value) and all(redacted(item) for item in value.values())
    if isinstance(value, list):
        return bool(value) and all(redacted(item) for item in value)
    return value == "[secret]"


def prod_alert_rules(prod: SynthResult) -> list[Any]:
    """The alert rules the prod stack should deploy, its production cluster's VMs counted from its capacity
    output (the control-plane and workers pools' launcher pods; not the disk mounts or the cloud controller)."""
    from components.clusters.guest_cluster import CONTROL_PLANE_POOL
    from components.config import BackupSettings
    from components.platform import alert_rules
    from components.platform.backups import PLATFORM_SCHEDULE
    from labctl.synth import read_stack_file

    vms = sum(w["pods"] for w in prod.outputs["capacity"]["workloads"]
              if w["layer"] == "production" and w["workload"] in (CONTROL_PLANE_POOL, "workers"))
    backups = BackupSettings.model_validate(read_stack_file("prod")["homelab:platform"]["backups"])
    return alert_rules.alert_rules(backups, PLATFORM_SCHEDULE, alert_rules.ProductionVms("production", vms))
