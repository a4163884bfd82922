"""cloud-provider-kubevirt for one guest cluster: its LoadBalancer Services, made real on the LAN.

A LoadBalancer Service inside a guest (Pi-hole's DNS, say) cannot get a LAN address by itself: its nodes are
VMs. The KubeVirt cloud controller runs beside the VMs in the guest's namespace on the infrastructure cluster,
watches the guest's Services through the kubeconfig Cluster API wrote, and mirrors each one as a
LoadBalancer Service selecting the guest's VM pods, which Cilium gives an address from the LAN pool.
Only the service controller runs: Talos and Cluster API already initialise the guest's nodes.
"""

from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.capacity import Demand, pod_template_demand
from components.labels import CLASS_LABEL
from components.platform.workloads import restricted
from components.quantities import resources
from components.versions import KUBEVIRT_CCM_IMAGE

NAME = "kubevirt-cloud-controller"
CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"


def cloud_config(cluster: str, namespace: str, cls: str) -> str:
    """The controller's config: every infrastructure Service it makes carries the guest's name and class, by
    which the LAN address pools choose what it may be given (components/platform/network.py)."""
    return yaml.safe_dump({"namespace": namespace, "infraLabels": {CLUSTER_NAME_LABEL: cluster, CLASS_LABEL: cls},
                           "loadBalancer": {"creationPollInterval": 5, "creationPollTimeout": 120}}, sort_keys=True)


def deployment_spec(cluster: str, priority_class: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": NAME, CLUSTER_NAME_LABEL + "-ccm": cluster}
    return {
        "replicas": 1,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            # It watches this cluster's API with its service account (and the guest's through the kubeconfig).
            "spec": restricted({
                "serviceAccountName": NAME,
                "priorityClassName": priority_class,
                "containers": [{
                    "name": NAME,
                    "image": KUBEVIRT_CCM_IMAGE,
                    "command": ["/bin/kubevirt-cloud-controller-manager"],
                    "args": ["--cloud-provider=kubevirt", "--cloud-config=/etc/cloud/cloud-config",
                             "--kubeconfig=/etc/kubernetes/kubeconfig/value", "--authentication-skip-lookup=true",
                             # v0.5.1 vendors cloud-provider v0.27, whose controllers are cloud-node,
                             # cloud-node-lifecycle, service and route (app/controllermanager.go): `service`
                             # runs the LoadBalancer controller alone; an unknown name stops the manager at start.
                             f"--cluster-name={cluster}", "--controllers=service"],
                    "volumeMounts": [{"name": "kubeconfig", "mountPath": "/etc/kubernetes/kubeconfig",
                                      "readOnly": True},
                                     {"name": "cloud-config", "mountPath": "/etc/cloud", "readOnly": True}],
                    "resources": resources("20m", "64Mi", memory_limit="192Mi"),
                }],
                "volumes": [{"name": "kubeconfig", "secret": {"secretName": f"{cluster}-kubeconfig"}},
                            {"name": "cloud-config", "configMap": {"name": f"{NAME}-config"}}],
            }, api_access=True),
        },
    }


def tenant_service_labels(cluster: str, namespace: str) -> dict[str, str]:
    """The labels the cloud controller puts on the infrastructure Service it makes for a guest's LoadBalancer
    Service (v0.5.1 pkg/provider/loadbalancer.go): here, any Service of ``namespace`` in guest ``cluster``."""
    return {"cluster.x-k8s.io/cluster-name": cluster, "cluster.x-k8s.io/tenant-service-namespace": namespace}


def demand(cluster: str, layer: str, priority_class: str) -> Demand:
    return pod_template_demand(layer, f"{cluster}/{NAME}", deployment_spec(cluster, priority_class)["template"]["spec"],
                               pods=1)


def install(parent: pulumi.Resource, cluster: str, namespace: str, cls: str, priority_class: str,
            depends_on: list[pulumi.Resource]) -> k8s.apps.v1.Deployment:
    opts = pulumi.ResourceOptions(parent=parent, depends_on=depends_on)
    meta = k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=namespace)
    account = k8s.core.v1.ServiceAccount(f"{cluster}-{NAME}", metadata=meta, opts=opts)
    role = k8s.rbac.v1.Role(f"{cluster}-{NAME}", metadata=meta, rules=[
        k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["services"],
                                   verbs=["get", "list", "watch", "create", "update", "patch", "delete"]),
        k8s.rbac.v1.PolicyRuleArgs(api_groups=["discovery.k8s.io"], resources=["endpointslices"],
                                   verbs=["get", "list", "watch", "create", "update", "patch", "delete"]),
        k8s.rbac.v1.PolicyRuleArgs(api_groups=["kubevirt.io"], resources=["virtualmachineinstances"],
                                   verbs=["get", "list", "watch"]),
    ], opts=opts)
    binding = k8s.rbac.v1.RoleBinding(
        f"{cluster}-{NAME}", metadata=meta,
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=NAME),
        subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=NAME, namespace=namespace)], opts=opts)
    config = k8s.core.v1.ConfigMap(f"{cluster}-{NAME}-config",
                                   metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{NAME}-config", namespace=namespace),
                                   data={"cloud-config": cloud_config(cluster, namespace, cls)}, opts=opts)
    return k8s.apps.v1.Deployment(
        f"{cluster}-{NAME}", metadata=meta,
        spec=cast(k8s.apps.v1.DeploymentSpecArgsDict, deployment_spec(cluster, priority_class)),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[account, role, binding, config, *depends_on]),
    )
