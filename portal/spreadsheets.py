"""Reading and writing .xlsx files that come from people, safely.

Every spreadsheet upload of the portal (the enterprise directory, the hazard ledger, enforcement
records) goes through this module, so the hostile-input rules live in one place:

* ``open_workbook`` refuses, with a Chinese message and before any XML is parsed, a file that is
  too big, that is not an .xlsx by its *content* (an .xls renamed, a CSV, an HTML page, a Word
  document), a zip bomb (total uncompressed size, member count, compression ratio) and any XML
  member that declares a DOCTYPE or an ENTITY. openpyxl then parses with defusedxml (it does so
  whenever defusedxml is installed; ``_assert_defused`` checks it) in read-only mode and
  ``data_only=False``: a formula is read as its text and never evaluated.
* ``find_table`` finds the header row among the first rows of a sheet (under title rows and merged
  cells, possibly on two rows), by column synonyms given by the caller, and ``Table.rows`` yields
  ``(sheet_row_number, {field: raw})``, skipping blank rows and the trailing signature/notes rows.
* ``clean_text``, ``parse_date``, ``parse_decimal`` and ``parse_choice`` turn raw cells into values and
  raise ``CellError`` (a Chinese message) when they cannot.
* ``ImportResult`` is what every importer returns: the rows as they will be saved and the errors by
  sheet row and column, printed as ``第{row}行 {column}：{message}`` by the preview and the CLI.
* ``write_table`` writes an .xlsx; every text cell goes through ``neutralise_formula``.
"""

from __future__ import annotations

import datetime
import decimal
import io
import operator
import os
import re
import tempfile
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel

from portal.spreadsheet_bounds import BoundsExceeded, MemberObserver, SpreadsheetBounds, check_archive_bounds

HEADER_SEARCH_ROWS = 10
# Members smaller than this are never counted as a bomb by their ratio alone.
_RATIO_MIN_MEMBER_BYTES = 1024 * 1024
# Only the prolog of an XML member can hold a DOCTYPE; this much of each member is scanned.
_PROLOG_BYTES = 64 * 1024
# Excel's last row; a file that claims a row beyond it is not from Excel (and openpyxl would fill
# the gap with empty rows one by one).
EXCEL_MAX_ROW = 1_048_576

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04",)
_XML_MEMBER_SUFFIXES = (".xml", ".rels", ".vml")
_FORBIDDEN_XML = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY", "<!doctype", "<!entity")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)


class SpreadsheetError(Exception):
    """The file as a whole is refused. The message is Chinese and meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CellError(ValueError):
    """One cell cannot be read as the value its column expects."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------------------------
# Opening a file
# --------------------------------------------------------------------------------------------


def _max_ratio() -> int:
    return int(getattr(settings, "SPREADSHEET_MAX_COMPRESSION_RATIO", 200))


def read_bytes(source: Any) -> bytes:
    """The bytes of an upload, a path, bytes or a binary file, refusing more than the size limit."""
    limit = int(settings.UPLOAD_MAX_BYTES)
    too_big = f"文件过大：上限为 {limit / (1024 * 1024):.0f} MB，请删除无关的工作表或图片后再上传。"
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > limit:
            raise SpreadsheetError(too_big)
        return data
    if isinstance(source, str | os.PathLike):
        if os.path.getsize(source) > limit:
            raise SpreadsheetError(too_big)
        with open(source, "rb") as handle:
            return handle.read(limit + 1)
    size = getattr(source, "size", None)
    if isinstance(size, int) and size > limit:
        raise SpreadsheetError(too_big)
    if hasattr(source, "open") and getattr(source, "closed", False):
        source.open("rb")
    if hasattr(source, "seek"):
        source.seek(0)
    data = source.read(limit + 1)
    if isinstance(data, str):
        raise SpreadsheetError("无法读取文件：请以二进制方式上传 .xlsx 文件。")
    if len(data) > limit:
        raise SpreadsheetError(too_big)
    return bytes(data)


