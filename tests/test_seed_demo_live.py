"""`seed_demo` makes the demo county live relative to today (issue 13 §7), checked at two dates through
the real selectors: the hazard list's filter, the reporting figures and scopes, the scoped managers."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from hazards.choices import HazardAction, HazardLevel, HazardStatus
from hazards.filters import HazardFilterSet
from hazards.models import Hazard, HazardEvent
from inspections.choices import TALK_KINDS, EnforcementKind
from inspections.models import Campaign, Deliverable, EnforcementRecord, Exam, Inspection
from portal import demo
from portal.choices import PersonRole
from portal.models import AuditEvent, Enterprise, Person, Region, User
from reporting import demo_live
from reporting.choices import ReportKind, VersionStatus
from reporting.figures import compute_cells_compiled, record_ids
from reporting.models import Report, ReportVersion
from reporting.selectors import campaign_for, scope_for

SH = ZoneInfo("Asia/Shanghai")
# Two dates: mid-month in spring, and early January (last month lies in the previous year).
DATES = (dt.datetime(2026, 3, 17, 9, 0, tzinfo=SH), dt.datetime(2027, 1, 5, 8, 0, tzinfo=SH))
ZEZHOU = "/140000/140500/140525/"
HISTORY_NUMBERS = ("泽应急发〔2023〕331号", "泽应急发〔2024〕83号")


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def users() -> dict[str, User]:
    return {u.username: u for u in User.objects.all()}


def month_hazards(month: dt.date) -> Any:
    return Hazard.objects.filter(description__startswith=f"{demo_live.MARKER}{month:%Y年%m月}")


def history() -> list[dict[str, Any]]:
    campaigns = Campaign.objects.filter(document_number__in=HISTORY_NUMBERS).order_by("id")
    rows = list(campaigns.values("id", "name", "document_number", "start_date", "end_date", "issuing_region"))
    rows += list(Deliverable.objects.filter(campaign__in=campaigns).order_by("id").values())
    return rows


def counts() -> dict[str, int]:
    models = (Hazard, HazardEvent, Inspection, EnforcementRecord, Exam, Campaign, Report, ReportVersion, AuditEvent)
    return {model.__name__: model.objects.count() for model in models}


def figures_total(kind: str, region: Region, month: dt.date) -> int:
    """The table's figures as reporting computes them: the cells' sum, or the rows of the 三清单."""
    scope = scope_for(kind=kind, region=region, month=month)
    if kind == ReportKind.THREE_LISTS:
        return len(record_ids(kind, scope)["hazards"])
    return int(sum(value for value in compute_cells_compiled(kind, scope).values()))


@pytest.mark.parametrize("now", DATES, ids=["2026-03-17", "2027-01-05"])
def test_the_county_is_live_today(db: None, now: dt.datetime) -> None:
    before_history = None
    with time_machine.travel(now, tick=False):
        before_history = history()
        assert len(before_history) > 2  # the 2023–24 campaigns exist (seeded by migration)
        seed()
        today = timezone.localdate()
        last, this = demo_live.live_months(today)
        people = users()
        county = Region.objects.get(code="140525")

        # Hazards at every stage of both workflows, this month and last.
        for month in (last, this):
            stages = set(month_hazards(month).values_list("level", "status"))
            for level in (HazardLevel.GENERAL, HazardLevel.MAJOR):
                for status in demo_live.ORDER[level]:
                    assert (level, status) in stages, (month, level, status)
            found = month_hazards(month).values_list("found_on", flat=True)
            assert all(month <= day <= today for day in found)
        # Overdue ones, as the hazard list's 逾期 filter finds them for the county staff.
        overdue = HazardFilterSet(
            {"overdue": "true"}, queryset=Hazard.objects.visible_to(people["county_staff"]),
            user=people["county_staff"], today=today,
        ).qs  # fmt: skip
        assert overdue.count() >= 3
        assert overdue.filter(enterprise__credit_code="91140525MA0K7XQ215").exists()
        assert overdue.exclude(enterprise__credit_code="91140525MA0K7XQ215").exists()  # the towns' ones

        # Each role has something waiting.
        def waiting(username: str, status: str) -> bool:
            return Hazard.objects.visible_to(people[username]).filter(status=status).exists()

        assert waiting("principal", HazardStatus.DRAFT)  # to sign
        assert waiting("town_bagong", HazardStatus.PENDING_TOWN)
        assert waiting("town_bagong", HazardStatus.RECTIFIED)  # to verify
        assert waiting("county_staff", HazardStatus.PENDING_COUNTY)
        assert waiting("county_staff", HazardStatus.CLOSURE_REQUESTED)
        assert waiting("clerk", HazardStatus.CONFIRMED)  # to start rectifying
        assert waiting("town_gaodu", HazardStatus.REPORTED)
        leader_waits = ReportVersion.objects.filter(
            report__region=county, report__month=last, status=VersionStatus.SUBMITTED
        )
        assert leader_waits.exists()

        # Licences: expired and expiring within 30, 60 and 90 days, at 正常生产/建设 mines.
        zezhou = Enterprise.objects.filter(
            town__path__startswith=ZEZHOU, production_status__in=["producing", "building"]
        )

        def licences(low: int, high: int) -> int:
            window = (today + dt.timedelta(days=low), today + dt.timedelta(days=high))
            return zezhou.exclude(license_number="").filter(license_expiry__range=window).count()

        assert licences(-60, -1) >= 1 and licences(0, 30) >= 1 and licences(31, 60) >= 1 and licences(61, 90) >= 1
        assert Enterprise.objects.get(credit_code="91140525MA0K7XQ215").license_expiry > today  # its own, expiring
        operators = Person.objects.filter(
            enterprise__credit_code="91140525MA0K7XQ215", role=PersonRole.SPECIAL_OPERATOR
        )
        assert operators.filter(certificate_expiry__lt=today).exists()
        assert operators.filter(certificate_expiry__range=(today, today + dt.timedelta(days=30))).exists()

        # Inspections, talks, exams and enforcement records, this month and last.
        for month in (last, this):
            in_month = {"date__gte": month, "date__lte": today if month == this else this - dt.timedelta(days=1)}
            assert Inspection.objects.filter(**in_month).count() >= 2
            records = EnforcementRecord.objects.filter(**in_month)
            assert records.filter(kind__in=TALK_KINDS).exists()
            assert records.filter(kind=EnforcementKind.PENALTY_ENTERPRISE, amount__gt=0).exists()
            assert records.filter(kind=EnforcementKind.INTERVIEW_ENTERPRISE).exists()
            assert Exam.objects.filter(**in_month).exists()
        assert not Exam.objects.get(date__gte=last, date__lt=this).passed  # last month's sitting failed
        running = campaign_for(kind=ReportKind.ACCOUNTABILITY, region=county, month=this)
        assert not Inspection.objects.exclude(campaign=running).exists()  # the field work is the campaign's
        assert not EnforcementRecord.objects.exclude(campaign=running).exists()

        # A campaign running now asks for the monthly tables, with figures this month and last.
        for kind in demo_live.TABLE_KINDS:
            campaign = campaign_for(kind=kind, region=county, month=this)
            assert campaign.is_running(today)
            assert campaign.document_number not in HISTORY_NUMBERS
            # It starts with last month: the months before ask for no tables nobody filed.
            assert campaign.start_date == last and campaign.end_date > today
            assert figures_total(kind, county, this) > 0, kind
            assert figures_total(kind, county, last) > 0, kind

        # Last month: two towns filed on time, one late; the county's accountability table is signed.
        filed = ReportVersion.objects.filter(
            report__kind=ReportKind.ACCOUNTABILITY, report__month=last, report__region__level="town"
        ).select_related("report")
        on_time = [v for v in filed if timezone.localdate(v.submitted_at) <= v.report.due_on]
        late = [v for v in filed if timezone.localdate(v.submitted_at) > v.report.due_on]
        assert (len(on_time), len(late)) == (2, 1)
        assert {v.report.region.name for v in on_time} == {"巴公镇", "高都镇"}
        signed = ReportVersion.objects.get(
            report__region=county, report__kind=ReportKind.ACCOUNTABILITY, report__month=last
        )
        assert signed.status == VersionStatus.SIGNED and signed.signed_by == people["county_leader"]
        assert last <= timezone.localdate(signed.signed_at) < this
        assert signed.pdf_file and signed.xlsx_file

        # The 2023–24 campaigns remain as they were.
        assert history() == before_history


def test_live_records_go_through_the_services(db: None) -> None:
    with time_machine.travel(DATES[0], tick=False):
        seed()
        hazards = Hazard.objects.filter(description__startswith=demo_live.MARKER)
        texts = [plan.text for plan in demo_live.SHOWCASE_HAZARDS] + [plan[4] for plan in demo_live.TOWN_HAZARDS]
        assert len(set(texts)) == len(texts)  # the texts are the keys re-runs find the hazards by
        assert hazards.count() == 2 * len(texts)
        for hazard in hazards:
            actions = list(HazardEvent.objects.filter(hazard=hazard).values_list("action", flat=True))
            assert actions and actions[0] == HazardAction.REPORT, hazard
        closed = hazards.filter(status=HazardStatus.CLOSED).first()
        assert closed is not None
        a = HazardAction
        assert list(HazardEvent.objects.filter(hazard=closed).order_by("id").values_list("action", flat=True)) == [
            a.REPORT, a.SIGN_REPORT, a.TOWN_CONFIRM, a.COUNTY_CONFIRM, a.START_RECTIFICATION, a.ADD_EVIDENCE,
            a.REQUEST_CLOSURE, a.CLOSE,
        ]  # fmt: skip
        assert closed.evidence.exists()
        audited = AuditEvent.objects.values_list("object_type", flat=True)
        for object_type in ("专项行动", "检查记录", "执法与追责问责记录", "逢查必考"):
            assert any(object_type in str(t) for t in audited), object_type


def test_running_twice_adds_nothing_and_a_later_day_adds_only_the_new_month(db: None) -> None:
    first, later = DATES
    with time_machine.travel(first, tick=False):
        seed()
        before = counts()
        rows = list(Hazard.objects.order_by("id").values("id", "status", "current_deadline", "found_on"))
        licences = list(Enterprise.objects.order_by("id").values_list("license_expiry", flat=True))
        out = seed()
        assert counts() == before
        assert list(Hazard.objects.order_by("id").values("id", "status", "current_deadline", "found_on")) == rows
        assert list(Enterprise.objects.order_by("id").values_list("license_expiry", flat=True)) == licences
        assert "无（数据已齐全）" in out
    with time_machine.travel(first + dt.timedelta(days=3), tick=False):
        seed()  # a later day in the same month: nothing new
        assert counts()["Hazard"] == before["Hazard"]
    with time_machine.travel(later, tick=False):
        history_before = history()
        seed()
        after = counts()
        assert after["Hazard"] > before["Hazard"]
        # What existed is left as it was (history), and the new months are there.
        kept = Hazard.objects.filter(id__in=[r["id"] for r in rows]).order_by("id")
        assert list(kept.values("id", "status", "current_deadline", "found_on")) == rows
        today = timezone.localdate()
        for month in demo_live.live_months(today):
            assert month_hazards(month).count() == len(demo_live.SHOWCASE_HAZARDS) + len(demo_live.TOWN_HAZARDS)
        # A new demo campaign runs now (the first one ended): last month and this month are its months.
        running = campaign_for(kind=ReportKind.ACCOUNTABILITY, region=Region.objects.get(code="140525"), month=today)
        assert running.document_number == demo_live.campaign_document_number(demo_live.live_months(today)[0])
        assert running.start_date == demo_live.live_months(today)[0]
        assert Campaign.objects.filter(document_number__contains=demo_live.CAMPAIGN_TAG).count() == 2
        # The licences that demonstrate expiry were renewed to the same offsets from the later day.
        for index, days in demo.LIVE_LICENCE_DAYS.items():
            expiry = Enterprise.objects.get(credit_code=demo.enterprise_credit_code("140525", index)).license_expiry
            assert expiry == today + dt.timedelta(days=days), index
        assert history() == history_before
        again = counts()
        seed()
        assert counts() == again
