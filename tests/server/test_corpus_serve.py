"""Every saved example of the shared corpus is served for its own request (POSTMOCK_CORPUS).

For each example, send its `originalRequest` (path with the host's path prefix, path
variables filled in, enabled query and headers, raw body) with `x-mock-response-code`,
and check the status and body. Run with
`POSTMOCK_CORPUS=/work/shared/corpus pytest -m corpus tests/test_corpus_serve.py`.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from multidict import CIMultiDict
from test_app import MockTestServer
from yarl import URL

from postmock.collection.model import Example, Request
from postmock.config import ServeConfig
from postmock.server.app import create_app
from postmock.server.state import MockState, load_state
from postmock.templating.variables import VARIABLE, VariableScope

pytestmark = pytest.mark.corpus

_ROOT = os.environ.get("POSTMOCK_CORPUS")
NO_BODY = frozenset({204, 304})
# aiohttp sets these itself, or they would change how the body is read.
SKIP_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "content-encoding",
        "expect",
        "x-mock-response-code",
        "x-mock-response-name",
        "x-mock-response-id",
        "x-mock-response-delay",
    }
)
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
SEGMENT_SAFE = "!$&'()*+,;=:@-._~%"  # keep what a path segment may hold, escapes included
QUERY_SAFE = "!$'()*+,;:@/?-._~%"


# Postman's algorithm scores a path by one rule for the whole path: once a path has any
# `:var`, a literal segment scores no better than another `:var`, so an earlier
# `/:org/.../:id` example ties with a later `/:org/.../downloads` one and wins (file order).
def _names() -> list[str]:
    folder = Path(_ROOT or "") / "collections"
    if not _ROOT or not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".json")


@dataclass(frozen=True)
class Call:
    """The HTTP request that replays an example's saved request."""

    method: str
    target: str  # encoded path and query
    headers: CIMultiDict[str]
    body: bytes


def path_of(request: Request, scope: VariableScope) -> str:
    """The request path: the host's own path prefix, then the segments, variables filled in."""
    url = request.url
    segments: list[str] = []
    host = SCHEME.sub("", scope.resolve(url.host))
    if "/" in host:
        segments += [s for s in host.split("/", 1)[1].split("/") if s]
    values = {v.key: v.value for v in url.variables}
    for raw in url.path:
        if raw.startswith(":") and len(raw) > 1:
            value = scope.resolve(values.get(raw[1:], "")) or "x"
        else:
            value = scope.resolve(raw)
            if raw and not value:
                continue  # a variable resolving to nothing leaves no segment
        value = VARIABLE.sub("x", value)  # an unresolved {{var}} segment is a wildcard
        segments += [quote(s, safe=SEGMENT_SAFE) for s in value.split("/")]
    return "/" + "/".join(segments)


def call_for(example: Example, scope: VariableScope) -> Call:
    request = example.request
    query = "&".join(
        quote(scope.resolve(q.key), safe=QUERY_SAFE)
        + ("=" + quote(scope.resolve(q.value), safe=QUERY_SAFE) if q.value else "")
        for q in request.url.query
        if not q.disabled and q.key
    )
    headers: CIMultiDict[str] = CIMultiDict()
    for h in request.headers:
        name, value = h.key.strip(), scope.resolve(h.value)
        if h.disabled or not TOKEN.fullmatch(name) or name.lower() in SKIP_HEADERS:
            continue
        if "\r" in value or "\n" in value or not value.isascii():
            continue
        headers.add(name, value)
    headers["x-mock-response-code"] = str(example.code)
    body = request.body.raw.encode() if request.body.mode == "raw" else b""
    path = path_of(request, scope)
    return Call(request.method.upper(), path + (f"?{query}" if query else ""), headers, body)


def body_pattern(example: Example, scope: VariableScope) -> re.Pattern[str]:
    """The example's body as a regex: literal text, any text where a template was."""
    text = scope.resolve(example.body or "")
    parts = re.split(r"\{\{.*?\}\}", text, flags=re.S)
    return re.compile(".*".join(re.escape(p) for p in parts), re.S)


def expected_empty(method: str, code: int) -> bool:
    return method == "HEAD" or code < 200 or code in NO_BODY


class Replay:
    """One served collection: sends an example's request, says what was wrong (or None)."""

    def __init__(self, state: MockState, client: TestClient[web.Request, web.Application]):
        self.state, self.client = state, client
        scope = state.scope
        self.calls = {ex.index: call_for(ex, scope) for ex in state.collection.examples}
        # Examples whose requests cannot be told apart (same item, or the same method and
        # path elsewhere) tie on one code: the first wins, so any of their bodies is right.
        self.same: dict[tuple[str, int], list[Example]] = defaultdict(list)
        for ex in state.collection.examples:
            self.same[ex.item_location, ex.code].append(ex)
            self.same[self._key(ex), ex.code].append(ex)

    def _key(self, ex: Example) -> str:
        call = self.calls[ex.index]
        return f"{call.method} {call.target.split('?')[0]}"

    async def check(self, ex: Example) -> str | None:
        call = self.calls[ex.index]
        resp = await self.client.request(
            call.method,
            URL(call.target, encoded=True),
            headers=call.headers,
            data=call.body or None,
            skip_auto_headers=["Content-Type"],
            allow_redirects=False,
        )
        text = (await resp.read()).decode("utf-8", "replace")
        where = f"{ex.location} {ex.name[:60]!r}: {call.method} {call.target}"
        if resp.status != ex.code:
            return f"{where}: status {resp.status}, expected {ex.code}: {text[:300]}"
        if expected_empty(call.method, ex.code):
            return f"{where}: body {text[:80]!r}, expected none" if text else None
        candidates = self.same[ex.item_location, ex.code] + self.same[self._key(ex), ex.code]
        if not any(body_pattern(c, self.state.scope).fullmatch(text) for c in candidates):
            return f"{where}: body {text[:120]!r} is no example's with code {ex.code}"
        return None


@pytest.fixture
async def replay(request: pytest.FixtureRequest, corpus_dir: Path, aiohttp_client: Any) -> Replay:
    path = corpus_dir / "collections" / request.param
    config = ServeConfig(collection=path, log_db=None, reload=False, quiet=True)
    state = load_state(config)
    return Replay(state, await aiohttp_client(MockTestServer(create_app(config, state))))


@pytest.mark.parametrize("replay", _names(), indirect=True)
async def test_every_example_is_served_for_its_own_request(replay: Replay) -> None:
    failures = []
    examples = replay.state.collection.examples
    for ex in examples:
        failure = await replay.check(ex)
        if failure:
            failures.append(failure)
    assert not failures, f"{len(failures)} of {len(examples)}:\n" + "\n".join(failures[:40])
