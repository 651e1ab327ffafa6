"""The ledger's bulk write: a ledger large enough for COPY (on PostgreSQL; INSERTs elsewhere) gives every hazard
its own event and audit row, the ids from the table's sequence, nothing at all when the import fails; and
reading a large ledger keeps its Python allocations bounded.

Runs in both sessions: ``pytest tests/hazards/test_ledger_bulk.py`` and ``… --db=postgresql`` (the COPY path).
"""

from __future__ import annotations

import datetime
import decimal
import gc
import io
import tracemalloc
from typing import Any

import pytest
import time_machine
from openpyxl import Workbook

from hazards import ledger as hazard_ledger
from hazards.choices import HazardAction
from hazards.ledger import ledger_import, ledger_validate
from hazards.models import Hazard, HazardEvent
from portal import bulk
from portal.choices import AuditAction
from portal.models import AuditEvent
from portal.spreadsheets import CellError
from tests.conftest import Cast, World
from tests.hazards.ledger_xlsx import HEADER, counts, row

pytestmark = [pytest.mark.usefixtures("catalogue"), pytest.mark.django_db]

ROWS = bulk.COPY_MIN_ROWS + 50


@pytest.fixture(autouse=True)
def frozen_today() -> Any:
    with time_machine.travel(datetime.datetime(2024, 7, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def media(tmp_path: Any, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def ledger(count: int, *, bad_row: int | None = None) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("隐患台账")
    sheet.append(HEADER)
    for number in range(1, count + 1):
        found = datetime.date(2024, 1, 1) + datetime.timedelta(days=number % 150)
        line = row(f"YH-{number:05d}", f"第{number}处：边坡\t浮石\n未清理\\", found_on=found, deadline=None)
        if number == bad_row:
            line[3] = "2099-12-31"  # a 发现日期 after today: the whole file is refused
        sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("chunk", [hazard_ledger.RECORD_CHUNK, bulk.COPY_MIN_ROWS + 20], ids=["one-chunk", "chunked"])
def test_a_large_ledger_gives_each_hazard_its_event_and_audit_row(
    world: World, cast: Cast, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hazard_ledger, "RECORD_CHUNK", chunk)  # chunked: a COPY, then INSERTs for the rest
    result = ledger_import(source=ledger(ROWS), enterprise=world.enterprise_a, actor=cast.clerk, file_name="台账.xlsx")
    assert result.committed, result.error_lines()
    hazards = {h.pk: h for h in Hazard.objects.filter(enterprise=world.enterprise_a)}
    assert len(hazards) == ROWS
    events = list(HazardEvent.objects.filter(hazard__enterprise=world.enterprise_a))
    assert len(events) == ROWS and {e.hazard_id for e in events} == set(hazards)
    for event in events:
        hazard = hazards[event.hazard_id]
        # The event's row is the hazard's own row of the file (row 2 holds YH-00001).
        assert hazard.ledger_number == f"YH-{event.data['row'] - 1:05d}"
        assert (event.action, event.actor_id, event.to_status) == (
            HazardAction.LEDGER_IMPORT,
            cast.clerk.pk,
            hazard.status,
        )
    audits = list(AuditEvent.objects.filter(object_type="事故隐患", action=AuditAction.CREATE))
    assert len(audits) == ROWS and {a.object_id for a in audits} == {str(pk) for pk in hazards}
    for audit in audits:
        hazard = hazards[int(audit.object_id)]
        assert audit.object_repr == str(hazard) and audit.after is not None and audit.after["id"] == hazard.pk
        assert audit.region_path == world.enterprise_a.town.path and audit.actor_id == cast.clerk.pk
    # Text that COPY's format escapes (a line break, a backslash) arrives as read (the tab folded by clean_text).
    for hazard in hazards.values():
        assert hazard.description == f"第{int(hazard.ledger_number[3:])}处：边坡 浮石\n未清理\\"
    # The ids came from the table's own sequence: an ordinary insert afterwards takes a later one.
    later = Hazard.objects.create(**{**_plain(next(iter(hazards.values()))), "identity_key": "later"})
    assert later.pk > max(hazards)


def test_a_large_ledger_with_one_bad_row_writes_nothing(world: World, cast: Cast) -> None:
    before = counts()
    result = ledger_import(source=ledger(ROWS, bad_row=ROWS - 3), enterprise=world.enterprise_a, actor=cast.clerk)
    assert not result.committed and result.error_lines() == [
        f"第{ROWS - 2}行 发现日期：发现日期不能晚于今天（2024-07-01）。"
    ]
    assert counts() == before


def test_reading_a_large_ledger_keeps_python_allocations_bounded(world: World, cast: Cast) -> None:
    """5,000 rows validated (read, checked, planned) under 40 MB of Python allocations (calamine's own Rust
    buffers are not traced; the bench's peak RSS covers them)."""
    data = ledger(5_000)
    tracemalloc.start()
    try:
        result = ledger_validate(source=data, enterprise=world.enterprise_a, actor=cast.clerk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok and result.created == 5_000
    assert peak < 40 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def _plain(hazard: Hazard) -> dict[str, Any]:
    return {f.attname: getattr(hazard, f.attname) for f in Hazard._meta.concrete_fields if not f.primary_key}


def test_the_import_runs_with_the_collector_paused_and_gives_it_back(
    world: World, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    write = hazard_ledger._write

    def watched(*args: Any, **kwargs: Any) -> None:
        seen.append(gc.isenabled())
        write(*args, **kwargs)

    monkeypatch.setattr(hazard_ledger, "_write", watched)
    assert gc.isenabled()
    result = ledger_import(source=ledger(3), enterprise=world.enterprise_a, actor=cast.clerk)
    assert result.committed and seen == [False]
    assert gc.isenabled()
    # Refused (a 发现日期 after today): given back all the same.
    assert not ledger_import(source=ledger(3, bad_row=2), enterprise=world.enterprise_b, actor=cast.county_staff).ok
    assert gc.isenabled()


def test_a_remembered_parser_tells_true_from_one_and_never_remembers_a_refusal() -> None:
    parse = hazard_ledger._remembered(hazard_ledger.parse_funds)
    assert parse(1) == decimal.Decimal("1.00")
    with pytest.raises(CellError, match="不是有效的数字"):
        parse(True)  # equal to 1, but a 是/否 cell is no amount
    for _ in range(2):
        with pytest.raises(CellError, match="不是有效的数字"):
            parse("十万")
    assert parse(1) == decimal.Decimal("1.00")
