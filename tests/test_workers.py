"""`serve --workers N`: several processes on one port, one call log, clean stop."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_collections" / "petstore.postman_collection.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_workers_share_port_and_log(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "calls.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "postmock",
            "serve",
            str(SAMPLE),
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-db",
            str(db),
            "--no-reload",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                get(f"http://127.0.0.1:{port}/v1/health")
                break
            except OSError:
                time.sleep(0.1)
        statuses = [get(f"http://127.0.0.1:{port}/v1/pets/{n}") for n in range(30)]
        assert statuses == [200] * 30
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "2 worker processes" in out
    logs = subprocess.run(
        [sys.executable, "-m", "postmock", "logs", "--db", str(db), "--json", "--limit", "500"],
        capture_output=True,
        text=True,
        check=True,
    )
    records = [json.loads(line) for line in logs.stdout.splitlines()]
    pets = [r for r in records if r["request"]["path"].startswith("/v1/pets/")]
    assert len(pets) == 30
    assert {r["response"]["statusCode"] for r in pets} == {200}
