"""labctl's decisions one at a time: names, TTLs, entries, stack config, the capacity check and synth's folder."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from components.capacity import Amount
from components.config import Versions
from labctl.exit_codes import ExitCode
from labctl.experiments import request as req
from labctl.experiments.capacity import check_name_is_free, quotas_of, request_fits
from labctl.experiments.request import ConflictError, ExperimentRequest, RequestError
from labctl.output_dir import MARKER, UnsafeOutputError, check_output_dir, claim_output_dir


def test_a_request_error_carries_its_problem_its_fix_and_the_usage_exit_code():
    error = RequestError("bad", "do this")
    assert (error.problem, error.fix, str(error), error.exit_code) == ("bad", "do this", "bad — fix: do this",
                                                                       ExitCode.USAGE)
    assert ConflictError("taken", "pick").exit_code == ExitCode.REFUSED


@pytest.mark.parametrize(("stack", "is_one"), [("exp-a", True), ("exp-", False), ("exp", False), ("lab", False),
                                               ("xexp-a", False)])
def test_an_experiment_stack_is_exp_and_a_name(stack, is_one):
    assert req.is_experiment_stack(stack) is is_one


def test_experiment_name_refuses_a_stack_that_is_not_one():
    assert req.experiment_name("exp-demo") == "demo" and req.stack_name("demo") == "exp-demo"
    with pytest.raises(RequestError) as caught:
        req.experiment_name("exp-")
    assert (caught.value.problem, caught.value.fix) == ("'exp-' is not an experiment stack",
                                                        "experiment stacks are named exp-NAME")


@pytest.mark.parametrize("name", ["a", "a1", "a-b", "a" * 42, "9lives"])
def test_dns_safe_names_up_to_42_characters_are_accepted(name):
    req.check_name(name, {"exp-other"})


@pytest.mark.parametrize(("name", "problem", "kind"), [
    ("a" * 43, "is not a DNS-safe name", RequestError), ("-a", "is not a DNS-safe name", RequestError),
    ("a-", "is not a DNS-safe name", RequestError), ("A", "is not a DNS-safe name", RequestError),
    ("", "is not a DNS-safe name", RequestError), ("lab", "'lab' is reserved", RequestError),
    ("exp-x", "'exp-x' is reserved", RequestError), ("taken", "experiment 'taken' already exists", ConflictError)])
def test_names_that_are_not_safe_reserved_or_taken_are_refused(name, problem, kind):
    with pytest.raises(RequestError) as caught:
        req.check_name(name, {"exp-taken"})
    assert type(caught.value) is kind and problem in caught.value.problem


def test_the_name_errors_say_how_to_fix_them():
    fixes = []
    for name in ("A", "prod", "taken"):
        with pytest.raises(RequestError) as caught:
            req.check_name(name, {"exp-taken"})
        fixes.append(caught.value.fix)
    assert fixes == ["use up to 42 lowercase letters, digits and '-', starting and ending alphanumeric",
                     "pick another name (not prod, lab, production or exp-…)",
                     "pick another name, or `labctl experiment destroy taken` first"]


@pytest.mark.parametrize(("ttl", "delta"), [("1h", timedelta(hours=1)), ("8h", timedelta(hours=8)),
                                            ("2d", timedelta(days=2)), ("10d", timedelta(days=10))])
def test_a_ttl_is_hours_or_days(ttl, delta):
    assert req.ttl_delta(ttl) == delta
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert req.expires_at(ttl, now) == now + delta


@pytest.mark.parametrize("ttl", ["0h", "8", "h", "8m", "08h", " 8h", "8hh"])
def test_other_ttls_are_refused(ttl):
    with pytest.raises(RequestError) as caught:
        req.ttl_delta(ttl)
    assert (caught.value.problem, caught.value.fix) == (f"{ttl!r} is not a TTL", "write hours or days, e.g. 8h or 2d")


def test_times_are_written_in_utc_and_read_back():
    moment = datetime(2026, 12, 1, 13, 4, 5, tzinfo=UTC)
    assert req.format_time(moment) == "2026-12-01T13:04:05Z"
    assert req.format_time(moment.astimezone(datetime.now().astimezone().tzinfo)) == "2026-12-01T13:04:05Z"
    assert req.parse_time("2026-12-01T13:04:05Z") == moment


def test_an_experiment_expires_at_its_tag_and_never_without_one():
    tags = {req.EXPIRES_TAG: "2026-12-01T12:00:00Z"}
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert req.is_expired(tags, at) and req.is_expired(tags, at + timedelta(seconds=1))
    assert not req.is_expired(tags, at - timedelta(seconds=1)) and not req.is_expired({}, at)


def test_an_entry_holds_every_flag_and_only_the_optional_ones_given():
    entry = req.experiment_entry(ExperimentRequest(name="demo", workers=3, control_planes=3, size="large", zones=3,
                                                   chaos=True, like="production", ttl="2d", restore_from="latest"))
    assert entry == {"name": "demo", "controlPlanes": 3, "workers": 3, "size": {"cpu": 2, "memory": "4Gi"},
                     "zones": ["zone-a", "zone-b", "zone-c"], "ttl": "2d", "chaos": True, "like": "production",
                     "restoreFrom": "latest"}
    plain = req.experiment_entry(ExperimentRequest(name="demo"))
    assert plain == {"name": "demo", "controlPlanes": 1, "workers": 1, "size": {"cpu": 1, "memory": "2Gi"},
                     "zones": ["zone-a"], "ttl": "8h", "chaos": False}


@pytest.mark.parametrize(("request_", "problem", "fix"), [
    (ExperimentRequest(name="d", size="huge"), "unknown size 'huge'", "use one of small, medium, large"),
    (ExperimentRequest(name="d", zones=0), "0 zones", "simulate 1 to 3 zones"),
    (ExperimentRequest(name="d", zones=4), "4 zones", "simulate 1 to 3 zones"),
    (ExperimentRequest(name="d", ttl="soon"), "'soon' is not a TTL", "write hours or days, e.g. 8h or 2d")])
def test_an_entry_refuses_flags_outside_their_range(request_, problem, fix):
    with pytest.raises(RequestError) as caught:
        req.experiment_entry(request_)
    assert (caught.value.problem, caught.value.fix) == (problem, fix)


def test_the_stack_config_refuses_what_the_config_model_refuses_with_its_first_issue():
    template = {"homelab:role": "lab", "homelab:prodStack": "organization/homelab/prod"}
    with pytest.raises(RequestError) as caught:
        req.stack_config(template, ExperimentRequest(name="demo", workers=1, zones=2))
    assert caught.value.problem == "homelab:experiments[0].zones: 2 zones but only 1 workers"
    assert caught.value.fix == "list at most as many zones as workers"
    config = req.stack_config({**template, "homelab:experiments": [{"name": "old"}], "other:key": 1},
                              ExperimentRequest(name="demo"))
    assert [e["name"] for e in config["homelab:experiments"]] == ["demo"] and config["other:key"] == 1
    assert req.as_pulumi_config({"a": "text", "b": [1], "c": {"d": True}}) == {"a": "text", "b": "[1]",
                                                                               "c": '{"d": true}'}


def _quotas(**named: tuple[int, int]) -> dict:
    return {"experimentQuotas": {name: {"cpu_m": cpu, "memory_mib": mem} for name, (cpu, mem) in named.items()}}


def test_quotas_are_read_from_a_stacks_outputs():
    assert quotas_of(_quotas(a=(1, 2), b=(3, 4))) == {"a": Amount(1, 2), "b": Amount(3, 4)}
    assert quotas_of({}) == {} and quotas_of({"experimentQuotas": None}) == {}


def test_a_name_held_by_any_other_stack_is_refused_naming_that_stack():
    check_name_is_free("new", {"lab": _quotas(sandbox=(1, 1))})
    with pytest.raises(ConflictError) as caught:
        check_name_is_free("sandbox", {"exp-x": _quotas(), "lab": _quotas(sandbox=(1, 1))})
    assert caught.value.problem == ("experiment 'sandbox' already runs in the lab stack (its namespace and Cluster "
                                    "would be shared)") and caught.value.fix == "pick another name"


def test_what_stays_free_counts_every_stack_and_the_new_request():
    from components.clusters.experiments import ExperimentCapacityError

    versions = Versions()
    prod = {"freeCapacity": {"cpu_m": 100_000, "memory_mib": 100_000}}
    alone = request_fits(prod, {}, {"name": "n"}, versions)
    with_others = request_fits(prod, {"lab": _quotas(a=(1000, 2000)), "exp-b": _quotas(a=(10, 20))},
                               {"name": "n"}, versions)
    assert alone - with_others == Amount(1010, 2020)
    with pytest.raises(ExperimentCapacityError):
        request_fits({"freeCapacity": {"cpu_m": 100, "memory_mib": 100}}, {}, {"name": "n"}, versions)


def test_synth_writes_into_a_new_or_empty_folder_or_one_it_made(tmp_path: Path):
    check_output_dir(tmp_path / "new")
    check_output_dir(tmp_path)
    claim_output_dir(tmp_path / "made" / "deep")
    assert (tmp_path / "made" / "deep" / MARKER).read_text().startswith("made by labctl")
    (tmp_path / "made" / "deep" / "resources.json").write_text("{}")
    check_output_dir(tmp_path / "made" / "deep")


def test_synth_refuses_a_file_or_a_folder_of_someone_elses(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UnsafeOutputError, match=r"is a folder synth did not make .*no \.labctl-synth"):
        check_output_dir(tmp_path)
    with pytest.raises(UnsafeOutputError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "notes.txt")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / MARKER).mkdir()
    (tmp_path / "sub" / "x").write_text("")
    with pytest.raises(UnsafeOutputError):
        check_output_dir(tmp_path / "sub")
