"""API tokens end: idle and absolute lifetime, revoked by every password change, deactivation, logout and
「退出所有设备」; each issue and revocation audited; a user sees and revokes only their own tokens."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from portal import services
from portal.choices import AuditAction
from portal.models import ApiToken, AuditEvent, User
from portal.tasks import purge_expired_api_tokens
from portal.tokens.models import hash_key
from tests.conftest import Cast
from tests.factories import TEST_PASSWORD
from tests.token_helpers import issue_token, token_row

T0 = dt.datetime(2024, 5, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NEW_PASSWORD = "Xin-Mima-2025!"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def token_login(username: str, **extra: Any) -> Any:
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": TEST_PASSWORD, **extra}, format="json"
    )


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def works(key: str) -> bool:
    status = with_token(key).get("/api/v1/me/").status_code
    assert status in (200, 401), status
    return status == 200


def revoked_events(user: User) -> int:
    return AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKED, object_id=str(user.pk)).count()


def web_login(username: str) -> Client:
    client = Client()
    assert client.post("/login/", {"username": username, "password": TEST_PASSWORD}).status_code == 302
    return client


# --- Issue ------------------------------------------------------------------------------------------


def test_login_issues_one_hashed_token_per_device_and_audits_it(cast: Cast, clock: Any, settings: Any) -> None:
    response = token_login("town_a", device="巡查平板")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at", "user"}
    key = body["token"]
    row = token_row(key)
    assert row.user == cast.town_a_staff and row.device == "巡查平板"
    assert dt.datetime.fromisoformat(body["expires_at"]) == T0 + dt.timedelta(
        seconds=settings.API_TOKEN_MAX_AGE_SECONDS
    )
    # Only the hash is stored: no column holds the key.
    assert row.key_hash == hash_key(key) and key not in str(ApiToken.objects.values().get())
    issued = AuditEvent.objects.get(action=AuditAction.TOKEN_ISSUED)
    assert issued.actor == cast.town_a_staff and row.prefix in issued.detail
    # A second device gets its own token; the user agent names it when the client does not.
    second = APIClient(HTTP_USER_AGENT="python-requests/2.32").post(
        "/api/v1/auth/token/", {"username": "town_a", "password": TEST_PASSWORD}, format="json"
    )
    assert token_row(second.json()["token"]).device == "python-requests/2.32"
    assert works(key) and works(second.json()["token"])


def test_a_wrong_or_truncated_key_is_refused_in_chinese(cast: Cast) -> None:
    key = issue_token(cast.county_staff)
    for bad in (key[:-1], key.upper(), token_row(key).key_hash, token_row(key).prefix):
        response = with_token(bad).get("/api/v1/me/")
        assert response.status_code == 401
        assert "令牌无效" in response.json()["detail"]


# --- Expiry -------------------------------------------------------------------------------------------


def test_an_idle_token_expires_and_use_keeps_it_alive(
    cast: Cast, clock: time_machine.Coordinates, settings: Any
) -> None:
    settings.API_TOKEN_IDLE_SECONDS = 3600
    key = issue_token(cast.town_a_staff)
    clock.shift(3500)
    assert works(key)  # used: the idle hour starts again
    clock.shift(3500)
    assert works(key)
    clock.shift(3601)
    response = with_token(key).get("/api/v1/hazards/")
    assert response.status_code == 401 and "已过期" in response.json()["detail"]
    assert not works(key)


def test_a_token_in_use_still_ends_at_its_absolute_lifetime(
    cast: Cast, clock: time_machine.Coordinates, settings: Any
) -> None:
    settings.API_TOKEN_IDLE_SECONDS = 3600
    settings.API_TOKEN_MAX_AGE_SECONDS = 4 * 3600
    key = issue_token(cast.town_a_staff)
    for _ in range(4):
        clock.shift(3000)
        assert works(key)
    clock.shift(3000)  # 15,000 s in, used every 50 minutes
    assert not works(key)


def test_expired_tokens_are_purged_nightly_and_audited(
    cast: Cast, clock: time_machine.Coordinates, settings: Any
) -> None:
    settings.API_TOKEN_IDLE_SECONDS = 3600
    old = issue_token(cast.town_a_staff)
    clock.shift(3000)
    fresh = issue_token(cast.town_a_staff)
    clock.shift(1000)
    assert purge_expired_api_tokens() == 1
    assert not ApiToken.objects.filter(key_hash=hash_key(old)).exists()
    assert works(fresh)
    event = AuditEvent.objects.get(action=AuditAction.TOKEN_REVOKED)
    assert event.actor is None and "已过期" in event.detail


def test_every_api_operation_refuses_an_expired_token(cast: Cast, clock: time_machine.Coordinates) -> None:
    """The class: no endpoint of the schema reads with a token past its lifetime (hazards, reports … included)."""
    key = issue_token(cast.county_staff)
    clock.shift(dt.timedelta(days=365))
    schema = SchemaGenerator().get_schema(request=None, public=True)
    client = with_token(key)
    checked = 0
    for path, item in schema["paths"].items():
        if "get" not in item or "{" in path:
            continue
        response = client.get(path)
        assert response.status_code == 401, (path, response.status_code)
        checked += 1
    assert checked >= 15


# --- Revocation -------------------------------------------------------------------------------------------


def test_a_password_change_on_the_page_revokes_the_tokens(cast: Cast) -> None:
    key = issue_token(cast.town_a_staff)
    client = web_login("town_a")
    response = client.post(
        "/password/", {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session carries on
    assert not works(key)
    assert not ApiToken.objects.filter(user=cast.town_a_staff).exists()
    assert revoked_events(cast.town_a_staff) == 1


def test_a_refused_password_change_keeps_the_tokens(cast: Cast) -> None:
    key = issue_token(cast.town_a_staff)
    client = web_login("town_a")
    response = client.post("/password/", {"old_password": "wrong", "new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    assert works(key) and revoked_events(cast.town_a_staff) == 0


def test_an_admin_password_reset_through_the_api_revokes_the_tokens(cast: Cast) -> None:
    key = issue_token(cast.town_a_staff)
    admin = with_token(issue_token(cast.admin))
    response = admin.patch(f"/api/v1/users/{cast.town_a_staff.pk}/", {"password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200
    assert not works(key)
    event = AuditEvent.objects.get(action=AuditAction.TOKEN_REVOKED, object_id=str(cast.town_a_staff.pk))
    assert event.actor == cast.admin and "管理员重置密码" in event.detail


def _set_password_outside_the_services(user: User) -> None:
    """What the Django admin's password form and `manage.py changepassword` do: set_password and save."""
    user.set_password(NEW_PASSWORD)
    user.save()