def _refuse_by_magic(head: bytes) -> None:
    if head.startswith(_OLE2_MAGIC):
        raise SpreadsheetError(
            "这是旧版 Excel（.xls）或已加密的文件，系统只接受 .xlsx：请在 Excel 中“另存为”Excel 工作簿（*.xlsx）"
            "并取消密码后再上传。"
        )
    if head.startswith(_ZIP_MAGICS):
        return
    if head.startswith(b"%PDF"):
        raise SpreadsheetError("这是 PDF 文件，不是 Excel 表格：请上传 .xlsx 文件。")
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml", b"<meta", b"<head")):
        raise SpreadsheetError(
            "这是网页（HTML/XML）格式的文件，只是扩展名像 Excel："
            "请在 Excel 中打开后“另存为”Excel 工作簿（*.xlsx）再上传。"
        )
    if head and b"\x00" not in head[:512]:
        raise SpreadsheetError(
            "这是文本（CSV/TXT）文件，不是 Excel 工作簿：请在 Excel 中打开后“另存为”Excel 工作簿（*.xlsx）再上传。"
        )
    raise SpreadsheetError("无法识别的文件类型：请上传 Excel 工作簿（.xlsx）。")


def _check_archive(archive: zipfile.ZipFile) -> None:
    """Type, size and member checks on the zip directory, before anything is decompressed."""
    members = archive.infolist()
    max_members = int(settings.SPREADSHEET_MAX_MEMBERS)
    if len(members) > max_members:
        raise SpreadsheetError(f"文件结构异常：压缩包内有 {len(members)} 个部件，超过上限 {max_members} 个，已拒绝。")
    names = {info.filename for info in members}
    if "xl/workbook.xml" not in names:
        if "xl/workbook.bin" in names:
            raise SpreadsheetError("这是 Excel 二进制工作簿（.xlsb），请“另存为”Excel 工作簿（*.xlsx）后再上传。")
        if "word/document.xml" in names:
            raise SpreadsheetError("这是 Word 文档，不是 Excel 表格：请上传 .xlsx 文件。")
        if "mimetype" in names or "content.xml" in names:
            raise SpreadsheetError("这是 WPS/OpenDocument 表格（.ods），请“另存为”Excel 工作簿（*.xlsx）后再上传。")
        raise SpreadsheetError("这不是 Excel 工作簿（.xlsx）：压缩包内缺少 xl/workbook.xml。请上传 .xlsx 文件。")
    if "[Content_Types].xml" not in names:
        raise SpreadsheetError("这不是 Excel 工作簿（.xlsx）：压缩包内缺少 [Content_Types].xml。请上传 .xlsx 文件。")
    limit = int(settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES)
    max_ratio = _max_ratio()
    total = 0
    for info in members:
        if info.flag_bits & 0x1:
            raise SpreadsheetError("文件已加密：请在 Excel 中取消密码保护后再上传。")
        if info.filename.startswith("/") or ".." in info.filename.split("/"):
            raise SpreadsheetError("文件结构异常（部件路径非法），已拒绝。")
        total += info.file_size
        if total > limit:
            raise SpreadsheetError(
                f"文件解压后超过 {limit / (1024 * 1024):.0f} MB 的上限（疑似压缩炸弹），已拒绝。"
                "如确有这么多数据，请拆分后分批上传。"
            )
        if info.file_size > _RATIO_MIN_MEMBER_BYTES and info.file_size > max_ratio * max(info.compress_size, 1):
            raise SpreadsheetError(
                f"文件结构异常：部件 {info.filename} 的压缩比超过 {max_ratio} 倍（疑似压缩炸弹），已拒绝。"
            )


def _check_xml_members(archive: zipfile.ZipFile) -> None:
    """No XML member may declare a DOCTYPE or an ENTITY (billion laughs, external entities)."""
    for info in archive.infolist():
        if not info.filename.lower().endswith(_XML_MEMBER_SUFFIXES):
            continue
        with archive.open(info) as member:
            prolog = member.read(_PROLOG_BYTES)
        if any(marker in prolog for marker in _FORBIDDEN_XML):
            raise SpreadsheetError(
                f"文件含有不允许的 XML 实体或文档类型声明（{info.filename}），可能是恶意文件，已拒绝。"
            )


def _check_bounds(archive: zipfile.ZipFile, observe: MemberObserver | None = None) -> None:
    """Rows, columns, declared dimensions and shared strings, counted by streaming every member before
    anything is parsed (`portal.spreadsheet_bounds`)."""
    try:
        check_archive_bounds(archive, observe=observe)
    except BoundsExceeded as exc:
        raise SpreadsheetError(exc.message) from None


