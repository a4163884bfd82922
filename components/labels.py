"""Labels more than one layer reads: which class of guest cluster a namespace, or a Service made for a guest,
belongs to. The platform's address pools and admission policies select by them; the guest clusters set them."""

CLASS_LABEL = "homelab.dev/cluster-class"
EXPERIMENT = "experiment"
