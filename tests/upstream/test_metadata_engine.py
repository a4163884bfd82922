"""The metadata engine's members, run by the real etcd: what they advertise is what a JuiceFS client syncs to.

JuiceFS's etcd client replaces its endpoints every minute with the client URLs the members advertise (its
AutoSyncInterval; client/v3 Sync). Three real etcd members started with the program's own advertise flag, the
client Service's address standing in for ``$(CLIENT_SERVICE_ADDRESS)``, must form a healthy cluster whose member
list offers clients that address and nothing else.
"""

import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.upstream.apiserver import free_port

MEMBERS = 3


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return dict(json.load(response))


def _member_list(url: str, deadline: float) -> dict[str, Any]:
    while True:
        try:
            listed = _post(f"{url}/v3/cluster/member/list", {"linearizable": True})
            if len(listed.get("members", [])) == MEMBERS and all(m.get("name") for m in listed["members"]):
                return listed
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the members never formed a cluster at {url}")
        time.sleep(0.5)


def test_members_advertise_only_the_client_service_address(prod, etcd: Path, tmp_path: Path):
    (container,) = prod.one("kubernetes:apps/v1:StatefulSet", "juicefs-meta").inputs["spec"]["template"]["spec"][
        "containers"]
    (advertise,) = [arg for arg in container["args"] if arg.startswith("--advertise-client-urls=")]
    (metrics_listener,) = [arg for arg in container["args"] if arg.startswith("--listen-metrics-urls=")]
    clients, peers = [free_port() for _ in range(MEMBERS)], [free_port() for _ in range(MEMBERS)]
    metrics = [free_port() for _ in range(MEMBERS)]
    # The Service routes to a ready member; here it is the first member's client port.
    service = f"127.0.0.1:{clients[0]}"
    advertised = advertise.replace("$(CLIENT_SERVICE_ADDRESS):2379", service)
    cluster = ",".join(f"m{i}=http://127.0.0.1:{peers[i]}" for i in range(MEMBERS))
    processes = []
    try:
        for i in range(MEMBERS):
            log = (tmp_path / f"m{i}.log").open("wb")
            processes.append(subprocess.Popen([
                str(etcd), f"--name=m{i}", f"--data-dir={tmp_path / f'm{i}'}", "--unsafe-no-fsync",
                f"--listen-client-urls=http://127.0.0.1:{clients[i]}", advertised,
                f"--listen-peer-urls=http://127.0.0.1:{peers[i]}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peers[i]}", f"--initial-cluster={cluster}",
                "--initial-cluster-state=new", "--log-level=error",
                metrics_listener.replace("0.0.0.0:2381", f"127.0.0.1:{metrics[i]}"),
            ], stdout=log, stderr=subprocess.STDOUT))
        listed = _member_list(f"http://127.0.0.1:{clients[1]}", time.monotonic() + 60)
        assert {url for member in listed["members"] for url in member["clientURLs"]} == {f"http://{service}"}
        for port in clients:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                assert json.load(response)["health"] == "true"
        # The probes' paths, on the listener they use.
        probes = {probe["httpGet"]["path"]: probe["httpGet"]["port"]
                  for probe in (container["readinessProbe"], container["livenessProbe"])}
        assert set(probes.values()) == {2381}
        for port in metrics:
            for path in probes:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                    assert response.status == 200, path
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)
