"""rclone, the one S3 client the platform's jobs use: remotes configured from environment variables.

rclone reads a remote named ``NAME`` from ``RCLONE_CONFIG_NAME_*`` variables, so a job's whole client
configuration is its container's environment, with keys taken from Secrets and never from arguments.
"""

from typing import Any

from components.platform.storage import ObjectStore
from components.platform.workloads import secret_env
from components.quantities import resources
from components.versions import RCLONE_IMAGE

# The object store inside the cluster, as rclone sees it.
LOCAL_REMOTE = "homelab"


def _env(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def s3_remote(remote: str, provider: str, secret: str, key_id_key: str, secret_key_key: str,
              **settings: str) -> list[dict[str, Any]]:
    """The variables that define one S3 remote; ``settings`` become ``RCLONE_CONFIG_<REMOTE>_<KEY>``."""
    prefix = f"RCLONE_CONFIG_{remote.upper()}_"
    return [
        _env(f"{prefix}TYPE", "s3"), _env(f"{prefix}PROVIDER", provider),
        *(_env(f"{prefix}{key.upper()}", value) for key, value in sorted(settings.items())),
        secret_env(f"{prefix}ACCESS_KEY_ID", secret, key_id_key),
        secret_env(f"{prefix}SECRET_ACCESS_KEY", secret, secret_key_key),
    ]


def object_store_remote(store: ObjectStore, secret: str) -> list[dict[str, Any]]:
    """The in-cluster object store as the ``homelab`` remote, with the keys in ``secret`` (``user`` and
    ``password``)."""
    return s3_remote(LOCAL_REMOTE, "Minio", secret, "user", "password", endpoint=store.endpoint)


def container(name: str, command: list[str], env: list[dict[str, Any]], memory_limit: str) -> dict[str, Any]:
    """A container of the pinned rclone image running ``command`` (the image's own shell is there too)."""
    return {"name": name, "image": RCLONE_IMAGE, "command": command, "env": env,
            "resources": resources("100m", "128Mi", memory_limit=memory_limit)}
