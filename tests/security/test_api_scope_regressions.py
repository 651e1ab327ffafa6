"""Regressions found by the API permission matrix (test_api_matrix.py): out of scope is a 404, logged.

- ledger-uploads/{id}/preview/ and …/commit/ answered 403 ("您无权上传隐患台账") to a role that may not
  upload even for another county's upload, before looking it up: out of scope must be a 404 (and logged).
- report-exports/{id}/ answered 404 for another region's export job without logging the attempt (越权访问).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from hazards import ledger
from portal.choices import AuditAction
from portal.models import AuditEvent, User
from reporting.choices import ReportKind
from reporting.models import ExportJob
from tests.conftest import Cast, World
from tests.hazards import ledger_xlsx


def _api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _denied(object_id: str) -> int:
    return AuditEvent.objects.filter(action=AuditAction.DENIED, object_id=object_id).count()


@pytest.mark.parametrize("member", ["county_leader", "admin", "city_viewer"])
def test_ledger_upload_of_another_county_is_not_found_for_roles_that_may_not_upload(
    world: World, cast: Cast, member: str
) -> None:
    data = ledger_xlsx.simple([ledger_xlsx.row("REG-1")])
    _, upload = ledger.ledger_upload_create(
        actor=cast.other_clerk, enterprise=world.enterprise_other, source=data, file_name="台账.xlsx"
    )
    assert upload is not None
    client = _api(getattr(cast, member))
    for method, url in (
        ("get", f"/api/v1/ledger-uploads/{upload.pk}/preview/"),
        ("post", f"/api/v1/ledger-uploads/{upload.pk}/commit/"),
    ):
        before = _denied(str(upload.pk))
        response = getattr(client, method)(url)
        assert response.status_code == 404, (url, response.content)
        assert _denied(str(upload.pk)) == before + 1, url
    upload.refresh_from_db()
    assert upload.status == "pending"


@pytest.mark.parametrize("member", ["county_leader", "admin", "city_viewer"])
def test_ledger_upload_in_scope_is_refused_by_role(world: World, cast: Cast, member: str) -> None:
    data = ledger_xlsx.simple([ledger_xlsx.row("REG-2")])
    _, upload = ledger.ledger_upload_create(
        actor=cast.clerk, enterprise=world.enterprise_a, source=data, file_name="台账.xlsx"
    )
    assert upload is not None
    client = _api(getattr(cast, member))
    assert client.get(f"/api/v1/ledger-uploads/{upload.pk}/preview/").status_code == 403
    assert client.post(f"/api/v1/ledger-uploads/{upload.pk}/commit/").status_code == 403
    upload.refresh_from_db()
    assert upload.status == "pending"


def test_export_job_of_another_region_is_not_found_and_logged(world: World, cast: Cast) -> None:
    job = ExportJob.objects.create(
        kind=ReportKind.ACCOUNTABILITY, region=world.town_a, month=dt.date(2024, 5, 1), file_format="xlsx",
        requested_by=cast.town_a_staff,
    )  # fmt: skip
    url = f"/api/v1/report-exports/{job.pk}/"
    assert _api(cast.town_a_staff).get(url).status_code == 200
    for member in ("town_b_staff", "other_county_staff", "clerk"):
        before = _denied(str(job.pk))
        assert _api(getattr(cast, member)).get(url).status_code == 404, member
        assert _denied(str(job.pk)) == before + 1, member
    # An id that names nothing is a 404 with nothing to log.
    before = AuditEvent.objects.count()
    for missing in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        assert _api(cast.town_b_staff).get(f"/api/v1/report-exports/{missing}/").status_code == 404
    assert AuditEvent.objects.count() == before


def test_report_table_and_export_of_a_region_out_of_scope_are_logged(world: World, cast: Cast) -> None:
    """report-tables/… and report-exports/ look the region up by its code: a refused region is logged too."""
    from tests.reporting.conftest import accountability_campaign

    accountability_campaign(world.county)
    table = f"/api/v1/report-tables/accountability/{world.town_a.code}/2024-05/"
    export = {"kind": "accountability", "region": world.town_a.code, "month": "2024-05", "file_format": "xlsx"}
    assert _api(cast.town_a_staff).get(table).status_code == 200
    for member in ("town_b_staff", "other_county_staff", "clerk"):
        client = _api(getattr(cast, member))
        before = _denied(str(world.town_a.pk))
        assert client.get(table).status_code == 404, member
        assert client.post("/api/v1/report-exports/", export, format="json").status_code == 404, member
        assert _denied(str(world.town_a.pk)) == before + 2, member
    assert not ExportJob.objects.exists()
    before = AuditEvent.objects.count()
    assert _api(cast.town_b_staff).get("/api/v1/report-tables/accountability/999999999/2024-05/").status_code == 404
    assert AuditEvent.objects.count() == before


def test_enforcement_record_refuses_an_out_of_scope_parent_company_like_a_missing_one(world: World, cast: Cast) -> None:
    """The parent company of an enforcement record was looked up among all companies: another county's company
    got a 403 naming it ("上级企业“…”在巴公镇没有所属矿山"), a missing one a 400 — its existence and name leaked."""
    from inspections.models import EnforcementRecord
    from tests.factories import ParentCompanyFactory

    hidden = ParentCompanyFactory(name="上党区保密集团有限公司", region=world.other_county)
    owner = ParentCompanyFactory(name="泽州县主体公司", region=world.county)  # registered above the town
    world.enterprise_a.parent_company = owner
    world.enterprise_a.save(update_fields=["parent_company"])
    client = _api(cast.town_a_staff)

    def post(company_id: int) -> Any:
        body = {"kind": "talk_parent", "date": "2024-05-08", "parent_company": company_id}
        return client.post("/api/v1/enforcement-records/", body, format="json")

    refused, missing = post(hidden.pk), post(hidden.pk + 1000)
    assert refused.status_code == missing.status_code == 400
    assert refused.json() == missing.json() == {"parent_company": ["上级企业不存在或不在您的辖区内。"]}
    assert not EnforcementRecord.objects.exists()
    # The parent company of a mine in the town is still a choice, though registered at the county.
    assert post(owner.pk).status_code == 201
    assert EnforcementRecord.objects.get().parent_company == owner


def test_ledger_upload_for_an_enterprise_out_of_scope_is_logged(world: World, cast: Cast) -> None:
    data = ledger_xlsx.simple([ledger_xlsx.row("REG-3")])
    for member, enterprise in (("town_b_staff", world.enterprise_a), ("clerk", world.enterprise_other)):
        before = _denied(str(enterprise.pk))
        upload = SimpleUploadedFile("台账.xlsx", data)
        response = _api(getattr(cast, member)).post(
            "/api/v1/ledger-uploads/", {"file": upload, "enterprise": enterprise.pk}, format="multipart"
        )
        assert response.status_code == 404, member
        assert _denied(str(enterprise.pk)) == before + 1, member
