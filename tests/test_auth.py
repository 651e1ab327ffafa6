from __future__ import annotations

import pytest
from django.test import Client

from portal.models import AuditEvent
from tests.conftest import Cast
from tests.factories import TEST_PASSWORD


def _login(client: Client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"username": username, "password": password})


def test_login_page_is_chinese_and_has_no_inline_script(db: None) -> None:
    response = Client().get("/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="zh-CN">' in body
    assert "用户名" in body and "密码" in body
    assert "<script>" not in body  # every script has a src
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_login_logout_are_audited(cast: Cast) -> None:
    client = Client()
    response = _login(client, "town_a", TEST_PASSWORD)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="login", actor=cast.town_a_staff).count() == 1
    client.post("/logout/")
    assert AuditEvent.objects.filter(action="logout", actor=cast.town_a_staff).count() == 1


def test_failed_login_is_audited_with_a_chinese_message(cast: Cast) -> None:
    client = Client()
    response = _login(client, "town_a", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    event = AuditEvent.objects.get(action="login_failed")
    assert event.actor_name == "town_a"
    assert event.actor is None


def test_lockout_after_repeated_failures(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "town_a", "wrong-password")
    # Even the right password is refused now.
    response = _login(client, "town_a", TEST_PASSWORD)
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_session_is_rotated_at_login(cast: Cast) -> None:
    client = Client()
    client.get("/login/")
    client.cookies["sessionid"] = "attacker-chosen-session-id"
    _login(client, "town_a", TEST_PASSWORD)
    assert client.cookies["sessionid"].value != "attacker-chosen-session-id"


def test_pages_require_login(db: None) -> None:
    for url in ("/", "/enterprises/", "/audit/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_password_change_enforces_rules(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.town_a_staff)
    response = client.post(
        "/password/", {"old_password": TEST_PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    assert response.status_code == 200
    cast.town_a_staff.refresh_from_db()
    assert cast.town_a_staff.check_password(TEST_PASSWORD)
    response = client.post(
        "/password/",
        {"old_password": TEST_PASSWORD, "new_password1": "Xin-Mima-2025!", "new_password2": "Xin-Mima-2025!"},
    )
    assert response.status_code == 302
    cast.town_a_staff.refresh_from_db()
    assert cast.town_a_staff.check_password("Xin-Mima-2025!")


@pytest.mark.parametrize("member", ["clerk", "town_a_staff", "county_staff", "county_leader", "city_viewer"])
def test_only_admins_read_the_audit_log(cast: Cast, member: str) -> None:
    client = Client()
    client.force_login(getattr(cast, member))
    assert client.get("/audit/").status_code == 403


def test_admin_reads_own_county_audit_only(cast: Cast, world) -> None:  # type: ignore[no-untyped-def]
    from portal import services

    services.enterprise_update(actor=cast.admin, enterprise=world.enterprise_a, data={"address": "巴公镇某村"})
    services.enterprise_update(actor=None, enterprise=world.enterprise_other, data={"address": "外县某村"})
    client = Client()
    client.force_login(cast.admin)
    body = client.get("/audit/").content.decode()
    assert "泽州县示范矿业有限公司" in body
    assert "上党区外县矿业有限公司" not in body
