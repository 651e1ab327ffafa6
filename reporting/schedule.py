"""What the beat jobs do, day by day, around each deadline of a monthly table.

For every monthly deliverable of a campaign that is one of the tables (`Deliverable.table`), and
each of its due dates (`Deliverable.due_dates()`: the day of each month inside the campaign):

    due − 2 days   build the drafts of every town and of the county; remind towns that have not submitted
    due − 1 day    build the drafts again (figures up to date); remind again
    due            flag each table not submitted, and tell the county which towns are missing

Each step for each table and day is claimed in `ScheduledRun` (unique per step, table and day), so
beat firing twice, a redelivered message or a second worker does it once. A failed step records its
error and is claimed again by the retry; its state is in the admin.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from hazards import audit_events as hazard_events
from hazards.choices import NotificationKind
from hazards.models import Notification
from inspections.choices import DeliverableSchedule
from inspections.models import Campaign, Deliverable
from portal import limits
from portal.choices import RegionLevel, Role
from portal.models import Region, User
from portal.scoping import in_subtree
from reporting import audit_events as report_events
from reporting import services
from reporting.choices import JobStatus, ReportKind, ScheduleStep, VersionStatus
from reporting.models import Report, ScheduledRun

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
STALE_AFTER = dt.timedelta(hours=1)  # a "running" claim older than this belonged to a worker that died


def kind_of(deliverable: Deliverable) -> str | None:
    """The table a monthly deliverable is, by its explicit field (never by its name)."""
    if deliverable.schedule != DeliverableSchedule.MONTHLY or not deliverable.table:
        return None
    return deliverable.table


@dataclass(frozen=True)
class Due:
    kind: str
    campaign: Campaign
    month: dt.date
    due: dt.date
    day: int


# Days before the deadline → what is done that day.
STEPS_BY_DAYS_LEFT: dict[int, list[str]] = {
    2: [ScheduleStep.DRAFT_EARLY, ScheduleStep.REMIND],
    1: [ScheduleStep.DRAFT_LATE, ScheduleStep.REMIND],
    0: [ScheduleStep.FLAG_MISSING, ScheduleStep.NOTIFY_MISSING],
}


def dues_around(today: dt.date) -> list[tuple[Due, list[str]]]:
    """The deadlines within two days of `today`, with the steps that fall due today."""
    plans: list[tuple[Due, list[str]]] = []
    deliverables = Deliverable.objects.filter(schedule=DeliverableSchedule.MONTHLY).select_related(
        "campaign", "campaign__issuing_region"
    )
    for deliverable in deliverables:
        kind = kind_of(deliverable)
        if kind is None or deliverable.day_of_month is None:
            continue
        for due in deliverable.due_dates():
            days = (due - today).days
            steps = STEPS_BY_DAYS_LEFT.get(days)
            if steps:
                month = due.replace(day=1)
                plans.append((Due(kind, deliverable.campaign, month, due, int(deliverable.day_of_month)), steps))
    return plans


def filing_regions(campaign: Campaign) -> QuerySet[Region]:
    """The towns and counties under the issuing region (the county itself included)."""
    return Region.objects.filter(
        in_subtree(campaign.issuing_region.path), level__in=[RegionLevel.COUNTY, RegionLevel.TOWN]
    ).order_by("path")


def _claim(*, step: str, due: Due, region: Region, today: dt.date) -> ScheduledRun | None:
    run, _ = ScheduledRun.objects.get_or_create(
        step=step, kind=due.kind, campaign=due.campaign, region=region, month=due.month, run_on=today
    )
    now = timezone.now()
    claimable = Q(status__in=[JobStatus.PENDING, JobStatus.FAILED], attempts__lt=MAX_ATTEMPTS) | Q(
        status=JobStatus.RUNNING, started_at__lt=now - STALE_AFTER
    )
    claimed = ScheduledRun.objects.filter(claimable, pk=run.pk).update(
        status=JobStatus.RUNNING, attempts=F("attempts") + 1, started_at=now, error=""
    )
    return run if claimed else None


def _finish(run: ScheduledRun, detail: str) -> None:
    ScheduledRun.objects.filter(pk=run.pk).update(
        status=JobStatus.SUCCESS, detail=detail[: limits.TEXT_SYSTEM], finished_at=timezone.now()
    )
    report_events.schedule_ran(run=run, result=detail)


def _fail(run: ScheduledRun, error: str) -> None:
    ScheduledRun.objects.filter(pk=run.pk).update(
        status=JobStatus.FAILED, error=error[: limits.TEXT_TRACE], finished_at=timezone.now()
    )
    report_events.schedule_failed(run=run, error=error)


def _report(due: Due, region: Region) -> Report:
    return services.report_get_or_create(
        kind=due.kind, region=region, campaign=due.campaign, month=due.month, due_day=due.day
    )


def _submitted(report: Report) -> bool:
    return report.versions.filter(
        status__in=[VersionStatus.SUBMITTED, VersionStatus.SIGNED], submitted_at__isnull=False
    ).exists()


def _staff(region: Region, roles: Iterable[str]) -> QuerySet[User]:
    return User.objects.filter(is_active=True, region=region, role__in=list(roles))


def notify(recipients: Iterable[User], message: str, kind: str, region: Region | None = None) -> int:
    rows = Notification.objects.bulk_create(
        [Notification(recipient=user, hazard=None, kind=kind, message=message[:500]) for user in recipients]
    )
    if rows:
        hazard_events.notifications_sent(
            actor=None,
            recipients=[row.recipient_id for row in rows],
            kind=kind,
            message=message,
            region_path=region.path if region is not None else "",
        )
    return len(rows)


def _label(due: Due) -> str:
    return f"{due.month.year}年{due.month.month}月“{ReportKind(due.kind).label}”"


@dataclass
class DayResult:
    done: list[str] = field(default_factory=list)
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    timed_out: bool = False  # stopped at the task's soft time limit; the rest is done when it runs again


# Written on the step that was running when the task reached its soft time limit.
TIMED_OUT = "超过时限，任务已停止；本步骤及其后未做的步骤将在任务再次运行时补做。"


def run_day(today: dt.date) -> DayResult:
    """Do every step that falls due today. Safe to run any number of times."""
    result = DayResult()
    for due, steps in dues_around(today):
        regions = list(filing_regions(due.campaign))
        for step in steps:
            targets = regions
            if step == ScheduleStep.REMIND or step == ScheduleStep.FLAG_MISSING:
                targets = [region for region in regions if region.level == RegionLevel.TOWN]
            if step == ScheduleStep.NOTIFY_MISSING:
                targets = [due.campaign.issuing_region]
            for region in targets:
                run = _claim(step=step, due=due, region=region, today=today)
                if run is None:
                    result.skipped += 1
                    continue
                try:
                    detail = STEPS[step](due, region)
                except SoftTimeLimitExceeded:
                    _fail(run, TIMED_OUT)  # stop here: the steps after it stay unclaimed for the next run
                    result.failed.append(f"{step} {region.code}")
                    result.timed_out = True
                    return result
                except Exception as exc:
                    logger.exception("report schedule step %s failed for %s", step, region.code)
                    _fail(run, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
                    result.failed.append(f"{step} {region.code}")
                else:
                    _finish(run, detail)
                    result.done.append(f"{step} {region.code}: {detail}")
    return result


def _draft(due: Due, region: Region) -> str:
    version = services.report_refresh(actor=None, report=_report(due, region))
    return f"{version.label}"


def _remind(due: Due, region: Region) -> str:
    report = _report(due, region)
    if _submitted(report):
        return "已报送，无需提醒"
    sent = notify(
        _staff(region, [Role.TOWN_STAFF]),
        f"请于{due.due:%Y-%m-%d}前报送{_label(due)}（{due.campaign.name}），草稿已生成，请核对后报送。",
        NotificationKind.DUE_SOON,
        region=region,
    )
    return f"已提醒 {sent} 人"


def _flag(due: Due, region: Region) -> str:
    report = _report(due, region)
    if _submitted(report):
        return "已按时报送"
    services.report_flag_missing(report=report)
    return "截止日未报送，已标记"


def _notify_missing(due: Due, region: Region) -> str:
    missing = list(
        Report.objects.filter(
            in_subtree(region.path, "region__path"),
            kind=due.kind, campaign=due.campaign, month=due.month, region__level=RegionLevel.TOWN,
            flagged_missing_at__isnull=False,
        ).values_list("region__name", flat=True).order_by("region__code")
    )  # fmt: skip
    if not missing:
        return "各镇均已报送"
    sent = notify(
        _staff(region, [Role.COUNTY_STAFF, Role.COUNTY_LEADER]),
        f"截至{due.due:%Y-%m-%d}，{'、'.join(missing)}未报送{_label(due)}（{due.campaign.name}）。",
        NotificationKind.OVERDUE,
        region=region,
    )
    return f"未报送：{'、'.join(missing)}；已通知 {sent} 人"


STEPS: dict[str, Callable[[Due, Region], str]] = {
    ScheduleStep.DRAFT_EARLY: _draft,
    ScheduleStep.DRAFT_LATE: _draft,
    ScheduleStep.REMIND: _remind,
    ScheduleStep.FLAG_MISSING: _flag,
    ScheduleStep.NOTIFY_MISSING: _notify_missing,
}


def check_amendments(today: dt.date) -> DayResult:
    """Signed tables of running (or lately ended) campaigns: a change in the records makes a new version."""
    result = DayResult()
    horizon = today - dt.timedelta(days=62)
    reports = (
        Report.objects.filter(versions__status=VersionStatus.SIGNED, campaign__end_date__gte=horizon)
        .select_related("region", "campaign")
        .distinct()
    )
    for report in reports:
        due = Due(report.kind, report.campaign, report.month, report.due_on, report.due_on.day)
        run = _claim(step=ScheduleStep.CHECK_AMENDMENTS, due=due, region=report.region, today=today)
        if run is None:
            result.skipped += 1
            continue
        try:
            version = services.report_refresh(actor=None, report=report)
        except SoftTimeLimitExceeded:
            _fail(run, TIMED_OUT)
            result.failed.append(str(report))
            result.timed_out = True
            return result
        except Exception as exc:  # noqa: BLE001 - recorded on the run, retried by the task
            _fail(run, f"{type(exc).__name__}: {exc}")
            result.failed.append(str(report))
        else:
            detail = "数据未变" if version.is_signed else f"数据有变化：{version.label}"
            _finish(run, detail)
            result.done.append(f"{report}: {detail}")
    return result
