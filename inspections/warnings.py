"""Warnings the seeds ask for — derived from the records every time, never typed or stored.

- 自查自改走过场: a regulator (town, county, higher level, expert check) found a major hazard at an
  enterprise during a campaign in which the enterprise signed a self-check report that did not
  report it (not attached to the report, and no major hazard of the same 判定依据 reported by the
  enterprise itself on or before that day).
- 重大事故隐患长期存在: a major hazard still open (not 销号) more than N days after it was found;
  N per county in `WarningSettings` (default 60).
- 同类重大事故隐患反复出现: a major hazard citing the same 判定依据 item as an earlier one at the same
  enterprise, found within 12 months of it (the window per county in `WarningSettings`).
- 未达到工作指标: for one month (default: the last complete one), an enterprise's 履职台账 below a
  quota or missing, a town's inspection coverage under 100%, the county's under 30%.
- 逢查必考补考不合格: a failed retake — 通报曝光 and a proposal to replace the principal — until the
  通报曝光 record citing that exam is registered.

Each warning lists its evidence (with links) and the links that start recording a 约谈 or 处罚.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from hazards.choices import HazardLevel, HazardSource, HazardStatus
from hazards.models import Hazard
from inspections import quotas, workdays
from inspections.choices import EnforcementKind, QuotaKind, WarningKind
from inspections.models import (
    Campaign,
    EnforcementRecord,
    Exam,
    PrincipalDutyLog,
    SelfCheckReport,
    WarningSettings,
    ancestor_paths,
)
from portal.choices import ProductionStatus, RegionLevel
from portal.models import Enterprise, Region, User

DEFAULT_LONG_OPEN_DAYS = 60
DEFAULT_REPEAT_MONTHS = 12
REGULATOR_SOURCES = frozenset(
    {
        HazardSource.TOWN_INSPECTION,
        HazardSource.COUNTY_INSPECTION,
        HazardSource.SUPERIOR_INSPECTION,
        HazardSource.EXPERT_CHECK,
    }
)


@dataclass
class Evidence:
    text: str
    url: str = ""


@dataclass
class Warning:
    kind: str
    title: str
    on: dt.date
    enterprise: Enterprise | None = None
    region: Region | None = None
    evidence: list[Evidence] = field(default_factory=list)
    actions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return WarningKind(self.kind).label


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    last = workdays.month_end(dt.date(year, month, 1)).day
    return dt.date(year, month, min(day.day, last))


def settings_for(region: Region | None) -> tuple[int, int]:
    """(long-open days, repeat window months) for the county of `region`."""
    if region is not None:
        row = WarningSettings.objects.filter(county__path__in=ancestor_paths(region.path)).first()
        if row is not None:
            return row.long_open_major_hazard_days, row.repeat_window_months
    return DEFAULT_LONG_OPEN_DAYS, DEFAULT_REPEAT_MONTHS


def _record_link(
    kind: str, enterprise: Enterprise, description: str, campaign: Campaign | None = None, **extra: Any
) -> str:
    params = {"kind": kind, "enterprise": enterprise.pk, "description": description[:200], **extra}
    if campaign is not None:
        params["campaign"] = campaign.pk
    return f"{reverse('inspections:enforcement-create')}?{urlencode(params)}"


def _enterprise_actions(enterprise: Enterprise, why: str, campaign: Campaign | None = None) -> list[tuple[str, str]]:
    return [
        ("约谈主要负责人", _record_link(EnforcementKind.INTERVIEW_PRINCIPAL, enterprise, why, campaign)),
        ("约谈企业", _record_link(EnforcementKind.INTERVIEW_ENTERPRISE, enterprise, why, campaign)),
        ("行政处罚", _record_link(EnforcementKind.PENALTY_ENTERPRISE, enterprise, why, campaign)),
    ]


def _hazard_evidence(hazard: Hazard, today: dt.date) -> Evidence:
    try:
        url = reverse("hazards:hazard-detail", args=[hazard.pk])
    except NoReverseMatch:  # the hazards pages are not wired (yet): the text stands alone
        url = ""
    days = (today - hazard.found_on).days
    criterion = f"，判定依据 {hazard.criterion}" if hazard.criterion_id else ""
    text = (
        f"{hazard.found_on:%Y-%m-%d} {hazard.get_source_display()}发现：{hazard.description[:60]}"
        f"{criterion}（{hazard.get_status_display()}，已 {days} 天）"
    )
    return Evidence(text, url)


# --- Rules ------------------------------------------------------------------------------------


def perfunctory_self_checks(*, user: User, today: dt.date) -> list[Warning]:
    reports = list(
        SelfCheckReport.objects.visible_to(user)
        .filter(submitted_at__isnull=False)
        .select_related("campaign", "enterprise", "enterprise__town")
    )
    if not reports:
        return []
    enterprise_ids = {r.enterprise_id for r in reports}
    majors = list(
        Hazard.objects.visible_to(user)
        .filter(enterprise_id__in=enterprise_ids, level=HazardLevel.MAJOR)
        .select_related("criterion")
        .order_by("found_on", "id")
    )
    attached: dict[int, set[int]] = defaultdict(set)
    for report_id, hazard_id in SelfCheckReport.hazards.through.objects.filter(
        selfcheckreport_id__in=[r.pk for r in reports]
    ).values_list("selfcheckreport_id", "hazard_id"):
        attached[report_id].add(hazard_id)
    by_enterprise: dict[int, list[Hazard]] = defaultdict(list)
    for hazard in majors:
        by_enterprise[hazard.enterprise_id].append(hazard)
    warnings = []
    for report in reports:
        campaign = report.campaign
        own = [h for h in by_enterprise[report.enterprise_id] if h.source == HazardSource.SELF_CHECK]
        for hazard in by_enterprise[report.enterprise_id]:
            if hazard.source not in REGULATOR_SOURCES:
                continue
            if not campaign.start_date <= hazard.found_on <= campaign.end_date:
                continue
            if hazard.pk in attached[report.pk]:
                continue
            if any(o.criterion_id == hazard.criterion_id and o.found_on <= hazard.found_on for o in own):
                continue
            why = f"自查自改走过场：{campaign.name}中自查自改报告未报告{hazard.get_source_display()}发现的重大事故隐患"
            signed = report.signed_at.date() if report.signed_at else report.created_at.date()
            warnings.append(
                Warning(
                    kind=WarningKind.PERFUNCTORY_SELF_CHECK,
                    title=f"{report.enterprise.name}：自查自改报告未报告监管发现的重大事故隐患",
                    on=hazard.found_on,
                    enterprise=report.enterprise,
                    evidence=[
                        Evidence(
                            f"{signed:%Y-%m-%d} 主要负责人{report.signed_name}签字报送的"
                            f"自查自改报告（{campaign.name}）",
                            report.get_absolute_url(),
                        ),
                        _hazard_evidence(hazard, today),
                    ],
                    actions=_enterprise_actions(report.enterprise, why, campaign),
                )
            )
    return warnings


def long_open_major_hazards(*, user: User, today: dt.date) -> list[Warning]:
    open_statuses = sorted(HazardStatus.open())
    hazards = (
        Hazard.objects.visible_to(user)
        .filter(level=HazardLevel.MAJOR, status__in=open_statuses)
        .select_related("enterprise", "enterprise__town", "criterion")
        .order_by("found_on", "id")
    )
    thresholds: dict[int, int] = {}
    warnings = []
    for hazard in hazards:
        town = hazard.enterprise.town
        if town.pk not in thresholds:
            thresholds[town.pk] = settings_for(town)[0]
        days = (today - hazard.found_on).days
        if days <= thresholds[town.pk]:
            continue
        why = f"重大事故隐患长期存在：{hazard.description[:60]}，发现已 {days} 天仍未销号"
        warnings.append(
            Warning(
                kind=WarningKind.LONG_OPEN_MAJOR_HAZARD,
                title=f"{hazard.enterprise.name}：重大事故隐患发现 {days} 天仍未销号（超过 {thresholds[town.pk]} 天）",
                on=hazard.found_on,
                enterprise=hazard.enterprise,
                evidence=[_hazard_evidence(hazard, today)],
                actions=_enterprise_actions(hazard.enterprise, why),
            )
        )
    return warnings


def repeated_major_hazards(*, user: User, today: dt.date) -> list[Warning]:
    hazards = (
        Hazard.objects.visible_to(user)
        .filter(level=HazardLevel.MAJOR, criterion__isnull=False)
        .select_related("enterprise", "enterprise__town", "criterion")
        .order_by("enterprise_id", "criterion_id", "found_on", "id")
    )
    groups: dict[tuple[int, int], list[Hazard]] = defaultdict(list)
    for hazard in hazards:
        groups[(hazard.enterprise_id, hazard.criterion_id or 0)].append(hazard)
    warnings = []
    for group in groups.values():
        if len(group) < 2:
            continue
        months = settings_for(group[0].enterprise.town)[1]
        for index, later in enumerate(group[1:], start=1):
            earlier = [h for h in group[:index] if h.found_on >= _months_before(later.found_on, months)]
            if not earlier:
                continue
            enterprise = later.enterprise
            why = f"同类重大事故隐患反复出现：{later.criterion}，{months}个月内第{len(earlier) + 1}次"
            warnings.append(
                Warning(
                    kind=WarningKind.REPEATED_MAJOR_HAZARD,
                    title=f"{enterprise.name}：同类重大事故隐患（{later.criterion}）{months}个月内反复出现",
                    on=later.found_on,
                    enterprise=enterprise,
                    evidence=[_hazard_evidence(h, today) for h in [*earlier, later]],
                    actions=_enterprise_actions(enterprise, why),
                )
            )
    return warnings


def failed_retakes(*, user: User, today: dt.date) -> list[Warning]:
    exams = (
        Exam.objects.visible_to(user)
        .filter(retake_of__isnull=False)
        .select_related("enterprise", "person", "retake_of", "campaign")
        .order_by("date", "id")
    )
    exposed = set(
        EnforcementRecord.objects.visible_to(user)
        .filter(kind=EnforcementKind.EXPOSURE_PRINCIPAL, exam__isnull=False)
        .values_list("exam_id", flat=True)
    )
    warnings = []
    for exam in exams:
        if exam.passed or exam.pk in exposed:
            continue
        first = exam.retake_of
        assert first is not None
        why = f"逢查必考补考仍不合格（{first.score}分、{exam.score}分），予以通报曝光，并建议企业调整主要负责人"
        link = _record_link(
            EnforcementKind.EXPOSURE_PRINCIPAL, exam.enterprise, why, exam.campaign, exam=exam.pk,
            person_name=exam.person.name,
        )  # fmt: skip
        warnings.append(
            Warning(
                kind=WarningKind.EXAM_RETAKE_FAILED,
                title=f"{exam.enterprise.name}：主要负责人{exam.person.name}补考仍不合格——通报曝光，建议调整主要负责人",
                on=exam.date,
                enterprise=exam.enterprise,
                evidence=[
                    Evidence(f"{first.date:%Y-%m-%d} 考试 {first.score} 分（合格线 {first.pass_mark}）"),
                    Evidence(f"{exam.date:%Y-%m-%d} 补考 {exam.score} 分（合格线 {exam.pass_mark}）"),
                ],
                actions=[
                    ("登记通报曝光", link),
                    (
                        "约谈主要负责人",
                        _record_link(EnforcementKind.INTERVIEW_PRINCIPAL, exam.enterprise, why, exam.campaign),
                    ),
                ],
            )
        )
    return warnings


def _campaigns_in_month(user: User, month: dt.date) -> QuerySet[Campaign]:
    return Campaign.objects.visible_to(user).filter(
        start_date__lte=workdays.month_end(month), end_date__gte=workdays.month_start(month)
    )


def quota_misses(*, user: User, month: dt.date, today: dt.date) -> list[Warning]:
    """Misses of one month; only once the month (or the part of it the quota covers) is over."""
    campaigns = list(_campaigns_in_month(user, month))
    if not campaigns:
        return []
    warnings: list[Warning] = []
    enterprises = list(
        Enterprise.objects.visible_to(user)
        .filter(production_status__in=ProductionStatus.active())
        .select_related("town", "parent_company")
    )
    logs = {
        log.enterprise_id: log
        for log in PrincipalDutyLog.objects.visible_to(user).filter(month=month).select_related("enterprise", "person")
    }
    for campaign in campaigns:
        duty_quotas = [
            q for q in campaign.quotas.select_related("phase", "campaign") if q.kind in quotas.DUTY_LOG_KINDS
        ]
        applicable = [q for q in duty_quotas if (need := quotas.requirement(q, month)) and need.window[1] < today]
        if not applicable:
            continue
        for enterprise in enterprises:
            if not enterprise.town.path.startswith(campaign.issuing_region.path):
                continue
            log = logs.get(enterprise.pk)
            if log is None:
                why = f"{month:%Y年%m月}未填报主要负责人履职台账（{campaign.name}）"
                warnings.append(
                    Warning(
                        kind=WarningKind.QUOTA_MISS,
                        title=f"{enterprise.name}：{month:%Y年%m月}未填报主要负责人履职台账",
                        on=workdays.month_end(month),
                        enterprise=enterprise,
                        evidence=[Evidence(f"{campaign.name}要求：" + "；".join(q.text for q in applicable))],
                        actions=_enterprise_actions(enterprise, why, campaign),
                    )
                )
                continue
            checks = [c for q in applicable if (c := quotas.check_duty_log(log, q)) is not None]
            missed = [c for c in checks if not c.met and not c.calendar_missing]
            if not missed:
                continue
            summary = "；".join(f"{c.label} {c.actual:g}/{c.required:g}" for c in missed)
            why = f"{month:%Y年%m月}未达到工作指标：{summary}（{campaign.name}）"
            warnings.append(
                Warning(
                    kind=WarningKind.QUOTA_MISS,
                    title=f"{enterprise.name}：{month:%Y年%m月}主要负责人履职未达到指标",
                    on=workdays.month_end(month),
                    enterprise=enterprise,
                    evidence=[
                        Evidence(
                            f"{c.label}：{c.actual:g} / 要求 {c.required:g}{c.quota.unit}。{c.detail}",
                            reverse("inspections:duty-log-edit", args=[log.pk]),
                        )
                        for c in missed
                    ],
                    actions=_enterprise_actions(enterprise, why, campaign),
                )
            )
    warnings.extend(_coverage_misses(user=user, month=month, today=today, campaigns=campaigns))
    return warnings


def _coverage_misses(*, user: User, month: dt.date, today: dt.date, campaigns: list[Campaign]) -> list[Warning]:
    from inspections.selectors import counties_for, towns_for

    warnings: list[Warning] = []
    if user.enterprise_id is not None:
        return warnings
    for campaign in campaigns:
        kinds = set(campaign.quotas.values_list("kind", flat=True))
        if not kinds & quotas.COVERAGE_KINDS:
            continue
        for county in counties_for(user=user):
            if not county.path.startswith(campaign.issuing_region.path):
                continue
            result = quotas.coverage(
                county=county, towns=towns_for(user=user, county=county), campaign=campaign, month=month
            )
            url = f"{reverse('inspections:coverage')}?campaign={campaign.pk}&month={month:%Y-%m}&county={county.code}"
            rows = []
            if QuotaKind.TOWN_COVERAGE in kinds:
                rows += [(row, "镇") for row in result.towns]
            show_county = user.region is None or user.region.level != RegionLevel.TOWN
            if QuotaKind.COUNTY_COVERAGE in kinds and result.county is not None and show_county:
                rows.append((result.county, "县局"))
            for row, who in rows:
                if row.window[1] >= today or row.met or not row.targets:
                    continue
                missing = "、".join(e.name for e in row.missing[:10]) + ("等" if len(row.missing) > 10 else "")
                warnings.append(
                    Warning(
                        kind=WarningKind.QUOTA_MISS,
                        title=(
                            f"{row.unit.name}（{who}）{month:%Y年%m月}检查覆盖率 {row.rate}%，"
                            f"未达到 {row.required_rate:g}%"
                        ),
                        on=row.window[1],
                        region=row.unit,
                        evidence=[
                            Evidence(
                                f"应检查 {len(row.targets)} 家，已检查 {len(row.inspected)} 家；尚未检查：{missing}",
                                url,
                            )
                        ],
                    )
                )
    return warnings


# --- All together -----------------------------------------------------------------------------


def last_complete_month(today: dt.date) -> dt.date:
    return workdays.month_start(workdays.month_start(today) - dt.timedelta(days=1))


def warnings_for(
    *, user: User, today: dt.date | None = None, month: dt.date | None = None, kinds: set[str] | None = None
) -> list[Warning]:
    """Every warning the user's scope holds, newest first."""
    today = today or timezone.localdate()
    month = workdays.month_start(month) if month else last_complete_month(today)
    rules = {
        WarningKind.PERFUNCTORY_SELF_CHECK: lambda: perfunctory_self_checks(user=user, today=today),
        WarningKind.LONG_OPEN_MAJOR_HAZARD: lambda: long_open_major_hazards(user=user, today=today),
        WarningKind.REPEATED_MAJOR_HAZARD: lambda: repeated_major_hazards(user=user, today=today),
        WarningKind.QUOTA_MISS: lambda: quota_misses(user=user, month=month, today=today),
        WarningKind.EXAM_RETAKE_FAILED: lambda: failed_retakes(user=user, today=today),
    }
    found: list[Warning] = []
    for kind, rule in rules.items():
        if kinds is None or kind in kinds:
            found.extend(rule())
    return sorted(found, key=lambda w: (w.on, w.title), reverse=True)
