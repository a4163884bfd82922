"""Cross-field checks of the cloud, the versions, the secrets and the stack's role."""

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic.alias_generators import to_camel

from components import versions
from components.config.errors import ConfigIssue
from components.config.stack import REQUIRED_SECRETS, HomelabConfig, Secrets
from components.config.values import NAMESPACE


def _check_cloud(config: HomelabConfig) -> Iterable[ConfigIssue]:
    if config.cloud is None:
        return
    backup, dns = config.cloud.backup, config.cloud.dns
    if backup.velero_bucket == backup.storage_bucket:
        yield ConfigIssue(f"{NAMESPACE}:cloud.backup.storageBucket", "the storage copy shares Velero's bucket",
                          "give each its own bucket: their credentials are scoped to one bucket each")
    if "infrastructure" not in config.cloud.tailnet.operator_clusters:
        yield ConfigIssue(f"{NAMESPACE}:cloud.tailnet.operatorClusters",
                          "the infrastructure cluster runs the Tailscale operator and needs its OAuth client",
                          "add `infrastructure` to the list")
    if config.production is not None and "production" not in config.cloud.tailnet.operator_clusters:
        yield ConfigIssue(f"{NAMESPACE}:cloud.tailnet.operatorClusters",
                          "the production cluster runs its own Tailscale operator (Home Assistant is on the tailnet) "
                          "and needs its OAuth client", "add `production` to the list")
    acl_file = config.cloud.tailnet.acl_file
    if acl_file is not None:
        try:
            json.loads(Path(acl_file).read_text())
        except (OSError, json.JSONDecodeError) as error:
            yield ConfigIssue(f"{NAMESPACE}:cloud.tailnet.aclFile", f"cannot read {acl_file} as JSON: {error}",
                              "point it at a JSON policy file in the project, or remove it for the default policy")
    if dns.cert_manager_token and dns.acme_email is None:
        yield ConfigIssue(f"{NAMESPACE}:cloud.dns.acmeEmail", "DNS-01 certificates need an ACME contact address",
                          "set `acmeEmail`, or `certManagerToken: false`")


def _check_object_lock(config: HomelabConfig) -> Iterable[ConfigIssue]:
    if config.cloud is None:
        return
    backup = config.cloud.backup
    for bucket, lock in sorted(backup.object_lock.items()):
        key = f"{NAMESPACE}:cloud.backup.objectLock.{bucket}"
        if bucket == "velero" and lock.mode == "COMPLIANCE":
            yield ConfigIssue(f"{key}.mode", "COMPLIANCE mode on Velero's bucket would refuse the deletes of "
                              "Kopia's maintenance and of Velero's expired backups, for good",
                              "use GOVERNANCE for the velero bucket (COMPLIANCE suits the storage copy)")
        if lock.days < backup.noncurrent_version_days:
            yield ConfigIssue(f"{key}.days", f"a {lock.days}-day lock is shorter than the "
                              f"{backup.noncurrent_version_days} days the lifecycle keeps an old version, so the "
                              "last days of every version could be erased",
                              f"lock for at least {backup.noncurrent_version_days} days, or lower "
                              "noncurrentVersionDays")


def _check_versions(config: HomelabConfig) -> Iterable[ConfigIssue]:
    if config.versions.talos_minor not in versions.SUPPORTED_TALOS_MINORS:
        yield ConfigIssue(f"{NAMESPACE}:versions.talos",
                          f"Talos {config.versions.talos} is not supported by this program's machine config",
                          f"pin a Talos {' or '.join(versions.SUPPORTED_TALOS_MINORS)}.x release, "
                          f"e.g. {versions.TALOS}")
    refusals = versions.kubernetes_refusals(config.versions.kubernetes)
    if refusals:
        oldest, newest = versions.supported_kubernetes_minors()
        supported = oldest if oldest == newest else f"{oldest}-{newest}"
        yield ConfigIssue(f"{NAMESPACE}:versions.kubernetes",
                          f"Kubernetes {config.versions.kubernetes} is not supported by " + ", ".join(refusals),
                          f"pin Kubernetes {supported}.x, which every layer supports, e.g. {versions.KUBERNETES}")


