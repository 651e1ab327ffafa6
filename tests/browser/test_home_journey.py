"""工作台 in the browser at 1280 and 390 px: the sections, one click to an item, the menu badges, no overflow."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from hazards.choices import HazardLevel, HazardStatus
from tests.browser_fixtures import screenshot, watch_page
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.hazards.conftest import catalogue, make_hazard  # noqa: F401 - the catalogue fixture


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def test_county_home_at_desktop_and_phone_width(
    live_server: Any,
    page_factory: Any,
    cast: Cast,
    world: World,
    catalogue: None,  # noqa: F811
) -> None:
    waiting = make_hazard(world.enterprise_a, status=HazardStatus.PENDING_COUNTY)
    make_hazard(world.enterprise_b, level=HazardLevel.GENERAL, status=HazardStatus.RECTIFYING)  # overdue (2024)
    for mobile, width in ((False, 1280), (True, 390)):
        page = page_factory(mobile=mobile)
        page.set_viewport_size({"width": width, "height": 900})
        failed, errors = watch_page(page)
        _login(page, live_server.url, "county")
        section = page.get_by_test_id("section-hazard_county_confirm")
        assert section.is_visible()
        assert page.get_by_test_id("count-hazard_county_confirm").inner_text() == "1"
        assert page.get_by_test_id("count-hazard_overdue").inner_text() == "2"
        badge = page.locator('[data-nav-badge="hazards:work-queue"]')
        assert badge.text_content() == "1"
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{width}px: the page is {overflow}px wider than the window"
        screenshot(page, f"home-county-{width}")
        section.get_by_role("link", name=world.enterprise_a.name, exact=False).click()
        page.wait_for_url(f"{live_server.url}/hazards/{waiting.pk}/")
        # elsewhere the badges arrive after the page
        page.goto(f"{live_server.url}/enterprises/")
        expect(page.locator('[data-nav-badge="hazards:work-queue"]')).to_have_text("1")
        assert not failed and not errors, (failed, errors)
