"""A real kube-apiserver and etcd on loopback, started per cluster and stopped after, spoken to over plain
HTTPS (urllib3).

Token auth (one ``system:masters`` token made per run), service-account keys made per run,
``--endpoint-reconciler-type=none`` (nothing else runs), and the admission configuration the Talos machinery
generates for the cluster's control plane, so Pod Security admission judges every pod as on the Pis.
Namespaces and CRDs are created for real; everything else is applied server-side with ``dryRun=All`` and
strict field validation, so nothing persists and no webhook a chart declares is ever called.
"""

import json
import secrets
import socket
import ssl
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import urllib3
import yaml
from urllib3 import HTTPHeaderDict

# The loopback server's certificate is one it made itself a moment ago.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

FIELD_MANAGER = "homelab-upstream-tier"


@dataclass(frozen=True)
class Kind:
    plural: str
    namespaced: bool


@dataclass(frozen=True)
class Verdict:
    status: int
    message: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: all held open at once, so the kernel cannot hand one out twice."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@dataclass
class LoopbackCluster:
    host: str
    token: str
    http: urllib3.PoolManager = field(default_factory=lambda: urllib3.PoolManager(cert_reqs=ssl.CERT_NONE))
    kinds: dict[tuple[str, str], Kind] = field(default_factory=dict)
    # (user, groups) the admin token acts as (Kubernetes impersonation), so RBAC and admission judge that user.
    acting_as: tuple[str, tuple[str, ...]] | None = None

    def as_user(self, user: str, groups: tuple[str, ...]) -> "LoopbackCluster":
        return replace(self, acting_as=(user, groups))

    def _send(self, method: str, path: str, body: Any = None, query: list[tuple[str, str]] | None = None,
              content_type: str = "application/json") -> urllib3.BaseHTTPResponse:
        url = f"{self.host}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = HTTPHeaderDict({"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                                  "Content-Type": content_type})
        if self.acting_as is not None:
            user, groups = self.acting_as
            headers["Impersonate-User"] = user
            for group in groups:
                headers.add("Impersonate-Group", group)
        payload = json.dumps(body).encode() if body is not None else None
        return self.http.request(method, url, body=payload, headers=headers, retries=False)

    def request(self, method: str, path: str, body: Any = None, query: list[tuple[str, str]] | None = None,
                content_type: str = "application/json") -> Verdict:
        response = self._send(method, path, body, query, content_type)
        text = response.data.decode()
        warnings = tuple(response.headers.getlist("Warning"))
        message = ""
        if not 200 <= response.status < 300:
            with suppress(ValueError):
                message = json.loads(text).get("message", text)
            message = message or text
        return Verdict(response.status, message, warnings)

    def get(self, path: str) -> dict[str, Any]:
        return dict(json.loads(self._send("GET", path).data))

    def discover(self) -> None:
        """Every served (apiVersion, kind) with its plural and scope."""
        self.kinds = {}
        versions = [("v1", "/api/v1")]
        for group in self.get("/apis")["groups"]:
            versions += [(v["groupVersion"], f"/apis/{v['groupVersion']}") for v in group["versions"]]
        for api_version, path in versions:
            for resource in self.get(path)["resources"]:
                if "/" not in resource["name"]:
                    self.kinds[(api_version, resource["kind"])] = Kind(resource["name"], resource["namespaced"])

    def _path(self, obj: dict[str, Any], namespace: str) -> tuple[str, Kind] | None:
        kind = self.kinds.get((obj["apiVersion"], obj["kind"]))
        if kind is None:
            return None
        prefix = "/api/v1" if obj["apiVersion"] == "v1" else f"/apis/{obj['apiVersion']}"
        scope = f"/namespaces/{namespace}" if kind.namespaced else ""
        return f"{prefix}{scope}/{kind.plural}/{obj['metadata']['name']}", kind

    def apply(self, obj: dict[str, Any], namespace: str = "default", dry_run: bool = True) -> Verdict:
        """Server-side apply of ``obj`` (dry-run unless told), with strict field validation."""
        found = self._path(obj, obj.get("metadata", {}).get("namespace") or namespace)
        if found is None:
            return Verdict(404, f"no API of this server serves {obj['apiVersion']} {obj['kind']}")
        path, kind = found
        body = obj
        if kind.namespaced and not obj["metadata"].get("namespace"):
            body = {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
        query = [("fieldManager", FIELD_MANAGER), ("fieldValidation", "Strict"), ("force", "true")]
        if dry_run:
            query.append(("dryRun", "All"))
        return self.request("PATCH", path, body, query, content_type="application/apply-patch+yaml")

    def create_namespace(self, obj: dict[str, Any]) -> Verdict:
        """The namespace, and its ``default`` ServiceAccount as the controller manager would make it."""
        verdict = self.apply(obj, dry_run=False)
        if verdict.accepted:
            self.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": "default", "namespace": obj["metadata"]["name"]}}, dry_run=False)
        return verdict

    def install_crds(self, crds: list[dict[str, Any]], timeout: float = 60) -> dict[str, str]:
        """Create each CRD for real and wait until it is established; returns the refused ones' messages."""
        self.kinds[("apiextensions.k8s.io/v1", "CustomResourceDefinition")] = Kind("customresourcedefinitions", False)
        refused = {}
        for crd in crds:
            verdict = self.apply(crd, dry_run=False)
            if not verdict.accepted:
                refused[crd["metadata"]["name"]] = verdict.message
        deadline = time.monotonic() + timeout
        pending = {crd["metadata"]["name"] for crd in crds} - set(refused)
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                status = self.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}").get("status", {})
                if any(c["type"] == "Established" and c["status"] == "True" for c in status.get("conditions") or []):
                    pending.discard(name)
            if pending:
                time.sleep(0.2)
        refused |= {name: "not established in time" for name in pending}
        self.discover()
        return refused


