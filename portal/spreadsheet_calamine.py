"""Reading a vetted .xlsx with python-calamine (Rust): the rows of a 10,000-row ledger in a fraction of
openpyxl's time (issue 14 §5), with the values openpyxl's read-only reader gives.

Order: `portal.spreadsheets.check_workbook_bytes` first (type, size, zip bomb, DOCTYPE/ENTITY, and the
row/column/shared-string bounds of `portal.spreadsheet_bounds`, all before any XML is parsed); a byte scan
of the worksheet parts (`_Scan`, fed the bytes the bounds scan decompresses, so that each part is
decompressed once) decides whether calamine can give openpyxl's values; only when both pass does calamine
parse.

Where calamine cannot serve, `open_calamine` answers None and the caller keeps its openpyxl reader:
* a formula: the portal reads a formula as its text (``data_only=False``, never evaluated); calamine
  only gives the cached result;
* an error cell (``t="e"``): calamine gives it as an empty cell, openpyxl as its code ("#N/A");
* cells or rows without a reference, or elements with a namespace prefix: legal, not what Excel writes,
  and positioned by each reader in its own way;
* a sheet whose rectangle (last row × last column) passes `MAX_DENSE_CELLS`: calamine holds a sheet as a
  dense rectangle in memory, so one cell at A50000 and one at GR1 would cost 10 million cells, while
  openpyxl streams.

Values as openpyxl's read-only ``iter_rows(values_only=True)``: an empty cell is None, an integral number
(below 10^15, as Excel writes it without a decimal point) an int, a date-formatted cell a datetime
(calamine gives a date when the time is midnight), trailing empty cells dropped.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from portal.spreadsheets import SpreadsheetError, check_workbook_bytes, read_bytes

# Cells of the dense rectangle calamine may build for one sheet (~32 bytes each in Rust, and one Python
# object each once converted): 1.5 million is a 50,000-row ledger of 30 columns.
MAX_DENSE_CELLS = 1_500_000
_INTEGRAL_LIMIT = 1e15
_MIDNIGHT = datetime.time()

# Patterns that begin with a literal (the regex engine then skips to it at C speed: a 9 MB sheet in ~10 ms
# each). Prefixed elements ("<x:c") are refused first, so the patterns need only the plain names.
_PREFIXED_RE = re.compile(rb":(?:row|c[\s>/])")  # "<x:row", "<x:c": legal, not what Excel writes
_FORMULA_RE = re.compile(rb"<f[\s/>]")  # not <formula> (conditional formats, validations: no cell values)
_ERROR_CELL = b't="e"'
_ROW_WITHOUT_REFERENCE_RE = re.compile(rb'<row(?:>|/|\s(?!r="))')
_CELL_WITHOUT_REFERENCE_RE = re.compile(rb'<c(?:>|/|\s(?!r="))')
_ROW_NUMBER_RE = re.compile(rb'<row r="(\d+)"')
_WIDE_REFERENCE_RE = re.compile(rb'<c r="([A-Z]{2,3})\d')


class _Scan:
    """What calamine would do differently in one worksheet part, counted over its decompressed bytes."""

    def __init__(self) -> None:
        self.unsupported = False
        self.last_row = 0
        self.last_column = 26  # one letter: at most Z

    def feed(self, data: bytes) -> None:
        if (
            _PREFIXED_RE.search(data) is not None
            or _FORMULA_RE.search(data) is not None
            or _ERROR_CELL in data
            or _ROW_WITHOUT_REFERENCE_RE.search(data) is not None
            or _CELL_WITHOUT_REFERENCE_RE.search(data) is not None
        ):
            self.unsupported = True
            return
        numbers = _ROW_NUMBER_RE.findall(data)
        if numbers:
            self.last_row = max(self.last_row, max(map(int, numbers)))
        for letters in set(_WIDE_REFERENCE_RE.findall(data)):
            column = 0
            for char in letters:
                column = column * 26 + char - 64
            self.last_column = max(self.last_column, column)


class _SheetScans:
    """The `_Scan` of every worksheet part, fed by the hostile-file checks' bounds scan as it decompresses the
    parts (`check_workbook_bytes(observe=…)`): each worksheet is decompressed once for both scans."""

    def __init__(self) -> None:
        self.unsupported = False
        self.worksheets = 0

    def member(self, info: zipfile.ZipInfo) -> Callable[[bytes], None] | None:
        if not info.filename.startswith("xl/worksheets/"):
            return None
        self.worksheets += 1
        scan = _Scan()
        carry = b""

        def feed(chunk: bytes) -> None:
            nonlocal carry
            if self.unsupported:
                return
            if chunk:
                chunk = carry + chunk
                cut = chunk.rfind(b">") + 1
                scan.feed(chunk[:cut])
                carry = chunk[cut:]
            else:  # the part's end
                if carry:
                    scan.feed(carry)
                carry = b""
                if scan.last_row * scan.last_column > MAX_DENSE_CELLS:
                    self.unsupported = True
            if scan.unsupported:
                self.unsupported = True

        return feed

    def calamine_can_read(self) -> bool:
        """Every worksheet part is one whose values calamine gives as openpyxl does, within the dense budget;
        worksheets kept elsewhere than xl/worksheets/ (legal through the relationships): openpyxl's reader."""
        return self.worksheets > 0 and not self.unsupported


