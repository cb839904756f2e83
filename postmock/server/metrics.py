"""`GET /__postmock/metrics`: calls, latency, call-log health and reloads for Prometheus.

The hot path pays one dict increment and one `bisect` per call (`Metrics.observe`, plain
ints, no locks: one event loop per process). Everything Prometheus wants — label sets,
cumulative buckets, the text format — is built by `prometheus_client` only when scraped,
and that library is imported then, not at start-up.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any, Final

from aiohttp import web

from postmock.calllog.log import CallLog
from postmock.config import API_PREFIX, LATENCY_BUCKETS
from postmock.server.access import allowed, encoded
from postmock.server.api import followers
from postmock.server.app import RUNTIME
from postmock.server.responses import json_error

#: Methods counted under their own name; any other (clients may send any token) is "OTHER",
#: so a scan with made-up methods cannot grow the label set without bound.
METHODS: Final = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
)
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """Counters of one process, cheap to bump; turned into Prometheus families on scrape."""

    __slots__ = ("bounds", "labels", "calls", "buckets", "total_ms", "reloads", "reload_failures")

    def __init__(self, bounds: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.bounds = tuple(b * 1000 for b in bounds)  # in ms, as calls are timed
        self.labels = (*(str(b) for b in bounds), "+Inf")
        self.calls: dict[tuple[str, int, str], int] = {}
        self.buckets = [0] * (len(self.bounds) + 1)  # the last one: above every bound
        self.total_ms = 0.0
        self.reloads = 0
        self.reload_failures = 0

    def observe(self, method: str, status: int, kind: str, took_ms: float) -> None:
        """Count one call (hot path: ~3.7k instructions under callgrind, call included)."""
        key = (method, status, kind)
        try:
            self.calls[key] += 1
        except KeyError:
            self._first(key)
        self.buckets[bisect_left(self.bounds, took_ms)] += 1
        self.total_ms += took_ms

    def _first(self, key: tuple[str, int, str]) -> None:
        """The first call of its kind; any method but the standard ones counts as OTHER."""
        if key[0] not in METHODS:
            key = ("OTHER", *key[1:])
        self.calls[key] = self.calls.get(key, 0) + 1

    def families(self, log: CallLog | None, followers: int = 0) -> Iterator[Any]:
        """The metric families, as `prometheus_client` collectors yield them."""
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        calls = CounterMetricFamily(
            "postmock_calls",
            "Calls answered, by method, status code, status class and response type.",
            labels=["method", "code", "status_class", "type"],
        )
        for (method, status, kind), count in sorted(self.calls.items()):
            calls.add_metric([method, str(status), f"{status // 100}xx", kind], count)
        yield calls
        cumulative, running = [], 0
        for bound, count in zip(self.labels, self.buckets, strict=True):
            running += count
            cumulative.append((bound, running))
        yield HistogramMetricFamily(
            "postmock_call_duration_seconds",
            "Time from request to answer, network delay included.",
            buckets=cumulative,
            sum_value=self.total_ms / 1000,
        )
        reloads = CounterMetricFamily(
            "postmock_reloads", "Reloads of the collection files.", labels=["result"]
        )
        reloads.add_metric(["ok"], self.reloads)
        reloads.add_metric(["failed"], self.reload_failures)
        yield reloads
        if log is None:
            return
        stats = log.stats()
        yield CounterMetricFamily(
            "postmock_log_written", "Calls stored in the call log.", value=stats.written
        )
        yield CounterMetricFamily(
            "postmock_log_dropped",
            "Calls the call log had to drop (writer behind or gone).",
            value=stats.dropped,
        )
        yield GaugeMetricFamily(
            "postmock_log_pending", "Calls waiting for the call-log writer.", value=stats.pending
        )
        yield GaugeMetricFamily(
            "postmock_log_healthy",
            "1 while the call log has reported no error.",
            value=0 if stats.last_error else 1,
        )
        yield GaugeMetricFamily(
            "postmock_live_followers", "Open live streams of the call log.", value=followers
        )


METRICS = web.AppKey("postmock_metrics", Metrics)
_LOG = web.AppKey("postmock_metrics_log", object)
_KEYS = web.AppKey("postmock_metrics_keys", tuple[bytes, ...])


def add_metrics_route(
    app: web.Application, log: CallLog | None, api_keys: Sequence[str] = ()
) -> Metrics:
    """Count every call of `app` and serve the counts at `/__postmock/metrics`."""
    metrics = Metrics()
    app[METRICS] = metrics
    app[_LOG] = log
    app[_KEYS] = encoded(api_keys)
    app[RUNTIME].observe = metrics.observe
    app.router.add_get(API_PREFIX + "metrics", scrape)
    return metrics


def note_reload(app: web.Application, ok: bool) -> None:
    """Count a reload (or a failed one) when `app` has metrics."""
    metrics = app.get(METRICS)
    if metrics is None:
        return
    if ok:
        metrics.reloads += 1
    else:
        metrics.reload_failures += 1


def exposition(metrics: Metrics, log: CallLog | None, followers: int = 0) -> bytes:
    """The Prometheus text format of `metrics`."""
    from prometheus_client import CollectorRegistry, generate_latest

    class _Collector:
        def collect(self) -> Iterator[Any]:
            return metrics.families(log, followers)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    return bytes(generate_latest(registry))


async def scrape(request: web.Request) -> web.Response:
    """`GET /__postmock/metrics`: Prometheus text format."""
    if not allowed(request.app[_KEYS], request):
        return json_error(
            401,
            "unauthorizedError",
            "These metrics are private: send the API key as x-api-key or a bearer token.",
        )[0]
    log = request.app[_LOG]
    body = exposition(
        request.app[METRICS], log if isinstance(log, CallLog) else None, followers(request.app)
    )
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


__all__ = ["METRICS", "Metrics", "add_metrics_route", "exposition", "note_reload"]
