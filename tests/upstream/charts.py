"""Every chart the program installs, rendered by the real Helm from ``../shared/charts`` at exactly its pin.

An install is a Helm release on the infrastructure cluster or a chart a HelmChartProxy puts into a guest, with
the release name, namespace and values the program registered. ``unread_keys`` names each key path of the
program's values that the chart neither defaults nor reads: Helm ignores such a key without a word.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from labctl.synth import SynthResult

SHARED = Path(os.environ.get("HOMELAB_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
CHARTS = SHARED / "charts"
RELEASE = "kubernetes:helm.sh/v3:Release"
INFRASTRUCTURE = "homelab"
GUEST_SELECTOR = "homelab.dev/cluster"


@dataclass(frozen=True)
class Install:
    where: str  # the registering resource's URN
    cluster: str  # the infrastructure cluster, or the guest the proxy selects
    chart: str
    version: str
    release: str
    namespace: str
    values: dict[str, Any] = field(hash=False)

    @property
    def label(self) -> str:
        return f"{self.cluster}/{self.release} ({self.chart} {self.version})"


def installs(result: SynthResult) -> list[Install]:
    found = []
    for r in result.registrations:
        if r.type == RELEASE:
            found.append(Install(r.urn, INFRASTRUCTURE, r.inputs["chart"], r.inputs["version"], r.inputs["name"],
                                 r.inputs["namespace"], r.inputs.get("values") or {}))
        elif r.type.endswith(":HelmChartProxy") and not r.read:
            spec = r.inputs["spec"]
            found.append(Install(r.urn, spec["clusterSelector"]["matchLabels"][GUEST_SELECTOR], spec["chartName"],
                                 spec["version"], spec["releaseName"], spec["namespace"],
                                 yaml.safe_load(spec["valuesTemplate"]) or {}))
    return found


def chart_dir(chart: str, version: str) -> Path:
    return CHARTS / f"{chart}-{version}"


RENDERS = Path(tempfile.gettempdir()) / "homelab-helm" / "renders"


def _fingerprint(directory: Path) -> str:
    """What a render depends on in the chart's folder: every file's path, size and modification time."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(directory)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _render_text(helm: Path, directory: Path, release: str, namespace: str, values_yaml: str,
                 kube_version: str) -> str:
    """``helm template``'s output, kept on disk by everything it depends on, so the test processes of one run
    (and later runs) render each install once."""
    key = hashlib.sha256("\0".join([str(helm), str(helm.stat().st_mtime_ns), _fingerprint(directory), release,
                                     namespace, values_yaml, kube_version]).encode()).hexdigest()
    kept = RENDERS / f"{key}.yaml"
    if kept.is_file():
        return kept.read_text()
    text = _helm_template(helm, directory, release, namespace, values_yaml, kube_version)
    RENDERS.mkdir(parents=True, exist_ok=True)
    partial = kept.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(text)
    partial.rename(kept)
    return text


def _helm_template(helm: Path, directory: Path, release: str, namespace: str, values_yaml: str,
                   kube_version: str) -> str:
    done = subprocess.run(
        [str(helm), "template", release, str(directory), "--namespace", namespace,
         "--kube-version", kube_version.removeprefix("v"), "--include-crds", "--values", "-"],
        input=values_yaml, capture_output=True, text=True, timeout=120,
        env={"HOME": os.environ.get("HOME", "/tmp"), "PATH": os.environ.get("PATH", ""),
             "HELM_CACHE_HOME": "/tmp/homelab-helm/cache", "HELM_CONFIG_HOME": "/tmp/homelab-helm/config",
             "HELM_DATA_HOME": "/tmp/homelab-helm/data"},
    )
    if done.returncode:
        raise RenderError(done.stderr.strip())
    return done.stdout


class RenderError(Exception):
    pass


# Where each workload kind keeps the template of its pods.
POD_TEMPLATES = {"Deployment": ("spec", "template"), "StatefulSet": ("spec", "template"),
                 "DaemonSet": ("spec", "template"), "ReplicaSet": ("spec", "template"), "Job": ("spec", "template"),
                 "CronJob": ("spec", "jobTemplate", "spec", "template")}


