"""Fixtures of the proxy tests: see tests/proxy_helpers.py."""

from proxy_helpers import collection_file, started, upstream  # noqa: F401
