#!/usr/bin/env python3
"""postmock inside a test suite: `import postmock`, MockServer start, first call, calls(), stop.

    python benchmarks/embedded.py [COLLECTION] [--runs N] [--env FILE]

Default: the bundled Pet Store sample and its environment. Each run starts a fresh
`MockServer` in this process (as one test after another would), answers one static
example (`/v1/health`) and one with dynamic variables (`/v1/pets/7`), reads `calls()`,
stops. Prints medians and 90th percentiles in milliseconds; import times come from fresh
interpreters. The first run of the process also pays for Faker's import (dynamic
variables): shown apart. Stdlib only besides postmock.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "sample_collections"


def ms(seconds: float) -> float:
    return seconds * 1000


def get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def import_time(statement: str, runs: int) -> list[float]:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        out.append(ms(float(done.stdout)))
    return out


def report(name: str, values: list[float]) -> None:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
    print(f"{name:<28} median {statistics.median(values):8.2f} ms   p90 {p90:8.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = SAMPLE / "petstore.postman_collection.json"
    parser.add_argument("collection", nargs="?", default=default)
    parser.add_argument("--env", default=SAMPLE / "petstore.postman_environment.json")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    report("import postmock", import_time("import postmock", max(5, args.runs // 3)))
    report(
        "from postmock import MockServer",
        import_time("from postmock import MockServer", max(5, args.runs // 3)),
    )
    from postmock import MockServer

    times: dict[str, list[float]] = {
        k: [] for k in ("start", "first call (static)", "first call (dynamic)", "calls()", "stop")
    }
    first_dynamic = 0.0
    for run in range(args.runs + 1):
        t0 = time.perf_counter()
        mock = MockServer(args.collection, environment=args.env).start()
        t1 = time.perf_counter()
        assert get(mock.port, "/v1/health") == 200
        t2 = time.perf_counter()
        assert get(mock.port, "/v1/pets/7") == 200
        t3 = time.perf_counter()
        assert len(mock.calls()) == 2
        t4 = time.perf_counter()
        mock.stop()
        t5 = time.perf_counter()
        if run == 0:
            first_dynamic = t3 - t2
            continue  # the first server of the process: imports, Faker
        for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            times[key].append(ms(value))
    print(f"{'first dynamic call, process':<28} {ms(first_dynamic):8.2f} ms (Faker's import)")
    for key, values in times.items():
        report(key, values)


if __name__ == "__main__":
    main()
