"""A county admin reaches /admin/: password, enrolment with the QR code, then the code at the next login."""

from __future__ import annotations

from typing import Any

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser_fixtures import screenshot, watch_failed_requests
from tests.conftest import Cast
from tests.factories import TEST_PASSWORD


def _code(device: TOTPDevice, steps: int = 0) -> str:
    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps)).zfill(6)


def test_admin_enrols_and_logs_in_with_a_code(live_server: Any, page_factory: Any, cast: Cast) -> None:
    base = live_server.url
    page = page_factory()
    failed = watch_failed_requests(page)
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{base}/admin/")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/otp/enrol/**")
    assert "管理后台账号必须启用两步验证" in page.content()
    # The QR code is drawn (a data: SVG the CSP allows) and the secret is readable as text.
    assert page.evaluate("document.querySelector('[data-testid=otp-qr]').naturalWidth") > 0
    assert len(page.get_by_test_id("otp-secret").inner_text().replace(" ", "")) == 32
    screenshot(page, "otp-01-enrol")
    device = TOTPDevice.objects.get(user=cast.admin, confirmed=False)
    page.get_by_label("动态口令").fill(_code(device))
    page.get_by_role("button", name="确认绑定").click()
    # The backup codes, shown this once, then on to the admin site.
    codes = page.get_by_test_id("backup-codes").locator("li").all_inner_texts()
    assert len(codes) == 10 and all(len(code) == 8 for code in codes)
    screenshot(page, "otp-01b-backup-codes")
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_url(f"{base}/admin/")
    assert "非煤矿山安全监管门户 管理" in page.content()

    page.goto(f"{base}/")
    page.get_by_role("button", name="退出").click()
    page.goto(f"{base}/login/?next=/admin/")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/otp/verify/**")
    screenshot(page, "otp-02-verify")
    page.get_by_label("动态口令").fill("000000" if _code(device, 1) != "000000" else "111111")
    page.get_by_role("button", name="验证").click()
    assert "动态口令错误" in page.get_by_test_id("otp-error").inner_text()
    page.wait_for_timeout(1100)  # the throttle after one wrong code
    page.get_by_label("动态口令").fill(_code(device, 1))  # the next step's code: the last one is used
    page.get_by_role("button", name="验证").click()
    page.wait_for_url(f"{base}/admin/")
    assert not failed, failed
    assert not console_errors, console_errors
