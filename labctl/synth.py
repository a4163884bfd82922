"""``labctl synth``: the real program, run offline under the mock engine, rendered to files a person reads.

The stack's own ``Pulumi.<stack>.yaml`` is the config; every secret config value is replaced by a marked
placeholder and every secret a provider would produce by a canary (``labctl.mocks``), so nothing real is
needed and a test can prove nothing secret is written in clear. A ``lab`` or ``exp-*`` stack reads prod
through a StackReference: synth answers it with the outputs of prod's own synth.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from components import stacks
from components.cloud.seams import qualified_stack
from components.config import NAMESPACE, REQUIRED_SECRETS, ConfigError, Secrets
from labctl import engine
from labctl.engine import Registration
from labctl.mocks import PLACEHOLDER, HomelabMocks

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROD_STACK = "prod"
_NOT_MANIFESTS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "pulumi:providers:")


# Secrets whose shape the program checks get a placeholder of that shape (the marker stays inside).
_PEM = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{}\n-----END ENCRYPTED PRIVATE KEY-----\n"
_PLACEHOLDER_SHAPES = {f"{NAMESPACE}:sharedFsEncryptionKey": _PEM}


def placeholder(key: str) -> str:
    return _PLACEHOLDER_SHAPES.get(key, "{}").format(f"{PLACEHOLDER}:{key}")


class StackFileError(ValueError):
    """A stack file that is not YAML, or not a ``config:`` map: one message with the file, line and fix."""


def _parse_stack_file(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise StackFileError(f"{path.name} is not valid YAML at {where}: {problem} — fix: correct the YAML "
                             "there (`pulumi config set` writes it for you)") from None
    if document is None:
        return {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise StackFileError(f"{path.name} must be a map with a `config:` map of `homelab:` keys — fix: start the "
                             "file with `config:` and indent every key under it, as Pulumi.prod.yaml does")
    if "config" not in document:
        raise StackFileError(f"{path.name} has no `config:` map (top-level keys: {', '.join(map(str, document))}) "
                             "— fix: put every key under `config:`, as Pulumi.prod.yaml does")
    return dict(document["config"] or {})


def read_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The ``config:`` map of ``Pulumi.<stack>.yaml``; an ``exp-*`` stack without one starts from its template,
    ``Pulumi.lab.yaml`` (its own config lives in the backend, set by `labctl experiment create`)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if stack.startswith("exp-") and not path.is_file():
        path = project_dir / "Pulumi.lab.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path.name} not found in {project_dir}: create it or pick another stack")
    return _parse_stack_file(path)


def _secret_config_keys(stack_config: Mapping[str, Any]) -> set[str]:
    """Every secret the stack has (``secure:`` values) or its role requires and the file lacks."""
    keys = {key for key, value in stack_config.items() if isinstance(value, dict) and set(value) == {"secure"}}
    role = stack_config.get(f"{NAMESPACE}:role")
    field_aliases = {name: field.alias or name for name, field in Secrets.model_fields.items()}
    required = {f"{NAMESPACE}:{field_aliases[name]}" for name in REQUIRED_SECRETS.get(str(role), ())}
    # A required secret written in plain text stays plain, so the program can refuse it.
    keys |= required - set(stack_config)
    return keys


def runtime_config(stack_config: Mapping[str, Any], omit: Iterable[str] = ()) -> tuple[dict[str, str], list[str]]:
    """Stack-file config as the language host hands it over: strings, objects as JSON, secrets marked."""
    secret_keys = sorted(_secret_config_keys(stack_config) - set(omit))
    config = {key: value if isinstance(value, str) else json.dumps(value)
              for key, value in stack_config.items() if key not in omit and key not in secret_keys}
    config.update({key: placeholder(key) for key in secret_keys})
    return config, secret_keys


@dataclass(frozen=True)
class SynthResult:
    stack: str
    registrations: list[Registration]
    outputs: dict[str, Any]
    raw_outputs: dict[str, Any]
    invocations: list[engine.Invocation]
    placeholders: list[str]

    def by_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str, name: str, within: str | None = None) -> Registration:
        """The one resource of this type and name (under a component of type ``within``, if given)."""
        matches = [r for r in self.registrations if r.type == type_ and r.name == name
                   and (within is None or f"{within}$" in r.urn)]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_} named {name}, found {len(matches)}")
        return matches[0]


def stack_reference_outputs(prod: SynthResult) -> dict[str, Any]:
    """Prod's exports in wire form, secret markers kept, as the engine hands them to a StackReference."""
    return dict(prod.raw_outputs)


def synthesize(
    stack: str,
    *,
    project_dir: Path = PROJECT_DIR,
    config_overrides: Mapping[str, Any] | None = None,
    omit: Iterable[str] = (),
    prod_outputs: Mapping[str, Any] | None = None,
    deployed_outputs: Mapping[str, Any] | None = None,
    preview: bool = False,
) -> SynthResult:
    """Run the program for ``stack`` under mocks; ``config_overrides`` replace stack-file keys (tests);
    ``deployed_outputs`` are the platform stack's own last outputs, which it reads back (none: a first
    deployment); ``preview`` runs it as `pulumi preview` does (an update otherwise)."""
    stack_config = {**read_stack_file(stack, project_dir), **(config_overrides or {})}
    config, secret_keys = runtime_config(stack_config, omit)
    role = stack_config.get(f"{NAMESPACE}:role")
    references: dict[str, Mapping[str, Any]] = {}
    # Only the lab reads prod; any other role the program refuses on its own.
    if role == "lab":
        if prod_outputs is None:
            prod_outputs = stack_reference_outputs(synthesize(PROD_STACK, project_dir=project_dir))
        prod_name = qualified_stack(str(stack_config.get(f"{NAMESPACE}:prodStack", "prod")), "organization",
                                    "homelab")
        references[prod_name] = prod_outputs
    if deployed_outputs is not None:
        references[f"organization/homelab/{stack}"] = deployed_outputs
    monitor = engine.run_program(
        stacks.main, mocks=HomelabMocks(references), stack=stack, config=config,
        secret_keys=secret_keys, project_dir=project_dir, preview=preview,
    )
    return SynthResult(
        stack=stack,
        registrations=sorted(monitor.registrations, key=lambda r: r.urn),
        outputs=monitor.stack_outputs,
        raw_outputs=monitor.raw_stack_outputs,
        invocations=list(monitor.invocations),
        placeholders=[placeholder(key) for key in secret_keys],
    )


_E = TypeVar("_E", bound=BaseException)


def cause_of(error: BaseException | None, kind: type[_E]) -> _E | None:
    """The exception of ``kind`` somewhere down ``error``'s chain of causes (the RunError the program raises
    wraps the ConfigError or CapacityError that decided it). A chain that loops back ends there."""
    seen: set[int] = set()
    while error is not None and not isinstance(error, kind):
        if id(error) in seen:
            return None
        seen.add(id(error))
        error = error.__cause__
    return error


def config_error(error: BaseException) -> ConfigError | None:
    """The ConfigError behind the RunError the program raises for bad config, if that is what failed."""
    return cause_of(error, ConfigError)
