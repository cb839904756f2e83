"""Stopping `postmock serve` with real signals, and the ready signals scripts wait for.

A real process, real HTTP, real SIGINTs: the first Ctrl-C waits for the calls in flight
and says so; a second one quits at once, with no traceback and the call log kept.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
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
START_TIMEOUT = 20.0


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), exc.read()


class Lines:
    """Collects a pipe's lines on a thread, so a test can wait for one while the process runs."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert time.monotonic() < deadline, f"no {text!r} in {self.lines}"
            time.sleep(0.02)

    def text(self) -> str:
        self._thread.join(10)
        return "\n".join(self.lines)


@contextmanager
def serving(tmp_path: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[str], str, Lines]]:
    """The server, started with --ready-file; yields (process, its URL, its stdout lines)."""
    ready = tmp_path / "ready"
    args = [sys.executable, "-m", "postmock", "serve",
            str(SAMPLES / "petstore.postman_collection.json"),
            "-e", str(SAMPLES / "petstore.postman_environment.json"), "--port", "0",
            "--ready-file", str(ready), "--log-db", str(tmp_path / "calls.db"), "--no-reload",
            *extra]  # fmt: skip
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out = Lines(proc.stdout)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.exists():
            assert proc.poll() is None, f"postmock exited early: {proc.stderr.read()}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "no ready file within 20 s"
            time.sleep(0.05)
        url = ready.read_text().strip()
        yield proc, url, out
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        out.text()  # the reader thread has seen the end of the pipe
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def in_flight(url: str) -> int:
    status, body = get(url + "/__postmock/health")
    assert status == 200
    return int(json.loads(body)["inFlight"])


def wait_in_flight(url: str, n: int) -> None:
    deadline = time.monotonic() + 10
    while in_flight(url) != n:
        assert time.monotonic() < deadline, "the delayed call never started"
        time.sleep(0.02)


def delayed_call(url: str, delay_ms: int, results: list[Any]) -> threading.Thread:
    def run() -> None:
        try:
            results.append(get(url + "/v1/pets/42", {"x-mock-response-delay": str(delay_ms)}))
        except OSError as exc:  # the server went away before answering
            results.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def logged_paths(tmp_path: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "postmock", "logs", "--db", str(tmp_path / "calls.db"), "--json"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["request"]["path"] for line in result.stdout.splitlines()]


def test_ready_file_holds_the_url_while_serving(tmp_path: Path) -> None:
    with serving(tmp_path) as (proc, url, out):
        assert url.startswith("http://127.0.0.1:")
        assert get(url + "/v1/pets/42")[0] == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert not (tmp_path / "ready").exists()  # gone once the server no longer answers
    text = out.text()
    assert f"listening on {url}" in text
    assert "  GET /v1/pets/:petId (1 example)" in text  # the routes, listed on start
    # Piped: each call is one plain line naming the request and the example.
    assert ' GET /v1/pets/42 200 "Pets › Get pet by id" "Pet found" ' in text


def test_first_ctrl_c_waits_for_the_call_in_flight_and_says_so(tmp_path: Path) -> None:
    results: list[Any] = []
    with serving(tmp_path) as (proc, url, out):
        call = delayed_call(url, 1500, results)
        wait_in_flight(url, 1)
        proc.send_signal(signal.SIGINT)
        call.join(15)
        assert proc.wait(15) == 0
        stderr = proc.stderr.read()  # type: ignore[union-attr]
    assert results[0][0] == 200  # the delayed call was answered, not cut
    text = out.text()
    assert "waiting for 1 call in flight — Ctrl-C again to quit now" in text
    assert text.rstrip().endswith("postmock stopped")
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert logged_paths(tmp_path) == ["/v1/pets/42"]


def test_second_ctrl_c_quits_at_once_cleanly_and_keeps_the_log(tmp_path: Path) -> None:
    results: list[Any] = []
    with serving(tmp_path) as (proc, url, out):
        assert get(url + "/v1/pets/7")[0] == 200  # answered before the stop: must be kept
        delayed_call(url, 60_000, results)
        wait_in_flight(url, 1)
        proc.send_signal(signal.SIGINT)
        out.wait_for("waiting for 1 call in flight")
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(15)
        took = time.monotonic() - started
        stderr = proc.stderr.read()  # type: ignore[union-attr]
    assert code == 0
    assert took < 5, f"the second Ctrl-C took {took:.1f} s"
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "quit without waiting" in out.text()
    assert logged_paths(tmp_path) == ["/v1/pets/7"]


def test_print_url_puts_only_the_url_on_stdout(tmp_path: Path) -> None:
    with serving(tmp_path, "--print-url") as (proc, url, out):
        out.wait_for("http://")
        assert get(url + "/v1/pets/42")[0] == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        stderr = proc.stderr.read()  # type: ignore[union-attr]
    assert out.text() == url  # nothing else: a script can read it with $(…)
    assert f"listening on {url}" in stderr
    assert "/v1/pets/42 200" in stderr  # the call lines moved to stderr too


def test_workers_wait_on_the_first_ctrl_c_and_quit_on_the_second(tmp_path: Path) -> None:
    """Ctrl-C on a terminal reaches the whole process group: supervisor and workers."""
    ready = tmp_path / "ready"
    args = [sys.executable, "-m", "postmock", "serve",
            str(SAMPLES / "petstore.postman_collection.json"),
            "-e", str(SAMPLES / "petstore.postman_environment.json"), "--port", "0",
            "--workers", "2", "--ready-file", str(ready), "--log-db", str(tmp_path / "calls.db"),
            "--no-reload"]  # fmt: skip
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip
    out = Lines(proc.stdout)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "workers did not start"
            time.sleep(0.05)
        url = ready.read_text().strip()
        assert get(url + "/v1/pets/7")[0] == 200
        results: list[Any] = []
        delayed_call(url, 60_000, results)
        time.sleep(0.5)  # the call reaches a worker
        os.killpg(proc.pid, signal.SIGINT)
        out.wait_for("waiting for the workers' calls in flight")
        assert proc.poll() is None  # still waiting: the first Ctrl-C did not cut the call
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(15)
        took = time.monotonic() - started
        stderr = proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        out.text()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert code == 0
    assert took < 8, f"the second Ctrl-C took {took:.1f} s"
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "quit without waiting" in out.text()
    assert "/v1/pets/7" in logged_paths(tmp_path)
