"""A faster row reader for the worksheets of an .xlsx already vetted by `portal.spreadsheets.open_workbook`.

Why: with defusedxml installed, openpyxl parses every worksheet through defusedxml's pure-Python
ElementTree parser, which builds an element per cell and costs about 0.5 ms per row of a ledger —
a 10,000-row ledger took several seconds just to be read, before any check. This module reads the
same worksheet part with the C expat parser and builds the row tuples directly.

It reads the *values* exactly as openpyxl's read-only worksheet does with ``data_only=False``
(``iter_rows(values_only=True)``): shared and inline strings, numbers as int or float, booleans,
dates from the workbook's own date styles and epoch, ISO dates, error codes as text, and a formula as
its text (``"=" + formula``, shared formulas translated), never evaluated. The shared strings, the
date styles and the epoch are openpyxl's own (``load_workbook`` read them, through defusedxml).

Safety is unchanged: ``open_workbook`` has already refused wrong types, oversize files, zip bombs and
any XML member declaring a DOCTYPE or ENTITY; this parser refuses a DOCTYPE or an entity declaration
again by itself (expat handlers, as defusedxml does), refuses rows and columns beyond Excel's limits,
and reads the member in chunks (the archive's total uncompressed size was checked before).

`fast_workbook(workbook)` wraps an openpyxl read-only workbook so that `portal.spreadsheets.find_table`
and `Table.rows` use this reader; worksheets it cannot read this way keep openpyxl's reader.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import IO, Any
from xml.parsers import expat

from openpyxl.formula.translate import Translator
from openpyxl.utils.datetime import from_excel, from_ISO8601

from portal.spreadsheet_bounds import SpreadsheetBounds
from portal.spreadsheets import EXCEL_MAX_ROW, SpreadsheetError

EXCEL_MAX_COLUMN = 16_384
_CHUNK = 64 * 1024
_LETTER_VALUES = {chr(code): code - 64 for code in range(65, 91)}
_FORBIDDEN = "文件含有不允许的 XML 实体或文档类型声明，可能是恶意文件，已拒绝。"


def _refuse(*_args: Any) -> Any:
    raise SpreadsheetError(_FORBIDDEN)


def _column_index(reference: str) -> int:
    """ "B7" → 2, "AA10" → 27 (1-based); 0 when the reference has no letters."""
    index = 0
    for char in reference:
        value = _LETTER_VALUES.get(char)
        if value is None:
            break
        index = index * 26 + value
    return index


def _number(text: str) -> int | float:
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


class _SheetParser:
    """Push parser of one worksheet part: feed bytes, collect (row number, values) as rows complete.

    The expat handlers are closures over local state (cheaper than attribute access: they run for
    every element of the sheet).
    """

    def __init__(
        self,
        shared_strings: Any,
        *,
        epoch: datetime.datetime,
        date_formats: Any,
        timedelta_formats: Any,
        bounds: SpreadsheetBounds | None = None,
    ) -> None:
        bounds = bounds or SpreadsheetBounds.current()
        max_columns = bounds.max_columns
        done: list[tuple[int, list[Any]]] = []
        self.done = done
        shared_formulae: dict[str, Translator] = {}
        # Element name → local name ("x:c" → "c"); plain dicts indexed directly (the fastest lookup), filled
        # on a miss.
        names: dict[str, str] = {}
        # Per row / per cell state.
        row_number = 0
        row: list[Any] = []
        column = 0
        cell_type = "n"
        style = 0
        reference = ""
        text: list[str] = []
        formula: list[str] | None = None
        formula_attrs: dict[str, str] = {}
        capture = 0  # 1: <v>, 2: <f>, 3: <t> of an inline string
        in_inline = False
        in_phonetic = False

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal row_number, row, column, cell_type, style, reference, text, formula, formula_attrs
            nonlocal capture, in_inline, in_phonetic
            try:
                tag = names[name]
            except KeyError:
                tag = names[name] = name.rpartition(":")[2]
            if tag == "c":
                cell_type = attrs.get("t", "n")
                raw_style = attrs.get("s")
                style = int(raw_style) if raw_style else 0
                reference = attrs.get("r", "")
                index = _column_index(reference) if reference else 0
                column = index if index else column + 1
                if column > EXCEL_MAX_COLUMN:
                    raise SpreadsheetError(f"文件结构异常：列号超过 Excel 的上限 {EXCEL_MAX_COLUMN} 列，已拒绝。")
                if column > max_columns:  # a reference the pre-parse scan could not see, or cells without one
                    raise SpreadsheetError(bounds.columns_message(column))
                text = []
                formula = None
            elif tag == "v":
                capture = 1
            elif tag == "row":
                number = attrs.get("r")
                row_number = int(number) if number else row_number + 1
                if row_number > EXCEL_MAX_ROW:
                    raise SpreadsheetError(f"文件结构异常：行号超过 Excel 的上限 {EXCEL_MAX_ROW} 行，已拒绝。")
                row = []
                column = 0
            elif tag == "f":
                capture = 2
                formula = []
                formula_attrs = attrs
            elif tag == "is":
                in_inline = True
            elif tag == "t":
                if in_inline and not in_phonetic:
                    capture = 3
            elif tag == "rPh":
                in_phonetic = True

        def characters(data: str) -> None:
            if capture == 1 or capture == 3:
                text.append(data)
            elif capture == 2 and formula is not None:
                formula.append(data)

        def formula_value() -> str:
            written = "".join(formula or [])
            value = "=" + written
            if formula_attrs.get("t") == "shared":
                index = formula_attrs.get("si", "")
                translator = shared_formulae.get(index)
                if translator is not None and reference:
                    try:
                        return str(translator.translate_formula(reference))
                    except Exception:  # noqa: BLE001 - a formula openpyxl cannot translate is kept as written
                        return value
                if written and reference:
                    shared_formulae[index] = Translator(value, reference)
            return value

        def value() -> Any:
            if formula is not None:
                return formula_value()
            if cell_type == "inlineStr":
                return "".join(text) if text else None
            joined = "".join(text)
            if not joined:
                return None
            if cell_type == "n":
                number = _number(joined)
                if style in date_formats:
                    try:
                        return from_excel(number, epoch, timedelta=style in timedelta_formats)
                    except (OverflowError, ValueError):
                        return "#VALUE!"
                return number
            if cell_type == "s":
                return shared_strings[int(joined)]
            if cell_type == "b":
                return bool(int(joined))
            if cell_type == "d":
                return from_ISO8601(joined)
            return joined  # "str" (a formula's cached text), "e" (an error code)

        def end(name: str) -> None:
            nonlocal row, capture, in_inline, in_phonetic
            try:
                tag = names[name]
            except KeyError:
                tag = names[name] = name.rpartition(":")[2]
            if tag == "c":
                cell = value()
                if cell is not None:
                    index = column - 1
                    size = len(row)
                    if index == size:
                        row.append(cell)
                    elif index > size:
                        row.extend([None] * (index - size))
                        row.append(cell)
                    else:
                        row[index] = cell
            elif tag == "v" or tag == "f" or tag == "t":
                capture = 0
            elif tag == "row":
                done.append((row_number, row))
                row = []
            elif tag == "is":
                in_inline = False
            elif tag == "rPh":
                in_phonetic = False

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.buffer_size = _CHUNK
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = _refuse
        parser.EntityDeclHandler = _refuse
        parser.UnparsedEntityDeclHandler = _refuse
        parser.ExternalEntityRefHandler = _refuse
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        self.parser = parser

    def feed(self, chunk: bytes, final: bool = False) -> list[tuple[int, list[Any]]]:
        self.parser.Parse(chunk, final)
        done = self.done[:]
        self.done.clear()
        return done


def iter_sheet_rows(
    stream: IO[bytes],
    *,
    shared_strings: Any,
    epoch: datetime.datetime,
    date_formats: Any,
    timedelta_formats: Any,
) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values from column A) for each <row> of a worksheet part, in file order."""
    parser = _SheetParser(shared_strings, epoch=epoch, date_formats=date_formats, timedelta_formats=timedelta_formats)
    while chunk := stream.read(_CHUNK):
        yield from parser.feed(chunk)
    yield from parser.feed(b"", final=True)


