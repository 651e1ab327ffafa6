"""Bounds on an uploaded .xlsx, checked by streaming its parts before a single row is parsed.

A worksheet's size is not what its ``<dimension>`` says (that tag can lie or be missing) nor what the
zip directory says: 1,000,000 rows each with one value in column XFD compress to 7.5 MB, and a reader
that trusts the sheet builds 16,384 cells per row; 2,000,000 shared strings fit in 1.5 MB. So
`check_archive_bounds` decompresses every member of the archive as a stream (1 MB at a time, within
the archive's uncompressed-size limit and a time limit) and counts, with byte-level regular
expressions over the XML as it is:

* ``<row>`` elements and the highest row number (blank, title and footer rows included),
* the rightmost column a cell reference names, and the range a ``<dimension>`` declares,
* the ``<si>`` entries of a shared-strings table,

and refuses the file with a Chinese message as soon as one count passes its bound. Every member is
scanned, whatever its name, because the workbook's relationships may point a worksheet or the
shared strings at any part. The scan keeps at most a few MB in memory.

Then, while rows are read, `Table.rows` and the ledger reader check the same bounds again (a reference
hidden from the scan still cannot make more rows or columns) and the parse's time budget
(`SpreadsheetBounds.parse_seconds`, below the web server's worker timeout).

`SpreadsheetBounds.current()` reads the settings; the upload limit of the reverse proxy and the tests
use the same values.
"""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

# Excel's own limits.
EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COLUMN = 16_384

BEYOND_EXCEL_ROWS = f"文件结构异常：行号超过 Excel 的上限 {EXCEL_MAX_ROW} 行，已拒绝。"
BEYOND_EXCEL_COLUMNS = f"文件结构异常：列号超过 Excel 的上限 {EXCEL_MAX_COLUMN} 列，已拒绝。"

_CHUNK = 1024 * 1024
# A tag (or text between tags) longer than this is not from a spreadsheet program.
_MAX_CARRY = 4 * 1024 * 1024

# Counting is done with bytes.count and with patterns that begin with a literal (C speed, and no Python
# object per row or cell: a 24 MB sheet in a fraction of a second, also under tracemalloc). Elements with a
# namespace prefix ("<x:row>", legal but not what Excel writes) take slower patterns, only when present.
# "<row" also begins the rare <rowBreaks>, <rowFields> and <rowItems> (one each per part): counting them as rows
# costs nothing, while one count instead of one per possible next character halves the scan.
_ROW_START = b"<row"
_PREFIXED_ROW_RE = re.compile(rb"<[A-Za-z_][\w.\-]*:row(?=[\s/>])")
_SHARED_STRING_START = b"<si"
_CELL_STARTS = (b"<c ", b"<c>")
_PREFIXED_SHARED_STRING_RE = re.compile(rb"<[A-Za-z_][\w.\-]*:si(?=[\s/>])")
# A cell reference of two or more letters (columns from AA on: one letter is always within bounds).
_WIDE_REFERENCE_RE = re.compile(rb"""r=["']\$?([A-Za-z]{2,})\$?\d""")
_DIMENSION_RE = re.compile(rb"""dimension\s[^>]*?\bref\s*=\s*["']([^"']*)["']""")
_REFERENCE_RE = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d*)$")