def _check_chart_overrides(config: HomelabConfig) -> Iterable[ConfigIssue]:
    for release in sorted(set(config.versions.charts) - set(versions.PLATFORM_CHART_PINS)):
        yield ConfigIssue(f"{NAMESPACE}:versions.charts.{release}", f"there is no platform release {release!r}",
                          "use one of " + ", ".join(sorted(versions.PLATFORM_CHART_PINS)))


# MinIO refuses a root password (its root secret key) shorter than this (minio/pkg auth/credentials.go,
# secretKeyMinLen), and would not start.
MIN_STORAGE_PASSWORD = 8


def is_protected_pem_key(text: str) -> bool:
    """A PEM private key encrypted with a passphrase (PKCS#8 or OpenSSL's PKCS#1 with Proc-Type), as
    ``openssl genrsa -aes256`` writes it."""
    return ("-----BEGIN ENCRYPTED PRIVATE KEY-----" in text
            or ("-----BEGIN RSA PRIVATE KEY-----" in text and "Proc-Type: 4,ENCRYPTED" in text))


def _secret_key(name: str) -> str:
    return f"{NAMESPACE}:{to_camel(name)}"


def _set_value_fix(name: str, stack: str) -> str:
    if name == "shared_fs_encryption_key":
        return f"openssl genrsa -aes256 -out juicefs.pem 2048, then " \
               f"pulumi config set --secret {_secret_key(name)} --stack {stack} < juicefs.pem"
    return f"pulumi config set --secret {_secret_key(name)} <value> --stack {stack}"


def _check_encryption(secrets: Secrets, stack: str, plain: set[str]) -> Iterable[ConfigIssue]:
    key, passphrase = secrets.shared_fs_encryption_key, secrets.shared_fs_encryption_passphrase
    if (key is None) != (passphrase is None):
        missing = "shared_fs_encryption_passphrase" if passphrase is None else "shared_fs_encryption_key"
        yield ConfigIssue(_secret_key(missing), "JuiceFS encryption needs both the key and its passphrase",
                          f"{_set_value_fix(missing, stack)}, or remove the other")
    if key is not None and "shared_fs_encryption_key" not in plain and not key.satisfies(is_protected_pem_key):
        yield ConfigIssue(_secret_key("shared_fs_encryption_key"), "is not a passphrase-protected PEM private key "
                          "(the key travels inside the off-site metadata dumps, so it must be encrypted)",
                          _set_value_fix("shared_fs_encryption_key", stack))


def _check_alerting_credential(config: HomelabConfig, stack: str) -> Iterable[ConfigIssue]:
    contact = config.platform.alerting.contact_point if config.platform else None
    credential = config.secrets.alerting_credential
    if credential is not None and contact is None:
        yield ConfigIssue(_secret_key("alerting_credential"), "is set but no contact point would use it",
                          f"set platform.alerting.contactPoint, or pulumi config rm "
                          f"{_secret_key('alerting_credential')} --stack {stack}")
    if contact is not None and contact.username is not None and credential is None:
        yield ConfigIssue(_secret_key("alerting_credential"), "the SMTP relay's user needs its password",
                          _set_value_fix("alerting_credential", stack))


