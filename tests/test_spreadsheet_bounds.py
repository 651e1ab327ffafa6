"""Hostile spreadsheets are bounded before they are read (portal.spreadsheet_bounds): the rows (blank and footer
rows included), the columns, the declared dimension and the shared strings are counted by streaming the
archive, and refused in Chinese in under 3 s with little memory and nothing written — for every importer
(ledger, enterprise directory, enforcement records). The readers check the same bounds and a time budget."""

from __future__ import annotations

import datetime
import io
import re
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from hazards.ledger import ledger_import, ledger_validate
from hazards.models import Hazard, HazardEvent, LedgerUpload
from inspections.imports import enforcement_import_commit
from inspections.models import EnforcementRecord
from portal.imports import enterprise_import_commit
from portal.models import AuditEvent, Enterprise
from portal.spreadsheet_bounds import SpreadsheetBounds, column_letters, column_number
from portal.spreadsheets import SpreadsheetError, open_workbook
from tests import hostile_xlsx
from tests.conftest import Cast, World
from tests.hazards.ledger_xlsx import build, row, simple

SCANNED = hostile_xlsx.HOSTILE
PEAK_BYTES = 32 * 1024 * 1024


@pytest.fixture(autouse=True)
def frozen_today() -> Any:
    with time_machine.travel(datetime.datetime(2024, 7, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


def refused(call: Callable[[], Any]) -> tuple[str, float, int]:
    """The Chinese refusal of `call` (a SpreadsheetError or an ImportResult's file error), seconds, peak bytes."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = call()
    except SpreadsheetError as exc:
        message = exc.message
    else:
        assert not result.committed and not result.ok, "the file was accepted"
        message = "\n".join(result.error_lines())
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return message, elapsed, peak


def written() -> tuple[int, ...]:
    return (
        Hazard.objects.count(),
        HazardEvent.objects.count(),
        LedgerUpload.objects.count(),
        Enterprise.objects.count(),
        EnforcementRecord.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize("kind", list(SCANNED))
def test_the_scan_refuses_before_anything_is_parsed(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    build_file, expected = SCANNED[kind]
    data = build_file()
    assert len(data) < 6 * 1024 * 1024  # small on the wire: the bounds, not the upload size, refuse it

    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("openpyxl was asked to parse the workbook")

    monkeypatch.setattr("portal.spreadsheets.load_workbook", no_parsing)
    message, elapsed, peak = refused(lambda: open_workbook(data))
    assert re.search(expected, message), message
    assert "已拒绝" in message and elapsed < 3.0, (message, elapsed)
    assert peak < PEAK_BYTES, f"{kind}: {peak / 1e6:.1f} MB"


def _importers(world: World, cast: Cast) -> dict[str, Callable[[bytes], Any]]:
    return {
        "ledger": lambda data: ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk),
        "enterprises": lambda data: enterprise_import_commit(source=data, user=cast.county_staff),
        "enforcement": lambda data: enforcement_import_commit(source=data, actor=cast.town_a_staff),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("importer", ["ledger", "enterprises", "enforcement"])
@pytest.mark.parametrize("kind", ["far-column-rows", "footer-rows", "shared-strings", "cells-without-references"])
def test_every_importer_refuses_in_chinese_fast_with_nothing_written(
    world: World, cast: Cast, importer: str, kind: str
) -> None:
    build_file, expected = SCANNED[kind]
    data = build_file()
    before = written()
    message, elapsed, peak = refused(lambda: _importers(world, cast)[importer](data))
    assert re.search(expected, message), message
    assert elapsed < 3.0 and peak < PEAK_BYTES, (elapsed, peak)
    assert written() == before


@pytest.mark.django_db
def test_cells_without_references_are_bounded_by_the_reader(world: World, cast: Cast) -> None:
    """A row of 300 cells without references passes the scan (it bounds cells per row only on average over a
    chunk); the reader counts them one by one and stops at the bound."""
    before = written()
    data = hostile_xlsx.columns_without_references(300)
    open_workbook(data).close()
    message, elapsed, peak = refused(lambda: ledger_validate(source=data, enterprise=world.enterprise_a))
    assert "超过 200 列的上限" in message and elapsed < 3.0 and peak < PEAK_BYTES, (message, elapsed)
    assert written() == before


# --- the exact edges, with small bounds -------------------------------------------------------------


@pytest.mark.django_db
def test_rows_are_counted_with_blank_and_footer_rows(world: World, cast: Cast, settings: Any) -> None:
    settings.SPREADSHEET_MAX_SHEET_ROWS = 30
    rows = [row(f"E-{n}", f"隐患{n}") for n in range(29)]  # the header and 29 rows: 30 rows
    assert ledger_validate(source=simple(rows), enterprise=world.enterprise_a).ok
    over = ledger_validate(source=build(rows, below=[["合计"]]), enterprise=world.enterprise_a)
    assert re.match(r"表格超过 30 行（空行、标题行和合计、签字等表尾行也计算在内）", over.error_lines()[0])
    # Blank rows count too (written by hand: <row> elements without a value).
    blank = hostile_xlsx.blank_rows(count=30)
    assert re.match(r"表格超过 30 行", ledger_validate(source=blank, enterprise=world.enterprise_a).error_lines()[0])


@pytest.mark.django_db
def test_the_rightmost_column_is_bounded(world: World, cast: Cast, settings: Any) -> None:
    settings.SPREADSHEET_MAX_COLUMNS = 40
    at_bound = row("C-1") + [None] * 23 + ["备注"]  # 16 columns, then column 40 (AN)
    assert column_letters(40) == "AN" and column_number("AN") == 40
    assert ledger_validate(source=simple([at_bound]), enterprise=world.enterprise_a).ok
    beyond = ledger_validate(source=simple([[*at_bound, "x"]]), enterprise=world.enterprise_a)
    # (openpyxl also declares the range it wrote, A1:AO2; the cells' own message comes first.)
    assert beyond.error_lines() == [SpreadsheetBounds.current().columns_message(41)]
    assert "第 41 列（AO 列），超过 40 列的上限" in beyond.error_lines()[0]


@pytest.mark.django_db
def test_reading_has_a_time_budget(world: World, cast: Cast, settings: Any) -> None:
    rows = simple([row(f"T-{n}", f"隐患{n}") for n in range(300)])
    assert ledger_validate(source=rows, enterprise=world.enterprise_a).ok
    settings.SPREADSHEET_PARSE_SECONDS = 0
    before = written()
    result = ledger_import(source=rows, enterprise=world.enterprise_a, actor=cast.clerk)
    assert result.error_lines() == [SpreadsheetBounds.current().parse_time_message()]
    assert "读取表格用时超过 0 秒的上限，已停止，未导入任何数据" in result.error_lines()[0]
    assert written() == before


@pytest.mark.django_db
def test_a_declared_range_beyond_the_bounds_is_refused(world: World, settings: Any) -> None:
    settings.SPREADSHEET_MAX_SHEET_ROWS = 30
    rows = [row(f"E-{n}", f"隐患{n}") for n in range(29)]
    declared = hostile_xlsx.rewrite_dimension(simple(rows), "A1:P31")  # 30 rows written, 31 declared
    result = ledger_validate(source=declared, enterprise=world.enterprise_a)
    assert result.error_lines() == [SpreadsheetBounds.current().dimension_message("A1:P31")]
    assert ledger_validate(
        source=hostile_xlsx.rewrite_dimension(simple(rows), "A1:P30"), enterprise=world.enterprise_a
    ).ok


def test_a_real_ledger_passes_the_scan_quickly() -> None:
    """The scan must not cost a legal file much: 2,000 rows of the template's 16 columns."""
    data = simple([row(f"S-{n}", f"隐患{n}", note="整改中") for n in range(2000)])
    started = time.perf_counter()
    open_workbook(data).close()
    assert time.perf_counter() - started < 3.0


@pytest.mark.django_db
def test_the_ledger_command_refuses_too(world: World, cast: Cast, tmp_path: Any) -> None:
    path = tmp_path / "台账.xlsx"
    path.write_bytes(hostile_xlsx.footer_rows())
    err = io.StringIO()
    before = written()
    started = time.perf_counter()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_ledger", str(path), "--enterprise", world.enterprise_a.credit_code, stderr=err)
    assert exit_.value.code == 1 and time.perf_counter() - started < 3.0
    assert re.search(SCANNED["footer-rows"][1], err.getvalue()), err.getvalue()
    assert written() == before
