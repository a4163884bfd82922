"""A metadata-engine member that comes back with an empty data directory (a replaced Pi) rejoins: the program's
own rejoin and start scripts run against three real etcd v3.6.14 members on loopback, with the real etcdctl.
Without the rejoin step the same member cannot take its place again (the control case)."""

import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from components.platform import metadata
from tests.upstream.apiserver import free_ports

NAMES = ("m0", "m1", "m2")


@dataclass
class Member:
    name: str
    client: int
    peer: int
    data: Path
    state_file: Path

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer}"


def _members(tmp_path: Path) -> list[Member]:
    ports = free_ports(2 * len(NAMES))
    return [Member(name, ports[2 * i], ports[2 * i + 1], tmp_path / name / "data", tmp_path / name / "state")
            for i, name in enumerate(NAMES)]


def _env(member: Member, members: list[Member], etcdctl: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "POD_NAME": member.name, "DATA_DIR": str(member.data),
            "STATE_FILE": str(member.state_file), "ETCDCTL": str(etcdctl), "BUSYBOX": "", "PEER_URL": member.peer_url,
            "ETCDCTL_ENDPOINTS": ",".join(m.client_url for m in members), "ETCDCTL_DIAL_TIMEOUT": "1s",
            "ETCDCTL_COMMAND_TIMEOUT": "2s"}


def _run_rejoin(member: Member, members: list[Member], etcdctl: Path) -> subprocess.CompletedProcess[str]:
    """The member's rejoin step, from a clean slate (the state file is the pod's emptyDir)."""
    member.state_file.parent.mkdir(parents=True, exist_ok=True)
    member.state_file.unlink(missing_ok=True)
    return subprocess.run(["sh", "-c", metadata.REJOIN_SCRIPT], env=_env(member, members, etcdctl),
                          capture_output=True, text=True, timeout=60, check=False)


def _rejoin(member: Member, members: list[Member], etcdctl: Path) -> str:
    done = _run_rejoin(member, members, etcdctl)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _start(member: Member, members: list[Member], etcd: Path, etcdctl: Path, state: str | None = None
           ) -> subprocess.Popen[bytes]:
    """etcd as the member's container starts it: the start script with the spec's cluster flags (loopback
    addresses for the cluster's names), or with ``state`` forced, skipping what the rejoin step decided."""
    cluster = ",".join(f"{m.name}={m.peer_url}" for m in members)
    flags = [f"--name={member.name}", f"--data-dir={member.data}", f"--listen-client-urls={member.client_url}",
             f"--advertise-client-urls={member.client_url}", f"--listen-peer-urls={member.peer_url}",
             f"--initial-advertise-peer-urls={member.peer_url}", f"--initial-cluster={cluster}",
             f"--initial-cluster-token={metadata.ETCD}"]
    script = metadata.START_SCRIPT.replace("/usr/local/bin/etcd", str(etcd))
    if state is not None:
        script = f'exec {etcd} "$@" --initial-cluster-state={state}'
    log = (member.data.parent / "log").open("ab")
    return subprocess.Popen(["sh", "-c", script, "etcd", *flags], env=_env(member, members, etcdctl),
                            stdout=log, stderr=subprocess.STDOUT)


def _ctl(etcdctl: Path, endpoints: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(etcdctl), f"--endpoints={endpoints}", "--dial-timeout=1s", "--command-timeout=3s",
                           *args], capture_output=True, text=True, timeout=30, check=False)


def _wait_healthy(etcdctl: Path, member: Member, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _ctl(etcdctl, member.client_url, "endpoint", "health").returncode == 0:
            return True
        time.sleep(0.5)
    return False


@contextmanager
def _running() -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        yield processes
    finally:
        for process in processes.values():
            process.kill()
            process.wait()


def test_an_emptied_member_rejoins_and_serves_the_data_and_without_the_step_it_cannot(etcd, etcdctl, tmp_path):
    members = _members(tmp_path)
    everyone = ",".join(m.client_url for m in members)
    with _running() as processes:
        # All three start at once, as the StatefulSet starts them.
        with ThreadPoolExecutor(len(members)) as pool:
            said = list(pool.map(lambda member: _rejoin(member, members, etcdctl), members))
        assert all("starts as new" in line for line in said)
        assert {member.state_file.read_text().strip() for member in members} == {"new"}
        for member in members:
            processes[member.name] = _start(member, members, etcd, etcdctl)
        assert all(_wait_healthy(etcdctl, m) for m in members)
        assert _ctl(etcdctl, everyone, "put", "juicefs/setting", "kept").returncode == 0

        # A restart with its data: nothing to do.
        assert "has its data" in _rejoin(members[0], members, etcdctl)

        # m2's Pi dies and comes back with an empty SSD.
        lost = members[2]
        processes.pop(lost.name).kill()
        subprocess.run(["rm", "-rf", str(lost.data)], check=True)

        # The control: started as before, without the rejoin step, etcd refuses to start (a crash loop).
        control = _start(lost, members, etcd, etcdctl, state="new")
        assert control.wait(timeout=30) != 0
        assert "has already been bootstrapped" in (lost.data.parent / "log").read_text()
        subprocess.run(["rm", "-rf", str(lost.data)], check=True)

        # While another member is down too, the cluster has no quorum: the emptied member waits, deciding nothing.
        processes.pop(members[1].name).kill()
        waited = _run_rejoin(lost, members, etcdctl)
        assert waited.returncode != 0 and "no quorum" in waited.stderr and not lost.state_file.exists()
        processes[members[1].name] = _start(members[1], members, etcd, etcdctl)
        assert _wait_healthy(etcdctl, members[1])

        said = _rejoin(lost, members, etcdctl)
        assert "replacing that member" in said, said
        assert lost.state_file.read_text().strip() == "existing"
        processes[lost.name] = _start(lost, members, etcd, etcdctl)
        assert _wait_healthy(etcdctl, lost), (lost.data.parent / "log").read_text()[-3000:]
        read = _ctl(etcdctl, lost.client_url, "get", "juicefs/setting", "--print-value-only")
        assert read.stdout.strip() == "kept"
        listed = _ctl(etcdctl, everyone, "member", "list").stdout.splitlines()
        assert len(listed) == 3 and all(", started, " in line for line in listed)