def _assert_defused() -> None:
    from openpyxl.xml import DEFUSEDXML, LXML

    if not DEFUSEDXML or LXML:
        # With lxml openpyxl does not use defusedxml; the DOCTYPE scan above still applies, but the
        # deployment is not the one this module was written for.
        raise SpreadsheetError("服务器未启用安全的 XML 解析（defusedxml），暂不能读取表格，请联系管理员。")


def _is_forbidden_xml(exc: BaseException | None) -> bool:
    """defusedxml's DTDForbidden / EntitiesForbidden / ExternalReferenceForbidden, even when wrapped."""
    seen = 0
    while exc is not None and seen < 10:
        if type(exc).__module__.startswith("defusedxml"):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _parse_error(exc: BaseException) -> SpreadsheetError:
    if _is_forbidden_xml(exc):
        return SpreadsheetError("文件含有不允许的 XML 实体或文档类型声明，可能是恶意文件，已拒绝。")
    return SpreadsheetError("文件已损坏或不是有效的 Excel 工作簿（.xlsx），请重新保存后上传。")


def open_workbook(source: Any) -> Workbook:
    """A read-only openpyxl workbook for an upload, a path, bytes or a binary file object.

    Raises ``SpreadsheetError`` (Chinese message) for anything that is not a sane .xlsx. The caller
    closes the workbook (``workbook.close()``), or uses ``open_table``.
    """
    data = read_bytes(source)
    check_workbook_bytes(data)
    _assert_defused()
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as exc:
        # defusedxml's DTDForbidden / EntitiesForbidden, openpyxl's InvalidFileException, KeyError
        # for a missing part, zlib errors: all of them mean the same thing to the user.
        raise _parse_error(exc) from exc


def check_workbook_bytes(data: bytes, *, observe: MemberObserver | None = None) -> None:
    """The hostile-file checks of an .xlsx, before any XML is parsed (``open_workbook``'s, and those of any
    other reader of an upload, e.g. `portal.spreadsheet_calamine`): `SpreadsheetError` when refused.
    `observe` reads the members' bytes as the bounds scan decompresses them (`check_archive_bounds`)."""
    if not data:
        raise SpreadsheetError("文件为空：请上传填写好的 Excel 工作簿（.xlsx）。")
    _refuse_by_magic(data[:1024])
    buffer = io.BytesIO(data)
    try:
        with zipfile.ZipFile(buffer) as archive:
            _check_archive(archive)
            _check_xml_members(archive)
            _check_bounds(archive, observe)
    except SpreadsheetError:
        raise
    except (
        zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError, zlib.error,
    ) as exc:  # fmt: skip
        raise SpreadsheetError("文件已损坏或不是有效的 Excel 工作簿（.xlsx），请重新保存后上传。") from exc


# --------------------------------------------------------------------------------------------
# Text normalisation
# --------------------------------------------------------------------------------------------

_WIDTH_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_ALNUM_FOLD = {code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))}
_SPACE_FOLD = {0x3000: " ", 0x00A0: " ", 0x2002: " ", 0x2003: " ", 0x2009: " ", 0x202F: " "}
_INVISIBLE: dict[int, str | None] = dict.fromkeys((0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF))
_TEXT_FOLD: dict[int, Any] = {**_ALNUM_FOLD, **_SPACE_FOLD, **_INVISIBLE}
# Whether a text has anything to fold at all: a regex search runs in C, str.translate with a dict table looks
# every character up in Python (most cells of a ledger have nothing to fold: translate only those that do).
_TEXT_FOLDABLE_RE = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_TEXT_FOLD)) + "]")
_BRACKETS_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|<[^<>]*>")
_HEADER_DROP_RE = re.compile(r"[\s*※:：]")


def fold_width(value: str) -> str:
    """Full-width ASCII (digits, letters, punctuation) and ideographic spaces to half width."""
    return value.translate(_WIDTH_FOLD).translate(_SPACE_FOLD).translate(_INVISIBLE)


