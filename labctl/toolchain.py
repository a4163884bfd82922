"""The upstream tools the `upstream` test tier runs, built from Go modules into a cache outside the checkout.

``python -m labctl.toolchain`` (``make tools``) builds each tool that is not already in the cache; tests find
them with ``tool_path``. Every version comes from ``components/versions.py``, where it sits beside the pin it
must match; each tool builds in its own wrapper module under ``tools/`` whose go.mod requires exactly that
version (checked here before building, and by the tests).

Two tools come from npm rather than Go: the Mermaid parser that checks the README's diagrams, and Grafana's
LogQL and TraceQL grammars that check the dashboards' log and trace queries (``npm ci`` of the wrapper's lock
file, run through a small launcher).

The cache is ``$HOMELAB_TOOLS_DIR``, else ``~/.cache/homelab-tools``: ``<tool>-<version>/<binary>``.
Exit codes: 0 built or already there, 1 a build failed or a wrapper module disagrees with its pin, 3 no Go.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from components import versions

PROJECT_DIR = Path(__file__).resolve().parent.parent
WRAPPERS = PROJECT_DIR / "tools"


@dataclass(frozen=True)
class Tool:
    name: str
    module: str  # the upstream module the wrapper's go.mod requires
    version: str  # that module's version, from components/versions.py
    package: str  # the main package built from it
    own_source: bool = False  # the project's own program: its source is part of the cache key
    npm: bool = False  # installed with npm from the wrapper's package-lock.json instead of built with Go

    @property
    def wrapper(self) -> Path:
        return WRAPPERS / self.name

    @property
    def cache_key(self) -> str:
        if not self.own_source:
            return f"{self.name}-{self.version}"
        digest = hashlib.sha256()
        for path in sorted(self.wrapper.glob("*")):
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return f"{self.name}-{self.version}-{digest.hexdigest()[:12]}"


def _image_tag(image: str) -> str:
    return image.rsplit(":", 1)[1]


def _juicefs_release(image: str) -> str:
    """``juicedata/mount:ce-v1.3.1`` → ``v1.3.1``."""
    return _image_tag(image).removeprefix("ce-")


TOOLS: tuple[Tool, ...] = (
    Tool("helm", "helm.sh/helm/v3", versions.HELM, "helm.sh/helm/v3/cmd/helm"),
    Tool("talos-check", "github.com/siderolabs/talos/pkg/machinery", versions.TALOS_MACHINERY, ".",
         own_source=True),
    Tool("kube-apiserver", "k8s.io/kubernetes", versions.KUBERNETES, "k8s.io/kubernetes/cmd/kube-apiserver"),
    Tool("etcd", "go.etcd.io/etcd/server/v3", _image_tag(versions.ETCD_IMAGE), "go.etcd.io/etcd/server/v3"),
    Tool("etcdctl", "go.etcd.io/etcd/etcdctl/v3", _image_tag(versions.ETCD_IMAGE), "go.etcd.io/etcd/etcdctl/v3"),
    Tool("juicefs", "github.com/juicedata/juicefs", _juicefs_release(versions.JUICEFS_MOUNT_IMAGE),
         "github.com/juicedata/juicefs"),
    Tool("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", versions.KUSTOMIZE, "sigs.k8s.io/kustomize/kustomize/v5"),
    Tool("promtool", "github.com/prometheus/prometheus", versions.PROMETHEUS,
         "github.com/prometheus/prometheus/cmd/promtool"),
    Tool("amtool", "github.com/prometheus/alertmanager", versions.ALERTMANAGER,
         "github.com/prometheus/alertmanager/cmd/amtool"),
    Tool("promql-eval", "github.com/prometheus/prometheus", versions.PROMETHEUS, ".", own_source=True),
    Tool("mermaid", "mermaid", versions.MERMAID, "parse.mjs", own_source=True, npm=True),
    Tool("lezer-queries", "@grafana/lezer-logql", versions.LEZER_LOGQL, "parse.mjs", own_source=True, npm=True),
)
BY_NAME = {tool.name: tool for tool in TOOLS}


def cache_dir() -> Path:
    return Path(os.environ.get("HOMELAB_TOOLS_DIR") or Path.home() / ".cache" / "homelab-tools")


def tool_path(name: str) -> Path:
    """Where ``make tools`` puts the named tool's binary (it may not be there yet)."""
    tool = BY_NAME[name]
    return cache_dir() / tool.cache_key / tool.name


