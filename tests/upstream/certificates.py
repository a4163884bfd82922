"""What cert-manager would issue for a registered Certificate, made here with `cryptography`: the same subject,
names, key usages and key type, written as cert-manager writes its Secrets (``ca.crt``, ``tls.crt``, ``tls.key``).

The upstream tests then hand these files to the real etcd and the real JuiceFS client, so what is judged is the
program's Certificate specs and flags, not this stand-in issuer."""

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_USAGES = {"server auth": ExtendedKeyUsageOID.SERVER_AUTH, "client auth": ExtendedKeyUsageOID.CLIENT_AUTH}


@dataclass(frozen=True)
class Authority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _builder(common_name: str, issuer: x509.Name, public_key: Any) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(issuer).public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1)))


def authority(spec: dict[str, Any]) -> Authority:
    """The CA a ``isCA`` Certificate spec describes, self-signed."""
    assert spec["isCA"] is True
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, spec["commonName"])])
    certificate = (_builder(spec["commonName"], name, key.public_key())
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                  critical=True)
                   .sign(key, hashes.SHA256()))
    return Authority(key, certificate)


def issue(ca: Authority, spec: dict[str, Any], directory: Path, addresses: list[str] | None = None) -> Path:
    """Sign ``spec`` (its names, or ``addresses`` instead of its IP addresses) and write the Secret's files."""
    assert spec["privateKey"]["algorithm"] == "ECDSA" and spec["privateKey"]["size"] == 256
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in spec.get("dnsNames", [])]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in (addresses or spec.get("ipAddresses", []))]
    usages = [usage for usage in spec["usages"] if usage != "digital signature"]
    builder = (_builder(spec["commonName"], ca.certificate.subject, key.public_key())
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage("digital signature" in spec["usages"], False, False, False, False,
                                            False, False, False, False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([_USAGES[usage] for usage in usages]), critical=False))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    certificate = builder.sign(ca.key, hashes.SHA256())
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.crt").write_bytes(ca.pem())
    (directory / "tls.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    # cert-manager's default encoding for an ECDSA key (privateKey.encoding PKCS1: SEC 1 "EC PRIVATE KEY").
    (directory / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                                          serialization.NoEncryption()))
    (directory / "tls.key").chmod(0o600)
    return directory
