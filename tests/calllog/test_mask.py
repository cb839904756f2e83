"""Masking by name containment (`calllog.mask`), and the live table shows calls masked."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from postmock.calllog.entry import Entry
from postmock.calllog.mask import MASK, Masker
from postmock.config import ServeConfig
from postmock.server.app import create_app
from postmock.server.state import load_state
from postmock.views.live import LiveCallView

SAMPLES = Path(__file__).resolve().parents[2] / "sample_collections"


def entry(
    query: str = "",
    req_h: tuple[tuple[Any, Any], ...] = (),
    body: bytes | str = b"",
    res_h: tuple[tuple[str, str], ...] = (),
) -> Entry:
    return (
        "id", 1.0, "POST", "/x", query, req_h, body, 200, res_h, b"{}", "example", "OK", 1.0,
        0.0, None, "s@h:1", None,
    )  # fmt: skip


def test_header_names_containing_a_secret_word_are_masked_raw_or_not() -> None:
    masker = Masker()
    clean = masker.clean(
        entry(req_h=((b"X-Auth-Token", b"T"), (b"Api-Key", b"K"), (b"Authorization", b"Bearer z"),
                     (b"Accept", b"*/*")), res_h=(("Set-Cookie", "sid=1"),))
    )  # fmt: skip
    assert clean[5] == (
        ("X-Auth-Token", MASK), ("Api-Key", MASK), ("Authorization", f"Bearer {MASK}"),
        ("Accept", "*/*"),
    )  # fmt: skip
    assert clean[8] == (("Set-Cookie", MASK),)


def test_nothing_secret_gives_back_the_same_tuple() -> None:
    plain = entry(query="page=2", req_h=((b"Accept", b"*/*"),), body=b'{"name": "Ada"}')
    assert Masker().clean(plain) is plain


def test_json_bodies_are_masked_at_any_depth() -> None:
    body = json.dumps({"user": {"name": "a", "password": "hunter2"}, "items": [{"apiKey": 1}]})
    clean = Masker().clean(
        entry(body=body.encode(), req_h=((b"Content-Type", b"application/json"),))
    )
    assert json.loads(clean[6]) == {
        "user": {"name": "a", "password": MASK}, "items": [{"apiKey": MASK}],
    }  # fmt: skip


def test_form_and_multipart_bodies_are_masked() -> None:
    form = Masker().clean(entry(body=b"user=a&client_secret=S&x=1"))
    assert form[6] == f"user=a&client_secret={MASK}&x=1"
    multipart = (
        b'--B\r\nContent-Disposition: form-data; name="user"\r\n\r\nada\r\n'
        b'--B\r\nContent-Disposition: form-data; name="password"\r\n\r\nPW\r\n--B--\r\n'
    )
    clean = Masker().clean(
        entry(body=multipart, req_h=((b"Content-Type", b"multipart/form-data; boundary=B"),))
    )
    assert b"PW" not in clean[6] and b"ada" in clean[6] and MASK.encode() in clean[6]


def test_redact_adds_words_and_bodies_can_be_left_alone() -> None:
    assert Masker(["tenant"]).clean(entry(query="x-tenant=7"))[4] == f"x-tenant={MASK}"
    body = b'{"password": "hunter2"}'
    assert Masker(bodies=False).clean(entry(body=body))[6] == body


@pytest.mark.asyncio
async def test_the_live_table_shows_calls_masked(aiohttp_client: Any) -> None:
    config = ServeConfig(
        collection=SAMPLES / "petstore.postman_collection.json",
        environment=SAMPLES / "petstore.postman_environment.json",
        log_db=None, reload=False, quiet=True,
    )  # fmt: skip
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200, height=40)
    view = LiveCallView(console)
    client = await aiohttp_client(create_app(config, load_state(config), listeners=[view.add]))
    view.start()
    resp = await client.get("/v1/pets/1?access_token=TOKSECRET", headers={"X-Api-Key": "K"})
    assert resp.status == 200
    await view.stop()
    assert "TOKSECRET" not in out.getvalue()
    assert f"access_token={MASK}" in out.getvalue()
