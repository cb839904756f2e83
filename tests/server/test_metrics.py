"""/__postmock/metrics: Prometheus text that prometheus_client parses, with real counts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from serve_helpers import petstore, running

from postmock.server.metrics import Metrics, exposition


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_calls_by_method_status_and_type(tmp_path: Path) -> None:
    async with running(petstore(tmp_path)) as url, aiohttp.ClientSession() as session:
        for method, path in [("GET", "/v1/pets/7")] * 3 + [("GET", "/nope"), ("PROPFIND", "/pot")]:
            async with session.request(method, url + path) as resp:
                await resp.read()
        async with session.get(url + "/__postmock/metrics") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            got = samples(await resp.text())

    def calls(method: str, code: str, kind: str) -> float:
        labels = (("code", code), ("method", method), ("status_class", code[0] + "xx"))
        return got[("postmock_calls_total", (*labels, ("type", kind)))]

    assert calls("GET", "200", "example") == 3
    assert calls("GET", "404", "noMatch") == 1
    assert calls("OTHER", "404", "noMatch") == 1  # rarer methods share one label value
    assert got[("postmock_call_duration_seconds_count", ())] == 5
    assert got[("postmock_call_duration_seconds_bucket", (("le", "+Inf"),))] == 5
    assert got[("postmock_log_dropped_total", ())] == 0
    assert got[("postmock_log_healthy", ())] == 1
    assert got[("postmock_reloads_total", (("result", "ok"),))] == 0


def test_histogram_buckets_are_cumulative_and_bounded_inclusively() -> None:
    metrics = Metrics(bounds=(0.001, 0.01))
    for ms in (0.5, 1.0, 5.0, 50.0):
        metrics.observe("GET", 200, "example", ms)
    got = samples(exposition(metrics, None).decode())
    bucket = "postmock_call_duration_seconds_bucket"
    assert got[(bucket, (("le", "0.001"),))] == 2  # 1 ms is "le 0.001"
    assert got[(bucket, (("le", "0.01"),))] == 3
    assert got[(bucket, (("le", "+Inf"),))] == 4
    assert abs(got[("postmock_call_duration_seconds_sum", ())] - 0.0565) < 1e-9


async def test_metrics_count_without_a_call_log(tmp_path: Path) -> None:
    async with running(petstore(tmp_path, log_db=None)) as url:
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/v1/pets/7") as resp:
                await resp.read()
            async with session.get(url + "/__postmock/metrics") as resp:
                got = samples(await resp.text())
    assert got[("postmock_call_duration_seconds_count", ())] == 1
    assert ("postmock_log_dropped_total", ()) not in got


async def test_live_followers_are_the_open_streams(tmp_path: Path) -> None:
    async with running(petstore(tmp_path)) as url, aiohttp.ClientSession() as session:

        async def followers() -> tuple[float, int]:
            async with session.get(url + "/__postmock/metrics") as resp:
                metric = samples(await resp.text())[("postmock_live_followers", ())]
            async with session.get(url + "/__postmock/health") as resp:
                return metric, (await resp.json())["subscribers"]

        assert await followers() == (0, 0)
        async with session.get(url + "/__postmock/calls/stream") as stream:
            assert stream.status == 200
            for _ in range(200):  # the stream counts itself once its handler runs
                if await followers() == (1, 1):
                    break
                await asyncio.sleep(0.01)
            assert await followers() == (1, 1)
