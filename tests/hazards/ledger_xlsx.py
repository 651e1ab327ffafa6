"""Ledger files built in the tests: clean ones, messy ones as enterprises really keep them, hostile ones."""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from hazards.models import Hazard, HazardEvent, LedgerUpload, Notification
from portal.models import AuditEvent

# The template's own header (canonical labels).
HEADER = [
    "隐患编号", "隐患内容", "隐患部位", "发现日期", "隐患级别", "隐患类别", "隐患来源", "发现人", "判定依据",
    "整改措施", "责任单位", "责任人", "整改资金（万元）", "整改时限", "应急预案/临时管控措施", "整改情况",
]  # fmt: skip


def row(
    number: str = "YH-001",
    description: str = "+320平台边坡有浮石未清理",
    *,
    location: str = "+320平台",
    found_on: Any = datetime.date(2024, 5, 1),
    level: str = "一般",
    category: str = "边坡",
    source: str = "企业自查",
    found_by: str = "张三",
    criterion: str = "",
    measures: str = "清理浮石",
    unit: str = "采矿车间",
    person: str = "李四",
    funds: Any = 1.5,
    deadline: Any = datetime.date(2024, 6, 30),
    interim: str = "设置警戒线",
    note: str = "",
) -> list[Any]:
    return [
        number, description, location, found_on, level, category, source, found_by, criterion, measures, unit,
        person, funds, deadline, interim, note,
    ]  # fmt: skip


def major_row(number: str = "YH-900", criterion: str = "露天矿山第（七）项", **kwargs: Any) -> list[Any]:
    kwargs.setdefault("description", "采场边坡出现滑坡迹象未采取措施")
    return row(number, level="重大", criterion=criterion, **kwargs)


def build(
    rows: list[list[Any]],
    *,
    header: list[Any] | None = None,
    above: list[list[Any]] = (),  # type: ignore[assignment]
    below: list[list[Any]] = (),  # type: ignore[assignment]
    merges: tuple[str, ...] = (),
    sheet: str = "隐患台账",
    extra_sheets: dict[str, list[list[Any]]] | None = None,
) -> bytes:
    """An .xlsx: `above` rows (titles), the header, the rows, then `below` (blank, signature rows)."""
    workbook = Workbook()
    for name, content in (extra_sheets or {}).items():
        other = workbook.create_sheet(name, 0)
        for line in content:
            other.append(line)
    worksheet = workbook[workbook.sheetnames[-1]] if extra_sheets else workbook.active
    worksheet.title = sheet
    for line in above:
        worksheet.append(line)
    worksheet.append(header if header is not None else HEADER)
    for line in rows:
        worksheet.append(line)
    for line in below:
        worksheet.append(line)
    for cells in merges:
        worksheet.merge_cells(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def simple(rows: list[list[Any]]) -> bytes:
    return build(rows)


def rewrite_member(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, content if info.filename == name else source.read(info.filename))
    return out.getvalue()


def zip_bomb(inflated_bytes: int) -> bytes:
    """A real ledger whose worksheet member inflates to `inflated_bytes` of padding."""
    source = zipfile.ZipFile(io.BytesIO(simple([row()])))
    out = io.BytesIO()
    chunk = b"<!-- padding -->" * 65536
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


def with_entities() -> bytes:
    """A ledger whose worksheet declares entities (billion laughs)."""
    data = simple([row()])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    declaration = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    head, _, rest = sheet.partition(b"?>")
    return rewrite_member(data, "xl/worksheets/sheet1.xml", head + b"?>" + declaration + rest)


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


# Wrong types, recognised by their content (all named .xlsx by the uploader).
WRONG_TYPES: list[tuple[str, bytes, str]] = [
    ("xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "旧版 Excel（.xls）"),
    ("csv", "隐患编号,隐患内容\nYH-1,边坡浮石\n".encode(), "文本（CSV/TXT）"),
    ("html", b"<html><table><tr><td>1</td></tr></table></html>", "网页"),
    ("pdf", b"%PDF-1.7\n" + b"\0" * 100, "PDF"),
    ("docx", docx_bytes(), "Word"),
]


def counts() -> tuple[int, int, int, int, int]:
    """What an import writes: hazards, their events, audit rows, uploads, notifications."""
    return (
        Hazard.objects.count(),
        HazardEvent.objects.count(),
        AuditEvent.objects.count(),
        LedgerUpload.objects.count(),
        Notification.objects.count(),
    )


def stored_files(media: Path) -> list[Path]:
    return sorted(path for path in media.rglob("*") if path.is_file())
