"""The Service address policy as the real API server enforces it: the program's own ValidatingAdmissionPolicy
and binding are created on a loopback kube-apiserver v1.33, then Services are sent to it, allowed and refused."""

import time
from typing import Any

from tests.test_config import _cluster
from tests.upstream.admission import create, infrastructure_api_server, registered_policy
from tests.upstream.apiserver import LoopbackCluster, Verdict

EXPERIMENT_RANGE = {"start": "192.168.10.230", "stop": "192.168.10.239"}


def _service(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 53, "protocol": "UDP"}], **spec}}


CASES = [
    # (case, namespace, Service, admitted)
    ("a platform LoadBalancer", "apps", _service("plain"), True),
    ("a pinned address outside experiments", "apps", _service("pinned", loadBalancerIP="192.168.10.200"), True),
    ("externalIPs on the platform", "apps", _service("ext", externalIPs=["192.168.10.1"]), False),
    ("an experiment's LoadBalancer", "experiment-demo", _service("plain"), True),
    ("an experiment asking inside its range", "experiment-demo", _service("ok", loadBalancerIP="192.168.10.231"),
     True),
    ("an experiment asking for production's address", "experiment-demo",
     _service("steal", loadBalancerIP="192.168.10.200"), False),
    ("externalIPs in an experiment", "experiment-demo", _service("ext", externalIPs=["192.168.10.13"]), False),
]


def _send_until_enforced(cluster: LoopbackCluster) -> dict[str, Verdict]:
    """The API server loads a new policy asynchronously: resend until the known-bad Service is refused."""
    deadline = time.monotonic() + 30
    while True:
        verdicts = {case: cluster.apply(service, namespace) for case, namespace, service, _ in CASES}
        if not verdicts["externalIPs on the platform"].accepted or time.monotonic() > deadline:
            return verdicts
        time.sleep(0.5)


def test_services_may_claim_only_the_addresses_their_namespace_is_given(build, talos_check, kube_apiserver, etcd,
                                                                        tmp_path):
    result = build("prod", {"homelab:cluster": _cluster(experimentRange=EXPERIMENT_RANGE)})
    policies = registered_policy(result, "homelab-service-addresses")
    with infrastructure_api_server(result, talos_check, kube_apiserver, etcd, tmp_path) as cluster:
        cluster.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}})
        cluster.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "experiment-demo", "labels": {"homelab.dev/cluster-class": "experiment"}}})
        create(cluster, policies)
        verdicts = _send_until_enforced(cluster)
    outcome = {case: verdicts[case].accepted for case, *_ in CASES}
    assert outcome == {case: admitted for case, _, _, admitted in CASES}, {
        case: verdicts[case].message for case in verdicts}
    assert "externalIPs are refused" in verdicts["externalIPs in an experiment"].message
    assert "192.168.10.230-192.168.10.239" in verdicts["an experiment asking for production's address"].message
