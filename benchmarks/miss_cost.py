#!/usr/bin/env python3
"""CPU cost of a miss and of a near miss (document distance) on big collections.

    python benchmarks/miss_cost.py [--code DIR]

`--code DIR` imports postmock from another checkout (e.g. main) to compare. Times are
CPU time per call (`time.process_time`, the median of 7 rounds), which a shared machine
disturbs less than wall time. Collections: the synthetic 10,000-example one of
bench_matching.py and the corpus's GitHub collection (1,579 examples).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = Path(os.environ.get("POSTMOCK_CORPUS", HERE.parent.parent / "shared" / "corpus"))
GITHUB = CORPUS / "collections" / "kevinswiber__postman2openapi__github.postman.json"


def cpu_us(fn: Callable[[], object], rounds: int = 7, calls: int = 20) -> float:
    """Median CPU µs per call over `rounds` rounds of `calls` calls."""
    fn()
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(calls):
            fn()
        samples.append((time.process_time() - start) / calls * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", type=Path, help="a checkout whose postmock to import")
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, str(args.code.resolve()))
    sys.path.insert(1, str(HERE))
    from bench_matching import build

    import postmock
    from postmock.collection import collection_from_json, load_collection
    from postmock.matching import IncomingRequest, MatchIndex
    from postmock.templating.variables import VariableScope

    print(f"postmock from {Path(postmock.__file__).parent}")
    cases = {
        "synthetic 10,000": (
            collection_from_json(build(10_000)),
            {
                "miss": "/api/v9/nothing-like-this/at/all",
                "near miss (typo)": "/api/v3/orders9/sumary",
            },
        ),
        "GitHub 1,579": (
            load_collection(GITHUB),
            {
                "miss": "/nothing/like/this/at/all",
                "near miss (typo)": "/user/repoz",
            },
        ),
    }
    print(f"{'collection':<18} {'request':<18} {'CPU µs/call':>12}  answer")
    for name, (coll, targets) in cases.items():
        index = MatchIndex.compile(coll, VariableScope.build(coll))
        for label, target in targets.items():
            req = IncomingRequest.from_parts("GET", target)
            result = index.match(req)
            answer = getattr(result, "rule", "404")
            if hasattr(result, "example"):
                answer += f" {result.example.name!r}"
            cost = cpu_us(partial(index.match, req))
            print(f"{name:<18} {label:<18} {cost:>12,.0f}  {answer}")


if __name__ == "__main__":
    main()
