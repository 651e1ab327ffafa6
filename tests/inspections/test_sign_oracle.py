"""The self-check signature asks for the principal's password: it must not tell anyone whether some other
account's password is right (page and API give one answer for both, every refusal audited)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from inspections import services
from inspections.answered import self_check_fingerprint
from inspections.choices import ReportStatus
from inspections.models import SelfCheckReport
from portal.choices import AuditAction
from portal.models import AuditEvent
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.inspections.test_self_check import _answer_all


@pytest.fixture
def report(cast: Cast, world: World, campaign83: Any) -> SelfCheckReport:
    report = services.self_check_start(actor=cast.town_a_staff, campaign=campaign83, enterprise=world.enterprise_a)
    _answer_all(cast.town_a_staff, report)
    return report


def _api(cast: Cast, report: SelfCheckReport, username: str, password: str) -> tuple[int, Any]:
    client = APIClient()
    client.force_authenticate(cast.town_a_staff)
    response = client.post(
        f"/api/v1/self-check-reports/{report.pk}/sign/",
        {"username": username, "password": password, "fingerprint": self_check_fingerprint(report)},
        format="json",
    )
    return response.status_code, response.json()


def _page(cast: Cast, report: SelfCheckReport, username: str, password: str) -> tuple[int, Any]:
    client = Client()
    client.force_login(cast.town_a_staff)
    data = {
        "username": username,
        "password": password,
        "confirm": "on",
        "unexplained_confirmed": "on",
        "fingerprint": self_check_fingerprint(report),
    }
    response = client.post(f"/inspections/self-checks/{report.pk}/sign/", data)
    body = response.content.decode()
    refused = "账号、密码或动态口令不正确，未签字。" in body
    return response.status_code, (refused, "主要负责人" in body and "本人可以签字" in body)


@pytest.mark.parametrize("path", [_api, _page], ids=["api", "page"])
def test_another_accounts_password_is_neither_confirmed_nor_denied(
    cast: Cast, report: SelfCheckReport, path: Any
) -> None:
    right = path(cast, report, "county", TEST_PASSWORD)
    wrong = path(cast, report, "county", "not-the-password")
    nobody = path(cast, report, "no-such-user", TEST_PASSWORD)
    assert right == wrong == nobody
    assert right[0] == 400
    report.refresh_from_db()
    assert report.status != ReportStatus.SUBMITTED
    refusals = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, actor=cast.town_a_staff)
    assert refusals.count() == 3 and all("不是" in event.detail for event in refusals)


@pytest.mark.parametrize("path", [_api, _page], ids=["api", "page"])
def test_the_principal_still_signs_and_a_wrong_principal_password_is_refused(
    cast: Cast, report: SelfCheckReport, path: Any
) -> None:
    assert path(cast, report, "principal", "not-the-password")[0] == 400
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.actor_name == "principal"
    status, _ = path(cast, report, "principal", TEST_PASSWORD)
    assert status in (200, 302)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.signed_by_account == cast.principal
