"""The storage layer's off-site copy, restored by the real JuiceFS client with the program's own commands.

A filesystem with files in it is dumped with the replication job's dump line, its chunks copied as the
job's rclone sync copies them, and then the weekly check's lines run as written: load the dump into SQLite,
point it at the copy, fsck. Only the addresses change (a local SQLite engine and a directory bucket stand in
for the metadata etcd and S3). The check must pass on a whole copy and fail once one chunk is gone.
"""

import os
import shutil
import subprocess
from pathlib import Path

from components.platform.replication import WORK


def _script(prod, cronjob: str, container: str) -> str:
    pod = prod.one("kubernetes:batch/v1:CronJob", cronjob).inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (found,) = [c for c in (*pod.get("initContainers", []), *pod["containers"]) if c["name"] == container]
    return str(found["command"][-1])


def _run(juicefs: Path, script: str, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "juicefs").exists():
        (bin_dir / "juicefs").symlink_to(juicefs)
    return subprocess.run(["sh", "-ec", script], capture_output=True, text=True, timeout=120,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), **env})


def test_the_offsite_copy_restores_and_the_check_catches_a_missing_chunk(prod, juicefs: Path, tmp_path: Path):
    work, source, copy = tmp_path / "work", tmp_path / "bucket", tmp_path / "offsite"
    work.mkdir()
    data = tmp_path / "data"
    (data / "config").mkdir(parents=True)
    for index in range(3):
        (data / f"file-{index}").write_bytes(os.urandom(200_000 + index))
    (data / "config" / "settings.yaml").write_text("answer: 42\n")
    meta = f"sqlite3://{tmp_path}/homelab.db"
    env = {"META": meta}
    for setup in (f"juicefs format --storage file --bucket {source}/ {meta} homelab",
                  f"juicefs sync {data}/ jfs://META/"):
        assert _run(juicefs, setup, tmp_path, env).returncode == 0, setup

    # The replication job's dump line for this filesystem, against the stand-in engine.
    (dump,) = [line for line in _script(prod, "offsite-replication", "dump").splitlines() if line.endswith(
        "/homelab.json.gz")]
    engine = dump.split()[2]
    done = _run(juicefs, dump.replace(engine, meta).replace(WORK, str(work)), tmp_path, env)
    assert done.returncode == 0, done.stderr[-2000:]
    shutil.copytree(source, copy)  # what the chunk sync leaves off-site

    check = [line for line in _script(prod, "offsite-restore-check", "fsck").splitlines() if "/homelab." in line]
    assert [line.split()[1] for line in check] == ["load", "config", "fsck"]
    bucket = check[1].split("--bucket ", 1)[1].split()[0]
    local = [line.replace(WORK, str(work)).replace("--storage s3", "--storage file").replace(bucket, f"{copy}/")
             for line in check]
    keys = {"ACCESS_KEY": "unused", "SECRET_KEY": "unused"}
    restored = _run(juicefs, "\n".join(local), tmp_path, keys)
    assert restored.returncode == 0, restored.stderr[-2000:]

    # The same check on a copy that lost one chunk must fail.
    next(path for path in (copy / "homelab" / "chunks").rglob("*") if path.is_file()).unlink()
    broken = _run(juicefs, local[-1], tmp_path, keys)
    assert broken.returncode != 0 and "can't find block" in broken.stderr
