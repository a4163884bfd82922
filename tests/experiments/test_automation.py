"""The Automation API layer, against an autospec of ``pulumi.automation``: exact stacks, config, operations."""

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import ANY, call, create_autospec

import pulumi.automation as auto
import pytest

from components.versions import PULUMI_CLI
from labctl.__main__ import main
from labctl.experiments.automation import Experiments, backend_env, default_backend
from labctl.experiments.request import EXPIRES_TAG, TTL_TAG, RequestError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PROJECT = Path("/work/project")
ENV = {"PULUMI_BACKEND_URL": "file:///home/me/.pulumi-homelab"}


def _api():
    api = create_autospec(auto)
    stack = create_autospec(auto.Stack, instance=True)
    stack.workspace = create_autospec(auto.LocalWorkspace, instance=True)
    api.create_stack.return_value = stack
    api.select_stack.return_value = stack
    return api, stack


def test_create_makes_exactly_the_exp_stack_with_its_config_and_expiry_then_runs_up():
    api, stack = _api()
    on_event = lambda event: None  # noqa: E731
    Experiments(api, PROJECT, ENV).create("demo", {"homelab:role": "lab", "homelab:experiments": [{"name": "demo"}]},
                                          "8h", NOW, on_event)
    api.LocalWorkspaceOptions.assert_called_once_with(work_dir=str(PROJECT), env_vars=ENV)
    api.create_stack.assert_called_once_with(stack_name="exp-demo", work_dir=str(PROJECT),
                                             opts=api.LocalWorkspaceOptions.return_value)
    assert api.ConfigValue.call_args_list == [call(value="lab"), call(value='[{"name": "demo"}]')]
    stack.set_all_config.assert_called_once_with({"homelab:role": ANY, "homelab:experiments": ANY})
    assert stack.set_tag.call_args_list == [call(EXPIRES_TAG, "2026-11-24T20:00:00Z"), call(TTL_TAG, "8h")]
    stack.up.assert_called_once_with(on_event=on_event, policy_packs=[str(PROJECT / "policy")])
    stack.preview.assert_not_called()


def test_preview_removes_the_stack_it_made_and_never_runs_up():
    api, stack = _api()
    Experiments(api, PROJECT, ENV).create("demo", {}, "8h", NOW, print, preview=True)
    stack.preview.assert_called_once_with(on_event=print, policy_packs=[str(PROJECT / "policy")])
    stack.workspace.remove_stack.assert_called_once_with("exp-demo")
    stack.up.assert_not_called()


def test_a_preview_that_fails_before_previewing_still_removes_its_stack():
    api, stack = _api()
    stack.set_tag.side_effect = RuntimeError("tags not supported by this backend")
    with pytest.raises(RuntimeError):
        Experiments(api, PROJECT, ENV).create("demo", {}, "8h", NOW, print, preview=True)
    stack.workspace.remove_stack.assert_called_once_with("exp-demo")
    stack.preview.assert_not_called()


def test_ctrl_c_never_cancels_and_leaves_the_stack_for_destroy():
    """The signal-level behaviour, with a stand-in CLI, is in test_interrupt.py."""
    api, stack = _api()
    stack.up.side_effect = KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        Experiments(api, PROJECT, ENV).create("demo", {}, "8h", NOW, print)
    stack.cancel.assert_not_called()
    stack.workspace.remove_stack.assert_not_called()


@pytest.mark.parametrize("stack_", ["prod", "lab", "exp-"])
def test_destroy_only_ever_selects_experiment_stacks(stack_):
    api, _ = _api()
    with pytest.raises(RequestError):
        Experiments(api, PROJECT, ENV).destroy(stack_, print)
    api.select_stack.assert_not_called()


def test_destroy_and_gc_destroy_then_remove_only_expired_experiments():
    api, stack = _api()
    api.LocalWorkspace.return_value.list_stacks.return_value = [
        auto.StackSummary(name=name, current=False) for name in ("prod", "lab", "exp-old", "exp-new")]
    # Experiments are listed in name order: exp-new, then exp-old.
    stack.list_tags.side_effect = [{EXPIRES_TAG: "2026-11-25T11:00:00Z"}, {EXPIRES_TAG: "2026-11-24T11:00:00Z"}]
    experiments = Experiments(api, PROJECT, ENV)
    assert experiments.expired(NOW) == ["exp-old"]
    experiments.destroy("exp-old", print)
    stack.destroy.assert_called_once_with(on_event=print)
    stack.workspace.remove_stack.assert_called_once_with("exp-old")