def _changepassword_command(user: User) -> None:
    from django.contrib.auth.management.commands import changepassword

    command = changepassword.Command()
    command._get_pass = lambda prompt="": NEW_PASSWORD  # type: ignore[method-assign]
    call_command(command, user.username, stdout=None)


@pytest.mark.parametrize(
    "change",
    [
        lambda user: services.user_set_password(actor=user, user=user, password=NEW_PASSWORD),
        _set_password_outside_the_services,
        _changepassword_command,
    ],
    ids=["service", "admin-form", "manage.py-changepassword"],
)
def test_every_way_of_changing_a_password_ends_the_tokens(cast: Cast, change: Any) -> None:
    """Even a path that calls no service: the token keeps the password's fingerprint of its issue."""
    key = issue_token(cast.town_b_staff)
    assert works(key)
    change(User.objects.get(pk=cast.town_b_staff.pk))
    response = with_token(key).get("/api/v1/enterprises/")
    assert response.status_code == 401
    client = APIClient()
    relogin = client.post(
        "/api/v1/auth/token/", {"username": cast.town_b_staff.username, "password": NEW_PASSWORD}, format="json"
    )
    assert relogin.status_code == 200 and works(relogin.json()["token"])


def test_deactivation_revokes_the_tokens(cast: Cast) -> None:
    key = issue_token(cast.town_a_staff)
    admin = with_token(issue_token(cast.admin))
    assert admin.patch(f"/api/v1/users/{cast.town_a_staff.pk}/", {"is_active": False}, format="json").status_code == 200
    assert not works(key)
    assert not ApiToken.objects.filter(user=cast.town_a_staff).exists()
    assert revoked_events(cast.town_a_staff) == 1
    # Reactivated, the old token does not come back.
    assert admin.patch(f"/api/v1/users/{cast.town_a_staff.pk}/", {"is_active": True}, format="json").status_code == 200
    assert not works(key)


def test_api_logout_revokes_only_the_token_it_was_sent_with(cast: Cast) -> None:
    phone, laptop = issue_token(cast.county_staff, "手机"), issue_token(cast.county_staff, "电脑")
    response = with_token(phone).post("/api/v1/auth/logout/")
    assert response.status_code == 204
    assert not works(phone) and works(laptop)
    assert revoked_events(cast.county_staff) == 1