class BoundsExceeded(Exception):
    """The file passes a bound; the message is Chinese (raised as `SpreadsheetError` by the callers)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SpreadsheetBounds:
    max_rows: int  # data rows an import takes (SPREADSHEET_MAX_ROWS)
    max_sheet_rows: int  # rows of a sheet, blank, title and footer rows included (SPREADSHEET_MAX_SHEET_ROWS)
    max_columns: int  # the rightmost column a cell may use (SPREADSHEET_MAX_COLUMNS)
    max_shared_strings: int  # entries of the shared-strings table (SPREADSHEET_MAX_SHARED_STRINGS)
    scan_seconds: float  # the pre-parse scan of the whole archive (SPREADSHEET_SCAN_SECONDS)
    parse_seconds: float  # reading the rows (SPREADSHEET_PARSE_SECONDS), below gunicorn's worker timeout

    @classmethod
    def current(cls) -> SpreadsheetBounds:
        max_rows = int(settings.SPREADSHEET_MAX_ROWS)
        return cls(
            max_rows=max_rows,
            max_sheet_rows=int(getattr(settings, "SPREADSHEET_MAX_SHEET_ROWS", max_rows + 1000)),
            max_columns=int(getattr(settings, "SPREADSHEET_MAX_COLUMNS", 200)),
            max_shared_strings=int(getattr(settings, "SPREADSHEET_MAX_SHARED_STRINGS", 300_000)),
            scan_seconds=float(getattr(settings, "SPREADSHEET_SCAN_SECONDS", 10.0)),
            parse_seconds=float(getattr(settings, "SPREADSHEET_PARSE_SECONDS", 30.0)),
        )

    # The messages, written once (the scan and the readers raise the same ones).

    def rows_message(self) -> str:
        return (
            f"表格超过 {self.max_sheet_rows} 行（空行、标题行和合计、签字等表尾行也计算在内），超过上限，已拒绝："
            f"请删除表格下方多余的空行和合计行后再上传；如确有这么多数据（每次最多 {self.max_rows} 行），"
            "请拆分后分批上传。"
        )

    def columns_message(self, column: int) -> str:
        return (
            f"表格用到了第 {column} 列（{column_letters(column)} 列），超过 {self.max_columns} 列的上限，已拒绝："
            "请删除表格右侧多余的列（包括只有格式或空格的单元格）后再上传。"
        )

    def cells_message(self) -> str:
        return (
            f"表格中有的行超过 {self.max_columns} 个单元格（包括没有写明列号的单元格），超过上限，已拒绝："
            "请删除表格右侧多余的列后再上传。"
        )

    def shared_strings_message(self) -> str:
        return (
            f"文件中的文字条目（共享字符串）超过 {self.max_shared_strings} 条的上限，疑似异常文件，已拒绝："
            "请删除无关的工作表和内容，或在 Excel 中另存为新的工作簿后再上传。"
        )

    def dimension_message(self, declared: str) -> str:
        return (
            f"工作表声明的数据范围（{declared}）超过上限（{self.max_sheet_rows} 行、{self.max_columns} 列），已拒绝："
            "请删除表格下方和右侧多余的行列，保存后再上传。"
        )

    def scan_time_message(self) -> str:
        return f"检查文件用时超过 {self.scan_seconds:g} 秒的上限，疑似异常文件，已拒绝：请删除无关的内容后再上传。"

    def parse_time_message(self) -> str:
        return (
            f"读取表格用时超过 {self.parse_seconds:g} 秒的上限，已停止，未导入任何数据："
            "请删除无关的工作表和多余的行列，或拆分后分批上传。"
        )

    def parse_deadline(self) -> float:
        """The `time.monotonic()` by which the rows must have been read."""
        return time.monotonic() + self.parse_seconds


def column_letters(index: int) -> str:
    """28 → "AB" (1-based)."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_number(letters: bytes | str) -> int:
    """ "AB" → 28; case-insensitive."""
    text = letters.decode("ascii") if isinstance(letters, bytes) else letters
    index = 0
    for char in text.upper():
        index = index * 26 + ord(char) - 64
    return index


def _dimension_extent(ref: str) -> tuple[int, int]:
    """The highest (row, column) of a declared range such as "A1:XFD1048576"; (0, 0) for what is not one."""
    rows = columns = 0
    for part in ref.split(":")[:2]:
        match = _REFERENCE_RE.match(part.strip())
        if match is None:
            continue
        letters, digits = match.groups()
        if letters:
            columns = max(columns, column_number(letters))
        if digits:
            rows = max(rows, int(digits))
    return rows, columns


