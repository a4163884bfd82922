"""Every pin that the shared upstream copies can speak for exists there and fits its neighbours (offline).

The tags, commits and registry listings seen for the others sit beside each pin in components/versions.py.
"""

import pytest
import yaml

from components import versions
from components.clusters import addons
from components.platform import network
from tests.upstream.charts import CHARTS, SHARED
from tests.upstream.crds import CRD_YAML, OPERATOR_RELEASES, SAME_CRDS

pytestmark = pytest.mark.skipif(not CHARTS.is_dir(), reason=f"needs ../shared beside the checkout ({SHARED})")

CHART_NAMES = {"cilium": "cilium", "cert-manager": "cert-manager", "capi-operator": "cluster-api-operator",
               "argocd": "argo-cd", "velero": "velero", "tailscale-operator": "tailscale-operator",
               "juicefs-csi-driver": "juicefs-csi-driver", "otel-agent": "opentelemetry-collector",
               "otel-gateway": "opentelemetry-collector", "loki": "loki", "tempo": "tempo", "grafana": "grafana"}


def _chart(name: str, version: str) -> dict:
    return yaml.safe_load((CHARTS / f"{name}-{version}" / "Chart.yaml").read_text())


def test_every_chart_pin_is_an_upstream_chart_release():
    pins = [(CHART_NAMES[release], version) for release, version in versions.PLATFORM_CHART_PINS.items()]
    pins += [(addons.CHAOS_MESH_CHART.chart, versions.CHAOS_MESH),
             (addons.LOCAL_PATH_CHART.chart, versions.LOCAL_PATH_PROVISIONER),
             (network.GUEST_CILIUM_CHART.chart, versions.CILIUM)]
    missing = [f"{name}-{version}" for name, version in pins if not (CHARTS / f"{name}-{version}").is_dir()]
    assert not missing, f"no upstream chart in ../shared/charts for: {missing}"
    assert all(_chart(name, version)["version"] == version for name, version in pins)


@pytest.mark.parametrize(("chart", "version", "app"), [
    ("velero", versions.VELERO, versions.VELERO_IMAGE.rsplit(":", 1)[1]),
    ("cert-manager", versions.CERT_MANAGER, versions.CERT_MANAGER),
    ("cilium", versions.CILIUM, versions.CILIUM),
    ("tailscale-operator", versions.TAILSCALE_OPERATOR, f"v{versions.TAILSCALE_OPERATOR}"),
    ("chaos-mesh", versions.CHAOS_MESH, versions.CHAOS_MESH),
    ("cluster-api-operator", versions.CAPI_OPERATOR, versions.CAPI_OPERATOR),
])
def test_each_charts_app_version_is_the_app_the_program_pins_beside_it(chart, version, app):
    assert str(_chart(chart, version)["appVersion"]).removeprefix("v") == app.removeprefix("v")


def test_every_operator_installed_release_has_its_upstream_crds_here():
    missing = [release for release in OPERATOR_RELEASES if not (CRD_YAML / SAME_CRDS.get(release, release)).is_dir()]
    assert not missing, f"no upstream release CRDs in ../shared/schemas/crd-yaml for: {missing}"


def test_the_talos_pin_is_a_release_whose_config_schema_is_here():
    assert (SHARED / "schemas" / "talos" / f"config.schema.{versions.TALOS}.json").is_file()
