"""Browser journey of a major hazard (Debian's Chromium, network cut, the portal's CSP in force):
the enterprise clerk uploads a ledger and sees the preview; the principal reports a major hazard and signs
it; the town and the county confirm it; the enterprise fills the 五落实, starts rectification, uploads
evidence and requests closure; the county closes it. Then the pages on a phone-sized screen."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from hazards.choices import HazardStatus
from hazards.criteria import load_catalogue_file
from hazards.models import Hazard, HazardEvent, HazardEvidence, MajorHazardCriterion
from tests.browser_fixtures import screenshot, watch_page
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.hazards.ledger_xlsx import build, row

TODAY = timezone.localdate()  # the portal's today (Asia/Shanghai), not the machine's UTC date


def _menu(page: Any, group: str, entry: str) -> None:
    """Opens a dropdown of the main menu and follows one of its entries."""
    page.locator("#mainnav .dropdown-toggle", has_text=group).first.click()
    page.locator("#mainnav .dropdown-menu.show").get_by_role("link", name=entry).click()


@pytest.fixture
def catalogue(transactional_db: None) -> None:
    """The seeded 判定依据 catalogue (the live server's database is flushed between tests)."""
    if not MajorHazardCriterion.objects.exists():
        load_catalogue_file()


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/**")


def _photo(tmp_path: Path) -> Path:
    image = Image.new("RGB", (320, 240), (150, 160, 140))
    for x in range(0, 320, 6):
        for y in range(120, 240):
            image.putpixel((x, y), (110, 90, 60))
    path = tmp_path / "削坡后.png"
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _ledger(tmp_path: Path) -> Path:
    data = build(
        [
            row("YH-2024-001", "+320平台边坡有浮石未清理", found_on=datetime.date(2024, 5, 6)),
            row("YH-2024-002", "爆破器材库避雷设施未检测", location="炸药库", category="爆破", found_on="2024年5月8日"),
        ],
        above=[["泽州县示范矿业有限公司隐患排查治理台账"], ["填报单位：安全环保部"]],
        below=[[], ["填表人：张三", None, "审核人：李四"]],
        merges=("A1:H1",),
    )
    path = tmp_path / "隐患台账2024年5月.xlsx"
    path.write_bytes(data)
    return path


def _step(page: Any, slug: str) -> Any:
    """The accordion item of a step on the detail page, opened."""
    item = page.get_by_test_id(f"step-{slug}")
    button = item.locator(".accordion-button")
    if "collapsed" in (button.get_attribute("class") or ""):
        button.click()
    expect(item.locator(".accordion-collapse")).to_have_class("accordion-collapse collapse show")
    return item


def test_major_hazard_from_report_to_closure(
    live_server: Any, page_factory: Any, cast: Cast, world: World, catalogue: None, tmp_path: Path
) -> None:
    base = live_server.url
    problems: list[tuple[list[str], list[str]]] = []

    # 0. The clerk uploads the enterprise's ledger and sees the preview before anything is saved.
    clerk = page_factory()
    problems.append(watch_page(clerk))
    _login(clerk, base, "clerk")
    _menu(clerk, "隐患", "我的隐患")
    expect(clerk.get_by_test_id("result-count")).to_have_text("共 0 条隐患")
    clerk.get_by_test_id("hazard-tabs").get_by_role("link", name="台账导入").click()
    clerk.get_by_test_id("ledger-form").locator("input[type=file]").set_input_files(str(_ledger(tmp_path)))
    clerk.get_by_role("button", name="上传并预览").click()
    expect(clerk.get_by_test_id("ledger-summary")).to_contain_text("新增 2 条")
    rows = clerk.get_by_test_id("ledger-rows")
    expect(rows).to_contain_text("+320平台边坡有浮石未清理")
    expect(rows).to_contain_text("2024-05-08")
    assert not Hazard.objects.exists()  # a preview writes nothing
    screenshot(clerk, "hazard-01-ledger-preview")
    clerk.get_by_role("button", name="确认导入").click()
    _menu(clerk, "隐患", "我的隐患")
    expect(clerk.get_by_test_id("result-count")).to_have_text("共 2 条隐患")
    screenshot(clerk, "hazard-02-my-hazards")

    # 1. The principal reports a major hazard (the criterion picker shows only for a major one) and signs it.
    principal = page_factory()
    problems.append(watch_page(principal))
    _login(principal, base, "principal")
    principal.goto(f"{base}/hazards/new/")
    form = principal.get_by_test_id("report-form")
    criterion = form.locator("#id_criterion")
    expect(criterion).to_be_hidden()
    form.get_by_label("隐患级别").select_option("major")
    expect(criterion).to_be_visible()
    assert criterion.locator("option").count() == 14  # 露天矿山: 13 items and the prompt
    criterion.select_option(label=criterion.locator("option").nth(7).inner_text())
    form.get_by_label("隐患内容").fill("+280平台至+320平台之间边坡出现裂缝，有滑坡迹象，下方仍在作业")
    form.get_by_label("隐患部位").fill("+280～+320平台边坡")
    form.get_by_label("隐患类别").select_option("slope")
    form.get_by_label("发现人").fill("王建国")
    screenshot(principal, "hazard-03-report-form")
    form.get_by_role("button", name="提交").click()
    expect(principal.get_by_test_id("hazard-status")).to_contain_text("待主要负责人签字")
    hazard = Hazard.objects.get(level="major")
    assert hazard.criterion is not None and hazard.criterion.mine_type == "open_pit"
    _step(principal, "sign")
    # Signing is signing: the password again and the confirmation (hazards.signing).
    principal.get_by_label("登录密码").fill(TEST_PASSWORD)
    principal.get_by_label("以上隐患情况经本人核对属实，确认签字。").check()
    principal.get_by_test_id("submit-sign").click()
    expect(principal.get_by_test_id("hazard-status")).to_contain_text("待镇确认")
    screenshot(principal, "hazard-04-signed")

    # 2. The town finds it in its work queue and confirms it.
    town = page_factory()
    problems.append(watch_page(town))
    _login(town, base, "town_a")
    _menu(town, "隐患", "待办")
    queue = town.get_by_test_id("queue-table")
    expect(queue).to_contain_text("镇确认")
    screenshot(town, "hazard-05-town-queue")
    queue.get_by_role("link", name="办理").click()
    _step(town, "town-confirm").get_by_label("意见").fill("经现场核实，情况属实。")
    town.get_by_test_id("submit-town-confirm").click()
    expect(town.get_by_test_id("hazard-status")).to_contain_text("待县确认")
    expect(town.get_by_test_id("step-town-confirm")).to_have_count(0)
    screenshot(town, "hazard-06-town-confirmed")

    # 3. The county confirms it.
    county = page_factory()
    problems.append(watch_page(county))
    _login(county, base, "county")
    county.goto(f"{base}/hazards/queue/")
    county.get_by_test_id("queue-table").get_by_role("link", name="办理").click()
    screenshot(county, "hazard-07-county-detail")
    _step(county, "county-confirm")
    county.get_by_test_id("submit-county-confirm").click()
    expect(county.get_by_test_id("hazard-status")).to_contain_text("已确认")

    # 4. The enterprise fills the 五落实, starts rectification, uploads evidence and requests closure.
    clerk.goto(f"{base}/hazards/{hazard.pk}/")
    expect(clerk.get_by_test_id("missing-five")).to_be_visible()
    five = _step(clerk, "five")
    five.get_by_label("整改措施").fill("按设计削坡减载，清理危石；设置边坡位移监测点")
    five.get_by_label("责任单位").fill("采矿车间")
    five.get_by_label("责任人").fill("李安全")
    five.get_by_label("整改资金（万元）").fill("35")
    five.get_by_label("整改时限").fill((TODAY + datetime.timedelta(days=30)).isoformat())
    five.get_by_label("应急预案/临时管控措施").fill("停止下方作业，设置警戒区，专人巡查")
    clerk.get_by_test_id("submit-five").click()
    expect(clerk.get_by_test_id("five")).to_contain_text("李安全")
    expect(clerk.get_by_test_id("missing-five")).to_have_count(0)
    _step(clerk, "start")
    clerk.get_by_test_id("submit-start").click()
    expect(clerk.get_by_test_id("hazard-status")).to_contain_text("整改中")
    evidence = _step(clerk, "evidence")
    evidence.locator("input[type=file]").set_input_files(str(_photo(tmp_path)))
    evidence.get_by_label("材料类型").select_option("rectification")
    evidence.get_by_label("说明").fill("削坡完成后现场照片")
    clerk.get_by_test_id("submit-evidence").click()
    expect(clerk.get_by_test_id("evidence")).to_contain_text("削坡后.png")
    closure = _step(clerk, "request-closure")
    closure.get_by_label("整改完成日期").fill(TODAY.isoformat())
    closure.get_by_label("整改情况").fill("已按设计完成削坡减载，位移监测连续7天无异常。")
    screenshot(clerk, "hazard-08-closure-request")
    clerk.get_by_test_id("submit-request-closure").click()
    expect(clerk.get_by_test_id("hazard-status")).to_contain_text("申请销号")

    # 5. The county checks the evidence and closes it.
    county.goto(f"{base}/hazards/queue/")
    expect(county.get_by_test_id("queue-table")).to_contain_text("销号")
    county.get_by_test_id("queue-table").get_by_role("link", name="办理").click()
    thumbnail = county.get_by_test_id("evidence").locator("img")
    expect(thumbnail).to_be_visible()
    # The thumbnail is visible as soon as its box is laid out; its pixels arrive with a request of their own
    # (slow on a busy machine): wait for the image to finish loading, then check it is the 320 px thumbnail.
    county.wait_for_function("() => document.querySelector('[data-testid=evidence] img').complete")
    assert county.evaluate("document.querySelector('[data-testid=evidence] img').naturalWidth") == 320
    _step(county, "close").get_by_label("验收意见").fill("整改到位，同意销号。")
    county.get_by_test_id("submit-close").click()
    expect(county.get_by_test_id("hazard-status")).to_contain_text("已销号")
    expect(county.get_by_test_id("timeline")).to_contain_text("销号")
    screenshot(county, "hazard-09-closed")

    hazard.refresh_from_db()
    assert hazard.status == HazardStatus.CLOSED and hazard.verified_by == cast.county_staff
    assert HazardEvidence.objects.filter(hazard=hazard).count() == 1
    assert list(HazardEvent.objects.filter(hazard=hazard).values_list("action", flat=True)) == [
        "report", "sign_report", "town_confirm", "county_confirm", "update", "start_rectification",
        "add_evidence", "request_closure", "close",
    ]  # fmt: skip

    # The county's list with filters; the export link carries them.
    county.goto(f"{base}/hazards/?level=major")
    expect(county.get_by_test_id("result-count")).to_have_text("共 1 条隐患")
    assert "level=major" in (county.get_by_test_id("export-link").get_attribute("href") or "")
    county.select_option("#id_level", "general")
    expect(county.get_by_test_id("result-count")).to_have_text("共 2 条隐患")
    screenshot(county, "hazard-10-county-list")

    for failed, errors in problems:
        assert not failed, failed
        assert not errors, errors


def test_hazard_pages_on_a_phone(
    live_server: Any, page_factory: Any, cast: Cast, world: World, catalogue: None
) -> None:
    from tests.hazards.conftest import add_evidence, make_hazard

    hazard = make_hazard(world.enterprise_a, status=HazardStatus.RECTIFYING, ledger_number="YH-2024-017")
    add_evidence(hazard, cast.clerk)
    for _ in range(3):
        make_hazard(world.enterprise_a2, level="general", status=HazardStatus.REPORTED)
    make_hazard(world.enterprise_a2, status=HazardStatus.PENDING_TOWN, description="采场东帮+300平台边坡出现多条张裂缝")
    page = page_factory(mobile=True)
    failed, errors = watch_page(page)
    _login(page, live_server.url, "town_a")
    for path, name in [
        ("/hazards/", "hazard-11-phone-list"),
        (f"/hazards/{hazard.pk}/", "hazard-12-phone-detail"),
        ("/hazards/queue/", "hazard-13-phone-queue"),
        ("/hazards/new/", "hazard-14-phone-report"),
        ("/hazards/notifications/", "hazard-15-phone-notifications"),
    ]:
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"{path} is wider than the phone: {width}px"
        screenshot(page, name)
    assert page.locator(".navbar-toggler").is_visible()
    assert not failed, failed
    assert not errors, errors