class FastSheet:
    """A read-only worksheet whose ``iter_rows(values_only=True)`` uses the expat reader."""

    def __init__(self, worksheet: Any) -> None:
        self._worksheet = worksheet
        self.title = worksheet.title
        self.sheet_state = getattr(worksheet, "sheet_state", "visible")

    def reset_dimensions(self) -> None:
        """Dimensions are never used: rows are read as they are in the file."""

    def _rows(self) -> Iterator[tuple[int, list[Any]]]:
        worksheet = self._worksheet
        workbook = worksheet.parent
        with workbook._archive.open(worksheet._worksheet_path) as stream:
            yield from iter_sheet_rows(
                stream,
                shared_strings=worksheet._shared_strings,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )

    def iter_rows(
        self,
        min_row: int = 1,
        max_row: int | None = None,
        min_col: int = 1,
        max_col: int | None = None,
        values_only: bool = True,
    ) -> Iterator[tuple[Any, ...]]:
        """Rows ``min_row``..``max_row`` as value tuples, missing rows as empty ones (as openpyxl does)."""
        if not values_only:
            yield from self._worksheet.iter_rows(
                min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col, values_only=False
            )
            return
        start = min_col - 1
        width = None if max_col is None else max_col - start
        empty: tuple[Any, ...] = (None,) * width if width is not None else ()
        counter = min_row
        number = 0
        for number, values in self._rows():
            if max_row is not None and number > max_row:
                break
            while counter < number:
                counter += 1
                yield empty
            if counter <= number:
                counter += 1
                cells = values[start:] if start else values
                if width is not None:
                    if len(cells) >= width:
                        yield tuple(cells[:width])
                    else:
                        yield (*cells, *((None,) * (width - len(cells))))
                else:
                    yield tuple(cells)
        if max_row is not None and max_row < number:
            while counter <= max_row:
                counter += 1
                yield empty


class FastWorkbook:
    """The sheets of an openpyxl read-only workbook, read with `FastSheet` where possible."""

    def __init__(self, workbook: Any) -> None:
        self._workbook = workbook
        self.worksheets = [self._wrap(sheet) for sheet in workbook.worksheets]
        self.sheetnames = [sheet.title for sheet in self.worksheets]

    @staticmethod
    def _wrap(worksheet: Any) -> Any:
        readable = (
            hasattr(worksheet, "_worksheet_path")
            and hasattr(worksheet, "_shared_strings")
            and hasattr(getattr(worksheet, "parent", None), "_archive")
        )
        return FastSheet(worksheet) if readable else worksheet

    def __getitem__(self, name: str) -> Any:
        for sheet in self.worksheets:
            if sheet.title == name:
                return sheet
        raise KeyError(name)

    def close(self) -> None:
        self._workbook.close()


def fast_workbook(workbook: Any) -> FastWorkbook:
    return FastWorkbook(workbook)


__all__ = ["FastSheet", "FastWorkbook", "fast_workbook", "iter_sheet_rows"]
