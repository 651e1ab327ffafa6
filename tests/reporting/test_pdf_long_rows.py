"""Rows taller than a page may break across pages in the PDF (reporting/builders/pdf.py, `breakable`);
every other row stays whole. Keeping a row of max-length texts whole made WeasyPrint take over a minute
for ten hazards of a 三清单; the worker's time for a county of such hazards is measured in
tests/prod/test_job_limits.py."""

from __future__ import annotations

import dataclasses
import re

from portal import limits
from reporting.builders.pdf import BREAKABLE_ROW_MM, breakable, render_html, row_height_mm
from tests.reporting import samples

WIDTHS = [5, 18, 8, 33, 12, 9, 7, 8]  # the problem list's


def row(description: str) -> list[str]:
    return [
        "1",
        "泽州县示范矿业有限公司",
        "巴公镇",
        description,
        "+320平台",
        "一般事故隐患",
        "企业自查",
        "2023年12月5日",
    ]


def test_a_max_length_text_breaks_and_a_usual_one_does_not() -> None:
    assert breakable(row("边" * limits.TEXT_NOTE), WIDTHS)
    assert not breakable(row("爆破警戒点未设置明显标志"), WIDTHS)
    # The edge: the longest description still kept whole, and one line more.
    per_line = int((33 * 273.0 / 100 - 2) / 3.53)
    lines = int(BREAKABLE_ROW_MM // 5.0)
    assert not breakable(row("边" * (per_line * lines)), WIDTHS)
    assert breakable(row("边" * (per_line * lines + 1)), WIDTHS)
    # Line breaks count as lines, and the tallest cell decides (here a narrow one).
    assert row_height_mm(row("\n".join(["边"] * 30)), WIDTHS) == 150.0
    assert breakable(["1", "长" * 400, "", "", "", "", "", ""], WIDTHS)


def test_only_the_long_rows_of_a_three_lists_pdf_may_break() -> None:
    table = samples.three_lists()
    long_line = dataclasses.replace(table.problems[1], description="边坡浮石未清理，" * 250)
    html = render_html(dataclasses.replace(table, problems=(table.problems[0], long_line)))
    problems = html.split('class="grid list list-problems"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr(?: class=\"(\w+)\")?>", problems.split("<tbody>", 1)[1])
    assert rows == ["", "breakable"]
    assert html.count('class="breakable"') == 1
