"""两步验证 (TOTP): enrolment, the second login step, removal, the admin site's check and the API.

Codes are computed with django_otp.oath.totp at a frozen time (time-machine), so every window,
throttle delay and replay is exact.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from portal.choices import AuditAction
from portal.models import AuditEvent, User
from portal.tokens.models import ApiToken
from tests.conftest import Cast
from tests.factories import TEST_PASSWORD
from tests.otp_helpers import force_login_verified
from tests.token_helpers import issue_token, token_row

# A moment in the middle of a 30-second step, so that ±1 step is unambiguous.
T0 = dt.datetime(2026, 11, 20, 9, 0, 10, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def code_for(device: TOTPDevice, *, steps: int = 0) -> str:
    """The code the user's authenticator shows now (or `steps` time steps away: -1 is the previous one)."""
    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps)).zfill(6)


def enrolled(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="手机动态口令", confirmed=True)


def password_login(client: Client, username: str, next_url: str = "") -> str:
    response = client.post(
        "/login/" + (f"?next={next_url}" if next_url else ""), {"username": username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    return str(response["Location"])


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def backup_codes_on(response: object) -> list[str]:
    """The backup codes a page shows (each in its own list item under data-testid="backup-codes")."""
    body = response.content.decode()  # type: ignore[attr-defined]
    block = re.search(r'data-testid="backup-codes">(.*?)</ul>', body, re.S)
    return re.findall(r"<li[^>]*>([a-z2-7]{8})</li>", block.group(1)) if block else []


def events(action: str, user: User) -> int:
    return AuditEvent.objects.filter(action=action, actor=user).count()


# --- Enrolment -------------------------------------------------------------------------------


def test_enrolment_shows_the_secret_and_is_confirmed_by_a_first_code(cast: Cast, clock: object) -> None:
    client = Client()
    client.force_login(cast.county_staff)
    page = client.get("/otp/enrol/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "绑定动态口令" in body and "<script>" not in body
    device = TOTPDevice.objects.get(user=cast.county_staff)
    assert not device.confirmed
    secret = base64.b32encode(device.bin_key).decode()
    shown = re.search(r'data-testid="otp-secret">([A-Z2-7 ]+)<', body)
    assert shown is not None and shown.group(1).replace(" ", "") == secret
    assert f"otpauth://totp/{'%E9%9D%9E'}" in body  # the issuer, URL-encoded
    assert f"secret={secret}" in body
    assert 'src="data:image/svg+xml;base64,' in body  # the QR code, rendered on the server
    # The same secret until it is confirmed (a reload does not invalidate the scanned QR code).
    assert client.get("/otp/enrol/").content.decode().count(secret) >= 1
    assert TOTPDevice.objects.filter(user=cast.county_staff).count() == 1

    key_before = client.session.session_key
    response = client.post("/otp/enrol/", {"code": code_for(device)})
    # The backup codes are shown this once, then the user goes on to where they were going.
    assert response.status_code == 200
    assert len(backup_codes_on(response)) == 10
    assert 'href="/otp/"' in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id  # this session is verified
    assert client.session.session_key != key_before
    assert events(AuditAction.OTP_ADDED, cast.county_staff) == 1
    assert "已启用" in client.get("/otp/").content.decode()
    # A second enrolment is not offered while a device is bound.
    assert client.get("/otp/enrol/")["Location"] == "/otp/"


def test_enrolment_refuses_a_wrong_code(cast: Cast, clock: object) -> None:
    client = Client()
    client.force_login(cast.county_staff)
    client.get("/otp/enrol/")
    device = TOTPDevice.objects.get(user=cast.county_staff)
    wrong = str((int(code_for(device)) + 1) % 1_000_000).zfill(6)
    response = client.post("/otp/enrol/", {"code": wrong})
    assert response.status_code == 200
    assert "动态口令错误" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert events(AuditAction.OTP_FAILED, cast.county_staff) == 1
    assert events(AuditAction.OTP_ADDED, cast.county_staff) == 0
    # Not six digits: a form error, and the device's throttle is not touched.
    response = client.post("/otp/enrol/", {"code": "12ab56"})
    assert "6 位数字" in response.content.decode()


def test_pages_need_login(db: None) -> None:
    for url in ("/otp/", "/otp/enrol/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Client().get("/otp/verify/")["Location"].startswith("/login/")


# --- Login with a device --------------------------------------------------------------------


def test_password_alone_does_not_log_in_a_user_with_a_device(cast: Cast, clock: object) -> None:
    device = enrolled(cast.town_a_staff)
    client = Client()
    location = password_login(client, "town_a", next_url="/enterprises/")
    assert location.startswith("/otp/verify/")
    assert parse_qs(urlsplit(location).query)["next"] == ["/enterprises/"]
    assert not is_logged_in(client)
    # Half-way, nothing is reachable: pages, the API by session.
    assert client.get("/enterprises/")["Location"].startswith("/login/")
    assert client.get("/api/v1/me/").status_code in (401, 403)
    page = client.get(location)
    assert page.status_code == 200 and "town_a" in page.content.decode()
    assert events(AuditAction.LOGIN, cast.town_a_staff) == 0

    key_before = client.session.session_key
    response = client.post(location, {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == "/enterprises/"
    assert is_logged_in(client)
    assert client.session.session_key != key_before  # rotated when the login completes
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert events(AuditAction.LOGIN, cast.town_a_staff) == 1
    assert events(AuditAction.OTP_VERIFIED, cast.town_a_staff) == 1
    assert client.get("/enterprises/").status_code == 200


def test_a_fixed_session_id_does_not_survive_the_second_step(cast: Cast, clock: object) -> None:
    device = enrolled(cast.town_a_staff)
    client = Client()
    client.get("/login/")
    password_login(client, "town_a")
    planted = client.cookies["sessionid"].value  # what an attacker could have learnt half-way
    client.post("/otp/verify/", {"code": code_for(device)})
    assert client.cookies["sessionid"].value != planted
    attacker = Client()
    attacker.cookies["sessionid"] = planted
    assert attacker.get("/")["Location"].startswith("/login/")


def test_wrong_codes_are_refused_audited_and_throttled(cast: Cast, clock: time_machine.Coordinates) -> None:
    device = enrolled(cast.town_a_staff)
    client = Client()
    password_login(client, "town_a")
    wrong = str((int(code_for(device)) + 7) % 1_000_000).zfill(6)
    response = client.post("/otp/verify/", {"code": wrong})
    assert response.status_code == 200 and "动态口令错误" in response.content.decode()
    assert not is_logged_in(client)
    # Straight after a failure even the right code waits (1 s, then 2, 4, ...).
    response = client.post("/otp/verify/", {"code": code_for(device)})
    assert response.status_code == 429
    assert "请 1 秒后再试" in response.content.decode()
    assert not is_logged_in(client)
    clock.shift(2)
    assert client.post("/otp/verify/", {"code": wrong}).status_code == 200  # 2nd failure: 2 s
    clock.shift(1)
    assert client.post("/otp/verify/", {"code": wrong}).status_code == 429
    clock.shift(2)
    assert client.post("/otp/verify/", {"code": wrong}).status_code == 200  # 3rd failure: 4 s
    clock.shift(3)
    response = client.post("/otp/verify/", {"code": code_for(device)})
    assert response.status_code == 429 and "请 1 秒后再试" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 3
    clock.shift(2)
    response = client.post("/otp/verify/", {"code": code_for(device)})
    assert response.status_code == 302 and is_logged_in(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 0  # reset by a success
    failed = AuditEvent.objects.filter(action=AuditAction.OTP_FAILED, actor=cast.town_a_staff)
    assert failed.count() == 6  # 3 wrong codes and 3 tries while throttled, each recorded
    assert failed.filter(detail__contains="尝试过于频繁").count() == 3


def test_code_windows_and_replay(cast: Cast, clock: time_machine.Coordinates) -> None:
    device = enrolled(cast.town_a_staff)
    # One step late (a slow typist) is accepted ...
    client = Client()
    password_login(client, "town_a")
    assert client.post("/otp/verify/", {"code": code_for(device, steps=-1)}).status_code == 302
    # ... but the same code never twice, nor an older one.
    again = Client()
    password_login(again, "town_a")
    assert again.post("/otp/verify/", {"code": code_for(device, steps=-1)}).status_code == 200
    clock.shift(2)
    assert again.post("/otp/verify/", {"code": code_for(device, steps=-2)}).status_code == 200
    # (django-otp now counts this authenticator as one step slow: OTP_TOTP_SYNC follows the drift.)
    assert TOTPDevice.objects.get(pk=device.pk).drift == -1
    # Another user: two steps (a minute) later, the code of then is refused; the code of now is accepted.
    other = enrolled(cast.town_b_staff)
    old = code_for(other)
    clock.shift(65)
    late = Client()
    password_login(late, "town_b")
    assert late.post("/otp/verify/", {"code": old}).status_code == 200
    clock.shift(2)
    assert late.post("/otp/verify/", {"code": code_for(other)}).status_code == 302


def test_a_pending_login_expires(cast: Cast, clock: time_machine.Coordinates, settings) -> None:  # type: ignore[no-untyped-def]
    device = enrolled(cast.town_a_staff)
    client = Client()
    password_login(client, "town_a")
    clock.shift(settings.OTP_PENDING_LOGIN_SECONDS + 1)
    response = client.post("/otp/verify/", {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not is_logged_in(client)


def test_verification_does_not_redirect_off_site(cast: Cast, clock: object) -> None:
    device = enrolled(cast.town_a_staff)
    client = Client()
    password_login(client, "town_a")
    response = client.post("/otp/verify/", {"code": code_for(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_users_without_a_device_log_in_with_the_password(cast: Cast) -> None:
    client = Client()
    assert password_login(client, "town_a") == "/"
    assert is_logged_in(client)


# --- Removal ----------------------------------------------------------------------------------


def test_removal_needs_a_current_code(cast: Cast, clock: time_machine.Coordinates) -> None:
    client = Client()
    device = force_login_verified(client, cast.county_staff)
    wrong = str((int(code_for(device)) + 3) % 1_000_000).zfill(6)
    response = client.post("/otp/remove/", {"code": wrong})
    assert response.status_code == 200 and "动态口令错误" in response.content.decode()
    assert TOTPDevice.objects.filter(user=cast.county_staff).exists()
    assert events(AuditAction.OTP_FAILED, cast.county_staff) == 1
    clock.shift(2)
    response = client.post("/otp/remove/", {"code": code_for(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.county_staff).exists()
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert events(AuditAction.OTP_REMOVED, cast.county_staff) == 1
    # The password alone is enough again.
    assert password_login(Client(), "county") == "/"
    # GET does not remove anything.
    assert Client().get("/otp/remove/").status_code == 302


def test_another_users_device_cannot_be_used(cast: Cast, clock: object) -> None:
    enrolled(cast.town_a_staff)
    other = enrolled(cast.town_b_staff)
    client = Client()
    password_login(client, "town_a")
    assert client.post("/otp/verify/", {"code": code_for(other)}).status_code == 200
    assert not is_logged_in(client)


# --- The admin site ---------------------------------------------------------------------------


def test_admin_refuses_a_session_without_verification(cast: Cast, clock: object) -> None:
    assert Client().get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert Client().get("/admin/login/?next=/admin/")["Location"].startswith("/login/?next=/admin/")
    client = Client()
    client.force_login(cast.admin)  # the password only
    assert client.get("/admin/portal/enterprise/").status_code == 302
    response = client.get("/admin/portal/enterprise/", follow=True)
    assert response.redirect_chain[-1][0] == "/otp/enrol/?next=%2Fadmin%2Fportal%2Fenterprise%2F"
    assert "管理后台账号必须启用两步验证" in response.content.decode()
    # Enrolled, but this session has not entered a code: the code is asked.
    device = enrolled(cast.admin)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/otp/verify/?next=%2Fadmin%2F"
    key_before = client.session.session_key
    response = client.post("/otp/verify/?next=/admin/", {"code": code_for(device), "next": "/admin/"})
    assert response["Location"] == "/admin/"
    assert client.session.session_key != key_before  # the session gained a factor: new key
    assert client.get("/admin/").status_code == 200
    assert events(AuditAction.OTP_VERIFIED, cast.admin) == 1


def test_admin_journey_from_the_password_to_the_admin_site(cast: Cast, clock: time_machine.Coordinates) -> None:
    client = Client()
    location = password_login(client, "admin", next_url="/admin/")
    assert location == "/admin/"
    response = client.get(location, follow=True)
    assert response.redirect_chain[-1][0].startswith("/otp/enrol/")
    device = TOTPDevice.objects.get(user=cast.admin, confirmed=False)
    response = client.post("/otp/enrol/?next=/admin/", {"code": code_for(device), "next": "/admin/"})
    assert response.status_code == 200 and len(backup_codes_on(response)) == 10
    assert 'href="/admin/"' in response.content.decode()
    assert client.get("/admin/").status_code == 200
    # Next time: password, then code, then the admin site.
    client.post("/logout/")
    fresh = Client()
    location = password_login(fresh, "admin", next_url="/admin/")
    assert location.startswith("/otp/verify/")
    clock.shift(30)
    assert fresh.post(location, {"code": code_for(device)})["Location"] == "/admin/"
    assert fresh.get("/admin/").status_code == 200


@pytest.mark.parametrize("member", ["county_staff", "town_a_staff"])
def test_verified_users_without_staff_status_have_no_admin_site(cast: Cast, member: str) -> None:
    client = Client()
    force_login_verified(client, getattr(cast, member))
    assert client.get("/admin/login/?next=/admin/").status_code == 403
    assert client.get("/admin/").status_code == 302


def test_device_admin_is_not_exposed(cast: Cast) -> None:
    cast.admin.is_superuser = True
    cast.admin.save()
    client = Client()
    force_login_verified(client, cast.admin)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


# --- The API ----------------------------------------------------------------------------------


def test_token_login_needs_the_code_of_an_enrolled_user(cast: Cast, clock: time_machine.Coordinates) -> None:
    device = enrolled(cast.town_a_staff)
    api = APIClient()
    url = "/api/v1/auth/token/"
    response = api.post(url, {"username": "town_a", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 400
    assert response.json() == {"otp_token": ["该账号已启用两步验证，请填写动态口令。"]}
    wrong = str((int(code_for(device)) + 1) % 1_000_000).zfill(6)
    response = api.post(url, {"username": "town_a", "password": TEST_PASSWORD, "otp_token": wrong}, format="json")
    assert response.status_code == 400 and "动态口令错误" in response.json()["otp_token"][0]
    response = api.post(
        url, {"username": "town_a", "password": TEST_PASSWORD, "otp_token": code_for(device)}, format="json"
    )
    assert response.status_code == 429 and "秒后再试" in response.json()["detail"]
    assert not ApiToken.objects.exists()
    clock.shift(2)
    response = api.post(
        url, {"username": "town_a", "password": TEST_PASSWORD, "otp_token": code_for(device)}, format="json"
    )
    assert response.status_code == 200
    assert token_row(response.json()["token"]).user == cast.town_a_staff
    assert events(AuditAction.OTP_FAILED, cast.town_a_staff) == 2
    # A wrong password with a right code is still a wrong password.
    response = api.post(url, {"username": "town_a", "password": "wrong", "otp_token": code_for(device)}, format="json")
    assert response.status_code == 400 and response.json() == {"non_field_errors": ["用户名或密码错误。"]}


def test_enrolment_revokes_the_password_only_token(cast: Cast, clock: object) -> None:
    token = issue_token(cast.county_staff)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/me/").status_code == 200
    client = Client()
    client.force_login(cast.county_staff)
    client.get("/otp/enrol/")
    device = TOTPDevice.objects.get(user=cast.county_staff)
    client.post("/otp/enrol/", {"code": code_for(device)})
    assert api.get("/api/v1/me/").status_code == 401
    # Users without a device keep the token login of old.
    response = APIClient().post("/api/v1/auth/token/", {"username": "town_b", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200


# --- manage.py otp_enrol --------------------------------------------------------------------------


def test_otp_enrol_command_lets_a_developer_reach_the_admin(cast: Cast, clock: time_machine.Coordinates) -> None:
    out = StringIO()
    call_command("otp_enrol", "admin", stdout=out)
    printed = out.getvalue()
    device = TOTPDevice.objects.get(user=cast.admin, confirmed=True)
    assert base64.b32encode(device.bin_key).decode() in printed and "otpauth://totp/" in printed
    assert f"当前动态口令：{code_for(device)}" in printed
    assert AuditEvent.objects.filter(action=AuditAction.OTP_ADDED, object_id=str(cast.admin.pk)).count() == 1
    clock.shift(30)
    out = StringIO()
    call_command("otp_enrol", "admin", "--code", stdout=out)
    client = Client()
    location = password_login(client, "admin", next_url="/admin/")
    assert client.post(location, {"code": out.getvalue().strip()})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    # Already enrolled: refused without --replace; --remove takes the device away (audited).
    with pytest.raises(Exception, match="已绑定"):
        call_command("otp_enrol", "admin", stdout=StringIO())
    call_command("otp_enrol", "admin", "--remove", stdout=StringIO())
    assert not TOTPDevice.objects.filter(user=cast.admin).exists()
    assert AuditEvent.objects.filter(action=AuditAction.OTP_REMOVED, object_id=str(cast.admin.pk)).count() == 1
