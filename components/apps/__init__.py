"""Apps: what runs inside the guest clusters, delivered by Argo CD."""