def test_api_sign_out_everywhere_ends_tokens_and_web_sessions(cast: Cast) -> None:
    phone, laptop = issue_token(cast.county_staff, "手机"), issue_token(cast.county_staff, "电脑")
    browser = web_login("county")
    other = issue_token(cast.county_leader)
    response = with_token(phone).post("/api/v1/auth/logout-all/")
    assert response.status_code == 200 and response.json() == {"tokens": 2, "sessions": 1}
    assert not works(phone) and not works(laptop)
    assert browser.get("/")["Location"].startswith("/login/")
    assert works(other)  # nobody else is signed out
    assert revoked_events(cast.county_staff) == 2
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, detail__startswith="退出所有设备").count() == 1


def test_the_devices_page_lists_own_tokens_and_signs_out_everywhere(cast: Cast) -> None:
    mine = issue_token(cast.county_staff, "县局巡查平板")
    theirs = issue_token(cast.county_leader, "分管领导手机")
    desk, other_browser = web_login("county"), web_login("county")
    page = desk.get("/devices/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "县局巡查平板" in body and token_row(mine).prefix in body
    assert "分管领导手机" not in body and token_row(theirs).prefix not in body
    assert mine not in body  # the key itself is never shown again
    response = desk.post("/devices/sign-out-everywhere/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert not works(mine) and works(theirs)
    assert desk.get("/")["Location"].startswith("/login/")
    assert other_browser.get("/")["Location"].startswith("/login/")
    assert not Session.objects.filter(session_key__in=[desk.session.session_key]).exists()


def test_revoking_one_token_on_the_page_and_not_someone_elses(cast: Cast) -> None:
    mine = issue_token(cast.county_staff)
    theirs = issue_token(cast.county_leader)
    desk = web_login("county")
    response = desk.post(f"/devices/tokens/{token_row(theirs).pk}/revoke/")
    assert response.status_code == 404
    assert works(theirs)
    denied = AuditEvent.objects.get(action=AuditAction.DENIED)
    assert denied.actor == cast.county_staff
    assert desk.get(f"/devices/tokens/{token_row(mine).pk}/revoke/").status_code == 405
    response = desk.post(f"/devices/tokens/{token_row(mine).pk}/revoke/")
    assert response.status_code == 302
    assert not works(mine)
    assert revoked_events(cast.county_staff) == 1


def test_the_token_api_lists_and_revokes_only_own_tokens(cast: Cast) -> None:
    mine, second = issue_token(cast.county_staff, "一"), issue_token(cast.county_staff, "二")
    theirs = issue_token(cast.admin)
    client = with_token(mine)
    listed = client.get("/api/v1/auth/tokens/").json()["results"]
    assert {row["device"] for row in listed} == {"一", "二"}
    assert [row["current"] for row in listed if row["device"] == "一"] == [True]
    assert "token" not in listed[0] and "key_hash" not in listed[0]
    # An admin's token is none of county staff's business: 404, logged.
    assert client.delete(f"/api/v1/auth/tokens/{token_row(theirs).pk}/").status_code == 404
    assert works(theirs)
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, actor=cast.county_staff).count() == 1
    # Nor can the admin read or revoke county staff's tokens.
    admin = with_token(theirs)
    assert admin.get("/api/v1/auth/tokens/").json()["count"] == 1
    assert admin.delete(f"/api/v1/auth/tokens/{token_row(second).pk}/").status_code == 404
    assert client.delete(f"/api/v1/auth/tokens/{token_row(second).pk}/").status_code == 204
    assert not works(second) and works(mine)
    assert APIClient().get("/api/v1/auth/tokens/").status_code == 401


def test_the_devices_page_lists_web_sessions_and_ends_one(cast: Cast) -> None:
    desk, laptop = web_login("county"), web_login("county")
    colleague = web_login("leader")
    page = desk.get("/devices/").content.decode()
    assert "当前有 <strong>2</strong> 个网页登录" in page
    assert desk.session.session_key not in page and laptop.session.session_key not in page  # keys never shown
    refs = re.findall(r'name="ref" value="([0-9a-f]+)"', page)
    assert len(refs) == 1  # only the other one can be ended here (this one: 「退出」)
    # Another user's session reference ends nothing.
    other_page = colleague.get("/devices/").content.decode()
    assert colleague.post("/devices/sessions/end/", {"ref": refs[0]}).status_code == 404
    assert laptop.get("/").status_code == 200
    assert "当前有 <strong>1</strong> 个网页登录" in other_page
    response = desk.post("/devices/sessions/end/", {"ref": refs[0]})
    assert response.status_code == 302
    assert laptop.get("/")["Location"].startswith("/login/")
    assert desk.get("/").status_code == 200 and colleague.get("/").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, detail__startswith="结束一个网页登录").count() == 1
