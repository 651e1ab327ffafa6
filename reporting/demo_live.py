"""The demo county lives relative to today (issue 13 §7): `seed_demo` adds, through the services, what a
newcomer should find at work this month and last.

- hazards of 泽州县示范矿业有限公司 at every stage of both workflows, found this month and last, the
  older ones past their deadline, and overdue ones reported by the towns of 巴公镇 and 高都镇;
- 安全生产许可证 expired and expiring (within 30/60/90 days) and special operators' certificates likewise;
- inspections, 谈心谈话, 逢查必考 (one failed) and enforcement records (约谈, 行政处罚);
- a running campaign asking for the 追责问责情况统计表 and the 三清单: last month three towns filed (two on
  time, one late) and the county filed both, its leader signed one; this month the county's drafts.

Campaigns are created directly (no service creates them: they are seeded like the migration's, and
audited); filing and signing go through the reporting services, after which the submission and signing
times are set to when the history says they happened (a service stamps "now").

Keys: every record is found again by what identifies it for a month (the hazard's description, which
names its month, the inspection's findings, the enforcement document number, the exam's person and date,
a table's version by its status, the campaign by the months it covers),
so a second run on the same day adds nothing, and a run in a later month adds that month's records while
the earlier ones stay as history. Licence and certificate dates are moved only when they are outside the
window they demonstrate, so re-runs leave them alone.

The step lives here (reporting imports inspections and hazards; portal imports none of them) and is
registered with `portal.demo.register_step` when the app is ready.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone
from PIL import Image

from hazards import services as hazard_services
from hazards.choices import EvidenceKind, HazardCategory, HazardLevel, HazardSource, HazardStatus, MineType
from hazards.fingerprint import hazard_fingerprint
from hazards.models import Hazard, MajorHazardCriterion
from inspections import campaign_services
from inspections import services as inspection_services
from inspections.choices import (
    DeliverableKind,
    DeliverableSchedule,
    DeliverableSubmitter,
    EnforcementKind,
    InspectionMethod,
)
from inspections.models import Campaign, Deliverable, EnforcementRecord, Exam, Inspection
from portal import demo
from portal import services as portal_services
from portal.choices import PersonRole, ProductionStatus
from portal.models import Enterprise, Person, Region, User
from reporting import selectors as report_selectors
from reporting import services as report_services
from reporting.choices import ReportKind, VersionStatus
from reporting.figures import month_bounds
from reporting.models import Report, ReportVersion

S = HazardStatus
MARKER = "【演示】"


def _demo_photo() -> bytes:
    """The rectification photo a closure needs: a real (small) image, since uploads are decoded for their
    pixel size and a thumbnail."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 140, 110)).save(buffer, "PNG")
    return buffer.getvalue()


PNG_1PX = _demo_photo()
FIVE: dict[str, Any] = {
    "measures": "清理边坡浮石，按设计削坡减载",
    "responsible_unit": "采矿车间",
    "responsible_person": "李安全",
    "funds_wan": Decimal("8.50"),
    "interim_measures": "设置警戒线，暂停该台阶作业",
}


def today() -> dt.date:
    """Today in Beijing time (the portal's time zone)."""
    return timezone.localdate()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def live_months(on: dt.date) -> tuple[dt.date, dt.date]:
    """(last month, this month), each as its first day."""
    this = month_start(on)
    return previous_month(this), this


def day_in(month: dt.date, day: int, *, on: dt.date) -> dt.date:
    """Day `day` of `month`, but never after `on` (this month's records cannot lie in the future)."""
    wanted = month.replace(day=min(day, 28))
    return min(wanted, on)


@dataclass(frozen=True)
class HazardPlan:
    """One demo hazard: its level, the status it is brought to, the day found and its deadline (days after)."""

    key: str
    level: str
    target: str
    day: int
    deadline_days: int
    category: str
    text: str


