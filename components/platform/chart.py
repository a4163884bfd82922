"""One pinned Helm chart install, and where its workloads' resources sit in its values.

Every chart the platform installs is a ``ChartSpec``: repository, chart, pinned version, namespace, and the
``Workload`` paths the capacity budget reads from the very values dict that is registered.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Demand, Workload, chart_demands

# Pod Security Standards levels, strictest first.
PodSecurity = Literal["restricted", "baseline", "privileged"]
ENFORCE = "pod-security.kubernetes.io/enforce"


def pod_security_labels(level: PodSecurity) -> dict[str, str]:
    """Enforce ``level``; below restricted, also warn at restricted, so `kubectl apply` shows what is missing."""
    labels: dict[str, str] = {ENFORCE: level}
    if level != "restricted":
        labels["pod-security.kubernetes.io/warn"] = "restricted"
    return labels


@dataclass(frozen=True)
class ChartSpec:
    release: str
    chart: str
    repo: str
    version: str
    namespace: str
    workloads: tuple[Workload, ...]

    def demands(self, values: Mapping[str, Any], node_count: int) -> list[Demand]:
        return chart_demands("platform", self.release, values, self.workloads, node_count)


def install(spec: ChartSpec, values: Mapping[str, Any], parent: pulumi.Resource,
            depends_on: Sequence[pulumi.Resource] = ()) -> k8s.helm.v3.Release:
    """A Helm release of ``spec`` with ``values``; waits for its workloads to become ready."""
    return k8s.helm.v3.Release(
        spec.release,
        k8s.helm.v3.ReleaseArgs(
            name=spec.release,
            chart=spec.chart,
            version=spec.version,
            namespace=spec.namespace,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=spec.repo),
            values=dict(values),
            atomic=True,
            cleanup_on_fail=True,
            timeout=900,
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def namespace(name: str, parent: pulumi.Resource, pod_security: PodSecurity,
              depends_on: Sequence[pulumi.Resource] = (), owner: str = "",
              adopt_unowned: bool = False,
              labels: Mapping[str, pulumi.Input[str]] | None = None) -> k8s.core.v1.Namespace:
    """A namespace the program owns, enforcing the Pod Security level ``pod_security`` (Talos' cluster-wide
    default is baseline; every namespace the program makes states its own level). The one helper for every
    namespace, the platform's and the guests' alike.

    ``labels`` (a guest's class and TTL) replace the platform's own ``part-of`` label. ``owner`` prefixes the
    resource name where the same namespace is made once per guest cluster, so each stays unique in the stack
    (the URN carries the parent's type, not its name). Earlier stacks named it ``ns-NAME``; ``adopt_unowned``
    takes that resource over, which only the sole guest of a stack may do (two claiming one old resource is an
    engine error, and it can only have been made for a single guest).
    """
    given = dict(labels) if labels is not None else {"app.kubernetes.io/part-of": "homelab-platform"}
    aliases = [pulumi.Alias(name=f"ns-{name}")] if owner and adopt_unowned else None
    return k8s.core.v1.Namespace(
        f"{owner}-ns-{name}" if owner else f"ns-{name}",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels={**given, **pod_security_labels(pod_security)}),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on), aliases=aliases),
    )
