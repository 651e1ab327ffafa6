"""Hostile .xlsx files that are small on disk and huge once read, written with zipfile directly (fast).

Each is a complete workbook that openpyxl would open: the parts of a real ledger (so that a reader that
gets past the bounds finds a header and data), with one part replaced or added.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterator

from tests.hazards import ledger_xlsx

_MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SHEET = "xl/worksheets/sheet1.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"


def _base() -> dict[str, bytes]:
    """The members of a real one-row ledger, the sheet written with inline strings (no shared strings)."""
    source = zipfile.ZipFile(io.BytesIO(ledger_xlsx.simple([ledger_xlsx.row()])))
    return {info.filename: source.read(info.filename) for info in source.infolist()}


def _cells(values: list[object], number: int) -> bytes:
    cells = []
    for index, value in enumerate(values):
        ref = f"{chr(65 + index)}{number}"
        if value is None or value == "":
            continue
        text = str(value).replace("&", "&amp;").replace("<", "&lt;")
        cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'.encode()


def _head_rows() -> bytes:
    """The template's header and one valid data row, as rows 1 and 2."""
    return _cells(list(ledger_xlsx.HEADER), 1) + _cells(
        ["H-1", "边坡浮石", "+320平台", "2024-05-01", "一般", "边坡"], 2
    )


def _sheet(rows: Iterator[bytes], *, dimension: str | None = "A1:P2") -> Iterator[bytes]:
    yield b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet ' + _MAIN + b">"
    if dimension is not None:
        yield f'<dimension ref="{dimension}"/>'.encode()
    yield b"<sheetData>" + _head_rows()
    yield from rows
    yield b"</sheetData></worksheet>"


def _write(parts: dict[str, Iterator[bytes] | bytes]) -> bytes:
    members = _base()
    members.pop(SHARED_STRINGS, None)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target:
        for name, content in {**members, **parts}.items():
            if isinstance(content, bytes):
                target.writestr(name, content)
                continue
            with target.open(name, "w", force_zip64=True) as member:
                batch: list[bytes] = []
                for piece in content:
                    batch.append(piece)
                    if len(batch) >= 20_000:
                        member.write(b"".join(batch))
                        batch.clear()
                member.write(b"".join(batch))
    return out.getvalue()


def _numbered(template: bytes, count: int, start: int = 3) -> Iterator[bytes]:
    for first in range(start, start + count, 10_000):
        yield b"".join([template % (number, number) for number in range(first, min(first + 10_000, start + count))])


@functools.cache
def far_column_rows(count: int = 1_000_000) -> bytes:
    """`count` rows, each with one value in column XFD (the issue's 7.5 MB file)."""
    return _write(
        {SHEET: _sheet(_numbered(b'<row r="%d"><c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row>', count))}
    )


@functools.cache
def footer_rows(count: int = 1_000_000) -> bytes:
    """`count` trailing 合计 rows under one valid data row (footer rows are skipped, so they escaped the limit)."""
    row = '<row r="%d"><c r="A%d" t="inlineStr"><is><t>合计</t></is></c></row>'.encode()
    return _write({SHEET: _sheet(_numbered(row, count))})


@functools.cache
def blank_rows(count: int = 1_000_000) -> bytes:
    """`count` empty (styled) rows: blank rows are skipped too."""
    return _write({SHEET: _sheet(_numbered(b'<row r="%d" s="1" customFormat="1" ht="%d"/>', count))})


@functools.cache
def one_row_far_down() -> bytes:
    """A single row numbered 1,048,000: a reader that fills the gap builds a million empty rows."""
    far = b'<row r="1048000"><c r="A1048000" t="inlineStr"><is><t>x</t></is></c></row>'
    return _write({SHEET: _sheet(iter([far]))})


@functools.cache
def shared_strings(count: int = 2_000_000) -> bytes:
    """A shared-strings table of `count` entries next to a one-row ledger (the issue's 1.5 MB file)."""

    def table() -> Iterator[bytes]:
        yield (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst '
            + _MAIN
            + f' count="{count}" uniqueCount="{count}">'.encode()
        )
        for start in range(0, count, 1000):
            yield b"".join(b"<si><t>%d</t></si>" % n for n in range(start, min(start + 1000, count)))
        yield b"</sst>"

    members = _base()
    content_types = members["[Content_Types].xml"]
    parts: dict[str, Iterator[bytes] | bytes] = {SHARED_STRINGS: table(), SHEET: _sheet(iter([]))}
    if SHARED_STRINGS not in members:
        override = (
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
        parts["[Content_Types].xml"] = content_types.replace(b"</Types>", override + b"</Types>")
        rels = members["xl/_rels/workbook.xml.rels"]
        parts["xl/_rels/workbook.xml.rels"] = rels.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )
    return _write(parts)


@functools.cache
def lying_dimension() -> bytes:
    """A small sheet that declares the whole grid as its range."""
    return _write({SHEET: _sheet(iter([]), dimension="A1:XFD1048576")})


@functools.cache
def columns_without_references(count: int = 20_000) -> bytes:
    """One row of `count` cells without references (and no dimension): the reader counts them one by one."""
    cells = b'<c t="inlineStr"><is><t>x</t></is></c>' * count
    return _write({SHEET: _sheet(iter([b'<row r="3">' + cells + b"</row>"]), dimension=None)})


def rows_of(count: int, *, columns: int = 6) -> bytes:
    """A legal ledger of `count` data rows under the header (for the bounds' exact edges)."""
    rows = (
        _cells([f"E-{n}", f"隐患{n}", "+320平台", "2024-05-01", "一般", "边坡"][:columns], n + 2)
        for n in range(1, count)
    )
    return _write({SHEET: _sheet(rows, dimension=None)})


def rewrite_dimension(data: bytes, declared: str) -> bytes:
    """The same workbook with the first sheet's <dimension> replaced."""
    sheet = zipfile.ZipFile(io.BytesIO(data)).read(SHEET)
    changed = re.sub(rb'<dimension ref="[^"]*" ?/>', f'<dimension ref="{declared}"/>'.encode(), sheet, count=1)
    assert changed != sheet or declared.encode() in sheet
    return ledger_xlsx.rewrite_member(data, SHEET, changed)


# name → (builder, what the refusal says)
HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "far-column-rows": (far_column_rows, r"第 16384 列（XFD 列），超过 \d+ 列的上限"),
    "footer-rows": (footer_rows, r"表格超过 \d+ 行（空行、标题行和合计、签字等表尾行也计算在内）"),
    "blank-rows": (blank_rows, r"表格超过 \d+ 行（空行、标题行和合计、签字等表尾行也计算在内）"),
    "one-row-far-down": (one_row_far_down, r"表格超过 \d+ 行"),
    "shared-strings": (shared_strings, r"文字条目（共享字符串）超过 \d+ 条的上限"),
    "lying-dimension": (lying_dimension, r"声明的数据范围（A1:XFD1048576）超过上限"),
    "cells-without-references": (columns_without_references, r"表格中有的行超过 \d+ 个单元格"),
}
