"""The call-log page in a real headless Chromium (Debian's `chromium`, driven by Playwright):
calls made before and while it is open, filters, details, a private mock's key, HTTPS."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from serve_helpers import petstore, running

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no chromium installed (apt-get install chromium)", allow_module_level=True)
async_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
WAIT_MS = 15_000


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[object]:
    async with async_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            await chromium.close()


async def call(url: str, method: str = "GET", **kwargs: object) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, **kwargs) as resp:  # type: ignore[arg-type]
            await resp.read()


async def test_page_lists_old_and_new_calls_filters_and_shows_details(
    tmp_path: Path, browser: object
) -> None:
    expect = async_api.expect
    async with running(petstore(tmp_path)) as url:
        await call(url + "/v1/pets/7")
        await call(url + "/v1/nothing/here")
        page = await browser.new_page()  # type: ignore[attr-defined]
        await page.goto(url + "/__postmock/")
        rows = page.locator("#calls tbody tr")
        await expect(rows).to_have_count(2, timeout=WAIT_MS)  # made before the page opened
        await expect(page.locator("#state")).to_have_text("live", timeout=WAIT_MS)
        await call(url + "/v1/pets", "POST", json={"name": "Tom"})
        await expect(rows).to_have_count(3, timeout=WAIT_MS)  # made while it is open
        await expect(rows.first.locator("td.method")).to_have_text("POST")
        miss = page.locator("#calls tbody tr.miss")
        await expect(miss).to_have_count(1)
        await expect(miss.locator("td.path")).to_have_text("/v1/nothing/here")

        visible = page.locator("#calls tbody tr:visible")
        await page.fill("#f-path", "nothing")
        await expect(visible).to_have_count(1)
        await page.fill("#f-path", "")
        await page.select_option("#f-status", "2xx")
        await expect(visible).to_have_count(2)
        await page.select_option("#f-method", "POST")
        await expect(visible).to_have_count(1)
        await call(url + "/v1/pets/7")  # a new GET stays hidden under the POST filter
        await expect(rows).to_have_count(4, timeout=WAIT_MS)
        await expect(visible).to_have_count(1)
        await page.select_option("#f-method", "")
        await page.select_option("#f-status", "")
        await page.fill("#f-search", "Tom")
        await expect(visible).to_have_count(1)
        await page.fill("#f-search", "")
        await expect(visible).to_have_count(4)

        await miss.click()
        detail = page.locator("#detail")
        await expect(detail).to_be_visible()
        await expect(page.locator("#d-title")).to_have_text("GET /v1/nothing/here → 404")
        await expect(page.locator("#d-why")).to_be_visible()
        await expect(page.locator("#d-nearest li").first).to_contain_text("path")
        assert '\n  "error": {' in await page.locator("#d-res-body").text_content()
        await rows.filter(has_text="POST").click()
        await expect(page.locator("#d-why")).to_be_hidden()
        await expect(page.locator("#d-req-body")).to_have_text('{\n  "name": "Tom"\n}')
        curl = await page.locator("#d-curl-text").input_value()
        assert curl.startswith(f"curl -X POST '{url}/v1/pets'") and "--data-raw" in curl

        await page.click("#pause")  # paused: new calls wait, counted, until resumed
        await call(url + "/v1/pets/8")
        await expect(page.locator("#state")).to_have_text("paused · 1 new", timeout=WAIT_MS)
        await expect(rows).to_have_count(4)
        await page.click("#pause")
        await expect(rows).to_have_count(5)
        await expect(rows.first.locator("td.path")).to_have_text("/v1/pets/8")

        await page.click("#clear")  # the API's reset: the table and the log are empty
        await expect(rows).to_have_count(0, timeout=WAIT_MS)
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/__postmock/calls") as resp:
                assert (await resp.json())["calls"] == []


async def test_private_mock_page_over_https_with_the_key_given_once(
    tmp_path: Path, browser: object
) -> None:
    expect = async_api.expect
    config = petstore(tmp_path, tls=True, api_keys=("k3y",))
    async with running(config) as url:
        context = await browser.new_context(ignore_https_errors=True)  # type: ignore[attr-defined]
        page = await context.new_page()
        response = await page.goto(url + "/__postmock/")
        assert response.status == 401
        await page.fill("input[name=key]", "k3y")
        await page.press("input[name=key]", "Enter")
        await expect(page.locator("#state")).to_have_text("live", timeout=WAIT_MS)
        assert page.url == url + "/__postmock/"  # the key left the address bar
        await call(url + "/v1/pets/7", headers={"x-api-key": "k3y"}, ssl=False)
        await expect(page.locator("#calls tbody tr")).to_have_count(1, timeout=WAIT_MS)
        await context.close()
