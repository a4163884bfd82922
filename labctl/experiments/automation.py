"""The Automation API calls behind `labctl experiment`: thin, with every decision made before them.

One backend holds every stack of a homelab so experiments can read prod: the local file backend under the
user's home by default, ``PULUMI_BACKEND_URL`` for any other; the passphrase comes from
``PULUMI_CONFIG_PASSPHRASE``. ``api`` is the ``pulumi.automation`` module itself, passed in so tests can hand
an autospec of it and see exactly which stacks, config and operations would be asked for.
"""

import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from pulumi.automation import events

from components.versions import PULUMI_CLI
from labctl.experiments.request import (
    EXPIRES_TAG,
    TTL_TAG,
    RequestError,
    as_pulumi_config,
    experiment_name,
    expires_at,
    format_time,
    is_experiment_stack,
    is_expired,
    stack_name,
)

BACKEND_ENV = "PULUMI_BACKEND_URL"
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
PROD_STACK = "prod"


def _install_hint() -> str:
    return f"install it: curl -fsSL https://get.pulumi.com | sh -s -- --version {PULUMI_CLI.lstrip('v')}"


class CliMissingError(RuntimeError):
    """No Pulumi CLI on PATH, or one older than the pin (components/versions.py PULUMI_CLI)."""

    def __init__(self, found: str | None = None) -> None:
        if found is None:
            super().__init__(f"the Pulumi CLI is not installed — {_install_hint()}")
        else:
            super().__init__(f"the Pulumi CLI on PATH is {found}, older than the {PULUMI_CLI} labctl needs (stack "
                             f"tags, which experiments rely on, need a recent one) — {_install_hint()}")


def _release(text: str) -> tuple[int, ...] | None:
    found = re.match(r"v?(\d+)\.(\d+)\.(\d+)", text.strip())
    return tuple(int(part) for part in found.groups()) if found else None


def require_cli(which: Callable[[str], str | None] = shutil.which) -> None:
    """The Pulumi CLI is on PATH and at least the pinned release (`pulumi version` prints e.g. v3.272.0)."""
    path = which("pulumi")
    if path is None:
        raise CliMissingError()
    try:
        printed = subprocess.run([path, "version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        raise CliMissingError("one whose `pulumi version` fails") from None
    release, wanted = _release(printed), _release(PULUMI_CLI)
    if release is None or wanted is None or release < wanted:
        raise CliMissingError(printed.strip() or "one that prints no version")


def default_backend(home: Path) -> str:
    return f"file://{home / '.pulumi-homelab'}"


def backend_env(env: Mapping[str, str], home: Path) -> dict[str, str]:
    """The variables every workspace runs with: one backend for all stacks, and the passphrase if set."""
    chosen = {BACKEND_ENV: env.get(BACKEND_ENV) or default_backend(home)}
    if PASSPHRASE_ENV in env:
        chosen[PASSPHRASE_ENV] = env[PASSPHRASE_ENV]
    return chosen


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C while `pulumi up` runs: the terminal sends SIGINT to the CLI as well, which finishes the steps in
    flight, releases its lock and exits. So labctl only notes the signal, keeps reading the CLI's output until
    it exits, and then stops (KeyboardInterrupt). It never runs `pulumi cancel`, which on the file and S3
    backends deletes the lock a live update still holds."""
    interrupted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: interrupted.append(number))
    try:
        yield
    except Exception as error:
        if interrupted:
            raise KeyboardInterrupt from error
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt


@dataclass(frozen=True)
class Experiments:
    api: ModuleType
    project_dir: Path
    env: dict[str, str]

    def _opts(self) -> Any:
        return self.api.LocalWorkspaceOptions(work_dir=str(self.project_dir), env_vars=self.env)

    def _select(self, stack: str) -> Any:
        return self.api.select_stack(stack_name=stack, work_dir=str(self.project_dir), opts=self._opts())

    def policy_packs(self) -> list[str]:
        """The repository's pack (policy/): an experiment's resources are checked before each step, as prod's are
        in CI, so the experiment rules hold on real exp-* stacks."""
        return [str(self.project_dir / "policy")]

    def workspace(self) -> Any:
        return self.api.LocalWorkspace(work_dir=str(self.project_dir), env_vars=self.env)

    def stack_names(self) -> set[str]:
        return {summary.name for summary in self.workspace().list_stacks()}

    def outputs(self, stack: str) -> dict[str, Any]:
        return {key: item.value for key, item in self._select(stack).outputs().items()}

    def create(self, name: str, config: Mapping[str, Any], ttl: str, now: datetime,
               on_event: Callable[[events.EngineEvent], Any], preview: bool = False) -> Any:
        """Create ``exp-NAME`` with its config and expiry, then run it. Ctrl-C stops the update the way the CLI
        stops itself (see ``interrupts_deferred``) and leaves a stack that `destroy` cleans up."""
        stack = self.api.create_stack(stack_name=stack_name(name), work_dir=str(self.project_dir), opts=self._opts())
        try:
            stack.set_all_config({key: self.api.ConfigValue(value=value)
                                  for key, value in as_pulumi_config(dict(config)).items()})
            stack.set_tag(EXPIRES_TAG, format_time(expires_at(ttl, now)))
            stack.set_tag(TTL_TAG, ttl)
            if preview:
                return stack.preview(on_event=on_event, policy_packs=self.policy_packs())
        finally:
            # A preview leaves nothing behind, whatever step it stopped at.
            if preview:
                stack.workspace.remove_stack(stack_name(name))
        with interrupts_deferred():
            return stack.up(on_event=on_event, policy_packs=self.policy_packs())

    def destroy(self, stack: str, on_event: Callable[[events.EngineEvent], Any]) -> Any:
        experiment_name(stack)  # refuses anything but exp-*
        selected = self._select(stack)
        result = selected.destroy(on_event=on_event)
        selected.workspace.remove_stack(stack)
        return result

    def tags(self, stack: str) -> dict[str, str]:
        return dict(self._select(stack).list_tags())

    def extend(self, stack: str, ttl: str, now: datetime) -> str:
        experiment_name(stack)
        expiry = format_time(expires_at(ttl, now))
        selected = self._select(stack)
        selected.set_tag(EXPIRES_TAG, expiry)
        selected.set_tag(TTL_TAG, ttl)
        return expiry

    def experiments(self) -> list[str]:
        return sorted(name for name in self.stack_names() if is_experiment_stack(name))

    def expired(self, now: datetime) -> list[str]:
        return [stack for stack in self.experiments() if is_expired(self.tags(stack), now)]


__all__ = ["CliMissingError", "Experiments", "RequestError", "backend_env", "require_cli"]
