"""The one warnings engine: every 预警 is derived here from the records, never typed or stored.

The 预警 page, the dashboard's 预警 box, the 工作台 and `GET /api/v1/warnings/` all read
`warnings_for(user=..., today=..., kinds=None, region=None, enterprise=None)`: a list of `Warning`
(kind, severity, subject, since-when `on`, evidence with links, the actions that record a 约谈/处罚,
and what was done about it — `resolution`), newest first, with `.counts` (per kind, all) and
`.open_counts` (per kind, not yet handled). Where only the numbers are needed (the dashboard box, the
工作台's badges), `warning_counts(...)` (same arguments) gives the same numbers, counting the per-row
rules in SQL with the row sources of inspections/warning_sources.py (the rules' own querysets and builders,
with which the 预警 page and API also read one page: inspections/warning_listing.py). Each rule costs a fixed
number of queries, whatever the number of records (tests/inspections/test_warning_engine.py counts them).
Only the handling is stored: `WarningResolution`, keyed by the warning's stable `key`, written by
`inspections.warning_services.warning_resolve`.

- 隐患整改逾期: a hazard whose current deadline has passed while the rectification is owed
  (`Hazard.objects.overdue`, the same rule as the hazard list's 逾期 filter).
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
- 安全生产许可证到期 / 人员证书到期: for mines 正常生产 or 正常建设, a 安全生产许可证 or a person's
  certificate expired (严重) or expiring within 30 (较重), 60 or 90 days (一般).
- 材料、报表逾期未报送: a deliverable of a campaign (the monthly tables included, marked filed when the
  table is submitted) not filed by a town or an enterprise after its due date, within the last year.

Each warning lists its evidence (with links) and the links that start recording a 约谈 or 处罚.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone

from hazards.choices import HazardLevel, HazardSource, HazardStatus
from hazards.models import Hazard, HazardQuerySet, overdue_condition
from inspections import quotas, workdays
from inspections.choices import (
    DeliverableKind,
    DeliverableSubmitter,
    DeliveryStatus,
    EnforcementKind,
    QuotaKind,
    WarningKind,
    WarningSeverity,
)
from inspections.models import (
    Campaign,
    Deliverable,
    EnforcementRecord,
    Exam,
    PrincipalDutyLog,
    SelfCheckReport,
    WarningResolution,
    WarningSettings,
)
from portal import expiry as expiry_rule
from portal.choices import ProductionStatus, RegionLevel
from portal.models import Enterprise, Person, Region, User
from portal.scoping import ancestor_paths, in_subtree, path_within

DEFAULT_LONG_OPEN_DAYS = 60
DEFAULT_REPEAT_MONTHS = 12
EXPIRY_WINDOWS = expiry_rule.WINDOWS  # portal.expiry: 较重 within the first, 一般 within the others
DELIVERABLE_LOOKBACK_DAYS = 365  # missing filings older than this are history, not warnings
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
    on: dt.date  # since when the warning stands
    enterprise: Enterprise | None = None
    region: Region | None = None
    evidence: list[Evidence] = field(default_factory=list)
    actions: list[tuple[str, str]] = field(default_factory=list)
    key: str = ""  # stable: the same records give the same key (resolutions are stored by it)
    severity: str = WarningSeverity.MEDIUM
    resolution: WarningResolution | None = None

    @property
    def kind_label(self) -> str:
        return WarningKind(self.kind).label

    @property
    def severity_label(self) -> str:
        return WarningSeverity(self.severity).label

    @property
    def subject(self) -> str:
        """Who the warning is about: the enterprise, else the town or county."""
        if self.enterprise is not None:
            return self.enterprise.name
        return self.region.name if self.region is not None else ""

    @property
    def unit(self) -> Region | None:
        """The region the warning belongs to (the enterprise's town, or the region itself)."""
        if self.enterprise is not None:
            return self.enterprise.town
        return self.region

    @property
    def url(self) -> str:
        """The evidence link: the first piece of evidence that has one."""
        return next((e.url for e in self.evidence if e.url), "")

    @property
    def is_open(self) -> bool:
        return self.resolution is None


class WarningList(list[Warning]):
    """The warnings of one evaluation, with their counts per kind (every kind present, zero included)."""

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(WarningKind.values, 0)
        for warning in self:
            counts[warning.kind] += 1
        return counts

    @property
    def open_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(WarningKind.values, 0)
        for warning in self:
            if warning.is_open:
                counts[warning.kind] += 1
        return counts


class Thresholds:
    """The counties' `WarningSettings`, loaded once per evaluation (one query)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[int, int]] | None = None

    @property
    def rows(self) -> dict[str, tuple[int, int]]:
        """County path → (long-open days, repeat window months)."""
        if self._rows is None:
            self._rows = {
                path: (days, months)
                for path, days, months in WarningSettings.objects.values_list(
                    "county__path", "long_open_major_hazard_days", "repeat_window_months"
                )
            }
        return self._rows

    def for_region(self, region: Region | None) -> tuple[int, int]:
        if region is not None:
            for path in ancestor_paths(region.path):
                if path in self.rows:
                    return self.rows[path]
        return DEFAULT_LONG_OPEN_DAYS, DEFAULT_REPEAT_MONTHS

    def expression(self, town_path: str, index: int) -> Case | Value:
        """`for_region` in SQL for the town at lookup `town_path`: the days (index 0) or the months (1) of the
        county above it. The topmost setting on the town's way up wins, as in `for_region`: shortest path first."""
        default = (DEFAULT_LONG_OPEN_DAYS, DEFAULT_REPEAT_MONTHS)[index]
        if not self.rows:
            return Value(default, output_field=IntegerField())
        return Case(
            *[
                When(in_subtree(path, town_path), then=Value(values[index]))
                for path, values in sorted(self.rows.items(), key=lambda item: (len(item[0]), item[0]))
            ],
            default=Value(default),
            output_field=IntegerField(),
        )


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    last = workdays.month_end(dt.date(year, month, 1)).day
    return dt.date(year, month, min(day.day, last))


def settings_for(region: Region | None) -> tuple[int, int]:
    """(long-open days, repeat window months) for the county of `region`."""
    return Thresholds().for_region(region)


_SENTINEL = 987654321


@functools.lru_cache(maxsize=64)
def _cached_url(name: str, prefix: str, with_pk: bool) -> str:
    """reverse() once per URL name (and script prefix): the rules build thousands of links."""
    return reverse(name, args=[_SENTINEL]) if with_pk else reverse(name)


def _url(name: str, pk: int | None = None) -> str:
    if pk is None:
        return _cached_url(name, get_script_prefix(), False)
    return _cached_url(name, get_script_prefix(), True).replace(str(_SENTINEL), str(pk))


def _record_link(
    kind: str, enterprise: Enterprise, description: str, campaign: Campaign | None = None, **extra: Any
) -> str:
    params = {"kind": kind, "enterprise": enterprise.pk, "description": description[:200], **extra}
    if campaign is not None:
        params["campaign"] = campaign.pk
    return f"{_url('inspections:enforcement-create')}?{urlencode(params)}"


ENTERPRISE_ACTIONS = (
    ("约谈主要负责人", EnforcementKind.INTERVIEW_PRINCIPAL),
    ("约谈企业", EnforcementKind.INTERVIEW_ENTERPRISE),
    ("行政处罚", EnforcementKind.PENALTY_ENTERPRISE),
)


def _enterprise_actions(enterprise: Enterprise, why: str, campaign: Campaign | None = None) -> list[tuple[str, str]]:
    """The links that start a 约谈 or 处罚 record (the same query as `_record_link`, encoded once)."""
    params: dict[str, Any] = {"enterprise": enterprise.pk, "description": why[:200]}
    if campaign is not None:
        params["campaign"] = campaign.pk
    tail, base = urlencode(params), _url("inspections:enforcement-create")
    return [(label, f"{base}?kind={kind.value}&{tail}") for label, kind in ENTERPRISE_ACTIONS]


def _hazard_evidence(hazard: Hazard, today: dt.date) -> Evidence:
    try:
        url = _url("hazards:hazard-detail", hazard.pk)
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
                    key=f"{WarningKind.PERFUNCTORY_SELF_CHECK}:{report.pk}:{hazard.pk}",
                    severity=WarningSeverity.HIGH,
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


def long_open_rows(user: User) -> QuerySet[Hazard]:
    """The candidates of 重大事故隐患长期存在: major hazards not 销号 (the age is checked per county)."""
    return Hazard.objects.visible_to(user).filter(level=HazardLevel.MAJOR, status__in=sorted(HazardStatus.open()))


def long_open_major_hazards(*, user: User, today: dt.date, thresholds: Thresholds | None = None) -> list[Warning]:
    hazards = (
        long_open_rows(user).select_related("enterprise", "enterprise__town", "criterion").order_by("found_on", "id")
    )
    thresholds = thresholds or Thresholds()
    warnings = []
    for hazard in hazards:
        limit = thresholds.for_region(hazard.enterprise.town)[0]
        if (today - hazard.found_on).days > limit:
            warnings.append(long_open_warning(hazard, today, limit))
    return warnings


def long_open_title(hazard: Hazard, today: dt.date, limit: int) -> str:
    return f"{hazard.enterprise.name}：重大事故隐患发现 {(today - hazard.found_on).days} 天仍未销号（超过 {limit} 天）"


def long_open_warning(hazard: Hazard, today: dt.date, limit: int) -> Warning:
    """The 重大事故隐患长期存在 warning of one hazard (with `enterprise`, `enterprise__town`, `criterion`)."""
    days = (today - hazard.found_on).days
    why = f"重大事故隐患长期存在：{hazard.description[:60]}，发现已 {days} 天仍未销号"
    return Warning(
        kind=WarningKind.LONG_OPEN_MAJOR_HAZARD,
        key=f"{WarningKind.LONG_OPEN_MAJOR_HAZARD}:{hazard.pk}",
        severity=WarningSeverity.HIGH,
        title=long_open_title(hazard, today, limit),
        on=hazard.found_on,
        enterprise=hazard.enterprise,
        evidence=[_hazard_evidence(hazard, today)],
        actions=_enterprise_actions(hazard.enterprise, why),
    )


def repeated_rows(user: User) -> QuerySet[Hazard]:
    """The hazards 同类重大事故隐患反复出现 compares: major hazards citing a 判定依据."""
    # By the scope's enterprises (a semi-join): its window over every group is read through them, not by a
    # scan of the province's major hazards joined to their towns (a town: 770 ms → 10 ms on SQLite).
    return Hazard.objects.visible_to(user, semijoin=True).filter(level=HazardLevel.MAJOR, criterion__isnull=False)


def repeated_major_hazards(*, user: User, today: dt.date, thresholds: Thresholds | None = None) -> list[Warning]:
    hazards = (
        repeated_rows(user)
        .select_related("enterprise", "enterprise__town", "criterion")
        .order_by("enterprise_id", "criterion_id", "found_on", "id")
    )
    groups: dict[tuple[int, int], list[Hazard]] = defaultdict(list)
    for hazard in hazards:
        groups[(hazard.enterprise_id, hazard.criterion_id or 0)].append(hazard)
    thresholds = thresholds or Thresholds()
    warnings = []
    for group in groups.values():
        if len(group) < 2:
            continue
        months = thresholds.for_region(group[0].enterprise.town)[1]
        for index, later in enumerate(group[1:], start=1):
            earlier = repeated_earlier(later, group[:index], months)
            if earlier:
                warnings.append(repeated_warning(later, earlier, months, today))
    return warnings


def repeated_earlier(later: Hazard, before: Iterable[Hazard], months: int) -> list[Hazard]:
    """Of `before` (hazards of the same group found before `later`), those within the window."""
    start = _months_before(later.found_on, months)
    return [h for h in before if h.found_on >= start]


def repeated_title(later: Hazard, months: int) -> str:
    return f"{later.enterprise.name}：同类重大事故隐患（{later.criterion}）{months}个月内反复出现"


def repeated_warning(later: Hazard, earlier: list[Hazard], months: int, today: dt.date) -> Warning:
    """The 同类重大事故隐患反复出现 warning of `later` given the `earlier` ones of its window (all with
    `enterprise`, `criterion`)."""
    enterprise = later.enterprise
    why = f"同类重大事故隐患反复出现：{later.criterion}，{months}个月内第{len(earlier) + 1}次"
    return Warning(
        kind=WarningKind.REPEATED_MAJOR_HAZARD,
        key=f"{WarningKind.REPEATED_MAJOR_HAZARD}:{later.pk}",
        severity=WarningSeverity.HIGH,
        title=repeated_title(later, months),
        on=later.found_on,
        enterprise=enterprise,
        evidence=[_hazard_evidence(h, today) for h in [*earlier, later]],
        actions=_enterprise_actions(enterprise, why),
    )


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
                key=f"{WarningKind.EXAM_RETAKE_FAILED}:{exam.pk}",
                severity=WarningSeverity.HIGH,
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
            if not path_within(enterprise.town.path, campaign.issuing_region.path):
                continue
            log = logs.get(enterprise.pk)
            if log is None:
                why = f"{month:%Y年%m月}未填报主要负责人履职台账（{campaign.name}）"
                warnings.append(
                    Warning(
                        kind=WarningKind.QUOTA_MISS,
                        key=f"{WarningKind.QUOTA_MISS}:{month:%Y-%m}:duty:{campaign.pk}:{enterprise.pk}",
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
                    key=f"{WarningKind.QUOTA_MISS}:{month:%Y-%m}:duty:{campaign.pk}:{enterprise.pk}",
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
            if not path_within(county.path, campaign.issuing_region.path):
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
                        key=f"{WarningKind.QUOTA_MISS}:{month:%Y-%m}:coverage:{campaign.pk}:{row.unit.pk}",
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


def overdue_rows(user: User, today: dt.date) -> QuerySet[Hazard]:
    """The rows of 隐患整改逾期: the hazard list's 逾期 rule (`HazardQuerySet.overdue`), drafts left out."""
    hazards = cast(HazardQuerySet, Hazard.objects.visible_to(user))
    return hazards.overdue(today).exclude(status=HazardStatus.DRAFT)


def overdue_hazards(*, user: User, today: dt.date) -> list[Warning]:
    """隐患整改逾期: one warning per overdue hazard."""
    rows = (
        overdue_rows(user, today)
        .select_related("enterprise", "enterprise__town", "criterion")
        .order_by("current_deadline", "id")
    )
    return [overdue_warning(hazard, today) for hazard in rows]


def overdue_title(hazard: Hazard, today: dt.date) -> str:
    deadline = hazard.current_deadline
    assert deadline is not None
    days = (today - deadline).days
    return f"{hazard.enterprise.name}：{hazard.get_level_display()}整改逾期 {days} 天（期限 {deadline:%Y-%m-%d}）"


def overdue_warning(hazard: Hazard, today: dt.date) -> Warning:
    """The 隐患整改逾期 warning of one overdue hazard (with `enterprise`, `enterprise__town`, `criterion`)."""
    deadline = hazard.current_deadline
    assert deadline is not None
    days = (today - deadline).days
    enterprise = hazard.enterprise
    why = f"隐患整改逾期：{hazard.description[:60]}，整改期限 {deadline:%Y-%m-%d}，已逾期 {days} 天"
    return Warning(
        kind=WarningKind.OVERDUE_HAZARD,
        key=f"{WarningKind.OVERDUE_HAZARD}:{hazard.pk}:{deadline:%Y-%m-%d}",
        severity=WarningSeverity.HIGH if hazard.level == HazardLevel.MAJOR else WarningSeverity.MEDIUM,
        title=overdue_title(hazard, today),
        on=deadline + dt.timedelta(days=1),
        enterprise=enterprise,
        evidence=[_hazard_evidence(hazard, today)],
        actions=_enterprise_actions(enterprise, why),
    )


# The expiry rule itself (which mines, which windows, the wording) is portal.expiry's, shared with the 工作台.
_EXPIRY_SEVERITY = {
    expiry_rule.Band.EXPIRED: WarningSeverity.HIGH,
    expiry_rule.Band.SOON: WarningSeverity.MEDIUM,
    expiry_rule.Band.LATER: WarningSeverity.LOW,
}


def _expiry_severity(expiry: dt.date, today: dt.date) -> str:
    return _EXPIRY_SEVERITY[expiry_rule.band(expiry, today)]


_expiry_text = expiry_rule.describe
_expiry_since = expiry_rule.flagged_since


def licence_rows(user: User, today: dt.date) -> QuerySet[Enterprise]:
    """The rows of 安全生产许可证到期 (portal.expiry's rule) in the user's scope."""
    return expiry_rule.expiring_licences(Enterprise.objects.visible_to(user), today)


def expiring_licences(*, user: User, today: dt.date) -> list[Warning]:
    """安全生产许可证 expired or expiring within 90 days, for mines 正常生产/正常建设."""
    enterprises = licence_rows(user, today).select_related("town").order_by("license_expiry", "id")
    return [licence_warning(enterprise, today) for enterprise in enterprises]


def licence_title(enterprise: Enterprise, today: dt.date) -> str:
    assert enterprise.license_expiry is not None
    return f"{enterprise.name}：安全生产许可证{_expiry_text(enterprise.license_expiry, today)}"


def licence_warning(enterprise: Enterprise, today: dt.date) -> Warning:
    """The 安全生产许可证到期 warning of one enterprise of `licence_rows`."""
    expiry = enterprise.license_expiry
    assert expiry is not None
    text = _expiry_text(expiry, today)
    number = f"（编号 {enterprise.license_number}）" if enterprise.license_number else ""
    return Warning(
        kind=WarningKind.LICENCE_EXPIRY,
        key=f"{WarningKind.LICENCE_EXPIRY}:{enterprise.pk}:{expiry:%Y-%m-%d}",
        severity=_expiry_severity(expiry, today),
        title=licence_title(enterprise, today),
        on=_expiry_since(expiry, today),
        enterprise=enterprise,
        evidence=[
            Evidence(
                f"安全生产许可证{number}有效期至 {expiry:%Y-%m-%d}，{enterprise.get_production_status_display()}",
                enterprise.get_absolute_url(),
            )
        ],
        actions=_enterprise_actions(enterprise, f"安全生产许可证{text}"),
    )


def certificate_rows(user: User, today: dt.date) -> QuerySet[Person]:
    """The rows of 人员证书到期 (portal.expiry's rule) in the user's scope."""
    return expiry_rule.expiring_certificates(Person.objects.visible_to(user), today)


def expiring_certificates(*, user: User, today: dt.date) -> list[Warning]:
    """People's certificates expired or expiring within 90 days, at mines 正常生产/正常建设."""
    people = (
        certificate_rows(user, today)
        .select_related("enterprise", "enterprise__town")
        .order_by("certificate_expiry", "id")
    )
    return [certificate_warning(person, today) for person in people]


def certificate_title(person: Person, today: dt.date) -> str:
    expiry, enterprise = person.certificate_expiry, person.enterprise
    assert expiry is not None and enterprise is not None
    certificate = person.certificate_type or "证书"
    return f"{enterprise.name}：{person.get_role_display()}{person.name}的{certificate}{_expiry_text(expiry, today)}"


def certificate_warning(person: Person, today: dt.date) -> Warning:
    """The 人员证书到期 warning of one person of `certificate_rows` (with `enterprise`)."""
    expiry, enterprise = person.certificate_expiry, person.enterprise
    assert expiry is not None and enterprise is not None
    text = _expiry_text(expiry, today)
    certificate = person.certificate_type or "证书"
    return Warning(
        kind=WarningKind.CERTIFICATE_EXPIRY,
        key=f"{WarningKind.CERTIFICATE_EXPIRY}:{person.pk}:{expiry:%Y-%m-%d}",
        severity=_expiry_severity(expiry, today),
        title=certificate_title(person, today),
        on=_expiry_since(expiry, today),
        enterprise=enterprise,
        evidence=[
            Evidence(
                f"{person.name}（{person.get_role_display()}）{certificate}"
                f"{('编号 ' + person.certificate_number) if person.certificate_number else ''}，"
                f"有效期至 {expiry:%Y-%m-%d}",
                enterprise.get_absolute_url(),
            )
        ],
        actions=_enterprise_actions(enterprise, f"{person.name}的{certificate}{text}"),
    )


def late_deliverable_candidates(deliverables: Iterable[Deliverable], today: dt.date) -> list[Deliverable]:
    """Of the deliverables of the campaigns a user sees, those the rule below reads: campaigns started before
    today and ended within the last year, 重大隐患 filings left out (for a caller that read them already)."""
    since = today - dt.timedelta(days=DELIVERABLE_LOOKBACK_DAYS)
    return [
        d
        for d in deliverables
        if d.campaign.start_date < today and d.campaign.end_date >= since and d.kind != DeliverableKind.MAJOR_HAZARD
    ]


def late_deliverables(
    *,
    user: User,
    today: dt.date,
    deliverables: list[Deliverable] | None = None,
    towns: list[Region] | None = None,
    filings_for: Callable[[Campaign, list[Region]], Any] | None = None,
) -> list[Warning]:
    """What a town or an enterprise has not filed by a due date of the last year (the monthly tables
    count as filed once submitted: `reporting.services.report_submit` records the filing).

    A caller that has read them already may pass `deliverables` (`late_deliverable_candidates` of those the
    user sees, with `campaign__issuing_region`), for a region user `towns` (the towns the user sees), and
    `filings` (campaign, towns) → the campaign's `Filings` it shares with other readers."""
    from inspections.deliverables import Filings, status_of

    since = today - dt.timedelta(days=DELIVERABLE_LOOKBACK_DAYS)
    if deliverables is None:
        deliverables = list(
            Deliverable.objects.filter(
                campaign__in=Campaign.objects.visible_to(user).filter(end_date__gte=since, start_date__lt=today)
            )
            .exclude(kind=DeliverableKind.MAJOR_HAZARD)
            .select_related("campaign__issuing_region")
            .order_by("order", "id")
        )
    campaigns = sorted({d.campaign_id: d.campaign for d in deliverables}.values(), key=lambda c: (c.start_date, c.pk))
    if not campaigns:
        return []
    own_enterprise = user.enterprise_id
    if own_enterprise is not None:
        towns_all = list(Region.objects.filter(enterprises__pk=own_enterprise))
    elif towns is not None:
        towns_all = list(towns)
    else:
        towns_all = list(Region.objects.visible_to(user).filter(level=RegionLevel.TOWN).order_by("code"))
    warnings: list[Warning] = []
    for campaign in campaigns:
        mine = [d for d in deliverables if d.campaign_id == campaign.pk]
        towns = [t for t in towns_all if path_within(t.path, campaign.issuing_region.path)]
        if not mine or not towns:
            continue
        filings = Filings(campaign, towns) if filings_for is None else filings_for(campaign, towns)
        url = reverse("inspections:deliverable-matrix", args=[campaign.pk])
        for deliverable in mine:
            for due in deliverable.due_dates():
                if not since <= due < today:
                    continue
                for town in towns:
                    if deliverable.submitter == DeliverableSubmitter.TOWN:
                        if own_enterprise is not None:
                            continue
                        dates = filings.town_dates(deliverable, town, due)
                        if status_of(dates, due, deliverable.min_count, today) == DeliveryStatus.MISSING:
                            warnings.append(_late_warning(deliverable, due, today, url, region=town))
                        continue
                    for enterprise in filings.enterprises.get(town.pk, []):
                        if own_enterprise is not None and enterprise.pk != own_enterprise:
                            continue
                        dates = filings.enterprise_dates(deliverable, enterprise, due)
                        if status_of(dates, due, deliverable.min_count, today) == DeliveryStatus.MISSING:
                            enterprise.town = town
                            warnings.append(_late_warning(deliverable, due, today, url, enterprise=enterprise))
    return warnings


def _late_warning(
    deliverable: Deliverable,
    due: dt.date,
    today: dt.date,
    url: str,
    *,
    region: Region | None = None,
    enterprise: Enterprise | None = None,
) -> Warning:
    who = f"t{region.pk}" if region is not None else f"e{enterprise.pk if enterprise else 0}"
    subject = enterprise.name if enterprise is not None else (region.name if region else "")
    days = (today - due).days
    campaign = deliverable.campaign
    return Warning(
        kind=WarningKind.LATE_DELIVERABLE,
        key=f"{WarningKind.LATE_DELIVERABLE}:{deliverable.pk}:{who}:{due:%Y-%m-%d}",
        severity=WarningSeverity.HIGH if deliverable.table else WarningSeverity.MEDIUM,
        title=f"{subject}：{deliverable.name}（{due:%Y-%m-%d} 截止）逾期 {days} 天未报送",
        on=due + dt.timedelta(days=1),
        enterprise=enterprise,
        region=region,
        evidence=[Evidence(f"{campaign.name}：{deliverable}，截止 {due:%Y-%m-%d}，尚未报送", url)],
        actions=(
            _enterprise_actions(enterprise, f"{deliverable.name}逾期未报送", campaign) if enterprise is not None else []
        ),
    )


# --- All together -----------------------------------------------------------------------------


def last_complete_month(today: dt.date) -> dt.date:
    return workdays.month_start(workdays.month_start(today) - dt.timedelta(days=1))


def warnings_for(
    *,
    user: User,
    today: dt.date | None = None,
    month: dt.date | None = None,
    kinds: Iterable[str] | None = None,
    region: Region | None = None,
    enterprise: Enterprise | None = None,
    thresholds: Thresholds | None = None,
    resolutions: list[WarningResolution] | None = None,
) -> WarningList:
    """Every warning the user's scope holds, newest first, each with what was done about it.

    `kinds` limits the rules evaluated (the others cost nothing); `region` keeps the warnings of that
    region's subtree, `enterprise` those of one enterprise (both within the user's scope: they narrow,
    never widen). `month` is the month the quotas are checked for (default: the last complete one).
    The result's `.counts` / `.open_counts` give the number per kind, every kind present. A caller that read
    them already may pass the `thresholds` and the `resolutions_of` the kinds (no query for them here).
    """
    today = today or timezone.localdate()
    month = workdays.month_start(month) if month else last_complete_month(today)
    wanted = set(WarningKind.values) if kinds is None else set(kinds) & set(WarningKind.values)
    thresholds = thresholds or Thresholds()
    rules: dict[str, Callable[[], list[Warning]]] = {
        WarningKind.OVERDUE_HAZARD: lambda: overdue_hazards(user=user, today=today),
        WarningKind.PERFUNCTORY_SELF_CHECK: lambda: perfunctory_self_checks(user=user, today=today),
        WarningKind.LONG_OPEN_MAJOR_HAZARD: lambda: long_open_major_hazards(
            user=user, today=today, thresholds=thresholds
        ),
        WarningKind.REPEATED_MAJOR_HAZARD: lambda: repeated_major_hazards(
            user=user, today=today, thresholds=thresholds
        ),
        WarningKind.QUOTA_MISS: lambda: quota_misses(user=user, month=month, today=today),
        WarningKind.EXAM_RETAKE_FAILED: lambda: failed_retakes(user=user, today=today),
        WarningKind.LICENCE_EXPIRY: lambda: expiring_licences(user=user, today=today),
        WarningKind.CERTIFICATE_EXPIRY: lambda: expiring_certificates(user=user, today=today),
        WarningKind.LATE_DELIVERABLE: lambda: late_deliverables(user=user, today=today),
    }
    found: list[Warning] = []
    for kind, rule in rules.items():
        if kind in wanted:
            found.extend(rule())
    if enterprise is not None:
        found = [w for w in found if w.enterprise is not None and w.enterprise.pk == enterprise.pk]
    if region is not None:
        found = [w for w in found if (unit := w.unit) is not None and path_within(unit.path, region.path)]
    with_resolutions(user, found, resolutions)
    return WarningList(sorted(found, key=lambda w: (w.on, w.title), reverse=True))


def resolutions_of(user: User, kinds: Iterable[str]) -> list[WarningResolution]:
    """What was done about the warnings of `kinds` in the user's scope (one query)."""
    return list(
        WarningResolution.objects.visible_to(user)
        .filter(kind__in=sorted(kinds))
        .select_related("record", "resolved_by")
    )


def with_resolutions(
    user: User, found: list[Warning], resolutions: list[WarningResolution] | None = None
) -> list[Warning]:
    """Sets what was done about each warning (`resolution`, None while open): one query (none if no warning,
    or if the caller read `resolutions_of` the warnings' kinds already)."""
    if found:
        if resolutions is None:
            resolutions = resolutions_of(user, {w.kind for w in found})
        by_key = {r.key: r for r in resolutions}
        for warning in found:
            warning.resolution = by_key.get(warning.key)
    return found


# --- Counts only (the dashboard box, the 工作台's badges) ---------------------------------------------


@dataclass(frozen=True)
class WarningCounts:
    total: dict[str, int]
    open: dict[str, int]


def warning_counts(
    *,
    user: User,
    today: dt.date | None = None,
    month: dt.date | None = None,
    kinds: Iterable[str] | None = None,
    region: Region | None = None,
    enterprise: Enterprise | None = None,
) -> WarningCounts:
    """The numbers `warnings_for(...)` gives (`.counts`, `.open_counts`), without building every warning:
    the per-row rules (inspections/warning_sources.py: overdue hazards, long-open and repeated major hazards,
    licences, certificates: possibly hundreds of thousands) are counted in SQL by the very row sources the
    预警 page lists them with; the others (a few hundred at most) are evaluated."""
    from inspections.warning_sources import SOURCES, Scope, source_counts

    today = today or timezone.localdate()
    wanted = set(WarningKind.values) if kinds is None else set(kinds) & set(WarningKind.values)
    counted = wanted & set(SOURCES)
    rest = wanted - counted
    total = dict.fromkeys(WarningKind.values, 0)
    open_ = dict.fromkeys(WarningKind.values, 0)
    thresholds = Thresholds()
    scope = Scope(
        user=user, today=today, thresholds=thresholds, resolutions=resolutions_of(user, wanted) if wanted else [],
        region=region, enterprise=enterprise,
    )  # fmt: skip
    if rest:
        found = warnings_for(
            user=user, today=today, month=month, kinds=rest, region=region, enterprise=enterprise,
            thresholds=thresholds, resolutions=scope.resolutions,
        )  # fmt: skip
        total.update({k: n for k, n in found.counts.items() if k in rest})
        open_.update({k: n for k, n in found.open_counts.items() if k in rest})
    for kind in sorted(counted):
        total[kind], open_[kind] = source_counts(SOURCES[kind], scope)
    return WarningCounts(total=total, open=open_)


def _resolved_rows(
    user: User, kinds: Iterable[str], keys: Iterable[str] | None = None
) -> dict[str, set[tuple[int, str]]]:
    """The handled warnings of per-row kinds as (row pk, date) from their keys `kind:pk:date` (one query,
    none when the caller gives the `keys` it read)."""
    resolved: dict[str, set[tuple[int, str]]] = {kind: set() for kind in kinds}
    if resolved:
        if keys is None:
            keys = (
                WarningResolution.objects.visible_to(user)
                .filter(kind__in=sorted(resolved))
                .values_list("key", flat=True)
            )
        for key in keys:
            kind, _, rest_of_key = key.partition(":")
            pk, _, day = rest_of_key.partition(":")
            if kind in resolved and pk.isdigit():
                resolved[kind].add((int(pk), day))
    return resolved


def open_overdue_condition(user: User, today: dt.date, resolutions: Iterable[WarningResolution]) -> Q:
    """隐患整改逾期 still open, as a condition on the user's hazards: the rule of `overdue_rows` (the hazard
    list's 逾期, drafts left out) without the warnings handled among `resolutions` (the caller's
    `resolutions_of`, keys `kind:pk:date`). The 工作台 counts and lists with it, in the queries it spends on
    hazards anyway; the number it gives is `warning_counts(...).open[OVERDUE_HAZARD]`."""
    kind = WarningKind.OVERDUE_HAZARD
    condition = overdue_condition(today) & ~Q(status=HazardStatus.DRAFT)
    handled: dict[str, list[int]] = defaultdict(list)
    for pk, day in _resolved_rows(user, [kind], [r.key for r in resolutions])[kind]:
        handled[day].append(pk)
    for day, pks in sorted(handled.items()):
        try:
            deadline = dt.date.fromisoformat(day)
        except ValueError:  # not a key this engine wrote: it handles nothing here
            continue
        condition &= ~Q(current_deadline=deadline, pk__in=sorted(pks))
    return condition
