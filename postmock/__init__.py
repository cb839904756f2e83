"""postmock: serve a Postman Collection as a local mock server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

if TYPE_CHECKING:
    from postmock.testing import MockServer


def __getattr__(name: str) -> Any:
    # The front door: `from postmock import MockServer` loads aiohttp and the server only
    # when asked, so `import postmock` (the CLI, the writer process) stays fast.
    if name == "MockServer":
        from postmock.testing import MockServer

        return MockServer
    raise AttributeError(f"module 'postmock' has no attribute {name!r}")


__all__ = ["MockServer", "__version__"]