def normalize_header(value: Any) -> str:
    """The comparable form of a header text or a choice label.

    "＊企业名称\\n（全称）" → "企业名称"; "整改资金（万元）" → "整改资金"; "Ａ级" → "a级".
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).translate(_INVISIBLE)
    previous = None
    while previous != text:  # nested brackets
        previous = text
        text = _BRACKETS_RE.sub("", text)
    return _HEADER_DROP_RE.sub("", text).lower()


def is_blank(value: Any) -> bool:
    if not isinstance(value, str):
        return value is None
    # A text that starts with a visible character is not blank: folding never makes one a space (the quick
    # answer for nearly every cell, without folding the whole text).
    first = value[:1]
    if first and not first.isspace() and ord(first) not in _INVISIBLE:
        return False
    return not fold_width(value).strip()


_TEXT_SPACES_RE = re.compile(r"[ \t]+")
# What `clean_text` changes inside a text: control characters (the illegal ones, tabs and line breaks) and the
# characters it folds or drops; runs of spaces and outer spaces are checked apart.
_NEEDS_CLEANING_RE = re.compile("[\x00-\x1f" + "".join(re.escape(chr(code)) for code in sorted(_TEXT_FOLD)) + "]")
# Our own export guard ("'=…"): read back as the text it protected.
_GUARDED_RE = re.compile(r"^'(?=[=+\-@\t\r＝＋－＠])")


def clean_text(value: Any) -> str:
    """A cell as text: digits, letters and spaces folded to half width, trimmed, runs of spaces joined.

    A leading ``=``, ``+``, ``-`` or ``@`` stays as literal text (formulas are never evaluated; every
    export neutralises them again). Numbers keep their digits (13800001234 stays 13800001234).
    """
    if isinstance(value, str):
        # Fast path (most cells): nothing to remove, fold, join or trim, and no guard to unwrap — one regex
        # search in C instead of three passes over the text.
        if (
            _NEEDS_CLEANING_RE.search(value) is None
            and "  " not in value
            and not value[:1].isspace()
            and not value[-1:].isspace()
            and value[:1] != "'"
        ):
            return value
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return "是" if value else "否"
    elif isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    elif isinstance(value, datetime.date):
        return value.isoformat()
    elif isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    elif isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    elif isinstance(value, int):
        return str(value)
    else:
        text = getattr(value, "text", None)  # ArrayFormula and the like
        value = str(text if text is not None else value)
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if _TEXT_FOLDABLE_RE.search(text) is not None:
        text = text.translate(_TEXT_FOLD)
    if "\r" in text or "\n" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = [_TEXT_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
        text = "\n".join(line for line in lines if line)
    else:
        text = _TEXT_SPACES_RE.sub(" ", text).strip()
    return _GUARDED_RE.sub("", text) if text[:1] == "'" else text


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?:[\sT].*)?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Excel serial numbers of 1955-01-01 .. 2099-12-31; outside that a bare number is not a date.
_SERIAL_MIN, _SERIAL_MAX = 20090, 73050


def _make_date(year: int, month: int, day: int, raw: str) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise CellError(f"日期不存在：“{raw}”。") from None


def parse_date(value: Any) -> datetime.date | None:
    """An Excel date cell or the usual written forms: 2024-05-01, 2024/5/1, 2024.5.1, 2024年5月1日, 20240501."""
    if is_blank(value):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        number = float(value)
        if number.is_integer() and 19000101 <= number <= 21001231:
            digits = str(int(number))
            return _make_date(int(digits[:4]), int(digits[4:6]), int(digits[6:]), digits)
        if _SERIAL_MIN <= number <= _SERIAL_MAX:
            converted = from_excel(number)
            return converted.date() if isinstance(converted, datetime.datetime) else converted
        raise CellError(f"无法识别的日期：“{clean_text(value)}”（应为 2024-05-01 或 2024年5月1日 等形式）。")
    text = fold_width(clean_text(value)).strip()
    match = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if match is None:
        raise CellError(f"无法识别的日期：“{clean_text(value)}”（应为 2024-05-01 或 2024年5月1日 等形式）。")
    year, month, day = (int(part) for part in match.groups())
    return _make_date(year, month, day, clean_text(value))


def parse_decimal(
    value: Any,
    *,
    places: int | None = None,
    minimum: decimal.Decimal | int | None = None,
    units: Sequence[str] = (),
) -> decimal.Decimal | None:
    """A number cell or a written number ("1,200.5", "１２", "3.5万元" with units=("万元",))."""
    if is_blank(value):
        return None
    raw = clean_text(value)
    if isinstance(value, bool):
        raise CellError(f"不是有效的数字：“{raw}”。")
    if isinstance(value, int | float | decimal.Decimal):
        number = decimal.Decimal(str(value))
    else:
        text = fold_width(raw).replace(",", "").replace("，", "").replace(" ", "")
        for unit in sorted(units, key=len, reverse=True):
            if text.endswith(unit):
                text = text[: -len(unit)]
                break
        try:
            number = decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise CellError(f"不是有效的数字：“{raw}”。") from None
    if not number.is_finite():
        raise CellError(f"不是有效的数字：“{raw}”。")
    if minimum is not None and number < minimum:
        raise CellError(f"不能小于 {minimum}：“{raw}”。")
    if places is not None:
        quantum = decimal.Decimal(1).scaleb(-places)
        if number != number.quantize(quantum, rounding=decimal.ROUND_HALF_UP):
            raise CellError(f"最多保留 {places} 位小数：“{raw}”。")
        number = number.quantize(quantum)
    return number


def choice_lookup(
    choices: Iterable[tuple[str, str]], synonyms: Mapping[Any, Iterable[str]] | None = None
) -> dict[str, str]:
    """normalised label/value/synonym → stored value, for ``parse_choice``."""
    lookup: dict[str, str] = {}
    for value, label in choices:
        lookup[normalize_header(label)] = value
        lookup[normalize_header(value)] = value
    for value, words in (synonyms or {}).items():
        for word in words:
            lookup[normalize_header(word)] = str(value)
    lookup.pop("", None)
    return lookup


def parse_choice(
    value: Any,
    choices: Iterable[tuple[str, str]],
    *,
    synonyms: Mapping[Any, Iterable[str]] | None = None,
    lookup: Mapping[str, str] | None = None,
) -> str | None:
    """The stored value of a choice written by its label, its value or a synonym; None when blank."""
    if is_blank(value):
        return None
    choices = list(choices)
    table = lookup if lookup is not None else choice_lookup(choices, synonyms)
    found = table.get(normalize_header(clean_text(value)))
    if found is None:
        allowed = "、".join(label for _, label in choices)
        raise CellError(f"“{clean_text(value)}”不是有效的选项，应为：{allowed}。")
    return found


# --------------------------------------------------------------------------------------------
# Finding the table in a sheet
# --------------------------------------------------------------------------------------------

FOOTER_KEYWORDS: tuple[str, ...] = (
    "填表人",
    "填报人",
    "制表人",
    "审核人",
    "审核",
    "审批",
    "负责人",
    "主要负责人",
    "分管负责人",
    "单位负责人",
    "企业负责人",
    "签字",
    "签名",
    "盖章",
    "单位盖章",
    "填表单位",
    "填报单位",
    "填表日期",
    "填报日期",
    "制表日期",
    "备注",
    "注:",
    "注：",
    "说明",
    "合计",
    "总计",
    "小计",
)


def _row_text(row: Sequence[Any]) -> list[str]:
    return [clean_text(cell) for cell in row]


_FOOTER_RE = re.compile(
    "^(?:"
    + "|".join(re.escape(word.rstrip(":：")) for word in sorted(FOOTER_KEYWORDS, key=len, reverse=True))
    + r")(?:[(（][^)）]*[)）])?(?:[:：]|$)"
)


# The first characters of the footer words; values whose text is digits (numbers, dates) never start one.
_FOOTER_FIRST = frozenset(word[0] for word in FOOTER_KEYWORDS)
_NEVER_FOOTER = frozenset({int, float, decimal.Decimal, datetime.datetime, datetime.date, datetime.time})


def is_footer_row(row: Sequence[Any]) -> bool:
    """A signature, notes or totals row: its first non-empty cell is a footer word, alone or followed by
    a colon ("填表人：张三", "主要负责人（签字）：", "备注：…", "合计"). "负责人未带班下井" is data."""
    for cell in row:
        if is_blank(cell):
            continue
        if not isinstance(cell, str):
            return type(cell) not in _NEVER_FOOTER and _is_footer_text(cell)
        first = cell[0]  # not blank: not empty
        if first not in _FOOTER_FIRST and first.isprintable() and not first.isspace():
            # Cleaning and folding keep a visible first character where it is, and no folded character begins
            # a footer word (they are all Chinese): the data rows are answered without cleaning their cell.
            return False
        return _is_footer_text(cell)
    return False


def _is_footer_text(cell: Any) -> bool:
    text = fold_width(clean_text(cell)).replace(" ", "").replace("\n", "")
    return _FOOTER_RE.match(text) is not None


@dataclass
class Table:
    """The data of one sheet, located by its header."""

    worksheet: Any
    sheet_title: str
    header_row: int
    data_start: int
    columns: dict[str, int]  # field → 0-based column index
    labels: dict[str, str]  # field → header text as written in the file (or the canonical label)
    canonical_labels: dict[str, str]
    max_rows: int = field(default_factory=lambda: int(settings.SPREADSHEET_MAX_ROWS))
    bounds: SpreadsheetBounds = field(default_factory=SpreadsheetBounds.current)

    def has(self, name: str) -> bool:
        return name in self.columns

    def label(self, name: str) -> str:
        return self.labels.get(name) or self.canonical_labels.get(name, name)

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(sheet row number, {field: raw value}) for each data row.

        Blank rows are skipped. Signature/notes/totals rows are skipped when they are trailing: if
        data follows them they are given back as data (and then fail validation visibly rather than
        vanish).
        """
        pending: list[tuple[int, dict[str, Any]]] = []
        count = 0
        bounds = self.bounds
        deadline = bounds.parse_deadline()
        width = max(self.columns.values()) + 1
        names = list(self.columns)
        # The record of a row: its cells picked by column (a row is padded to the width first, its trailing
        # empty cells being left off by the readers).
        pick = operator.itemgetter(*self.columns.values())
        single = len(names) == 1
        padding = (None,) * width
        iterator = _parsed_rows(self.worksheet, min_row=self.data_start, max_col=width)
        for number, values in enumerate(iterator, start=self.data_start):
            if number > EXCEL_MAX_ROW:
                raise SpreadsheetError(f"文件结构异常：行号超过 Excel 的上限 {EXCEL_MAX_ROW} 行，已拒绝。")
            if number > bounds.max_sheet_rows:  # blank and footer rows count too
                raise SpreadsheetError(bounds.rows_message())
            if not number & 255 and time.monotonic() > deadline:
                raise SpreadsheetError(bounds.parse_time_message())
            if all(is_blank(cell) for cell in values):
                continue
            cells = values if len(values) >= width else values + padding[len(values) :]
            record = {names[0]: pick(cells)} if single else dict(zip(names, pick(cells), strict=True))
            if is_footer_row(values):
                pending.append((number, record))
                continue
            for item in (*pending, (number, record)):
                count += 1
                if count > self.max_rows:
                    raise SpreadsheetError(f"数据超过 {self.max_rows} 行的上限，请拆分后分批导入。")
                yield item
            pending.clear()


