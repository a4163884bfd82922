"""The layers only point down: no module of components/ imports one of a higher layer.

The order (issue 19): the top-level helpers < config < capacity < cloud < metal < platform < clusters < apps
< stacks. Read from the source with ``ast``, so an import inside a function counts too."""

import ast
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).resolve().parent.parent / "components"
ORDER = ("helpers", "config", "capacity", "cloud", "metal", "platform", "clusters", "apps", "stacks")
HELPERS = {"versions", "boards", "quantities", "address_ranges", "outputs", "cluster_provider", "labels"}


def layer_of(module: str) -> str | None:
    """``components.platform.chart`` → ``platform``; None outside components."""
    parts = module.split(".")
    if parts[0] != "components" or len(parts) < 2:
        return None
    return "helpers" if parts[1] in HELPERS else parts[1]


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from components import x` names the module x.
            found += ([f"{node.module}.{alias.name}" for alias in node.names] if node.module == "components"
                      else [node.module])
    return found


def upward_imports(root: Path) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        own = layer_of(module)
        for imported in imports(path):
            theirs = layer_of(imported)
            if own in ORDER and theirs in ORDER and ORDER.index(theirs) > ORDER.index(own):
                problems.append(f"{module} ({own}) imports {imported} ({theirs})")
    return problems


def test_every_module_of_components_is_in_a_layer():
    modules = {layer_of(".".join(p.relative_to(COMPONENTS.parent).with_suffix("").parts))
               for p in COMPONENTS.rglob("*.py") if p.name != "__init__.py" or p.parent != COMPONENTS}
    assert modules <= set(ORDER), modules - set(ORDER)


def test_no_import_runs_from_a_lower_layer_to_a_higher_one():
    assert upward_imports(COMPONENTS) == []


@pytest.mark.parametrize(("source", "caught"), [
    ("from components.apps.catalog import production_apps\n", True),
    ("import components.stacks\n", True),
    ("def f():\n    from components import apps\n", True),
    ("from components.platform.chart import namespace\n", False),
])
def test_an_upward_import_is_caught_wherever_it_is(tmp_path, source, caught):
    package = tmp_path / "components" / "clusters"
    package.mkdir(parents=True)
    (package / "probe.py").write_text(source)
    assert bool(upward_imports(tmp_path / "components")) is caught
