"""postmock inside test suites: `MockServer`, its call assertions, the pytest plugin, coverage.

`from postmock import MockServer` is the short way in (loaded on first use).
"""

from __future__ import annotations

from postmock.testing.server import MockServer, embedded_config

__all__ = ["MockServer", "embedded_config"]
