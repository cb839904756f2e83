"""Short call ids: what tables show, and finding a call from any unique part of its id —
in a store file, through the API of a running server, and from `postmock logs --show`."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from calllog_helpers import make_app, record
from click.testing import CliRunner

from postmock.calllog.entry import entry_from_record
from postmock.calllog.ids import AmbiguousCallId, check_part, short_id
from postmock.calllog.log import CallLog
from postmock.calllog.record import CallRecord, new_call_id
from postmock.calllog.store import CallStore
from postmock.cli import cli

# Two calls of one process in the same second: same start, same end, different middles.
FIRST = "0190a1b2c3d4" + "0001" + "5eed5eed"
SECOND = "0190a1b2c3d5" + "0002" + "5eed5eed"


def test_short_id_is_the_part_that_changes_from_call_to_call() -> None:
    ids = [new_call_id(1_700_000_000.0) for _ in range(50)]
    shorts = {short_id(i) for i in ids}
    assert len(shorts) == 50  # unique, though all were made in the same millisecond
    assert all(len(s) == 8 and s in i for s, i in zip(map(short_id, ids), ids, strict=True))
    assert short_id("hand-made") == "hand-made"


def test_check_part() -> None:
    assert check_part(" c3d4 ") == "c3d4"
    with pytest.raises(ValueError, match="at least 4 characters"):
        check_part("abc")


def record_with(call_id: str, path: str) -> CallRecord:
    rec = record(path=path)
    rec.id = call_id
    return rec


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    path = tmp_path / "calls.db"
    opened = CallStore.open(path)
    opened.write(
        [entry_from_record(record_with(FIRST, "/first")),
         entry_from_record(record_with(SECOND, "/second"))]
    )  # fmt: skip
    opened.close()
    return path


@pytest.mark.parametrize(
    ("part", "path"),
    [
        pytest.param(FIRST, "/first", id="whole-id"),
        pytest.param(short_id(SECOND), "/second", id="short-id"),
        pytest.param("d40001", "/first", id="any-middle-part"),
        pytest.param("C3D5", "/second", id="upper-case"),
        pytest.param("ffff", None, id="unknown"),
    ],
)
def test_store_lookup(store_file: Path, part: str, path: str | None) -> None:
    opened = CallStore.open_readonly(store_file)
    try:
        found = opened.lookup(part)
    finally:
        opened.close()
    assert (found.path if found is not None else None) == path


def test_store_lookup_ambiguous_names_the_candidates(store_file: Path) -> None:
    opened = CallStore.open_readonly(store_file)
    try:
        with pytest.raises(AmbiguousCallId) as caught:
            opened.lookup("5eed")
    finally:
        opened.close()
    assert set(caught.value.candidates) == {FIRST, SECOND}
    assert "ambiguous" in str(caught.value)


def logs(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["logs", *args])
    return result.exit_code, result.stdout, result.stderr


def test_logs_show_takes_a_short_id(store_file: Path) -> None:
    code, out, err = logs("--db", str(store_file), "--show", short_id(FIRST))
    assert (code, err) == (0, "")
    assert "/first" in out and FIRST in out


def test_logs_show_ambiguous_is_one_line(store_file: Path) -> None:
    code, out, err = logs("--db", str(store_file), "--show", "5eed")
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert "ambiguous" in err and "Traceback" not in err


def test_logs_show_too_short_is_a_usage_error(store_file: Path) -> None:
    code, _, err = logs("--db", str(store_file), "--show", "5e")
    assert code == 2
    assert "at least 4 characters" in err


async def test_api_finds_a_part_and_answers_409_when_ambiguous(
    tmp_path: Path, aiohttp_client: object
) -> None:
    log = CallLog(tmp_path / "live.db")
    await log.start()
    try:
        log.add(record_with(FIRST, "/first"))
        log.add(record_with(SECOND, "/second"))
        client: TestClient[web.Request, web.Application] = await aiohttp_client(make_app(log))  # type: ignore[operator]
        async with client.get(f"/__postmock/calls/{short_id(SECOND)}") as resp:
            assert resp.status == 200
            assert (await resp.json())["call"]["id"] == SECOND
        async with client.get("/__postmock/calls/5eed") as resp:
            assert resp.status == 409
            error = (await resp.json())["error"]
        assert error["name"] == "ambiguousCallIdError"
        assert FIRST in error["message"] and SECOND in error["message"]
    finally:
        await log.close()


def test_a_whole_id_is_never_ambiguous(tmp_path: Path) -> None:
    opened = CallStore.open(tmp_path / "calls.db")
    try:  # hand-made ids, one inside the other
        opened.write([entry_from_record(record_with("call-0001", "/a")),
                      entry_from_record(record_with("call-00011", "/b"))])  # fmt: skip
        found = opened.lookup("call-0001")
        assert found is not None and found.path == "/a"
        with pytest.raises(AmbiguousCallId):
            opened.lookup("call-")
    finally:
        opened.close()
