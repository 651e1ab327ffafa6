"""The shell command builds the same file as the portal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from tests.reporting import pdftext

pytestmark = pytest.mark.django_db


def test_build_report_xlsx_for_the_county(scenario, tmp_path: Path) -> None:
    out = tmp_path / "acc.xlsx"
    stdout = io.StringIO()
    call_command("build_report", "accountability", "--region", "140525", "--month", "2024-05", "--format", "xlsx",
                 "--output", str(out), stdout=stdout)  # fmt: skip
    assert "已生成 泽州县2024年5月“追责问责情况统计表”" in stdout.getvalue()
    sheet = load_workbook(out).active
    assert sheet["A2"].value == "填表单位（盖章）：泽州县应急管理局"
    assert [c.value for c in sheet[7]][:4] == [3, 2, 3, 4.75]


def test_build_report_pdf_for_a_town(scenario, tmp_path: Path) -> None:
    out = tmp_path / "lists.pdf"
    call_command("build_report", "three-lists", "--region", "140525108", "--month", "2023-12", "--format", "pdf",
                 "--output", str(out), stdout=io.StringIO())  # fmt: skip
    text = pdftext.text(out.read_bytes())
    assert "问题清单" in text and "运输道路过窄" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["winter", "--region", "999999", "--month", "2023-12"], "没有行政区划代码为 999999"),
        (["winter", "--region", "140525", "--month", "2023-13"], "月份格式不正确"),
        (["winter", "--region", "140525", "--month", "2024-05"], "没有需要报送"),
    ],
)
def test_build_report_errors_are_chinese(scenario, tmp_path: Path, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("build_report", *args, "--format", "xlsx", "--output", str(tmp_path / "x.xlsx"))
    assert not (tmp_path / "x.xlsx").exists()
