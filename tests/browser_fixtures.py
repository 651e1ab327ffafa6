"""Playwright driving Debian's Chromium (no browser is downloaded here).

A pytest plugin (see tests/conftest.py): one Playwright and one browser for the whole session,
shared by every test that takes `page_factory`, wherever it lives.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[1] / "var" / "screenshots"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test that drives the browser is marked, wherever it lives, so that a run can
    # leave them out (`-m "not browser"`, as the PostgreSQL pass does).
    for item in items:
        if {"page_factory", "chromium_browser"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = "Chromium 未安装：apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API keeps an event loop on this thread; the ORM calls made by the
    # test itself are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_factory(chromium_browser: Any) -> Iterator[Any]:
    contexts = []

    def make(*, mobile: bool = False) -> Any:
        viewport = {"width": 390, "height": 844} if mobile else {"width": 1366, "height": 900}
        context = chromium_browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
        # The portal must work with the network unplugged: anything not on the live server fails.
        context.route("**/*", _only_loopback)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for context in contexts:
        # Let requests still in flight (e.g. the menu badges fetched after a page loads) finish before the
        # context closes: the live server would otherwise still hold the in-memory SQLite database when
        # the test's teardown flushes it ("database table is locked").
        for open_page in context.pages:
            with contextlib.suppress(Exception):  # a page that never goes idle is closed anyway
                open_page.wait_for_load_state("networkidle", timeout=5000)
        context.close()


def _only_loopback(route: Any) -> None:
    url = route.request.url
    if url.startswith(("http://localhost", "http://127.0.0.1", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def watch_failed_requests(page: Any) -> list[str]:
    """The requests of `page` that failed, as "url failure". A request aborted because the page was left
    before it finished (net::ERR_ABORTED, e.g. an asset still loading when a link is followed) is not a
    failure of the portal: counting it made the journeys flaky."""
    failed: list[str] = []

    def on_failed(request: Any) -> None:
        if request.failure != "net::ERR_ABORTED":
            failed.append(f"{request.url} {request.failure}")

    page.on("requestfailed", on_failed)
    return failed


def watch_page(page: Any) -> tuple[list[str], list[str]]:
    """The failed requests (see watch_failed_requests) and the console errors of `page`, as they come."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return watch_failed_requests(page), errors
