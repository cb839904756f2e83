#!/usr/bin/env python3
"""CPU time per request of postmock against a bare aiohttp app, in interleaved rounds.

    python benchmarks/cpu_per_request.py [--resources 200] [--rounds 5] [--seconds 3]

Requests/s on a shared 2-core VM swing by 2-3x from one minute to the next (steal time),
so a single wrk run says little. This script keeps every server running side by side
(pinned to CPU 0, wrk on CPU 1), hits them in turn for several rounds, and reports for
each the median requests/s and the median CPU microseconds per request (utime + stime
of the server process and its threads, from /proc). The ratio of CPU per request is the
steadier figure: it is what bounds throughput on one core.

Servers: `limit` (a bare aiohttp app with uvloop answering one constant body: the ceiling
for anything built on aiohttp), `postmock` (defaults: call log and plain call lines on),
`postmock-nolog` (`--no-log --quiet`). Needs wrk and taskset. Loopback only.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAKE = (
    Path(os.environ.get("POSTMOCK_BENCH", HERE.parent.parent / "shared" / "bench"))
    / "make_collection.py"
)
TICK = os.sysconf("SC_CLK_TCK")

LIMIT_APP = """
import sys
from aiohttp import web
try:
    import uvloop; uvloop.install()
except ImportError:
    pass
BODY = open(sys.argv[2], "rb").read()
async def handle(request):
    return web.Response(body=BODY, content_type="application/json")
app = web.Application()
app.router.add_route("*", "/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime, all threads


def wait_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server at {url} did not start")


def wrk(url: str, seconds: int) -> tuple[float, int]:
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rps, count


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--resources", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument(
        "--variant", action="append", default=[], help="more postmock options to compare"
    )
    ap.add_argument("--path", help="request path (default: the pathvar probe of the last resource)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="postmock-cpu-"))
    collection = tmp / "collection.json"
    subprocess.run([sys.executable, str(MAKE), str(args.resources), str(collection)], check=True)
    path = args.path or f"/api/v1/r{args.resources - 1}/items/42"
    (tmp / "limit.py").write_text(LIMIT_APP)
    (tmp / "body.json").write_text('{"id": 0, "name": "item 0"}')
    pm = [sys.executable, "-m", "postmock", "serve", str(collection), "--no-reload", "--port"]
    servers = {
        "limit": [sys.executable, str(tmp / "limit.py"), "{port}", str(tmp / "body.json")],
        "postmock": [*pm, "{port}"],
        "postmock-nolog": [*pm, "{port}", "--no-log", "--quiet"],
    }
    for extra in args.variant:  # e.g. --variant "--quiet" --variant "--no-log"
        servers[f"postmock {extra}"] = [*pm, "{port}", *extra.split()]
    procs: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    try:
        for name, argv in servers.items():
            port = free_port()
            cmd = ["taskset", "-c", "0", *[a.replace("{port}", str(port)) for a in argv]]
            proc = subprocess.Popen(
                cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            url = f"http://127.0.0.1:{port}{path}"
            wait_up(url)
            wrk(url, 1)  # warm-up
            procs[name] = (proc, url)
        rows: dict[str, list[tuple[float, float]]] = {name: [] for name in procs}
        for _ in range(args.rounds):
            for name, (proc, url) in procs.items():
                before = cpu_seconds(proc.pid)
                rps, count = wrk(url, args.seconds)
                used = cpu_seconds(proc.pid) - before
                rows[name].append((rps, used / count * 1e6))
    finally:
        for proc, _ in procs.values():
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    print(f"{args.resources} resources, {path}, {args.rounds} rounds of {args.seconds}s, wrk -c32")
    head = ("server", "median rps", "median CPU us/req", "rps/limit", "limit/CPU")
    print(f"{head[0]:<16} {head[1]:>10} {head[2]:>18} {head[3]:>10} {head[4]:>10}")
    limit_rps = statistics.median(r for r, _ in rows["limit"])
    limit_cpu = statistics.median(c for _, c in rows["limit"])
    for name, samples in rows.items():
        rps = statistics.median(r for r, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        ratio_rps, ratio_cpu = rps / limit_rps, limit_cpu / cpu
        print(f"{name:<16} {rps:>10.0f} {cpu:>18.1f} {ratio_rps:>10.2f} {ratio_cpu:>10.2f}")


if __name__ == "__main__":
    main()
