#!/usr/bin/env python3
"""CPU time per request of postmock against a bare aiohttp app, in interleaved rounds.

    python benchmarks/cpu_per_request.py [--resources 200] [--rounds 5] [--seconds 3]

Requests/s on a shared 2-core VM swing by 2-3x from one minute to the next (steal time),
so a single wrk run says little. This script keeps every server running side by side
(pinned to CPU 0, wrk on CPU 1), hits them in turn for several rounds, and reports for
each the median requests/s and the median CPU microseconds per request (utime + stime
of the server process, its threads and its child processes, from /proc). The ratio of
CPU per request is the steadier figure: it is what bounds throughput on one core.

Servers: `limit` (a bare aiohttp app with uvloop answering one constant body: the ceiling
for anything built on aiohttp), `postmock` (defaults: call log and plain call lines on),
`postmock-nolog` (`--no-log --quiet`); with `--tls`, `postmock-tls` (`--tls`: HTTPS with
the local CA, keep-alive connections as wrk makes them: the handshake once per connection,
see `tls_handshake.py` for its cost). Needs wrk (built with TLS for `--tls`) and taskset.
Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import ssl
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
ACCEPT = "Accept: application/json"  # what compare.py's probes send

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
    """utime + stime of `pid` and its descendants (the call-log writer), all threads."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass  # gone meanwhile
    return total


def wait_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    unverified = ssl._create_unverified_context()  # the local CA: the bench only needs bytes
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1, context=unverified).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server at {url} did not start")


def wrk(url: str, seconds: int) -> tuple[float, int, float]:
    """Run wrk on CPU 1; return requests/s, the request count and p99 latency in ms."""
    out = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t1",
            "-c32",
            f"-d{seconds}s",
            "--latency",
            "-H",
            ACCEPT,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return rps, count, float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")


def prepare(
    prefix: str, resources: int, probe_names: list[str], variants: list[str], tls: bool = False
) -> tuple[Path, dict[str, str], dict[str, list[str]]]:
    """Write the collection and limit's files; return (folder, probes, server commands)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    collection = tmp / "collection.json"
    subprocess.run([sys.executable, str(MAKE), str(resources), str(collection)], check=True)
    last = resources - 1
    probes = {  # the probes of shared/bench/compare.py
        "static": f"/api/v1/r{last}/items?limit=10",
        "pathvar": f"/api/v1/r{last}/items/42",
    }
    probes = {name: probes[name] for name in probe_names or probes}
    # limit answers with the static probe's body, as in compare.py.
    items = json.loads(collection.read_text())["item"][-1]["item"]
    (tmp / "body.json").write_text(items[0]["response"][0]["body"])
    (tmp / "limit.py").write_text(LIMIT_APP)
    pm = [sys.executable, "-m", "postmock", "serve", str(collection), "--no-reload", "--port"]
    servers = {
        "limit": [sys.executable, str(tmp / "limit.py"), "{port}", str(tmp / "body.json")],
        "postmock": [*pm, "{port}"],
        "postmock-nolog": [*pm, "{port}", "--no-log", "--quiet"],
    }
    if tls:
        servers["postmock-tls"] = [*pm, "{port}", "--tls"]
    for extra in variants:  # e.g. --variant "--quiet" --variant "--no-log"
        servers[f"postmock {extra}"] = [*pm, "{port}", *extra.split()]
    return tmp, probes, servers


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
    ap.add_argument("--probe", action="append", choices=("static", "pathvar"), default=[])
    ap.add_argument("--tls", action="store_true", help="also postmock --tls (HTTPS)")
    args = ap.parse_args()

    tmp, probes, servers = prepare(
        "postmock-cpu-", args.resources, args.probe, args.variant, args.tls
    )
    procs: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    try:
        for name, argv in servers.items():
            port = free_port()
            cmd = ["taskset", "-c", "0", *[a.replace("{port}", str(port)) for a in argv]]
            proc = subprocess.Popen(
                cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            scheme = "https" if "--tls" in argv else "http"
            base = f"{scheme}://127.0.0.1:{port}"
            wait_up(base + next(iter(probes.values())))
            for path in probes.values():
                wrk(base + path, 1)  # warm-up
            procs[name] = (proc, base)
        rows: dict[tuple[str, str], list[tuple[float, float, float]]] = {
            (probe, name): [] for probe in probes for name in procs
        }
        for _ in range(args.rounds):
            for probe, path in probes.items():
                for name, (proc, base) in procs.items():
                    before = cpu_seconds(proc.pid)
                    rps, count, p99 = wrk(base + path, args.seconds)
                    used = cpu_seconds(proc.pid) - before
                    rows[probe, name].append((rps, used / count * 1e6, p99))
    finally:
        for proc, _ in procs.values():
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    print(f"{args.resources} resources, {args.rounds} rounds of {args.seconds}s, wrk -c32")
    head = ("probe", "server", "median rps", "CPU us/req", "p99 ms", "rps/limit", "limit/CPU")
    widths = (8, 16, 10, 10, 7, 9, 9)
    print(
        " ".join(
            f"{h:<{w}}" if n < 2 else f"{h:>{w}}"
            for n, (h, w) in enumerate(zip(head, widths, strict=True))
        )
    )
    for probe in probes:
        limit_rps = statistics.median(r for r, _, _ in rows[probe, "limit"])
        limit_cpu = statistics.median(c for _, c, _ in rows[probe, "limit"])
        for name in procs:
            samples = rows[probe, name]
            rps = statistics.median(r for r, _, _ in samples)
            cpu = statistics.median(c for _, c, _ in samples)
            p99 = statistics.median(p for _, _, p in samples)
            print(
                f"{probe:<8} {name:<16} {rps:>10.0f} {cpu:>10.1f} {p99:>7.2f}"
                f" {rps / limit_rps:>9.2f} {limit_cpu / cpu:>9.2f}"
            )


if __name__ == "__main__":
    main()
