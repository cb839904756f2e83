"""Who may read /__postmock/: x-api-key, a bearer token or the page's cookie; mock calls
take only Postman's x-api-key. The page's `?key=` sets that cookie."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from serve_helpers import petstore, running

from postmock.config import KEY_COOKIE

KEY = "s3cret-key"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"x-api-key": KEY}, 200),
        ({"x-api-key": "wrong"}, 401),
        ({"Authorization": f"Bearer {KEY}"}, 200),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": f"Basic {KEY}"}, 401),
        ({"Cookie": f"{KEY_COOKIE}={KEY}"}, 200),
        ({"Cookie": f"{KEY_COOKIE}=wrong"}, 401),
    ],
    ids=["none", "header", "bad-header", "bearer", "bad-bearer", "basic", "cookie", "bad-cookie"],
)
async def test_api_page_and_metrics_accept_every_way_of_giving_the_key(
    tmp_path: Path, headers: dict[str, str], status: int
) -> None:
    async with running(petstore(tmp_path, api_keys=(KEY,))) as url:
        async with aiohttp.ClientSession() as session:
            for path in ("calls", "health", "metrics", ""):
                async with session.get(f"{url}/__postmock/{path}", headers=headers) as resp:
                    assert resp.status == status, (path, await resp.text())


async def test_mock_calls_take_only_the_x_api_key_header(tmp_path: Path) -> None:
    async with running(petstore(tmp_path, api_keys=(KEY,))) as url:
        async with aiohttp.ClientSession() as session:
            for headers, status in (
                ({"x-api-key": KEY}, 200),
                ({"Authorization": f"Bearer {KEY}"}, 401),
                ({"Cookie": f"{KEY_COOKIE}={KEY}"}, 401),
            ):
                async with session.get(url + "/v1/pets/7", headers=headers) as resp:
                    assert resp.status == status, headers


async def test_page_key_in_the_address_becomes_a_cookie_for_the_api_only(tmp_path: Path) -> None:
    async with running(petstore(tmp_path, api_keys=(KEY,))) as url:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.get(url + "/__postmock/?key=wrong") as resp:
                assert resp.status == 401
                assert "not valid" in await resp.text()
            async with session.get(url + f"/__postmock/?key={KEY}", allow_redirects=False) as resp:
                assert resp.status == 303
                assert resp.headers["Location"] == "/__postmock/"  # the key leaves the address
                cookie = resp.cookies[KEY_COOKIE]
                assert cookie.value == KEY
                assert cookie["path"] == "/__postmock/"
                assert cookie["httponly"] and cookie["samesite"] == "Strict"
            # The session keeps the cookie: the page and the API now answer.
            async with session.get(url + "/__postmock/") as resp:
                assert resp.status == 200
                assert '<table id="calls">' in await resp.text()
            async with session.get(url + "/__postmock/calls") as resp:
                assert resp.status == 200


async def test_a_private_page_without_a_key_asks_for_one(tmp_path: Path) -> None:
    async with running(petstore(tmp_path, api_keys=(KEY,))) as url:
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/__postmock/") as resp:
                assert resp.status == 401
                text = await resp.text()
                assert 'name="key"' in text and "private" in text
                assert "Content-Security-Policy" in resp.headers
