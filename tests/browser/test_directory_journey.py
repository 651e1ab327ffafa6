"""A town user logs in, sees only their town's enterprises, opens one."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser_fixtures import screenshot, watch_failed_requests
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def test_town_staff_sees_only_their_town(live_server: Any, page_factory: Any, cast: Cast, world: World) -> None:
    page = page_factory()
    failed = watch_failed_requests(page)
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/login/")
    screenshot(page, "01-login")
    _login(page, live_server.url, "town_a")
    assert "巴公镇" in page.get_by_test_id("whoami").inner_text()
    assert page.get_by_test_id("enterprise-count").inner_text() == "2"
    screenshot(page, "02-home-town")

    page.get_by_role("link", name="企业名录").first.click()
    table = page.get_by_test_id("enterprise-table")
    table.wait_for()
    text = table.inner_text()
    assert "泽州县示范矿业有限公司" in text
    assert "巴公镇第二石料厂" in text
    assert "高都镇铁矿有限公司" not in text  # another town
    assert "上党区外县矿业有限公司" not in text  # another county
    assert page.get_by_test_id("result-count").inner_text() == "共 2 家企业"
    # Bootstrap's stylesheet really applied (served locally).
    assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"
    screenshot(page, "03-enterprise-list-town")

    # Filtering by industry narrows the list (htmx swaps the table in place).
    page.select_option("#id_industry", "quarry")
    expect(page.get_by_test_id("result-count")).to_have_text("共 1 家企业")
    assert "泽州县示范矿业有限公司" not in page.get_by_test_id("enterprise-table").inner_text()
    page.select_option("#id_industry", "")
    expect(page.get_by_test_id("result-count")).to_have_text("共 2 家企业")

    page.get_by_role("link", name="泽州县示范矿业有限公司").click()
    assert page.get_by_test_id("enterprise-name").inner_text() == "泽州县示范矿业有限公司"
    assert "91140525MA0K7XQ215" in page.content()
    assert "138****1234" in page.get_by_test_id("people").inner_text()
    screenshot(page, "04-enterprise-detail")

    assert not failed, failed
    assert not console_errors, console_errors

    # Another town's enterprise by URL: not found, and nothing about it shown.
    response = page.goto(f"{live_server.url}/enterprises/{world.enterprise_b.pk}/")
    assert response is not None and response.status == 404
    assert "高都镇铁矿" not in page.content()


def test_phone_sized_screen(live_server: Any, page_factory: Any, cast: Cast, world: World) -> None:
    page = page_factory(mobile=True)
    _login(page, live_server.url, "town_a")
    page.goto(f"{live_server.url}/enterprises/")
    page.get_by_test_id("enterprise-table").wait_for()
    # The navigation collapses behind the toggler on a phone.
    assert page.locator(".navbar-toggler").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"page wider than the phone: {width}px"
    screenshot(page, "05-enterprise-list-phone")
