"""Excel files of the monthly tables (openpyxl): figures in, bytes out; no database.

The layout is the seed's: title, 填表单位/填报单位 and 填表日期, the three header rows (groups merged
over their columns, column labels, units), the data rows, and the signature and note lines under
the grid. Numbers are numbers (万元 with two decimals); every text goes through the formula
neutraliser. Printing: A4 landscape, fitted to the page width, header rows repeated on each page,
page numbers in the footer.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from portal.spreadsheets import neutralise_formula
from reporting.layouts import (
    ACCOUNTABILITY_NOTE,
    ACCOUNTABILITY_SIGNATURES,
    HEADER_ROWS,
    MAJOR_HAZARD_COLUMNS,
    MAJOR_HAZARDS_TITLE,
    PROBLEM_COLUMNS,
    PROBLEM_LIST_TITLE,
    RECTIFICATION_COLUMNS,
    RECTIFICATION_LIST_TITLE,
    RESPONSIBILITY_COLUMNS,
    RESPONSIBILITY_LIST_TITLE,
    WINTER_CUMULATIVE,
    WINTER_INDUSTRY,
    Layout,
    header_cells,
)
from reporting.tables import (
    AccountabilityTable,
    AnyTable,
    Heading,
    ThreeListsTable,
    WinterTable,
    chinese_date,
    row_keys,
)

FONT_NAME = "宋体"
AMOUNT_FORMAT = "0.00"
COUNT_FORMAT = "0"
DATE_FORMAT = 'yyyy"年"m"月"d"日"'  # documents write 2024年5月1日

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_LEFT_TOP = Alignment(horizontal="left", vertical="top", wrap_text=True)
_RIGHT = Alignment(horizontal="right", vertical="center")
_TITLE_FONT = Font(name=FONT_NAME, size=16, bold=True)
_HEADER_FONT = Font(name=FONT_NAME, size=10, bold=True)
_BODY_FONT = Font(name=FONT_NAME, size=10)
_INFO_FONT = Font(name=FONT_NAME, size=11)
_SMALL_FONT = Font(name=FONT_NAME, size=9, italic=True)


def text(value: Any) -> str:
    """A text cell's value: illegal XML characters dropped, formula triggers neutralised."""
    return str(neutralise_formula(ILLEGAL_CHARACTERS_RE.sub("", str(value))))


def blank_date(label: str, value: Any) -> str:
    """填表日期：2024年5月23日, or the seed's empty 年 月 日 to fill in by hand."""
    if value is None:
        return f"{label}\u3000\u3000年\u3000\u3000月\u3000\u3000日"
    return f"{label}{chinese_date(value)}"


def _put(
    sheet: Worksheet,
    row: int,
    col: int,
    value: Any,
    *,
    font: Font = _BODY_FONT,
    alignment: Alignment = _CENTER,
    border: bool = False,
    number_format: str | None = None,
) -> None:
    cell = sheet.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = text(value)
    else:
        cell.value = value
    cell.font = font
    cell.alignment = alignment
    if border:
        cell.border = _BORDER
    if number_format:
        cell.number_format = number_format


def _merge(sheet: Worksheet, row: int, col: int, last_row: int, last_col: int, *, border: bool = False) -> None:
    if (row, col) != (last_row, last_col):
        sheet.merge_cells(start_row=row, start_column=col, end_row=last_row, end_column=last_col)
    if border:
        for r in range(row, last_row + 1):
            for c in range(col, last_col + 1):
                sheet.cell(row=r, column=c).border = _BORDER


def _line(
    sheet: Worksheet,
    row: int,
    col: int,
    last_col: int,
    value: str,
    *,
    font: Font = _INFO_FONT,
    align: Alignment = _LEFT,
) -> None:
    _put(sheet, row, col, value, font=font, alignment=align)
    _merge(sheet, row, col, row, last_col)


