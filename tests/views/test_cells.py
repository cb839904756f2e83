"""Cells of a call row: middle cuts, one line per call, request labels, misses and errors."""

from __future__ import annotations

import io

import pytest
from calllog_helpers import record
from rich.cells import cell_len
from rich.console import Console

from postmock.calllog.ids import short_id
from postmock.calllog.record import NO_MATCH
from postmock.views.cells import ReasonCut, label_cut, middle_cut, response_cell
from postmock.views.render import calls_table

LONG = "/repos/octocat/hello-world/pulls/1347/comments/98765/reactions?per_page=100&page=3"


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        pytest.param("/a/b", 10, "/a/b", id="fits"),
        pytest.param("/abcdefghij", 11, "/abcdefghij", id="exact"),
        pytest.param("/abcdefghijkl", 9, "/abc…ijkl", id="both-ends"),
        pytest.param("/abcdefghijkl", 5, "/abc…", id="narrow-keeps-start"),
        pytest.param("Pets\n› Get", 20, "Pets › Get", id="newline-flattened"),
        pytest.param("abc", 0, "", id="no-room"),
    ],
)
def test_middle_cut(text: str, width: int, expected: str) -> None:
    assert middle_cut(text, width) == expected
    assert len(middle_cut(text, width)) <= max(width, 0)


@pytest.mark.parametrize("width", [80, 120, 200])
def test_long_path_is_one_row_cut_in_the_middle(width: int) -> None:
    rows = [
        record(path=LONG.split("?")[0], query=LONG.split("?")[1], response_name="response",
               request_name="pulls › List reactions for a pull request review comment"),
        record(path="/short", response_name="ok", request_name="misc › Short"),
    ]  # fmt: skip
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(calls_table(rows, width=width))
    lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
    body = [line for line in lines if "GET" in line]
    assert len(body) == 2, buffer.getvalue()  # one line per call, whatever the width
    long_row = body[0]
    if width < 200:
        assert "…" in long_row
        assert "/repos/" in long_row  # the start…
        assert "page=3" in long_row  # …and the end of the path are both kept
    assert short_id(rows[0].id) in long_row
    assert "/short" in body[1]


def test_rows_name_the_request_and_the_example() -> None:
    rows = [record(path="/repos/a/b", response_name="response", request_name="repos › Get a repo")]
    buffer = io.StringIO()
    Console(file=buffer, width=140, color_system=None).print(calls_table(rows, width=140))
    assert "repos › Get a repo" in buffer.getvalue()
    assert "response" in buffer.getvalue()


def test_miss_and_error_rows_say_why() -> None:
    miss = record(status_code=404, response_type="noMatch", response_name=None,
                  detail="nearest: Pets › Get pet · path differs")  # fmt: skip
    bare_miss = record(status_code=404, response_type="noMatch", response_name=None)
    error = record(status_code=400, response_type="error", response_name=None,
                   detail="bad x-mock-response-delay")  # fmt: skip
    assert str(response_cell(miss)) == "nearest: Pets › Get pet · path differs"  # 404: no match
    assert str(response_cell(bare_miss)) == NO_MATCH
    assert str(response_cell(error)) == "bad x-mock-response-delay"
    assert response_cell(error).style == "red"
    buffer = io.StringIO()
    Console(file=buffer, width=160, color_system=None).print(calls_table([miss, error], width=160))
    assert "nearest: Pets › Get pet · path differs" in buffer.getvalue()
    assert "bad x-mock-response-delay" in buffer.getvalue()


@pytest.mark.parametrize(
    ("label", "width", "expected"),
    [
        pytest.param("pulls › Get a pull request", 40, "pulls › Get a pull request", id="fits"),
        pytest.param(
            "actions › Get workflow usage", 25, "act… › Get workflow usage", id="folder-first"
        ),
        pytest.param("misc › Get rate limit status", 12, "Get rate li…", id="then-name-end"),
    ],
)
def test_label_cut_keeps_the_request_name(label: str, width: int, expected: str) -> None:
    assert label_cut(label, width) == expected
    assert len(label_cut(label, width)) <= width


def test_miss_reason_keeps_the_stage_whole() -> None:
    cell = ReasonCut("nearest: emojis › Get emojis · method differs")
    assert cell.cut(46) == "nearest: emojis › Get emojis · method differs"
    assert cell.cut(43) == "nearest: emo… › Get emojis · method differs"
    assert cell.cut(37) == "nearest: Get emojis · method differs"
    assert cell.cut(34) == "nearest: Get emo… · method differs"
    assert cell.cut(28) == "Get emojis · method differs"  # narrow: the 404 says it missed
    assert cell.cut(26) == "Get emoj… · method differs"
    assert cell.cut(20) == "Get emojis · method"
    assert cell.cut(12) == middle_cut(cell.text, 12)  # too narrow to keep the reason whole


@pytest.mark.parametrize("width", [8, 9, 12, 15])
def test_wide_characters_are_counted_in_cells(width: int) -> None:
    text = "/店舗/注文一覧/東京都/新宿区"  # two cells per character but the slashes
    cut = middle_cut(text, width)
    assert cell_len(cut) <= width
    assert cut.startswith("/店") and cut.endswith("区") and "…" in cut
    label = label_cut("店舗 › 注文一覧を取得する", width)
    assert cell_len(label) <= width
