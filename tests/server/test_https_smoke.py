"""`python -m postmock serve --tls --workers 2` as a real process: the mock, the API, the
SSE stream, the page, metrics and `postmock logs --cacert`, all over HTTPS; and
`--call-lines json` on a pipe."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "sample_collections"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    argv = [sys.executable, "-m", "postmock", "serve",
            str(SAMPLES / "petstore.postman_collection.json"),
            "-e", str(SAMPLES / "petstore.postman_environment.json"),
            "--port", str(port), "--no-reload", *args]  # fmt: skip
    proc = subprocess.Popen(
        argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return proc, port


def get(url: str, ctx: ssl.SSLContext | None = None, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10, context=ctx) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def wait_ready(proc: subprocess.Popen[str], url: str, ctx: ssl.SSLContext | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert proc.poll() is None, f"postmock exited early: {proc.communicate()}"
        try:
            if get(url + "/__postmock/health", ctx)[0] == 200:
                return
        except (OSError, ssl.SSLError):
            pass
        assert time.monotonic() < deadline, f"postmock did not answer within {START_TIMEOUT} s"
        time.sleep(0.1)


def test_everything_over_https_with_workers(tmp_path: Path) -> None:
    proc, port = start(tmp_path, "--tls", "--workers", "2")
    base = f"https://localhost:{port}"
    ca = tmp_path / ".postmock" / "tls" / "ca.pem"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ca.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        ctx = ssl.create_default_context(cafile=str(ca))
        wait_ready(proc, base, ctx)
        stream = urllib.request.urlopen(
            urllib.request.Request(
                base + "/__postmock/calls/stream", headers={"Accept": "text/event-stream"}
            ),
            timeout=15,
            context=ctx,
        )
        with stream:
            status, body = get(base + "/v1/pets/42", ctx)
            assert (status, json.loads(body)["id"]) == (200, "42")
            assert get(base + "/v1/no/such", ctx)[0] == 404
            events = []
            while len(events) < 2:
                line = stream.readline().decode()
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
        assert [e["request"]["path"] for e in events] == ["/v1/pets/42", "/v1/no/such"]
        status, page = get(base + "/__postmock/", ctx)
        assert status == 200 and b'<table id="calls">' in page
        status, metrics = get(base + "/__postmock/metrics", ctx)
        assert status == 200 and b"postmock_calls_total" in metrics
        logs = subprocess.run(
            [sys.executable, "-m", "postmock", "logs", "--url", base, "--json",
             "--cacert", str(ca)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert logs.returncode == 0, logs.stderr
        paths = [json.loads(line)["request"]["path"] for line in logs.stdout.splitlines()]
        assert paths == ["/v1/pets/42", "/v1/no/such"]
        untrusted = subprocess.run(
            [sys.executable, "-m", "postmock", "logs", "--url", base, "--json"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert untrusted.returncode == 1
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        assert "Traceback" not in untrusted.stderr
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert f"curl --cacert {ca.resolve()}" in out


def test_call_lines_json_prints_the_masked_record_per_line(tmp_path: Path) -> None:
    proc, port = start(tmp_path, "--call-lines", "json", "--api-key", "k3y")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while get_status(base + "/v1/pets/7") != 200:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert records, out
    last = records[-1]
    assert (last["request"]["path"], last["response"]["statusCode"]) == ("/v1/pets/7", 200)
    assert last["responseName"] == "Pet found"
    headers = {k.lower(): v for k, v in last["request"]["headers"].items()}
    assert headers["x-api-key"] not in ("", "k3y")  # masked, as the API serves it


def get_status(url: str) -> int:
    try:
        return get(url, None, **{"x-api-key": "k3y"})[0]
    except OSError:
        return 0