def _check_secrets(config: HomelabConfig, stack: str, secret_keys: set[str]) -> Iterable[ConfigIssue]:
    given = [name for name in type(config.secrets).model_fields if getattr(config.secrets, name) is not None]
    if config.role == "lab":
        # Every secret belongs to the platform stack; the lab reads what it needs of prod's through its outputs.
        for name in given:
            yield ConfigIssue(_secret_key(name), "belongs to the prod stack: the lab takes no secrets",
                              f"pulumi config rm {_secret_key(name)} --stack {stack} (and set it on prod)")
        return
    # A secret in plain text gets that one issue: its value is not judged until it is a secret.
    plain = {name for name in given if _secret_key(name) not in secret_keys}
    for name in sorted(plain):
        yield ConfigIssue(_secret_key(name), "a secret is stored in plain text", _set_value_fix(name, stack))
    yield from _check_encryption(config.secrets, stack, plain)
    yield from _check_alerting_credential(config, stack)
    password = config.secrets.storage_root_password
    if password is not None and "storage_root_password" not in plain and len(password) < MIN_STORAGE_PASSWORD:
        yield ConfigIssue(_secret_key("storage_root_password"), "the object store refuses a root password shorter "
                          f"than {MIN_STORAGE_PASSWORD} characters",
                          f"pulumi config set --secret {_secret_key('storage_root_password')} <a longer value> "
                          f"--stack {stack}")
    for name in REQUIRED_SECRETS[config.role]:
        if getattr(config.secrets, name) is None:
            yield ConfigIssue(_secret_key(name), f"required secret is missing for role {config.role}",
                              _set_value_fix(name, stack))


def _check_role(config: HomelabConfig, stack: str) -> Iterable[ConfigIssue]:
    expected = "lab" if stack == "lab" or stack.startswith("exp-") else None
    if stack == "prod":
        expected = "platform"
    if expected and config.role != expected:
        yield ConfigIssue(f"{NAMESPACE}:role", f"stack {stack} must have role {expected}, not {config.role}",
                          f"set `homelab:role: {expected}`")
    if config.role == "lab" and stack != "prod" and config.prod_stack.rsplit("/", 1)[-1] == stack:
        yield ConfigIssue(f"{NAMESPACE}:prodStack", f"{config.prod_stack} is this stack itself",
                          "point it at the platform stack, e.g. prod")


# A provider's credential belongs in the environment Pulumi runs in, never in the stack file: a key in the file
# wins over the environment, so every preview (a pull request's, the nightly drift check) would run with the
# deploy's full rights instead of the read-only keys of CI's `preview` environment.
PROVIDER_CREDENTIALS: dict[str, str] = {
    "aws:accessKey": "AWS_ACCESS_KEY_ID", "aws:secretKey": "AWS_SECRET_ACCESS_KEY", "aws:token": "AWS_SESSION_TOKEN",
    "cloudflare:apiToken": "CLOUDFLARE_API_TOKEN", "cloudflare:apiKey": "CLOUDFLARE_API_KEY",
    "cloudflare:apiUserServiceKey": "CLOUDFLARE_API_USER_SERVICE_KEY", "tailscale:apiKey": "TAILSCALE_API_KEY",
    "tailscale:oauthClientId": "TAILSCALE_OAUTH_CLIENT_ID",
    "tailscale:oauthClientSecret": "TAILSCALE_OAUTH_CLIENT_SECRET",
}


def provider_credential_issues(keys: Iterable[str], stack: str) -> list[ConfigIssue]:
    """Provider credentials set in the stack file (by key name only: their values are never read here)."""
    return [ConfigIssue(key, "a provider credential in the stack file is used by every preview as well, so a "
                        "preview could change the cloud",
                        f"pulumi config rm {key} --stack {stack}, and export {PROVIDER_CREDENTIALS[key]} where "
                        f"Pulumi runs (in CI: a secret of the production and the preview environments, README › "
                        f"Your CI)")
            for key in sorted(set(keys) & PROVIDER_CREDENTIALS.keys())]


def role_issues(config: HomelabConfig, stack: str) -> list[ConfigIssue]:
    """A stack of the wrong role would be checked against the wrong rules: this is reported alone."""
    return list(_check_role(config, stack))


def cloud_and_secret_issues(config: HomelabConfig, stack: str, secret_keys: set[str]) -> list[ConfigIssue]:
    """Every cross-field problem of the cloud, the versions and the secrets."""
    return [*_check_cloud(config), *_check_object_lock(config), *_check_versions(config),
            *_check_chart_overrides(config), *_check_secrets(config, stack, secret_keys)]
