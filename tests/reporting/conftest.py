"""A scenario of known records in two towns of 泽州县 (and noise that must never count), for both tables.

The campaigns are the seeded ones when the seed migration is there, else made here with the seeds'
dates; every date below lies inside either.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from hazards.choices import HazardCategory, HazardLevel, HazardSource, HazardStatus, MineType
from hazards.models import Hazard, MajorHazardCriterion
from inspections.choices import DeliverableKind, DeliverableSchedule, DeliverableSubmitter, InspectionMethod
from inspections.models import Campaign, Deliverable, EnforcementRecord, Inspection, InspectionTeam
from portal.models import Region
from tests.factories import ParentCompanyFactory

D = dt.date
# Which table each deliverable is (Deliverable.table), as the data migration classified the seeds.
_TABLES = {
    "追责问责情况统计表": "accountability",
    "冬季行动工作报表": "winter",
    "阶段性进展和问题、整改、责任“三清单”": "three_lists",
}
_counter = itertools.count(1)


def ensure_campaign(
    *,
    county: Region,
    document_number: str,
    name: str,
    start: dt.date,
    end: dt.date,
    deliverables: list[tuple[str, str, int]],
) -> Campaign:
    campaign = Campaign.objects.filter(document_number=document_number, issuing_region=county).first()
    if campaign is None:
        campaign = Campaign.objects.create(
            name=name, document_number=document_number, issuing_region=county, start_date=start, end_date=end
        )
    for order, (title, kind, day) in enumerate(deliverables, start=50):
        if not campaign.deliverables.filter(name=title).exists():
            Deliverable.objects.create(
                campaign=campaign,
                order=order,
                name=title,
                submitter=DeliverableSubmitter.TOWN,
                recipients="县局",
                kind=kind,
                schedule=DeliverableSchedule.MONTHLY,
                day_of_month=day,
                table=_TABLES.get(title, ""),
            )
    return campaign


def accountability_campaign(county: Region) -> Campaign:
    return ensure_campaign(
        county=county,
        document_number="泽应急发〔2024〕83号",
        name="非煤矿山企业主要负责人履职专项检查",
        start=D(2024, 4, 1),
        end=D(2024, 8, 30),
        deliverables=[("追责问责情况统计表", DeliverableKind.MONTHLY_TABLE, 23)],
    )


def winter_campaign(county: Region) -> Campaign:
    return ensure_campaign(
        county=county,
        document_number="泽应急发〔2023〕331号",
        name="非煤矿山行业安全生产“百日攻坚”冬季行动",
        start=D(2023, 11, 2),
        end=D(2024, 2, 10),
        deliverables=[
            ("冬季行动工作报表", DeliverableKind.MONTHLY_TABLE, 25),
            ("阶段性进展和问题、整改、责任“三清单”", DeliverableKind.FORM, 25),
        ],
    )


def criterion() -> MajorHazardCriterion:
    item = MajorHazardCriterion.objects.filter(mine_type=MineType.OPEN_PIT).first()
    if item is None:
        item = MajorHazardCriterion.objects.create(
            mine_type=MineType.OPEN_PIT, number=99, label="（九十九）", text="测试条目"
        )
    return item


def hazard(enterprise: Any, *, level: str, found_on: dt.date, status: str, **fields: Any) -> Hazard:
    number = next(_counter)
    values: dict[str, Any] = {
        "enterprise": enterprise,
        "ledger_number": f"T{number:04d}",
        "identity_key": f"no:T{number:04d}",
        "description": fields.pop("description", f"测试隐患{number}"),
        "category": HazardCategory.SLOPE,
        "level": level,
        "found_on": found_on,
        "source": HazardSource.TOWN_INSPECTION,
        "status": status,
    }
    if level == HazardLevel.MAJOR:
        values["criterion"] = criterion()
    values.update(fields)
    return Hazard.objects.create(**values)


def record(kind: str, unit: Region, date: dt.date, enterprise: Any = None, **fields: Any) -> EnforcementRecord:
    return EnforcementRecord.objects.create(kind=kind, issuing_unit=unit, date=date, enterprise=enterprise, **fields)


@dataclass
class Scenario:
    world: Any
    accountability: Campaign
    winter: Campaign
    hazards: dict[str, Hazard] = field(default_factory=dict)
    records: dict[str, EnforcementRecord] = field(default_factory=dict)


@pytest.fixture
def scenario(world: Any) -> Scenario:
    w = world
    acc = accountability_campaign(w.county)
    win = winter_campaign(w.county)
    parent = ParentCompanyFactory(region=w.county, name="泽州县测试集团有限公司")
    parent2 = ParentCompanyFactory(region=w.county, name="晋城测试控股有限公司")
    other_parent = ParentCompanyFactory(region=w.other_county, name="上党测试集团")
    s = Scenario(world=w, accountability=acc, winter=win)
    r = s.records

    # --- 追责问责情况统计表, month 2024-05 (累计: campaign start → 2024-05-31) -------------------
    a, b, c = w.town_a, w.town_b, w.county
    r["talk_a1"] = record("talk_enterprise", a, D(2024, 4, 20), w.enterprise_a, person_name="王建国")
    r["talk_a2"] = record("talk_enterprise", a, D(2024, 5, 10), w.enterprise_a2, person_name="李四")
    r["talk_parent_a1"] = record("talk_parent", a, D(2024, 5, 3), parent_company=parent)
    r["talk_parent_a2"] = record("talk_parent", a, D(2024, 5, 4), parent_company=parent)  # same parent: 1 家
    r["pen_a1"] = record("penalty_enterprise", a, D(2024, 4, 28), w.enterprise_a, amount=Decimal("1.50"), campaign=acc)
    r["pen_a2"] = record("penalty_enterprise", a, D(2024, 5, 28), w.enterprise_a2, amount=Decimal("2.25"))
    r["pen_p_a"] = record(
        "penalty_principal", a, D(2024, 5, 28), w.enterprise_a2, amount=Decimal("0.50"), person_name="李四"
    )
    r["int_a"] = record("interview_enterprise", a, D(2024, 5, 15), w.enterprise_a)
    r["talk_b"] = record("talk_enterprise", b, D(2024, 5, 5), w.enterprise_b, person_name="赵六")
    r["pen_b"] = record("penalty_enterprise", b, D(2024, 5, 6), w.enterprise_b, amount=Decimal("1.00"))
    r["dismiss_b"] = record("accountability_dismissal", b, D(2024, 5, 7), w.enterprise_b, person_name="钱七")
    r["talk_parent_c"] = record("talk_parent", c, D(2024, 5, 8), parent_company=parent2)
    r["int_leader_c"] = record(
        "interview_parent_leader",
        c,
        D(2024, 5, 9),
        parent_company=parent,
        person_name="孙八",
        person_title="分管负责人",
    )
    r["expose_c"] = record("exposure_enterprise", c, D(2024, 5, 20), w.enterprise_a)
    r["county_on_b"] = record("responsibility_list", c, D(2024, 5, 21), w.enterprise_b)
    # noise: other county, before the campaign, after the period, another campaign, a kind with no column
    record("talk_enterprise", w.other_town, D(2024, 5, 10), w.enterprise_other, person_name="外县")
    record("talk_parent", w.other_county, D(2024, 5, 10), parent_company=other_parent)
    record("talk_enterprise", a, D(2024, 3, 20), w.enterprise_a, person_name="早于行动")
    record("talk_enterprise", a, D(2024, 6, 1), w.enterprise_a, person_name="晚于本月")
    record("penalty_enterprise", a, D(2024, 5, 12), w.enterprise_a, amount=Decimal("9.00"), campaign=win)
    record("criminal_referral", a, D(2024, 5, 12), w.enterprise_a, person_name="行刑衔接")

    # --- 冬季行动工作报表, month 2023-12 (累计: campaign start → 2023-12-31) -------------------
    InspectionTeam.objects.create(campaign=win, unit=a, name="巴公镇第一督查组", leader="甲", formed_on=D(2023, 11, 5))
    InspectionTeam.objects.create(campaign=win, unit=a, name="巴公镇第二督查组", leader="乙", formed_on=D(2023, 12, 2))
    InspectionTeam.objects.create(campaign=win, unit=c, name="县局督查组", leader="丙", formed_on=D(2023, 12, 10))
    InspectionTeam.objects.create(
        campaign=win, unit=w.other_county, name="外县督查组", leader="丁", formed_on=D(2023, 12, 1)
    )
    InspectionTeam.objects.create(campaign=acc, unit=a, name="另一行动督查组", leader="戊", formed_on=D(2024, 5, 1))
    insp = {"method": InspectionMethod.FOUR_NO_TWO_STRAIGHT, "leader": "检查组长"}
    Inspection.objects.create(enterprise=w.enterprise_a, unit=a, date=D(2023, 11, 20), **insp)
    Inspection.objects.create(enterprise=w.enterprise_a, unit=a, date=D(2023, 12, 5), campaign=win, **insp)
    Inspection.objects.create(enterprise=w.enterprise_a2, unit=a, date=D(2023, 12, 6), **insp)
    Inspection.objects.create(enterprise=w.enterprise_b, unit=c, date=D(2023, 12, 15), **insp)
    Inspection.objects.create(enterprise=w.enterprise_a, unit=c, date=D(2023, 12, 20), **insp)
    Inspection.objects.create(enterprise=w.enterprise_a, unit=a, date=D(2023, 10, 30), **insp)  # before
    Inspection.objects.create(enterprise=w.enterprise_other, unit=w.other_town, date=D(2023, 12, 5), **insp)
    Inspection.objects.create(enterprise=w.enterprise_b, unit=b, date=D(2023, 12, 7), campaign=acc, **insp)

    h = s.hazards
    G, M, S = HazardLevel.GENERAL, HazardLevel.MAJOR, HazardStatus
    h["g1"] = hazard(w.enterprise_a, level=G, found_on=D(2023, 11, 10), status=S.VERIFIED, rectified_on=D(2023, 11, 20))
    h["g2"] = hazard(w.enterprise_a, level=G, found_on=D(2023, 12, 3), status=S.RECTIFIED, rectified_on=D(2023, 12, 10))
    h["g3"] = hazard(
        w.enterprise_a2,
        level=G,
        found_on=D(2023, 12, 5),
        status=S.RECTIFYING,
        description="运输道路过窄，未设置限速标志",
        measures="设置限速和会车标志",
        responsible_unit="巴公镇第二石料厂",
        responsible_person="周九",
        funds_wan=Decimal("0.80"),
        deadline=D(2024, 1, 10),
        current_deadline=D(2024, 1, 10),
    )
    h["g4"] = hazard(w.enterprise_a2, level=G, found_on=D(2023, 12, 6), status=S.VERIFIED, rectified_on=D(2024, 1, 5))
    h["g5_draft"] = hazard(w.enterprise_a, level=G, found_on=D(2023, 12, 7), status=S.REPORTED)
    Hazard.objects.filter(pk=h["g5_draft"].pk).update(status=S.DRAFT)
    h["m1"] = hazard(
        w.enterprise_a,
        level=M,
        found_on=D(2023, 12, 4),
        status=S.CONFIRMED,
        description="采场最终边坡台阶高度超过设计要求",
        location="北采场",
        measures="按设计削坡减载",
        responsible_unit="泽州县示范矿业有限公司",
        responsible_person="王建国",
        funds_wan=Decimal("5.00"),
        deadline=D(2024, 1, 15),
        current_deadline=D(2024, 1, 15),
        supervision_level="county",
        supervision_unit="泽州县应急管理局",
    )
    h["m2"] = hazard(
        w.enterprise_a,
        level=M,
        found_on=D(2023, 11, 15),
        status=S.CLOSED,
        rectified_on=D(2023, 12, 15),
        closed_on=D(2023, 12, 20),
    )
    h["m3"] = hazard(
        w.enterprise_b,
        level=M,
        found_on=D(2023, 12, 12),
        status=S.CLOSED,
        rectified_on=D(2023, 12, 25),
        closed_on=D(2023, 12, 28),
    )
    h["gb"] = hazard(w.enterprise_b, level=G, found_on=D(2023, 12, 10), status=S.REPORTED)
    hazard(w.enterprise_other, level=M, found_on=D(2023, 12, 10), status=S.CONFIRMED)  # other county
    hazard(w.enterprise_other, level=G, found_on=D(2023, 12, 10), status=S.REPORTED)
    hazard(w.enterprise_a, level=G, found_on=D(2023, 10, 1), status=S.REPORTED)  # before the campaign
    hazard(w.enterprise_a, level=G, found_on=D(2024, 1, 3), status=S.REPORTED)  # after the period

    record("order_rectification", a, D(2023, 12, 3), w.enterprise_a)
    record("order_rectification", a, D(2023, 12, 8), w.enterprise_a)  # same enterprise: 1 家
    record("penalty_enterprise", a, D(2023, 12, 5), w.enterprise_a, amount=Decimal("2.00"))
    record("penalty_principal", a, D(2023, 11, 20), w.enterprise_a, amount=Decimal("0.50"), person_name="王建国")
    record("suspension", a, D(2023, 12, 9), w.enterprise_a2)
    record("public_exposure_case", a, D(2023, 12, 9), w.enterprise_a2)
    record("illegal_subcontracting", a, D(2023, 11, 25), w.enterprise_a)
    record("labour_dispatch", b, D(2023, 12, 11), w.enterprise_b)
    record("order_rectification", b, D(2023, 12, 12), w.enterprise_b)
    record("order_rectification", c, D(2023, 12, 15), w.enterprise_a)  # county: a again → still 2 家
    record("order_rectification", w.other_town, D(2023, 12, 15), w.enterprise_other)
    record("penalty_enterprise", w.other_town, D(2023, 12, 15), w.enterprise_other, amount=Decimal("7.00"))
    record("suspension", a, D(2023, 10, 20), w.enterprise_a)  # before the campaign
    record("suspension", a, D(2023, 12, 20), w.enterprise_a, campaign=acc)  # another campaign
    return s
