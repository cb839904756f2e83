"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]  # tests/testing run generated test modules through the plugin


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared corpus of real collections (POSTMOCK_CORPUS); skips when unset."""
    value = os.environ.get("POSTMOCK_CORPUS")
    if not value:
        pytest.skip("POSTMOCK_CORPUS is not set")
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"POSTMOCK_CORPUS={value} is not a directory")
    return path
