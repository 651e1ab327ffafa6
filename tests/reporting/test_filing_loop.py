"""The filing loop closes (issue 13 §4): a submitted table is a filed deliverable; the county sees and
explains the towns missing; a deliverable names its table by a field, so renaming it changes nothing."""

from __future__ import annotations

import datetime as dt
import importlib
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse
from openpyxl import load_workbook

from inspections import deliverables as filing
from inspections.choices import DeliverableKind, DeliverableSchedule, DeliverableSubmitter, DeliveryStatus
from inspections.models import Deliverable, DeliverableSubmission
from portal.choices import AuditAction
from portal.models import AuditEvent
from reporting import dashboard, schedule, selectors, services
from reporting.choices import ReportKind, VersionStatus
from reporting.figures import ReportError
from reporting.models import Report, ReportVersion
from tests.reporting import pdftext

pytestmark = pytest.mark.django_db

MAY = dt.date(2024, 5, 1)
DUE = dt.date(2024, 5, 23)
TZ = ZoneInfo("Asia/Shanghai")


def _report(scenario: Any, region: Any) -> Report:
    return services.report_get_or_create(
        kind=ReportKind.ACCOUNTABILITY, region=region, campaign=scenario.accountability, month=MAY, due_day=23
    )


def _deliverable(scenario: Any) -> Deliverable:
    return scenario.accountability.deliverables.get(table=ReportKind.ACCOUNTABILITY)


def _submit_town(scenario: Any, cast: Any, region: Any, when: dt.datetime) -> ReportVersion:
    with time_machine.travel(when, tick=False):
        version = services.report_refresh(actor=None, report=_report(scenario, region))
        return services.report_submit(actor=cast.town_a_staff if region == scenario.world.town_a else
                                      cast.town_b_staff, version=version)  # fmt: skip


def _cell(scenario: Any, town: Any, today: dt.date) -> filing.Cell:
    deliverable = _deliverable(scenario)
    matrix = filing.matrix(campaign=scenario.accountability, towns=[town], today=today)
    index = next(i for i, c in enumerate(matrix.columns) if c.deliverable == deliverable and c.due == DUE)
    return matrix.rows[0].cells[index]


def test_submitting_a_town_table_marks_the_deliverable_filed(scenario: Any, cast: Any) -> None:
    w = scenario.world
    after = dt.date(2024, 5, 28)
    assert _cell(scenario, w.town_a, after).status == DeliveryStatus.MISSING
    _submit_town(scenario, cast, w.town_a, dt.datetime(2024, 5, 20, 10, tzinfo=TZ))
    (filed,) = DeliverableSubmission.objects.filter(deliverable=_deliverable(scenario))
    assert filed.town == w.town_a and filed.due_date == DUE and filed.submitted_by == cast.town_a_staff
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_id=str(filed.pk)).exists()
    assert _cell(scenario, w.town_a, after).status == DeliveryStatus.ON_TIME
    # 高都镇 submits after the 23rd: 逾期提交
    _submit_town(scenario, cast, w.town_b, dt.datetime(2024, 5, 26, 9, tzinfo=TZ))
    assert _cell(scenario, w.town_b, after).status == DeliveryStatus.LATE
    # Submitting again (a new version) files nothing more.
    report = _report(scenario, w.town_a)
    with time_machine.travel(dt.datetime(2024, 5, 27, 9, tzinfo=TZ), tick=False):
        services.report_submit(actor=cast.town_a_staff, version=report.versions.get())
    assert DeliverableSubmission.objects.filter(town=w.town_a).count() == 1


def test_dashboard_counts_missing_tables_from_the_filings(scenario: Any, cast: Any) -> None:
    w = scenario.world
    today = dt.date(2024, 5, 28)

    def status() -> dict[str, int]:
        (row,) = [
            r for r in dashboard._deliverables(cast.county_staff, w.county, today) if r["kind"] == "追责问责情况统计表"
        ]
        return row

    before = status()
    assert before["on_time"] == 0 and before["missing"] >= 2  # no table of any town is a filing yet
    _submit_town(scenario, cast, w.town_a, dt.datetime(2024, 5, 20, 10, tzinfo=TZ))
    after = status()
    assert after["on_time"] == 1 and after["missing"] == before["missing"] - 1
    # The town's own dashboard counts its own only.
    (mine,) = [
        r for r in dashboard._deliverables(cast.town_b_staff, w.town_b, today) if r["kind"] == "追责问责情况统计表"
    ]
    assert mine["on_time"] == 0 and mine["missing"] == before["missing"] // 2


