"""The storage layer's off-site copy, restored by the real JuiceFS client with the program's own commands.

A filesystem with files in it is dumped with the replication job's dump line, its chunks copied as the
job's rclone sync copies them, and then the weekly check's lines run as written: load the dump into SQLite,
point it at the copy, fsck. Only the addresses change (a local SQLite engine and a directory bucket stand in
for the metadata etcd and S3). The check must pass on a whole copy and fail once one chunk is gone. An
encrypted filesystem (the stack's key, as the CSI driver formats with it) leaves only ciphertext in the copy, and
its check restores with the passphrase alone.
"""

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from components.config import is_protected_pem_key
from components.platform.replication import WORK
from components.platform.shared_fs import PASSPHRASE_ENV

MARKER = "answer: 42 (the plaintext a copy must not hold)"


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


def _files(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "config").mkdir(parents=True)
    for index in range(3):
        (data / f"file-{index}").write_bytes(os.urandom(200_000 + index))
    (data / "config" / "settings.yaml").write_text(f"{MARKER}\n")
    return data


def _restore(prod, juicefs: Path, tmp_path: Path, format_flags: str = "",
             check_env: dict[str, str] | None = None) -> tuple[Path, Callable[..., Any]]:
    """Format a filesystem (with ``format_flags``, as the CSI driver would from the volume secret), fill it,
    dump it with the replication job's line and copy its chunks as the sync would; returns the copy and
    ``check(env, fsck_only=False)``, which runs the weekly check's lines against it (``env`` besides the keys)."""
    work, source, copy = tmp_path / "work", tmp_path / "bucket", tmp_path / "offsite"
    work.mkdir()
    data = _files(tmp_path)
    meta = f"sqlite3://{tmp_path}/homelab.db"
    env = {"META": meta, **(check_env or {})}
    for setup in (f"juicefs format --storage file --bucket {source}/ {format_flags} {meta} homelab",
                  f"juicefs sync {data}/ jfs://META/"):
        done = _run(juicefs, setup, tmp_path, env)
        assert done.returncode == 0, f"{setup}: {done.stderr[-2000:]}"

    # The replication job's dump line for this filesystem, against the stand-in engine.
    (dump,) = [line for line in _script(prod, "offsite-replication", "dump").splitlines() if line.endswith(
        "/homelab.json.gz")]
    engine = dump.split()[2]
    done = _run(juicefs, dump.replace(engine, meta).replace(WORK, str(work)), tmp_path, {})
    assert done.returncode == 0, done.stderr[-2000:]
    shutil.copytree(source, copy)  # what the chunk sync leaves off-site

    check = [line for line in _script(prod, "offsite-restore-check", "fsck").splitlines() if "/homelab." in line]
    assert [line.split()[1] for line in check] == ["load", "config", "fsck"]
    bucket = check[1].split("--bucket ", 1)[1].split()[0]
    local = [line.replace(WORK, str(work)).replace("--storage s3", "--storage file").replace(bucket, f"{copy}/")
             for line in check]
    keys = {"ACCESS_KEY": "unused", "SECRET_KEY": "unused"}
    return copy, lambda extra, fsck_only=False: _run(juicefs, "\n".join(local[-1:] if fsck_only else local),
                                                       tmp_path, {**keys, **extra})


def _chunks(copy: Path) -> list[Path]:
    return [path for path in (copy / "homelab" / "chunks").rglob("*") if path.is_file()]


def test_the_offsite_copy_restores_and_the_check_catches_a_missing_chunk(prod, juicefs: Path, tmp_path: Path):
    copy, check = _restore(prod, juicefs, tmp_path)
    restored = check({})
    assert restored.returncode == 0, restored.stderr[-2000:]
    assert any(MARKER.encode() in path.read_bytes() for path in _chunks(copy)), "an unencrypted copy is plain"

    # The same check on a copy that lost one chunk must fail.
    _chunks(copy)[0].unlink()
    broken = check({}, fsck_only=True)
    assert broken.returncode != 0 and "can't find block" in broken.stderr


def _protected_key(passphrase: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase.encode())).decode()


def test_an_encrypted_copy_is_ciphertext_and_restores_with_the_passphrase_alone(build, juicefs: Path,
                                                                               tmp_path: Path):
    """The volume secret's key formats the filesystem; the copy holds no plaintext; the dump carries the key
    (still protected), so the check restores with nothing but the passphrase, and without it cannot read the key."""
    encrypted = build("prod", {"homelab:sharedFsEncryptionKey": {"secure": "v1:k"},
                               "homelab:sharedFsEncryptionPassphrase": {"secure": "v1:p"}})
    check_job = encrypted.one("kubernetes:batch/v1:CronJob", "offsite-restore-check").inputs["spec"]
    (fsck,) = [c for c in check_job["jobTemplate"]["spec"]["template"]["spec"]["initContainers"]
               if c["name"] == "fsck"]
    (variable,) = [e["name"] for e in fsck["env"] if e["name"] == PASSPHRASE_ENV]
    passphrase = "correct horse battery staple"
    pem = tmp_path / "juicefs.pem"
    pem.write_text(_protected_key(passphrase))
    assert is_protected_pem_key(pem.read_text())
    copy, check = _restore(encrypted, juicefs, tmp_path, f"--encrypt-rsa-key {pem}", {PASSPHRASE_ENV: passphrase})
    pem.unlink()  # a rebuilt homelab has the passphrase, not the key file
    assert not any(MARKER.encode() in path.read_bytes() for path in _chunks(copy))
    restored = check({variable: passphrase})
    assert restored.returncode == 0, restored.stderr[-2000:]
    without = check({}, fsck_only=True)
    assert without.returncode != 0, without.stderr[-3000:]
    assert "parse rsa" in without.stderr, without.stderr[-3000:]