# The showcase enterprise's hazards, each month: one per stage of both workflows.
SHOWCASE_HAZARDS: tuple[HazardPlan, ...] = (
    HazardPlan("G1", HazardLevel.GENERAL, S.REPORTED, 3, 5, HazardCategory.SLOPE, "+320平台边坡有浮石未清理"),
    HazardPlan("G2", HazardLevel.GENERAL, S.RECTIFYING, 4, 7, HazardCategory.TRANSPORT, "运输道路挡车墙局部缺失"),
    HazardPlan("G3", HazardLevel.GENERAL, S.RECTIFIED, 5, 10, HazardCategory.BLASTING, "爆破警戒标志不全"),
    HazardPlan("G4", HazardLevel.GENERAL, S.VERIFIED, 2, 10, HazardCategory.SLOPE, "排土场截水沟淤堵"),
    HazardPlan("M1", HazardLevel.MAJOR, S.DRAFT, 6, 30, HazardCategory.SLOPE, "边坡出现变形迹象未及时处理"),
    HazardPlan("M2", HazardLevel.MAJOR, S.PENDING_TOWN, 5, 30, HazardCategory.SLOPE, "台阶高度超过设计规定"),
    HazardPlan("M3", HazardLevel.MAJOR, S.PENDING_COUNTY, 4, 30, HazardCategory.SLOPE, "最终边坡角大于设计"),
    HazardPlan("M4", HazardLevel.MAJOR, S.CONFIRMED, 3, 20, HazardCategory.SLOPE, "采场上部有危岩未清除"),
    HazardPlan("M5", HazardLevel.MAJOR, S.RECTIFYING, 2, 12, HazardCategory.SLOPE, "边坡监测系统未正常运行"),
    HazardPlan("M6", HazardLevel.MAJOR, S.CLOSURE_REQUESTED, 1, 20, HazardCategory.SLOPE, "安全平台宽度不足"),
    HazardPlan("M7", HazardLevel.MAJOR, S.CLOSED, 1, 15, HazardCategory.SLOPE, "未按设计留设安全平台"),
)
# General hazards the towns found elsewhere, left with the enterprise and due within days: overdue ones.
TOWN_HAZARDS: tuple[tuple[str, str, int, int, str], ...] = (
    ("town_bagong", "T1", 2, 4, "采场作业人员未佩戴安全帽"),
    ("town_gaodu", "T2", 3, 5, "配电室未设置挡鼠板"),
)
ORDER = {
    HazardLevel.GENERAL: (S.REPORTED, S.RECTIFYING, S.RECTIFIED, S.VERIFIED),
    HazardLevel.MAJOR: (
        S.DRAFT, S.PENDING_TOWN, S.PENDING_COUNTY, S.CONFIRMED, S.RECTIFYING, S.CLOSURE_REQUESTED, S.CLOSED,
    ),
}  # fmt: skip


def hazard_description(month: dt.date, text: str) -> str:
    """The hazard's text, which names its month: the key a re-run finds it by (texts differ per plan)."""
    return f"{MARKER}{month:%Y年%m月}{text}"


class Live:
    """What the live step needs: the demo accounts, the showcase enterprise, today."""

    def __init__(self, build: demo.DemoBuild, on: dt.date) -> None:
        self.build = build
        self.on = on
        self.users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in demo.DEMO_USERS])}
        self.showcase = Enterprise.objects.get(credit_code=demo.SHOWCASE_CREDIT_CODE)

    def user(self, name: str) -> User:
        return self.users[name]

    def count(self, what: str) -> None:
        self.build.created[what] += 1


# --- Hazards -----------------------------------------------------------------------------------


def _criterion() -> MajorHazardCriterion | None:
    return MajorHazardCriterion.objects.filter(mine_type=MineType.OPEN_PIT, is_active=True).order_by("number").first()


