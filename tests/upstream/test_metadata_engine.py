"""The metadata engine's members, run by the real etcd with the program's own flags, and the real JuiceFS client.

- JuiceFS's etcd client replaces its endpoints every minute with the client URLs the members advertise (its
  AutoSyncInterval; client/v3 Sync). Three members started with the program's advertise flag, the client
  Service's address standing in for ``$(CLIENT_SERVICE_ADDRESS)``, must form a healthy cluster whose member list
  offers clients that address and nothing else, over TLS that verifies against the serving certificate.
- The members admit a client only with a certificate of the engine's CA: JuiceFS with the program's ``metaurl``
  and a client certificate formats and reads a filesystem; without one, or with another CA's, it is refused.

The certificates are what the registered Certificate specs describe (tests/upstream/certificates.py).
"""

import json
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from components.platform import metadata, metadata_tls
from components.platform.metadata import metadata_url
from tests.upstream.apiserver import free_ports
from tests.upstream.certificates import Authority, authority, issue

CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate"
LOCAL = "127.0.0.1"
HOMELAB_CLIENT = f"{metadata_tls.CLIENT_SECRET}-juicefs-homelab"


@dataclass(frozen=True)
class Engine:
    clients: list[int]
    metrics: list[int]
    ca: Authority
    client_dir: Path  # juicefs-homelab's files, as the CSI plugins and mount pods find them

    @property
    def service(self) -> str:
        """The client Service's address: here, the first member's client port."""
        return f"{LOCAL}:{self.clients[0]}"

    def context(self, client_dir: Path | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.client_dir / "ca.crt"))
        directory = client_dir or self.client_dir
        context.load_cert_chain(directory / "tls.crt", directory / "tls.key")
        return context


def _spec(prod, name: str) -> dict[str, Any]:
    return dict(prod.one(CERTIFICATE, name).inputs["spec"])


def _member_args(container: dict[str, Any], index: int, clients: list[int], peers: list[int], metrics: list[int],
                 data: Path, server_dir: Path) -> list[str]:
    """The program's flags for member ``index``, with this machine's ports and paths in place of the pod's."""
    cluster = ",".join(f"m{i}=http://{LOCAL}:{peers[i]}" for i in range(len(peers)))
    local = {
        "0.0.0.0:2379": f"{LOCAL}:{clients[index]}", "0.0.0.0:2380": f"{LOCAL}:{peers[index]}",
        "0.0.0.0:2381": f"{LOCAL}:{metrics[index]}", f"$({metadata.CLIENT_ADDRESS_ENV}):2379": f"{LOCAL}:{clients[0]}",
        metadata_tls.SERVER_DIR: str(server_dir),
    }
    fixed = {"--name": f"m{index}", "--data-dir": str(data), "--initial-cluster": cluster,
             "--initial-advertise-peer-urls": f"http://{LOCAL}:{peers[index]}"}
    args = []
    for arg in container["args"]:
        flag = arg.split("=", 1)[0]
        if flag in fixed:
            args.append(f"{flag}={fixed[flag]}")
            continue
        for pod_value, here in local.items():
            arg = arg.replace(pod_value, here)
        args.append(arg)
    return [*args, "--unsafe-no-fsync", "--log-level=error"]