def _print_setup(sheet: Worksheet, *, title_rows: str, landscape: bool = True) -> None:
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = title_rows
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = 0.6
    sheet.page_margins.bottom = 0.7
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    sheet.oddFooter.center.font = FONT_NAME


def _header(sheet: Worksheet, layout: Layout, top: int) -> None:
    for cell in header_cells(layout):
        row, col = top + cell.row, 1 + cell.col
        _put(sheet, row, col, cell.text, font=_HEADER_FONT, border=True)
        _merge(sheet, row, col, row + cell.rowspan - 1, col + cell.colspan - 1, border=True)
    sheet.row_dimensions[top].height = 42
    sheet.row_dimensions[top + 1].height = 54
    sheet.row_dimensions[top + 2].height = 20


def _figures_row(sheet: Worksheet, layout: Layout, row: int, values: Any, label: str | None = None) -> None:
    col = 1
    if layout.row_label:
        _put(sheet, row, col, label or "", font=_HEADER_FONT, border=True)
        col += 1
    for leaf in layout.leaves():
        value = getattr(values, leaf.key)
        if leaf.is_amount:
            _put(sheet, row, col, Decimal(value), border=True, number_format=AMOUNT_FORMAT)
        else:
            _put(sheet, row, col, int(value), border=True, number_format=COUNT_FORMAT)
        col += 1
    sheet.row_dimensions[row].height = 24


def _period_line(heading: Heading, *, cumulative_only: bool = False) -> str:
    period = heading.period
    if cumulative_only:
        line = (
            f"统计期间：{chinese_date(period.cumulative_start)}至{chinese_date(period.end)}"
            f"（{heading.campaign_name}开始至{period.month_label}末累计）"
        )
    else:
        line = f"统计期间：{period.description}"
    if heading.version_label:
        line += f"　　{heading.version_label}"
    return line


