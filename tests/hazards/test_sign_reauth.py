"""签字上报 of a major hazard is signing (issue 13 §5): the principal confirms and types the password again
(and the 动态口令 once two-step verification is enrolled) — on the detail page and through the API, with
portal.reauth's one Chinese refusal for a missing, wrong or incomplete credential; every outcome audited,
a refusal signs nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from hazards.choices import HazardStatus
from hazards.fingerprint import hazard_fingerprint
from hazards.models import Hazard
from portal.choices import AuditAction
from portal.models import AuditEvent, User
from portal.reauth import REAUTH_REFUSED
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.hazards.conftest import make_hazard
from tests.test_two_factor import T0, code_for, enrolled

S = HazardStatus


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def audited(user: User, outcome: str) -> int:
    """The audit rows of the principal's re-authentications for a hazard signature ("通过" / "未通过")."""
    action = AuditAction.UPDATE if outcome == "通过" else AuditAction.LOGIN_FAILED
    return AuditEvent.objects.filter(
        action=action, object_id=str(user.pk), detail__startswith=f"重大事故隐患签字身份确认{outcome}"
    ).count()


def sign_page(client: Client, hazard: Hazard, **extra: str) -> Any:
    data = {"seen_status": S.DRAFT, "fingerprint": hazard_fingerprint(hazard), "confirm": "on", **extra}
    fields = {f"sign-{key}": value for key, value in data.items() if value is not None}
    return client.post(reverse("hazards:hazard-step", args=[hazard.pk, "sign"]), fields)


def status_of(hazard: Hazard) -> str:
    return Hazard.objects.values_list("status", flat=True).get(pk=hazard.pk)


def test_the_page_asks_for_confirmation_and_the_password(client: Client, world: World, cast: Cast) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.DRAFT)
    client.force_login(cast.principal)
    page = client.get(reverse("hazards:hazard-detail", args=[hazard.pk])).content.decode()
    assert 'name="sign-password"' in page and 'name="sign-confirm"' in page and 'name="sign-otp_code"' in page

    unconfirmed = sign_page(client, hazard, password=TEST_PASSWORD, confirm=None)  # type: ignore[arg-type]
    assert unconfirmed.status_code == 400 and "请勾选确认后再签字" in unconfirmed.content.decode()
    for wrong in ({}, {"password": "not-the-password"}):
        refused = sign_page(client, hazard, **wrong)
        assert refused.status_code == 400 and REAUTH_REFUSED in refused.content.decode()
    assert status_of(hazard) == S.DRAFT and audited(cast.principal, "未通过") == 2

    assert sign_page(client, hazard, password=TEST_PASSWORD).status_code == 302
    signed = Hazard.objects.get(pk=hazard.pk)
    assert signed.status == S.PENDING_TOWN and signed.signed_by == cast.principal
    assert audited(cast.principal, "通过") == 1


def test_who_may_not_sign_is_refused_before_any_password_is_checked(client: Client, world: World, cast: Cast) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.DRAFT)
    client.force_login(cast.clerk)
    assert sign_page(client, hazard, password=TEST_PASSWORD).status_code == 403
    assert status_of(hazard) == S.DRAFT
    assert audited(cast.clerk, "通过") == 0 and audited(cast.clerk, "未通过") == 0


def test_the_api_input_carries_the_password(world: World, cast: Cast) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.DRAFT)
    api = APIClient()
    api.force_authenticate(cast.principal)
    url = f"/api/v1/hazards/{hazard.pk}/sign-report/"
    shown = api.get(f"/api/v1/hazards/{hazard.pk}/").json()["fingerprint"]
    for body in (
        {"fingerprint": shown},
        {"fingerprint": shown, "password": ""},
        {"fingerprint": shown, "password": "x"},
    ):
        refused = api.post(url, body, format="json")
        assert refused.status_code == 400 and refused.json() == {"password": [REAUTH_REFUSED]}, refused.json()
    assert status_of(hazard) == S.DRAFT and audited(cast.principal, "未通过") == 1  # the wrong one was tried

    signed = api.post(url, {"fingerprint": shown, "password": TEST_PASSWORD}, format="json")
    assert signed.status_code == 200 and signed.json()["status"] == S.PENDING_TOWN
    assert audited(cast.principal, "通过") == 1


def test_an_enrolled_principal_signs_only_with_the_code(world: World, cast: Cast, clock: Any) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.DRAFT)
    device = enrolled(cast.principal)
    page = Client()
    page.force_login(cast.principal)
    wrong = "000000" if code_for(device) != "000000" else "111111"
    for extra in ({}, {"otp_code": wrong}):
        refused = sign_page(page, hazard, password=TEST_PASSWORD, **extra)
        assert refused.status_code == 400 and REAUTH_REFUSED in refused.content.decode()
    api = APIClient()
    api.force_authenticate(cast.principal)
    url = f"/api/v1/hazards/{hazard.pk}/sign-report/"
    body = {"fingerprint": hazard_fingerprint(hazard), "password": TEST_PASSWORD}
    assert api.post(url, body, format="json").json() == {"password": [REAUTH_REFUSED]}
    assert status_of(hazard) == S.DRAFT and audited(cast.principal, "未通过") == 3

    clock.shift(60)
    signed = api.post(url, {**body, "otp_code": code_for(device)}, format="json")
    assert signed.status_code == 200 and signed.json()["status"] == S.PENDING_TOWN