def _advance(live: Live, hazard: Hazard, target: str, found_on: dt.date) -> Hazard:
    """Walk a hazard through the services, as its holders would, until it reaches `target`."""
    clerk, principal = live.user("clerk"), live.user("principal")
    town, county = live.user("town_bagong"), live.user("county_staff")
    steps: dict[tuple[str, str], Callable[[Hazard], Hazard]] = {
        (HazardLevel.GENERAL, S.REPORTED): lambda h: hazard_services.hazard_start_rectification(
            actor=clerk, hazard=h, measures="立即组织整改", deadline=h.current_deadline
        ),
        (HazardLevel.GENERAL, S.RECTIFYING): lambda h: hazard_services.hazard_mark_rectified(
            actor=clerk, hazard=h, rectified_on=found_on, rectification_note="已整改完毕，现场复核无误"
        ),
        (HazardLevel.GENERAL, S.RECTIFIED): lambda h: hazard_services.hazard_verify(
            actor=town, hazard=h, comment="现场验收合格"
        ),
        (HazardLevel.MAJOR, S.DRAFT): lambda h: hazard_services.hazard_sign_report(
            actor=principal, hazard=h, fingerprint=hazard_fingerprint(h)
        ),
        (HazardLevel.MAJOR, S.PENDING_TOWN): lambda h: hazard_services.hazard_town_confirm(actor=town, hazard=h),
        (HazardLevel.MAJOR, S.PENDING_COUNTY): lambda h: hazard_services.hazard_county_confirm(actor=county, hazard=h),
        (HazardLevel.MAJOR, S.CONFIRMED): lambda h: hazard_services.hazard_start_rectification(actor=clerk, hazard=h),
        (HazardLevel.MAJOR, S.RECTIFYING): lambda h: _request_closure(clerk, h, found_on),
        (HazardLevel.MAJOR, S.CLOSURE_REQUESTED): lambda h: hazard_services.hazard_close(
            actor=county, hazard=h, comment="经现场核查，同意销号"
        ),
    }
    order = ORDER[HazardLevel(hazard.level)]
    while hazard.status != target and order.index(hazard.status) < order.index(target):
        hazard = steps[(hazard.level, hazard.status)](hazard)
    return hazard


def _request_closure(clerk: User, hazard: Hazard, rectified_on: dt.date) -> Hazard:
    hazard_services.hazard_add_evidence(
        actor=clerk, hazard=hazard, file=io.BytesIO(PNG_1PX), original_name="整改后现场.png",
        kind=EvidenceKind.RECTIFICATION, description="整改后现场照片",
    )  # fmt: skip
    return hazard_services.hazard_request_closure(
        actor=clerk, hazard=hazard, rectified_on=rectified_on, rectification_note="已按方案整改完毕"
    )


def live_hazards(live: Live, month: dt.date) -> None:
    criterion = _criterion()
    existing = set(
        Hazard.objects.filter(description__startswith=f"{MARKER}{month:%Y年%m月}").values_list("description", flat=True)
    )
    for plan in SHOWCASE_HAZARDS:
        description = hazard_description(month, plan.text)
        if description in existing or (plan.level == HazardLevel.MAJOR and criterion is None):
            continue
        found_on = day_in(month, plan.day, on=live.on)
        hazard = hazard_services.hazard_report(
            actor=live.user("clerk"), enterprise=live.showcase, level=plan.level, description=description,
            category=plan.category, source=HazardSource.SELF_CHECK, found_on=found_on, location="露天采场",
            found_by="安全科", criterion=criterion if plan.level == HazardLevel.MAJOR else None,
            deadline=found_on + dt.timedelta(days=plan.deadline_days),
            **(FIVE if plan.level == HazardLevel.MAJOR else {}),
        )  # fmt: skip
        _advance(live, hazard, plan.target, found_on)
        live.count("hazards")
    for username, _key, day, deadline_days, text in TOWN_HAZARDS:
        description = hazard_description(month, text)
        if description in existing:
            continue
        actor = live.user(username)
        assert actor.region is not None
        enterprise = (
            Enterprise.objects.filter(town=actor.region, production_status=ProductionStatus.PRODUCING)
            .exclude(pk=live.showcase.pk)
            .order_by("credit_code")
            .first()
        )
        if enterprise is None:
            continue
        found_on = day_in(month, day, on=live.on)
        hazard_services.hazard_report(
            actor=actor, enterprise=enterprise, level=HazardLevel.GENERAL, description=description,
            category=HazardCategory.OTHER,
            source=HazardSource.TOWN_INSPECTION, found_on=found_on, found_by=actor.full_name,
            measures="责令立即整改", deadline=found_on + dt.timedelta(days=deadline_days),
        )  # fmt: skip
        live.count("hazards")


