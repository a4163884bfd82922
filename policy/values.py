"""Reading a resource's properties the way the rules need: a path that may not exist, a value not known yet.

Pulumi marks a value it cannot know before the step (an id, a name derived from one) as unknown; a rule
that meets one cannot judge that part and says nothing about it. ``pulumi up`` hands each resource's inputs
to the pack again before its step, with the values known by then, so the judgement is only deferred.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# The markers synth writes (labctl/engine.py), and the pack uses for what the engine marks unknown.
SECRET, UNKNOWN = "[secret]", "[unknown]"


def known(*values: Any) -> bool:
    return not any(isinstance(value, str) and value == UNKNOWN for value in values)


def all_known(*values: Any) -> bool:
    """No value, nor anything inside one, is unknown."""
    return all(known(leaf) for value in values for _, leaf in walk(value))


def at(value: Any, *keys: str) -> Any:
    """The value at a path of keys: None where the path does not exist, UNKNOWN where a step is unknown."""
    for key in keys:
        if not known(value):
            return UNKNOWN
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def mapping(value: Any) -> Mapping[str, Any]:
    """A mapping, or an empty one for anything else (missing, unknown, another type)."""
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> Sequence[Any]:
    """A list's items (the analyzer's list proxies are Sequences, not lists), or none for anything else."""
    return value if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) else ()


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every value under ``value`` with its path (``spec.containers[0].image``), mappings and lists alike."""
    yield path, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else str(key))
    else:
        for index, item in enumerate(items(value)):
            yield from walk(item, f"{path}[{index}]")
