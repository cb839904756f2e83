#!/usr/bin/env python3
"""What the call log costs under load, and what a `kill -9` of the server loses.

    python benchmarks/calllog_load.py [--python PY] [--seconds 8] [--rounds 3]
                                      [--cases big,followers,kill9]

Cases (each against `postmock serve` run by `--python`, so the same script measures an
older checkout: `--python /work/main/.venv/bin/python`):

- `big`: one example with a 20 MB body; wrk for `--seconds`, log on and `--no-log`;
  requests/s and peak RSS (server + call-log writer, VmHWM from /proc).
- `followers`: a small example; wrk with 0 and with 50 open `/__postmock/calls/stream`
  clients (read by a separate process); requests/s.
- `kill9`: a client makes calls one after another on 8 connections, the server gets
  SIGKILL mid-load; how many answered calls are missing from the store.

Rounds interleave log/no-log (and 0/50 followers); medians are printed. Loopback only;
needs wrk. Figures swing on a shared VM: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BIG = 20 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def collection(folder: Path, body_size: int) -> Path:
    body = json.dumps({"data": "x" * body_size})
    data = {
        "info": {"name": "bench", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [
            {
                "name": "get",
                "request": {"method": "GET", "url": "http://x/item"},
                "response": [
                    {
                        "name": "ok",
                        "originalRequest": {"method": "GET", "url": "http://x/item"},
                        "code": 200,
                        "header": [{"key": "Content-Type", "value": "application/json"}],
                        "body": body,
                    }
                ],
            }
        ],
    }  # fmt: skip
    path = folder / f"c{body_size}.json"
    path.write_text(json.dumps(data))
    return path


def start(
    python: str, coll: Path, folder: Path, *extra: str
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [python, "-m", "postmock", "serve", str(coll), "--port", str(port), "--no-reload", "-q",
         "--log-db", str(folder / f"calls-{port}.db"), *extra],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pids
    for child in children:
        pids += tree(int(child))
    return pids


def hwm_mb(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            m = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{p}/status").read_text())
        except OSError:
            continue
        total += int(m.group(1)) if m else 0
    return total / 1024


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and its children (the writer), from /proc."""
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def wrk(port: int, seconds: float, conns: int = 8) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{int(seconds)}s", f"http://127.0.0.1:{port}/item"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(m.group(1)) if m else 0.0


FOLLOWERS = """
import asyncio, sys
import aiohttp
async def one(session, url):
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=None)) as resp:
        async for _ in resp.content.iter_any():
            pass
async def main():
    url = f"http://127.0.0.1:{sys.argv[1]}/__postmock/calls/stream"
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(session, url) for _ in range(int(sys.argv[2]))),
                             return_exceptions=True)
asyncio.run(main())
"""


def case_big(args: argparse.Namespace, folder: Path) -> None:
    coll = collection(folder, BIG)
    results: dict[str, list[tuple[float, float]]] = {"log": [], "no-log": []}
    for _ in range(args.rounds):
        for name, extra in (("log", ()), ("no-log", ("--no-log",))):
            proc, port = start(args.python, coll, folder, *extra)
            try:
                rps = wrk(port, args.seconds, conns=4)
                results[name].append((rps, hwm_mb(proc.pid)))
            finally:
                stop(proc)
    for name, runs in results.items():
        rps = statistics.median(r for r, _ in runs)
        rss = statistics.median(m for _, m in runs)
        print(f"big 20MB  {name:7s} {rps:8.1f} req/s  peak RSS {rss:7.0f} MB  runs={runs}")
    ratio = statistics.median(r for r, _ in results["no-log"]) / max(
        statistics.median(r for r, _ in results["log"]), 1e-9
    )
    print(f"big 20MB  log costs {ratio:.2f}x the time of --no-log")


def case_followers(args: argparse.Namespace, folder: Path) -> None:
    coll = collection(folder, 200)
    proc, port = start(args.python, coll, folder)
    results: dict[int, list[float]] = {0: [], 50: []}
    cpu: dict[int, list[float]] = {0: [], 50: []}  # server CPU µs per request
    try:
        for _ in range(args.rounds):
            for count in (0, 50):
                readers = None
                if count:
                    readers = subprocess.Popen(
                        [sys.executable, "-c", FOLLOWERS, str(port), str(count)]
                    )
                    time.sleep(2.0)
                try:
                    before = cpu_seconds(proc.pid)
                    rps = wrk(port, args.seconds)
                    used = cpu_seconds(proc.pid) - before
                    results[count].append(rps)
                    cpu[count].append(1e6 * used / max(rps * int(args.seconds), 1))
                finally:
                    if readers is not None:
                        readers.kill()
                        readers.wait()
    finally:
        stop(proc)
    base = statistics.median(results[0])
    loaded = statistics.median(results[50])
    print(f"followers  0: {base:8.1f} req/s  50: {loaded:8.1f} req/s  ratio {loaded / base:.2f}  "
          f"runs={results}")  # fmt: skip
    cpu0, cpu50 = statistics.median(cpu[0]), statistics.median(cpu[50])
    print(f"followers  server CPU per request  0: {cpu0:.0f} µs  50: {cpu50:.0f} µs  "
          f"-> throughput bound {cpu0 / cpu50:.2f} of no followers")  # fmt: skip


def _client(port: int, counts: list[int], n: int) -> None:
    """Calls one after another until the server is gone; counts the answered ones."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while True:
        try:
            conn.request("GET", "/item")
            conn.getresponse().read()
        except OSError:
            return
        counts[n] += 1


def case_kill9(args: argparse.Namespace, folder: Path) -> None:
    coll = collection(folder, 200)
    for _ in range(args.rounds):
        proc, port = start(args.python, coll, folder)
        db = folder / f"calls-{port}.db"
        counts = [0] * 8
        stop_at = time.monotonic() + 3.0
        threads = [threading.Thread(target=_client, args=(port, counts, n)) for n in range(8)]
        for t in threads:
            t.start()
        time.sleep(max(0.0, stop_at - time.monotonic()))
        proc.kill()
        proc.wait()
        for t in threads:
            t.join()
        answered = sum(counts)
        time.sleep(1.0)  # the orphaned writer finishes what reached it
        conn = sqlite3.connect(db)
        (stored,) = conn.execute("SELECT coalesce(sum(n), 0) FROM frames").fetchone()
        conn.close()
        rate = answered / 3.0
        lost = answered - stored
        print(f"kill -9   answered {answered}  stored {stored}  lost {lost}  "
              f"(= {1000 * lost / rate:.0f} ms of calls at {rate:.0f} req/s)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cases", default="big,followers,kill9")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for case in args.cases.split(","):
            {"big": case_big, "followers": case_followers, "kill9": case_kill9}[case](args, folder)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
