"""Reading a stack's config: validation of the values (``parse_config``), of the language host's form
(``parse_stack_config``) and from the Pulumi runtime (``load_config``)."""

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
from pydantic import ValidationError

from components.config.checks import cloud_and_secret_issues, provider_credential_issues, role_issues
from components.config.errors import SECRET_FIELDS, ConfigError, issue_from_pydantic
from components.config.inventory_checks import inventory_issues
from components.config.stack import HomelabConfig
from components.config.values import NAMESPACE


def parse_config(raw: Mapping[str, Any], stack: str, secret_keys: Iterable[str] = ()) -> HomelabConfig:
    """Validate the ``homelab:*`` values of one stack (keys without the namespace) or raise ConfigError."""
    values = {key: value for key, value in raw.items() if key not in SECRET_FIELDS}
    values["secrets"] = {key: value for key, value in raw.items() if key in SECRET_FIELDS}
    try:
        config = HomelabConfig.model_validate(values)
    except ValidationError as error:
        raise ConfigError(stack, [issue_from_pydantic(e, stack) for e in error.errors()]) from None
    # A stack with the wrong role would be checked against the wrong rules: report that alone.
    issues = role_issues(config, stack) or [*inventory_issues(config, stack),
                                            *cloud_and_secret_issues(config, stack, set(secret_keys))]
    if issues:
        raise ConfigError(stack, issues)
    return config


def _decode(value: Any) -> Any:
    """Pulumi hands structured config over as JSON text; plain strings stay strings."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_stack_config(every: Mapping[str, Any], stack: str, secret_keys: Iterable[str] = ()) -> HomelabConfig:
    """Validate a stack's config as the language host hands it over (``namespace:key`` names, structured values
    as JSON text) or raise ConfigError."""
    prefix = f"{NAMESPACE}:"
    named = {key.removeprefix(prefix): value for key, value in every.items() if key.startswith(prefix)}
    # Secrets are text: one that looks like JSON stays the text it is (decoded, it could be refused and shown).
    raw = {key: value if key in SECRET_FIELDS else _decode(value) for key, value in named.items()}
    # Every problem at once: a provider credential in the file beside whatever else the file gets wrong.
    credentials = provider_credential_issues(every, stack)
    try:
        config = parse_config(raw, stack, secret_keys)
    except ConfigError as error:
        raise ConfigError(stack, [*credentials, *error.issues]) from None
    if credentials:
        raise ConfigError(stack, credentials)
    return config


def load_config() -> HomelabConfig:
    """Read and validate this stack's ``homelab:*`` config from the Pulumi runtime."""
    from pulumi.runtime import config as runtime_config

    every = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {key for key in every if runtime_config.is_config_secret(key)}
    secret_keys |= set(runtime_config.get_config_secret_keys_env())
    return parse_stack_config(every, pulumi.get_stack(), secret_keys)
