"""One shape for every component: ``Name(name, args: NameArgs, opts=None)`` with frozen args, and named classes
only (no anonymous ``ComponentResource``), so a reader knows how to build any of them."""

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import typing
from pathlib import Path

import pulumi

import components

COMPONENTS = Path(components.__file__).parent


def _component_classes() -> list[type]:
    found = {}
    for module in pkgutil.walk_packages([str(COMPONENTS)], "components."):
        loaded = importlib.import_module(module.name)
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, pulumi.ComponentResource) and cls.__module__.startswith("components."):
                found[cls.__qualname__] = cls
    return sorted(found.values(), key=lambda cls: cls.__name__)


def test_every_component_takes_a_name_frozen_args_and_options():
    classes = _component_classes()
    assert len(classes) >= 13
    for cls in classes:
        hints = typing.get_type_hints(cls.__init__)
        assert list(inspect.signature(cls.__init__).parameters) == ["self", "name", "args", "opts"], cls
        args = hints["args"]
        assert dataclasses.is_dataclass(args) and args.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
        assert args.__name__.endswith("Args"), cls


def test_no_anonymous_component_resource_is_made():
    calls = []
    for path in COMPONENTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "ComponentResource"):
                calls.append(f"{path.relative_to(COMPONENTS)}:{node.lineno}")
    assert calls == []
