"""The frozen configuration `postmock serve` runs with, and parsing of its option values."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 3000
DEFAULT_MAX_BODY = 1024 * 1024  # Postman's cloud mocks cap request bodies near 1 MB
NETWORK_DELAYS = {"none": 0, "2g": 300, "3g": 100}  # Postman's "Simulate network delay"
MAX_DELAY_MS = 180_000  # x-mock-response-delay's documented upper bound


@dataclass(frozen=True)
class ServeConfig:
    """Everything `serve` needs; built by the CLI, never mutated."""

    collection: Path
    environment: Path | None = None
    globals_file: Path | None = None
    variables: tuple[tuple[str, str], ...] = ()
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    api_keys: tuple[str, ...] = ()
    delay_ms: int = 0
    match_body: bool = False
    match_headers: tuple[str, ...] = ()
    fuzzy: bool = True
    seed: int | None = None
    max_body_size: int = DEFAULT_MAX_BODY
    server_response: str | None = None
    cors: bool = True
    quiet: bool = False
    reload: bool = True
    log_db: Path | None = field(default_factory=lambda: Path(".postmock") / "calls.db")
    log_max: int = 10_000
    log_body_cap: int = 64 * 1024
    redact: tuple[str, ...] = ()
    workers: int = 1


def parse_delay(value: str) -> int:
    """`none`, `2g`, `3g` or a number of milliseconds -> milliseconds."""
    text = value.strip().lower()
    if text in NETWORK_DELAYS:
        return NETWORK_DELAYS[text]
    text = text.removesuffix("ms")
    if not text.isdigit():
        raise ValueError(f"expected none, 2g, 3g or milliseconds, got {value!r}")
    ms = int(text)
    if ms > MAX_DELAY_MS:
        raise ValueError(f"delay {ms} ms is over the {MAX_DELAY_MS} ms limit")
    return ms


def parse_size(value: str) -> int:
    """A byte count with an optional k/m suffix (`512k`, `2m`, `1048576`)."""
    text = value.strip().lower().removesuffix("b")
    factor = 1
    if text[-1:] in ("k", "m"):
        factor = 1024 if text[-1] == "k" else 1024 * 1024
        text = text[:-1]
    if not text.isdigit():
        raise ValueError(f"expected a size in bytes (e.g. 1048576, 512k, 2m), got {value!r}")
    return int(text) * factor
