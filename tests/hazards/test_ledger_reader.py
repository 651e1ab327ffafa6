"""hazards.ledger_reader: the C-expat row reader gives openpyxl's values exactly, and refuses what defusedxml does."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from openpyxl import Workbook

from hazards.ledger_reader import fast_workbook, iter_sheet_rows
from portal.spreadsheets import SpreadsheetError, open_workbook
from tests.hazards.ledger_xlsx import rewrite_member

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def both(data: bytes, **kwargs: Any) -> tuple[list[Any], list[Any]]:
    workbook = open_workbook(data)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        expected = [tuple(r) for r in sheet.iter_rows(values_only=True, **kwargs)]
        actual = [tuple(r) for r in fast_workbook(workbook).worksheets[0].iter_rows(values_only=True, **kwargs)]
    finally:
        workbook.close()
    return expected, actual


def varied() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["标题"])
    sheet.merge_cells("A1:F1")
    sheet.append(["文字", 12, 3.25, datetime.date(2024, 5, 1), datetime.datetime(2024, 5, 1, 8, 30), True])
    sheet.append(["=SUM(B2:C2)", "=B2*2", None, "２０２４年５月１日", False, -7])
    sheet["H5"] = "远处的单元格"
    sheet.cell(row=9, column=2, value="空行之后")
    sheet["D10"] = datetime.time(8, 30)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "window",
    [{}, {"min_row": 2}, {"min_row": 1, "max_row": 4}, {"min_row": 3, "max_col": 4}, {"max_row": 20, "max_col": 9}],
)
def test_same_values_as_openpyxl(window: dict[str, Any]) -> None:
    expected, actual = both(varied(), **window)
    assert actual == expected
    if not window:  # the dates came from the workbook's date styles, as openpyxl reads them
        assert datetime.datetime(2024, 5, 1, 8, 30) in actual[1] and datetime.time(8, 30) in actual[9]


def test_inline_strings_shared_formulas_errors_and_prefixed_tags() -> None:
    sheet = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<x:worksheet xmlns:x="{MAIN}"><x:sheetData>
<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:r><x:t>边坡</x:t></x:r><x:r><x:t xml:space="preserve"> 浮石</x:t></x:r>
<x:rPh sb="0" eb="1"><x:t>ビアン</x:t></x:rPh></x:is></x:c><x:c r="C1" t="e"><x:v>#N/A</x:v></x:c></x:row>
<x:row r="2"><x:c r="A2"><x:f t="shared" ref="A2:A3" si="0">B2+1</x:f><x:v>2</x:v></x:c>
<x:c r="B2"><x:v>1</x:v></x:c></x:row>
<x:row r="3"><x:c r="A3"><x:f t="shared" si="0"/><x:v>3</x:v></x:c><x:c r="B3" t="str"><x:v>文本结果</x:v></x:c></x:row>
<x:row><x:c t="b"><x:v>1</x:v></x:c><x:c><x:v>1E3</x:v></x:c></x:row>
</x:sheetData></x:worksheet>""".encode()
    rows = list(
        iter_sheet_rows(io.BytesIO(sheet), shared_strings=[], epoch=datetime.datetime(1899, 12, 30),
                        date_formats=set(), timedelta_formats=set())
    )  # fmt: skip
    assert rows == [
        (1, ["边坡 浮石", None, "#N/A"]),
        (2, ["=B2+1", 1]),
        (3, ["=B3+1", "文本结果"]),
        (4, [True, 1000.0]),
    ]


def _sheet_with(payload: bytes) -> list[Any]:
    return list(
        iter_sheet_rows(io.BytesIO(payload), shared_strings=[], epoch=datetime.datetime(1899, 12, 30),
                        date_formats=set(), timedelta_formats=set())
    )  # fmt: skip


def test_a_doctype_anywhere_is_refused_by_the_reader_itself() -> None:
    padding = b"<!--" + b"x" * 100_000 + b"-->"  # beyond the 64 KiB prolog scan of open_workbook
    hostile = (
        b'<?xml version="1.0"?>' + padding + b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
        b'<worksheet xmlns="' + MAIN.encode() + b'"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&a;</t>'
        b"</is></c></row></sheetData></worksheet>"
    )
    with pytest.raises(SpreadsheetError, match="不允许的 XML 实体"):
        _sheet_with(hostile)
    external = b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><worksheet/>'
    with pytest.raises(SpreadsheetError, match="不允许的 XML 实体"):
        _sheet_with(external)


def test_rows_and_columns_beyond_excel_are_refused() -> None:
    base = f'<worksheet xmlns="{MAIN}"><sheetData>'
    with pytest.raises(SpreadsheetError, match="行号超过"):
        _sheet_with((base + '<row r="1048577"><c r="A1048577"><v>1</v></c></row></sheetData></worksheet>').encode())
    with pytest.raises(SpreadsheetError, match="列号超过"):
        _sheet_with((base + '<row r="1"><c r="XFE1"><v>1</v></c></row></sheetData></worksheet>').encode())


def test_a_whole_hostile_ledger_is_refused_before_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    data = varied()
    sheet = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]><worksheet/>'
    with pytest.raises(SpreadsheetError, match="不允许的 XML 实体"):
        open_workbook(rewrite_member(data, "xl/worksheets/sheet1.xml", sheet))
