"""The call log's guarantees, against real `postmock serve` processes: a killed writer,
a full disk, a locked store, bad bytes, two servers in one folder."""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from trust_helpers import (
    ENVIRONMENT,
    PETSTORE,
    free_port,
    get_json,
    health,
    hold_lock,
    load,
    release,
    serve,
    stored_paths,
)

pytestmark = pytest.mark.slow


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out, err


def test_a_writer_killed_mid_load_is_restarted_and_every_call_is_kept(tmp_path: Path) -> None:
    port, db = free_port(), tmp_path / "calls.db"
    with serve(tmp_path, port, db=db) as proc:
        pid = health(port)["calls"]["writerPid"]

        def kill_writer() -> None:
            os.kill(pid, signal.SIGKILL)

        answered = load(port, 3000, during=kill_writer, at=1000)
        assert answered == 3000
        deadline = time.monotonic() + 20
        while (state := health(port))["calls"]["pending"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert state["status"] == "ok", state
        assert state["calls"]["writerRestarts"] >= 1
        assert state["calls"]["writerPid"] != pid
        assert state["calls"]["dropped"] == 0
        _out, err = _stop(proc)
    assert "writer process died (signal 9" in err
    assert "Traceback" not in err
    paths = stored_paths(db)
    assert sorted(paths) == sorted(f"/v1/pets/{i}" for i in range(3000))  # all, once each


def test_start_up_on_a_locked_store_fails_fast_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "calls.db"
    with serve(tmp_path, free_port(), db=db) as proc:
        _stop(proc)  # a real store, now idle
    holder = hold_lock(db, 30)
    try:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "postmock", "serve", str(PETSTORE), "-e", str(ENVIRONMENT),
             "--port", "0", "--log-db", str(db), "--no-reload"],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        took = time.monotonic() - started
    finally:
        release(holder)
    assert result.returncode == 3, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(db) in lines[0] and "locked" in lines[0]
    assert took < 10, took


def test_a_lock_taken_after_start_delays_writes_and_loses_nothing(tmp_path: Path) -> None:
    port, db = free_port(), tmp_path / "calls.db"
    with serve(tmp_path, port, db=db) as proc:
        load(port, 10)
        holder = hold_lock(db, 120)
        try:
            assert load(port, 500, path="/v1/pets/{i}?locked=1") == 500
            deadline = time.monotonic() + 30
            while (during := health(port))["status"] == "ok" and time.monotonic() < deadline:
                time.sleep(0.1)  # the writer meets the lock
        finally:
            release(holder)  # its connection closes: the lock is gone
        deadline = time.monotonic() + 20
        while (after := health(port))["calls"]["pending"] and time.monotonic() < deadline:
            time.sleep(0.1)
        _out, err = _stop(proc)
    assert during["status"] == "degraded" and "locked" in during["reason"], during
    assert after["status"] == "ok" and after["calls"]["dropped"] == 0, after
    assert "locked" in err and "writable again" in err and "Traceback" not in err
    assert len(stored_paths(db)) == 510


def _mount_tmpfs(where: Path, size: str) -> bool:
    if not shutil.which("mount") or os.geteuid() != 0:
        return False
    where.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True, check=False,
    )  # fmt: skip
    return result.returncode == 0


