"""JuiceFS's client-side encryption: both secrets or neither, a passphrase-protected key, and where each goes:
the key into every filesystem's volume secret (format), the passphrase into the mounts' environment and the
weekly restore check. The real JuiceFS client proves the copy is ciphertext and restores only with the
passphrase (tests/upstream/test_offsite_restore.py)."""

from typing import Any

import pytest

from components.config import ConfigError, is_protected_pem_key, parse_stack_config
from labctl.synth import read_stack_file, runtime_config
from tests.conftest import redacted

KEY, PASSPHRASE = "homelab:sharedFsEncryptionKey", "homelab:sharedFsEncryptionPassphrase"
ENCRYPTED = {KEY: {"secure": "v1:key"}, PASSPHRASE: {"secure": "v1:passphrase"}}
PLAIN_PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
PKCS1_PROTECTED = ("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nAAAA\n"
                   "-----END RSA PRIVATE KEY-----\n")


def _refusal(values: dict[str, str]) -> ConfigError:
    config, secret_keys = runtime_config(read_stack_file("prod"))
    config.update(values)
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(config, "prod", [*secret_keys, *values])
    return caught.value


@pytest.mark.parametrize(("values", "key", "problem"), [
    ({KEY: PKCS1_PROTECTED}, PASSPHRASE, "needs both"),
    ({PASSPHRASE: "correct horse"}, KEY, "needs both"),
    ({KEY: PLAIN_PEM, PASSPHRASE: "correct horse"}, KEY, "passphrase-protected PEM"),
    ({KEY: "not a key at all", PASSPHRASE: "correct horse"}, KEY, "passphrase-protected PEM"),
])
def test_a_half_or_unprotected_encryption_setting_is_refused_by_key_alone(values, key, problem):
    error = _refusal(values)
    (issue,) = [i for i in error.issues if problem in i.problem]
    assert issue.key == key
    assert all(value not in str(error) for value in values.values())


def test_protected_keys_are_recognised_in_both_pem_forms():
    assert is_protected_pem_key(PKCS1_PROTECTED)
    assert is_protected_pem_key("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----")
    assert not is_protected_pem_key(PLAIN_PEM)


def _volume_secrets(result: Any) -> list[dict[str, Any]]:
    return [s.inputs["stringData"] for s in result.by_type("kubernetes:core/v1:Secret")
            if s.inputs.get("metadata", {}).get("name") == "juicefs-volume"]


def test_every_filesystem_is_formatted_with_the_key_and_mounted_with_the_passphrase(build):
    encrypted = build("prod", ENCRYPTED)
    volumes = _volume_secrets(encrypted)
    assert len(volumes) == 2  # the infrastructure's and production's
    for data in volumes:
        assert {"encrypt_rsa_key", "envs"} <= set(data) and redacted(data["encrypt_rsa_key"])
        assert redacted(data["envs"])
    check = encrypted.one("kubernetes:batch/v1:CronJob", "offsite-restore-check").inputs["spec"]
    (fsck,) = [c for c in check["jobTemplate"]["spec"]["template"]["spec"]["initContainers"] if c["name"] == "fsck"]
    passphrase = [e for e in fsck["env"] if e["name"] == "JFS_RSA_PASSPHRASE"]
    assert passphrase == [{"name": "JFS_RSA_PASSPHRASE",
                           "valueFrom": {"secretKeyRef": {"name": "shared-fs-encryption", "key": "passphrase"}}}]
    assert redacted(encrypted.one("kubernetes:core/v1:Secret", "shared-fs-encryption").inputs["stringData"])


def test_without_the_secrets_nothing_is_encrypted_and_nothing_pretends_to_be(prod):
    assert all("encrypt_rsa_key" not in data for data in _volume_secrets(prod))
    assert not [s for s in prod.by_type("kubernetes:core/v1:Secret")
                if s.inputs.get("metadata", {}).get("name") == "shared-fs-encryption"]
