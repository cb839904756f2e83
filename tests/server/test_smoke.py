"""Smoke: `python -m postmock serve` as a real process, real HTTP, logs read back."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "sample_collections"
START_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(url: str, method: str = "GET", body: Any = None) -> tuple[int, str, bytes]:
    """(status, content type, body) of one real HTTP call; error statuses are answers too."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers["Content-Type"], exc.read()


@contextmanager
def postmock_serve(tmp_path: Path, port: int) -> Iterator[subprocess.Popen[str]]:
    """The server process, answering; killed if the test leaves it running."""
    args = [sys.executable, "-m", "postmock", "serve",
            str(SAMPLES / "petstore.postman_collection.json"),
            "-e", str(SAMPLES / "petstore.postman_environment.json"),
            "--port", str(port), "--log-db", str(tmp_path / "calls.db"), "--no-reload"]  # fmt: skip
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, f"postmock exited early: {proc.communicate()}"
            try:
                status, _, _ = call(f"http://127.0.0.1:{port}/__postmock/health")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "postmock did not answer within 15 s"
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def postmock_logs(*args: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "postmock", "logs", *args],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, ""), result
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_serve_answer_stop_then_read_the_log(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with postmock_serve(tmp_path, port) as proc:
        status, ctype, body = call(base + "/v1/pets/42")  # :petId path variable
        assert (status, ctype) == (200, "application/json; charset=utf-8")  # the example's
        assert json.loads(body)["id"] == "42"

        status, _, body = call(base + "/v1/pets", "POST", {"name": "Bo"})
        assert status == 201
        assert json.loads(body)["name"] == "Bo"

        status, _, body = call(base + "/v1/pets?status=sold&limit=10")
        assert (status, json.loads(body)["status"]) == (200, "sold")

        status, ctype, body = call(base + "/v1/no/such/thing")
        assert (status, ctype) == (404, "application/json; charset=utf-8")
        assert json.loads(body)["error"]["name"] == "mockRequestNotFoundError"

        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert f"listening on {base}" in out
    assert out.rstrip().endswith("postmock stopped")
    # Piped: one plain line per call, written by the call-log writer process.
    lines = [line for line in out.splitlines() if " id=" in line]
    assert [line.split()[1:4] for line in lines] == [
        ["GET", "/v1/pets/42", "200"],
        ["POST", "/v1/pets", "201"],
        ["GET", "/v1/pets?status=sold&limit=10", "200"],
        ["GET", "/v1/no/such/thing", "404"],
    ]

    calls = postmock_logs("--db", str(tmp_path / "calls.db"), "--json")
    seen = [(c["request"]["method"], c["request"]["path"], c["response"]["statusCode"])
            for c in calls]  # fmt: skip
    assert seen == [
        ("GET", "/v1/pets/42", 200),
        ("POST", "/v1/pets", 201),
        ("GET", "/v1/pets", 200),
        ("GET", "/v1/no/such/thing", 404),
    ]
    assert [c["responseName"] for c in calls] == ["Pet found", "Pet created", "Sold pets", None]
    assert calls[1]["request"]["body"] == '{"name": "Bo"}'
    assert calls[3]["response"]["type"] == "noMatch"


def test_logs_from_the_running_server(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with postmock_serve(tmp_path, port):
        paths = [f"/v1/pets/{n}" for n in range(1, 6)] + ["/v1/health", "/v1/missing/x/y"]
        statuses = [call(base + p)[0] for p in paths]
        assert statuses == [200] * 6 + [404]
        calls = postmock_logs("--url", base, "--json", "--limit", "5")
    assert [(c["request"]["path"], c["response"]["statusCode"]) for c in calls] == list(
        zip(paths[-5:], statuses[-5:], strict=True)
    )


def test_expect_100_continue_and_the_api_take_the_app_route(tmp_path: Path) -> None:
    """Mock calls skip the router (server.fast_dispatch); these two must not."""
    port = free_port()
    with postmock_serve(tmp_path, port):
        body = b'{"name": "Bo"}'
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /v1/pets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
            )
            assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
            sock.sendall(body)
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 201 ")
        status, ctype, data = call(f"http://127.0.0.1:{port}/__postmock/calls")
        assert (status, ctype) == (200, "application/json; charset=utf-8")
        assert [c["request"]["path"] for c in json.loads(data)["calls"]] == ["/v1/pets"]
