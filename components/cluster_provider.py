"""The one explicit Kubernetes provider per cluster, built from that cluster's kubeconfig."""

import pulumi
import pulumi_kubernetes as k8s


def cluster_provider(name: str, cluster_name: pulumi.Input[str], kubeconfig: pulumi.Input[str],
                     opts: pulumi.ResourceOptions | None = None, mutable_secrets: bool = False) -> k8s.Provider:
    """A provider for one cluster; synth files the manifests it deploys under ``cluster_name``.

    ``cluster_identifier`` stays the cluster's name: Talos renews client certificates, which changes the
    kubeconfig, and only a different cluster should replace the provider and everything it owns.
    ``mutable_secrets`` updates Secrets in place instead of replacing them (the lab's provider, which may not
    watch the Secrets a replacement's deletion waits on: components/platform/lab_access.py).
    """
    return k8s.Provider(
        name,
        kubeconfig=kubeconfig,
        cluster_identifier=cluster_name,
        enable_server_side_apply=True,
        enable_secret_mutable=mutable_secrets or None,
        opts=opts,
    )
