"""The Excel and PDF builders, read back: openpyxl, pdftotext, pdffonts and a LibreOffice conversion."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reporting.builders.pdf import build_pdf
from reporting.builders.xlsx import build_xlsx
from reporting.layouts import ACCOUNTABILITY, WINTER, header_cells
from reporting.tables import AccountabilityTable, ThreeListsTable, WinterTable, from_json, to_json
from tests.reporting import pdftext, samples

# Word for word from the attachment of 泽应急发〔2024〕83号 (seed 000).
SEED_ACCOUNTABILITY_GROUPS = [
    "谈话情况", "惩处情况", "约谈情况", "责任追究情况", "通报曝光情况", "纳入联合惩戒对象",
    "纳入安全生产主体责任名单非煤矿山企业",
]  # fmt: skip
SEED_ACCOUNTABILITY_COLUMNS = [
    "非煤矿山企业", "上级企业", "非煤矿山企业行政处罚", "非煤矿山企业主要负责人行政处罚", "非煤矿山企业",
    "非煤矿山企业主要负责人", "上级企业", "上级企业主要负责人或分管负责人", "党纪政纪处理", "调整工作岗位", "解聘",
    "非煤矿山企业", "非煤矿山企业主要负责人", "非煤矿山企业主要负责人", "非煤矿山企业",
]  # fmt: skip
SEED_ACCOUNTABILITY_UNITS = [
    "人次", "家", "次", "万元", "次", "万元", "处", "人次", "家", "人次", "人次", "人次", "人数", "处", "人次", "人次",
    "处", "处",
]  # fmt: skip
# Word for word from the attachment of 泽应急发〔2023〕331号 (seed 001).
SEED_WINTER_TOP = [
    "行业", "成立督查组", "排查企业", "一般隐患", "重大隐患", "责令限期整改企业数", "行政罚款金额", "停产整顿数",
    "公开曝光案例数", "查处违法分包转包和挂靠资质行为数", "查处劳务派遣用工违法行为数",
]  # fmt: skip
SEED_WINTER_UNITS = ["(个)", "(家)", "(项)", "(项)", "(项)", "(项)", "(家)", "(万)", "(家)", "(个)", "(家)", "(个)"]
SEED_MAJOR_COLUMNS = ["序号", "企业名称", "所在镇", "行业类别", "挂牌督办单位", "重大隐患明细及整改计划"]


def _row_texts(sheet, row: int) -> list[str]:
    return [cell.value for cell in sheet[row] if cell.value is not None]


def test_headers_are_the_seeds_word_for_word() -> None:
    cells = header_cells(ACCOUNTABILITY)
    assert [c.text for c in cells if c.row == 0] == SEED_ACCOUNTABILITY_GROUPS
    assert [c.text for c in cells if c.row == 1] == SEED_ACCOUNTABILITY_COLUMNS
    assert [c.text for c in cells if c.row == 2] == SEED_ACCOUNTABILITY_UNITS
    winter = header_cells(WINTER)
    assert [c.text for c in winter if c.row == 0] == SEED_WINTER_TOP
    assert [c.text for c in winter if c.row == 1] == ["排查", "已整改", "排查", "已整改"]
    assert [c.text for c in winter if c.row == 2] == SEED_WINTER_UNITS


def test_accountability_xlsx_layout_values_and_print_setup() -> None:
    table = samples.accountability()
    workbook = load_workbook(io.BytesIO(build_xlsx(table)))
    sheet = workbook.active
    assert sheet.title == "追责问责情况统计表"
    assert sheet["A1"].value == "追责问责情况统计表"
    assert sheet["A2"].value == "填表单位（盖章）：泽州县应急管理局"
    assert sheet["J2"].value == "填表日期：2023年12月23日"
    assert _row_texts(sheet, 4) == SEED_ACCOUNTABILITY_GROUPS
    assert _row_texts(sheet, 5) == SEED_ACCOUNTABILITY_COLUMNS
    assert _row_texts(sheet, 6) == SEED_ACCOUNTABILITY_UNITS
    merged = {str(r) for r in sheet.merged_cells.ranges}
    for expected in (
        "A1:R1",  # title
        "A4:B4",  # 谈话情况 over its two columns
        "C4:F4",  # 惩处情况 over 次/万元 twice
        "C5:D5",  # 非煤矿山企业行政处罚 over 次 and 万元
        "E5:F5",
        "G4:J4",  # 约谈情况
        "K4:M4",  # 责任追究情况
        "N4:O4",
        "P4:Q4",
        "R4:R5",  # 纳入安全生产主体责任名单非煤矿山企业 stands over its unit
    ):
        assert expected in merged, expected
    values = [cell.value for cell in sheet[7]]
    assert values == [11, 2, 3, Decimal("12.5"), 1, Decimal("0.75"), 4, 5, 1, 6, 7, 8, 9, 13, 14, 15, 16, 17]
    assert sheet["D7"].number_format == "0.00"
    assert sheet["F7"].number_format == "0.00"
    assert sheet["A7"].number_format == "0"
    assert sheet["A9"].value == "分管负责人（签字）："
    assert sheet["G9"].value == "填表人：李建光"
    assert sheet["M9"].value == "填表人电话：0356-2066363"
    assert sheet["A10"].value == "备注：本表由县（市、区）应急管理局填报，表中数据为当月累计汇总数据"
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.print_title_rows == "$4:$6"


def test_unsigned_date_is_the_seeds_blank_and_leader_name_after_signing() -> None:
    blank = load_workbook(io.BytesIO(build_xlsx(samples.accountability(filled_on=None)))).active
    assert blank["J2"].value == "填表日期：\u3000\u3000年\u3000\u3000月\u3000\u3000日"
    signed = load_workbook(io.BytesIO(build_xlsx(samples.accountability(leader_name="张芒富")))).active
    assert signed["A9"].value == "分管负责人（签字）：张芒富"


def test_text_that_looks_like_a_formula_is_neutralised() -> None:
    workbook = load_workbook(io.BytesIO(build_xlsx(samples.three_lists())))
    cell = workbook["问题清单"]["D6"]
    assert cell.value == '\'=HYPERLINK("http://x")'
    assert cell.data_type == "s"
    evil = load_workbook(io.BytesIO(build_xlsx(samples.accountability(unit_name="=1+2")))).active
    assert evil["A2"].value == "填表单位（盖章）：=1+2"  # not at the start of the cell: harmless as it is
    assert all(cell.data_type != "f" for row in evil.iter_rows() for cell in row)


def test_winter_xlsx_rows_and_major_hazard_sheet() -> None:
    table = samples.winter(lines=3)
    workbook = load_workbook(io.BytesIO(build_xlsx(table)))
    assert workbook.sheetnames == ["工作报表", "重大隐患明细"]
    sheet = workbook["工作报表"]
    assert sheet["A1"].value == "泽州县非煤矿山行业安全生产“百日攻坚”冬季行动工作报表"
    assert sheet["A2"].value == "填报单位：泽州县应急管理局"
    assert _row_texts(sheet, 4) == SEED_WINTER_TOP
    assert _row_texts(sheet, 5) == ["排查", "已整改", "排查", "已整改"]
    assert _row_texts(sheet, 6) == SEED_WINTER_UNITS
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A4:A6", "B4:B5", "D4:E4", "F4:G4", "M4:M5"} <= merged
    assert [c.value for c in sheet[7]] == ["非煤矿山", 2, 12, 30, 25, 4, 1, 3, Decimal("12.5"), 1, 5, 6, 7]
    assert [c.value for c in sheet[8]] == ["累计", 3, 20, 58, 51, 3, 2, 8, Decimal("20.25"), 2, 9, 10, 11]
    assert sheet["I7"].number_format == "0.00"
    assert sheet.print_title_rows == "$4:$6"
    detail = workbook["重大隐患明细"]
    assert detail["A1"].value == "重大隐患明细"
    assert _row_texts(detail, 3) == SEED_MAJOR_COLUMNS
    assert [c.value for c in detail[4]][:5] == [
        1,
        "泽州县第1石料有限公司",
        "巴公镇",
        "金属非金属露天矿山",
        "泽州县应急管理局",
    ]
    assert detail["A6"].value == 3
    assert detail.print_title_rows == "$3:$3"
    assert detail.page_setup.orientation == "landscape"


def test_three_lists_xlsx_has_the_three_lists() -> None:
    workbook = load_workbook(io.BytesIO(build_xlsx(samples.three_lists())))
    assert workbook.sheetnames == ["问题清单", "整改清单", "责任清单"]
    rect = workbook["整改清单"]
    assert rect["E5"].value == pytest.approx(0.3)
    assert rect["E6"].value is None  # no funds given: an empty cell, not 0
    assert rect["E5"].number_format == "0.00"
    assert rect["F5"].number_format == 'yyyy"年"m"月"d"日"'
    assert rect["F5"].is_date
    responsibility = workbook["责任清单"]
    assert [c.value for c in responsibility[5]] == [
        1,
        "泽州县示范矿业有限公司",
        "爆破警戒点未设置明显标志",
        "爆破队",
        "赵六",
        "王建国",
        "巴公镇应急管理中心",
    ]
    assert responsibility["A6"].value is None


def test_snapshot_round_trip_is_exact() -> None:
    for table in (samples.accountability(), samples.winter(lines=5), samples.three_lists()):
        data = to_json(table)
        assert from_json(type(table), data) == table
    assert to_json(samples.accountability())["row"]["penalty_enterprise_amount"] == "12.50"


needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="需要 Debian 软件包 poppler-utils")


@needs_poppler
def test_accountability_pdf_text_fonts_and_page_size() -> None:
    data = build_pdf(samples.accountability(leader_name="张芒富"))
    cells = Counter(pdftext.cell_texts(data))
    seed = Counter(SEED_ACCOUNTABILITY_GROUPS + SEED_ACCOUNTABILITY_COLUMNS + SEED_ACCOUNTABILITY_UNITS)
    assert not seed - cells, seed - cells  # every header cell of the seed, as many times as the seed has it
    text = pdftext.text(data)
    for word in ["追责问责情况统计表", "填表单位（盖章）：泽州县应急管理局", "填表日期：2023年12月23日",
                 "12.50", "0.75", "分管负责人（签字）：张芒富", "填表人：李建光", "填表人电话：0356-2066363",
                 "备注：本表由县（市、区）应急管理局填报，表中数据为当月累计汇总数据", "第1页，共1页"]:  # fmt: skip
        assert word in text, word
    values = [cell for cell in pdftext.cell_texts(data) if cell.replace(".", "").isdigit()][:18]
    expected = ["11", "2", "3", "12.50", "1", "0.75", "4", "5", "1", "6", "7", "8", "9", "13", "14", "15", "16", "17"]
    assert values == expected
    cjk = [line for line in pdftext.fonts(data).splitlines() if "CJK-SC" in line]
    assert cjk
    assert all(" yes yes yes " in line for line in cjk), cjk  # embedded, subset, with a ToUnicode map
    assert "841.89 x 595.276 pts (A4)" in pdftext.info(data)  # landscape


@needs_poppler
def test_winter_pdf_major_hazards_run_over_pages_with_header_repeated() -> None:
    data = build_pdf(samples.winter(lines=45))
    pages = pdftext.pages(data)
    assert pages >= 4
    cells = Counter(pdftext.cell_texts(data, page=1))
    seed = Counter([*SEED_WINTER_TOP, "排查", "已整改", "排查", "已整改", *SEED_WINTER_UNITS, "非煤矿山", "累计"])
    assert not seed - cells, seed - cells
    first = pdftext.text(data, first=1, last=1)
    for word in ["12.50", "20.25", "填报单位：泽州县应急管理局", "填表人：李建光"]:
        assert word in first, word
    for page in range(2, pages + 1):
        assert set(SEED_MAJOR_COLUMNS) <= set(pdftext.cell_texts(data, page=page)), page
        assert f"第{page}页，共{pages}页" in pdftext.text(data, first=page, last=page)
    everything = pdftext.text(data)
    assert "泽州县第1石料有限公司" in everything and "泽州县第45石料有限公司" in everything


@needs_poppler
def test_three_lists_pdf() -> None:
    data = build_pdf(samples.three_lists())
    text = pdftext.text(data)
    for word in ["问题清单", "整改清单", "责任清单", "设置警示标志", "0.30", "赵六"]:
        assert word in text, word
    assert "爆破警戒点未设置明显标志" in "".join(pdftext.cell_texts(data, page=1))


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="需要 LibreOffice：apt-get install libreoffice-calc-nogui")
@needs_poppler
@pytest.mark.parametrize(
    "make", [samples.accountability, lambda: samples.winter(lines=30), samples.three_lists], ids=["acc", "winter", "3"]
)
def test_xlsx_opens_cleanly_in_libreoffice(tmp_path: Path, make) -> None:
    table: AccountabilityTable | WinterTable | ThreeListsTable = make()
    source = tmp_path / "table.xlsx"
    source.write_bytes(build_xlsx(table))
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path / "out"), str(source)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    converted = tmp_path / "out" / "table.pdf"
    assert result.returncode == 0 and converted.exists(), result.stderr
    text = pdftext.text(converted.read_bytes())
    assert table.heading.title.replace(" ", "") in text
    if isinstance(table, AccountabilityTable):
        assert "纳入联合惩戒对象" in text and "12.50" in text and "备注：本表由县" in text
    elif isinstance(table, WinterTable):
        assert "重大隐患明细及整改计划" in text and "20.25" in text
        # the repeated header rows: the detail header is on every page of the detail sheet
        assert text.count("重大隐患明细及整改计划") >= 2
    else:
        assert "整改清单" in text and "赵六" in text
