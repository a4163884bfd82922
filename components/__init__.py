"""The homelab as one Pulumi program: typed config, then one ComponentResource per layer."""
