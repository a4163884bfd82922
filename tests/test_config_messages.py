"""Every refusal's whole text, as a person reads it, against the reviewed copy in tests/golden/.

The messages are the program's interface for bad input, so a change to one is a change to review:
``HOMELAB_UPDATE_GOLDEN=1 python -m pytest tests/test_config_messages.py`` rewrites the copy, and the diff
shows what a user would now read.
"""

import os
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError, parse_stack_config
from labctl.synth import read_stack_file, runtime_config
from tests.conftest import prod_nodes
from tests.test_config import LAB_MALFORMED, MALFORMED, _cloud, _cluster, _experiment, _platform

GOLDEN = Path(__file__).parent / "golden" / "config-refusals.txt"


def _production(**changes: Any) -> dict[str, Any]:
    return {"homelab:production": {**read_stack_file("prod")["homelab:production"], **changes}}


def _storage_volume(**changes: Any) -> dict[str, Any]:
    return {"homelab:cluster": _cluster(storageVolume=changes)}


# Refusals the key-naming corpus (tests/test_config.py) does not reach: (case, stack, overrides, omitted keys).
MORE: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("no nodes", "prod", {"homelab:nodes": []}, []),
    ("two object-store servers", "prod", {"homelab:platform": _platform(objectStore={"servers": 2})}, []),
    ("no board runs VMs", "prod", {"homelab:nodes": [{**n, "board": "rpi5-8gb"} for n in prod_nodes()]}, []),
    ("resolver on the pool", "prod", {"homelab:cluster": _cluster(nameservers=["1.1.1.1", "192.168.10.220"])}, []),
    ("range outside the subnet", "prod",
     {"homelab:cluster": _cluster(loadBalancerRange={"start": "192.168.11.1", "stop": "192.168.11.9"})}, []),
    ("caches larger than the volume", "prod", _storage_volume(juicefsCacheSize="40GiB"), []),
    ("production zone without VM nodes", "prod", _production(zones=["zone-a", "zone-x"]), []),
    ("dns address outside the pool", "prod", _production(dnsAddress="192.168.10.50"), []),
    ("acl file not named .json", "prod", _cloud("tailnet", aclFile="README.md"), []),
    ("lab stack with platform role", "lab", {"homelab:role": "platform"}, []),
    ("experiment stack with platform role", "exp-demo", {"homelab:role": "platform"}, []),
    ("records proxied: maybe", "prod", _cloud("dns", records=[{"name": "x", "type": "A", "target": "1.2.3.4",
                                                               "proxied": "maybe"}]), []),
    ("record name a number", "prod", _cloud("dns", records=[{"name": "x", "type": "CNAME", "target": 5}]), []),
    ("zones as a map", "lab", {"homelab:experiments": [_experiment(zones={"a": 1})]}, []),
    ("platform as text", "prod", {"homelab:platform": "minimal"}, []),
    ("no zones", "lab", {"homelab:experiments": [_experiment(zones=[])]}, []),
    ("too many workers", "lab", {"homelab:experiments": [_experiment(workers=21)]}, []),
    ("a vcpu count of zero", "lab", {"homelab:experiments": [_experiment(size={"cpu": 0})]}, []),
    ("vip not an address", "prod", {"homelab:cluster": _cluster(vip="nope")}, []),
    ("subnet not a network", "prod", {"homelab:cluster": _cluster(subnet="192.168.10.5/24")}, []),
    ("misspelt secret", "prod", {"homelab:storageRootPasword": "x"}, []),
    ("cluster name empty", "prod", {"homelab:cluster": _cluster(name="")}, []),
    ("ttl in weeks", "lab", {"homelab:experiments": [_experiment(ttl="2w")]}, []),
    ("ttl of zero days", "lab", {"homelab:experiments": [_experiment(ttl="0d")]}, []),
    ("cron with a zero step", "prod", {"homelab:platform": _platform(backups={"schedule": "*/0 3 * * *"})}, []),
    ("cron range backwards", "prod", {"homelab:platform": _platform(backups={"schedule": "0 5-3 * * *"})}, []),
    ("cron day of month zero", "prod", {"homelab:platform": _platform(backups={"schedule": "0 3 0 * *"})}, []),
    ("cron text", "prod", {"homelab:platform": _platform(backups={"schedule": "0 3 * * mon"})}, []),
    ("memory in gigabytes", "lab", {"homelab:experiments": [_experiment(size={"memory": "2GB"})]}, []),
    ("even guest control planes", "lab", {"homelab:experiments": [_experiment(controlPlanes=4)]}, []),
    ("zone named control-plane", "lab", {"homelab:experiments": [_experiment(zones=["control-plane"])]}, []),
    ("a zone twice", "lab", {"homelab:experiments": [_experiment(workers=3, zones=["b", "a", "b", "a"])]}, []),
    ("object store image without tag", "prod",
     {"homelab:platform": _platform(objectStore={"image": "quay.io/minio/minio"})}, []),
    ("an empty secret", "prod", {"homelab:grafanaAdminPassword": ""}, []),
    ("a secret that looks like JSON, in plain text", "prod", {"homelab:grafanaAdminPassword": "[1234]"}, []),
    ("compliance lock on Velero's bucket", "prod",
     _cloud("backup", objectLock={"velero": {"mode": "COMPLIANCE", "days": 30}}), []),
    ("a lock shorter than the lifecycle", "prod",
     _cloud("backup", objectLock={"storage": {"mode": "COMPLIANCE", "days": 7}}), []),
    ("a lock on an unknown bucket", "prod", _cloud("backup", objectLock={"logs": {"mode": "GOVERNANCE", "days": 30}}),
     []),
    ("experiment range outside the pool", "prod",
     {"homelab:cluster": _cluster(experimentRange={"start": "192.168.10.230", "stop": "192.168.10.250"})}, []),
    ("experiment range holding Pi-hole's address", "prod",
     {"homelab:cluster": _cluster(experimentRange={"start": "192.168.10.200", "stop": "192.168.10.209"})}, []),
    ("cname proxied to a host", "prod", _cloud("dns", records=[{"name": "x", "type": "AAAA", "target": "fd00::1",
                                                                "proxied": True}]), []),
    ("an encryption key without its passphrase", "prod", {"homelab:sharedFsEncryptionKey": {"secure": "v1:k"}}, []),
    ("an encryption passphrase without its key", "prod",
     {"homelab:sharedFsEncryptionPassphrase": {"secure": "v1:p"}}, []),
    ("an encryption key in plain text", "prod", {"homelab:sharedFsEncryptionKey": "42",
                                                 "homelab:sharedFsEncryptionPassphrase": {"secure": "v1:p"}}, []),
    ("a short root password in plain text", "prod", {"homelab:storageRootPassword": "abc"}, []),
    ("a platform secret in the lab", "lab", {"homelab:storageRootPassword": {"secure": "v1:x"}}, []),
    ("a misspelt encryption key", "prod", {"homelab:sharedFSEncryptionKey": {"secure": "v1:k"}}, []),
    ("provider credentials in the stack file", "prod", {"cloudflare:apiToken": {"secure": "v1:t"},
                                                        "tailscale:oauthClientId": "k123", "aws:region": "eu-west-2"},
     []),
    ("a provider credential beside an unknown key", "prod", {"cloudflare:apiToken": "plain-token",
                                                             "homelab:bogus": 1}, []),
]

