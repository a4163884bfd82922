"""Every chart the program installs names its workloads, and each gets sized values: requests and a memory limit.

The budget counts a chart's pods from the workloads its ChartSpec declares; a chart declared with none would
run unsized and uncounted (inside a guest, in the VMs' own memory), so each one must be declared.
"""

from typing import Any

import pytest
import yaml

from components.capacity import value_at
from components.clusters import addons
from components.platform import (
    backups,
    certificates,
    cluster_api,
    exposure,
    gitops,
    monitoring,
    network,
    shared_fs,
    telemetry,
)
from components.platform.chart import ChartSpec
from labctl.synth import SynthResult

# What goes onto the infrastructure cluster as a Helm release, and into guests through the Helm add-on provider.
RELEASES = (network.CILIUM_CHART, certificates.CERT_MANAGER_CHART, shared_fs.JUICEFS_CHART, telemetry.AGENT_CHART,
            telemetry.GATEWAY_CHART, monitoring.LOKI_CHART, monitoring.TEMPO_CHART, monitoring.GRAFANA_CHART,
            cluster_api.OPERATOR_CHART, gitops.ARGO_CD_CHART, backups.VELERO_CHART, exposure.TAILSCALE_CHART)
GUEST_CHARTS = (network.GUEST_CILIUM_CHART, addons.CHAOS_MESH_CHART, addons.LOCAL_PATH_CHART,
                shared_fs.JUICEFS_CHART, exposure.TAILSCALE_CHART, backups.VELERO_CHART)


def _installed(result: SynthResult) -> list[tuple[str, tuple[ChartSpec, ...], tuple[str, str], dict[str, Any]]]:
    """(where, the specs of that kind, (chart, release), values) of every Helm release and of every chart put
    into a guest."""
    found = []
    for r in result.registrations:
        if r.type == "kubernetes:helm.sh/v3:Release":
            found.append((r.urn, RELEASES, (r.inputs["chart"], r.inputs["name"]), r.inputs.get("values") or {}))
        elif r.type.endswith(":HelmChartProxy"):
            spec = r.inputs["spec"]
            found.append((r.urn, GUEST_CHARTS, (spec["chartName"], spec["releaseName"]),
                          yaml.safe_load(spec["valuesTemplate"]) or {}))
    return found


@pytest.mark.parametrize("stack", ["prod", "crowded_lab"])
def test_every_installed_chart_declares_its_workloads_and_sizes_them(stack, request):
    installed = _installed(request.getfixturevalue(stack))
    assert len(installed) >= 4
    for where, specs, chart, values in installed:
        (spec,) = [spec for spec in specs if (spec.chart, spec.release) == chart] or [None]
        assert spec is not None, f"{where}: chart {chart} has no ChartSpec"
        workloads = spec.workloads
        assert workloads, f"{where}: {chart} declares no workloads, so nothing of it is sized or counted"
        for workload in (w for w in workloads if w.fixed is None):
            block = value_at(values, workload.resources)
            blocks = block.values() if not {"requests", "limits"} & set(block) else [block]
            for sized in blocks:
                assert {"cpu", "memory"} <= set(sized.get("requests", {})), f"{where}: {workload.name} requests"
                assert "memory" in sized.get("limits", {}), f"{where}: {workload.name} has no memory limit"
