"""Real `postmock serve` processes for the call-log guarantees: start, load, read back."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[2] / "sample_collections"
PETSTORE = SAMPLES / "petstore.postman_collection.json"
ENVIRONMENT = SAMPLES / "petstore.postman_environment.json"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(port: int, path: str, headers: dict[str, str] | None = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200, (resp.status, body[:300])
        return json.loads(body)
    finally:
        conn.close()


def health(port: int) -> dict[str, Any]:
    data: dict[str, Any] = get_json(port, "/__postmock/health")
    return data


@contextmanager
def serve(
    cwd: Path, port: int, *extra: str, db: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """`postmock serve` (stdout and stderr piped), answering; killed if left running."""
    args = [sys.executable, "-m", "postmock", "serve", str(PETSTORE), "-e", str(ENVIRONMENT),
            "--port", str(port), "--no-reload", "-q", *extra]  # fmt: skip
    if db is not None:
        args += ["--log-db", str(db)]
    proc = subprocess.Popen(
        args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, f"postmock exited early: {proc.communicate()}"
            try:
                health(port)
                break
            except OSError:
                pass
            assert time.monotonic() < deadline, "postmock did not answer in time"
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def load(
    port: int,
    count: int,
    *,
    threads: int = 8,
    path: str = "/v1/pets/{i}",
    during: Any = None,
    at: int = 0,
) -> int:
    """Make `count` GET calls on keep-alive connections; run `during()` once call `at` is
    answered. Returns how many were answered."""
    answered = 0
    lock = threading.Lock()
    fired = threading.Event()

    def worker(part: range) -> None:
        nonlocal answered
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in part:
            conn.request("GET", path.format(i=i))
            resp = conn.getresponse()
            resp.read()
            with lock:
                answered += 1
                due = during is not None and answered >= at and not fired.is_set()
                if due:
                    fired.set()
            if due:
                during()
        conn.close()

    parts = [range(n, count, threads) for n in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, parts))
    return answered


def stored_paths(db: Path) -> list[str]:
    """Every stored call's path, read with the store's own reader."""
    from postmock.calllog.filter import CallFilter
    from postmock.calllog.store import CallStore

    store = CallStore.open_readonly(db)
    try:
        records, _last, _skipped = store.calls_after(0, CallFilter(), limit=10**9)
        return [r.path for r in records]
    finally:
        store.close()


def hold_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding `BEGIN EXCLUSIVE` on `db` for `seconds`; prints `locked`."""
    code = (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "c.execute('COMMIT')\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def release(holder: subprocess.Popen[str], wait: bool = False) -> None:
    """End a `hold_lock` process: let it commit (`wait`) or kill it."""
    if wait:
        holder.wait(60)
    else:
        holder.kill()
        holder.wait()
    if holder.stdout is not None:
        holder.stdout.close()