CASES = [(name, "prod", overrides, omit) for name, overrides, omit, _ in MALFORMED]
CASES += [(name, "lab", overrides, []) for name, overrides, _ in LAB_MALFORMED]
CASES += MORE


def _message(stack: str, overrides: dict[str, Any], omit: list[str]) -> str:
    config, secret_keys = runtime_config({**read_stack_file(stack), **overrides}, omit)
    try:
        parse_stack_config(config, stack, secret_keys)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return "accepted"


def _render() -> str:
    return "".join(f"## {name} ({stack})\n{_message(stack, overrides, omit)}\n\n"
                   for name, stack, overrides, omit in CASES)


def test_every_refusal_reads_as_reviewed():
    text = _render()
    if os.environ.get("HOMELAB_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert GOLDEN.is_file(), f"no reviewed copy: run HOMELAB_UPDATE_GOLDEN=1 pytest {__file__}"
    expected, actual = GOLDEN.read_text().split("\n## "), text.split("\n## ")
    for want, got in zip(expected, actual, strict=True):
        assert got == want


@pytest.mark.parametrize("case", MORE, ids=[case[0] for case in MORE])
def test_each_further_case_is_refused_as_a_config_error(case):
    _, stack, overrides, omit = case
    assert _message(stack, overrides, omit).startswith("ConfigError: ")


def test_structured_values_arrive_as_json_text_and_text_that_is_not_json_stays_text():
    config, secret_keys = runtime_config(read_stack_file("lab"))
    parsed = parse_stack_config({**config, "other:key": "{"}, "lab", secret_keys)
    assert parsed.experiments[0].name == "sandbox" and parsed.prod_stack == "prod"
    assert "(got '[lab')" in _message("lab", {"homelab:role": "[lab"}, [])


@pytest.mark.parametrize("value", ["[1234]", '{"pin": 1234}', "- 1234"])
def test_a_secret_that_looks_like_json_or_yaml_stays_the_text_it_is(value):
    config, secret_keys = runtime_config(read_stack_file("prod"))
    parsed = parse_stack_config({**config, "homelab:grafanaAdminPassword": value}, "prod", secret_keys)
    assert parsed.secrets.grafana_admin_password is not None
    assert parsed.secrets.grafana_admin_password._value == value


def test_a_refused_secret_is_named_but_its_value_never_shown():
    config, secret_keys = runtime_config(read_stack_file("prod"))
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({**config, "homelab:grafanaAdminPassword": ""}, "prod", secret_keys)
    assert caught.value.keys == ["homelab:grafanaAdminPassword"] and "(got" not in str(caught.value)


@pytest.mark.parametrize(("password", "refused"), [("1234567", True), ("12345678", False)])
def test_a_root_password_the_object_store_would_refuse_is_refused_by_key_alone(password, refused):
    config, secret_keys = runtime_config(read_stack_file("prod"))
    config = {**config, "homelab:storageRootPassword": password}
    if not refused:
        parse_stack_config(config, "prod", secret_keys)
        return
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(config, "prod", secret_keys)
    (issue,) = caught.value.issues
    assert issue.key == "homelab:storageRootPassword" and "shorter than 8 characters" in issue.problem
    assert password not in str(caught.value)


@pytest.mark.parametrize("schedule", ["*/1 * * * *", "0 1,2 * * *", "59 23 31 12 7", "0 3-3 * * *", "0 1-5 * * 0",
                                      "0 0 1 1 *", "*/15 */2 1-31/2 * 1-5"])
def test_cron_schedules_at_the_edges_of_their_fields_are_accepted(schedule):
    _accepts({"homelab:platform": _platform(backups={"schedule": schedule})})


@pytest.mark.parametrize("schedule", ["0 1-99 * * *", "0 1,99 * * *", "60 * * * *", "0 24 * * *", "0 3 * 13 *",
                                      "0 3 * * 8", "0 3 32 * *"])
def test_cron_schedules_past_a_fields_range_are_refused(schedule):
    assert _message("prod", {"homelab:platform": _platform(backups={"schedule": schedule})}, []).startswith(
        "ConfigError: ")


@pytest.mark.parametrize("ttl", ["90d", "2160h", "100h", "2000h", "1d"])
def test_ttls_up_to_ninety_days_in_hours_or_days_are_accepted(ttl):
    _accepts({"homelab:experiments": [_experiment(ttl=ttl)]}, stack="lab")


def test_a_ttl_one_hour_past_ninety_days_is_refused():
    assert "longer than an experiment may live" in _message("lab", {"homelab:experiments": [_experiment(
        ttl="2161h")]}, [])


def test_a_lock_as_long_as_the_lifecycle_is_accepted_in_either_mode_on_the_storage_copy():
    for mode in ("GOVERNANCE", "COMPLIANCE"):
        _accepts(_cloud("backup", objectLock={"storage": {"mode": mode, "days": 30},
                                              "velero": {"mode": "GOVERNANCE", "days": 30}}))


def test_limits_equal_to_requests_and_chart_pins_with_a_v_are_accepted():
    _accepts({"homelab:platform": _platform(objectStore={"memory": "1Gi", "memoryLimit": "1Gi"})})
    _accepts({"homelab:versions": {"charts": {"capi-operator": "v0.23.0"}}})
    _accepts({"homelab:grafanaAdminPassword": {"secure": "x"}})


@pytest.mark.parametrize(("overrides", "allowed"), [
    ({"homelab:experiments": [_experiment(sizes=1)]}, "controlPlanes"),
    ({"homelab:experiments": [_experiment(size={"cpus": 1})]}, "cpu, memory"),
    (_cloud("dns", records=[{"name": "x", "type": "A", "target": "1.2.3.4", "ttl": 60}]),
     "name, proxied, target, type"),
])
def test_an_unknown_key_inside_a_list_lists_the_keys_of_its_own_model(overrides, allowed):
    stack = "lab" if "homelab:experiments" in overrides else "prod"
    message = _message(stack, overrides, [])
    assert "unknown key" in message and allowed in message.split("allowed here: ", 1)[1]


def _accepts(overrides: dict[str, Any], stack: str = "prod") -> None:
    assert _message(stack, overrides, []) == "accepted"
