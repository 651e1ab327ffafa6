"""Issue 13 §6 in the browser: the town verifies rectified hazards in bulk from its 待办 on a phone (one
comment, a result per hazard). The self-check's hazard picker: tests/inspections/test_browser.py."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from hazards.choices import HazardLevel, HazardStatus
from hazards.models import Hazard, HazardEvent
from tests.browser_fixtures import screenshot, watch_page
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.hazards.conftest import add_evidence, make_hazard


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def test_the_town_verifies_in_bulk_from_its_queue(
    live_server: Any, page_factory: Any, cast: Cast, world: World
) -> None:
    hazards = [
        make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=HazardStatus.RECTIFIED) for _ in range(2)
    ]
    for hazard in hazards:
        add_evidence(hazard)
    page = page_factory(mobile=True)
    failed, errors = watch_page(page)
    _login(page, live_server.url, "town_a")
    page.goto(f"{live_server.url}/hazards/queue/")
    for hazard in hazards:
        page.locator(f"#bulk-{hazard.pk}").check()
    form = page.get_by_test_id("bulk-form")
    form.get_by_label("批量办理勾选的隐患").select_option("verify")
    form.get_by_label("意见（每项相同）").fill("经现场核查，已整改到位。")
    page.once("dialog", lambda dialog: dialog.accept())
    form.get_by_role("button", name="批量办理").click()
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("成功 2 项")
    expect(page.locator("[data-testid=bulk-result][data-ok='1']")).to_have_count(2)
    screenshot(page, "bulk-verify-result-390")
    assert set(Hazard.objects.filter(pk__in=[h.pk for h in hazards]).values_list("status", flat=True)) == {
        HazardStatus.VERIFIED
    }
    assert HazardEvent.objects.filter(action="verify", comment="经现场核查，已整改到位。").count() == 2
    assert not failed and not errors, (failed, errors)
