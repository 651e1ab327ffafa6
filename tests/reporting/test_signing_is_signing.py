"""Signing is signing (issue 13 §5): the leader confirms with the password (and the 2FA code once enrolled)
on the page and in the API, every attempt audited; the signed Excel and PDF carry 签字人, 签字时间, 版本号 and
a 校验码; the verification page finds a signed version byte for byte, in the user's scope only."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from portal.choices import AuditAction
from portal.models import AuditEvent
from portal.otp.services import _new_backup_codes
from portal.reauth import REAUTH_REFUSED
from reporting import services, signing
from reporting.models import ExportJob, ReportVersion
from tests.factories import TEST_PASSWORD
from tests.reporting import pdftext
from tests.reporting.test_sign_binding import ACT, TABLE, assert_nothing_frozen, run_job, submitted
from tests.test_two_factor import T0, code_for, enrolled

pytestmark = pytest.mark.django_db
VERIFY = "/reports/verify/"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def post_sign(client: Client, version: ReportVersion, **extra: str) -> Any:
    data = {"action": "sign", "version": version.pk, "fingerprint": services.shown_fingerprint(version), **extra}
    return client.post(ACT, data, follow=True)


def refusals(user: Any) -> int:
    return AuditEvent.objects.filter(
        action=AuditAction.LOGIN_FAILED, object_id=str(user.pk), detail__startswith="报表签字身份确认未通过"
    ).count()


def signed_version(scenario: Any, cast: Any) -> ReportVersion:
    version = submitted(scenario, cast)
    job = services.sign_request(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )
    assert run_job(job)[0] == "success"
    return ReportVersion.objects.select_related("signed_by").get(pk=version.pk)


# --- who may sign, on the page ----------------------------------------------------------------------------


def test_the_page_asks_for_the_password_and_shows_what_will_be_signed(scenario, cast, client) -> None:
    version = submitted(scenario, cast)
    client.force_login(cast.county_leader)
    page = client.get(TABLE).content.decode()
    confirm = re.search(r'<details[^>]*data-testid="sign-confirm">(.*?)</details>', page, re.S)
    assert confirm, "no confirmation step for 签字"
    assert 'type="password" name="password"' in confirm.group(1)
    assert 'name="otp_code"' not in confirm.group(1)  # no device enrolled: no code asked
    assert f"{version.label}" in confirm.group(1) and "校验码" in confirm.group(1)
    assert "<script" not in confirm.group(1)


@pytest.mark.parametrize("password", ["", "wrong-password"])
def test_no_or_a_wrong_password_signs_nothing_and_is_audited(scenario, cast, client, password) -> None:
    version = submitted(scenario, cast)
    client.force_login(cast.county_leader)
    response = post_sign(client, version, password=password)
    assert REAUTH_REFUSED in response.content.decode()
    assert not ExportJob.objects.filter(purpose="sign").exists()
    assert_nothing_frozen(version)
    assert refusals(cast.county_leader) == 1


def test_the_right_password_signs_and_is_audited(scenario, cast, client) -> None:
    version = submitted(scenario, cast)
    client.force_login(cast.county_leader)
    post_sign(client, version, password=TEST_PASSWORD)
    job = ExportJob.objects.get(purpose="sign")
    assert AuditEvent.objects.filter(
        actor=cast.county_leader, object_id=str(cast.county_leader.pk), detail="报表签字身份确认通过"
    ).exists()
    assert run_job(job)[0] == "success"
    assert refusals(cast.county_leader) == 0


def test_another_users_password_is_no_signature(scenario, cast, client) -> None:
    version = submitted(scenario, cast)
    cast.county_leader.set_password("Leader-Own-2024!")
    cast.county_leader.save()
    client.force_login(cast.county_leader)
    response = post_sign(client, version, password=TEST_PASSWORD)  # the others' password, not the leader's
    assert REAUTH_REFUSED in response.content.decode()
    assert not ExportJob.objects.filter(purpose="sign").exists()


def test_a_non_signer_with_the_right_password_may_not(scenario, cast, client) -> None:
    version = submitted(scenario, cast)
    client.force_login(cast.town_a_staff)
    response = post_sign(client, version, password=TEST_PASSWORD)
    assert "只有本县的分管负责人可以签字" in response.content.decode()
    assert not ExportJob.objects.filter(purpose="sign").exists()


@override_settings(AXES_FAILURE_LIMIT=3)
def test_wrong_passwords_lock_out_like_the_login(scenario, cast, client) -> None:
    version = submitted(scenario, cast)
    client.force_login(cast.county_leader)
    for _ in range(3):
        assert REAUTH_REFUSED in post_sign(client, version, password="wrong").content.decode()
    # locked out: now the right password gets the same answer (no oracle), and nothing is signed
    assert REAUTH_REFUSED in post_sign(client, version, password=TEST_PASSWORD).content.decode()
    assert not ExportJob.objects.filter(purpose="sign").exists()
    assert refusals(cast.county_leader) == 4


# --- with two-step verification -----------------------------------------------------------------------


def test_an_enrolled_leader_needs_the_code_too(scenario, cast, client, clock) -> None:
    version = submitted(scenario, cast)
    device = enrolled(cast.county_leader)
    client.force_login(cast.county_leader)
    assert 'name="otp_code"' in client.get(TABLE).content.decode()
    wrong = "000000" if code_for(device) != "000000" else "111111"
    for extra in ({"password": TEST_PASSWORD}, {"password": TEST_PASSWORD, "otp_code": wrong}):
        assert REAUTH_REFUSED in post_sign(client, version, **extra).content.decode()
    assert not ExportJob.objects.filter(purpose="sign").exists()
    assert refusals(cast.county_leader) == 2
    clock.shift(60)  # past the throttle's wait after the wrong code
    assert REAUTH_REFUSED in post_sign(client, version, password="wrong", otp_code=code_for(device)).content.decode()
    post_sign(client, version, password=TEST_PASSWORD, otp_code=code_for(device))
    assert ExportJob.objects.filter(purpose="sign").count() == 1


def test_a_backup_code_signs_once(scenario, cast, client, clock) -> None:
    version = submitted(scenario, cast)
    enrolled(cast.county_leader)
    code = _new_backup_codes(cast.county_leader)[0]
    client.force_login(cast.county_leader)
    post_sign(client, version, password=TEST_PASSWORD, otp_code=code.upper())
    job = ExportJob.objects.get(purpose="sign")
    assert AuditEvent.objects.filter(action=AuditAction.OTP_VERIFIED, detail__contains="使用备用码").exists()
    job.delete()
    assert REAUTH_REFUSED in post_sign(client, version, password=TEST_PASSWORD, otp_code=code).content.decode()
    assert not ExportJob.objects.filter(purpose="sign").exists()


# --- the API ---------------------------------------------------------------------------------------------


def test_the_api_takes_the_same_fields(scenario, cast, clock) -> None:
    version = submitted(scenario, cast)
    url = f"/api/v1/report-versions/{version.pk}/sign/"
    shown = services.shown_fingerprint(version)
    leader = APIClient()
    leader.force_authenticate(cast.county_leader)
    missing = leader.post(url, {"fingerprint": shown}, format="json")
    assert missing.status_code == 400 and "password" in missing.json()
    wrong = leader.post(url, {"fingerprint": shown, "password": "wrong"}, format="json")
    assert wrong.status_code == 400 and wrong.json() == {"password": [REAUTH_REFUSED]}
    town = APIClient()
    town.force_authenticate(cast.town_a_staff)
    assert town.post(url, {"fingerprint": shown, "password": TEST_PASSWORD}, format="json").status_code == 403
    device = enrolled(cast.county_leader)
    no_code = leader.post(url, {"fingerprint": shown, "password": TEST_PASSWORD}, format="json")
    assert no_code.status_code == 400 and no_code.json() == {"password": [REAUTH_REFUSED]}
    assert not ExportJob.objects.filter(purpose="sign").exists()
    assert refusals(cast.county_leader) == 2
    accepted = leader.post(
        url, {"fingerprint": shown, "password": TEST_PASSWORD, "otp_code": code_for(device)}, format="json"
    )
    assert accepted.status_code == 202 and accepted.json()["purpose"] == "sign"


# --- the signed files --------------------------------------------------------------------------------------


def test_the_signed_files_carry_signer_time_version_and_code(scenario, cast) -> None:
    version = signed_version(scenario, cast)
    code = signing.code_of(version)
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", code)
    leader = cast.county_leader.full_name or cast.county_leader.username
    local = timezone.localtime(version.signed_at)
    expected = [f"签字人：{leader}", f"签字时间：{local:%Y-%m-%d %H:%M:%S}", "版本号：第1版", f"校验码：{code}"]
    workbook = load_workbook(io.BytesIO(version.xlsx_file.open("rb").read()))
    cells = [str(c.value) for row in workbook.active.iter_rows() for c in row if c.value]
    seal = next(value for value in cells if "校验码" in value)
    assert all(part in seal for part in expected), seal
    for sheet in workbook.worksheets:  # and in every sheet's printed footer, beside the page numbers
        assert sheet.oddFooter.left.text == seal and "&P" in sheet.oddFooter.center.text
    text = pdftext.text(version.pdf_file.open("rb").read())
    assert all(part.replace(" ", "") in text for part in expected), text[-300:]
    # the table page and the API show the same code beside the signed version
    client = Client()
    client.force_login(cast.county_staff)
    assert f'data-testid="verification-code">{code}<' in client.get(TABLE).content.decode()
    api = APIClient()
    api.force_authenticate(cast.county_staff)
    listed = api.get(f"/api/v1/reports/{version.report_id}/").json()["versions"]
    assert next(v for v in listed if v["id"] == version.pk)["verification_code"] == code
    # the code depends on what was signed: another signing time gives another code
    later = version.signed_at + dt.timedelta(seconds=1)
    assert signing.verification_code(version=version, signer_id=version.signed_by_id, signed_at=later) != code
    assert (
        signing.verification_code(version=version, signer_id=cast.county_staff.pk, signed_at=version.signed_at) != code
    )


# --- the verification page ---------------------------------------------------------------------------------


def upload(client: Client, content: bytes, name: str = "报表.xlsx") -> str:
    return client.post(VERIFY, {"file": SimpleUploadedFile(name, content)}).content.decode()


def test_the_verification_page_finds_the_identical_file_only(scenario, cast, client) -> None:
    version = signed_version(scenario, cast)
    xlsx = version.xlsx_file.open("rb").read()
    pdf = version.pdf_file.open("rb").read()
    client.force_login(cast.county_staff)
    assert 'enctype="multipart/form-data"' in client.get(VERIFY).content.decode()
    for content, label in ((xlsx, "Excel"), (pdf, "PDF")):
        page = upload(client, content)
        assert "与已签字版本一致" in page and f"（报表.xlsx，{label}）" in page
        assert "第1版" in page and signing.code_of(version) in page
        assert (cast.county_leader.full_name or cast.county_leader.username) in page
    changed = bytearray(xlsx)
    changed[len(changed) // 2] ^= 0x01
    page = upload(client, bytes(changed))
    assert "未找到一致的已签字文件" in page and "与已签字版本一致" not in page
    assert not AuditEvent.objects.filter(action=AuditAction.DENIED).exists()


def test_another_countys_signed_file_is_not_found_and_logged(scenario, cast, client) -> None:
    version = signed_version(scenario, cast)
    client.force_login(cast.other_county_staff)
    page = upload(client, version.xlsx_file.open("rb").read())
    assert "未找到一致的已签字文件" in page and "第1版" not in page
    denied = AuditEvent.objects.get(action=AuditAction.DENIED)
    assert denied.object_id == str(version.pk) and denied.actor == cast.other_county_staff


def test_the_verification_page_refuses_anonymous_and_oversize(scenario, cast, client, settings) -> None:
    version = signed_version(scenario, cast)
    response = client.post(VERIFY, {"file": SimpleUploadedFile("a.xlsx", version.xlsx_file.open("rb").read())})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(VERIFY).status_code == 302
    client.force_login(cast.county_staff)
    settings.UPLOAD_MAX_BYTES = 1024
    page = upload(client, b"x" * 2048)
    assert "文件超过" in page and "未核验" in page
    assert "请选择" in client.post(VERIFY, {}).content.decode()
