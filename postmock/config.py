"""The frozen configuration `postmock serve` runs with, and parsing of its option values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Every default, once: the CLI, the server, the call log, its writer process and
# `postmock logs` read them here.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"  # where `postmock logs` looks
DEFAULT_MAX_BODY = 1024 * 1024  # Postman's cloud mocks cap request bodies near 1 MB
DEFAULT_DELAY = "none"
NETWORK_DELAYS = {"none": 0, "2g": 300, "3g": 100}  # Postman's "Simulate network delay"
MAX_DELAY_MS = 180_000  # x-mock-response-delay's documented upper bound
DEFAULT_WORKERS = 1
# A connection must send a complete request head (and a body) within this many seconds,
# and an idle keep-alive connection is closed after it (slowloris); see server/timeouts.py
DEFAULT_REQUEST_TIMEOUT = 15.0
# The call log
DEFAULT_LOG_DB = Path(".postmock") / "calls.db"
DEFAULT_LOG_MAX = 10_000  # calls kept; older ones are forgotten
DEFAULT_BODY_CAP = 64 * 1024  # characters of a body kept in the log
DEFAULT_SEND_INTERVAL = 0.02  # seconds between frames to the writer process
DEFAULT_LOG_BUFFER = 64 * 1024 * 1024  # bytes of calls kept while the store cannot take them
DEFAULT_LOG_LOCK_WAIT = 3.0  # seconds start-up waits for a call-log store locked elsewhere
DEFAULT_TAIL_RING = 4096  # newest calls kept encoded for stream followers
# `postmock logs`
DEFAULT_LOGS_LIMIT = 50
# The `/__postmock/` API: its place, its page size, the error name of an unknown call id
# (`postmock logs` reads them too)
API_PREFIX = "/__postmock/"
MAX_PAGE = 100
CALL_NOT_FOUND = "callNotFoundError"
AMBIGUOUS_CALL_ID = "ambiguousCallIdError"  # 409: a part of an id that several calls share
# `serve --upstream` and `postmock record` (the proxy)
DEFAULT_UPSTREAM_TIMEOUT = 30.0  # seconds to connect, and between bytes of the answer
RECORD_WRITE_INTERVAL = 0.5  # seconds: recorded examples reach the file at most this late
RECORDED_FOLDER = "Recorded"  # where new requests go in a collection saved into
# HTTPS (`serve --tls`), the call-log page and metrics (#17)
DEFAULT_TLS_DIR = Path(".postmock") / "tls"  # the local CA and its server certificate
TLS_CA_DAYS = 825  # the local CA's lifetime; made again (and trusted again) after that
TLS_CERT_DAYS = 90  # the server certificate's; renewed silently from the CA
KEY_COOKIE = "postmock_key"  # the page's cookie holding the API key (path /__postmock/)
CALL_LINES = ("plain", "json")  # what `serve` prints per call when stdout is not a terminal
# Latency histogram buckets in seconds (served time, delays included)
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass(frozen=True)
class ServeConfig:
    """Everything `serve` needs; built by the CLI, never mutated."""

    collection: Path
    environment: Path | None = None
    globals_file: Path | None = None
    variables: tuple[tuple[str, str], ...] = ()
    host: str = DEFAULT_HOST
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
    log_db: Path | None = DEFAULT_LOG_DB
    log_max: int = DEFAULT_LOG_MAX
    log_body_cap: int = DEFAULT_BODY_CAP
    redact: tuple[str, ...] = ()
    workers: int = DEFAULT_WORKERS
    ready_file: Path | None = None  # written with the URL once serving, removed on stop
    print_url: bool = False  # print only the URL on stdout (everything else on stderr)
    # `--upstream`: unmatched calls go there (postmock.proxy); None: Postman's 404
    upstream: str | None = None
    upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT
    upstream_ca: Path | None = None
    upstream_insecure: bool = False
    # HTTPS: `tls` makes a local CA under `tls_dir`; `tls_cert`/`tls_key` serve a given pair
    tls: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_dir: Path = DEFAULT_TLS_DIR
    call_lines: str = "plain"  # one of CALL_LINES
    log_buffer: int = DEFAULT_LOG_BUFFER
    redact_bodies: bool = True
    server_token: str | None = None  # the start-up id in `server`; --workers share one
    # #13: robustness
    allowed_hosts: tuple[str, ...] = ()  # besides localhost and IPs, for /__postmock/
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT


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


def format_size(size: int) -> str:
    """The shortest of `2m`, `64k` or bytes for `size` (what `parse_size` reads back)."""
    for suffix, factor in (("m", 1024 * 1024), ("k", 1024)):
        if size and size % factor == 0:
            return f"{size // factor}{suffix}"
    return str(size)


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


# `postmock.testing` (MockServer, the pytest plugin): what differs from `serve` when a mock
# runs inside a test suite — any free port, no terminal output, no reload, calls kept in
# memory (no `.postmock/` in the working directory, no writer process).
EMBEDDED_DEFAULTS: dict[str, object] = {
    "port": 0,
    "quiet": True,
    "reload": False,
    "log_db": None,
}
EMBEDDED_START_TIMEOUT = 30.0  # seconds a MockServer may take to load and bind
EMBEDDED_NEAREST_SHOWN = 5  # calls an assertion message lists as the closest
