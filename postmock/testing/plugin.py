"""The pytest plugin (entry point `pytest11: postmock`): the `postmock_server` fixture.

`postmock_server(collection=None, *, strict=None, **options)` starts a `MockServer` for the
test and stops it at teardown. What it serves when called without a collection, and its
options, come from (first wins) the call, the test's `@pytest.mark.postmock(...)`, then
the ini options `postmock_collection`, `postmock_environment`, `postmock_strict`. With
`strict`, a call that matched no example fails the test, listing the engine's explanation.

The plugin is loaded in every pytest run where postmock is installed: it imports the
server only when the fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from postmock.testing.server import MockServer

MARKER = "postmock"
SERVERS = pytest.StashKey[list["MockServer"]]()
MockServerFactory = Callable[..., "MockServer"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "postmock_collection",
        "collection postmock_server() serves when called without one (relative to the ini file)",
        default="",
    )
    parser.addini(
        "postmock_environment", "environment file for postmock_server() (relative to the ini file)"
    )
    parser.addini(
        "postmock_strict",
        "fail a test when its postmock_server got a call no example matched",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(collection=None, **options): what postmock_server() serves in this test "
        "(MockServer's options: environment=, variables=, strict=, delay=, ...)",
    )


def _ini_defaults(config: pytest.Config) -> dict[str, Any]:
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    out: dict[str, Any] = {}
    for key in ("collection", "environment"):
        value = config.getini(f"postmock_{key}")
        if value:
            out[key] = base / Path(str(value))
    if config.getini("postmock_strict"):
        out["strict"] = True
    return out


def _marker_defaults(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return {}
    if len(marker.args) > 1:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes one collection, then options")
    out = dict(marker.kwargs)
    if marker.args:
        out["collection"] = marker.args[0]
    return out


@pytest.fixture
def postmock_server(request: pytest.FixtureRequest) -> Iterator[MockServerFactory]:
    """A factory: `postmock_server("collection.json", strict=True, ...)` → a running MockServer."""
    from postmock.testing.server import MockServer

    servers: list[MockServer] = []
    request.node.stash[SERVERS] = servers

    def factory(collection: str | Path | None = None, **options: Any) -> MockServer:
        settings = {**_ini_defaults(request.config), **_marker_defaults(request.node)}
        settings.update({k: v for k, v in options.items() if v is not None})
        if collection is not None:
            settings["collection"] = collection
        if "collection" not in settings:
            raise pytest.UsageError(
                "postmock_server() needs a collection: pass one, mark the test with "
                f"@pytest.mark.{MARKER}('file.json') or set the postmock_collection ini option"
            )
        server = MockServer(settings.pop("collection"), **settings).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a test passed: its strict servers' unmatched calls make it fail."""
    result = yield
    __tracebackhide__ = True
    for server in item.stash.get(SERVERS, []):
        if server.strict:
            server.assert_no_unmatched()
    return result