def test_county_page_lists_missing_towns_and_needs_a_reason(scenario: Any, cast: Any, client: Any) -> None:
    w = scenario.world
    _submit_town(scenario, cast, w.town_a, dt.datetime(2024, 5, 20, 10, tzinfo=TZ))
    page_url = reverse("reporting:table", args=["accountability", w.county.code, "2024-05"])
    act = reverse("reporting:act", args=["accountability", w.county.code, "2024-05"])
    client.force_login(cast.county_staff)
    client.post(act, {"action": "refresh"})
    county = Report.objects.get(kind="accountability", region=w.county)
    version = county.versions.get()
    page = client.get(page_url)
    assert [t.name for t in page.context["missing_towns"]] == ["高都镇"]
    html = page.content.decode()
    assert "尚未报送本月报表的镇（1个）：高都镇" in html and "填写原因并报送" in html
    # Without a reason: refused with the list, nothing changes.
    refused = client.post(act, {"action": "submit", "version": version.pk}, follow=True).content.decode()
    assert "以下镇尚未报送本月报表：高都镇" in refused
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT and version.missing_towns == []
    client.post(act, {"action": "submit", "version": version.pk, "missing_reason": "高都镇人员调整，下周补报"})
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED
    assert version.missing_towns == ["高都镇"] and version.missing_reason == "高都镇人员调整，下周补报"
    # The leader sees the same list and the reason before signing.
    client.force_login(cast.county_leader)
    leader_page = client.get(page_url).content.decode()
    assert "报送时未报送的镇：高都镇；原因：高都镇人员调整，下周补报" in leader_page and "分管负责人签字" in leader_page
    # Signed: the 备注 is printed in the Excel and the PDF.
    signed = services.report_sign(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )
    remark = "备注：报送时高都镇未报送本月报表，原因：高都镇人员调整，下周补报"
    with signed.xlsx_file.open("rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read())).active
    assert remark in [cell.value for row in sheet.iter_rows() for cell in row]
    with signed.pdf_file.open("rb") as handle:
        assert remark in pdftext.text(handle.read())


def test_county_with_every_town_filed_needs_no_reason(scenario: Any, cast: Any) -> None:
    w = scenario.world
    for town in (w.town_a, w.town_b):
        _submit_town(scenario, cast, town, dt.datetime(2024, 5, 20, 10, tzinfo=TZ))
    county = _report(scenario, w.county)
    assert selectors.towns_not_submitted(county) == []
    version = services.report_submit(
        actor=cast.county_staff, version=services.report_refresh(actor=None, report=county)
    )
    assert version.status == VersionStatus.SUBMITTED and version.missing_towns == [] and not version.missing_reason
    assert services.missing_remark(version) == ""
    with pytest.raises(ReportError):  # a town's page never asks the county's question
        services.report_submit(actor=cast.town_b_staff, version=version)


def test_renaming_a_deliverable_keeps_drafts_and_reminders(scenario: Any, cast: Any) -> None:
    deliverable = _deliverable(scenario)
    deliverable.name = "每月追责问责统计（改名）"
    deliverable.save()
    # The table page finds its campaign, the deadline day and the beat plans its steps.
    assert selectors.campaign_for(kind=ReportKind.ACCOUNTABILITY, region=scenario.world.town_a, month=MAY) == (
        scenario.accountability
    )
    assert selectors.due_day(ReportKind.ACCOUNTABILITY, scenario.accountability) == 23
    plans = schedule.dues_around(DUE - dt.timedelta(days=2))
    assert any(due.kind == ReportKind.ACCOUNTABILITY and due.due == DUE for due, _steps in plans)
    result = schedule.run_day(DUE - dt.timedelta(days=2))
    assert Report.objects.filter(kind=ReportKind.ACCOUNTABILITY, month=MAY, region=scenario.world.town_a).exists()
    assert not result.failed
    # A deliverable only *named* like a table is not one.
    deliverable.table = ""
    deliverable.save()
    Deliverable.objects.create(
        campaign=scenario.accountability, name="追责问责情况统计表（附件）", submitter=DeliverableSubmitter.TOWN,
        recipients="县局", kind=DeliverableKind.UPLOAD, schedule=DeliverableSchedule.MONTHLY, day_of_month=23,
    )  # fmt: skip
    assert not any(due.kind == ReportKind.ACCOUNTABILITY for due, _ in schedule.dues_around(DUE - dt.timedelta(days=2)))


def test_data_migration_classifies_by_the_old_name_matching_once(scenario: Any) -> None:
    migration = importlib.import_module("inspections.migrations.0004_deliverable_table")
    rows = {
        name: Deliverable.objects.create(
            campaign=scenario.winter,
            name=name,
            submitter=DeliverableSubmitter.TOWN,
            recipients="县局",
            kind=DeliverableKind.FORM,
            schedule=schedule_,
            day_of_month=25 if schedule_ == "monthly" else None,
            due_date=None if schedule_ == "monthly" else dt.date(2024, 1, 5),
        )
        for name, schedule_ in (
            ("镇冬季行动工作报表", DeliverableSchedule.MONTHLY),
            ("问题三清单（每月）", DeliverableSchedule.MONTHLY),
            ("月度追责问责情况统计表", DeliverableSchedule.MONTHLY),
            ("典型案例线索", DeliverableSchedule.MONTHLY),
            ("冬季行动工作报表（一次）", DeliverableSchedule.ONCE),
        )
    }
    migration.forwards(apps, None)
    tables = {name: Deliverable.objects.get(pk=row.pk).table for name, row in rows.items()}
    assert tables == {
        "镇冬季行动工作报表": "winter",
        "问题三清单（每月）": "three_lists",
        "月度追责问责情况统计表": "accountability",
        "典型案例线索": "",
        "冬季行动工作报表（一次）": "",
    }
    # The seeded deliverables were classified by the migration itself.
    assert _deliverable(scenario).name == "追责问责情况统计表"
    assert scenario.winter.deliverables.get(name="冬季行动工作报表").table == ReportKind.WINTER


def test_a_submitted_table_stops_the_deliverable_reminders(scenario: Any, cast: Any) -> None:
    from inspections.models import DeliverableReminder
    from inspections.services import deliverable_send_reminders

    w = scenario.world
    _submit_town(scenario, cast, w.town_a, dt.datetime(2024, 5, 19, 10, tzinfo=TZ))
    deliverable_send_reminders(today=DUE - dt.timedelta(days=3))
    reminded = set(
        DeliverableReminder.objects.filter(deliverable=_deliverable(scenario)).values_list("town", flat=True)
    )
    assert reminded == {w.town_b.pk}


def test_reasons_and_notes_are_shown_escaped(scenario: Any, cast: Any, client: Any) -> None:
    w = scenario.world
    county = _report(scenario, w.county)
    hostile = '<script>alert(1)</script>"><img src=x>'
    services.report_submit(
        actor=cast.county_staff, version=services.report_refresh(actor=None, report=county), missing_reason=hostile
    )
    client.force_login(cast.county_leader)
    html = client.get(reverse("reporting:table", args=["accountability", w.county.code, "2024-05"])).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_admin_names_the_table_and_a_rename_there_changes_nothing(cast: Any, world: Any) -> None:
    from django.test import Client

    from inspections.models import Campaign
    from tests.otp_helpers import force_login_verified

    client = Client()
    force_login_verified(client, cast.admin)
    data = {
        "name": "集中排查整治", "document_number": "泽应急发〔2025〕9号", "document_title": "",
        "issuing_region": world.county.pk, "issuing_authority": "泽州县应急管理局",
        "start_date": "2025-03-01", "end_date": "2025-05-31", "period_text": "", "summary": "",
        "phases-TOTAL_FORMS": "0", "phases-INITIAL_FORMS": "0",
        "checklist_areas-TOTAL_FORMS": "0", "checklist_areas-INITIAL_FORMS": "0",
        "quotas-TOTAL_FORMS": "0", "quotas-INITIAL_FORMS": "0",
        "deliverables-TOTAL_FORMS": "1", "deliverables-INITIAL_FORMS": "0",
        "deliverables-0-order": "1", "deliverables-0-name": "每月统计表", "deliverables-0-submitter": "town",
        "deliverables-0-recipients": "县局", "deliverables-0-kind": "monthly_table",
        "deliverables-0-schedule": "monthly",
        "deliverables-0-table": "accountability", "deliverables-0-due_date": "", "deliverables-0-day_of_month": "20",
        "deliverables-0-min_count": "1", "deliverables-0-description": "",
    }  # fmt: skip
    response = client.post("/admin/inspections/campaign/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = Campaign.objects.get(document_number="泽应急发〔2025〕9号")
    deliverable = campaign.deliverables.get()
    assert deliverable.table == ReportKind.ACCOUNTABILITY  # named 每月统计表: no word of the table's name
    due = dt.date(2025, 4, 20)

    def planned() -> bool:
        return any(d.campaign == campaign and d.kind == ReportKind.ACCOUNTABILITY for d, _ in schedule.dues_around(due))

    assert planned()
    rename = {**data, "deliverables-INITIAL_FORMS": "1", "deliverables-0-id": str(deliverable.pk),
              "deliverables-0-campaign": str(campaign.pk), "deliverables-0-name": "追责问责月报（改名）"}  # fmt: skip
    response = client.post(f"/admin/inspections/campaign/{campaign.pk}/change/", rename)
    assert response.status_code == 302, response.content.decode()[:3000]
    deliverable.refresh_from_db()
    assert deliverable.name == "追责问责月报（改名）" and deliverable.table == ReportKind.ACCOUNTABILITY
    assert planned()
    assert selectors.due_day(ReportKind.ACCOUNTABILITY, campaign) == 20
