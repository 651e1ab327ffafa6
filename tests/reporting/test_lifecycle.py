"""draft → submitted → signed; freezing; amendments make new versions; export jobs; the beat schedule."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from hazards.choices import HazardStatus
from hazards.models import Hazard, Notification
from inspections.models import EnforcementRecord
from portal.models import AuditEvent
from reporting import schedule, services
from reporting.choices import JobStatus, ReportKind, ScheduleStep, VersionStatus
from reporting.figures import ReportError
from reporting.models import ExportJob, Report, ReportVersion, ScheduledRun
from reporting.tasks import run_export, run_monthly_schedule
from tests.reporting import pdftext

pytestmark = pytest.mark.django_db

MAY = dt.date(2024, 5, 1)
DEC = dt.date(2023, 12, 1)


def _report(scenario, kind, region, month):
    campaign = scenario.accountability if kind == ReportKind.ACCOUNTABILITY else scenario.winter
    return services.report_get_or_create(kind=kind, region=region, campaign=campaign, month=month, due_day=23)


def _read(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def test_refresh_builds_one_draft_and_is_idempotent(scenario) -> None:
    report = _report(scenario, ReportKind.ACCOUNTABILITY, scenario.world.town_a, MAY)
    first = services.report_refresh(actor=None, report=report)
    again = services.report_refresh(actor=None, report=report)
    assert first.pk == again.pk and first.number == 1 and first.status == VersionStatus.DRAFT
    assert report.versions.count() == 1
    assert first.figures["row"]["talk_enterprise"] == 2
    assert first.record_ids["talk_enterprise"] == sorted(
        [scenario.records["talk_a1"].pk, scenario.records["talk_a2"].pk]
    )
    # a new record changes the draft in place (still one version)
    EnforcementRecord.objects.create(
        kind="talk_enterprise", issuing_unit=scenario.world.town_a, date=dt.date(2024, 5, 30),
        enterprise=scenario.world.enterprise_a, person_name="新增",
    )  # fmt: skip
    updated = services.report_refresh(actor=None, report=report)
    assert updated.pk == first.pk and updated.figures["row"]["talk_enterprise"] == 3
    assert report.versions.count() == 1
    assert report.due_on == dt.date(2024, 5, 23)


def test_who_may_submit_and_sign(scenario, cast) -> None:
    report = _report(scenario, ReportKind.ACCOUNTABILITY, scenario.world.town_a, MAY)
    version = services.report_refresh(actor=None, report=report)
    for outsider in (cast.town_b_staff, cast.county_staff, cast.clerk, cast.county_leader, cast.other_county_staff):
        with pytest.raises(ReportError, match="只有填报单位"):
            services.report_submit(actor=outsider, version=version)
    with pytest.raises(ReportError, match="只能对已报送"):
        services.report_sign(actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version))
    submitted = services.report_submit(actor=cast.town_a_staff, version=version)
    assert submitted.status == VersionStatus.SUBMITTED and submitted.submitted_by == cast.town_a_staff
    for outsider in (cast.town_a_staff, cast.county_staff, cast.admin, cast.city_viewer, cast.other_county_staff):
        with pytest.raises(ReportError, match="分管负责人"):
            services.report_sign(actor=outsider, version=submitted, fingerprint=services.shown_fingerprint(submitted))
    signed = services.report_sign(
        actor=cast.county_leader, version=submitted, fingerprint=services.shown_fingerprint(submitted)
    )
    assert signed.status == VersionStatus.SIGNED and signed.signed_by == cast.county_leader
    actions = list(
        AuditEvent.objects.filter(object_type="报表版本", object_id=str(version.pk)).values_list("detail", flat=True)
    )
    assert "报送报表" in actions and "分管负责人签字，报表冻结" in actions
    with pytest.raises(ReportError, match="已签字"):
        services.report_submit(actor=cast.town_a_staff, version=signed)


def test_county_table_is_submitted_by_county_staff(scenario, cast) -> None:
    report = _report(scenario, ReportKind.ACCOUNTABILITY, scenario.world.county, MAY)
    version = services.report_refresh(actor=None, report=report)
    with pytest.raises(ReportError):
        services.report_submit(actor=cast.town_a_staff, version=version)
    # No town has submitted its table: the county says why (issue 13 §4).
    with pytest.raises(ReportError, match="高都镇、巴公镇"):
        services.report_submit(actor=cast.county_staff, version=version)
    services.report_submit(actor=cast.county_staff, version=version, missing_reason="两镇系统故障，已电话报送")


def test_signing_freezes_files_figures_and_checksums_and_amendments_make_a_new_version(scenario, cast) -> None:
    cast.town_a_staff.full_name, cast.town_a_staff.phone = "张鹏", "0356-2066363"
    cast.town_a_staff.save()
    cast.county_leader.full_name = "张芒富"
    cast.county_leader.save()
    report = _report(scenario, ReportKind.WINTER, scenario.world.town_a, DEC)
    version = services.report_refresh(actor=None, report=report)
    services.report_submit(actor=cast.town_a_staff, version=version)
    submitted = ReportVersion.objects.get(pk=version.pk)
    signed = services.report_sign(
        actor=cast.county_leader, version=submitted, fingerprint=services.shown_fingerprint(submitted)
    )

    xlsx, pdf = _read(signed.xlsx_file), _read(signed.pdf_file)
    assert hashlib.sha256(xlsx).hexdigest() == signed.xlsx_sha256
    assert hashlib.sha256(pdf).hexdigest() == signed.pdf_sha256
    sheet = load_workbook(io.BytesIO(xlsx))["工作报表"]
    assert [c.value for c in sheet[7]][:4] == ["非煤矿山", 1, 2, 3]
    assert sheet["G2"].value.startswith("填表人：张鹏")
    text = pdftext.text(pdf)
    assert "填报单位：巴公镇应急管理中心" in text and "填表人：张鹏" in text and "（未签字）" not in text
    frozen_figures = dict(signed.figures)

    # amend records after signing: a hazard is rectified, a fine is added
    Hazard.objects.filter(pk=scenario.hazards["g3"].pk).update(
        status=HazardStatus.RECTIFIED, rectified_on=dt.date(2023, 12, 20)
    )
    EnforcementRecord.objects.create(
        kind="penalty_enterprise", issuing_unit=scenario.world.town_a, date=dt.date(2023, 12, 28),
        enterprise=scenario.world.enterprise_a, amount=Decimal("3.00"),
    )  # fmt: skip
    amended = services.report_refresh(actor=None, report=report)
    signed.refresh_from_db()
    assert amended.number == 2 and amended.status == VersionStatus.DRAFT and amended.based_on == signed
    # the signed version is untouched: same files, same bytes, same snapshot
    assert _read(signed.xlsx_file) == xlsx and _read(signed.pdf_file) == pdf
    assert signed.figures == frozen_figures and signed.status == VersionStatus.SIGNED
    described = [services.describe(change) for change in amended.differences]
    assert "非煤矿山（本月）/ 一般隐患 / 已整改（项）：1 → 2" in described
    assert "非煤矿山（本月）/ 行政罚款金额（万）：2.00 → 5.00" in described
    assert "累计 / 行政罚款金额（万）：2.50 → 5.50" in described
    assert any(c["type"] == "records" and c["key"] == "month.general_rectified" for c in amended.differences)
    # refreshing again changes nothing more
    assert services.report_refresh(actor=None, report=report).pk == amended.pk
    assert report.versions.count() == 2
    # the new version goes through the same steps and is signed as version 2
    services.report_submit(actor=cast.town_a_staff, version=amended)
    resubmitted = ReportVersion.objects.get(pk=amended.pk)
    second = services.report_sign(
        actor=cast.county_leader, version=resubmitted, fingerprint=services.shown_fingerprint(resubmitted)
    )
    assert second.number == 2 and second.xlsx_sha256 != signed.xlsx_sha256
    assert services.report_refresh(actor=None, report=report).pk == second.pk  # nothing changed since


def test_signing_is_refused_when_records_changed_after_submission(scenario, cast) -> None:
    report = _report(scenario, ReportKind.ACCOUNTABILITY, scenario.world.town_a, MAY)
    version = services.report_submit(
        actor=cast.town_a_staff, version=services.report_refresh(actor=None, report=report)
    )
    EnforcementRecord.objects.filter(pk=scenario.records["pen_a2"].pk).update(amount=Decimal("3.25"))
    with pytest.raises(ReportError, match=r"报送后数据已发生变化.*非煤矿山企业行政处罚（万元）：3.75 → 4.75"):
        services.report_sign(actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version))
    assert ReportVersion.objects.get(pk=version.pk).status == VersionStatus.SUBMITTED
    resubmitted = services.report_submit(actor=cast.town_a_staff, version=version)
    assert (
        services.report_sign(
            actor=cast.county_leader, version=resubmitted, fingerprint=services.shown_fingerprint(resubmitted)
        ).status
        == VersionStatus.SIGNED
    )


def test_sign_job_on_the_worker_reports_a_refusal(scenario, cast) -> None:
    from reporting.tasks import run_sign

    report = _report(scenario, ReportKind.ACCOUNTABILITY, scenario.world.town_a, MAY)
    version = services.report_submit(
        actor=cast.town_a_staff, version=services.report_refresh(actor=None, report=report)
    )
    with pytest.raises(ReportError, match="分管负责人"):
        services.sign_request(actor=cast.county_staff, version=version, fingerprint=services.shown_fingerprint(version))
    job = services.sign_request(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )
    EnforcementRecord.objects.filter(pk=scenario.records["talk_a1"].pk).delete()
    assert run_sign.apply(args=[str(job.pk)]).get() == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "报送后数据已发生变化" in job.error
    assert ReportVersion.objects.get(pk=version.pk).status == VersionStatus.SUBMITTED


def test_export_job_runs_on_the_worker_with_progress_and_errors(
    scenario, cast, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.export_request(
            actor=cast.county_staff, kind=ReportKind.WINTER, region=scenario.world.county, month=DEC, file_format="pdf"
        )
    assert len(callbacks) == 1  # the task is sent only after the job row is committed
    assert job.status == JobStatus.PENDING
    assert run_export.apply(args=[str(job.pk)]).get() == "success"
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCESS and job.progress == 100 and job.attempts == 1
    text = pdftext.text(_read(job.file))
    assert "泽州县非煤矿山行业安全生产“百日攻坚”冬季行动工作报表" in text and "草稿（未签字）" in text
    # a redelivered message does not build it again
    assert run_export.apply(args=[str(job.pk)]).get() == "not pending"
    bad = ExportJob.objects.create(kind=ReportKind.WINTER, region=scenario.world.county, month=MAY, file_format="xlsx")
    assert run_export.apply(args=[str(bad.pk)]).get() == "failed"
    bad.refresh_from_db()
    assert bad.status == JobStatus.FAILED and "没有需要报送" in bad.error and not bad.file


def _day_counts():
    return (
        ReportVersion.objects.count(),
        Notification.objects.count(),
        ScheduledRun.objects.filter(status=JobStatus.SUCCESS).count(),
    )


def test_beat_builds_drafts_reminds_and_flags_missing_once(scenario, cast) -> None:
    due = dt.date(2023, 12, 25)  # 冬季行动工作报表 and 三清单: the 25th
    result = schedule.run_day(due - dt.timedelta(days=2))
    assert not result.failed
    winter_reports = Report.objects.filter(kind=ReportKind.WINTER, month=DEC, campaign=scenario.winter)
    assert {r.region.name for r in winter_reports} == {"泽州县", "巴公镇", "高都镇"}
    assert all(r.versions.get().status == VersionStatus.DRAFT for r in winter_reports)
    assert Report.objects.filter(kind=ReportKind.THREE_LISTS, month=DEC).count() == 3
    assert Report.objects.filter(kind=ReportKind.ACCOUNTABILITY).count() == 0  # its deadline is not near
    reminders = Notification.objects.filter(recipient=cast.town_a_staff)
    assert reminders.count() == 2  # the two tables due on the 25th
    assert "请于2023-12-25前报送2023年12月“冬季行动工作报表”" in reminders.order_by("id").first().message
    counts = _day_counts()
    schedule.run_day(due - dt.timedelta(days=2))  # beat fires twice
    run_monthly_schedule.apply(args=[(due - dt.timedelta(days=2)).isoformat()]).get()
    assert _day_counts() == counts

    # town A submits its winter table the day before; B does not
    town_a_winter = winter_reports.get(region=scenario.world.town_a)
    services.report_submit(actor=cast.town_a_staff, version=town_a_winter.versions.get())
    schedule.run_day(due - dt.timedelta(days=1))
    assert Notification.objects.filter(recipient=cast.town_a_staff).count() == 3  # only the 三清单 reminder again
    assert Notification.objects.filter(recipient=cast.town_b_staff).count() == 4
    schedule.run_day(due)
    assert winter_reports.get(region=scenario.world.town_a).flagged_missing_at is None
    assert winter_reports.get(region=scenario.world.town_b).flagged_missing_at is not None
    county_news = Notification.objects.filter(recipient=cast.county_staff).values_list("message", flat=True)
    assert (
        "截至2023-12-25，高都镇未报送2023年12月“冬季行动工作报表”（非煤矿山行业安全生产“百日攻坚”冬季行动）。"
        in county_news
    )
    assert Notification.objects.filter(recipient=cast.county_leader).count() == 2
    assert not Notification.objects.filter(recipient=cast.other_county_staff).exists()


def test_a_failed_step_is_recorded_and_claimed_again(scenario, monkeypatch) -> None:
    calls = {"n": 0}
    original = schedule.STEPS[ScheduleStep.DRAFT_EARLY]

    def flaky(due, region):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("数据库暂时不可用")
        return original(due, region)

    monkeypatch.setitem(schedule.STEPS, ScheduleStep.DRAFT_EARLY, flaky)
    day = dt.date(2024, 5, 21)  # two days before the 23rd
    first = schedule.run_day(day)
    assert len(first.failed) == 1
    failed = ScheduledRun.objects.get(status=JobStatus.FAILED)
    assert "数据库暂时不可用" in failed.error and failed.attempts == 1
    second = schedule.run_day(day)
    assert not second.failed and len(second.done) == 1
    failed.refresh_from_db()
    assert failed.status == JobStatus.SUCCESS and failed.attempts == 2
    assert Report.objects.get(kind=ReportKind.ACCOUNTABILITY, region=failed.region).versions.count() == 1


def test_nightly_check_makes_a_new_version_after_an_amendment(scenario, cast) -> None:
    report = _report(scenario, ReportKind.ACCOUNTABILITY, scenario.world.county, MAY)
    version = services.report_submit(
        actor=cast.county_staff, version=services.report_refresh(actor=None, report=report), missing_reason="测试"
    )
    services.report_sign(actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version))
    night = dt.date(2024, 6, 2)
    assert schedule.check_amendments(night).done == [f"{report}: 数据未变"]
    EnforcementRecord.objects.filter(pk=scenario.records["dismiss_b"].pk).update(kind="accountability_reassignment")
    result = schedule.check_amendments(night + dt.timedelta(days=1))
    assert result.done == [f"{report}: 数据有变化：第2版 草稿"]
    new = report.versions.get(number=2)
    assert {c["label"] for c in new.differences if c["type"] == "value"} == {
        "责任追究情况 / 调整工作岗位（人次）",
        "责任追究情况 / 解聘（人数）",
    }
    assert schedule.check_amendments(night + dt.timedelta(days=1)).skipped == 1  # claimed once a day