def _parsed_rows(worksheet: Any, **kwargs: Any) -> Iterator[tuple[Any, ...]]:
    """``worksheet.iter_rows(values_only=True, **kwargs)``; a read-only sheet is parsed as it is
    iterated, so a broken or hostile worksheet part surfaces here, as a ``SpreadsheetError``."""
    iterator = worksheet.iter_rows(values_only=True, **kwargs)
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except SpreadsheetError:
            raise
        except Exception as exc:  # ParseError, ValueError, zlib/zip errors, defusedxml's refusals
            raise _parse_error(exc) from exc
        yield tuple(row)


def _display_label(text: str) -> str:
    return text.replace("\n", "").strip("*＊※ ")


def _carry_forward(texts: list[str]) -> list[str]:
    """A horizontally merged group header repeated over the empty cells to its right."""
    carried: list[str] = []
    current = ""
    for text in texts:
        current = text or current
        carried.append(current)
    return carried


def _match_header(
    upper: list[str], lower: list[str] | None, lookup: Mapping[str, str]
) -> tuple[dict[str, int], dict[str, str]]:
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    for index, text in enumerate(upper):
        name = lookup.get(normalize_header(text))
        if name is not None and name not in columns:
            columns[name] = index
            labels[name] = _display_label(text)
    if lower is None:
        return columns, labels
    # Under a real two-row header the cells below the upper labels are blank (merged vertically)
    # or repeat the same label; under a data row they hold data: then there is no second row.
    for name, index in columns.items():
        below = lower[index] if index < len(lower) else ""
        if below and lookup.get(normalize_header(below)) != name:
            return columns, labels
    used = set(columns.values())
    groups = _carry_forward(upper)
    for index, text in enumerate(lower):
        if index in used or not text:
            continue
        group = groups[index] if index < len(groups) else ""
        for candidate in (text, group + text):
            name = lookup.get(normalize_header(candidate))
            if name is not None and name not in columns:
                columns[name] = index
                labels[name] = _display_label(candidate)
                used.add(index)
                break
    return columns, labels


