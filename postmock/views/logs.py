"""`postmock logs`: read calls from a running server's API or from a store file, once or live."""

from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.live import Live

from postmock.calllog.entry import plain_line
from postmock.calllog.filter import CallFilter
from postmock.calllog.record import CallRecord
from postmock.calllog.store import CallStore
from postmock.config import (
    AMBIGUOUS_CALL_ID,
    API_PREFIX,
    CALL_NOT_FOUND,
    DEFAULT_LOGS_LIMIT,
    DEFAULT_URL,
    MAX_PAGE,
)
from postmock.errors import LogStoreError
from postmock.views.render import call_detail, calls_table

REQUEST_TIMEOUT = 10.0
#: A stream sends a keep-alive line every 15 s; this much silence means the server is gone.
STREAM_TIMEOUT = 60.0


@dataclass(frozen=True)
class LogsOptions:
    """What `postmock logs` was asked for."""

    url: str = DEFAULT_URL
    db: Path | None = None
    follow: bool = False
    json: bool = False
    limit: int = DEFAULT_LOGS_LIMIT
    filter: CallFilter = field(default_factory=CallFilter)
    show: str | None = None
    api_key: str | None = None
    poll_interval: float = 0.5  # --db --follow: how often to look for new calls
    cacert: Path | None = None  # --cacert: trust this CA for an https:// --url
    all_servers: bool = False  # every server's calls, not only the one at --url


class Source(Protocol):
    """Where calls come from: a server or a store file."""

    def history(self, flt: CallFilter, limit: int) -> list[CallRecord]: ...
    def get(self, call_id: str) -> CallRecord | None: ...
    def follow(
        self, flt: CallFilter, limit: int, stop: threading.Event
    ) -> Iterator[CallRecord | str]: ...
    def close(self) -> None: ...


def filter_params(flt: CallFilter) -> dict[str, str]:
    """The API query parameters for a filter."""
    values: dict[str, object] = {
        "since": flt.since,
        "until": flt.until,
        "responseStatusCode": flt.status,
        "requestMethod": flt.method,
        "requestPath": flt.path,
        "responseName": flt.response_name,
        "responseType": flt.response_type,
        "search": flt.search,
    }
    return {k: str(v) for k, v in values.items() if v is not None}


class CallNotFound(LogStoreError):
    """The server does not know the call asked for."""


