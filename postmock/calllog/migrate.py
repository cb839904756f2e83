"""Upgrading a version-1 store (postmock 0.1: one row per call) to frames."""

from __future__ import annotations

import json
import sqlite3

from postmock.calllog.entry import SERVED_AT, Entry
from postmock.calllog.frames import encode_calls


def migrate_v1(conn: sqlite3.Connection, insert: str) -> None:
    """Move the calls of a version-1 store (one row per call) into frames."""
    rows = conn.execute(
        "SELECT id, served_at, method, path, query, request_headers, request_body, "
        "status_code, response_headers, response_body, response_type, response_name, "
        "duration_ms, delay_ms FROM calls ORDER BY seq"
    ).fetchall()
    for start in range(0, len(rows), 1000):
        entries: list[Entry] = [
            (
                *row[:5],
                _v1_headers(row[5]),
                row[6],
                row[7],
                _v1_headers(row[8]),
                *row[9:],
                None,
                "",
                None,
            )
            for row in rows[start : start + 1000]
        ]
        times = [e[SERVED_AT] for e in entries]
        upto = start + len(entries)
        conn.execute(insert, (min(times), max(times), len(entries), upto, 0,
                               encode_calls(entries)))  # fmt: skip
    conn.execute("DROP TABLE calls")


def _v1_headers(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in (json.loads(text) if text else ()))
