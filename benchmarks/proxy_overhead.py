#!/usr/bin/env python3
"""What `serve --upstream` adds to a call: postmock forwarding vs calling the upstream directly.

    python benchmarks/proxy_overhead.py [--rounds 5] [--requests 2000]

An upstream (a bare aiohttp app with uvloop, one 1 KB JSON body at every path) and two
postmock servers in front of it (`--upstream`, call log on / `--no-log --quiet`) run
side by side; every path misses the collection, so each call is forwarded. A client on
one keep-alive connection sends `--requests` sequential GETs to each, in turn, for
several rounds; then wrk (-t1 -c32, CPU 1) loads each for `--seconds`. Reported per
target: the median over rounds of the p50 and p99 latency of the sequential calls, and
of CPU µs per request under wrk's load for the postmock process tree (server + call-log
writer) and for the upstream apart. The overhead is the difference to `direct`.
Latency on a shared VM is noisy: compare within one run. Needs wrk. Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cpu_per_request import cpu_seconds, free_port, wait_up, wrk  # noqa: E402

UPSTREAM = """
import sys, uvloop
from aiohttp import web
BODY = b'{"items": [' + b",".join(b'{"id": %d, "name": "item"}' % i for i in range(40)) + b"]}"
async def any_path(request):
    return web.Response(body=BODY, content_type="application/json")
app = web.Application()
app.router.add_route("*", "/{tail:.*}", any_path)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None,
            loop=uvloop.new_event_loop())
"""

COLLECTION = {
    "info": {
        "name": "bench",
        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    "item": [
        {
            "name": "one",
            "request": {"method": "GET", "url": "http://x/mocked"},
            "response": [{"name": "ok", "code": 200, "body": "{}"}],
        }
    ],
}


def latencies(port: int, n: int, path: str = "/api/items/42?limit=10") -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    out = []
    for _ in range(n):
        started = time.perf_counter()
        conn.request("GET", path, headers={"Accept": "application/json"})
        resp = conn.getresponse()
        resp.read()
        out.append((time.perf_counter() - started) * 1000)
        assert resp.status == 200, resp.status
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=3)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="postmock-proxy-bench-"))
    collection = tmp / "bench.json"
    collection.write_text(json.dumps(COLLECTION))
    up_port = free_port()
    procs = {"direct": subprocess.Popen([sys.executable, "-c", UPSTREAM, str(up_port)])}
    ports = {"direct": up_port}
    variants = {"postmock, log on": [], "postmock --no-log --quiet": ["--no-log", "--quiet"]}
    for name, extra in variants.items():
        port = free_port()
        cmd = [
            sys.executable, "-m", "postmock", "serve", str(collection), "--port", str(port),
            "--no-reload", "--upstream", f"http://127.0.0.1:{up_port}",
            "--log-db", str(tmp / f"{port}.db"), *extra,
        ]  # fmt: skip
        procs[name] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, cwd=tmp)
        ports[name] = port
    try:
        for port in ports.values():
            wait_up(f"http://127.0.0.1:{port}/")
        for port in ports.values():
            latencies(port, 300)  # warm-up: connections, caches, Faker loading
        p50: dict[str, list[float]] = {name: [] for name in ports}
        p99: dict[str, list[float]] = {name: [] for name in ports}
        cpu: dict[str, list[float]] = {name: [] for name in ports}
        up_cpu: dict[str, list[float]] = {name: [] for name in ports}
        up_pid = procs["direct"].pid
        for _ in range(args.rounds):
            for name, port in ports.items():
                times = sorted(latencies(port, args.requests))
                p50[name].append(times[len(times) // 2])
                p99[name].append(times[int(len(times) * 0.99)])
            for name, port in ports.items():
                before, up_before = cpu_seconds(procs[name].pid), cpu_seconds(up_pid)
                _rps, count, _ = wrk(f"http://127.0.0.1:{port}/api/items/42?limit=10", args.seconds)
                after, up_after = cpu_seconds(procs[name].pid), cpu_seconds(up_pid)
                cpu[name].append((after - before) * 1e6 / count)
                up_cpu[name].append((up_after - up_before) * 1e6 / count)
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(10)

    base = statistics.median(p50["direct"])
    print(
        f"{args.rounds} rounds x {args.requests} sequential keep-alive GETs (latency), "
        f"wrk -c32 {args.seconds} s (CPU), medians:"
    )
    print(
        f"{'target':28} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} "
        f"{'CPU us/req':>11} {'upstream us/req':>16}"
    )
    for name in ports:
        med = statistics.median(p50[name])
        own = statistics.median(cpu[name])
        print(
            f"{name:28} {med:8.3f} {statistics.median(p99[name]):8.3f} {med - base:+8.3f} "
            f"{own:11.0f} {statistics.median(up_cpu[name]):16.0f}"
        )
    print("(direct's CPU column is the upstream's own; postmock rows count postmock only)")


if __name__ == "__main__":
    main()