def test_a_full_disk_degrades_counts_drops_and_recovers(tmp_path: Path) -> None:
    small = tmp_path / "small"
    if not _mount_tmpfs(small, "512k"):
        pytest.skip("cannot mount a tmpfs here (needs root and mount rights)")
    port, db = free_port(), small / "calls.db"
    try:
        # A 256 KB buffer: the full disk makes it overflow quickly.
        with serve(tmp_path, port, "--log-buffer", "256k", db=db) as proc:
            answered = load(port, 4000, path="/v1/pets/{i}?pad=" + "x" * 400)
            assert answered == 4000  # serving never waits on the log
            time.sleep(1.0)
            full = health(port)
            # Room again: the filesystem grows.
            subprocess.run(["mount", "-o", "remount,size=64m", str(small)], check=True)
            deadline = time.monotonic() + 20
            while (after := health(port))["calls"]["pending"] and time.monotonic() < deadline:
                time.sleep(0.1)
            _out, err = _stop(proc)
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)
    assert full["status"] == "degraded", full
    dropped = full["calls"]["dropped"]
    assert dropped > 0 and full["calls"]["droppedBy"].get("bufferFull") == dropped
    assert after["status"] == "ok", after
    assert "full" in err and "dropping new calls" in err and "Traceback" not in err
    assert f"{after['calls']['dropped']} calls were dropped" in err