def find_table(
    workbook: Workbook,
    *,
    synonyms: Mapping[str, Sequence[str]],
    required: Collection[str] = (),
    sheet: str | None = None,
    search_rows: int = HEADER_SEARCH_ROWS,
) -> Table:
    """Locate the header (one row, or a group row with a sub-header row under it) in the first rows.

    ``synonyms`` maps each field to the header texts that mean it; the first one is the label used
    in messages. The sheet is ``sheet`` when given, else the first sheet where a header with every
    required field is found.
    """
    lookup: dict[str, str] = {}
    for name, words in synonyms.items():
        for word in words:
            lookup.setdefault(normalize_header(word), name)
    canonical = {name: words[0] for name, words in synonyms.items() if words}
    required = list(required)

    if sheet is not None:
        if sheet not in workbook.sheetnames:
            raise SpreadsheetError(f"文件中没有名为“{sheet}”的工作表。")
        candidates = [workbook[sheet]]
    else:
        candidates = [ws for ws in workbook.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
        candidates = candidates or list(workbook.worksheets)

    best_missing: list[str] | None = None
    for worksheet in candidates:
        if hasattr(worksheet, "reset_dimensions"):
            worksheet.reset_dimensions()  # the <dimension> element of a file is not to be trusted
        head = [_row_text(row) for row in _parsed_rows(worksheet, min_row=1, max_row=search_rows + 1)]
        best: tuple[int, int, int, dict[str, int], dict[str, str]] | None = None
        for offset in range(min(search_rows, len(head))):
            upper = head[offset]
            lower = head[offset + 1] if offset + 1 < len(head) else None
            single_columns, single_labels = _match_header(upper, None, lookup)
            double_columns, double_labels = _match_header(upper, lower, lookup) if lower else ({}, {})
            options = [(single_columns, single_labels, 1)]
            # A two-row header has labels on both rows; labels on the lower row alone are that
            # row's own single-row header.
            if single_columns and len(double_columns) > len(single_columns):
                options.insert(0, (double_columns, double_labels, 2))
            for columns, labels, height in options:
                missing = [name for name in required if name not in columns]
                if best_missing is None or len(missing) < len(best_missing):
                    best_missing = missing
                if missing or not columns:
                    continue
                if best is None or len(columns) > best[0]:
                    best = (len(columns), offset + 1, height, columns, labels)
        if best is not None:
            _, header_row, height, columns, labels = best
            return Table(
                worksheet=worksheet,
                sheet_title=worksheet.title,
                header_row=header_row,
                data_start=header_row + height,
                columns=columns,
                labels=labels,
                canonical_labels=canonical,
            )
    wanted = "、".join(f"“{canonical.get(name, name)}”" for name in (best_missing or required)) or "任何已知列"
    raise SpreadsheetError(
        f"未找到表头：在前 {search_rows} 行中没有找到包含 {wanted} 的行。请使用导入模板，或检查列名是否正确。"
    )


@contextmanager
def open_table(
    source: Any,
    *,
    synonyms: Mapping[str, Sequence[str]],
    required: Collection[str] = (),
    sheet: str | None = None,
) -> Iterator[Table]:
    """``open_workbook`` + ``find_table``; the workbook is closed on exit."""
    workbook = open_workbook(source)
    try:
        yield find_table(workbook, synonyms=synonyms, required=required, sheet=sheet)
    finally:
        workbook.close()


# --------------------------------------------------------------------------------------------
# Import results
# --------------------------------------------------------------------------------------------


class RowAction:
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    LABELS = {CREATE: "新增", UPDATE: "更新", UNCHANGED: "未变"}


@dataclass(frozen=True)
class RowError:
    row: int  # sheet row number as Excel shows it; 0 for the file as a whole
    column: str  # the column label as written in the file; "" for the row as a whole
    message: str

    def __str__(self) -> str:
        if self.row <= 0:
            return self.message
        if self.column:
            return f"第{self.row}行 {self.column}：{self.message}"
        return f"第{self.row}行：{self.message}"


@dataclass
class PreviewRow:
    """One row as it will be saved."""

    row: int
    action: str
    key: str  # what identifies the record (a credit code, a ledger number)
    values: dict[str, str]  # column label → value as it will be saved, for display
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # label → (before, after)
    payload: Any = None  # what the committing service needs (not displayed)

    @property
    def action_label(self) -> str:
        return RowAction.LABELS.get(self.action, self.action)


@dataclass
class ImportResult:
    file_name: str = ""
    sheet_title: str = ""
    header_row: int = 0
    columns: list[str] = field(default_factory=list)  # display column labels, in order
    rows: list[PreviewRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False

    def add_error(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row=row, column=column, message=message))

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self) -> int:
        return self.count(RowAction.CREATE)

    @property
    def updated(self) -> int:
        return self.count(RowAction.UPDATE)

    @property
    def unchanged(self) -> int:
        return self.count(RowAction.UNCHANGED)

    def summary(self) -> str:
        return f"新增 {self.created} 条，更新 {self.updated} 条，未变 {self.unchanged} 条"

    def error_lines(self) -> list[str]:
        return [str(error) for error in sorted(self.errors, key=lambda e: (e.row, e.column))]

    def errors_by_row(self) -> dict[int, list[RowError]]:
        grouped: dict[int, list[RowError]] = {}
        for error in self.errors:
            grouped.setdefault(error.row, []).append(error)
        return grouped


