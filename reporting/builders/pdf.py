"""PDF files of the monthly tables (WeasyPrint): figures in, bytes out; no database.

The same layout as the Excel file, drawn from templates/reporting/pdf/*.html with
reporting/builders/pdf.css: A4 landscape, Noto CJK fonts (Debian fonts-noto-cjk, embedded as
subsets), page numbers in the bottom margin box, the header of a long list repeated on each page
(thead).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string

from reporting.layouts import (
    ACCOUNTABILITY_NOTE,
    MAJOR_HAZARD_COLUMNS,
    PROBLEM_COLUMNS,
    PROBLEM_LIST_TITLE,
    RECTIFICATION_COLUMNS,
    RECTIFICATION_LIST_TITLE,
    RESPONSIBILITY_COLUMNS,
    RESPONSIBILITY_LIST_TITLE,
    WINTER_CUMULATIVE,
    WINTER_INDUSTRY,
    Layout,
    header_rows,
)
from reporting.tables import AccountabilityTable, AnyTable, Heading, WinterTable, chinese_date

STYLESHEET = Path(__file__).with_name("pdf.css")
# WeasyPrint announces each rendering step at INFO; the worker's log needs only its warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def format_value(value: Any, *, amount: bool = False) -> str:
    if value is None:
        return ""
    if amount or isinstance(value, Decimal):
        return f"{Decimal(value):.2f}"
    if hasattr(value, "isoformat"):
        return chinese_date(value)
    return str(value)


@dataclass
class _DataRow:
    label: str
    values: list[str]


@dataclass
class _List:
    name: str
    title: str
    columns: tuple[str, ...]
    widths: list[float]
    rows: list[list[str]]
    text_columns: tuple[int, ...]  # 1-based, aligned left

    @property
    def row_items(self) -> list[tuple[list[str], bool]]:
        """(values, breakable) per row: whether the row may break across pages (see `breakable`)."""
        return [(values, breakable(values, self.widths)) for values in self.rows]


# A row is kept on one page (tr: break-inside avoid) unless it cannot fit on one: a cell of a max-length
# text (2,000 characters) is taller than a page, and WeasyPrint's attempts to keep such rows whole took
# over a minute for ten hazards of a 三清单 (seven seconds when they may break). Estimated from the text's
# length in its column: A4 landscape less the margins is 273 mm wide and about 180 mm high; a 10 pt CJK
# character is 3.53 mm wide and a line about 5 mm high. Rows estimated taller than BREAKABLE_ROW_MM break.
_CONTENT_WIDTH_MM = 273.0
_CHAR_MM = 3.53
_LINE_MM = 5.0
BREAKABLE_ROW_MM = 120.0


def row_height_mm(values: list[str], widths: list[float]) -> float:
    """The estimated height of the row's tallest cell."""
    tallest = 0.0
    for value, width in zip(values, widths, strict=False):
        per_line = max(1, int((width * _CONTENT_WIDTH_MM / 100 - 2) / _CHAR_MM))
        lines = sum(max(1, -(-len(line) // per_line)) for line in (value or "").splitlines() or [""])
        tallest = max(tallest, lines * _LINE_MM)
    return tallest


def breakable(values: list[str], widths: list[float]) -> bool:
    return row_height_mm(values, widths) > BREAKABLE_ROW_MM


def _row_values(layout: Layout, values: Any) -> list[str]:
    return [format_value(getattr(values, leaf.key), amount=leaf.is_amount) for leaf in layout.leaves()]


def _period_text(heading: Heading, *, cumulative_only: bool = False) -> str:
    period = heading.period
    if cumulative_only:
        return (
            f"统计期间：{chinese_date(period.cumulative_start)}至{chinese_date(period.end)}"
            f"（{heading.campaign_name}开始至{period.month_label}末累计）"
        )
    return f"统计期间：{period.description}"


# The signed version's label (string-set in pdf.css) in the bottom-right margin box, only when there is one.
VERSION_BOX = """@page { @bottom-right {
  content: string(version); font-family: "Noto Sans CJK SC", sans-serif; font-size: 8pt; color: #666;
} }"""


def _context(table: AnyTable) -> tuple[str, dict[str, Any], list[_List]]:
    heading = table.heading
    context: dict[str, Any] = {
        "heading": heading,
        "filled_on_text": chinese_date(heading.filled_on),
        "period_text": _period_text(heading),
    }
    if isinstance(table, AccountabilityTable):
        if not heading.filled_on:
            context["filled_on_text"] = "填表日期：\u3000\u3000年\u3000\u3000月\u3000\u3000日"
        else:
            context["filled_on_text"] = f"填表日期：{chinese_date(heading.filled_on)}"
        context.update(
            header_rows=header_rows(table.layout),
            data_rows=[_DataRow("", _row_values(table.layout, table.row))],
            note=ACCOUNTABILITY_NOTE,
            period_text=_period_text(heading, cumulative_only=True),
        )
        return "reporting/pdf/accountability.html", context, []
    if isinstance(table, WinterTable):
        major = _List(
            name="major",
            title="重大隐患明细",
            columns=MAJOR_HAZARD_COLUMNS,
            widths=[5, 19, 8, 13, 14, 41],
            rows=[
                [str(x.number), x.enterprise, x.town, x.industry, x.supervision_unit, x.detail]
                for x in table.major_hazards
            ],
            text_columns=(2, 5, 6),
        )
        context.update(
            header_rows=header_rows(table.layout),
            data_rows=[
                _DataRow(WINTER_INDUSTRY, _row_values(table.layout, table.month)),
                _DataRow(WINTER_CUMULATIVE, _row_values(table.layout, table.cumulative)),
            ],
            major_list=major,
        )
        return "reporting/pdf/winter.html", context, [major]
    lists = [
        _List(
            name="problems",
            title=PROBLEM_LIST_TITLE,
            columns=PROBLEM_COLUMNS,
            widths=[5, 18, 8, 33, 12, 9, 7, 8],
            rows=[
                [
                    str(x.number),
                    x.enterprise,
                    x.town,
                    x.description,
                    x.location,
                    x.level,
                    x.source,
                    format_value(x.found_on),
                ]
                for x in table.problems
            ],
            text_columns=(2, 4, 5),
        ),
        _List(
            name="rectifications",
            title=RECTIFICATION_LIST_TITLE,
            columns=RECTIFICATION_COLUMNS,
            widths=[5, 16, 25, 25, 8, 8, 5, 8],
            rows=[
                [
                    str(x.number),
                    x.enterprise,
                    x.description,
                    x.measures,
                    format_value(x.funds_wan, amount=True),
                    format_value(x.deadline),
                    x.status,
                    format_value(x.rectified_on),
                ]
                for x in table.rectifications
            ],
            text_columns=(2, 3, 4),
        ),
        _List(
            name="responsibilities",
            title=RESPONSIBILITY_LIST_TITLE,
            columns=RESPONSIBILITY_COLUMNS,
            widths=[5, 18, 33, 16, 9, 9, 10],
            rows=[
                [
                    str(x.number),
                    x.enterprise,
                    x.description,
                    x.responsible_unit,
                    x.responsible_person,
                    x.principal,
                    x.supervising_unit,
                ]
                for x in table.responsibilities
            ],
            text_columns=(2, 3, 4),
        ),
    ]
    context["lists"] = lists
    return "reporting/pdf/three_lists.html", context, lists


def lists_of(table: AnyTable) -> list[_List]:
    """The table's lists (titles, widths, cell texts) as the PDF prints them; the bench renders its floor from them."""
    return _context(table)[2]


def render_html(table: AnyTable, remark: str = "") -> str:
    template, context, _ = _context(table)
    return render_to_string(template, {**context, "remark": remark})


def build_pdf(table: AnyTable, remark: str = "", *, seal: str = "") -> bytes:
    """The table as PDF; `remark` (备注, e.g. the towns missing when the county submitted) goes under it,
    and `seal` (签字人, 签字时间, 版本号, 校验码 of a signed version) at its foot."""
    from weasyprint import CSS, HTML  # imported here: WeasyPrint loads Pango at import time

    template, context, _ = _context(table)
    context["remark"] = remark
    context["seal"] = seal
    html = render_to_string(template, context)
    stylesheets = [CSS(filename=str(STYLESHEET))]
    if table.heading.version_label:
        stylesheets.append(CSS(string=VERSION_BOX))
    document = HTML(string=html, base_url=str(STYLESHEET.parent))
    return bytes(document.write_pdf(stylesheets=stylesheets))
