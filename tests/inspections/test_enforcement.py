"""执法与追责问责 records: the kinds, the one-column mapping, validation, who records for whom, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from inspections import selectors, services
from inspections.choices import (
    ACCOUNTABILITY_COLUMNS,
    ACCOUNTABILITY_TABLE,
    ENFORCEMENT_COLUMNS,
    ENFORCEMENT_TARGET,
    WINTER_ENFORCEMENT_COLUMNS,
    WINTER_TABLE,
    EnforcementKind,
    column_of,
)
from inspections.models import Campaign, EnforcementRecord, Talk
from portal.models import AuditEvent, ParentCompany
from tests.conftest import Cast, World

K = EnforcementKind
DAY = dt.date(2024, 5, 10)

# The header rows of the seed attachment 追责问责情况统计表 (000_…), tab-separated as in the seed.
SEED_GROUP_ROW = (
    "谈话情况\t\t惩处情况\t\t约谈情况\t\t\t\t责任追究情况\t\t\t通报曝光情况\t\t纳入联合惩戒对象\t\t"
    "纳入安全生产主体责任名单非煤矿山企业"
)
SEED_LABEL_ROW = (
    "非煤矿山企业\t上级企业\t非煤矿山企业行政处罚\t非煤矿山企业主要负责人行政处罚\t非煤矿山企业\t非煤矿山企业主要负责人\t"
    "上级企业\t上级企业主要负责人或分管负责人\t党纪政纪处理\t调整工作岗位\t解聘\t非煤矿山企业\t非煤矿山企业主要负责人\t人次\t处"
)
SEED_UNIT_ROW = "人次\t家\t次\t次\t处\t人次\t家\t人次\t人次\t人次\t人数\t处\t人次\t人次\t处"
# The winter table's header (001_…), the columns that enforcement records feed.
SEED_WINTER_LABELS = [
    "责令限期整改企业数", "行政罚款金额", "停产整顿数", "公开曝光案例数", "查处违法分包转包和挂靠资质行为数",
    "查处劳务派遣用工违法行为数",
]  # fmt: skip
SEED_WINTER_UNITS = ["(家)", "(万)", "(家)", "(个)", "(家)", "(个)"]


def test_every_kind_is_mapped_and_every_column_is_fed() -> None:
    assert set(ENFORCEMENT_COLUMNS) == set(EnforcementKind.values) == set(ENFORCEMENT_TARGET)
    for column in ACCOUNTABILITY_COLUMNS:
        assert any(column_of(kind, ACCOUNTABILITY_TABLE) == column.key for kind in EnforcementKind.values), column
    for column in WINTER_ENFORCEMENT_COLUMNS:
        assert any(column_of(kind, WINTER_TABLE) == column.key for kind in EnforcementKind.values), column
    keys = {c.key for c in ACCOUNTABILITY_COLUMNS} | {c.key for c in WINTER_ENFORCEMENT_COLUMNS}
    for columns in ENFORCEMENT_COLUMNS.values():
        assert columns.accountability in keys | {None} and columns.winter in keys | {None}


def test_specific_kinds_count_where_the_tables_say() -> None:
    assert column_of(K.PENALTY_PRINCIPAL, ACCOUNTABILITY_TABLE) == "penalty_principal"
    assert column_of(K.PENALTY_PRINCIPAL, WINTER_TABLE) == "fine_amount"
    assert column_of(K.INTERVIEW_PARENT_LEADER, ACCOUNTABILITY_TABLE) == "interview_parent_leader"
    assert column_of(K.SUSPENSION, ACCOUNTABILITY_TABLE) is None
    assert column_of(K.SUSPENSION, WINTER_TABLE) == "suspension"
    assert column_of(K.CRIMINAL_REFERRAL, ACCOUNTABILITY_TABLE) is None
    assert column_of(K.CRIMINAL_REFERRAL, WINTER_TABLE) is None


def test_column_headers_are_the_seed_word_for_word() -> None:
    groups = []
    for column in ACCOUNTABILITY_COLUMNS:
        if not groups or groups[-1] != column.group:
            groups.append(column.group)
    assert [g for g in SEED_GROUP_ROW.split("\t") if g] == groups
    labels = [c.label for c in ACCOUNTABILITY_COLUMNS if c.label]
    # The seed (a Word table flattened to text) prints the two 纳入联合惩戒对象 labels on the row above and
    # their units at the end of the label row; the last cell of the unit row is the 名单 column's unit.
    label_row = SEED_LABEL_ROW.split("\t")
    assert labels[:13] == label_row[:13]
    assert labels[13:] == ["非煤矿山企业主要负责人", "非煤矿山企业"]
    units = [c.unit for c in ACCOUNTABILITY_COLUMNS]
    assert units[:13] == SEED_UNIT_ROW.split("\t")[:13]
    assert units[13:15] == label_row[13:15] == ["人次", "处"]
    assert units[15] == SEED_UNIT_ROW.split("\t")[-1] == "处"
    assert [c.amount_unit for c in ACCOUNTABILITY_COLUMNS if c.amount_unit] == ["万元", "万元"]
    assert [c.label for c in WINTER_ENFORCEMENT_COLUMNS] == SEED_WINTER_LABELS
    assert [c.unit for c in WINTER_ENFORCEMENT_COLUMNS] == SEED_WINTER_UNITS


def _payload(kind: str, world: World, parent: ParentCompany) -> dict:
    payload: dict = {"kind": kind, "date": DAY, "enterprise": world.enterprise_a}
    target = ENFORCEMENT_TARGET[kind]
    if target in ("parent", "parent_leader"):
        payload = {"kind": kind, "date": DAY, "parent_company": parent}
    if target in ("principal", "enterprise_person", "parent_leader"):
        payload["person_name"] = "赵分管" if target == "parent_leader" else "王建国"
    if kind in (K.PENALTY_ENTERPRISE, K.PENALTY_PRINCIPAL):
        payload["amount"] = Decimal("3.5")
    return payload


@pytest.mark.parametrize("kind", EnforcementKind.values)
def test_town_records_every_kind_for_its_enterprise(cast: Cast, world: World, parent_company, kind: str) -> None:
    record = services.enforcement_record_create(actor=cast.town_a_staff, **_payload(kind, world, parent_company))
    assert record.issuing_unit == world.town_a
    assert record.created_by == cast.town_a_staff
    event = AuditEvent.objects.get(action="create", object_id=str(record.pk), object_type="执法与追责问责记录")
    assert event.after["kind"] == kind and event.region_path.startswith(world.town_a.path[:-1].rsplit("/", 1)[0])


def test_principal_is_filled_from_the_directory(cast: Cast, world: World) -> None:
    record = services.enforcement_record_create(
        actor=cast.town_a_staff, kind=K.INTERVIEW_PRINCIPAL, date=DAY, enterprise=world.enterprise_a
    )
    assert record.person is not None and record.person_name == "王建国" and record.person_title == "主要负责人"


def test_parent_company_follows_from_the_mine(cast: Cast, world: World, parent_company: ParentCompany) -> None:
    record = services.enforcement_record_create(
        actor=cast.town_a_staff, kind=K.INTERVIEW_PARENT, date=DAY, enterprise=world.enterprise_a
    )
    assert record.parent_company == parent_company


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": K.PENALTY_ENTERPRISE}, "amount"),  # a fine without its amount
        ({"kind": K.ORDER_RECTIFICATION, "amount": Decimal("1")}, "amount"),  # an amount on a non-fine
        ({"kind": K.ACCOUNTABILITY_DISMISSAL}, "person_name"),  # 解聘 whom?
        ({"kind": K.INTERVIEW_PARENT_LEADER}, "parent_company"),  # no parent company (enterprise_a has none here)
        ({"kind": K.PENALTY_ENTERPRISE, "amount": Decimal("-1")}, "amount"),
        ({"kind": K.SUSPENSION, "date": dt.date(2999, 1, 1)}, "date"),
    ],
)
def test_invalid_records_are_refused_in_chinese(cast: Cast, world: World, payload: dict, field: str) -> None:
    data = {"date": DAY, "enterprise": world.enterprise_a, **payload}
    before = EnforcementRecord.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        services.enforcement_record_create(actor=cast.town_a_staff, **data)
    assert field in excinfo.value.message_dict
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in excinfo.value.messages)
    assert EnforcementRecord.objects.count() == before


def test_no_target_at_all_is_refused(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        services.enforcement_record_create(actor=cast.town_a_staff, kind=K.SUSPENSION, date=DAY)


# Who may record for which enterprise.
RECORD_MATRIX = {
    ("town_a_staff", "enterprise_a"): True,
    ("town_a_staff", "enterprise_b"): False,  # another town's enterprise
    ("town_b_staff", "enterprise_b"): True,
    ("town_b_staff", "enterprise_a"): False,
    ("county_staff", "enterprise_a"): True,
    ("county_staff", "enterprise_b"): True,
    ("county_staff", "enterprise_other"): False,  # another county
    ("other_county_staff", "enterprise_other"): True,
    ("other_county_staff", "enterprise_a"): False,
    ("clerk", "enterprise_a"): False,
    ("principal", "enterprise_a"): False,
    ("county_leader", "enterprise_a"): False,
    ("admin", "enterprise_a"): False,
    ("city_viewer", "enterprise_a"): False,
}


@pytest.mark.parametrize(("member", "enterprise"), sorted(RECORD_MATRIX))
def test_who_records_for_whom(cast: Cast, world: World, member: str, enterprise: str) -> None:
    actor = getattr(cast, member)
    target = getattr(world, enterprise)
    if RECORD_MATRIX[(member, enterprise)]:
        record = services.enforcement_record_create(actor=actor, kind=K.SUSPENSION, date=DAY, enterprise=target)
        assert record.issuing_unit == actor.region
    else:
        with pytest.raises(PermissionDenied):
            services.enforcement_record_create(actor=actor, kind=K.SUSPENSION, date=DAY, enterprise=target)
        assert not EnforcementRecord.objects.filter(enterprise=target).exists()


def test_town_may_not_interview_a_parent_company_without_a_mine_in_town(
    cast: Cast, world: World, parent_company: ParentCompany
) -> None:
    with pytest.raises(PermissionDenied):
        services.enforcement_record_create(
            actor=cast.town_b_staff, kind=K.INTERVIEW_PARENT, date=DAY, parent_company=parent_company
        )
    record = services.enforcement_record_create(
        actor=cast.town_a_staff, kind=K.INTERVIEW_PARENT, date=DAY, parent_company=parent_company
    )
    assert record.enterprise is None


def test_only_the_issuing_unit_changes_or_deletes(cast: Cast, world: World) -> None:
    record = services.enforcement_record_create(
        actor=cast.town_a_staff, kind=K.PENALTY_ENTERPRISE, date=DAY, enterprise=world.enterprise_a, amount=Decimal(2)
    )
    for outsider in (cast.county_staff, cast.town_b_staff, cast.clerk):
        with pytest.raises(PermissionDenied):
            services.enforcement_record_update(actor=outsider, record=record, data={"amount": Decimal(5)})
        with pytest.raises(PermissionDenied):
            services.enforcement_record_delete(actor=outsider, record=record)
    updated = services.enforcement_record_update(
        actor=cast.town_a_staff,
        record=record,
        data={"amount": Decimal("5.255"), "document_number": "泽巴应急罚〔2024〕3号"},
    )
    assert updated.amount == Decimal("5.26")
    event = AuditEvent.objects.get(action="update", object_id=str(record.pk), object_type="执法与追责问责记录")
    assert event.before["amount"] == "2.00" and event.after["amount"] == "5.26"
    pk = record.pk
    services.enforcement_record_delete(actor=cast.town_a_staff, record=record, reason="重复登记")
    assert not EnforcementRecord.objects.filter(pk=pk).exists()
    assert (
        AuditEvent.objects.get(action="delete", object_id=str(pk), object_type="执法与追责问责记录").detail
        == "重复登记"
    )


def test_attachments_are_checked_by_content(cast: Cast, world: World) -> None:
    good = SimpleUploadedFile("处罚决定书.pdf", b"%PDF-1.7 test", content_type="application/pdf")
    record = services.enforcement_record_create(
        actor=cast.town_a_staff, kind=K.SUSPENSION, date=DAY, enterprise=world.enterprise_a, attachments=[good]
    )
    assert record.attachments.get().original_name == "处罚决定书.pdf"
    fake = SimpleUploadedFile("决定书.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError, match="不是PDF格式"):
        services.enforcement_attachment_add(actor=cast.town_a_staff, record=record, upload=fake)
    exe = SimpleUploadedFile("run.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    with pytest.raises(ValidationError, match="不支持"):
        services.enforcement_attachment_add(actor=cast.town_a_staff, record=record, upload=exe)
    with pytest.raises(PermissionDenied):
        services.enforcement_attachment_add(actor=cast.county_staff, record=record, upload=good)
    assert record.attachments.count() == 1


def test_campaign_must_be_visible(cast: Cast, world: World) -> None:
    foreign = Campaign.objects.create(
        name="外县行动",
        issuing_region=world.other_county,
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
    )
    with pytest.raises(ValidationError):
        services.enforcement_record_create(
            actor=cast.town_a_staff, kind=K.SUSPENSION, date=DAY, enterprise=world.enterprise_a, campaign=foreign
        )


def test_visibility_of_records(cast: Cast, world: World, parent_company: ParentCompany) -> None:
    in_a = services.enforcement_record_create(
        actor=cast.town_a_staff, kind=K.SUSPENSION, date=DAY, enterprise=world.enterprise_a
    )
    parent_only = services.enforcement_record_create(
        actor=cast.county_staff, kind=K.INTERVIEW_PARENT, date=DAY, parent_company=parent_company
    )
    in_b = services.enforcement_record_create(
        actor=cast.town_b_staff, kind=K.SUSPENSION, date=DAY, enterprise=world.enterprise_b
    )
    seen = {
        name: set(EnforcementRecord.objects.visible_to(getattr(cast, name)).values_list("pk", flat=True))
        for name in vars(cast)
    }
    assert seen["town_a_staff"] == {in_a.pk}
    assert seen["town_b_staff"] == {in_b.pk}
    assert seen["county_staff"] == seen["city_viewer"] == {in_a.pk, parent_only.pk, in_b.pk}
    assert seen["clerk"] == {in_a.pk}
    assert seen["other_county_staff"] == seen["other_clerk"] == set()


def test_talks_are_the_talk_kinds(cast: Cast, world: World) -> None:
    talk = services.enforcement_record_create(
        actor=cast.town_a_staff, kind=K.TALK_ENTERPRISE, date=DAY, enterprise=world.enterprise_a, person_name="王建国"
    )
    services.enforcement_record_create(
        actor=cast.town_a_staff, kind=K.SUSPENSION, date=DAY, enterprise=world.enterprise_a
    )
    assert list(Talk.objects.visible_to(cast.town_a_staff).values_list("pk", flat=True)) == [talk.pk]
    assert not Talk.objects.visible_to(cast.town_b_staff).exists()


def test_column_figures(cast: Cast, world: World, parent_company: ParentCompany) -> None:
    a, a2 = world.enterprise_a, world.enterprise_a2
    create = services.enforcement_record_create
    create(actor=cast.town_a_staff, kind=K.PENALTY_ENTERPRISE, date=DAY, enterprise=a, amount=Decimal("2.5"))
    create(actor=cast.town_a_staff, kind=K.PENALTY_ENTERPRISE, date=DAY, enterprise=a2, amount=Decimal("1.25"))
    create(actor=cast.town_a_staff, kind=K.PENALTY_PRINCIPAL, date=DAY, enterprise=a, amount=Decimal("0.8"))
    create(actor=cast.town_a_staff, kind=K.INTERVIEW_PARENT, date=DAY, parent_company=parent_company)
    create(actor=cast.town_a_staff, kind=K.INTERVIEW_PARENT, date=DAY, enterprise=a)  # the same parent again
    create(actor=cast.town_a_staff, kind=K.ORDER_RECTIFICATION, date=DAY, enterprise=a)
    create(actor=cast.town_a_staff, kind=K.ORDER_RECTIFICATION, date=DAY, enterprise=a)  # same enterprise: one 家
    create(actor=cast.town_a_staff, kind=K.ORDER_RECTIFICATION, date=DAY, enterprise=a2)
    create(actor=cast.town_a_staff, kind=K.CRIMINAL_REFERRAL, date=DAY, enterprise=a, person_name="某某")
    records = EnforcementRecord.objects.visible_to(cast.county_staff)
    accountability = {f.column.key: f for f in selectors.enforcement_column_figures(records, ACCOUNTABILITY_TABLE)}
    assert accountability["penalty_enterprise"].value == 2
    assert accountability["penalty_enterprise"].amount == Decimal("3.75")
    assert accountability["penalty_principal"].value == 1 and accountability["penalty_principal"].amount == Decimal(
        "0.80"
    )
    assert accountability["interview_parent"].value == 1  # 家: distinct parent companies
    assert accountability["talk_enterprise"].value == 0
    winter = {f.column.key: f for f in selectors.enforcement_column_figures(records, WINTER_TABLE)}
    assert winter["fine_amount"].value == Decimal("4.55")
    assert winter["ordered_rectification"].value == 2
    assert winter["suspension"].value == 0
    # Nothing outside the scope counts.
    town_b = EnforcementRecord.objects.visible_to(cast.town_b_staff)
    assert all(f.value == 0 for f in selectors.enforcement_column_figures(town_b, ACCOUNTABILITY_TABLE))
