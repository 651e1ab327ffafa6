"""The working day (issue 13), driven only through the API with each member's own token: a major hazard from
the enterprise's report through the principal's signature (password again) to the county's confirmation,
`GET /api/v1/me/tasks/` changing at each step for each role; the warnings list filtered by kind, region and
enterprise, one warning handled (audited); the filing loop — a town submits its monthly table and the
matching deliverable is filed, the county submits with a town missing (reason required, printed in the
file's 备注), the leader signs with the password, and the signed file is verified byte for byte."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook
from rest_framework.test import APIClient

from hazards.choices import HazardLevel, HazardStatus
from inspections.choices import WarningKind
from inspections.models import WarningResolution
from portal.choices import AuditAction
from portal.models import AuditEvent, User
from portal.reauth import REAUTH_REFUSED
from reporting.models import ExportJob, ReportVersion
from reporting.tasks import run_sign
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.hazards.conftest import catalogue, make_hazard, open_pit_item  # noqa: F401 - the catalogue fixture
from tests.reporting.conftest import accountability_campaign
from tests.token_helpers import issue_token

NOW = dt.datetime(2024, 5, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()
S = HazardStatus
MONTH = "2024-05"


def client_of(user: User) -> APIClient:
    """The member's API client, authenticated by a token issued to them (as `POST /api/v1/auth/token/` does)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)}")
    return client


def tasks(client: APIClient) -> dict[str, int]:
    response = client.get("/api/v1/me/tasks/")
    assert response.status_code == 200
    return {row["kind"]: row["count"] for row in response.json()}


def ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.content.decode()[:2000]
    return response.json()


@pytest.fixture
def day(world: World, cast: Cast, catalogue: None) -> dict[str, Any]:  # noqa: F811
    """The county's records this morning: the 追责问责 campaign running, one overdue hazard in each town."""
    with time_machine.travel(NOW, tick=False):
        accountability_campaign(world.county)
        past = TODAY - dt.timedelta(days=5)
        return {
            "overdue_a": make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=S.RECTIFYING, deadline=past),
            "overdue_b": make_hazard(world.enterprise_b, level=HazardLevel.GENERAL, status=S.RECTIFYING, deadline=past),
        }


