"""The REST API of campaigns and field work: scoped reads, role and scope on writes, Chinese errors."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from inspections.models import EnforcementRecord, Inspection, SelfCheckReport
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.images import TINY_JPEG

SH = ZoneInfo("Asia/Shanghai")


def _api(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("member", "count"), [("clerk", 2), ("town_b_staff", 2), ("city_viewer", 2), ("other_county_staff", 0)]
)
def test_campaigns(cast: Cast, campaign83, member: str, count: int) -> None:  # type: ignore[no-untyped-def]
    client = _api(getattr(cast, member))
    listing = client.get("/api/v1/campaigns/")
    assert listing.status_code == 200 and listing.json()["count"] == count
    detail = client.get(f"/api/v1/campaigns/{campaign83.pk}/")
    if count:
        body = detail.json()
        assert len(body["checklist_areas"]) == 8 and sum(len(a["items"]) for a in body["checklist_areas"]) == 30
        table = next(d for d in body["deliverables"] if d["name"] == "追责问责情况统计表")
        assert table["due_dates"] == ["2024-04-23", "2024-05-23", "2024-06-23", "2024-07-23", "2024-08-23"]
    else:
        assert detail.status_code == 404


def test_enforcement_kinds_map_to_one_column(cast: Cast) -> None:
    rows = {r["value"]: r for r in _api(cast.clerk).get("/api/v1/enforcement-kinds/").json()}
    assert rows["penalty_principal"]["accountability_column"] == "penalty_principal"
    assert rows["penalty_principal"]["winter_column"] == "fine_amount"
    assert rows["seizure"]["accountability_column"] is None


def test_enforcement_records_through_the_api(cast: Cast, world: World) -> None:
    town = _api(cast.town_a_staff)
    created = town.post(
        "/api/v1/enforcement-records/",
        {"kind": "penalty_enterprise", "date": "2024-05-10", "enterprise": world.enterprise_a.pk, "amount": "2.50"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    record_id = created.json()["id"]
    assert created.json()["issuing_unit"] == world.town_a.pk and created.json()["winter_column"] == "fine_amount"
    missing = town.post(
        "/api/v1/enforcement-records/",
        {"kind": "penalty_enterprise", "date": "2024-05-10", "enterprise": world.enterprise_a.pk},
        format="json",
    )
    assert missing.status_code == 400 and "罚款金额" in str(missing.json())
    other_town = town.post(
        "/api/v1/enforcement-records/",
        {"kind": "suspension", "date": "2024-05-10", "enterprise": world.enterprise_b.pk},
        format="json",
    )
    assert other_town.status_code == 400 and "不在您的辖区内" in str(other_town.json())  # not even a choice
    assert (
        _api(cast.clerk)
        .post(
            "/api/v1/enforcement-records/",
            {"kind": "suspension", "date": "2024-05-10", "enterprise": world.enterprise_a.pk},
            format="json",
        )
        .status_code
        == 403
    )
    county = _api(cast.county_staff)
    assert county.patch(f"/api/v1/enforcement-records/{record_id}/", {"amount": "3"}, format="json").status_code == 403
    assert _api(cast.town_b_staff).get(f"/api/v1/enforcement-records/{record_id}/").status_code == 404
    patched = town.patch(f"/api/v1/enforcement-records/{record_id}/", {"amount": "3"}, format="json")
    assert patched.status_code == 200 and patched.json()["amount"] == "3.00"
    assert county.get("/api/v1/enforcement-records/?kind=penalty_enterprise").json()["count"] == 1
    assert town.delete(f"/api/v1/enforcement-records/{record_id}/").status_code == 204
    assert not EnforcementRecord.objects.exists()


@time_machine.travel(dt.datetime(2024, 5, 10, 10, tzinfo=SH), tick=False)
def test_inspection_photo_and_hazard_through_the_api(cast: Cast, world: World) -> None:
    town = _api(cast.town_a_staff)
    created = town.post(
        "/api/v1/inspections/",
        {"enterprise": world.enterprise_a.pk, "date": "2024-05-10", "method": "open_and_covert", "leader": "赵卫东"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    photo = SimpleUploadedFile("a.jpg", TINY_JPEG, content_type="image/jpeg")
    uploaded = town.post(f"/api/v1/inspections/{pk}/photos/", {"file": photo, "caption": "边坡"}, format="multipart")
    assert uploaded.status_code == 201 and uploaded.json()["caption"] == "边坡"
    hazard = town.post(
        f"/api/v1/inspections/{pk}/hazards/",
        {"level": "general", "category": "slope", "description": "台阶过陡"},
        format="json",
    )
    assert hazard.status_code == 201 and hazard.json()["hazard_source"] == "town_inspection"
    assert Inspection.objects.get().hazards.count() == 1
    assert (
        _api(cast.county_staff)
        .post(
            f"/api/v1/inspections/{pk}/hazards/",
            {"level": "general", "category": "slope", "description": "x"},
            format="json",
        )
        .status_code
        == 403
    )


@time_machine.travel(dt.datetime(2024, 4, 20, 10, tzinfo=SH), tick=False)
def test_self_check_report_through_the_api(cast: Cast, world: World, campaign83) -> None:  # type: ignore[no-untyped-def]
    clerk = _api(cast.clerk)
    started = clerk.post(
        "/api/v1/self-check-reports/", {"campaign": campaign83.pk, "enterprise": world.enterprise_a.pk}, format="json"
    )
    assert started.status_code == 201
    report_id = started.json()["id"]
    refused = clerk.post(
        "/api/v1/self-check-reports/", {"campaign": campaign83.pk, "enterprise": world.enterprise_a2.pk}, format="json"
    )
    assert refused.status_code == 400  # another enterprise is not a choice for the clerk
    for answer in started.json()["answers"]:
        if not answer["answer"]:
            r = clerk.post(
                f"/api/v1/self-check-reports/{report_id}/answers/",
                {"item": answer["item"], "answer": "yes"},
                format="json",
            )
            assert r.status_code == 200
    shown = clerk.get(f"/api/v1/self-check-reports/{report_id}/").json()["fingerprint"]  # read before signing
    own = clerk.post(
        f"/api/v1/self-check-reports/{report_id}/sign/",
        {"username": "clerk", "password": TEST_PASSWORD, "fingerprint": shown},
        format="json",
    )
    assert own.status_code == 403 and "主要负责人本人" in str(own.json())
    principal = APIClient()
    principal.force_authenticate(cast.principal)
    wrong = principal.post(
        f"/api/v1/self-check-reports/{report_id}/sign/",
        {"password": "nope-nope-nope", "fingerprint": shown},
        format="json",
    )
    assert wrong.status_code == 400 and "密码或动态口令不正确" in str(wrong.json())
    signed = principal.post(
        f"/api/v1/self-check-reports/{report_id}/sign/",
        {"password": TEST_PASSWORD, "fingerprint": shown},
        format="json",
    )
    assert signed.status_code == 200 and signed.json()["status"] == "submitted"
    assert SelfCheckReport.objects.get().signed_by_account == cast.principal
    late = clerk.post(
        f"/api/v1/self-check-reports/{report_id}/answers/", {"item": answer["item"], "answer": "no"}, format="json"
    )
    assert late.status_code == 400 and "不能再修改" in str(late.json())


def test_coverage_and_warnings_endpoints(cast: Cast, world: World, campaign331) -> None:  # type: ignore[no-untyped-def]
    county = _api(cast.county_staff)
    body = county.get(f"/api/v1/coverage/?campaign={campaign331.pk}&month=2023-12").json()
    assert [row["unit_name"] for row in body["towns"]] == ["高都镇", "巴公镇"] or len(body["towns"]) == 2
    assert body["county"]["required_rate"] == "30.0"
    town = _api(cast.town_a_staff).get(f"/api/v1/coverage/?campaign={campaign331.pk}&month=2023-12").json()
    assert len(town["towns"]) == 1 and town["county"] is None
    assert _api(cast.clerk).get("/api/v1/coverage/").status_code == 403
    assert county.get("/api/v1/warnings/?month=2023-12").status_code == 200
    matrix = county.get(f"/api/v1/campaigns/{campaign331.pk}/matrix/")
    assert matrix.status_code == 200 and len(matrix.json()) == 2
    assert _api(cast.clerk).get(f"/api/v1/campaigns/{campaign331.pk}/matrix/").status_code == 403
