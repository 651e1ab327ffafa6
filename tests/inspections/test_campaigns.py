"""Campaigns are data: the two seed campaigns, word for word, and who sees them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from inspections.choices import DeliverableKind, DeliverableSchedule, QuotaKind
from inspections.models import Campaign, ChecklistItem, Deliverable, Quota
from portal.models import AuditEvent
from tests.conftest import Cast, World
from tests.otp_helpers import force_login_verified

D83 = "泽应急发〔2024〕83号"
D331 = "泽应急发〔2023〕331号"

# Paragraphs copied from the seed notice 000_… (the checklist areas of 83号).
SEED_83_AREAS = [
    ("一", "安全生产责任制和标准化建设方面",
     "非煤矿山企业是否健全并落实本单位全员安全生产责任制；是否建立对全员安全生产责任制落实情况的监督考核机制；"
     "是否组织加强本单位的安全生产标准化建设；每月在生产现场履行安全生产职责时间是否不少于10个工作日；"
     "主体公司主要负责人是否组织编制并审定企业安全生产年度目标考核办法；企业总部及其子、分公司主要负责人、"
     "分管负责人等每月到所属矿山检查安全工作的次数是否达到3次；是否下达超能力生产计划或者经营指标"),
    ("二", "安全生产制度措施和操作规程方面",
     "是否组织制定并实施动火、有限空间作业等方面的安全生产制度措施和操作规程；是否每月组织召开安全生产办公会议，"
     "研究解决安全生产重大问题"),
    ("三", "安全生产教育培训方面",
     "是否组织制定并实施本单位安全培训计划，培训范围是否全员覆盖；是否掌握两办《意见》《硬措施》和国家矿山安全监察局"
     "重点工作部署等内容；是否督促有关负责人、安全生产管理人员、特种作业人员全部持证上岗；是否安排部署有关负责人、"
     "实际控制人、法人接受专门安全教育培训"),
    ("四", "双重预防工作机制方面",
     "是否组织建立并落实安全风险分级管控制度，按照安全风险分级采取相应的管控措施；是否组织建立健全并落实生产安全事故"
     "隐患排查治理制度；是否对照《金属非金属矿山重大事故隐患判定标准》每月组织开展全面排查，并按照“五落实”原则严格"
     "整改；是否组织开展隐蔽致灾因素普查治理"),
    ("五", "外包队伍管理方面",
     "是否严格落实外包工程安全生产主体责任，发包单位和承包单位领导实行双带班下井；发包单位主要负责人是否每月组织对"
     "矿山开展检查，并与承包单位共同研究安全生产问题；是否建立监督考核机制，对承包单位全体从业人员实施“五统一”管理；"
     "是否存在以包代管，包而不管的情况"),
    ("六", "安全生产投入方面",
     "是否保证本单位具备充足的安全生产所必需的资金投入；是否按规定足额提取和使用安全费用；是否组织投保安全生产责任保险"),
    ("七", "生产安全事故应急救援方面",
     "是否组织制定并实施本单位的生产安全事故应急救援预案；是否定期组织并参与应急救援演练；是否严格落实灾害情况发生"
     "重大变化及时报告和出现事故征兆等紧急情况及时撤人工作制度"),
    ("八", "生产安全事故报告方面",
     "是否熟知生产安全事故报告流程和事项；是否及时、如实报告生产安全事故；是否组织开展生产安全事故警示教育"),
]  # fmt: skip


def _campaign(number: str) -> Campaign:
    return Campaign.objects.get(document_number=number)


def test_83_checklist_is_the_seed_word_for_word(db: None) -> None:
    campaign = _campaign(D83)
    assert campaign.name == "非煤矿山企业主要负责人履职专项检查"
    assert campaign.end_date == dt.date(2024, 8, 30)
    assert campaign.issuing_region.code == "140525"
    areas = list(campaign.checklist_areas.order_by("order"))
    assert [(a.number, a.title) for a in areas] == [(n, t) for n, t, _ in SEED_83_AREAS]
    for area, (_n, _t, paragraph) in zip(areas, SEED_83_AREAS, strict=True):
        assert "；".join(area.items.order_by("order").values_list("text", flat=True)) == paragraph
    assert ChecklistItem.objects.filter(area__campaign=campaign).count() == 30
    # The two questions about bad practice are compliant when answered 否; the 主体公司 questions are marked.
    no_expected = ChecklistItem.objects.filter(area__campaign=campaign, expected_answer="no")
    assert sorted(no_expected.values_list("text", flat=True)) == [
        "是否下达超能力生产计划或者经营指标",
        "是否存在以包代管，包而不管的情况",
    ]
    assert ChecklistItem.objects.filter(area__campaign=campaign, subject="parent_company").count() == 3


def test_83_phases_quotas_deliverables(db: None) -> None:
    campaign = _campaign(D83)
    phases = [(p.name, p.end_date) for p in campaign.phases.order_by("order")]
    assert phases == [
        ("自查自改阶段", dt.date(2024, 4, 25)),
        ("执法检查阶段", dt.date(2024, 7, 25)),
        ("“回头看”和总结阶段", dt.date(2024, 8, 30)),
    ]
    assert campaign.phases.get(name="执法检查阶段").start_date == dt.date(2024, 4, 26)
    days = campaign.quotas.get(kind=QuotaKind.PRINCIPAL_DAYS_ON_SITE)
    assert (days.number, days.unit, days.period) == (10, "个工作日", "month")
    assert campaign.quotas.get(kind=QuotaKind.PARENT_LEADER_VISITS).number == 3
    assert campaign.quotas.filter(kind=QuotaKind.SAFETY_MEETINGS).exists()
    assert campaign.quotas.filter(kind=QuotaKind.MAJOR_HAZARD_INVESTIGATION).exists()
    assert campaign.quotas.filter(kind=QuotaKind.PRINCIPAL_EXAM).exists()
    deliverables = {d.name: d for d in campaign.deliverables.all()}
    assert set(deliverables) == {
        "重大事故隐患排查整治台账",
        "自查自改报告",
        "追责问责情况统计表",
        "典型案例线索",
        "工作总结",
    }
    report = deliverables["自查自改报告"]
    assert report.kind == DeliverableKind.SELF_CHECK_REPORT and report.requires_principal_signature
    assert report.due_date == dt.date(2024, 4, 25) and report.submitter == "enterprise"
    assert deliverables["工作总结"].due_date == dt.date(2024, 8, 23)
    table = deliverables["追责问责情况统计表"]
    assert table.schedule == DeliverableSchedule.MONTHLY and table.day_of_month == 23
    assert table.due_dates() == [dt.date(2024, m, 23) for m in (4, 5, 6, 7, 8)]


def test_331_areas_phases_quotas_deliverables(db: None) -> None:
    campaign = _campaign(D331)
    assert campaign.name == "非煤矿山行业安全生产“百日攻坚”冬季行动"
    assert campaign.end_date == dt.date(2024, 2, 10)
    areas = list(campaign.checklist_areas.order_by("order"))
    assert [a.title for a in areas] == ["攻坚五个专项行动", "强化五个风险管控措施"]
    assert list(areas[0].items.values_list("text", flat=True)) == [
        "攻坚“反三违”专项行动",
        "攻坚安全生产重大事故隐患专项行动",
        "攻坚有限空间作业安全排查整治行动",
        "攻坚企业安全生产主体责任落实行动",
        "攻坚应急处置救援能力提升行动",
    ]
    assert list(areas[1].items.values_list("text", flat=True)) == [
        "强化恶劣天气安全管控",
        "强化采场边坡安全管控",
        "强化爆破作业安全管控",
        "强化采场运输安全管控",
        "强化外委外包安全管控",
    ]
    # A page break of the notice is joined, nothing else touched.
    transport = areas[1].items.get(text="强化采场运输安全管控")
    assert transport.guidance.startswith(
        "运输道路等级、宽度、坡度和车挡，以及运输设备规格型号和数量等应符合设计或规程要求"
    )
    phases = [(p.name, p.start_date, p.end_date) for p in campaign.phases.order_by("order")]
    assert phases[1:] == [
        ("企业排查治理阶段", dt.date(2023, 11, 11), dt.date(2024, 1, 31)),
        ("督查检查阶段", dt.date(2023, 11, 11), dt.date(2024, 1, 31)),
        ("总结提升阶段", dt.date(2024, 2, 1), dt.date(2024, 2, 10)),
    ]
    assert phases[0][0] == "动员部署阶段" and phases[0][2] == dt.date(2023, 11, 10)
    county = campaign.quotas.get(kind=QuotaKind.COUNTY_COVERAGE)
    assert county.number == 30 and county.unit == "%"
    assert county.window() == (dt.date(2023, 11, 11), dt.date(2024, 1, 31))
    assert campaign.quotas.get(kind=QuotaKind.TOWN_COVERAGE).number == 100
    assert campaign.quotas.get(kind=QuotaKind.PRINCIPAL_LED_INSPECTIONS).number == 2
    assert campaign.quotas.get(kind=QuotaKind.PARENT_LEADER_VISITS).number == 2
    names = {d.name: d for d in campaign.deliverables.all()}
    assert names["“百日攻坚”冬季行动方案"].due_date == dt.date(2023, 11, 9)
    assert names["工作总结"].due_date == dt.date(2024, 2, 6)
    assert names["安全生产重大隐患"].kind == DeliverableKind.MAJOR_HAZARD
    assert names["问题隐患清单"].requires_principal_signature
    winter = names["冬季行动工作报表"]
    assert winter.due_dates() == [dt.date(2023, 11, 25), dt.date(2023, 12, 25), dt.date(2024, 1, 25)]
    assert names["阶段性进展和问题、整改、责任“三清单”"].day_of_month == 25


def test_monthly_due_date_in_a_short_month(db: None) -> None:
    campaign = _campaign(D331)
    deliverable = Deliverable(campaign=campaign, schedule=DeliverableSchedule.MONTHLY, day_of_month=31)
    assert deliverable.due_dates() == [dt.date(2023, 11, 30), dt.date(2023, 12, 31), dt.date(2024, 1, 31)]


VISIBLE = {
    "clerk": True, "principal": True, "town_a_staff": True, "town_b_staff": True, "county_staff": True,
    "county_leader": True, "admin": True, "city_viewer": True, "other_county_staff": False, "other_clerk": False,
}  # fmt: skip


@pytest.mark.parametrize("member", sorted(VISIBLE))
def test_campaigns_reach_down_and_up_but_not_across(cast: Cast, member: str) -> None:
    user = getattr(cast, member)
    visible = set(Campaign.objects.visible_to(user).values_list("document_number", flat=True))
    assert visible == ({D83, D331} if VISIBLE[member] else set())
    quotas = Quota.objects.visible_to(user)
    assert quotas.exists() is VISIBLE[member]
    assert quotas.count() == (Quota.objects.count() if VISIBLE[member] else 0)


def test_admin_edits_campaign_with_inlines_audited(cast: Cast, world: World) -> None:
    campaign = _campaign(D83)
    client = Client()
    force_login_verified(client, cast.admin)
    page = client.get(f"/admin/inspections/campaign/{campaign.pk}/change/")
    assert page.status_code == 200
    assert "执法检查阶段" in page.content.decode()
    # The other county's admin does not even see it.
    other_admin = type(cast.admin).objects.create(
        username="other_admin", role="admin", region=world.other_county, is_staff=True
    )
    other = Client()
    force_login_verified(other, other_admin)
    assert other.get(f"/admin/inspections/campaign/{campaign.pk}/change/").status_code == 302
    assert "履职专项检查" not in other.get("/admin/inspections/campaign/").content.decode()


def test_admin_creates_a_campaign_without_code(cast: Cast, world: World) -> None:
    client = Client()
    force_login_verified(client, cast.admin)
    data = {
        "name": "集中排查整治", "document_number": "泽应急发〔2025〕1号", "document_title": "",
        "issuing_region": world.county.pk, "issuing_authority": "泽州县应急管理局",
        "start_date": "2025-03-01", "end_date": "2025-05-31", "period_text": "", "summary": "",
        "phases-TOTAL_FORMS": "1", "phases-INITIAL_FORMS": "0",
        "phases-0-order": "1", "phases-0-name": "排查阶段", "phases-0-kind": "self_check",
        "phases-0-start_date": "2025-03-01", "phases-0-end_date": "2025-03-31", "phases-0-description": "",
        "checklist_areas-TOTAL_FORMS": "0", "checklist_areas-INITIAL_FORMS": "0",
        "quotas-TOTAL_FORMS": "0", "quotas-INITIAL_FORMS": "0",
        "deliverables-TOTAL_FORMS": "1", "deliverables-INITIAL_FORMS": "0",
        "deliverables-0-order": "1", "deliverables-0-name": "工作总结", "deliverables-0-submitter": "town",
        "deliverables-0-recipients": "县局", "deliverables-0-kind": "upload", "deliverables-0-schedule": "once",
        "deliverables-0-due_date": "2025-05-25", "deliverables-0-day_of_month": "", "deliverables-0-min_count": "1",
        "deliverables-0-description": "",
    }  # fmt: skip
    response = client.post("/admin/inspections/campaign/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = Campaign.objects.get(document_number="泽应急发〔2025〕1号")
    assert campaign.phases.count() == 1 and campaign.deliverables.get().due_dates() == [dt.date(2025, 5, 25)]
    events = AuditEvent.objects.filter(actor=cast.admin, detail="管理后台")
    assert {e.object_type for e in events} >= {"专项行动", "行动阶段", "报送材料"}
    # Town staff are not admins.
    town = Client()
    town.force_login(cast.town_a_staff)
    assert town.get("/admin/inspections/campaign/").status_code == 302
