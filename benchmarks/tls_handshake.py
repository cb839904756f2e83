#!/usr/bin/env python3
"""The cost of a new connection over HTTPS (`serve --tls`) against plain HTTP.

    python benchmarks/tls_handshake.py [--connections 300] [--rounds 5]

Two postmock servers (`--tls` and plain) run side by side pinned to CPU 0; a client on
CPU 1 opens a fresh connection per request (no keep-alive: the worst case for TLS, what
a browser's first call or a client without pooling pays), sends one GET and reads the
answer. Reported per server, as medians over the rounds: wall milliseconds per
connection+request and the server's CPU microseconds per connection (from /proc). The
handshake is ECDHE with the local CA's P-256 key and TLS 1.3. Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import ssl
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cpu_per_request import cpu_seconds, free_port, prepare, wait_up


def one_round(host: str, port: int, path: str, ctx: ssl.SSLContext | None, n: int) -> float:
    """Seconds for `n` connections, one request each."""
    started = time.perf_counter()
    for _ in range(n):
        conn: http.client.HTTPConnection
        if ctx is None:
            conn = http.client.HTTPConnection(host, port, timeout=10)
        else:
            conn = http.client.HTTPSConnection(host, port, timeout=10, context=ctx)
        conn.request("GET", path, headers={"Accept": "application/json", "Connection": "close"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--resources", type=int, default=200)
    ap.add_argument("--connections", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    tmp, probes, servers = prepare("postmock-tls-", args.resources, ["static"], [], tls=True)
    path = probes["static"]
    procs: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for name in ("postmock", "postmock-tls"):
            port = free_port()
            argv = [a.replace("{port}", str(port)) for a in servers[name]]
            procs[name] = (
                subprocess.Popen(
                    ["taskset", "-c", "0", *argv, "--quiet", "--no-log"],
                    cwd=tmp,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                ),
                port,
            )
            scheme = "https" if name.endswith("tls") else "http"
            wait_up(f"{scheme}://127.0.0.1:{port}{path}")
        ca = tmp / ".postmock" / "tls" / "ca.pem"
        ctx = ssl.create_default_context(cafile=str(ca))

        os.sched_setaffinity(0, {1})
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in procs}
        for _ in range(args.rounds):
            for name, (proc, port) in procs.items():
                use = ctx if name.endswith("tls") else None
                before = cpu_seconds(proc.pid)
                took = one_round("localhost", port, path, use, args.connections)
                used = cpu_seconds(proc.pid) - before
                results[name].append(
                    (took / args.connections * 1000, used / args.connections * 1e6)
                )
    finally:
        for proc, _ in procs.values():
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    print(f"{args.rounds} rounds of {args.connections} new connections, one GET each")
    print(f"{'server':<14} {'ms/conn':>8} {'server CPU us/conn':>19}")
    for name, rows in results.items():
        ms = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        print(f"{name:<14} {ms:>8.2f} {cpu:>19.0f}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
