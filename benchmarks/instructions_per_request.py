#!/usr/bin/env python3
"""Instructions per request of postmock and of a bare aiohttp app, counted by callgrind.

    python benchmarks/instructions_per_request.py [--resources 200] [--seconds 8]
        [--probe static|pathvar] [--variant "--no-log --quiet"] [--keep]

Wall-clock figures on a shared VM swing by 2-3x (steal time); instruction counts do not.
Each server runs under `valgrind --tool=callgrind` with instrumentation switched on only
after start-up and a warm-up; wrk (32 connections) then loads each probe for a few
seconds and the script divides the instructions counted (all threads of the server
process and of its child processes, such as the call-log writer; user space only, the
kernel is not counted) by the number of requests wrk saw answered, and shows the
children's share on its own. Valgrind runs one thread at a time, much like the
benchmark's one pinned core.

`--keep` leaves the callgrind files (one per server and probe) for
`callgrind_annotate --inclusive=yes FILE`: where the instructions go, function by function.
Needs valgrind and wrk. Loopback only. Slow: about a minute per server.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAKE = (
    Path(os.environ.get("POSTMOCK_BENCH", HERE.parent.parent / "shared" / "bench"))
    / "make_collection.py"
)
sys.path.insert(0, str(HERE))
from cpu_per_request import ACCEPT, prepare  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def wrk(url: str, seconds: int) -> int:
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{seconds}s", "-H", ACCEPT, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]


def children(pid: int) -> list[int]:
    """The processes `pid` started (the call-log writer), from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def control(pids: list[int], *args: str) -> None:
    for pid in pids:
        subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def total_instructions(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {path}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--resources", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--probe", action="append", choices=("static", "pathvar"), default=[])
    ap.add_argument("--variant", action="append", default=[], help="more postmock options")
    ap.add_argument("--only", help="comma-separated server names to run")
    ap.add_argument("--keep", action="store_true", help="keep the callgrind files")
    ap.add_argument(
        "--slowdown",
        type=float,
        default=40,
        help="how much slower the server runs under valgrind (stretches the log's batching)",
    )
    args = ap.parse_args()

    tmp, probes, servers = prepare("postmock-ir-", args.resources, args.probe, args.variant)
    if args.only:
        servers = {k: v for k, v in servers.items() if k in args.only.split(",")}
    results: dict[tuple[str, str], float] = {}
    kids: dict[tuple[str, str], float] = {}
    for name, argv in servers.items():
        port = free_port()
        out = tmp / f"cg.{name.replace(' ', '_').replace('-', '')}"
        cmd = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--trace-children=yes",
            f"--callgrind-out-file={out}.%p",
            *[a.replace("{port}", str(port)) for a in argv],
        ]
        # Valgrind runs the server ~40x slower: the call log's 20 ms batches would hold 40x
        # fewer calls than at full speed, and their fixed cost would count 40x too much.
        env = {**os.environ, "POSTMOCK_SEND_INTERVAL": str(0.02 * args.slowdown)}
        proc = subprocess.Popen(
            cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_up(base + "/")
            time.sleep(2)  # let deferred start-up work (Faker warm-up) finish
            pids = [proc.pid, *children(proc.pid)]
            control(pids, "-i", "on")
            for probe, path in probes.items():
                wrk(base + path, 2)  # warm-up, instrumented: caches and the JIT of valgrind
                control(pids, "-z")
                count = wrk(base + path, args.seconds)
                time.sleep(1)  # the writer catches up with what the server sent
                control(pids, "-d", probe)
                counts = []
                for pid in pids:
                    dumps = sorted(tmp.glob(f"{out.name}.{pid}*"), key=os.path.getmtime)
                    counts.append(total_instructions(dumps[-1]) / count)
                    if args.keep:
                        dumps[-1].rename(tmp / f"{out.name}.{probe}.{pid}")
                results[probe, name] = sum(counts)
                kids[probe, name] = sum(counts[1:])
                print(
                    f"{probe:<8} {name:<22} {count:>7} requests "
                    f"{results[probe, name]:>12,.0f} instructions/request "
                    f"({kids[probe, name]:,.0f} in child processes)",
                    flush=True,
                )
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    print()
    print(f"{args.resources} resources; instructions per request (user space, all threads)")
    print(f"{'probe':<8} {'server':<22} {'total':>12}   {'children':>9}   limit/this")
    for probe in probes:
        limit = results.get((probe, "limit"))
        for name in servers:
            value = results[probe, name]
            ratio = f"{limit / value:.2f}" if limit else "-"
            print(f"{probe:<8} {name:<22} {value:>12,.0f}   {kids[probe, name]:>9,.0f}   {ratio}")
    if args.keep:
        print(f"callgrind files in {tmp}")


if __name__ == "__main__":
    main()