# --- Licences and certificates -----------------------------------------------------------------

# Special operators' certificates of the showcase: (days from today, the window kept on later runs).
CERTIFICATE_OFFSETS: tuple[tuple[int, int, int], ...] = ((-10, -60, -1), (20, 1, 30), (70, 31, 90))


def licence_window(days: int) -> tuple[int, int]:
    """The window a licence demonstrates: expired (within 60 days), or expiring within 30, 60 or 90 days."""
    if days < 0:
        return -60, -1
    high = 30 * ((days + 29) // 30)
    return high - 29, high


def _within(value: dt.date | None, on: dt.date, low: int, high: int) -> bool:
    return value is not None and on + dt.timedelta(days=low) <= value <= on + dt.timedelta(days=high)


def live_licences(live: Live) -> None:
    """The licences `portal.demo.LIVE_LICENCE_DAYS` names are built relative to the build day; on a later
    run one that left its window is renewed to the same offset from today (through the service)."""
    codes = {demo.enterprise_credit_code(demo.DEMO_COUNTY_CODE, i): days for i, days in demo.LIVE_LICENCE_DAYS.items()}
    for enterprise in Enterprise.objects.filter(credit_code__in=codes).exclude(license_number="").order_by("id"):
        days = codes[enterprise.credit_code]
        if not _within(enterprise.license_expiry, live.on, *licence_window(days)):
            portal_services.enterprise_update(
                actor=None, enterprise=enterprise, data={"license_expiry": live.on + dt.timedelta(days=days)}
            )
            live.count("licences")
    operators = list(
        Person.objects.filter(enterprise=live.showcase, role=PersonRole.SPECIAL_OPERATOR).order_by("id")[
            : len(CERTIFICATE_OFFSETS)
        ]
    )
    for person, (offset, low, high) in zip(operators, CERTIFICATE_OFFSETS, strict=False):
        if not _within(person.certificate_expiry, live.on, low, high):
            portal_services.person_update(
                actor=None, person=person, data={"certificate_expiry": live.on + dt.timedelta(days=offset)}
            )
            live.count("certificates")


# --- Field work: inspections, talks, exams, enforcement ---------------------------------------


def _findings(month: dt.date) -> str:
    return f"{MARKER}{month:%Y年%m月}专项检查：查看边坡、爆破、运输和用电，发现问题已登记为隐患。"


def live_field_work(live: Live, month: dt.date, campaign: Campaign) -> None:
    county, town = live.user("county_staff"), live.user("town_bagong")
    principal = inspection_services.principal_of(live.showcase)
    findings = _findings(month)
    inspection = Inspection.objects.filter(enterprise=live.showcase, findings=findings).first()
    if inspection is None:
        inspection = inspection_services.inspection_create(
            actor=county, enterprise=live.showcase, date=day_in(month, 8, on=live.on),
            method=InspectionMethod.FOUR_NO_TWO_STRAIGHT, leader=county.full_name, members="县局非煤矿山股",
            findings=findings, campaign=campaign,
        )  # fmt: skip
        live.count("inspections")
    town_findings = findings.replace("专项检查", "镇日常检查")
    if not Inspection.objects.filter(findings=town_findings).exists():
        inspection_services.inspection_create(
            actor=town, enterprise=live.showcase, date=day_in(month, 10, on=live.on),
            method=InspectionMethod.RANDOM_CHECK, leader=town.full_name, findings=town_findings, campaign=campaign,
        )  # fmt: skip
        live.count("inspections")
    if principal is not None:
        exam_day = inspection.date
        if not Exam.objects.filter(person=principal, date=exam_day).exists():
            # Last month's sitting failed (a retake is due); this month's passed.
            failed = month < month_start(live.on)
            inspection_services.exam_record(
                actor=county, enterprise=live.showcase, person=principal, date=exam_day,
                score=Decimal(62 if failed else 92), inspection=inspection, campaign=campaign,
                note="逢查必考：安全生产法律法规和岗位职责",
            )  # fmt: skip
            live.count("exams")
    records: tuple[tuple[str, str, dict[str, Any]], ...] = (
        ("谈", EnforcementKind.TALK_ENTERPRISE, {"inspection": inspection, "description": "与主要负责人谈心谈话"}),
        ("约", EnforcementKind.INTERVIEW_ENTERPRISE, {"description": "隐患整改逾期，约谈企业"}),
        ("罚", EnforcementKind.PENALTY_ENTERPRISE, {"amount": Decimal("3.00"), "description": "未按规定清理浮石"}),
    )
    for tag, kind, extra in records:
        number = f"泽应急{tag}〔{month:%Y}〕{month:%m}01号"
        if EnforcementRecord.objects.filter(document_number=number).exists():
            continue
        inspection_services.enforcement_record_create(
            actor=county, kind=kind, date=day_in(month, 9, on=live.on), enterprise=live.showcase,
            document_number=number, person=principal, person_name=principal.name if principal else "",
            person_title="主要负责人", campaign=campaign, **extra,
        )  # fmt: skip
        live.count("enforcement_records")


# --- The running campaign and its monthly tables ------------------------------------------------

# The demo's 常态化 campaign starts with last month (so that earlier months raise no missing tables) and
# runs three months ahead; a run after it ends (or before it starts) adds the next one. Its monthly
# deliverables are the two tables it asks for. Found again by the months it covers.
CAMPAIGN_TAG = "演示"
CAMPAIGN_MONTHS_AHEAD = 3
CAMPAIGN_DELIVERABLES: tuple[tuple[str, int, str, str], ...] = (
    ("追责问责情况统计表", 23, "每月23日前报送本月追责问责情况统计表", ReportKind.ACCOUNTABILITY),
    ("问题、整改、责任“三清单”", 25, "每月25日前报送问题、整改、责任“三清单”", ReportKind.THREE_LISTS),
)
TABLE_KINDS = (ReportKind.ACCOUNTABILITY, ReportKind.THREE_LISTS)
# Last month's filings: two towns on time, one late (filed for it by the administrator, 代报).
FILINGS: tuple[tuple[str, int, str], ...] = (
    (demo.town_code(demo.DEMO_COUNTY_CODE, 8), -3, "town_bagong"),  # 巴公镇, 3 days before the deadline
    (demo.town_code(demo.DEMO_COUNTY_CODE, 7), -1, "town_gaodu"),  # 高都镇, the day before
    (demo.town_code(demo.DEMO_COUNTY_CODE, 0), 2, "superadmin"),  # 南村镇, 2 days late
)


def campaign_document_number(start: dt.date) -> str:
    return f"泽应急发〔{start.year}〕{CAMPAIGN_TAG}{start.month}号"


def _chinese(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def demo_campaign(live: Live, last: dt.date, this: dt.date) -> Campaign:
    """The demo campaign running last month and this month (created when there is none, and audited)."""
    county = Region.objects.get(code=demo.DEMO_COUNTY_CODE)
    this_end = month_bounds(this)[1]
    campaign = (
        Campaign.objects.filter(
            issuing_region=county, document_number__contains=CAMPAIGN_TAG, start_date__lte=last, end_date__gte=this_end
        )
        .order_by("-start_date", "-id")
        .first()
    )
    if campaign is not None:
        return campaign
    end_month = this
    for _ in range(CAMPAIGN_MONTHS_AHEAD):
        end_month = (end_month + dt.timedelta(days=32)).replace(day=1)
    start, end = last, month_bounds(end_month)[1]
    # No service creates campaigns (they are seeded from the bureau's notices): built here like the
    # migration seeds them, and audited as a creation.
    # Through the campaign services, as the admin site would (audited; actor None = the system).
    campaign = campaign_services.campaign_create(
        actor=None,
        data={
            "name": f"非煤矿山安全生产常态化监管行动（{start.year}年{start.month}月起）",
            "document_number": campaign_document_number(start),
            "document_title": "泽州县应急管理局关于开展非煤矿山安全生产常态化监管行动的通知（演示）",
            "issuing_region": county,
            "issuing_authority": "泽州县应急管理局",
            "start_date": start,
            "end_date": end,
            "period_text": f"{_chinese(start)}至{_chinese(end)}",
            "summary": "常态化开展隐患排查治理、执法检查和追责问责，各镇每月按时报送统计表。",
        },
    )
    for order, (name, day, description, table) in enumerate(CAMPAIGN_DELIVERABLES, start=1):
        campaign_services.campaign_part_create(
            actor=None,
            model=Deliverable,
            parent=campaign,
            data={
                "order": order, "name": name, "submitter": DeliverableSubmitter.TOWN, "recipients": "县局",
                "kind": DeliverableKind.MONTHLY_TABLE, "schedule": DeliverableSchedule.MONTHLY,
                "day_of_month": day, "description": description, "table": table,
            },
        )  # fmt: skip
    live.count("campaigns")
    return campaign


def _report(kind: str, region: Region, campaign: Campaign, month: dt.date) -> Report:
    return report_services.report_get_or_create(
        kind=kind, region=region, campaign=campaign, month=month, due_day=report_selectors.due_day(kind, campaign)
    )


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)), timezone.get_default_timezone())