def read_cell(result: ImportResult, table: Table, row: int, name: str, raw: Any, parser: Callable[[Any], Any]) -> Any:
    """``parser(raw)``, or None with the error recorded against the row and the column."""
    try:
        return parser(raw)
    except CellError as exc:
        result.add_error(row, table.label(name), exc.message)
        return None


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_PLAIN_NUMBER_RE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def neutralise_formula(value: Any) -> Any:
    """Text that Excel or LibreOffice could take for a formula gets a leading apostrophe.

    The apostrophe is kept as a visible character of the text (so it survives CSV conversion and
    re-editing the cell in either program), and the cell is written as a string, never a formula.
    Plain numbers written as text ("-5", "+86") and dashes ("-", "——") are left alone: they cannot
    run anything. Non-text values are returned unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_FORMULA_TRIGGERS) and not _PLAIN_NUMBER_RE.match(value) and value.strip("-—") != "":
        return "'" + value
    return value


def _cell_value(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise_formula(ILLEGAL_CHARACTERS_RE.sub("", value))
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def write_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    out: IO[bytes] | None = None,
    sheet_title: str = "数据",
    title: str | None = None,
    widths: Sequence[float] | None = None,
    notes: Mapping[str, Sequence[Sequence[Any]]] | None = None,
) -> IO[bytes]:
    """Write an .xlsx (openpyxl write-only mode: rows go to disk as they come) and return the stream at 0.

    Every text cell goes through ``neutralise_formula``; dates get a yyyy-mm-dd format. ``notes``
    adds further simple sheets (name → rows), e.g. the allowed values of a template.
    """
    stream: IO[bytes] = out if out is not None else tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    for index, width in enumerate(widths or [max(10.0, min(40.0, len(h) * 2.2 + 2)) for h in headers], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    header_row = 1
    if title:
        cell = WriteOnlyCell(sheet, value=_cell_value(title))
        cell.font = Font(bold=True, size=14)
        sheet.append([cell])
        header_row = 2
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=_cell_value(text))
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        header_cells.append(cell)
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.append(header_cells)
    for row in rows:
        cells: list[Any] = []
        for value in row:
            value = _cell_value(value)
            if isinstance(value, datetime.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd" if not isinstance(value, datetime.datetime) else "yyyy-mm-dd hh:mm"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    for name, note_rows in (notes or {}).items():
        extra = workbook.create_sheet(name[:31])
        for note_row in note_rows:
            extra.append([_cell_value(value) for value in note_row])
    workbook.save(stream)
    stream.seek(0)
    return stream


__all__ = [
    "CellError",
    "ImportResult",
    "PreviewRow",
    "RowAction",
    "RowError",
    "SpreadsheetError",
    "Table",
    "check_workbook_bytes",
    "choice_lookup",
    "clean_text",
    "find_table",
    "fold_width",
    "is_blank",
    "is_footer_row",
    "neutralise_formula",
    "normalize_header",
    "open_table",
    "open_workbook",
    "parse_choice",
    "parse_date",
    "parse_decimal",
    "read_bytes",
    "read_cell",
    "write_table",
]