def test_extend_moves_the_expiry_tag():
    api, stack = _api()
    expiry = Experiments(api, PROJECT, ENV).extend("exp-demo", "4h", NOW)
    assert expiry == "2026-11-24T16:00:00Z"
    api.select_stack.assert_called_once_with(stack_name="exp-demo", work_dir=str(PROJECT), opts=ANY)
    assert stack.set_tag.call_args_list == [call(EXPIRES_TAG, expiry), call(TTL_TAG, "4h")]


def test_one_backend_for_all_stacks_local_by_default():
    home = Path("/home/me")
    assert backend_env({}, home) == {"PULUMI_BACKEND_URL": default_backend(home)}
    assert default_backend(home) == "file:///home/me/.pulumi-homelab"
    chosen = backend_env({"PULUMI_BACKEND_URL": "s3://state", "PULUMI_CONFIG_PASSPHRASE": "p"}, home)
    assert chosen == {"PULUMI_BACKEND_URL": "s3://state", "PULUMI_CONFIG_PASSPHRASE": "p"}


@pytest.mark.parametrize("argv", [["experiment", "list"], ["experiment", "gc"],
                                  ["experiment", "create", "demo"], ["experiment", "destroy", "demo"],
                                  ["experiment", "extend", "demo", "--ttl", "4h"]])
def test_without_the_cli_every_command_says_so_in_one_line_and_exits_3(argv, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(argv) == 3
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and "Pulumi CLI is not installed" in out and "get.pulumi.com" in out


def _stand_in_pulumi(directory, prints: str, exit_code: int = 0):
    """A `pulumi` on PATH that answers `pulumi version` as the real CLI does, and records every call."""
    directory.mkdir(exist_ok=True)
    script = directory / "pulumi"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{directory}/calls"\n'
                      f'[ "$1" = version ] && {{ echo "{prints}"; exit {exit_code}; }}\nexit 99\n')
    script.chmod(0o755)
    return directory / "calls"


def test_a_cli_older_than_the_pin_is_refused_before_anything_runs(monkeypatch, capsys, tmp_path):
    calls = _stand_in_pulumi(tmp_path / "bin", "v3.200.1")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    assert main(["experiment", "list"]) == 3
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and "v3.200.1" in out and PULUMI_CLI in out
    assert f"--version {PULUMI_CLI.lstrip('v')}" in out
    assert calls.read_text().splitlines() == ["version"], "nothing but the version check ran"


_MAJOR, _MINOR, _PATCH = (int(part) for part in PULUMI_CLI.lstrip("v").split("."))


@pytest.mark.parametrize(("prints", "exit_code", "accepted"), [
    (PULUMI_CLI, 0, True), (f"v{_MAJOR}.{_MINOR}.{_PATCH + 3}", 0, True), (f"v{_MAJOR + 1}.0.0", 0, True),
    (PULUMI_CLI.lstrip("v"), 0, True), (f"v{_MAJOR}.{_MINOR - 1}.99", 0, False),
    ("warning: something\n", 0, False), (PULUMI_CLI, 1, False),
])
def test_the_version_check_reads_what_pulumi_version_prints(tmp_path, prints, exit_code, accepted):
    from labctl.experiments.automation import CliMissingError, require_cli

    _stand_in_pulumi(tmp_path, prints, exit_code)
    found = str(tmp_path / "pulumi")
    if accepted:
        require_cli(lambda name: found)
    else:
        with pytest.raises(CliMissingError):
            require_cli(lambda name: found)