def _submit(live: Live, report: Report, username: str, when: dt.datetime) -> ReportVersion | None:
    """Submit the table through the service once; its time is then set to when it was filed (history)."""
    if report.versions.filter(Q(status=VersionStatus.SUBMITTED) | Q(status=VersionStatus.SIGNED)).exists():
        return None
    version = report_services.report_refresh(actor=live.user(username), report=report)
    # The county files although most demo towns never do: the reason is printed in the table's 备注.
    version = report_services.report_submit(
        actor=live.user(username), version=version, missing_reason="其余各镇本月未发生追责问责事项，未单独报送。"
    )
    submitted_at = min(when, timezone.now())
    ReportVersion.objects.filter(pk=version.pk).update(submitted_at=submitted_at)
    version.submitted_at = submitted_at
    live.count("reports_submitted")
    return version


def live_tables(live: Live, campaign: Campaign) -> None:
    """Last month: three towns filed (two on time, one late), the county filed and its leader signed.
    This month: drafts computed for the county, so its figures are there to see."""
    last, this = live_months(live.on)
    county = Region.objects.get(code=demo.DEMO_COUNTY_CODE)
    for month in (last, this):
        for kind in TABLE_KINDS:
            report = _report(kind, county, campaign, month)
            if month == this:
                if not report.versions.exists():
                    report_services.report_refresh(actor=None, report=report)
                    live.count("reports_drafted")
                continue
            for town_code, days, username in FILINGS:
                town = Region.objects.get(code=town_code)
                town_report = _report(kind, town, campaign, month)
                _submit(live, town_report, username, _at(town_report.due_on + dt.timedelta(days=days), 16))
            version = _submit(live, report, "county_staff", _at(report.due_on, 10))
            if version is not None and kind == ReportKind.ACCOUNTABILITY:
                shown = ReportVersion.objects.get(pk=version.pk)  # as the leader's page shows it
                signed = report_services.report_sign(
                    actor=live.user("county_leader"),
                    version=shown,
                    fingerprint=report_services.shown_fingerprint(shown),
                )
                signed_at = min(_at(report.due_on + dt.timedelta(days=1), 9), timezone.now())
                ReportVersion.objects.filter(pk=signed.pk).update(signed_at=signed_at)
                live.count("reports_signed")


# --- The step ----------------------------------------------------------------------------------


def step_live_county(build: demo.DemoBuild) -> None:
    """This month's and last month's work in the demo county, relative to today (Beijing time)."""
    on = today()
    live = Live(build, on)
    live_licences(live)
    last, this = live_months(on)
    campaign = demo_campaign(live, last, this)
    for month in (last, this):
        live_hazards(live, month)
        live_field_work(live, month, campaign)
    live_tables(live, campaign)


def register() -> None:
    demo.register_step("live_county", step_live_county, after="demo_users")
