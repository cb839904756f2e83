"""HTTPS: the local CA of `--tls` (made once, reused, name-constrained), given pairs, real
TLS sockets with a client that trusts the CA, and one that does not."""

from __future__ import annotations

import asyncio
import io
import os
import ssl
import stat
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner
from cryptography import x509
from rich.console import Console
from serve_helpers import petstore, running

from postmock.cli import cli
from postmock.errors import StartupError
from postmock.server.tls import CA_CERT, CA_KEY, CERT, KEY, local_ca


def trusting(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def test_local_ca_is_made_once_and_reused(tmp_path: Path) -> None:
    first = local_ca(tmp_path, "127.0.0.1")
    assert first.made and first.ca == tmp_path / CA_CERT
    files = {name: (tmp_path / name).read_bytes() for name in (CA_CERT, CA_KEY, CERT, KEY)}
    for name in (CA_KEY, KEY):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600, name
    again = local_ca(tmp_path, "127.0.0.1")
    assert not again.made
    assert files == {name: (tmp_path / name).read_bytes() for name in files}


def test_the_ca_may_only_vouch_for_local_names(tmp_path: Path) -> None:
    local_ca(tmp_path, "127.0.0.1")
    ca = x509.load_pem_x509_certificate((tmp_path / CA_CERT).read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    permitted = {str(name.value) for name in constraints.value.permitted_subtrees or []}
    assert permitted == {"localhost", "127.0.0.0/8", "::1/128"}
    cert = x509.load_pem_x509_certificate((tmp_path / CERT).read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(n.value) for n in sans} == {"localhost", "127.0.0.1", "::1"}


def test_a_new_host_gets_a_new_certificate_and_a_ca_that_covers_it(tmp_path: Path) -> None:
    local_ca(tmp_path, "127.0.0.1")
    ca_before = (tmp_path / CA_CERT).read_bytes()
    local_ca(tmp_path, "127.0.0.2")  # in 127.0.0.0/8: the CA still covers it
    assert (tmp_path / CA_CERT).read_bytes() == ca_before
    cert = x509.load_pem_x509_certificate((tmp_path / CERT).read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "127.0.0.2" in {str(n.value) for n in sans}
    local_ca(tmp_path, "mock.test")  # not covered: a new CA (to be trusted again)
    assert (tmp_path / CA_CERT).read_bytes() != ca_before


async def test_https_serves_the_mock_and_the_api_to_a_client_trusting_the_ca(
    tmp_path: Path,
) -> None:
    config = petstore(tmp_path, tls=True, log_db=tmp_path / "calls.db")
    async with running(config) as url, aiohttp.ClientSession() as session:
        assert url.startswith("https://127.0.0.1:")
        ctx = trusting(tmp_path / "tls" / CA_CERT)
        for host in ("127.0.0.1", "localhost"):
            target = url.replace("127.0.0.1", host)
            async with session.get(target + "/v1/pets/7", ssl=ctx) as resp:
                assert resp.status == 200
                assert (await resp.json())["name"] == "Rex"
        async with session.get(url + "/__postmock/calls", ssl=ctx) as resp:
            calls = (await resp.json())["calls"]
        assert [c["request"]["path"] for c in calls] == ["/v1/pets/7", "/v1/pets/7"]


async def test_a_client_trusting_another_ca_is_refused(tmp_path: Path) -> None:
    local_ca(tmp_path / "other", "127.0.0.1")
    config = petstore(tmp_path, tls=True)
    async with running(config) as url, aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(url + "/v1/pets/7", ssl=trusting(tmp_path / "other" / CA_CERT))
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(url + "/v1/pets/7")  # the system's CAs do not know it either


async def test_a_given_pair_is_served(tmp_path: Path) -> None:
    made = local_ca(tmp_path / "given", "127.0.0.1")
    config = petstore(tmp_path, tls_cert=made.cert, tls_key=made.key)
    async with running(config) as url, aiohttp.ClientSession() as session:
        async with session.get(url + "/v1/pets/7", ssl=trusting(tmp_path / "given" / CA_CERT)):
            pass
    assert not (tmp_path / "tls").exists()  # no local CA made when a pair is given


@pytest.mark.parametrize(
    ("case", "message"),
    [("missing", "--tls-cert"), ("swapped", "not a matching PEM certificate and key")],
)
async def test_a_bad_pair_is_a_startup_error_saying_which(
    tmp_path: Path, case: str, message: str
) -> None:
    made = local_ca(tmp_path / "given", "127.0.0.1")
    cert, key = (tmp_path / "nope.pem", made.key) if case == "missing" else (made.key, made.cert)
    config = petstore(tmp_path, tls_cert=cert, tls_key=key)
    with pytest.raises(StartupError, match=message):
        async with running(config):
            pass


def test_cli_wants_cert_and_key_together(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "sample_collections"
    result = CliRunner().invoke(
        cli, ["serve", str(sample / "petstore.postman_collection.json"), "--tls-cert", "c.pem"]
    )
    assert result.exit_code == 2
    assert "--tls-cert and --tls-key go together" in result.output


async def test_banner_says_how_to_trust_the_ca(tmp_path: Path) -> None:
    out = io.StringIO()
    config = petstore(tmp_path, tls=True)
    async with running(config, Console(file=out, width=200)):
        await asyncio.sleep(0)
    text = out.getvalue()
    ca = (tmp_path / "tls" / CA_CERT).resolve()
    assert f"curl --cacert {ca}" in text
    assert f"NODE_EXTRA_CA_CERTS={ca}" in text
    assert f"REQUESTS_CA_BUNDLE={ca}" in text
