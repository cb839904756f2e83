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

ROOT = Path(__file__).resolve().parents[2]
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


def start_workers(tmp_path: Path, port: int, db: Path) -> subprocess.Popen[str]:
    argv = ["serve", str(SAMPLE), "--port", str(port), "--workers", "2", "--log-db", str(db)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "postmock", *argv, "--no-reload"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            get(f"http://127.0.0.1:{port}/__postmock/health")
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("workers did not start")


@pytest.mark.slow
def test_workers_share_port_and_log(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "calls.db"
    proc = start_workers(tmp_path, port, db)
    try:
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


@pytest.mark.slow
def test_stream_follows_every_worker(tmp_path: Path) -> None:
    port = free_port()
    proc = start_workers(tmp_path, port, tmp_path / "calls.db")
    try:
        stream = urllib.request.urlopen(
            f"http://127.0.0.1:{port}/__postmock/calls/stream", timeout=10
        )
        time.sleep(0.5)  # the follower has read the store's last row before the calls start
        # New connections each time: both workers accept from the one shared socket.
        for n in range(20):
            assert get(f"http://127.0.0.1:{port}/v1/pets/{n}") == 200
        paths = set()
        while len(paths) < 20:
            line = stream.readline()
            assert line, "stream ended early"
            if line.strip():
                paths.add(json.loads(line)["request"]["path"])
        assert paths == {f"/v1/pets/{n}" for n in range(20)}
        stream.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


@pytest.mark.slow
def test_a_second_server_on_a_workers_port_exits_3(tmp_path: Path) -> None:
    """The supervisor binds once without SO_REUSEPORT: no silent 200/404 traffic split."""
    port = free_port()
    first = start_workers(tmp_path, port, tmp_path / "calls.db")
    try:
        for extra in (["--workers", "2"], []):
            second = subprocess.run(
                [sys.executable, "-m", "postmock", "serve", str(SAMPLE), "--port", str(port),
                 "--no-log", "--no-reload", *extra],
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            assert second.returncode == 3, second.stderr
            assert "the port is in use" in second.stderr
            assert len(second.stderr.strip().splitlines()) == 1
        assert get(f"http://127.0.0.1:{port}/v1/pets/1") == 200
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=20)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_sigterm_right_after_start_stops_every_worker(tmp_path: Path) -> None:
    """The earliest SIGTERM (the port just answered) still stops the workers: the
    supervisor used to die of it before its loop handled signals, orphaning them."""
    for attempt in range(3):
        port = free_port()
        proc = start_workers(tmp_path, port, tmp_path / f"calls{attempt}.db")
        workers = [
            int(pid)
            for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        ]
        assert len(workers) == 2
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=20)
        finally:
            for pid in workers:  # never leave one behind, even when the test fails
                if _alive(pid):
                    subprocess.run(["kill", "-9", str(pid)], check=False)
        assert proc.returncode == 0
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in workers), f"attempt {attempt}: a worker outlived it"
