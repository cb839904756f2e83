"""HTTPS: a local certificate authority made once (`serve --tls`), or a given pair.

`--tls` makes, under `.postmock/tls/`, a CA whose certificate may only vouch for local
names (X.509 name constraints: `localhost`, 127.0.0.0/8, ::1, and `--host` when it is a
specific name or address), and a server certificate for those names signed by it. Both
are reused on later starts; the server certificate is made again when it is near its end
or misses a name, the CA only when its constraints do not cover a new `--host`. Trusting
this CA is therefore much less dangerous than trusting a general one: even if its key
leaked, it could not vouch for any site on the Internet.

`cryptography` makes the certificates; it is imported only when they must be made.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from postmock.config import TLS_CA_DAYS, TLS_CERT_DAYS, ServeConfig
from postmock.errors import StartupError

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
CERT = "cert.pem"
KEY = "key.pem"
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("", "0.0.0.0", "::")
_RENEW_BEFORE = dt.timedelta(days=2)


@dataclass(frozen=True)
class TlsFiles:
    """A certificate chain and its key, and the CA a client should trust (None: given pair)."""

    cert: Path
    key: Path
    ca: Path | None = None
    made: bool = False  # made (or renewed) on this start


def wanted_names(host: str) -> tuple[str, ...]:
    """The names the server certificate must hold for `--host`."""
    extra = () if host in WILDCARD_HOSTS or host in LOCAL_NAMES else (host,)
    return (*LOCAL_NAMES, *extra)


def banner_line(config: ServeConfig) -> str:
    """The start-up banner's lines about `--tls`'s CA (empty otherwise)."""
    if not config.tls or config.tls_cert not in (None, config.tls_dir / CERT):
        return ""
    return "\n" + trust_hint((config.tls_dir / CA_CERT).resolve())


def trust_hint(ca: Path) -> str:
    """Where the local CA is and how to trust it, one client a line."""
    return (
        f"  local CA: [bold]{ca}[/] — trust it (docs/https.md):\n"
        f"    curl --cacert {ca} …\n"
        f"    NODE_EXTRA_CA_CERTS={ca} node …\n"
        f"    REQUESTS_CA_BUNDLE={ca} python …\n"
        f"    postmock logs --cacert {ca} --url https://…"
    )


def resolve(config: ServeConfig) -> ServeConfig:
    """`config` with `tls_cert`/`tls_key` set: for `--tls`, the local CA's (made if needed)."""
    if not config.tls or config.tls_cert is not None:
        return config
    files = local_ca(config.tls_dir, config.host)
    return replace(config, tls_cert=files.cert, tls_key=files.key)


def context_for(config: ServeConfig) -> ssl.SSLContext | None:
    """The server's TLS context, or None for plain HTTP."""
    config = resolve(config)
    if config.tls_cert is None or config.tls_key is None:
        return None
    return server_context(config.tls_cert, config.tls_key)


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The server's TLS context for a PEM pair; StartupError saying which file is wrong."""
    for path, what in ((cert, "--tls-cert"), (key, "--tls-key")):
        if not path.is_file():
            raise StartupError(f"{what} {path}: no such file")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise StartupError(
            f"--tls-cert {cert} / --tls-key {key}: not a matching PEM certificate and key "
            f"({exc.reason or exc})"
        ) from None
    except OSError as exc:
        raise StartupError(f"--tls-cert {cert}: {exc.strerror or exc}") from None
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def local_ca(folder: Path, host: str) -> TlsFiles:
    """The CA and server certificate under `folder`, made or renewed as needed."""
    try:
        return _local_ca(folder, wanted_names(host))
    except OSError as exc:
        raise StartupError(f"cannot make TLS files in {folder}: {exc.strerror or exc}") from None


def _local_ca(folder: Path, names: tuple[str, ...]) -> TlsFiles:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(folder / CERT, folder / KEY, folder / CA_CERT)
    now = dt.datetime.now(dt.timezone.utc)
    ca = ca_key = None
    if (folder / CA_CERT).is_file() and (folder / CA_KEY).is_file():
        try:
            ca = x509.load_pem_x509_certificate((folder / CA_CERT).read_bytes())
            ca_key = serialization.load_pem_private_key((folder / CA_KEY).read_bytes(), None)
        except ValueError:
            ca = ca_key = None  # damaged: make a new one
    if ca is None or _expires_soon(ca, now) or not _ca_covers(ca, names):
        ca, ca_key = _make_ca(now, names)
        _write(folder / CA_KEY, _key_pem(ca_key), private=True)
        _write(folder / CA_CERT, ca.public_bytes(serialization.Encoding.PEM))
    elif _cert_ok(folder / CERT, folder / KEY, ca, names, now):
        return files
    cert, key = _make_cert(ca, ca_key, names, now)
    _write(folder / KEY, _key_pem(key), private=True)
    _write(folder / CERT, cert.public_bytes(serialization.Encoding.PEM))
    return TlsFiles(files.cert, files.key, files.ca, made=True)


def _expires_soon(cert: Any, now: dt.datetime) -> bool:
    return bool(cert.not_valid_after_utc - now < _RENEW_BEFORE)


def _general_names(names: tuple[str, ...]) -> list[Any]:
    from cryptography import x509

    out: list[Any] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def _permitted(names: tuple[str, ...]) -> list[Any]:
    """Name constraints: every local name, as a DNS name or a whole address range."""
    from cryptography import x509

    out: list[Any] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
        x509.IPAddress(ipaddress.ip_network("::1/128")),
    ]
    for general in _general_names(names):
        value = general.value
        if isinstance(general, x509.DNSName) and value != "localhost":
            out.append(general)
        elif isinstance(general, x509.IPAddress) and not value.is_loopback:
            out.append(x509.IPAddress(ipaddress.ip_network(value)))
    return out


def _ca_covers(ca: Any, names: tuple[str, ...]) -> bool:
    from cryptography import x509

    try:
        constraints = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return False
    permitted = constraints.permitted_subtrees or []
    for general in _general_names(names):
        if isinstance(general, x509.DNSName):
            ok = any(
                isinstance(p, x509.DNSName)
                and (general.value == p.value or general.value.endswith("." + p.value))
                for p in permitted
            )
        else:
            ok = any(
                isinstance(p, x509.IPAddress)
                and isinstance(p.value, ipaddress.IPv4Network | ipaddress.IPv6Network)
                and general.value in p.value
                for p in permitted
            )
        if not ok:
            return False
    return True


def _cert_ok(cert_path: Path, key_path: Path, ca: Any, names: tuple[str, ...], now: Any) -> bool:
    from cryptography import x509

    if not key_path.is_file() or not cert_path.is_file():
        return False
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        have = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    return (
        cert.issuer == ca.subject
        and not _expires_soon(cert, now)
        and all(n in list(have) for n in _general_names(names))
    )


def _make_ca(now: dt.datetime, names: tuple[str, ...]) -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "postmock"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"postmock local CA {os.getpid():x}"),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=TLS_CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.NameConstraints(_permitted(names), None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_cert(ca: Any, ca_key: Any, names: tuple[str, ...], now: dt.datetime) -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=TLS_CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(_general_names(names)), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _key_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write `path` whole (a temporary file renamed over it); keys readable by the owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    if private:
        os.chmod(tmp, 0o600)  # an older file of that name kept its mode through O_TRUNC
    os.replace(tmp, path)


__all__ = [
    "TlsFiles", "context_for", "local_ca", "resolve", "server_context", "trust_hint",
    "wanted_names",
]  # fmt: skip