def _post(engine: Engine, port: int, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(f"https://{LOCAL}:{port}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5, context=engine.context()) as response:
        return dict(json.load(response))


@contextmanager
def _engine(prod, etcd: Path, tmp_path: Path, members: int) -> Iterator[Engine]:
    (container,) = prod.one("kubernetes:apps/v1:StatefulSet", metadata.ETCD).inputs["spec"]["template"]["spec"][
        "containers"]
    ca = authority(_spec(prod, metadata_tls.CA))
    server = issue(ca, _spec(prod, metadata_tls.SERVER_SECRET), tmp_path / "server", addresses=[LOCAL])
    client = issue(ca, _spec(prod, HOMELAB_CLIENT),
                   tmp_path / "client")
    # Another test's process may take a port between choosing it and etcd binding it: start again on new ones.
    for attempt in range(3):
        ports = free_ports(3 * members)
        clients, peers, metrics = ports[:members], ports[members:2 * members], ports[2 * members:]
        processes = []
        try:
            for i in range(members):
                log = (tmp_path / f"m{i}-{attempt}.log").open("wb")
                processes.append(subprocess.Popen(
                    [str(etcd), *_member_args(container, i, clients, peers, metrics, tmp_path / f"m{i}-{attempt}",
                                              server)], stdout=log, stderr=subprocess.STDOUT))
            engine = Engine(clients, metrics, ca, client)
            if _wait_for_members(engine, members, time.monotonic() + 60, processes):
                yield engine
                return
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=15)
    raise AssertionError(f"the members never started on free ports (logs in {tmp_path})")


def _wait_for_members(engine: Engine, members: int, deadline: float,
                      processes: Sequence[subprocess.Popen[bytes]] = ()) -> dict[str, Any] | None:
    """The member list once all ``members`` are in it; None if one of ``processes`` exited (a port was taken)."""
    while True:
        try:
            listed = _post(engine, engine.clients[-1], "/v3/cluster/member/list", {"linearizable": True})
            if len(listed.get("members", [])) == members and all(m.get("name") for m in listed["members"]):
                return listed
        except OSError:
            pass
        if any(process.poll() is not None for process in processes):
            return None
        if time.monotonic() > deadline:
            raise AssertionError(f"the members never formed a cluster at {engine.clients}")
        time.sleep(0.5)


def test_members_advertise_only_the_client_service_address_over_verified_tls(prod, etcd: Path, tmp_path: Path):
    with _engine(prod, etcd, tmp_path, members=3) as engine:
        listed = _wait_for_members(engine, 3, time.monotonic() + 30)
        assert listed is not None
        assert {url for member in listed["members"] for url in member["clientURLs"]} == {f"https://{engine.service}"}
        # A client that synced its endpoints dials the address itself: the serving certificate must name it.
        for port in engine.clients:
            with urllib.request.urlopen(f"https://{LOCAL}:{port}/health", timeout=5,
                                        context=engine.context()) as response:
                assert json.load(response)["health"] == "true"
        # The probes' paths, on the plain metrics listener they use.
        (container,) = prod.one("kubernetes:apps/v1:StatefulSet", metadata.ETCD).inputs["spec"]["template"][
            "spec"]["containers"]
        probes = {probe["httpGet"]["path"]: probe["httpGet"]["port"]
                  for probe in (container["readinessProbe"], container["livenessProbe"])}
        assert set(probes.values()) == {metadata.METRICS_PORT}
        for port in engine.metrics:
            for path in probes:
                with urllib.request.urlopen(f"http://{LOCAL}:{port}{path}", timeout=5) as response:
                    assert response.status == 200, path


def _local_url(engine: Engine, client_dir: Path, query: str | None = None) -> str:
    """The program's metaurl for ``homelab``, at this engine, with ``client_dir`` where the pods mount the files."""
    url = urlsplit(metadata_url("homelab"))
    local_query = url.query.replace(metadata_tls.CLIENT_DIR, str(client_dir)) if query is None else query
    return urlunsplit((url.scheme, engine.service, url.path, local_query, ""))


def _juicefs(juicefs: Path, tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(juicefs), *args], capture_output=True, text=True, timeout=timeout,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})


@pytest.fixture
def engine(prod, etcd: Path, tmp_path: Path) -> Iterator[Engine]:
    with _engine(prod, etcd, tmp_path, members=1) as running:
        yield running


def test_juicefs_with_its_own_certificate_formats_and_reads_the_filesystem(engine: Engine, juicefs: Path,
                                                                            tmp_path: Path):
    url = _local_url(engine, engine.client_dir)
    done = _juicefs(juicefs, tmp_path, "format", "--storage", "file", "--bucket", f"{tmp_path}/bucket/", url,
                    "homelab")
    assert done.returncode == 0, done.stderr[-2000:]
    status = _juicefs(juicefs, tmp_path, "status", url)
    assert status.returncode == 0 and json.loads(status.stdout)["Setting"]["Name"] == "homelab", status.stderr[-2000:]


def _answers(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as response:
            return bool(response.status == 200)
    except OSError:  # a refused handshake (ssl.SSLError) or a reset connection
        return False


def test_a_client_without_a_certificate_of_the_engines_ca_is_refused(prod, engine: Engine, tmp_path: Path):
    health = f"https://{engine.service}/health"
    assert _answers(health, engine.context())
    # The CA alone (TLS, no client certificate); a certificate another CA signed; plain HTTP.
    assert not _answers(health, ssl.create_default_context(cafile=str(engine.client_dir / "ca.crt")))
    other = issue(authority(_spec(prod, metadata_tls.CA)), _spec(prod, HOMELAB_CLIENT), tmp_path / "other")
    (other / "ca.crt").write_bytes(engine.ca.pem())  # trusts the right server, presents the wrong client
    assert not _answers(health, engine.context(other))
    assert not _answers(f"http://{engine.service}/health")


def test_juicefs_without_its_certificate_gets_no_metadata(engine: Engine, juicefs: Path, tmp_path: Path):
    ca_only = f"cacert={engine.client_dir}/ca.crt"
    try:
        # JuiceFS's etcd client retries a refused handshake until its caller gives up.
        done = _juicefs(juicefs, tmp_path, "format", "--storage", "file", "--bucket", f"{tmp_path}/bucket/",
                        _local_url(engine, engine.client_dir, query=ca_only), "homelab", timeout=10)
        assert done.returncode != 0
    except subprocess.TimeoutExpired:
        pass
    # Nothing reached the engine: with the certificate, the filesystem is still not there.
    status = _juicefs(juicefs, tmp_path, "status", _local_url(engine, engine.client_dir))
    assert status.returncode != 0 and "not formatted" in status.stderr + status.stdout, status.stderr[-2000:]
