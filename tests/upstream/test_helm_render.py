"""Every chart install of every stack renders with the real Helm at its pin, and every values key is one the
chart reads: Helm drops an unknown key silently, so a misspelt or moved key would quietly do nothing."""

import pytest

from components.versions import KUBERNETES
from tests.upstream.charts import RenderError, chart_dir, installs, render, unread_keys

STACKS = ["prod", "lab", "experiment", "crowded_lab"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_chart_renders_at_its_pin_with_the_programs_values(stack, request, helm):
    found = installs(request.getfixturevalue(stack))
    assert found, f"{stack}: no chart install found"
    problems = []
    for install in found:
        if not chart_dir(install.chart, install.version).is_dir():
            problems.append(f"{install.label}: no chart {install.chart}-{install.version} in ../shared/charts, "
                            "so nothing shows that pin exists upstream")
            continue
        try:
            objects = render(helm, install, KUBERNETES)
        except RenderError as error:
            problems.append(f"{install.label}: helm template failed: {error}")
            continue
        if not objects:
            problems.append(f"{install.label}: renders no object")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_no_values_key_is_left_unread_by_its_chart(stack, request):
    problems = []
    for install in installs(request.getfixturevalue(stack)):
        directory = chart_dir(install.chart, install.version)
        if directory.is_dir():
            problems += [f"{install.label}: values key `{key}` is neither a chart default nor read by a template"
                         for key in unread_keys(directory, install.values)]
    assert not problems, "\n".join(problems)


def test_an_unread_key_is_found(prod):
    """The check can fail: a misspelt key at the top, one nested under a known structure, and one under a value
    the chart reads through a variable (`$socketLB := coalesce .Values.socketLB ...`)."""
    (install, *_) = [i for i in installs(prod) if i.release == "cilium"]
    values = {**install.values, "kubeProxyReplacment": True, "hubble": {**install.values.get("hubble", {}),
                                                                         "relay": {"enabledd": True}},
              "socketLB": {"hostNamespaceOnlyy": True}}
    assert set(unread_keys(chart_dir(install.chart, install.version), values)) >= {
        "kubeProxyReplacment", "hubble.relay.enabledd", "socketLB.hostNamespaceOnlyy"}
