"""The deliverables of a campaign: the town × deliverable matrix and the reminders, with frozen time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from hazards.fingerprint import hazard_fingerprint
from hazards.models import Notification
from inspections import deliverables, services
from inspections.answered import self_check_fingerprint
from inspections.models import Campaign, DeliverableReminder
from tests.conftest import Cast, World

SH = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 9) -> time_machine.travel:
    return time_machine.travel(dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SH), tick=False)


def _pdf(name: str = "总结.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.6 x")


def _cells(matrix: deliverables.Matrix, town) -> dict[tuple[str, str], deliverables.Cell]:  # type: ignore[no-untyped-def]
    (row,) = [r for r in matrix.rows if r.town == town]
    return {(c.deliverable.name, c.due.isoformat()): cell for c, cell in zip(matrix.columns, row.cells, strict=True)}


def test_matrix_on_time_late_missing_pending(cast: Cast, world: World, campaign83: Campaign) -> None:
    summary = campaign83.deliverables.get(name="工作总结")
    table = campaign83.deliverables.get(name="追责问责情况统计表")
    with at("2024-08-20"):
        services.submission_create(
            actor=cast.town_a_staff, deliverable=summary, due_date=dt.date(2024, 8, 23), file=_pdf()
        )
    with at("2024-08-23", hour=23):  # late evening of the due day is still on time
        services.submission_create(
            actor=cast.town_a_staff,
            deliverable=table,
            due_date=dt.date(2024, 8, 23),
            content="见附件",
            file=_pdf("表.pdf"),
        )
    with at("2024-08-25"):
        services.submission_create(
            actor=cast.town_b_staff, deliverable=summary, due_date=dt.date(2024, 8, 23), file=_pdf()
        )
    towns = [world.town_a, world.town_b]
    result = deliverables.matrix(campaign=campaign83, towns=towns, today=dt.date(2024, 8, 26))
    a, b = _cells(result, world.town_a), _cells(result, world.town_b)
    assert a[("工作总结", "2024-08-23")].status == "on_time"
    assert b[("工作总结", "2024-08-23")].status == "late"
    assert a[("追责问责情况统计表", "2024-08-23")].status == "on_time"
    assert b[("追责问责情况统计表", "2024-08-23")].status == "missing"
    assert a[("典型案例线索", "2024-08-30")].status == "pending"
    assert a[("追责问责情况统计表", "2024-05-23")].status == "missing"
    # Enterprise deliverables are counted per town: enterprise_a and enterprise_a2 have not filed.
    report_cell = a[("自查自改报告", "2024-04-25")]
    assert report_cell.status == "missing" and report_cell.counts == {"missing": 2}
    later = deliverables.matrix(campaign=campaign83, towns=towns, today=dt.date(2024, 9, 1))
    assert _cells(later, world.town_a)[("典型案例线索", "2024-08-30")].status == "missing"


def test_self_check_reports_count_for_the_enterprise_deliverable(
    cast: Cast, world: World, campaign83: Campaign
) -> None:
    with at("2024-04-20"):
        report = services.self_check_start(actor=cast.clerk, campaign=campaign83, enterprise=world.enterprise_a)
        for row in report.answers.select_related("item"):
            if not row.answer:
                services.self_check_answer(actor=cast.clerk, report=report, item=row.item, answer="yes")
        services.self_check_sign(
            actor=cast.principal, report=report, signer=cast.principal, fingerprint=self_check_fingerprint(report)
        )
    result = deliverables.matrix(campaign=campaign83, towns=[world.town_a], today=dt.date(2024, 5, 1))
    cell = _cells(result, world.town_a)[("自查自改报告", "2024-04-25")]
    assert cell.counts == {"on_time": 1, "missing": 1}


def test_major_hazard_deliverable_counts_reported_major_hazards(
    cast: Cast, world: World, campaign331: Campaign
) -> None:
    from hazards import services as hazard_services
    from hazards.models import MajorHazardCriterion

    criterion = MajorHazardCriterion.objects.filter(mine_type="open_pit").first()
    with at("2023-12-05"):
        draft = hazard_services.hazard_report(
            actor=cast.clerk, enterprise=world.enterprise_a, level="major", description="边坡角超过设计",
            category="slope", source="self_check", found_on=dt.date(2023, 12, 5), criterion=criterion,
        )  # fmt: skip
    result = deliverables.matrix(campaign=campaign331, towns=[world.town_a], today=dt.date(2024, 2, 11))
    assert (
        _cells(result, world.town_a)[("安全生产重大隐患", "2024-02-10")].status == "missing"
    )  # a draft is not reported
    with at("2023-12-06"):
        hazard_services.hazard_sign_report(actor=cast.principal, hazard=draft, fingerprint=hazard_fingerprint(draft))
    result = deliverables.matrix(campaign=campaign331, towns=[world.town_a, world.town_b], today=dt.date(2024, 2, 11))
    assert _cells(result, world.town_a)[("安全生产重大隐患", "2024-02-10")].status == "on_time"
    assert _cells(result, world.town_b)[("安全生产重大隐患", "2024-02-10")].status == "missing"


def test_who_submits_what(cast: Cast, world: World, campaign83: Campaign) -> None:
    summary = campaign83.deliverables.get(name="工作总结")
    ledger = campaign83.deliverables.get(name="重大事故隐患排查整治台账")
    with at("2024-08-20"):
        for outsider in (cast.clerk, cast.county_staff, cast.city_viewer):
            with pytest.raises(PermissionDenied):
                services.submission_create(
                    actor=outsider, deliverable=summary, due_date=dt.date(2024, 8, 23), file=_pdf()
                )
        with pytest.raises(PermissionDenied):
            services.submission_create(
                actor=cast.town_a_staff, deliverable=ledger, due_date=dt.date(2024, 4, 25), file=_pdf()
            )
        with pytest.raises(ValidationError, match="截止日期不在"):
            services.submission_create(
                actor=cast.town_a_staff, deliverable=summary, due_date=dt.date(2024, 8, 24), file=_pdf()
            )
        with pytest.raises(ValidationError, match="请上传文件"):
            services.submission_create(
                actor=cast.town_a_staff, deliverable=summary, due_date=dt.date(2024, 8, 23), content="x"
            )
        with pytest.raises(ValidationError, match="不在您的辖区内"):
            services.submission_create(
                actor=cast.other_county_staff, deliverable=summary, due_date=dt.date(2024, 8, 23)
            )
        ok = services.submission_create(
            actor=cast.clerk, deliverable=ledger, due_date=dt.date(2024, 4, 25), file=_pdf("台账.pdf")
        )
    assert ok.enterprise == world.enterprise_a and ok.town is None


def _messages(user) -> list[str]:  # type: ignore[no-untyped-def]
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("message", flat=True))


def test_reminders_three_days_and_one_day_before_once(cast: Cast, world: World, campaign83: Campaign) -> None:
    with at("2024-08-20", hour=8):
        first = services.deliverable_send_reminders()
        again = services.deliverable_send_reminders()
    # 08-23: 追责问责情况统计表 and 工作总结, for both towns.
    assert first == {"sent": 4, "skipped": 0} and again == {"sent": 0, "skipped": 4}
    assert DeliverableReminder.objects.count() == 4
    messages_a = _messages(cast.town_a_staff)
    assert len(messages_a) == 2 and all("还有3天" in m and "2024年08月23日" in m for m in messages_a)
    assert not _messages(cast.clerk) and not _messages(cast.county_staff)
    summary = campaign83.deliverables.get(name="工作总结")
    with at("2024-08-21"):
        services.submission_create(
            actor=cast.town_a_staff, deliverable=summary, due_date=dt.date(2024, 8, 23), file=_pdf()
        )
        assert services.deliverable_send_reminders() == {"sent": 0, "skipped": 0}  # nothing due in 3 or 1 days
    with at("2024-08-22", hour=8):
        services.deliverable_send_reminders()
    # One day before: town A has filed 工作总结, so it is reminded only of the table; town B of both.
    assert [m for m in _messages(cast.town_a_staff) if "还有1天" in m] == [
        m for m in _messages(cast.town_a_staff) if "还有1天" in m and "追责问责情况统计表" in m
    ]
    assert len([m for m in _messages(cast.town_a_staff) if "还有1天" in m]) == 1
    assert len([m for m in _messages(cast.town_b_staff) if "还有1天" in m]) == 2


def test_enterprise_reminders_go_to_the_enterprise_accounts(cast: Cast, world: World, campaign331: Campaign) -> None:
    with at("2024-01-28", hour=8):
        result = services.deliverable_send_reminders()
    # 问题隐患清单 (01-31): the three active enterprises of the county; the other county's is not reminded.
    enterprise_keys = set(
        DeliverableReminder.objects.filter(enterprise__isnull=False).values_list("recipient_key", flat=True)
    )
    assert enterprise_keys == {
        f"enterprise:{e.pk}" for e in (world.enterprise_a, world.enterprise_a2, world.enterprise_b)
    }
    assert result["sent"] == 3
    assert len(_messages(cast.clerk)) == 1 and len(_messages(cast.principal)) == 1
    assert "问题隐患清单" in _messages(cast.clerk)[0]
    assert not _messages(cast.other_clerk)
