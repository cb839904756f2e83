#!/usr/bin/env python3
"""Time from `postmock serve` process start to its first answer, and its memory then.

    python benchmarks/startup.py [COLLECTION] [--runs N] [-- extra serve options]

Default collection: the corpus's largest ($POSTMOCK_CORPUS or ../shared/corpus, GitHub v3,
1,579 examples). The first request is that collection's first example's path. Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
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
CORPUS = Path(os.environ.get("POSTMOCK_CORPUS", HERE.parent.parent / "shared" / "corpus"))
GITHUB = CORPUS / "collections" / "kevinswiber__postman2openapi__github.postman.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def once(collection: Path, extra: list[str]) -> tuple[float, float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "postmock",
                "serve",
                str(collection),
                "--port",
                str(port),
                "--no-reload",
                *extra,
            ],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/__first__", timeout=1).read()
                    break
                except urllib.error.HTTPError:
                    break  # an answer, even a 404, is an answer
                except OSError:
                    if proc.poll() is not None:
                        raise SystemExit(f"postmock exited with {proc.returncode}") from None
                    time.sleep(0.005)
            elapsed = time.monotonic() - start
            time.sleep(0.3)  # let the background warm-up (Faker) finish before reading memory
            return elapsed, rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("collection", nargs="?", type=Path, default=GITHUB)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("extra", nargs="*", help="extra serve options, after --")
    args = ap.parse_args()
    results = [once(args.collection, args.extra) for _ in range(args.runs)]
    times = [t for t, _ in results]
    report = {
        "collection": args.collection.name,
        "runs": args.runs,
        "first_answer_s": {
            "median": round(statistics.median(times), 3),
            "max": round(max(times), 3),
        },
        "rss_mb": round(max(r for _, r in results), 1),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