class _MemberScan:
    """Counts of one member, fed its decompressed bytes in chunks that end after a ``>``."""

    def __init__(self, bounds: SpreadsheetBounds) -> None:
        self.bounds = bounds
        self.rows = 0
        self.shared_strings = 0
        self.dimension_seen = False  # or the sheet's data began (the dimension comes before it)
        self.declared_beyond = ""  # a declared range beyond the bounds (refused once the content was counted)
        # Row numbers with at least as many digits as the bound (the only ones that can pass it).
        digits = len(str(bounds.max_sheet_rows))
        self.long_row_number = re.compile(rb"""row\s[^>]*?\br\s*=\s*["']\s*(\d{%d,})""" % digits)

    def feed(self, data: bytes) -> None:
        bounds = self.bounds
        if not self.dimension_seen:
            match = _DIMENSION_RE.search(data)
            self.dimension_seen = match is not None or b"sheetData" in data
            if match is not None:
                declared = match.group(1).decode("ascii", "replace")
                rows, columns = _dimension_extent(declared)
                if rows > bounds.max_sheet_rows or columns > bounds.max_columns:
                    self.declared_beyond = declared
        rows = data.count(_ROW_START)
        if b":row" in data:
            rows += len(_PREFIXED_ROW_RE.findall(data))
        if rows:
            self.rows += rows
            if self.rows > bounds.max_sheet_rows:
                raise BoundsExceeded(bounds.rows_message())
            for number in self.long_row_number.findall(data):
                if int(number) > EXCEL_MAX_ROW:
                    raise BoundsExceeded(BEYOND_EXCEL_ROWS)
                if int(number) > bounds.max_sheet_rows:
                    raise BoundsExceeded(bounds.rows_message())
        # More cells in a chunk than `max_columns` for every row it touches: some row has too many, whether the
        # cells name their columns or not (a reader counts cells without a reference one after another).
        cells = sum(data.count(start) for start in _CELL_STARTS)
        if cells > bounds.max_columns * (rows + 1):
            raise BoundsExceeded(bounds.cells_message())
        wide = _WIDE_REFERENCE_RE.findall(data)
        if wide:
            rightmost = max(column_number(letters) for letters in set(wide))
            if rightmost > EXCEL_MAX_COLUMN:
                raise BoundsExceeded(BEYOND_EXCEL_COLUMNS)
            if rightmost > bounds.max_columns:
                raise BoundsExceeded(bounds.columns_message(rightmost))
        strings = data.count(_SHARED_STRING_START)
        if b":si" in data:
            strings += len(_PREFIXED_SHARED_STRING_RE.findall(data))
        if strings:
            self.shared_strings += strings
            if self.shared_strings > bounds.max_shared_strings:
                raise BoundsExceeded(bounds.shared_strings_message())

    def finish(self) -> None:
        """The declared range, refused when the content itself passed (its own message is more precise)."""
        if self.declared_beyond:
            raise BoundsExceeded(self.bounds.dimension_message(self.declared_beyond))


# Another reader of the members' bytes (`portal.spreadsheet_calamine`'s scan): given a member, a function fed
# its decompressed chunks as they come and b"" at its end, or None when the member is not its concern.
MemberObserver = Callable[[zipfile.ZipInfo], Callable[[bytes], None] | None]


def check_archive_bounds(
    archive: zipfile.ZipFile, bounds: SpreadsheetBounds | None = None, *, observe: MemberObserver | None = None
) -> None:
    """Stream every member and refuse (`BoundsExceeded`) a sheet or table beyond the bounds.

    The caller has checked the zip directory (member count, total uncompressed size, ratios); this
    reads each member once, decompressed in 1 MB chunks, and stops at the first bound passed. `observe`
    lets another scan read the same decompressed bytes (a worksheet is then decompressed once, not twice).
    """
    bounds = bounds or SpreadsheetBounds.current()
    deadline = time.monotonic() + bounds.scan_seconds
    for info in archive.infolist():
        if info.is_dir():
            continue
        scan = _MemberScan(bounds)
        also = observe(info) if observe is not None else None
        carry = b""
        with archive.open(info) as member:
            while True:
                chunk = member.read(_CHUNK)
                if not chunk:
                    break
                if also is not None:
                    also(chunk)
                data = carry + chunk
                cut = data.rfind(b">") + 1
                if cut:
                    scan.feed(data[:cut])
                    carry = data[cut:]
                else:
                    carry = data
                if len(carry) > _MAX_CARRY:
                    carry = carry[-1024:]  # text, not markup: only its end can begin a tag
                if time.monotonic() > deadline:
                    raise BoundsExceeded(bounds.scan_time_message())
            if carry:
                scan.feed(carry)
        scan.finish()
        if also is not None:
            also(b"")


__all__ = [
    "EXCEL_MAX_COLUMN",
    "EXCEL_MAX_ROW",
    "BoundsExceeded",
    "MemberObserver",
    "SpreadsheetBounds",
    "check_archive_bounds",
    "column_letters",
    "column_number",
]
