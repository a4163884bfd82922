"""What the providers would answer, offline: ids, computed outputs and invoke results.

Every value a real provider would produce as a secret (keys, certificates, kubeconfigs, machine configs)
comes back as a recognisable canary, ``SYNTH-CANARY:<where>``, so a test can prove none of them is ever
written in clear. Everything else is realistic enough for the program to build on (content-addressed
schematic ids, installer image references, stack-reference outputs).
"""

import base64
import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

import yaml
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.rpc import is_rpc_secret

from components.metal.image import schematic_id

CANARY = "SYNTH-CANARY"
PLACEHOLDER = "SYNTH-PLACEHOLDER"
IMAGE_FACTORY = "factory.talos.dev"


def canary(where: str) -> str:
    return f"{CANARY}:{where}"


def _guest_kubeconfig(secret: str) -> str:
    """A kubeconfig shaped like the one Cluster API writes, every credential in it a canary."""
    cluster = secret.removesuffix("-kubeconfig")
    return str(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": cluster,
        "clusters": [{"name": cluster, "cluster": {"server": f"https://{cluster}.guest:6443",
                                                   "certificate-authority-data": canary(f"{cluster}.ca")}}],
        "users": [{"name": f"{cluster}-admin", "user": {"client-certificate-data": canary(f"{cluster}.cert"),
                                                       "client-key-data": canary(f"{cluster}.key")}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": f"{cluster}-admin"}}],
    }))


def _pem_pair(where: str) -> dict[str, str]:
    return {"cert": canary(f"{where}.cert"), "key": canary(f"{where}.key")}


def _talos_secrets(name: str) -> dict[str, Any]:
    return {
        "machineSecrets": {
            "certs": {
                "etcd": _pem_pair(f"{name}.etcd"),
                "k8s": _pem_pair(f"{name}.k8s"),
                "k8sAggregator": _pem_pair(f"{name}.k8sAggregator"),
                "k8sServiceaccount": {"key": canary(f"{name}.k8sServiceaccount.key")},
                "os": _pem_pair(f"{name}.os"),
            },
            "cluster": {"id": canary(f"{name}.cluster.id"), "secret": canary(f"{name}.cluster.secret")},
            "secrets": {
                "bootstrapToken": canary(f"{name}.bootstrapToken"),
                "secretboxEncryptionSecret": canary(f"{name}.secretboxEncryptionSecret"),
            },
            "trustdinfo": {"token": canary(f"{name}.trustdinfo.token")},
        },
        "clientConfiguration": {
            "caCertificate": canary(f"{name}.client.ca"),
            "clientCertificate": canary(f"{name}.client.cert"),
            "clientKey": canary(f"{name}.client.key"),
        },
    }