def _widths(sheet: Worksheet, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _estimated_height(values: Sequence[str], widths: Sequence[float], *, line_height: float = 14.0) -> float:
    """Row height for wrapped text: openpyxl cannot measure, so count lines (a CJK character ≈ 2 width units)."""
    lines = 1
    for value, width in zip(values, widths, strict=False):
        units = sum(2 if ord(char) > 0x2E7F else 1 for char in value)
        explicit = value.count("\n")
        lines = max(lines, math.ceil(units / max(width - 1, 1)) + explicit)
    return max(20.0, lines * line_height + 4)


# --------------------------------------------------------------------------------------------
# 追责问责情况统计表
# --------------------------------------------------------------------------------------------


def _accountability(workbook: Workbook, table: AccountabilityTable) -> None:
    sheet: Worksheet = workbook.active  # type: ignore[assignment]
    sheet.title = "追责问责情况统计表"
    layout = table.layout
    heading = table.heading
    width = layout.width
    _widths(sheet, [8.5] * width)
    _line(sheet, 1, 1, width, heading.title, font=_TITLE_FONT, align=_CENTER)
    sheet.row_dimensions[1].height = 32
    half = width // 2
    _line(sheet, 2, 1, half, f"填表单位（盖章）：{heading.unit_name}")
    _line(sheet, 2, half + 1, width, blank_date("填表日期：", heading.filled_on), align=_RIGHT)
    _line(sheet, 3, 1, width, _period_line(heading, cumulative_only=True), font=_SMALL_FONT)
    top = 4
    _header(sheet, layout, top)
    data_row = top + HEADER_ROWS
    _figures_row(sheet, layout, data_row, table.row)
    signature_row = data_row + 2
    leader, filler, phone = ACCOUNTABILITY_SIGNATURES
    third = width // 3
    _line(sheet, signature_row, 1, third, f"{leader}{heading.leader_name}")
    _line(sheet, signature_row, third + 1, 2 * third, f"{filler}{heading.filled_by}")
    _line(sheet, signature_row, 2 * third + 1, width, f"{phone}{heading.filler_phone}")
    sheet.row_dimensions[signature_row].height = 28
    _line(sheet, signature_row + 1, 1, width, ACCOUNTABILITY_NOTE)
    _print_setup(sheet, title_rows=f"{top}:{top + HEADER_ROWS - 1}")


# --------------------------------------------------------------------------------------------
# 冬季行动工作报表 + 重大隐患明细
# --------------------------------------------------------------------------------------------


def _winter(workbook: Workbook, table: WinterTable) -> None:
    sheet: Worksheet = workbook.active  # type: ignore[assignment]
    sheet.title = "工作报表"
    layout = table.layout
    heading = table.heading
    width = layout.width
    _widths(sheet, [10.0] + [9.5] * (width - 1))
    _line(sheet, 1, 1, width, heading.title, font=_TITLE_FONT, align=_CENTER)
    sheet.row_dimensions[1].height = 32
    _line(sheet, 2, 1, 6, f"填报单位：{heading.unit_name}")
    date_text = chinese_date(heading.filled_on) if heading.filled_on else "_____"
    _line(sheet, 2, 7, width, f"填表人：{heading.filled_by or '_____'}　填表日期：{date_text}", align=_RIGHT)
    _line(sheet, 3, 1, width, _period_line(heading), font=_SMALL_FONT)
    top = 4
    _header(sheet, layout, top)
    _figures_row(sheet, layout, top + HEADER_ROWS, table.month, WINTER_INDUSTRY)
    _figures_row(sheet, layout, top + HEADER_ROWS + 1, table.cumulative, WINTER_CUMULATIVE)
    _print_setup(sheet, title_rows=f"{top}:{top + HEADER_ROWS - 1}")

    detail = workbook.create_sheet(MAJOR_HAZARDS_TITLE)
    widths = [6.0, 26.0, 12.0, 18.0, 18.0, 70.0]
    _widths(detail, widths)
    _line(detail, 1, 1, len(widths), MAJOR_HAZARDS_TITLE, font=_TITLE_FONT, align=_CENTER)
    detail.row_dimensions[1].height = 30
    _line(detail, 2, 1, len(widths), f"填报单位：{heading.unit_name}　　{_period_line(heading)}", font=_SMALL_FONT)
    _table_rows(
        detail,
        top=3,
        columns=MAJOR_HAZARD_COLUMNS,
        widths=widths,
        rows=[
            (line.number, line.enterprise, line.town, line.industry, line.supervision_unit, line.detail)
            for line in table.major_hazards
        ],
        align=[_CENTER, _LEFT, _CENTER, _CENTER, _LEFT, _LEFT_TOP],
    )
    _print_setup(detail, title_rows="3:3")


def _table_rows(
    sheet: Worksheet,
    *,
    top: int,
    columns: Sequence[str],
    widths: Sequence[float],
    rows: Sequence[Sequence[Any]],
    align: Sequence[Alignment],
    formats: dict[int, str] | None = None,
) -> int:
    """A simple one-row header and its rows; returns the next free row."""
    for col, label in enumerate(columns, start=1):
        _put(sheet, top, col, label, font=_HEADER_FONT, border=True)
    sheet.row_dimensions[top].height = 30
    row = top + 1
    for values in rows:
        for col, value in enumerate(values, start=1):
            fmt = (formats or {}).get(col)
            if value is None:
                value = ""
            if hasattr(value, "isoformat"):
                fmt = DATE_FORMAT
            _put(sheet, row, col, value, alignment=align[col - 1], border=True, number_format=fmt)
        sheet.row_dimensions[row].height = _estimated_height(
            [value if isinstance(value, str) else "" for value in values], widths
        )
        row += 1
    if not rows:
        _put(sheet, row, 1, "（无）", border=True)
        _merge(sheet, row, 1, row, len(columns), border=True)
        row += 1
    return row


# --------------------------------------------------------------------------------------------
# 三清单
# --------------------------------------------------------------------------------------------


def _three_lists(workbook: Workbook, table: ThreeListsTable) -> None:
    heading = table.heading
    specs: list[tuple[str, Sequence[str], list[float], list[tuple[Any, ...]], list[Alignment], dict[int, str]]] = [
        (
            PROBLEM_LIST_TITLE,
            PROBLEM_COLUMNS,
            [6, 24, 10, 48, 16, 12, 12, 12],
            [
                (x.number, x.enterprise, x.town, x.description, x.location, x.level, x.source, x.found_on)
                for x in table.problems
            ],
            [_CENTER, _LEFT, _CENTER, _LEFT_TOP, _LEFT, _CENTER, _CENTER, _CENTER],
            {},
        ),
        (
            RECTIFICATION_LIST_TITLE,
            RECTIFICATION_COLUMNS,
            [6, 24, 40, 40, 10, 12, 10, 12],
            [
                (x.number, x.enterprise, x.description, x.measures, x.funds_wan, x.deadline, x.status, x.rectified_on)
                for x in table.rectifications
            ],
            [_CENTER, _LEFT, _LEFT_TOP, _LEFT_TOP, _CENTER, _CENTER, _CENTER, _CENTER],
            {5: AMOUNT_FORMAT},
        ),
        (
            RESPONSIBILITY_LIST_TITLE,
            RESPONSIBILITY_COLUMNS,
            [6, 24, 44, 22, 12, 14, 18],
            [
                (
                    x.number,
                    x.enterprise,
                    x.description,
                    x.responsible_unit,
                    x.responsible_person,
                    x.principal,
                    x.supervising_unit,
                )
                for x in table.responsibilities
            ],
            [_CENTER, _LEFT, _LEFT_TOP, _LEFT, _CENTER, _CENTER, _CENTER],
            {},
        ),
    ]
    for index, (title, columns, widths, rows, align, formats) in enumerate(specs):
        sheet: Worksheet = workbook.active if index == 0 else workbook.create_sheet()  # type: ignore[assignment]
        sheet.title = title
        _widths(sheet, widths)
        _line(sheet, 1, 1, len(columns), f"{heading.title} — {title}", font=_TITLE_FONT, align=_CENTER)
        sheet.row_dimensions[1].height = 32
        date_text = chinese_date(heading.filled_on) if heading.filled_on else "_____"
        _line(sheet, 2, 1, len(columns), f"填报单位：{heading.unit_name}　　填表日期：{date_text}")
        _line(sheet, 3, 1, len(columns), _period_line(heading), font=_SMALL_FONT)
        _table_rows(sheet, top=4, columns=columns, widths=widths, rows=rows, align=align, formats=formats)
        _print_setup(sheet, title_rows="4:4")


def build_xlsx(table: AnyTable, remark: str = "", *, seal: str = "") -> bytes:
    """The table as Excel; `remark` (备注, e.g. the towns missing when the county submitted) goes under it,
    and `seal` (签字人, 签字时间, 版本号, 校验码 of a signed version) in the last row."""
    workbook = Workbook()
    workbook.properties.creator = "非煤矿山安全监管门户"
    workbook.properties.title = table.heading.title
    if isinstance(table, AccountabilityTable):
        _accountability(workbook, table)
    elif isinstance(table, WinterTable):
        _winter(workbook, table)
    else:
        _three_lists(workbook, table)
    if remark:
        sheet: Worksheet = workbook.active  # type: ignore[assignment]
        row = sheet.max_row + 2
        _line(sheet, row, 1, max(sheet.max_column, 1), remark)
        sheet.row_dimensions[row].height = 36
    if seal:
        sheet = workbook.active  # type: ignore[assignment]
        row = sheet.max_row + 2
        _line(sheet, row, 1, max(sheet.max_column, 1), seal, font=_SMALL_FONT)
        for each in workbook.worksheets:  # printed on every page, beside the page numbers
            each.oddFooter.left.text = seal
            each.oddFooter.left.size = 8
            each.oddFooter.left.font = FONT_NAME
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


__all__ = ["build_xlsx", "row_keys"]
