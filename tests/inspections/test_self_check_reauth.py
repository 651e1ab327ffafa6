"""The 自查自改报告 signature with two-step verification (issue 13 §5): a principal who enrolled a device
signs with the password AND a current code or an unused backup code — on their own account, in person
on the town's device, and through the API; every refusal is audited and signs nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from inspections import services
from inspections.answered import self_check_fingerprint
from inspections.models import Campaign, SelfCheckReport
from portal.choices import AuditAction
from portal.models import AuditEvent
from portal.otp.services import _new_backup_codes
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.inspections.test_self_check_binding import _client, answered, assert_not_signed
from tests.test_two_factor import T0, code_for, enrolled


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def sign_page(client: Any, report: SelfCheckReport, **extra: str) -> Any:
    data = {
        "password": TEST_PASSWORD,
        "confirm": "on",
        "unexplained_confirmed": "on",  # asked when 不符合 answers have no 说明 or hazard
        "fingerprint": self_check_fingerprint(report),
        **extra,
    }
    return client.post(f"/inspections/self-checks/{report.pk}/sign/", data)


def refusals(user: Any) -> int:
    return AuditEvent.objects.filter(
        action=AuditAction.LOGIN_FAILED, object_id=str(user.pk), detail__startswith="自查报告签字身份确认未通过"
    ).count()


def test_an_enrolled_principal_signs_on_the_page_only_with_the_code(
    cast: Cast, world: World, campaign83: Campaign, clock: Any
) -> None:
    report = answered(cast, world, campaign83)
    device = enrolled(cast.principal)
    principal = _client(cast.principal)
    assert 'name="otp_code"' in principal.get(report.get_absolute_url()).content.decode()
    wrong = "000000" if code_for(device) != "000000" else "111111"
    for extra in ({}, {"otp_code": wrong}):
        refused = sign_page(principal, report, **extra)
        assert refused.status_code == 400 and services.SIGNER_REFUSED in refused.content.decode()
    assert_not_signed(report)
    assert refusals(cast.principal) == 2
    clock.shift(60)
    assert sign_page(principal, report, otp_code=code_for(device)).status_code == 302
    assert SelfCheckReport.objects.get(pk=report.pk).status == "submitted"


def test_in_person_on_the_towns_device_a_backup_code_serves_once(
    cast: Cast, world: World, campaign83: Campaign, clock: Any
) -> None:
    report = answered(cast, world, campaign83)
    enrolled(cast.principal)
    code = _new_backup_codes(cast.principal)[0]
    town = _client(cast.town_a_staff)
    refused = sign_page(town, report, username=cast.principal.username)
    assert refused.status_code == 400 and services.SIGNER_REFUSED in refused.content.decode()
    assert_not_signed(report)
    assert sign_page(town, report, username=cast.principal.username, otp_code=code).status_code == 302
    assert SelfCheckReport.objects.get(pk=report.pk).status == "submitted"
    assert not cast.principal.staticdevice_set.get().token_set.filter(token=code).exists()


def test_the_api_asks_for_the_code_too(cast: Cast, world: World, campaign83: Campaign, clock: Any) -> None:
    report = answered(cast, world, campaign83)
    device = enrolled(cast.principal)
    api = APIClient()
    api.force_authenticate(cast.principal)
    url = f"/api/v1/self-check-reports/{report.pk}/sign/"
    data = {"password": TEST_PASSWORD, "fingerprint": self_check_fingerprint(report)}
    refused = api.post(url, data, format="json")
    assert refused.status_code == 400 and refused.json() == {"password": [services.SIGNER_REFUSED]}
    assert_not_signed(report)
    signed = api.post(url, {**data, "otp_code": code_for(device)}, format="json")
    assert signed.status_code == 200 and signed.json()["status"] == "submitted"


def test_without_a_device_the_password_still_suffices(cast: Cast, world: World, campaign83: Campaign) -> None:
    report = answered(cast, world, campaign83)
    assert sign_page(_client(cast.principal), report).status_code == 302
    assert refusals(cast.principal) == 0
