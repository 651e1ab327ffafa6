"""County staff open the winter table, drill into a number, export a PDF on the worker, and read the
dashboard (ECharts from static files under the CSP). Screenshots go to var/screenshots/reporting-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from reporting.models import ExportJob
from reporting.tasks import run_export
from tests.browser_fixtures import screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def test_county_staff_table_drill_down_export_and_dashboard(
    live_server: Any, page_factory: Any, scenario: Any, cast: Any
) -> None:
    page = page_factory()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"{page.url} {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, live_server.url, "county")

    page.locator("#mainnav .dropdown-toggle", has_text="报表").first.click()  # the menu's 报表 dropdown
    page.locator("#mainnav .dropdown-menu.show").get_by_role("link", name="月度报表").click()
    page.goto(f"{live_server.url}/reports/winter/140525/2023-12/")
    grid = page.get_by_test_id("report-grid")
    expect(grid).to_contain_text("查处劳务派遣用工违法行为数")
    screenshot(page, "reporting-01-winter-county")

    # the 重大隐患 排查 of this month: 2, and its records
    link = grid.locator('a[href$="/cell/month.major_found/"]')
    expect(link).to_have_text("2")
    link.click()
    expect(page.get_by_test_id("records")).to_contain_text("采场最终边坡台阶高度超过设计要求")
    screenshot(page, "reporting-02-drill-down")
    page.go_back()

    page.get_by_role("button", name="生成 PDF").click()
    expect(page.get_by_test_id("export-status")).to_contain_text("排队中")
    screenshot(page, "reporting-03-export-pending")
    job = ExportJob.objects.get()
    run_export.apply(args=[str(job.pk)])  # the worker
    expect(page.get_by_role("link", name="下载PDF文件")).to_be_visible(timeout=10000)  # htmx polled it in
    screenshot(page, "reporting-04-export-ready")

    page.goto(f"{live_server.url}/reports/dashboard/?month=2023-12")
    chart = page.locator("[data-chart=levels] canvas")
    expect(chart).to_have_count(1)
    expect(page.locator("[data-chart=coverage] canvas")).to_have_count(1)
    page.wait_for_timeout(800)  # the bars' animation
    screenshot(page, "reporting-05-dashboard")
    # click the first bar of the 一般事故隐患 series: it opens the hazards behind it
    point = page.evaluate(
        """() => {
            const el = document.querySelector('[data-chart=levels]');
            const chart = echarts.getInstanceByDom(el);
            const option = chart.getOption();
            const index = option.series[0].data.findIndex((v) => v > 0);
            const [x, y] = chart.convertToPixel({seriesIndex: 0}, [index, option.series[0].data[index] / 2]);
            const box = el.getBoundingClientRect();
            return {x: box.left + x, y: box.top + y};
        }"""
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/reports/dashboard/hazards/**")
    expect(page.get_by_test_id("records")).to_contain_text("一般事故隐患")
    assert not errors, errors
