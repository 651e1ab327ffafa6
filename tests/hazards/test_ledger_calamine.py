"""portal.spreadsheet_calamine: calamine reads a ledger as openpyxl does, after the hostile-file checks, and
hands back to openpyxl what it would read otherwise (formulas, error cells, a rectangle too large)."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from openpyxl import Workbook

from hazards.ledger_reader import fast_workbook
from portal import spreadsheet_calamine
from portal.spreadsheet_calamine import open_calamine
from portal.spreadsheets import SpreadsheetError, open_workbook
from tests.hazards.ledger_xlsx import HEADER, build, major_row, row, with_entities, zip_bomb


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def plain_values() -> bytes:
    """Every kind of value but formulas and error cells, with gaps, a far cell and a hidden sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["标题"])
    sheet.merge_cells("A1:F1")
    sheet.append(["文字", 12, 3.25, datetime.date(2024, 5, 1), datetime.datetime(2024, 5, 1, 8, 30), True])
    sheet.append(["＋320平台", 13800001234, 1e20, "２０２４年５月１日", False, -7])
    sheet["H5"] = "远处的单元格"
    sheet.cell(row=9, column=2, value="空行之后")
    sheet["D10"] = datetime.time(8, 30)
    sheet["A11"] = "  两端空格  "
    hidden = workbook.create_sheet("隐藏")
    hidden.sheet_state = "hidden"
    hidden["B2"] = "藏"
    return _save(workbook)


def messy_ledger() -> bytes:
    header = ["序号", "存在问题", "部位", "排查日期", "等级", "类别", "判定依据"]
    return build(
        [
            [1, "边坡 浮石　未清理", "＋320平台", "2024年5月1日", "一般隐患", "边坡", ""],
            [2, "炸药库门锁损坏", "炸药库", datetime.date(2024, 5, 2), "一般", "爆破", ""],
            [3, "台阶坡面角超设计", "台阶", datetime.datetime(2024, 5, 8, 9, 30), "重大事故隐患", "边坡", "二（六）"],
        ],
        header=header,
        above=[["某矿业有限公司隐患排查治理台账"], ["填报单位（盖章）：", None, None, "填报日期：2024年6月"], []],
        below=[[], ["填表人：王五", None, "审核人："]],
        merges=("A1:G1", "A2:C2", "D2:G2"),
    )


FIXTURES = {
    "plain values": plain_values,
    "messy ledger": messy_ledger,
    "template ledger": lambda: build([row(), major_row(), row("YH-002", funds=0, note="已整改")]),
}
WINDOWS: list[dict[str, Any]] = [
    {},
    {"min_row": 2},
    {"min_row": 1, "max_row": 4},
    {"min_row": 3, "max_col": 4},
    {"max_row": 20, "max_col": 9},
]


def _openpyxl_rows(data: bytes, index: int, **window: Any) -> list[tuple[Any, ...]]:
    workbook = open_workbook(data)
    try:
        return [tuple(r) for r in fast_workbook(workbook).worksheets[index].iter_rows(values_only=True, **window)]
    finally:
        workbook.close()


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_calamine_reads_what_openpyxl_reads(fixture: str, window: dict[str, Any]) -> None:
    data = FIXTURES[fixture]()
    workbook = open_calamine(data)
    assert workbook is not None, "calamine should serve this file"
    try:
        for index, sheet in enumerate(workbook.worksheets):
            assert list(sheet.iter_rows(**window)) == _openpyxl_rows(data, index, **window)
    finally:
        workbook.close()


def test_sheet_names_and_states_as_openpyxl() -> None:
    data = plain_values()
    workbook = open_calamine(data)
    assert workbook is not None
    reference = open_workbook(data)
    try:
        assert workbook.sheetnames == reference.sheetnames == ["Sheet", "隐藏"]
        assert [s.sheet_state for s in workbook.worksheets] == [s.sheet_state for s in reference.worksheets]
        assert workbook["隐藏"].title == "隐藏"
    finally:
        workbook.close()
        reference.close()


