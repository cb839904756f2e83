#!/usr/bin/env python3
"""How long the *first* call of each kind takes right after `postmock serve` says it listens.

    python benchmarks/first_call.py [--runs N] [--code DIR]

Test suites start a mock and call it at once: the first call must not pay for imports
or compiling. For each kind of call, a fresh server is started (its own process), the
script waits for the "listening" line, sends that one call and times it. The time from
process start to that answer is printed too (start-up budget: GitHub < 1 s). Stdlib only.
`--code DIR` runs the postmock of another checkout (e.g. main) for a before/after.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = Path(os.environ.get("POSTMOCK_CORPUS", ROOT.parent / "shared" / "corpus")) / "collections"
SAMPLE = ROOT / "sample_collections" / "petstore.postman_collection.json"
SAMPLE_ENV = ROOT / "sample_collections" / "petstore.postman_environment.json"

FORM = "application/x-www-form-urlencoded"
# (label, collection, extra serve args, method, path, headers, body)
CALLS: list[tuple[str, Path, list[str], str, str, dict[str, str], bytes]] = [
    ("static GET (GitHub)", CORPUS / "kevinswiber__postman2openapi__github.postman.json", [],
     "GET", "/emojis", {}, b""),
    ("miss (GitHub)", CORPUS / "kevinswiber__postman2openapi__github.postman.json", [],
     "GET", "/nothing/like/this", {}, b""),
    ("dynamic vars (sample)", SAMPLE, ["-e", str(SAMPLE_ENV)], "GET", "/v1/pets/7", {}, b""),
    ("JSON POST (sample)", SAMPLE, ["-e", str(SAMPLE_ENV)], "POST", "/v1/pets",
     {"Content-Type": "application/json"}, b'{"name": "Rex", "tag": "dog"}'),
    ("form POST (sample)", SAMPLE, ["-e", str(SAMPLE_ENV)], "POST", "/v1/pets",
     {"Content-Type": FORM}, b"name=Rex&tag=dog"),
    ("multipart POST (sample)", SAMPLE, ["-e", str(SAMPLE_ENV)], "POST", "/v1/pets",
     {"Content-Type": "multipart/form-data; boundary=b"},
     b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nRex\r\n--b--\r\n'),
    ("dynamic vars (PayPal)", CORPUS / "paypal__postman-collections__PayPal_Public_APIs.json",
     [], "GET", "/v1/catalogs/products/P-1", {}, b""),
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raw_call(port: int, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(head.encode() + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def once(code: Path | None, call: tuple) -> tuple[float, float, int]:
    """(ms for the first call, ms from process start to its answer, status)."""
    _label, collection, extra, method, path, headers, body = call
    port = free_port()
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "postmock", "serve", str(collection), "--port", str(port),
             "--no-reload", *extra],
            cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if "listening on" in line:
                    break
            else:
                raise SystemExit(
                    f"server did not start: {proc.stderr.read() if proc.stderr else ''}"
                )
            t0 = time.perf_counter()
            status = raw_call(port, method, path, headers, body)
            t1 = time.perf_counter()
        finally:
            proc.terminate()
            proc.wait(10)
    return (t1 - t0) * 1000, (t1 - started) * 1000, status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, help="a checkout whose postmock to run")
    args = parser.parse_args()
    print(
        f"{'first call':<24} {'status':>6} {'ms (median)':>12} {'runs':>24} {'start→answer ms':>16}"
    )
    for call in CALLS:
        results = [once(args.code, call) for _ in range(args.runs)]
        firsts = [r[0] for r in results]
        shown = ", ".join(f"{f:.1f}" for f in firsts)
        total = statistics.median(r[1] for r in results)
        print(
            f"{call[0]:<24} {results[0][2]:>6} {statistics.median(firsts):>12.1f} {shown:>24} "
            f"{total:>16.0f}"
        )


if __name__ == "__main__":
    main()