class HttpSource:
    """The `/__postmock/` API of a running server."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        cacert: Path | None = None,
        all_servers: bool = False,
    ) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.all_servers = all_servers
        self.context = None
        if cacert is not None:
            import ssl

            try:
                self.context = ssl.create_default_context(cafile=str(cacert))
            except (OSError, ssl.SSLError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc)
                message = f"--cacert {cacert}: not a readable PEM CA ({reason})"
                raise LogStoreError(message) from None

    def _open(self, path: str, params: dict[str, str], timeout: float) -> Any:
        if self.all_servers:
            params = {**params, "server": "all"}
        query = urllib.parse.urlencode(params)
        target = self.url + API_PREFIX + path + (f"?{query}" if query else "")
        request = urllib.request.Request(target, headers={"Accept": "application/json"})
        if self.api_key:
            request.add_header("x-api-key", self.api_key)
        try:
            return urllib.request.urlopen(request, timeout=timeout, context=self.context)
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc, path) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ConnectionRefusedError):
                raise LogStoreError(
                    f"cannot reach postmock at {self.url}: connection refused"
                    " — is `postmock serve` running?"
                ) from None
            raise LogStoreError(f"cannot reach postmock at {self.url}: {reason}") from None

    def _http_error(self, exc: urllib.error.HTTPError, path: str) -> LogStoreError:
        try:
            error = json.loads(exc.read())["error"]
            name, message = str(error["name"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            name, message = "", str(exc.reason)
        finally:
            exc.close()
        if exc.code == 401:
            return LogStoreError(f"postmock at {self.url} wants an API key: {message} (--api-key)")
        if exc.code == 409 and name == AMBIGUOUS_CALL_ID:
            return LogStoreError(message)
        if exc.code == 404 and name == CALL_NOT_FOUND:
            return CallNotFound(message)
        if exc.code == 404:
            return LogStoreError(f"{self.url} has no postmock call-log API (is logging on?)")
        return LogStoreError(f"postmock at {self.url} answered {exc.code}: {message}")

    def _json(self, path: str, params: dict[str, str]) -> Any:
        with self._open(path, params, REQUEST_TIMEOUT) as resp:
            try:
                return json.loads(resp.read())
            except ValueError:
                raise LogStoreError(f"{self.url} is not a postmock server") from None

    def history(self, flt: CallFilter, limit: int) -> list[CallRecord]:
        """The newest `limit` matching calls, oldest first."""
        newest_first: list[CallRecord] = []
        cursor: str | None = None
        while len(newest_first) < limit:
            params = filter_params(flt)
            params["limit"] = str(min(MAX_PAGE, limit - len(newest_first)))
            if cursor:
                params["cursor"] = cursor
            page = self._json("calls", params)
            try:
                newest_first += [CallRecord.from_json(item) for item in page["calls"]]
                cursor = page["meta"]["nextCursor"]
            except (KeyError, TypeError, ValueError):
                raise LogStoreError(f"{self.url} is not a postmock server") from None
            if not cursor:
                break
        return newest_first[::-1]

    def get(self, call_id: str) -> CallRecord | None:
        """One call, or None when the server does not know it."""
        try:
            data = self._json("calls/" + urllib.parse.quote(call_id, safe=""), {})
        except CallNotFound:
            return None
        try:
            return CallRecord.from_json(data["call"])
        except (KeyError, TypeError, ValueError):
            raise LogStoreError(f"{self.url} is not a postmock server") from None

    def follow(
        self, flt: CallFilter, limit: int, stop: threading.Event
    ) -> Iterator[CallRecord | str]:
        """The newest `limit` calls, then every new one, in order and without gaps (the
        server's stream catches up from its store); a notice line when calls were skipped.
        Ends when the server says it stopped; LogStoreError when the stream breaks."""
        params = {**filter_params(flt), "tail": str(limit)}
        stream = self._open("calls/stream", params, STREAM_TIMEOUT)
        with stream:
            while not stop.is_set():
                try:
                    line = stream.readline()
                except TimeoutError:
                    raise LogStoreError(f"postmock at {self.url} stopped answering") from None
                except OSError as exc:
                    raise LogStoreError(f"lost postmock at {self.url}: {exc}") from None
                if not line:
                    raise LogStoreError(
                        f"lost the call stream of postmock at {self.url} (the server is gone)"
                    )
                if not line.strip():
                    continue  # keep-alive
                try:
                    data = json.loads(line)
                    event = data.get("event")
                    if event == "end":
                        return
                    if event == "skipped":
                        yield f"… {data.get('count')} calls skipped: {data.get('reason')}"
                        continue
                    yield CallRecord.from_json(data)
                except (ValueError, AttributeError):
                    raise LogStoreError(f"{self.url} sent something that is not a call") from None

    def close(self) -> None:
        """Nothing to release."""


class DbSource:
    """A store file, read-only (the server may still be writing to it)."""

    def __init__(self, path: Path, poll_interval: float = 0.5) -> None:
        self.store = CallStore.open_readonly(path)
        self.poll_interval = poll_interval

    def history(self, flt: CallFilter, limit: int) -> list[CallRecord]:
        """The newest `limit` matching calls, oldest first."""
        records, _cursor = self.store.select(flt, limit=limit, direction="desc")
        return records[::-1]

    def get(self, call_id: str) -> CallRecord | None:
        """One call by id or a unique part of it (AmbiguousCallId when several)."""
        return self.store.lookup(call_id)

    def follow(
        self, flt: CallFilter, limit: int, stop: threading.Event
    ) -> Iterator[CallRecord | str]:
        """The newest `limit` calls, then new calls as they are stored (by call number, no
        gaps), until `stop` is set; a notice line when calls were skipped."""
        top, _cut = self.store.top()
        yield from self.store.newest(flt, limit, top)
        cursor = top
        while not stop.wait(self.poll_interval):
            while True:
                records, cursor_after, skipped = self.store.calls_after(cursor, flt)
                if skipped:
                    yield f"… {skipped} calls skipped: no longer in the store (retention)"
                yield from records
                if cursor_after == cursor:
                    break
                cursor = cursor_after

    def close(self) -> None:
        """Close the file."""
        self.store.close()


def open_source(options: LogsOptions) -> Source:
    """The store file when `--db` was given, else the server at `--url`."""
    if options.db is not None:
        return DbSource(options.db, options.poll_interval)
    return HttpSource(options.url, options.api_key, options.cacert, options.all_servers)


class _Output:
    """Writes calls as NDJSON, plain lines or Rich, depending on options and the console."""

    def __init__(self, console: Console, as_json: bool) -> None:
        self.console = console
        self.as_json = as_json

    def line(self, record: CallRecord) -> None:
        if self.as_json:
            self.console.file.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
        else:
            self.console.print(plain_line(record), markup=False, highlight=False, soft_wrap=True)
        self.console.file.flush()

    def notice(self, text: str) -> None:
        """A line about the stream itself (skipped calls): stderr, so NDJSON stays clean."""
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    @property
    def rich(self) -> bool:
        return not self.as_json and self.console.is_terminal


def run_logs(options: LogsOptions, console: Console, stop: threading.Event | None = None) -> None:
    """Show calls as asked; LogStoreError when the source cannot be read.

    With `follow`, returns when the server closes its stream or `stop` is set (Ctrl-C raises
    KeyboardInterrupt through here, for the CLI to turn into a quiet exit).
    """
    out = _Output(console, options.json)
    source = open_source(options)
    try:
        if options.show is not None:
            record = source.get(options.show)
            if record is None:
                raise LogStoreError(f"no call with id {options.show!r} in the log")
            if options.json:
                out.line(record)
            else:
                console.print(call_detail(record))
        elif options.follow:
            records = source.follow(options.filter, options.limit, stop or threading.Event())
            if out.rich:
                _follow_live(console, records, options.limit)
            else:
                for item in records:
                    if isinstance(item, str):
                        out.notice(item)
                    else:
                        out.line(item)
        else:
            history = source.history(options.filter, options.limit)
            if not out.rich:
                for record in history:
                    out.line(record)
            elif history:
                title = f"Last {len(history)} calls"
                console.print(calls_table(history, title=title, width=console.width))
            else:
                console.print("[dim]No calls recorded yet.[/]")
    finally:
        source.close()


#: Lines of the screen the live table needs besides its rows (title, header, borders).
TABLE_CHROME = 7


def _follow_live(console: Console, records: Iterator[CallRecord | str], size: int) -> None:
    # No more rows than the screen holds: the newest call is always the bottom row.
    rows: deque[CallRecord] = deque(maxlen=max(1, min(size, console.height - TABLE_CHROME)))
    skipped: list[str] = []

    def table() -> Any:
        note = f" — {skipped[-1]}" if skipped else ""
        title = f"Last {len(rows)} calls — following (Ctrl-C to stop){note}"
        return calls_table(rows, title=title, width=console.width)

    with Live(table(), console=console, auto_refresh=False, redirect_stderr=False) as live:
        for record in records:
            if isinstance(record, str):
                skipped.append(record)
            else:
                rows.append(record)
            live.update(table(), refresh=True)


__all__ = ["DbSource", "HttpSource", "LogsOptions", "open_source", "run_logs"]
