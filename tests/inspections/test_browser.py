"""Browser journeys (Debian's Chromium, network cut): a town records an inspection with a photo, a
hazard and a talk from a phone-sized screen; an enterprise files the 履职 self-check and its principal
signs it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import expect

from inspections.models import EnforcementRecord, Inspection, SelfCheckReport
from inspections.services import self_check_start, self_check_unexplained
from tests.browser_fixtures import screenshot, watch_page
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.hazards.conftest import make_hazard


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/**")


def _photo(tmp_path: Path) -> Path:
    image = Image.new("RGB", (320, 240), (120, 150, 90))
    for x in range(0, 320, 8):
        for y in range(140, 240):
            image.putpixel((x, y), (90, 70, 50))
    path = tmp_path / "边坡现场.jpg"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def test_town_records_an_inspection_on_a_phone(
    live_server: Any, page_factory: Any, cast: Cast, world: World, tmp_path: Path
) -> None:
    page = page_factory(mobile=True)
    failed, errors = watch_page(page)
    _login(page, live_server.url, "town_a")
    page.goto(f"{live_server.url}/inspections/inspections/new/")
    form = page.get_by_test_id("inspection-form")
    form.get_by_label("被检查企业").select_option(str(world.enterprise_a.pk))
    form.get_by_label("检查方式").select_option("four_no_two_straight")
    form.get_by_label("检查人员").fill("赵卫东、钱进")
    form.get_by_label("检查情况").fill("采场边坡台阶坡面角偏大，现场已要求整改。")
    camera = form.locator("input[type=file]")
    # the phone offers the camera and the gallery: no `capture`, which would force the camera
    assert camera.get_attribute("capture") is None and camera.get_attribute("accept") == "image/*"
    camera.set_input_files(str(_photo(tmp_path)))
    screenshot(page, "inspections-01-inspection-form-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    form.get_by_role("button", name="保存检查记录").click()
    expect(page.get_by_test_id("inspection-title")).to_have_text(world.enterprise_a.name)
    inspection = Inspection.objects.get()
    assert inspection.unit == world.town_a and inspection.photos.count() == 1
    expect(page.get_by_test_id("photos").locator("img")).to_have_count(1)
    assert page.evaluate("document.querySelector('[data-testid=photos] img').naturalWidth") == 320

    hazard_form = page.get_by_test_id("hazard-form")
    hazard_form.get_by_label("隐患级别").select_option("general")
    hazard_form.get_by_label("隐患类别").select_option("slope")
    hazard_form.get_by_label("隐患内容").fill("+1050平台台阶坡面角超过设计")
    hazard_form.get_by_label("隐患部位").fill("+1050平台")
    hazard_form.get_by_role("button", name="登记隐患").click()
    expect(page.get_by_test_id("hazards-found")).to_contain_text("+1050平台台阶坡面角超过设计")
    screenshot(page, "inspections-02-inspection-detail-phone")

    page.get_by_test_id("record-talk").click()
    talk = page.get_by_test_id("enforcement-form")
    expect(talk.get_by_label("类型")).to_have_value("talk_enterprise")
    talk.get_by_label("对象人员姓名").fill("王建国")
    talk.get_by_label("事由及内容").fill("主要负责人履职谈心谈话：现场履职天数、隐患排查情况。")
    screenshot(page, "inspections-03-talk-form-phone")
    talk.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("record-title")).to_have_text("谈话（非煤矿山企业）")
    record = EnforcementRecord.objects.get()
    assert record.inspection == inspection and record.issuing_unit == world.town_a
    inspection.refresh_from_db()
    assert inspection.talk_held and inspection.hazards.get().source == "town_inspection"
    page.goto(f"{live_server.url}{inspection.get_absolute_url()}")
    expect(page.get_by_test_id("linked-records")).to_contain_text("谈话（非煤矿山企业）")
    screenshot(page, "inspections-04-inspection-with-talk-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    assert not failed, failed
    assert not errors, errors


def test_enterprise_files_and_principal_signs_the_self_check(
    live_server: Any, page_factory: Any, cast: Cast, world: World, campaign83: Any
) -> None:
    page = page_factory()
    failed, errors = watch_page(page)
    _login(page, live_server.url, "clerk")
    page.goto(f"{live_server.url}{campaign83.get_absolute_url()}")
    page.get_by_role("link", name="本企业自查自改报告").click()
    page.get_by_role("button", name="开始填写").click()
    expect(page.get_by_test_id("report-status")).to_contain_text("草稿")
    items = page.get_by_test_id("item")
    expect(items).to_have_count(30)
    # The note first (saved as it is typed, while the item is still unanswered), then the answer.
    first = items.nth(0)
    first.get_by_label("说明").fill("3月份全员责任制考核尚未完成，已制定计划。")
    expect(first.get_by_test_id("saved")).to_contain_text("已保存（未答，有说明）")
    expect(page.get_by_test_id("unanswered-count")).to_have_text("27")
    first.get_by_label("否").check()
    expect(first.get_by_test_id("saved")).to_contain_text("已保存（否，有说明）")
    # the 未回答 counter beside the sign form follows the answers as they are saved
    expect(page.get_by_test_id("unanswered-count")).to_have_text("26")
    for index in range(1, 30):
        item = items.nth(index)
        if item.get_by_label("不适用").is_checked():
            continue
        item.get_by_label("是", exact=True).check()
        expect(item.get_by_test_id("saved")).to_contain_text("已保存（是")
    expect(page.get_by_test_id("unanswered")).to_be_hidden()
    report = SelfCheckReport.objects.get()
    assert report.answers.filter(answer="").count() == 0
    assert report.answers.get(item__order=1, item__area__order=1).note.startswith("3月份")
    screenshot(page, "inspections-05-self-check-draft")

    principal = page_factory()
    p_failed, p_errors = watch_page(principal)
    _login(principal, live_server.url, "principal")
    principal.goto(f"{live_server.url}{report.get_absolute_url()}")
    sign = principal.get_by_test_id("sign-form")
    sign.get_by_label("密码").fill(TEST_PASSWORD)
    sign.get_by_label("本人已审阅").check()
    # "是" to a question where "否" complies, with no 说明 and no hazard: listed, and the signer must confirm
    unexplained = principal.get_by_test_id("unexplained")
    expect(unexplained).to_contain_text("不符合")
    assert self_check_unexplained(report)
    expect(unexplained.get_by_role("listitem")).to_have_count(len(self_check_unexplained(report)))
    sign.get_by_role("button", name="签字并报送").click()
    expect(principal.get_by_text("请补充，或勾选确认后再签字")).to_be_visible()
    report.refresh_from_db()
    assert report.status != "submitted"
    sign = principal.get_by_test_id("sign-form")
    sign.get_by_label("密码").fill(TEST_PASSWORD)
    sign.get_by_label("本人已审阅").check()
    sign.get_by_label("仍确认签字").check()
    screenshot(principal, "inspections-06-self-check-sign")
    sign.get_by_role("button", name="签字并报送").click()
    expect(principal.get_by_test_id("signature")).to_contain_text("王建国")
    expect(principal.get_by_test_id("report-status")).to_contain_text("已签字报送")
    assert principal.locator("input[type=radio]").count() == 0
    screenshot(principal, "inspections-07-self-check-signed")
    report.refresh_from_db()
    assert report.status == "submitted" and report.signed_by_account == cast.principal
    assert not failed + p_failed, failed + p_failed
    # the one refused signature (no confirmation of the unexplained 不符合 answers) answered 400
    assert not errors and len(p_errors) == 1 and "status of 400" in p_errors[0], errors + p_errors


def test_the_clerk_filters_the_hazard_picker(
    live_server: Any,
    page_factory: Any,
    cast: Cast,
    world: World,
    campaign83: Any,
) -> None:
    report = self_check_start(actor=cast.clerk, campaign=campaign83, enterprise=world.enterprise_a)
    wanted = make_hazard(world.enterprise_a, description="主运输道路边坡滚石")
    make_hazard(world.enterprise_a, description="炸药库防雷设施失效")
    page = page_factory()
    failed, errors = watch_page(page)
    _login(page, live_server.url, "clerk")
    page.goto(f"{live_server.url}{report.get_absolute_url()}")
    picker = page.get_by_test_id("hazard-picker")
    expect(picker.locator("[data-picker-item]:visible")).to_have_count(2)
    picker.get_by_label("筛选隐患").fill("滚石")
    expect(picker.locator("[data-picker-item]:visible")).to_have_count(1)
    picker.get_by_text("主运输道路边坡滚石").click()
    expect(picker.locator("[data-picker-count]")).to_have_text("1")
    picker.get_by_label("筛选隐患").fill("没有这样的隐患")
    expect(picker.locator("[data-picker-empty]")).to_be_visible()
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("已保存。")).to_be_visible()
    assert list(report.hazards.all()) == [wanted]
    assert not failed and not errors, (failed, errors)
