"""Labels more than one layer reads: which class of guest cluster a namespace, or a Service made for a guest,
belongs to (the platform's address pools and admission policies select by them; the guest clusters set them),
and whose object-store keys a Secret holds."""

CLASS_LABEL = "homelab.dev/cluster-class"
EXPERIMENT = "experiment"

# On every Secret that holds keys of the object store: whose keys they are (the values themselves are secret).
OBJECT_STORE_USER_LABEL = "homelab.dev/object-store-user"