def _wait_ready(port: int, token: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(f"https://127.0.0.1:{port}/readyz", headers={"Authorization": f"Bearer {token}"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kube-apiserver exited with {process.returncode}")
        with suppress(OSError), urllib.request.urlopen(request, context=context, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"kube-apiserver not ready after {timeout:.0f} s")


@contextmanager
def loopback_cluster(kube_apiserver: Path, etcd: Path, workdir: Path, service_range: str,
                     admission_plugins: list[dict[str, Any]]) -> Iterator[LoopbackCluster]:
    """A fresh etcd and kube-apiserver on loopback for one cluster, stopped when the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    (workdir / "tokens.csv").write_text(f"{token},admin,admin,system:masters\n")
    key, public = workdir / "sa.key", workdir / "sa.pub"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(public)], check=True,
                   capture_output=True)
    (workdir / "admission.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apiserver.config.k8s.io/v1", "kind": "AdmissionConfiguration",
        "plugins": [{"name": p["name"], "configuration": p["configuration"]} for p in admission_plugins]}))
    client_port, peer_port, api_port = free_ports(3)
    logs = (workdir / "etcd.log").open("wb"), (workdir / "kube-apiserver.log").open("wb")
    etcd_process = subprocess.Popen([
        str(etcd), "--data-dir", str(workdir / "etcd"), "--name", "default", "--unsafe-no-fsync",
        "--listen-client-urls", f"http://127.0.0.1:{client_port}",
        "--advertise-client-urls", f"http://127.0.0.1:{client_port}",
        "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
        "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
        "--initial-cluster", f"default=http://127.0.0.1:{peer_port}", "--log-level", "error",
    ], stdout=logs[0], stderr=subprocess.STDOUT)
    api_process = None
    try:
        api_process = subprocess.Popen([
            str(kube_apiserver), "--etcd-servers", f"http://127.0.0.1:{client_port}",
            "--bind-address", "127.0.0.1", "--secure-port", str(api_port), "--cert-dir", str(workdir / "certs"),
            "--token-auth-file", str(workdir / "tokens.csv"), "--authorization-mode", "RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file", str(public), "--service-account-signing-key-file", str(key),
            "--service-cluster-ip-range", service_range, "--endpoint-reconciler-type", "none",
            "--allow-privileged=true", "--admission-control-config-file", str(workdir / "admission.yaml"),
        ], stdout=logs[1], stderr=subprocess.STDOUT)
        _wait_ready(api_port, token, api_process, timeout=90)
        cluster = LoopbackCluster(f"https://127.0.0.1:{api_port}", token)
        cluster.discover()
        yield cluster
    finally:
        for process in (api_process, etcd_process):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        for log in logs:
            log.close()