@time_machine.travel(NOW, tick=False)
def test_the_working_day_through_the_api(world: World, cast: Cast, day: dict[str, Any]) -> None:
    clerk, principal, town_a, town_b, county, leader = (
        client_of(u)
        for u in (
            cast.clerk,
            cast.principal,
            cast.town_a_staff,
            cast.town_b_staff,
            cast.county_staff,
            cast.county_leader,
        )
    )

    # --- A major hazard: reported, signed with the password, confirmed by the town and the county --------------
    report = {
        "level": "major", "description": "+320平台边坡有浮石，未按设计削坡", "category": "slope",
        "source": "self_check", "found_on": TODAY.isoformat(), "criterion": open_pit_item(3).pk,
    }  # fmt: skip
    hazard = ok(clerk.post("/api/v1/hazards/", report, format="json"), 201)
    url = f"/api/v1/hazards/{hazard['id']}/"
    assert hazard["status"] == S.DRAFT
    assert tasks(principal).get("hazard_sign") == 1
    assert "hazard_town_confirm" not in tasks(town_a)

    shown = ok(principal.get(url))["fingerprint"]
    refused = principal.post(f"{url}sign-report/", {"fingerprint": shown}, format="json")
    assert refused.status_code == 400 and refused.json() == {"password": [REAUTH_REFUSED]}
    wrong = principal.post(f"{url}sign-report/", {"fingerprint": shown, "password": "wrong"}, format="json")
    assert wrong.status_code == 400 and ok(principal.get(url))["status"] == S.DRAFT
    signing = {"fingerprint": shown, "password": TEST_PASSWORD, "comment": "属实"}
    assert ok(principal.post(f"{url}sign-report/", signing, format="json"))["status"] == S.PENDING_TOWN
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_id=str(cast.principal.pk), detail="重大事故隐患签字身份确认通过"
    ).exists()
    assert "hazard_sign" not in tasks(principal)
    assert tasks(town_a).get("hazard_town_confirm") == 1
    assert "hazard_town_confirm" not in tasks(town_b)  # 高都镇's queue holds none of 巴公镇's

    assert ok(town_a.post(f"{url}confirm-town/", {}, format="json"))["status"] == S.PENDING_COUNTY
    assert "hazard_town_confirm" not in tasks(town_a)
    assert tasks(county).get("hazard_county_confirm") == 1

    assert ok(county.post(f"{url}confirm-county/", {}, format="json"))["status"] == S.CONFIRMED
    assert "hazard_county_confirm" not in tasks(county)
    assert tasks(clerk).get("hazard_rectify", 0) >= 1  # the enterprise starts the rectification

    # --- Warnings: filtered by kind, region and enterprise; one handled, audited, out of every count --------
    overdue = WarningKind.OVERDUE_HAZARD
    listed = ok(county.get("/api/v1/warnings/", {"kind": overdue}))
    assert len(listed) == 2 and {w["kind"] for w in listed} == {overdue}
    in_b = ok(county.get("/api/v1/warnings/", {"kind": overdue, "region": world.town_b.code}))
    assert [w["key"].split(":")[1] for w in in_b] == [str(day["overdue_b"].pk)]
    of_a = ok(county.get("/api/v1/warnings/", {"enterprise": world.enterprise_a.pk}))
    assert {w["kind"] for w in of_a} >= {overdue} and all(w["subject"] == world.enterprise_a.name for w in of_a)
    assert ok(town_b.get("/api/v1/warnings/", {"kind": overdue})) == in_b  # 高都镇 sees its own
    assert tasks(county)["hazard_overdue"] == 2

    key = in_b[0]["key"]
    resolved = ok(county.post("/api/v1/warnings/resolve/", {"key": key, "note": "已约谈企业负责人"}, format="json"))
    assert resolved["key"] == key
    resolution = WarningResolution.objects.get(key=key)
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_id=str(resolution.pk), actor=cast.county_staff
    ).exists()
    assert len(ok(county.get("/api/v1/warnings/", {"kind": overdue, "open": "true"}))) == 1
    assert tasks(county)["hazard_overdue"] == 1
    assert "hazard_overdue" not in tasks(town_b)

    # --- The filing loop: the town's table files the deliverable; the county's names the town missing -------
    assert tasks(town_a).get("table_submit") == 1  # May's table, due on the 23rd
    assert tasks(county).get("table_towns_due") == 2  # neither town has submitted
    filed = ok(town_a.post(f"/api/v1/report-tables/accountability/{world.town_a.code}/{MONTH}/submit/", {}))
    assert filed["status"] == "submitted" and filed["missing_towns"] == []
    submissions = ok(town_a.get("/api/v1/deliverable-submissions/"))
    rows = submissions["results"] if isinstance(submissions, dict) else submissions
    assert [(row["due_date"], row["town"]) for row in rows] == [("2024-05-23", world.town_a.pk)]
    assert "table_submit" not in tasks(town_a)
    assert tasks(county).get("table_towns_due") == 1  # 高都镇 only
    assert town_b.post(f"/api/v1/report-tables/accountability/{world.town_a.code}/{MONTH}/submit/", {}).status_code in (
        403,
        404,
    )

    county_table = f"/api/v1/report-tables/accountability/{world.county.code}/{MONTH}/submit/"
    missing = county.post(county_table, {}, format="json")
    assert missing.status_code == 400 and world.town_b.name in missing.json()["missing_reason"][0]
    reason = "高都镇因汛期停产，报表延后报送"
    version = ok(county.post(county_table, {"missing_reason": reason}, format="json"))
    assert version["status"] == "submitted" and version["missing_towns"] == [world.town_b.name]
    assert version["missing_reason"] == reason

    # --- The leader signs with the password; the signed file carries the reason and is verified -------------
    assert tasks(leader).get("table_sign") == 1
    sign_url = f"/api/v1/report-versions/{version['id']}/sign/"
    no_password = leader.post(sign_url, {"fingerprint": version["sign_fingerprint"]}, format="json")
    assert no_password.status_code == 400 and not ExportJob.objects.filter(purpose="sign").exists()
    job = ok(
        leader.post(sign_url, {"fingerprint": version["sign_fingerprint"], "password": TEST_PASSWORD}, format="json"),
        202,
    )
    assert run_sign.apply(args=[job["id"]]).get() == "success"  # what the worker does
    assert ok(leader.get(f"/api/v1/report-exports/{job['id']}/"))["status"] == "success"
    signed = ok(leader.get(f"/api/v1/reports/{version['report']}/"))["versions"][0]
    assert signed["status"] == "signed" and signed["verification_code"]
    assert "table_sign" not in tasks(leader)

    xlsx = ReportVersion.objects.get(pk=version["id"]).xlsx_file.open("rb").read()  # the file the leader hands on
    sheet = load_workbook(io.BytesIO(xlsx)).active
    cells = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value]
    assert any(reason in cell for cell in cells), cells
    verified = ok(
        county.post(
            "/api/v1/report-versions/verify/", {"file": SimpleUploadedFile("签字.xlsx", xlsx)}, format="multipart"
        )
    )
    assert verified["match"] and verified["version"] == version["id"] and verified["file_format"] == "xlsx"
    assert verified["verification_code"] == signed["verification_code"]
    forged = xlsx[:-1] + bytes([xlsx[-1] ^ 1])
    answer = ok(
        county.post(
            "/api/v1/report-versions/verify/", {"file": SimpleUploadedFile("x.xlsx", forged)}, format="multipart"
        )
    )
    assert answer["match"] is False