@pytest.mark.parametrize(("argv", "says"), [
    (["experiment", "create", "Demo"], "not a DNS-safe name"),
    (["experiment", "create", "demo", "--size", "huge"], "unknown size 'huge'"),
    (["experiment", "create", "demo", "--ttl", "7 days"], "is not a TTL"),
    (["experiment", "destroy", "exp-demo"], "is reserved"),
])
def test_bad_arguments_are_usage_errors_before_the_cli_is_looked_for(argv, says, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(argv) == 2
    out = capsys.readouterr().out
    assert says in out and "Pulumi CLI" not in out


def _cli_with(monkeypatch, stacks, prod_outputs):
    from labctl.experiments import cli

    experiments = create_autospec(Experiments, instance=True)
    experiments.stack_names.return_value = set(stacks)
    experiments.outputs.side_effect = lambda stack: prod_outputs if stack == "prod" else {}
    monkeypatch.setattr(cli, "_experiments", lambda args: experiments)
    monkeypatch.setattr(cli, "require_cli", lambda: None)
    # The creation lock lives under HOME: a home of the test's own.
    monkeypatch.setenv("HOME", tempfile.mkdtemp(prefix="labctl-home-"))
    return experiments


def test_create_refuses_an_experiment_that_does_not_fit_before_any_stack_exists(monkeypatch, capsys, prod):
    from labctl.synth import stack_reference_outputs

    outputs = stack_reference_outputs(prod)
    outputs["freeCapacity"] = {"cpu_m": 500, "memory_mib": 1024}
    experiments = _cli_with(monkeypatch, {"prod", "lab"}, outputs)
    assert main(["experiment", "create", "big", "--workers", "3"]) == 1
    out = capsys.readouterr().out
    assert "do not fit" in out and "free:  500m CPU, 1024Mi memory" in out
    experiments.create.assert_not_called()


def test_a_second_create_on_the_machine_is_refused_while_the_first_holds_the_lock(monkeypatch, capsys, prod):
    import fcntl

    from labctl.experiments.capacity import lock_path
    from labctl.synth import stack_reference_outputs

    experiments = _cli_with(monkeypatch, {"prod", "lab"}, stack_reference_outputs(prod))
    lock = lock_path(Path.home())
    held_during_create = []

    def create(*args, **kwargs):
        with lock.open("a") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held_during_create.append(True)
    experiments.create.side_effect = create
    assert main(["experiment", "create", "demo"]) == 0
    assert held_during_create == [True], "the check and the create hold the lock together"
    capsys.readouterr()
    with lock.open("a") as first:
        fcntl.flock(first, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(["experiment", "create", "other"]) == 1
    out = capsys.readouterr().out
    assert "another `labctl experiment create` is running on this machine" in out
    assert experiments.create.call_count == 1


def test_create_refuses_a_taken_name_before_reading_anything(monkeypatch, capsys):
    experiments = _cli_with(monkeypatch, {"prod", "lab", "exp-demo"}, {})
    assert main(["experiment", "create", "demo"]) == 1
    assert "already exists" in capsys.readouterr().out
    experiments.outputs.assert_not_called()
    experiments.create.assert_not_called()


def test_create_that_fits_runs_the_derived_config_with_live_progress(monkeypatch, capsys, prod):
    from labctl.experiments.request import ExperimentRequest, stack_config
    from labctl.synth import read_stack_file, stack_reference_outputs

    experiments = _cli_with(monkeypatch, {"prod", "lab"}, stack_reference_outputs(prod))
    assert main(["experiment", "create", "demo", "--workers", "2", "--ttl", "2d"]) == 0
    expected = stack_config(read_stack_file("lab"), ExperimentRequest(name="demo", workers=2, ttl="2d"))
    experiments.create.assert_called_once_with("demo", expected, "2d", ANY, ANY, preview=False)
    out = capsys.readouterr().out
    assert "created exp-demo" in out and "experimentKubeconfigs" in out and "2d" in out


def test_create_reads_prod_by_the_whole_name_the_lab_gives(monkeypatch, capsys, prod):
    from labctl.experiments import cli
    from labctl.synth import read_stack_file, stack_reference_outputs

    experiments = _cli_with(monkeypatch, {"prod", "lab"}, stack_reference_outputs(prod))
    experiments.outputs.side_effect = lambda stack: stack_reference_outputs(prod) if stack.endswith("prod") else {}
    lab = {**read_stack_file("lab"), "homelab:prodStack": "acme/homelab/prod"}
    monkeypatch.setattr(cli, "read_stack_file", lambda stack, project=None: lab)
    assert main(["experiment", "create", "demo"]) == 0
    assert experiments.outputs.call_args_list[0].args == ("acme/homelab/prod",)


@pytest.mark.parametrize(("flags", "says"), [([], "exp-demo did not come up"),
                                            (["--restore-from", "latest"], "restore drill FAILED"),
                                            (["--restore-from", "latest", "--preview"], "preview failed")])
def test_a_failed_update_is_reported_with_the_engines_error_and_exit_1(monkeypatch, capsys, prod, flags, says):
    from pulumi.automation import CommandError
    from pulumi.automation._cmd import CommandResult

    from labctl.synth import stack_reference_outputs

    experiments = _cli_with(monkeypatch, {"prod", "lab"}, stack_reference_outputs(prod))
    stderr = ("error: update failed\n"
              "  kubernetes:batch/v1:Job restore-drill-ready: error: Job failed: BackoffLimitExceeded")
    experiments.create.side_effect = CommandError(CommandResult("", stderr, 255))
    assert main(["experiment", "create", "demo", *flags]) == 1
    out = capsys.readouterr().out
    assert says in out and "BackoffLimitExceeded" in out and "Traceback" not in out
    # A failed preview removed its stack, and ran no drill: nothing to destroy, no drill verdict.
    preview = "--preview" in flags
    assert ("labctl experiment destroy demo" in out) is not preview
    assert ("restore drill FAILED" in out) is (not preview and "--restore-from" in flags)


def test_a_policy_violation_is_reported_with_its_rule_and_what_broke_it(monkeypatch, capsys, prod):
    """The CLI lists a mandatory violation under "Policies:" on stdout, with the rule's description and the
    pack's message on the two lines under it; the update stops before the resource's step."""
    from pulumi.automation import CommandError
    from pulumi.automation._cmd import CommandResult

    from labctl.synth import stack_reference_outputs

    experiments = _cli_with(monkeypatch, {"prod", "lab"}, stack_reference_outputs(prod))
    stdout = ("Policies:\n    homelab@v0.0.1 (local: policy)\n"
              "        - [mandatory]  experiment-priority  (kubernetes:apps/v1:Deployment: app)\n"
              "          Nothing in an experiment namespace runs at a priority other than the experiment one.\n"
              "          runs at homelab-production in experiment-demo\n")
    experiments.create.side_effect = CommandError(CommandResult(stdout, "error: update failed", 255))
    assert main(["experiment", "create", "demo"]) == 1
    out = capsys.readouterr().out
    assert "[mandatory]  experiment-priority" in out and "runs at homelab-production in experiment-demo" in out
    assert "error: update failed" in out and "Traceback" not in out


@pytest.mark.parametrize("argv", [["experiment", "create", "demo"], ["experiment", "extend", "nope", "--ttl", "4h"],
                                  ["experiment", "list"]])
def test_a_stack_missing_from_the_backend_is_one_refusal_not_a_traceback(monkeypatch, capsys, argv):
    from pulumi.automation import StackNotFoundError
    from pulumi.automation._cmd import CommandResult

    experiments = _cli_with(monkeypatch, {"lab"}, {})
    missing = StackNotFoundError(CommandResult("", "error: no stack named 'prod' found", 255))
    experiments.outputs.side_effect = experiments.extend.side_effect = experiments.experiments.side_effect = missing
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "no stack named 'prod' found" in out and "is not on the backend labctl uses" in out
    assert "Traceback" not in out


def test_any_other_refusal_of_the_cli_is_its_error_and_exit_1(monkeypatch, capsys):
    from pulumi.automation._cmd import CommandResult

    experiments = _cli_with(monkeypatch, {"lab"}, {})
    experiments.experiments.side_effect = auto.CommandError(CommandResult("", "error: passphrase must be set", 255))
    assert main(["experiment", "list"]) == 1
    out = capsys.readouterr().out
    assert "passphrase must be set" in out and "Traceback" not in out


def test_create_refuses_a_name_the_lab_stack_already_runs(monkeypatch, capsys, prod):
    from labctl.synth import stack_reference_outputs

    experiments = _cli_with(monkeypatch, {"prod", "lab"}, stack_reference_outputs(prod))
    lab = {"experimentQuotas": {"sandbox": {"cpu_m": 1220, "memory_mib": 5184}}}
    experiments.outputs.side_effect = lambda stack: lab if stack == "lab" else stack_reference_outputs(prod)
    assert main(["experiment", "create", "sandbox"]) == 1
    assert "already runs in the lab stack" in capsys.readouterr().out
    experiments.create.assert_not_called()


def _failed_command() -> auto.CommandError:
    from pulumi.automation._cmd import CommandResult

    return auto.CommandError(CommandResult(stdout="Destroying (exp-a):\n", code=255,
                                           stderr="error: update failed: deleting namespace timed out"))


def test_gc_goes_on_past_a_failed_destroy_and_names_it(monkeypatch, capsys):
    experiments = _cli_with(monkeypatch, [], {})
    experiments.expired.return_value = ["exp-a", "exp-b"]
    experiments.destroy.side_effect = [_failed_command(), None]
    assert main(["experiment", "gc"]) == 1
    out = capsys.readouterr().out
    assert [c.args[0] for c in experiments.destroy.call_args_list] == ["exp-a", "exp-b"]
    assert "deleting namespace timed out" in out and "exp-a not destroyed" in out
    assert "1 expired experiment(s) destroyed" in out and "Traceback" not in out


def test_a_failed_destroy_is_the_engines_error_and_the_way_on_not_a_traceback(monkeypatch, capsys):
    experiments = _cli_with(monkeypatch, ["exp-demo"], {})
    experiments.destroy.side_effect = _failed_command()
    assert main(["experiment", "destroy", "demo"]) == 1
    out = capsys.readouterr().out
    assert "deleting namespace timed out" in out and "exp-demo was not destroyed" in out
    assert "Traceback" not in out
