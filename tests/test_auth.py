from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from portal.models import AuditEvent, User
from tests.conftest import Cast
from tests.factories import TEST_PASSWORD
from tests.otp_helpers import force_login_verified


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


# --- Lockout, session and password rules: the gaps (web form and API token login alike) --------


def test_lockout_is_per_account_and_address(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    attacker = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(attacker, "town_a", "wrong-password")
    assert _login(attacker, "town_a", TEST_PASSWORD).status_code == 429
    # The real user at their own desk is not locked out by someone else's guesses ...
    assert _login(Client(REMOTE_ADDR="10.1.1.1"), "town_a", TEST_PASSWORD).status_code == 302
    # ... and other accounts from the guessing address still log in.
    assert _login(Client(REMOTE_ADDR="10.9.9.9"), "town_b", TEST_PASSWORD).status_code == 302
    api = APIClient(REMOTE_ADDR="10.9.9.9")
    locked = api.post("/api/v1/auth/token/", {"username": "town_a", "password": TEST_PASSWORD}, format="json")
    assert locked.status_code == 429


def test_lockout_ends_after_the_cool_off_time(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    start = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _login(client, "town_a", "wrong-password")
        api = APIClient()
        payload = {"username": "town_a", "password": TEST_PASSWORD}
        assert _login(client, "town_a", TEST_PASSWORD).status_code == 429
        assert api.post("/api/v1/auth/token/", payload, format="json").status_code == 429
        cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
        clock.shift(cool_off - dt.timedelta(minutes=1))
        # Still locked a minute before; and every try while locked starts the cool-off again.
        assert _login(client, "town_a", TEST_PASSWORD).status_code == 429
        clock.shift(cool_off - dt.timedelta(minutes=1))
        assert api.post("/api/v1/auth/token/", payload, format="json").status_code == 429
        clock.shift(cool_off + dt.timedelta(minutes=1))
        assert api.post("/api/v1/auth/token/", payload, format="json").status_code == 200
        assert _login(Client(), "town_a", TEST_PASSWORD).status_code == 302


def test_a_success_resets_the_failure_count(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "town_a", "wrong-password")
    assert _login(client, "town_a", TEST_PASSWORD).status_code == 302
    client.post("/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "town_a", "wrong-password")
    assert _login(client, "town_a", TEST_PASSWORD).status_code == 302


def test_logout_ends_the_session_on_the_server(cast: Cast) -> None:
    client = Client()
    _login(client, "town_a", TEST_PASSWORD)
    stolen = client.cookies["sessionid"].value
    client.post("/logout/")
    replay = Client()
    replay.cookies["sessionid"] = stolen
    assert replay.get("/")["Location"].startswith("/login/")
    assert replay.get("/api/v1/me/").status_code in (401, 403)


def test_a_password_change_ends_the_other_sessions(cast: Cast) -> None:
    desk, elsewhere = Client(), Client()
    _login(desk, "town_a", TEST_PASSWORD)
    _login(elsewhere, "town_a", TEST_PASSWORD)
    assert elsewhere.get("/").status_code == 200
    response = desk.post(
        "/password/",
        {"old_password": TEST_PASSWORD, "new_password1": "Xin-Mima-2025!", "new_password2": "Xin-Mima-2025!"},
    )
    assert response.status_code == 302
    assert desk.get("/").status_code == 200  # this session carries on
    assert elsewhere.get("/")["Location"].startswith("/login/")


def test_token_login_logs_no_session_in(cast: Cast) -> None:
    api = APIClient()
    response = api.post("/api/v1/auth/token/", {"username": "town_a", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200
    assert "_auth_user_id" not in api.session
    assert api.get("/api/v1/me/").status_code == 401  # only the token authenticates


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1-short", "密码太短"),
        ("20241122998877", "只包含数字"),
        ("password1234", "太常见"),
        ("town_a_2024", "相似"),
    ],
)
def test_password_rules_apply_to_the_web_change_and_the_api(cast: Cast, password: str, message: str) -> None:
    client = Client()
    client.force_login(cast.town_a_staff)
    response = client.post(
        "/password/", {"old_password": TEST_PASSWORD, "new_password1": password, "new_password2": password}
    )
    assert response.status_code == 200 and message in response.content.decode()
    api = APIClient()
    api.force_authenticate(cast.admin)
    response = api.patch(f"/api/v1/users/{cast.town_a_staff.pk}/", {"password": password}, format="json")
    assert response.status_code == 400 and message in " ".join(response.json()["password"])
    cast.town_a_staff.refresh_from_db()
    assert cast.town_a_staff.check_password(TEST_PASSWORD)


def test_password_rules_apply_in_the_admin_site(cast: Cast) -> None:
    client = Client()
    force_login_verified(client, cast.admin)
    response = client.post(
        "/admin/portal/user/add/",
        {"username": "new_town", "password1": "12345678", "password2": "12345678", "role": "town_staff"},
    )
    assert response.status_code == 200
    assert "密码太短" in response.content.decode()
    assert not User.objects.filter(username="new_town").exists()