def pod_template(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod template of a workload object (``apps/`` and ``batch/`` kinds), or None."""
    path = POD_TEMPLATES.get(str(obj.get("kind")))
    if path is None or not str(obj.get("apiVersion", "")).startswith(("apps/", "batch/")):
        return None
    template: Any = obj
    for key in path:
        template = template.get(key) or {}
    return template


def _dependencies(directory: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load((directory / "Chart.yaml").read_text()).get("dependencies") or [])


def _enabled(condition: str | None, values: Mapping[str, Any], defaults: Mapping[str, Any]) -> bool:
    """A dependency's condition as Helm reads it: the first of its paths that is set decides; none set, on."""
    for path in (condition or "").split(","):
        for source in (values, defaults):
            value: Any = source
            for key in path.strip().split("."):
                value = value.get(key) if isinstance(value, Mapping) else None
            if isinstance(value, bool):
                return value
    return True


def renderable_dir(install: Install) -> Path:
    """The chart's folder, or a copy without the dependencies that are not vendored there.

    ``../shared/charts`` leaves out some subcharts (Loki's MinIO is AGPL-3.0). Helm refuses a chart whose
    dependency is missing even when its condition turns it off; a dependency that is off renders nothing, so the
    copy renders the same objects. One that the values turn on is an error.
    """
    directory = chart_dir(install.chart, install.version)
    defaults = _chart_sources(directory)[0]
    vendored = {path.name for path in (directory / "charts").iterdir()} if (directory / "charts").is_dir() else set()
    missing = [d for d in _dependencies(directory) if d["name"] not in vendored
               and not any(name.startswith(f"{d['name']}-") for name in vendored)]
    if not missing:
        return directory
    for dependency in missing:
        if _enabled(dependency.get("condition"), install.values, defaults):
            raise RenderError(f"dependency {dependency['name']} is enabled but not in ../shared/charts")
    copy = Path("/tmp/homelab-charts") / f"{directory.name}-{os.getpid()}"
    if not copy.exists():
        shutil.copytree(directory, copy)
        for path in [copy, *copy.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        chart = yaml.safe_load((copy / "Chart.yaml").read_text())
        chart["dependencies"] = [d for d in chart["dependencies"] if d not in missing]
        (copy / "Chart.yaml").write_text(yaml.safe_dump(chart, sort_keys=False))
        (copy / "Chart.lock").unlink(missing_ok=True)
    return copy


@cache
def _rendered_objects(helm: Path, directory: Path, release: str, namespace: str, values_yaml: str,
                      kube_version: str) -> tuple[dict[str, Any], ...]:
    text = _render_text(helm, directory, release, namespace, values_yaml, kube_version)
    # libyaml: the CRDs some charts render run to megabytes, which the pure-Python parser takes seconds over.
    return tuple(document for document in yaml.load_all(text, Loader=yaml.CSafeLoader)
                 if isinstance(document, dict) and document)


def render(helm: Path, install: Install, kube_version: str) -> list[dict[str, Any]]:
    """The objects ``helm template`` renders for ``install``; hooks included (they carry their annotation).
    Shared between callers: copy before changing one."""
    return list(_rendered_objects(helm, renderable_dir(install), install.release, install.namespace,
                                  yaml.safe_dump(install.values, sort_keys=True), kube_version))


# --- values keys no template reads ------------------------------------------------------------------------

@cache
def _chart_sources(directory: Path) -> tuple[dict[str, Any], str, dict[str, Path]]:
    """A chart's default values, all its template text, and its vendored subcharts by name."""
    defaults = yaml.safe_load((directory / "values.yaml").read_text()) or {}
    # Templates, and the default values a template passes through `tpl` (strings that hold template actions).
    templates = "\n".join([*(path.read_text(errors="replace") for path in sorted((directory / "templates").rglob("*"))
                              if path.is_file()), *_template_strings(defaults)])
    # `dig "a" "b" <default> .Values.x` reads .Values.x.a.b: spelt out so the key checks see it.
    for call in re.finditer(r'dig\s+((?:"[^"]*"\s+)+)(\S+\s+)?\$?\.Values((?:\.[\w-]+)*)', templates):
        keys = re.findall(r'"([^"]*)"', call.group(1))
        keys = keys if call.group(2) else keys[:-1]
        templates += "\n.Values" + call.group(3) + "".join(f".{key}" for key in keys) + " "
    templates += _spelt_out_variables(templates)
    subcharts = {}
    if (directory / "charts").is_dir():
        for sub in (directory / "charts").iterdir():
            if (sub / "Chart.yaml").is_file():
                subcharts[yaml.safe_load((sub / "Chart.yaml").read_text())["name"]] = sub
    chart = yaml.safe_load((directory / "Chart.yaml").read_text())
    for dependency in chart.get("dependencies") or []:
        if dependency.get("alias") and dependency["name"] in subcharts:
            subcharts[dependency["alias"]] = subcharts[dependency["name"]]
    return defaults, templates, subcharts


_BINDING = re.compile(r"\$(\w+)\s*:?=\s*\(?\s*(?:(?:coalesce|default)\s+[^)}]*?)?\$?\.Values((?:\.[\w-]+)+)")
_WHOLE_USE = (r"(?:toYaml|toJson|toPrettyJson|toRawJson|tpl|:=|merge\w*|mustMerge\w*|deepCopy"
              r"|include\s+\"[^\"]+\")\s*\(?\s*")


def _spelt_out_variables(templates: str) -> str:
    """Reads through a variable bound to a value (`$lb := coalesce .Values.socketLB ...`, then
    `$lb.hostNamespaceOnly`), spelt out as reads of the value, so the key checks see which fields are read."""
    spelt = []
    for binding in _BINDING.finditer(templates):
        name, path = binding.group(1), binding.group(2)
        spelt += [f".Values{path}.{field} " for field in set(re.findall(rf"\${name}\.([\w.-]+)", templates))]
        if re.search(_WHOLE_USE + rf"\${name}(?![\w.])", templates):
            spelt.append(f"toYaml .Values{path} ")
    return "\n" + "\n".join(spelt)


def _template_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str) and "{{" in value:
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _template_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _template_strings(item)


# A value handed on whole (so every key under it reaches the output): rendered as YAML or JSON, passed to a
# template or helper, ranged over, merged, or put into a dict. (Reads through a variable are spelt out above.)
_PASSED_ON = (r'(?:toYaml|toJson|toPrettyJson|toRawJson|tpl|with|range\s+[^}]*?:=|merge\w*|mustMerge\w*|deepCopy'
              r'|include\s+"[^"]+"|"[\w.-]+")\s*\(?\s*\$?')


def _read_whole(path: list[str], templates: str) -> bool:
    """A template hands ``.Values.<path>`` on whole, not only fields below it, so keys under it reach it."""
    dotted = re.escape(".Values." + ".".join(path))
    if re.search(_PASSED_ON + dotted + r"(?![\w.])", templates):
        return True
    quoted = " ".join(f'"{key}"' for key in path)
    return re.search(r"index\s+\$?\.Values\s+" + re.escape(quoted) + r"(?!\s*\")", templates) is not None


def _mentioned(path: list[str], templates: str) -> bool:
    """A template reads ``.Values.<path>`` or a field below it."""
    return re.search(re.escape(".Values." + ".".join(path)) + r"(?!\w)", templates) is not None or \
        _read_whole(path, templates)


def _unread(values: Mapping[str, Any], defaults: Any, path: list[str], templates: str,
            subcharts: Mapping[str, Path], conditions: set[str]) -> Iterator[str]:
    for key, value in values.items():
        here = [*path, key]
        if not path and key == "global":
            continue
        if not path and key in subcharts:
            yield from (f"{key}.{inner}" for inner in unread_keys(subcharts[key], value)
                        if f"{key}.{inner}" not in conditions)
            continue
        if ".".join(here) in conditions:
            continue
        if isinstance(defaults, Mapping) and key in defaults:
            default = defaults[key]
            # A non-empty default map is a structure the chart knows; an empty one (or none) is free-form.
            if isinstance(value, Mapping) and isinstance(default, Mapping) and default \
                    and not _read_whole(here, templates):
                yield from _unread(value, default, here, templates, subcharts, conditions)
            continue
        if _mentioned(here, templates) or (path and _read_whole(path, templates)):
            continue
        yield ".".join(here)


def unread_keys(directory: Path, values: Mapping[str, Any]) -> list[str]:
    """Each key path of ``values`` that the chart at ``directory`` has no default for and no template reads."""
    defaults, templates, subcharts = _chart_sources(directory)
    # Helm reads each dependency's condition to decide whether it renders.
    conditions = {path.strip() for d in _dependencies(directory) for path in (d.get("condition") or "").split(",")}
    return list(_unread(values, defaults, [], templates, subcharts, conditions))