def test_formulas_and_error_cells_stay_with_openpyxl() -> None:
    """A formula is read as its text, never its cached result; an error cell as its code: calamine gives
    neither, so such a file is not calamine's."""
    formula = build([row(description='=HYPERLINK("http://x","点此")')])
    assert open_calamine(formula) is None
    assert _openpyxl_rows(formula, 0, min_row=2)[0][1] == '=HYPERLINK("http://x","点此")'
    workbook = Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(row(found_on="#N/A"))  # openpyxl writes an error code as an error cell
    assert open_calamine(_save(workbook)) is None


def test_a_sheet_beyond_the_dense_budget_stays_with_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    workbook = Workbook()
    workbook.active["A1"] = "左上"
    workbook.active["AB40"] = "右下"  # 40 rows × 28 columns
    data = _save(workbook)
    monkeypatch.setattr(spreadsheet_calamine, "MAX_DENSE_CELLS", 40 * 28)
    assert open_calamine(data) is not None
    monkeypatch.setattr(spreadsheet_calamine, "MAX_DENSE_CELLS", 40 * 28 - 1)
    assert open_calamine(data) is None


@pytest.mark.parametrize(
    ("hostile", "message"),
    [(with_entities, "不允许的 XML 实体"), (lambda: zip_bomb(300 * 1024 * 1024), "压缩")],
)
def test_hostile_files_are_refused_before_calamine_parses(
    monkeypatch: pytest.MonkeyPatch, hostile: Any, message: str
) -> None:
    def never(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("calamine must not see a hostile file")

    monkeypatch.setattr(spreadsheet_calamine.CalamineWorkbook, "from_filelike", never)
    with pytest.raises(SpreadsheetError, match=message):
        open_calamine(hostile())


def test_a_broken_sheet_is_a_spreadsheet_error() -> None:
    from tests.hazards.ledger_xlsx import rewrite_member

    data = rewrite_member(build([row()]), "xl/worksheets/sheet1.xml", b'<worksheet><sheetData><row r="1"><c r="A1"')
    with pytest.raises(SpreadsheetError, match="已损坏"):
        workbook = open_calamine(data)
        assert workbook is not None
        list(workbook.worksheets[0].iter_rows())


@pytest.mark.django_db
@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(messy_ledger, id="messy"),
        pytest.param(lambda: build([row(), major_row(), row("YH-002", found_on="2099-01-01")]), id="with-errors"),
    ],
)
def test_the_ledger_previews_alike_through_calamine_and_openpyxl(
    world: Any, cast: Any, monkeypatch: pytest.MonkeyPatch, data: Any
) -> None:
    from hazards import ledger

    content = data()

    def preview() -> Any:
        result = ledger.ledger_validate(source=content, enterprise=world.enterprise_a, actor=cast.clerk)
        return (
            result.sheet_title,
            result.header_row,
            result.columns,
            [(r.row, r.action, r.key, r.values) for r in result.rows],
            result.error_lines(),
        )

    through_calamine = preview()
    monkeypatch.setattr(ledger, "open_calamine", lambda _data: None)  # as for a file calamine does not serve
    assert preview() == through_calamine
    assert through_calamine[3], "rows were read"


def test_a_sheet_read_to_the_end_twice_gives_the_same_rows() -> None:
    """A pass to the end lets the rows go as it gives them; a later pass reads the sheet again."""
    workbook = open_calamine(messy_ledger())
    assert workbook is not None
    try:
        sheet = workbook.worksheets[0]
        head = list(sheet.iter_rows(max_row=5))
        first = list(sheet.iter_rows(min_row=5))
        partial = sheet.iter_rows(min_row=1)
        next(partial)
        partial.close()  # a pass abandoned half-way
        assert list(sheet.iter_rows(min_row=5)) == first and list(sheet.iter_rows(max_row=5)) == head
        assert first[0][:2] == (1, "边坡 浮石　未清理") and head[3][1] == "存在问题"
    finally:
        workbook.close()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'<c r="B2"', b"<c"),  # a cell without its reference
        (b'<row r="2"', b"<row"),  # a row without its number
    ],
    ids=["cell", "row"],
)
def test_cells_and_rows_without_references_stay_with_openpyxl(old: bytes, new: bytes) -> None:
    import zipfile

    from tests.hazards.ledger_xlsx import rewrite_member

    data = build([row()])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert old in sheet
    assert open_calamine(data) is not None
    assert open_calamine(rewrite_member(data, "xl/worksheets/sheet1.xml", sheet.replace(old, new, 1))) is None