def _value(cell: Any) -> Any:
    kind = type(cell)
    if kind is str:
        return cell or None
    if kind is float:
        return int(cell) if cell.is_integer() and -_INTEGRAL_LIMIT < cell < _INTEGRAL_LIMIT else cell
    if kind is datetime.date:
        return datetime.datetime.combine(cell, _MIDNIGHT)
    return cell


class CalamineSheet:
    """One worksheet, read as a whole by calamine, served as openpyxl's read-only ``iter_rows`` serves it."""

    def __init__(self, workbook: CalamineWorkbook, index: int, title: str, visible: bool) -> None:
        self._workbook = workbook
        self._index = index
        self._rows: list[list[Any]] | None = None
        self.title = title
        self.sheet_state = "visible" if visible else "hidden"

    def reset_dimensions(self) -> None:
        """Dimensions are never used: calamine reads the cells as they are in the file."""

    def _all_rows(self) -> list[list[Any]]:
        if self._rows is None:
            try:
                sheet = self._workbook.get_sheet_by_index(self._index)
                self._rows = sheet.to_python(skip_empty_area=False)
            except (CalamineError, ValueError) as exc:
                raise SpreadsheetError("文件已损坏或不是有效的 Excel 工作簿（.xlsx），请重新保存后上传。") from exc
        return self._rows

    def iter_rows(
        self,
        min_row: int = 1,
        max_row: int | None = None,
        min_col: int = 1,
        max_col: int | None = None,
        values_only: bool = True,
    ) -> Iterator[tuple[Any, ...]]:
        """Rows ``min_row``..``max_row`` as value tuples (1-based, as openpyxl numbers them)."""
        if not values_only:
            raise NotImplementedError("calamine sheets give values only")
        rows = self._all_rows()
        release = max_row is None
        if release:
            # A pass to the end (the data rows, after the header was found) is the last: each row is let go
            # once given, so the sheet's values are not held beside what the caller builds from them (a
            # later call reads the sheet again).
            self._rows = None
        start = min_col - 1
        stop = len(rows) if max_row is None else min(max_row, len(rows))  # nothing past the sheet's last row
        width = None if max_col is None else max_col - start
        for index in range(min_row - 1, stop):
            raw = rows[index]
            if release:
                rows[index] = []
            # Texts (most cells) converted inline, without a call of `_value` per cell.
            cells = [
                (cell or None) if type(cell) is str else _value(cell)
                for cell in (raw[start : start + width] if width is not None else raw[start:])
            ]
            if width is not None:
                cells.extend([None] * (width - len(cells)))
            else:
                while cells and cells[-1] is None:
                    cells.pop()
            yield tuple(cells)


class CalamineReadOnlyWorkbook:
    """The sheets of a workbook, as `portal.spreadsheets.find_table` uses an openpyxl read-only workbook."""

    def __init__(self, data: bytes) -> None:
        try:
            self._workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
            metadata = self._workbook.sheets_metadata
        except (CalamineError, ValueError) as exc:
            raise SpreadsheetError("文件已损坏或不是有效的 Excel 工作簿（.xlsx），请重新保存后上传。") from exc
        self.worksheets = [
            CalamineSheet(self._workbook, index, sheet.name, visible=sheet.visible == SheetVisibleEnum.Visible)
            for index, sheet in enumerate(metadata)
            if sheet.typ == SheetTypeEnum.WorkSheet
        ]
        self.sheetnames = [sheet.title for sheet in self.worksheets]

    def __getitem__(self, name: str) -> CalamineSheet:
        for sheet in self.worksheets:
            if sheet.title == name:
                return sheet
        raise KeyError(name)

    def close(self) -> None:
        self._workbook.close()


def open_calamine(source: Any) -> CalamineReadOnlyWorkbook | None:
    """The workbook read by calamine after the hostile-file checks (`SpreadsheetError` when refused), or None
    when calamine would not give openpyxl's values for it (see the module's docstring): use openpyxl then."""
    data = read_bytes(source)
    scans = _SheetScans()
    check_workbook_bytes(data, observe=scans.member)
    if not scans.calamine_can_read():
        return None
    return CalamineReadOnlyWorkbook(data)


__all__ = ["MAX_DENSE_CELLS", "CalamineReadOnlyWorkbook", "CalamineSheet", "open_calamine"]