class HomelabMocks(Mocks):
    """Provider answers for synth and tests. ``stack_outputs`` feeds StackReferences by stack name.

    With ``first_preview``, answers as the engine does when previewing a stack that does not exist yet: no
    resource has an id, so everything derived from one is unknown.
    """

    def __init__(self, stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
                 first_preview: bool = False) -> None:
        self.stack_outputs = {name: dict(outputs) for name, outputs in (stack_outputs or {}).items()}
        self.first_preview = first_preview

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        resource_id = f"{args.name}-id"
        if args.typ == "pulumi:pulumi:StackReference":
            referenced = state.get("name", args.name)
            outputs = self.stack_outputs.get(referenced, {})
            secret_names = sorted(key for key, value in outputs.items() if is_rpc_secret(value))
            return referenced, {"name": referenced, "outputs": outputs, "secretOutputNames": secret_names}
        if args.typ == "talos:machine/secrets:Secrets":
            state.update(_talos_secrets(args.name))
        elif args.typ == "talos:cluster/kubeconfig:Kubeconfig":
            state["kubeconfigRaw"] = canary(f"{args.name}.kubeconfigRaw")
            state["kubernetesClientConfiguration"] = {
                "caCertificate": canary(f"{args.name}.ca"), "clientCertificate": canary(f"{args.name}.cert"),
                "clientKey": canary(f"{args.name}.key"), "host": "https://kubernetes:6443",
            }
        elif args.typ == "aws:s3/bucket:Bucket":
            bucket = str(state.get("bucket", args.name))
            resource_id = bucket
            state.update({"arn": f"arn:aws:s3:::{bucket}", "bucketRegionalDomainName":
                          f"{bucket}.s3.{state.get('region', 'us-east-1')}.amazonaws.com"})
        elif args.typ in ("aws:iam/user:User", "aws:iam/policy:Policy"):
            kind = args.typ.rsplit(":", 1)[-1].lower()
            state["arn"] = f"arn:aws:iam::123456789012:{kind}{state.get('path', '/')}{state.get('name', args.name)}"
        elif args.typ == "aws:iam/accessKey:AccessKey":
            resource_id = f"AKIA{hashlib.sha256(args.name.encode()).hexdigest()[:16].upper()}"
            state["secret"] = canary(f"{args.name}.secret")
        elif args.typ == "tailscale:index/oauthClient:OauthClient":
            resource_id = f"k{hashlib.sha256(args.name.encode()).hexdigest()[:12]}"
            state["key"] = canary(f"{args.name}.key")
        elif args.typ == "cloudflare:index/apiToken:ApiToken":
            state["value"] = canary(f"{args.name}.value")
        elif args.typ == "kubernetes:core/v1:Service" and "clusterIP" not in (state.get("spec") or {}):
            # The address the API server would allocate from the service range, stable per name.
            digest = hashlib.sha256(args.name.encode()).digest()
            state["spec"] = {**(state.get("spec") or {}), "clusterIP": f"10.96.{digest[0]}.{digest[1] or 1}"}
        elif args.typ == "kubernetes:core/v1:Secret" and args.name.endswith("-kubeconfig"):
            # Cluster API's kubeconfig Secret of a guest cluster, read back by the program.
            state["data"] = {"value": base64.b64encode(_guest_kubeconfig(args.name).encode()).decode()}
        elif args.typ == "kubernetes:core/v1:Namespace":
            # The API server gives every object a uid; owner references name it.
            state["metadata"] = {**(state.get("metadata") or {}),
                                 "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"namespace.{args.name}"))}
        elif args.typ == "kubernetes:core/v1:Secret" and state.get("type") == "kubernetes.io/service-account-token":
            # What the token controller fills in (base64, as the API returns it).
            state["data"] = {key: base64.b64encode(canary(f"{args.name}.{key}").encode()).decode()
                             for key in ("token", "ca.crt")}
        elif args.typ == "talos:imageFactory/schematic:Schematic":
            # The factory's own ID of the schematic, so offline URLs are the ones a real `pulumi up` gets.
            resource_id = schematic_id(yaml.safe_load(str(state.get("schematic", ""))) or {})
            state["id"] = resource_id
        return ("" if self.first_preview else resource_id), state

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        if args.token == "talos:machine/getConfiguration:getConfiguration":
            machine_type = args.args.get("machineType", "unknown")
            return {**args.args, "machineConfiguration": canary(f"machineConfiguration.{machine_type}")}
        if args.token == "talos:client/getConfiguration:getConfiguration":
            return {**args.args, "talosConfig": canary(f"talosConfig.{args.args.get('clusterName')}")}
        if args.token == "cloudflare:index/getZone:getZone":
            name = str((args.args.get("filter") or {}).get("name", ""))
            zone_id = hashlib.sha256(name.encode()).hexdigest()[:32]
            return {"id": zone_id, "zoneId": zone_id, "name": name, "status": "active"}
        if args.token == "talos:cluster/getHealth:getHealth":
            return {**args.args, "id": "cluster_health"}
        if args.token == "talos:imageFactory/getUrls:getUrls":
            return {**args.args, "urls": self._image_urls(args.args)}
        return dict(args.args)

    @staticmethod
    def _image_urls(request: Mapping[str, Any]) -> dict[str, str]:
        """As terraform-provider-talos v0.11.0 (the one pulumiverse-talos 0.8.1 embeds) builds them in
        pkg/talos/talos_image_factory_urls_data_source.go: no platform means an SBC, whose image is always
        metal-arm64.raw.xz with the metal installer; metal's disk image suffix is raw.zst (pkg/machinery/platforms
        at v1.13.0, MetalPlatform)."""
        schematic, version = request.get("schematicId", ""), request.get("talosVersion", "")
        arch, platform = request.get("architecture", "amd64"), request.get("platform")
        base = f"https://{IMAGE_FACTORY}/image/{schematic}/{version}"
        if not platform:
            return {"installer": f"{IMAGE_FACTORY}/metal-installer/{schematic}:{version}",
                    "diskImage": f"{base}/metal-arm64.raw.xz"}
        suffix = "raw.zst" if platform == "metal" else "raw.xz"
        return {
            "installer": f"{IMAGE_FACTORY}/{platform}-installer/{schematic}:{version}",
            "installerSecureboot": f"{IMAGE_FACTORY}/{platform}-installer-secureboot/{schematic}:{version}",
            "diskImage": f"{base}/{platform}-{arch}.{suffix}",
            "diskImageSecureboot": f"{base}/{platform}-{arch}-secureboot.{suffix}",
            "iso": f"{base}/{platform}-{arch}.iso",
            "isoSecureboot": f"{base}/{platform}-{arch}-secureboot.iso",
            "initramfs": f"{base}/initramfs-{arch}.xz",
            "kernel": f"{base}/kernel-{arch}",
            "kernelCommandLine": f"{base}/cmdline-{platform}-{arch}",
            "pxe": f"https://pxe.{IMAGE_FACTORY}/pxe/{schematic}/{version}/{platform}-{arch}",
            "uki": f"{base}/{platform}-{arch}-secureboot-uki.efi",
        }
