"""Two-step verification recovery: one-time backup codes (备用码) shown once at enrolment, and a reset by the
county admin for the users of their county — each audited, each refused to whoever may not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from portal.choices import AuditAction, Role
from portal.models import ApiToken, AuditEvent, User
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD, UserFactory
from tests.test_two_factor import T0, backup_codes_on, code_for
from tests.token_helpers import issue_token


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def enrol_on_the_page(client: Client, user: User) -> tuple[TOTPDevice, list[str]]:
    client.force_login(user)
    client.get("/otp/enrol/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/otp/enrol/", {"code": code_for(device)})
    assert response.status_code == 200
    device.refresh_from_db()
    return device, backup_codes_on(response)


def stored_codes(user: User) -> set[str]:
    return set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def second_step(client: Client, username: str, code: str) -> Any:
    response = client.post("/login/", {"username": username, "password": TEST_PASSWORD})
    assert response["Location"].startswith("/otp/verify/")
    return client.post("/otp/verify/", {"code": code})


def test_enrolment_shows_ten_backup_codes_once(cast: Cast, clock: Any) -> None:
    client = Client()
    _, codes = enrol_on_the_page(client, cast.county_staff)
    assert len(codes) == len(set(codes)) == 10
    assert set(codes) == stored_codes(cast.county_staff)
    event = AuditEvent.objects.get(action=AuditAction.OTP_ADDED)
    assert event.after == {"device": "手机动态口令", "backup_codes": 10}
    # Never shown again: the overview only counts them.
    overview = client.get("/otp/").content.decode()
    assert "还剩 <strong>10</strong> 个" in overview
    assert not any(code in overview for code in codes)


def test_a_backup_code_logs_in_once_on_the_web(cast: Cast, clock: time_machine.Coordinates) -> None:
    _, codes = enrol_on_the_page(Client(), cast.admin)
    client = Client()
    response = second_step(client, "admin", codes[0].upper())  # typed in capitals: accepted
    assert response.status_code == 302
    assert client.session[DEVICE_ID_SESSION_KEY].startswith("otp_static.staticdevice/")
    assert client.get("/admin/").status_code == 200  # a verified session: the admin site opens
    assert len(stored_codes(cast.admin)) == 9
    used = AuditEvent.objects.get(action=AuditAction.OTP_VERIFIED, detail__contains="备用码")
    assert used.actor == cast.admin and "剩余 9 个" in used.detail
    # The same code a second time is refused (and counted).
    again = Client()
    response = second_step(again, "admin", codes[0])
    assert response.status_code == 200 and "_auth_user_id" not in again.session
    assert "错误或已使用过" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.OTP_FAILED, detail__contains="备用码错误").count() == 1


def test_a_backup_code_gets_an_api_token_once(cast: Cast, clock: time_machine.Coordinates) -> None:
    _, codes = enrol_on_the_page(Client(), cast.town_a_staff)
    url = "/api/v1/auth/token/"
    login = {"username": "town_a", "password": TEST_PASSWORD, "otp_token": codes[3]}
    assert APIClient().post(url, login, format="json").status_code == 200
    clock.shift(5)  # past the throttle delay of the failure below
    response = APIClient().post(url, login, format="json")
    assert response.status_code == 400 and "备用码" in response.json()["otp_token"][0]
    assert ApiToken.objects.filter(user=cast.town_a_staff).count() == 1


def test_wrong_backup_codes_are_throttled(cast: Cast, clock: time_machine.Coordinates) -> None:
    _, codes = enrol_on_the_page(Client(), cast.county_staff)
    client = Client()
    assert second_step(client, "county", "aaaaaaaa").status_code == 200
    response = client.post("/otp/verify/", {"code": codes[0]})
    assert response.status_code == 429  # a right code while waiting is not even checked
    assert len(stored_codes(cast.county_staff)) == 10
    clock.shift(2)
    assert client.post("/otp/verify/", {"code": codes[0]}).status_code == 302


def test_regenerating_needs_the_phone_and_ends_the_old_codes(cast: Cast, clock: time_machine.Coordinates) -> None:
    client = Client()
    device, old = enrol_on_the_page(client, cast.county_staff)
    response = client.post("/otp/backup-codes/", {"backup-code": old[0]})  # a backup code does not renew them
    assert response.status_code == 200 and stored_codes(cast.county_staff) == set(old)
    clock.shift(60)
    response = client.post("/otp/backup-codes/", {"backup-code": code_for(device)})
    new = backup_codes_on(response)
    assert len(new) == 10 and not set(new) & set(old)
    assert stored_codes(cast.county_staff) == set(new)
    assert AuditEvent.objects.filter(action=AuditAction.OTP_BACKUP_CODES, actor=cast.county_staff).count() == 1
    assert client.get("/otp/backup-codes/").status_code == 405


def test_removing_the_device_removes_the_backup_codes(cast: Cast, clock: time_machine.Coordinates) -> None:
    client = Client()
    device, codes = enrol_on_the_page(client, cast.county_staff)
    clock.shift(60)
    assert client.post("/otp/remove/", {"code": code_for(device)}).status_code == 302
    assert not StaticDevice.objects.filter(user=cast.county_staff).exists()
    # Nor does a left-over code of a user without a device do anything at the API.
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "county", "password": TEST_PASSWORD, "otp_token": codes[0]}, format="json"
    )
    assert response.status_code == 200


def test_the_server_command_remove_drops_the_backup_codes(cast: Cast, clock: Any) -> None:
    enrol_on_the_page(Client(), cast.county_staff)
    call_command("otp_enrol", "county", "--remove", stdout=None)
    assert not StaticDevice.objects.filter(user=cast.county_staff).exists()


# --- Reset by the county admin -----------------------------------------------------------------------------


def test_the_county_admin_resets_a_county_users_two_step_verification(cast: Cast, clock: Any) -> None:
    enrol_on_the_page(Client(), cast.town_a_staff)
    their_token = issue_token(cast.town_a_staff)
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(cast.admin)}")
    response = admin.post(f"/api/v1/users/{cast.town_a_staff.pk}/reset-two-factor/")
    assert response.status_code == 204
    assert not TOTPDevice.objects.filter(user=cast.town_a_staff).exists()
    assert not StaticDevice.objects.filter(user=cast.town_a_staff).exists()
    assert not ApiToken.objects.filter(user=cast.town_a_staff).exists()
    probe = APIClient()
    probe.credentials(HTTP_AUTHORIZATION=f"Token {their_token}")
    assert probe.get("/api/v1/me/").status_code == 401
    event = AuditEvent.objects.get(action=AuditAction.OTP_RESET)
    assert event.actor == cast.admin and event.object_id == str(cast.town_a_staff.pk)
    # The password alone logs in again, and the user can enrol anew.
    client = Client()
    assert client.post("/login/", {"username": "town_a", "password": TEST_PASSWORD})["Location"] == "/"


@pytest.mark.parametrize("member", ["county_staff", "county_leader", "town_a_staff", "clerk", "city_viewer"])
def test_no_one_but_an_admin_resets_it(cast: Cast, clock: Any, member: str) -> None:
    enrol_on_the_page(Client(), cast.town_b_staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(getattr(cast, member))}")
    assert client.post(f"/api/v1/users/{cast.town_b_staff.pk}/reset-two-factor/").status_code == 403
    assert TOTPDevice.objects.filter(user=cast.town_b_staff, confirmed=True).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.OTP_RESET).exists()


def test_an_admin_resets_neither_another_countys_user_nor_their_own(world: World, cast: Cast, clock: Any) -> None:
    enrol_on_the_page(Client(), cast.other_county_staff)
    enrol_on_the_page(Client(), cast.admin)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(cast.admin)}")
    response = client.post(f"/api/v1/users/{cast.other_county_staff.pk}/reset-two-factor/")
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, actor=cast.admin).count() == 1
    assert client.post(f"/api/v1/users/{cast.admin.pk}/reset-two-factor/").status_code == 403
    assert TOTPDevice.objects.filter(confirmed=True).count() == 2
    # The admin of the other county may.
    other_admin = UserFactory(username="other_admin", role=Role.ADMIN, region=world.other_county)
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(other_admin)}")
    assert client.post(f"/api/v1/users/{cast.other_county_staff.pk}/reset-two-factor/").status_code == 204
    assert not AuditEvent.objects.filter(action=AuditAction.OTP_RESET).exclude(actor=other_admin).exists()


def test_the_reset_page_for_the_county_admin(cast: Cast, clock: Any) -> None:
    enrol_on_the_page(Client(), cast.town_a_staff)
    token = issue_token(cast.town_a_staff)
    admin = Client()
    admin.force_login(cast.admin)
    url = f"/otp/reset/{cast.town_a_staff.pk}/"
    assert "已启用" in admin.get(url).content.decode()
    # Who may not: another role in scope (403), nobody changed; their own account (403).
    for member in ("county_staff", "county_leader", "town_a_staff"):
        other = Client()
        other.force_login(getattr(cast, member))
        assert other.post(url).status_code == 403, member
    own = Client()
    own.force_login(cast.admin)
    assert own.post(f"/otp/reset/{cast.admin.pk}/").status_code == 403
    assert TOTPDevice.objects.filter(user=cast.town_a_staff, confirmed=True).exists()
    response = admin.post(url)
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.town_a_staff).exists()
    assert not StaticDevice.objects.filter(user=cast.town_a_staff).exists()
    probe = APIClient()
    probe.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert probe.get("/api/v1/me/").status_code == 401  # issued before the reset, revoked by it
    assert AuditEvent.objects.filter(action=AuditAction.OTP_RESET, actor=cast.admin).count() == 1
    assert "未启用" in admin.get(url).content.decode()