def test_a_non_utf8_header_and_body_never_break_reading(tmp_path: Path) -> None:
    port, db = free_port(), tmp_path / "calls.db"
    with serve(tmp_path, port, db=db) as proc:
        body = b"\xff\xfe\x00binary"
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(
                b"POST /v1/pets HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Id: \xff\r\n"
                b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n%s" % (len(body), body)
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 ")
        calls = get_json(port, "/__postmock/calls")["calls"]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/__postmock/calls/stream?tail=5")
        resp = conn.getresponse()
        assert resp.status == 200
        streamed = [json.loads(resp.readline()) for _ in range(1)]
        conn.close()
        _stop(proc)
    assert streamed[0]["id"] == calls[0]["id"]
    (call,) = [c for c in calls if c["request"]["method"] == "POST"]
    assert "\\xff" in call["request"]["headers"].get("X-Id", call["request"]["headers"].get("x-id"))
    assert call["request"]["bodyEncoding"] == "base64"
    assert base64.b64decode(call["request"]["body"]) == body


def _follower(port: int, *extra: str) -> subprocess.Popen[str]:
    """`postmock logs --follow --json`, once its stream is open (health counts it)."""
    follower = subprocess.Popen(
        [sys.executable, "-m", "postmock", "logs", "--url", f"http://127.0.0.1:{port}",
         "--follow", "--json", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while health(port)["subscribers"] < 1:
        assert time.monotonic() < deadline, "the follower did not connect"
        time.sleep(0.1)
    return follower


def test_a_paused_follower_catches_up_in_order_without_gaps(tmp_path: Path) -> None:
    port, db = free_port(), tmp_path / "calls.db"
    # A small ring of encoded calls: the paused follower falls behind it and must catch
    # up from the store (the socket buffers alone hold ~3,000 of these calls).
    with serve(tmp_path, port, db=db, env={"POSTMOCK_TAIL_RING": "256"}) as proc:
        follower = _follower(port, "-n", "1")
        try:
            os.kill(follower.pid, signal.SIGSTOP)
            assert load(port, 5000, path="/v1/pets/{i}?pad=" + "p" * 3000) == 5000
            time.sleep(3.0)  # paused during and after the burst
            os.kill(follower.pid, signal.SIGCONT)
            deadline = time.monotonic() + 60
            while health(port)["calls"]["pending"] and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(3.0)
            proc.send_signal(signal.SIGINT)  # the stream ends with an `end` event
            out, err = follower.communicate(timeout=60)
        finally:
            if follower.poll() is None:
                follower.kill()
                follower.communicate()
        proc.communicate(timeout=60)
    assert follower.returncode == 0, err
    seqs = [json.loads(line)["seq"] for line in out.splitlines()]
    assert "skipped" not in err
    assert seqs == sorted(set(seqs))  # in order, no duplicates
    assert len([s for s in seqs if s > 0]) >= 5000  # every call of the burst
    paths = {json.loads(line)["request"]["path"] for line in out.splitlines()}
    assert {f"/v1/pets/{i}" for i in range(5000)} <= paths


def test_follow_exits_1_with_one_line_when_the_server_vanishes(tmp_path: Path) -> None:
    port = free_port()
    with serve(tmp_path, port, db=tmp_path / "calls.db") as proc:
        follower = _follower(port)
        proc.kill()  # no `end` event: the stream breaks
        proc.communicate()
        _out, err = follower.communicate(timeout=60)
    assert follower.returncode == 1
    assert len(err.strip().splitlines()) == 1 and "lost" in err, err


SECRETS = ("hunter2", "TOKSECRET", "KEYVALUE", "AUTHVAL", "COOKIEVAL", "FORMPW", "PARTPW")


def test_secrets_never_reach_the_store_the_api_the_stream_or_the_table(tmp_path: Path) -> None:
    port, db = free_port(), tmp_path / "calls.db"
    with serve(tmp_path, port, "--redact", "x-tenant", db=db) as proc:
        stream = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        stream.request("GET", "/__postmock/calls/stream")
        streamed = stream.getresponse()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        calls = [
            ("POST", "/v1/pets?access_token=TOKSECRET", b'{"name": "a", "password": "hunter2"}',
             {"Content-Type": "application/json", "X-Auth-Token": "AUTHVAL",
              "Api-Key": "KEYVALUE", "Cookie": "sid=COOKIEVAL", "X-Tenant": "hunter2"}),
            ("POST", "/v1/pets", b"user=a&client_secret=FORMPW",
             {"Content-Type": "application/x-www-form-urlencoded"}),
            ("POST", "/v1/pets",
             b'--B\r\nContent-Disposition: form-data; name="password"\r\n\r\nPARTPW\r\n--B--\r\n',
             {"Content-Type": "multipart/form-data; boundary=B"}),
        ]  # fmt: skip
        for method, path, body, headers in calls:
            conn.request(method, path, body=body, headers=headers)
            conn.getresponse().read()
        lines = [streamed.readline() for _ in range(3)]
        streamed.close()
        stream.close()
        conn.close()
        api = json.dumps(get_json(port, "/__postmock/calls"))
        table = subprocess.run(
            [sys.executable, "-m", "postmock", "logs", "--url", f"http://127.0.0.1:{port}",
             "--show", json.loads(lines[0])["id"]],
            capture_output=True, text=True, timeout=60, check=True,
            env={**os.environ, "COLUMNS": "200"},
        ).stdout  # fmt: skip
        _out, _err = _stop(proc)
    raw = db.read_bytes() + (db.with_name("calls.db-wal").read_bytes() if db.with_name(
        "calls.db-wal").exists() else b"")  # fmt: skip
    everything = {"store": raw.decode("latin-1"), "api": api, "stream": b"".join(lines).decode(),
                  "table": table}  # fmt: skip
    for place, text in everything.items():
        for secret in SECRETS:
            assert secret not in text, (place, secret)
    assert "****" in api and "****" in table and "name" in api


def test_two_servers_in_one_folder_keep_their_calls_apart(tmp_path: Path) -> None:
    one, two = free_port(), free_port()
    with serve(tmp_path, one) as first, serve(tmp_path, two) as second:  # both: .postmock/calls.db
        load(one, 5, path="/v1/pets/{i}?server=one")
        load(two, 7, path="/v1/pets/{i}?server=two")

        def logs(port: int, *extra: str) -> list[str]:
            out = subprocess.run(
                [sys.executable, "-m", "postmock", "logs", "--url", f"http://127.0.0.1:{port}",
                 "--json", "-n", "100", *extra],
                capture_output=True, text=True, timeout=60, check=True,
            ).stdout  # fmt: skip
            return [json.loads(line)["request"]["query"] for line in out.splitlines()]

        assert logs(one) == ["server=one"] * 5
        assert logs(two) == ["server=two"] * 7
        assert sorted(logs(one, "--all-servers")) == ["server=one"] * 5 + ["server=two"] * 7
        _stop(first)
        _stop(second)
    assert (tmp_path / ".postmock" / "calls.db").is_file()
