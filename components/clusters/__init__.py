"""Guest clusters: Talos Kubernetes clusters of KubeVirt VMs, declared as Cluster API objects."""
