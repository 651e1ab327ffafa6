"""Every cell of both tables, at town and county level, against a scenario of known records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reporting import selectors
from reporting.choices import ReportKind
from reporting.figures import (
    ReportError,
    cell_queryset,
    compute_table,
    parse_month,
    record_ids,
)
from reporting.tables import AccountabilityRow, WinterRow
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

MAY = dt.date(2024, 5, 1)
DEC = dt.date(2023, 12, 1)


def _scope(kind, region, month):
    return selectors.scope_for(kind=kind, region=region, month=month)


def _acc(region):
    return compute_table(ReportKind.ACCOUNTABILITY, _scope(ReportKind.ACCOUNTABILITY, region, MAY))


def _win(region):
    return compute_table(ReportKind.WINTER, _scope(ReportKind.WINTER, region, DEC))


def test_campaign_and_period_come_from_the_data(scenario) -> None:
    scope = _scope(ReportKind.ACCOUNTABILITY, scenario.world.town_a, MAY)
    assert scope.campaign == scenario.accountability
    assert (scope.period.start, scope.period.end) == (dt.date(2024, 5, 1), dt.date(2024, 5, 31))
    assert scope.period.cumulative_start == scenario.accountability.start_date
    winter = _scope(ReportKind.WINTER, scenario.world.county, dt.date(2024, 2, 1))
    assert winter.campaign == scenario.winter
    assert winter.period.end == dt.date(2024, 2, 10)  # clipped to the campaign
    with pytest.raises(ReportError, match="没有需要报送"):
        _scope(ReportKind.WINTER, scenario.world.town_a, MAY)
    with pytest.raises(ReportError, match="没有需要报送"):  # the other county has no such campaign
        _scope(ReportKind.ACCOUNTABILITY, scenario.world.other_town, MAY)
    with pytest.raises(ReportError, match="YYYY-MM"):
        parse_month("2024/13")


def test_accountability_every_cell_town_a(scenario) -> None:
    table = _acc(scenario.world.town_a)
    assert table.row == AccountabilityRow(
        talk_enterprise=2,
        talk_parent=1,
        penalty_enterprise_count=2,
        penalty_enterprise_amount=Decimal("3.75"),
        penalty_principal_count=1,
        penalty_principal_amount=Decimal("0.50"),
        interview_enterprise=1,
    )
    assert table.heading.unit_name == "巴公镇应急管理中心"
    assert table.heading.title == "追责问责情况统计表"


def test_accountability_every_cell_town_b(scenario) -> None:
    assert _acc(scenario.world.town_b).row == AccountabilityRow(
        talk_enterprise=1, penalty_enterprise_count=1, penalty_enterprise_amount=Decimal("1.00"), dismissal=1
    )


def test_accountability_every_cell_county_is_towns_plus_own_records(scenario) -> None:
    table = _acc(scenario.world.county)
    assert table.row == AccountabilityRow(
        talk_enterprise=3,
        talk_parent=2,
        penalty_enterprise_count=3,
        penalty_enterprise_amount=Decimal("4.75"),
        penalty_principal_count=1,
        penalty_principal_amount=Decimal("0.50"),
        interview_enterprise=1,
        interview_parent_leader=1,
        dismissal=1,
        exposure_enterprise=1,
        responsibility_list=1,
    )
    assert table.heading.unit_name == "泽州县应急管理局"


def test_winter_every_cell_town_a(scenario) -> None:
    table = _win(scenario.world.town_a)
    assert table.heading.title == "泽州县非煤矿山行业安全生产“百日攻坚”冬季行动工作报表"
    assert table.month == WinterRow(
        teams=1,
        enterprises_inspected=2,
        general_found=3,
        general_rectified=1,
        major_found=1,
        major_rectified=0,
        ordered_rectification=1,
        fine_amount=Decimal("2.00"),
        suspension=1,
        public_exposure_case=1,
        illegal_subcontracting=0,
        labour_dispatch=0,
    )
    assert table.cumulative == WinterRow(
        teams=2,
        enterprises_inspected=2,
        general_found=4,
        general_rectified=2,
        major_found=2,
        major_rectified=1,
        ordered_rectification=1,
        fine_amount=Decimal("2.50"),
        suspension=1,
        public_exposure_case=1,
        illegal_subcontracting=1,
        labour_dispatch=0,
    )
    assert [line.hazard_id for line in table.major_hazards] == [scenario.hazards["m2"].pk, scenario.hazards["m1"].pk]


def test_winter_every_cell_town_b(scenario) -> None:
    table = _win(scenario.world.town_b)
    expected = WinterRow(general_found=1, major_found=1, major_rectified=1, ordered_rectification=1, labour_dispatch=1)
    assert table.month == expected
    assert table.cumulative == expected


def test_winter_every_cell_county(scenario) -> None:
    table = _win(scenario.world.county)
    assert table.month == WinterRow(
        teams=2,
        enterprises_inspected=3,
        general_found=4,
        general_rectified=1,
        major_found=2,
        major_rectified=1,
        ordered_rectification=2,
        fine_amount=Decimal("2.00"),
        suspension=1,
        public_exposure_case=1,
        illegal_subcontracting=0,
        labour_dispatch=1,
    )
    assert table.cumulative == WinterRow(
        teams=3,
        enterprises_inspected=3,
        general_found=5,
        general_rectified=2,
        major_found=3,
        major_rectified=2,
        ordered_rectification=2,
        fine_amount=Decimal("2.50"),
        suspension=1,
        public_exposure_case=1,
        illegal_subcontracting=1,
        labour_dispatch=1,
    )
    h = scenario.hazards
    lines = table.major_hazards
    assert [line.hazard_id for line in lines] == [h["m3"].pk, h["m2"].pk, h["m1"].pk]
    assert [line.number for line in lines] == [1, 2, 3]
    m1 = lines[2]
    assert (m1.enterprise, m1.town, m1.industry, m1.supervision_unit) == (
        "泽州县示范矿业有限公司",
        "巴公镇",
        "金属非金属露天矿山",
        "泽州县应急管理局",
    )
    assert "采场最终边坡台阶高度超过设计要求（部位：北采场）" in m1.detail
    assert "整改措施：按设计削坡减载" in m1.detail and "整改时限：2024年1月15日" in m1.detail
    assert "整改资金：5.00万元" in m1.detail and "现状：已确认" in m1.detail


def test_three_lists_town_a(scenario) -> None:
    PersonFactory(enterprise=scenario.world.enterprise_a, name="王建国", role="principal")
    table = compute_table(ReportKind.THREE_LISTS, _scope(ReportKind.THREE_LISTS, scenario.world.town_a, DEC))
    h = scenario.hazards
    # this month's problems, plus earlier ones not rectified by the month's end (g1, m2 were)
    assert {line.hazard_id for line in table.problems} == {h["g2"].pk, h["g3"].pk, h["g4"].pk, h["m1"].pk}
    assert [line.number for line in table.problems] == [1, 2, 3, 4]
    g3 = next(line for line in table.rectifications if line.hazard_id == h["g3"].pk)
    assert (g3.measures, g3.funds_wan, g3.deadline, g3.status) == (
        "设置限速和会车标志",
        Decimal("0.80"),
        dt.date(2024, 1, 10),
        "整改中",
    )
    m1 = next(line for line in table.responsibilities if line.hazard_id == h["m1"].pk)
    assert (m1.responsible_person, m1.principal, m1.supervising_unit) == ("王建国", "王建国", "泽州县应急管理局")
    g3r = next(line for line in table.responsibilities if line.hazard_id == h["g3"].pk)
    assert g3r.supervising_unit == "巴公镇应急管理中心"
    assert table.heading.title == "巴公镇“百日攻坚”冬季行动问题、整改、责任“三清单”"


def test_drill_down_gives_exactly_the_records_behind_a_cell(scenario) -> None:
    h, r = scenario.hazards, scenario.records
    scope = _scope(ReportKind.WINTER, scenario.world.town_a, DEC)
    assert set(cell_queryset(ReportKind.WINTER, scope, "month.general_found").values_list("pk", flat=True)) == {
        h["g2"].pk,
        h["g3"].pk,
        h["g4"].pk,
    }
    assert set(cell_queryset(ReportKind.WINTER, scope, "cumulative.major_rectified").values_list("pk", flat=True)) == {
        h["m2"].pk
    }
    acc = _scope(ReportKind.ACCOUNTABILITY, scenario.world.county, MAY)
    pens = set(cell_queryset(ReportKind.ACCOUNTABILITY, acc, "penalty_enterprise_amount").values_list("pk", flat=True))
    assert pens == {r["pen_a1"].pk, r["pen_a2"].pk, r["pen_b"].pk}
    ids = record_ids(ReportKind.ACCOUNTABILITY, acc)
    assert ids["talk_parent"] == sorted([r["talk_parent_a1"].pk, r["talk_parent_a2"].pk, r["talk_parent_c"].pk])
    assert ids["discipline"] == []
    with pytest.raises(ReportError):
        cell_queryset(ReportKind.WINTER, scope, "month.no_such_cell")


def test_query_count_is_small_and_constant(scenario, django_assert_max_num_queries) -> None:
    county = scenario.world.county
    acc = _scope(ReportKind.ACCOUNTABILITY, county, MAY)
    win = _scope(ReportKind.WINTER, county, DEC)
    with django_assert_max_num_queries(1):  # one query: the enforcement records
        compute_table(ReportKind.ACCOUNTABILITY, acc)
    with django_assert_max_num_queries(5):  # teams, inspections, hazards, enforcement, 重大隐患明细
        compute_table(ReportKind.WINTER, win)
    lists = _scope(ReportKind.THREE_LISTS, scenario.world.town_a, DEC)
    with django_assert_max_num_queries(3):  # hazards, principals, the county's name
        compute_table(ReportKind.THREE_LISTS, lists)


def test_enforcement_cells_agree_with_the_inspections_column_figures(scenario) -> None:
    """The column mapping lives in inspections.choices; its own one-query figures must give the same numbers."""
    from inspections.choices import ACCOUNTABILITY_TABLE
    from inspections.selectors import enforcement_column_figures
    from reporting.figures import Source, base_queryset

    scope = _scope(ReportKind.ACCOUNTABILITY, scenario.world.county, MAY)
    row = compute_table(ReportKind.ACCOUNTABILITY, scope).row
    for figure in enforcement_column_figures(base_queryset(Source.ENFORCEMENT, scope), ACCOUNTABILITY_TABLE):
        key = figure.column.key
        if figure.amount is not None:
            assert getattr(row, f"{key}_count") == figure.value, key
            assert getattr(row, f"{key}_amount") == figure.amount, key
        else:
            assert getattr(row, key) == figure.value, key


def test_layout_texts_match_the_inspections_columns() -> None:
    from inspections.choices import ACCOUNTABILITY_COLUMNS, WINTER_ENFORCEMENT_COLUMNS
    from reporting.layouts import ACCOUNTABILITY, WINTER

    for layout, columns in ((ACCOUNTABILITY, ACCOUNTABILITY_COLUMNS), (WINTER, WINTER_ENFORCEMENT_COLUMNS)):
        by_key = {column.key: column for column in columns}
        for group in layout.groups:
            for column in group.columns:
                for leaf in column.leaves:
                    source = by_key.get(leaf.source_column)
                    if source is None:
                        continue  # fed by teams, inspections or hazards
                    assert (column.label or group.label) == (source.label or source.group), leaf.key
                    assert leaf.unit == (source.amount_unit if leaf.is_amount and source.amount_unit else source.unit)


@pytest.mark.parametrize(("kind", "month"), [(ReportKind.ACCOUNTABILITY, MAY), (ReportKind.WINTER, DEC)])
def test_rollup_gives_the_same_numbers_as_each_table(scenario, kind, month, django_assert_max_num_queries) -> None:
    from reporting.figures import compute_rollup

    w = scenario.world
    for regions in ([w.town_a, w.town_b], [w.county]):
        scopes = selectors.scopes_for(kind=kind, regions=regions, month=month)
        with django_assert_max_num_queries(4):  # one per source table, whatever the number of regions
            tables = compute_rollup(kind, list(scopes.values()))
        for region in regions:
            alone = compute_table(kind, _scope(kind, region, month))
            assert tables[region.pk].cells() == alone.cells(), region.name
    missing = selectors.scopes_for(kind=kind, regions=[w.other_county], month=month)[w.other_county.pk]
    assert isinstance(missing, str) and "没有需要报送" in missing


@pytest.mark.parametrize(("kind", "month"), [(ReportKind.ACCOUNTABILITY, MAY), (ReportKind.WINTER, DEC)])
def test_compiled_queries_give_the_orm_numbers(scenario, kind, month) -> None:
    from reporting.figures import compute_cells, compute_cells_compiled, specs_for

    w = scenario.world
    for region in (w.town_a, w.town_b, w.county, w.city):
        scope = selectors.scopes_for(kind=kind, regions=[region], month=month)[region.pk]
        if isinstance(scope, str):
            continue
        assert compute_cells_compiled(kind, scope) == compute_cells(specs_for(kind, scope.period), scope), region


@pytest.mark.parametrize(
    ("kind", "month"),
    [(ReportKind.ACCOUNTABILITY, MAY), (ReportKind.WINTER, DEC), (ReportKind.THREE_LISTS, DEC)],
)
def test_the_head_of_a_table_is_the_table_with_its_lists_cut(scenario, kind, month) -> None:
    """What the page shows without a version to compare with: the same heading and cells, the lists' first
    lines exactly as the whole table numbers them, and the whole list's length."""
    from reporting.figures import compute_table_head, list_length

    w = scenario.world
    for region in (w.town_a, w.county):
        whole = compute_table(kind, _scope(kind, region, month))
        length = list_length(whole)
        assert length >= (2 if kind != ReportKind.ACCOUNTABILITY else 0), region.name
        for rows in (1, length, length + 5):
            head, total = compute_table_head(kind, _scope(kind, region, month), rows)
            assert total == length, (region.name, rows)
            assert head.heading == whole.heading
            if kind == ReportKind.THREE_LISTS:
                for name in ("problems", "rectifications", "responsibilities"):
                    assert getattr(head, name) == getattr(whole, name)[:rows], (region.name, name, rows)
            else:
                assert head.cells() == whole.cells(), region.name
            if kind == ReportKind.WINTER:
                assert head.major_hazards == whole.major_hazards[:rows], (region.name, rows)
