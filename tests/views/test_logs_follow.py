"""`logs --follow` in table mode keeps the newest call on screen."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

import postmock.views.logs as logs_view
from postmock.calllog.record import CallRecord


def test_the_follow_table_never_holds_more_rows_than_the_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown: list[list[str]] = []
    real = logs_view.calls_table

    def spy(rows: Any, **options: Any) -> Any:
        shown.append([r.path for r in rows])
        return real(rows, **options)

    monkeypatch.setattr(logs_view, "calls_table", spy)
    console = Console(file=io.StringIO(), force_terminal=True, width=120, height=15)
    records = [CallRecord.create(method="GET", path=f"/{i}") for i in range(30)]
    items: list[CallRecord | str] = [*records[:20], "… 3 calls skipped: dropped", *records[20:]]
    logs_view._follow_live(console, iter(items), 50)  # -n 50 on a 15-line screen
    room = 15 - logs_view.TABLE_CHROME
    assert shown[-1] == [f"/{i}" for i in range(30 - room, 30)]  # the newest, last at the bottom
    assert "skipped" in console.file.getvalue()  # type: ignore[attr-defined]
