#!/usr/bin/env python3
"""Instructions the metrics add to one call: `Metrics.observe` under callgrind.

    python benchmarks/metrics_cost.py [--calls 100000]

Counts a loop of N and of 2N calls to `observe` and a loop of N and 2N doing nothing but
the loop, under `valgrind --tool=callgrind` (noise-free), and prints the difference per
call: what the hot path pays for `/__postmock/metrics`, the call of the bound method
included. Compare with `instructions_per_request.py`'s ~210-290k per request. Needs valgrind.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

LOOP = """
import sys
from postmock.server.metrics import Metrics
observe = Metrics().observe
methods = ("GET", "POST", "GET", "DELETE")
if sys.argv[1] == "observe":
    for i in range(int(sys.argv[2])):
        observe(methods[i & 3], 200, "example", 0.7)
else:
    for i in range(int(sys.argv[2])):
        methods[i & 3]
"""


def instructions(script: Path, mode: str, n: int) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, str(script), mode, str(n)],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    return int(re.search(r"Collected : (\d+)", out).group(1))  # type: ignore[union-attr]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=100_000)
    n = ap.parse_args().calls
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "loop.py"
        script.write_text(LOOP)
        per = {
            mode: (instructions(script, mode, 2 * n) - instructions(script, mode, n)) / n
            for mode in ("empty", "observe")
        }
    print(f"loop alone {per['empty']:,.0f}, with observe {per['observe']:,.0f} instructions")
    print(f"metrics cost per call: {per['observe'] - per['empty']:,.0f} instructions")


if __name__ == "__main__":
    main()