def required_version(tool: Tool) -> str | None:
    """The version of ``tool.module`` its wrapper's go.mod (or package.json) requires."""
    if tool.npm:
        return str(json.loads((tool.wrapper / "package.json").read_text())["dependencies"].get(tool.module))
    text = (tool.wrapper / "go.mod").read_text()
    match = re.search(rf"^(?:require\s+|\t){re.escape(tool.module)}\s+(\S+)", text, re.MULTILINE)
    return match.group(1) if match else None


def wrapper_problems() -> list[str]:
    """Each wrapper module whose go.mod does not require the pinned version of its tool."""
    problems = []
    for tool in TOOLS:
        required = required_version(tool)
        if required != tool.version:
            manifest = "package.json" if tool.npm else "go.mod"
            problems.append(f"tools/{tool.name}/{manifest} requires {tool.module} {required}, but "
                            f"components/versions.py pins {tool.version}: make them agree")
    return problems


def build(tool: Tool) -> Path:
    """Build ``tool`` into the cache unless it is there; returns the binary's path."""
    target = tool_path(tool.name)
    if target.is_file() and os.access(target, os.X_OK):
        print(f"{tool.name} {tool.version}: up to date ({target})")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    print(f"{tool.name} {tool.version}: building (cold builds take minutes; kube-apiserver the longest)",
          flush=True)
    started = time.monotonic()
    if tool.npm:
        _install_npm(tool, target)
    else:
        env = {**os.environ, "GOFLAGS": "-mod=readonly -buildvcs=false"}
        subprocess.run(["go", "build", "-trimpath", "-o", str(partial), tool.package],
                       cwd=tool.wrapper, env=env, check=True)
        partial.rename(target)
    print(f"{tool.name} {tool.version}: built in {time.monotonic() - started:.0f} s", flush=True)
    return target


def _install_npm(tool: Tool, target: Path) -> None:
    """``npm ci`` of the wrapper's lock file beside its script, then a launcher named after the tool."""
    home = target.parent
    for path in tool.wrapper.glob("*"):
        if path.is_file():
            shutil.copy(path, home / path.name)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=home, check=True)
    launcher = target.with_name(target.name + ".partial")
    launcher.write_text(f'#!/bin/sh\nexec node "$(dirname "$0")/{tool.package}" "$@"\n')
    launcher.chmod(0o755)
    launcher.rename(target)


class ToolchainExit(IntEnum):
    """`make tools`' exit codes (the module's docstring)."""

    OK = 0
    FAILED = 1
    NO_BUILD_TOOL = 3


def main() -> int:
    if shutil.which("go") is None:
        print("make tools needs Go (1.26.7 or newer) on PATH; without it the upstream tests skip", file=sys.stderr)
        return ToolchainExit.NO_BUILD_TOOL
    problems = wrapper_problems()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return ToolchainExit.FAILED
    if shutil.which("npm") is None:
        print("make tools needs Node.js and npm on PATH for the Mermaid parser and the LogQL/TraceQL grammars",
              file=sys.stderr)
        return ToolchainExit.NO_BUILD_TOOL
    for tool in TOOLS:
        try:
            build(tool)
        except subprocess.CalledProcessError as error:
            print(f"{tool.name} {tool.version}: go build failed (exit {error.returncode})", file=sys.stderr)
            return ToolchainExit.FAILED
    return ToolchainExit.OK


if __name__ == "__main__":
    sys.exit(main())
