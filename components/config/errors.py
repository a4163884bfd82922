"""How a config problem is reported: ``ConfigIssue`` (the key path, the problem, the fix), ``ConfigError``
(all of one stack's), and the translation of pydantic's errors into them."""

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import (
    BaseModel,
)
from pydantic.alias_generators import to_camel

from components.config.stack import HomelabConfig, Secrets
from components.config.values import NAMESPACE


@dataclass(frozen=True)
class ConfigIssue:
    key: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.problem}\n    fix: {self.fix}"


class ConfigError(Exception):
    """The stack config is invalid; ``issues`` says where and how to fix each problem."""

    def __init__(self, stack: str, issues: list[ConfigIssue]) -> None:
        self.stack = stack
        self.issues = issues
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(f"Pulumi.{stack}.yaml has {len(issues)} config problem(s):\n{lines}")

    @property
    def keys(self) -> list[str]:
        return [issue.key for issue in self.issues]


SECRET_FIELDS = {to_camel(name): name for name in Secrets.model_fields}


def _key_path(loc: Iterable[int | str]) -> str:
    # Pydantic adds "[key]" after a mapping key it refuses: the key itself names the place.
    parts = [part for part in loc if part != "[key]"]
    if parts[:1] == ["secrets"] and len(parts) > 1:
        parts = parts[1:]
    path = f"{NAMESPACE}:{parts[0]}" if parts else NAMESPACE
    for part in parts[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The config model that sits at ``loc`` (to list the keys allowed there)."""
    model: type[BaseModel] = HomelabConfig
    for part in loc:
        if isinstance(part, int):
            continue
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        if part not in fields:
            return None
        annotation = fields[part].annotation
        candidates = [annotation, *get_args(annotation)]
        candidates += [inner for candidate in candidates if get_origin(candidate) for inner in get_args(candidate)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def issue_from_pydantic(error: Any, stack: str) -> ConfigIssue:
    loc = tuple(error["loc"])
    key = _key_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = sorted(f.alias or n for n, f in parent.model_fields.items()) if parent else []
        if len(loc) == 1:
            # At the top the secrets sit beside the other keys (the model's `secrets` is not a key of the file).
            allowed = sorted({*allowed, *SECRET_FIELDS} - {"secrets"})
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.75)
        hint = f"did you mean {close[0]}? " if close else ""
        return ConfigIssue(key, "unknown key",
                           f"{hint}remove it or correct its spelling; allowed here: {', '.join(allowed)}")
    if kind == "missing":
        return ConfigIssue(key, "required key is missing", f"add `{key}` to Pulumi.{stack}.yaml")
    message = str(error["msg"]).removeprefix("Value error, ")
    if " — fix: " in message:
        problem, fix = message.split(" — fix: ", 1)
        return ConfigIssue(key, problem, fix)
    # A secret's value is never repeated back, not even a wrong one.
    shown = "" if loc[:1] == ("secrets",) else f" (got {error.get('input')!r})"
    return ConfigIssue(key, f"{message}{shown}", _fix_for(kind, error.get("ctx") or {}))


def _fix_for(kind: str, ctx: Mapping[str, Any]) -> str:
    """A concrete fix for each kind of value pydantic refuses."""
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "write a whole number, e.g. 2 (not true/false, text or a fraction)"
    if kind in ("bool_type", "bool_parsing"):
        return "write true or false"
    if kind in ("string_type", "str_type"):
        return "write it as text, in quotes if YAML reads it as something else"
    if kind in ("tuple_type", "list_type", "dict_type", "model_type", "model_attributes_type"):
        return "write it as a list ([a, b])" if kind in ("tuple_type", "list_type") else \
            "write it as a map (key: value)"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": "at least", "greater_than": "more than", "less_than_equal": "at most",
                 "less_than": "less than"}[kind]
        limit = next(iter(ctx.values()), "")
        return f"use a value {bound} {limit}"
    if kind in ("too_short", "too_long"):
        return f"give {'at least' if kind == 'too_short' else 'at most'} " \
               f"{ctx.get('min_length', ctx.get('max_length'))} item(s)"
    if kind in ("string_too_short", "string_too_long"):
        length = ctx.get("min_length", ctx.get("max_length"))
        return f"use {'at least' if kind == 'string_too_short' else 'at most'} {length} " \
               f"character{'' if length == 1 else 's'}"
    if kind == "string_pattern_mismatch":
        return f"write it in the form the README's config table shows (it must match {ctx.get('pattern')})"
    if kind.startswith(("ip_v4", "ip_any", "ip_v6")):
        return "write an IPv4 address like 192.168.10.11 (a network like 192.168.10.0/24 where a subnet belongs)"
    return "see the config table in README.md for this key"
