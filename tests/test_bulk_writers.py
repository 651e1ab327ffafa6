"""portal.bulk and the bulk writers on it: `audit_record_many` writes the rows `audit_record` writes,
`record_events_many` the events `_record` writes; on PostgreSQL through COPY (ids reserved from the sequence),
elsewhere through multi-row INSERTs; inside the caller's transaction, all or nothing.

Runs in both sessions: ``pytest tests/test_bulk_writers.py`` and ``… --db=postgresql`` (the COPY path).
"""

from __future__ import annotations

import datetime
import decimal
import gc
import json
from typing import Any

import pytest
from django.db import connection, models, transaction
from django.utils import timezone

from hazards import services as hazard_services
from hazards.models import Hazard, HazardEvent
from portal import bulk
from portal.audit import audit_record, audit_record_many, current_channel, current_ip
from portal.choices import AuditAction, AuditKind
from portal.models import AuditEvent
from tests.conftest import Cast, World

# Text that COPY's text format must escape, and JSON that must survive it.
AWKWARD = "制表\t换行\n回车\r反斜杠\\N 引号\"'，全角　空格"
AWKWARD_JSON = {"文本": AWKWARD, "列表": [1, 2.5, None, True], "嵌套": {"键": "值\\"}}


@pytest.fixture(params=["insert", "copy"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of writing: COPY from one row on (PostgreSQL only), or INSERTs whatever the count."""
    if request.param == "copy":
        if connection.vendor != "postgresql":
            pytest.skip("COPY is PostgreSQL's (run with --db=postgresql)")
        monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 1)
    else:
        monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 10**9)
    return str(request.param)


def _hazard(world: World, cast: Cast, **changes: Any) -> Hazard:
    data: dict[str, Any] = dict(
        actor=cast.clerk, enterprise=world.enterprise_a, level="general", description="+320平台边坡有浮石",
        category="slope", source="self_check", found_on=datetime.date(2024, 5, 1),
    )  # fmt: skip
    data.update(changes)
    return hazard_services.hazard_report(**data)


def _fields(event: AuditEvent) -> dict[str, Any]:
    values = {field.attname: getattr(event, field.attname) for field in AuditEvent._meta.concrete_fields}
    values.pop("id")
    values.pop("created_at")
    return values


def test_audit_record_many_writes_what_audit_record_writes(world: World, cast: Cast, path: str) -> None:
    hazard = _hazard(world, cast)
    # `audit_record` is the writer of rows without an event function: kind legacy.unknown.
    legacy = AuditKind.LEGACY_UNKNOWN
    entries: list[dict[str, Any]] = [
        dict(kind=legacy, actor=cast.clerk, action=AuditAction.UPDATE, instance=hazard, before={"a": AWKWARD},
             after=AWKWARD_JSON, detail=AWKWARD),
        dict(kind=legacy, actor=None, actor_name="manage.py import_ledger", action=AuditAction.CREATE, instance=hazard),
        dict(kind=legacy, actor=cast.county_staff, action=AuditAction.IMPORT, detail="x" * 600, region_path="/自定义/"),
    ]  # fmt: skip
    ip = current_ip.set("10.1.2.3")
    channel = current_channel.set("管理后台")
    try:
        singles = [audit_record(**{k: v for k, v in entry.items() if k != "kind"}) for entry in entries]
        at = timezone.now()
        with CountedStatements() as queries:
            assert audit_record_many(entries, at=at) == len(entries)
        assert queries.count <= 2  # one COPY (or INSERT) whatever the number of rows
    finally:
        current_ip.reset(ip)
        current_channel.reset(channel)
    many = list(AuditEvent.objects.filter(created_at=at).order_by("id"))
    assert [_fields(event) for event in many] == [_fields(event) for event in singles]
    assert many[0].detail.startswith("管理后台：") and many[0].ip_address == "10.1.2.3"
    assert many[0].after == AWKWARD_JSON and many[0].before == {"a": AWKWARD}
    assert many[1].actor_id is None and many[1].actor_name == "manage.py import_ledger"
    assert many[2].region_path == "/自定义/" and len(many[2].detail) == 500


def test_record_events_many_writes_what_one_step_writes(world: World, cast: Cast, path: str) -> None:
    hazard = _hazard(world, cast)
    single = HazardEvent.objects.get(hazard=hazard)
    at = timezone.now()
    events: list[dict[str, Any]] = [
        dict(hazard=hazard, actor=cast.clerk, action=single.action, from_status=single.from_status,
             comment=single.comment, data=single.data),
        dict(hazard=hazard, actor=None, actor_name="manage.py import_ledger", action="update", from_status="reported",
             to_status="rectified", comment=AWKWARD, data=AWKWARD_JSON),
    ]  # fmt: skip
    assert hazard_services.record_events_many(events, at=at) == 2
    first, second = HazardEvent.objects.filter(created_at=at).order_by("id")
    same = ("hazard_id", "actor_id", "actor_name", "action", "from_status", "to_status", "comment", "data")
    assert [getattr(first, name) for name in same] == [getattr(single, name) for name in same]
    assert (second.actor_id, second.actor_name, second.to_status) == (None, "manage.py import_ledger", "rectified")
    assert second.comment == AWKWARD and second.data == AWKWARD_JSON


def test_bulk_insert_keeps_types_and_reserves_ids(world: World, cast: Cast, path: str) -> None:
    template = _hazard(world, cast)
    rows = []
    for number in range(3):
        values = {f.attname: getattr(template, f.attname) for f in Hazard._meta.concrete_fields if not f.primary_key}
        values.update(
            ledger_number=f"B-{number}", identity_key=f"bulk-{number}", description=AWKWARD,
            funds_wan=decimal.Decimal("12.35"), deadline=datetime.date(2024, 6, 30), criterion_id=None,
        )  # fmt: skip
        rows.append(values)
    ids = bulk.bulk_insert(Hazard, rows, ids=True)
    written = list(Hazard.objects.filter(identity_key__startswith="bulk-").order_by("identity_key"))
    assert [h.description for h in written] == [AWKWARD] * 3
    assert {h.funds_wan for h in written} == {decimal.Decimal("12.35")}
    assert {h.deadline for h in written} == {datetime.date(2024, 6, 30)}
    if path == "copy":
        assert ids == [h.pk for h in written]
    else:
        assert ids is None
    # The sequence moved past the written ids: the next ordinary insert does not collide.
    assert _hazard(world, cast, description="下一条").pk > max(h.pk for h in written)


def test_the_bulk_writes_are_the_callers_transaction(world: World, cast: Cast, path: str) -> None:
    hazard = _hazard(world, cast)
    before = (AuditEvent.objects.count(), HazardEvent.objects.count())
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record_many(
            [dict(kind=AuditKind.HAZARD_UPDATED, actor=cast.clerk, action=AuditAction.UPDATE, instance=hazard)] * 5
        )
        hazard_services.record_events_many([dict(hazard=hazard, actor=cast.clerk, action="update", from_status="")] * 5)
        raise RuntimeError("roll back")
    assert (AuditEvent.objects.count(), HazardEvent.objects.count()) == before


class _Counter:
    count = 0


class CountedStatements:
    """Counts the statements executed (COPY included: psycopg2's copy_expert is not seen by Django's log)."""

    def __enter__(self) -> _Counter:
        self.counter = _Counter()
        self.original = bulk._copy
        counter = self.counter

        def counted_copy(*args: Any, **kwargs: Any) -> Any:
            counter.count += 1
            return self.original(*args, **kwargs)

        bulk._copy = counted_copy  # type: ignore[assignment]
        self.wrapper = connection.execute_wrapper(self._count)
        self.wrapper.__enter__()
        return counter

    def _count(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.counter.count += 1
        return execute(sql, params, many, context)

    def __exit__(self, *exc: Any) -> None:
        self.wrapper.__exit__(*exc)
        bulk._copy = self.original  # type: ignore[assignment]


def _copy_text(value: Any, field: Any) -> str:
    """One value in COPY's text format, worked out value by value (what the column-wise writer must give)."""
    if value is None:
        return "\\N"
    if isinstance(field, models.JSONField):
        text = json.dumps(value, cls=field.encoder)
    elif isinstance(field, models.BooleanField):
        text = "t" if value else "f"
    elif isinstance(field, models.DateField | models.TimeField):
        text = value.isoformat()
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def test_copy_lines_convert_each_value_as_copy_reads_it() -> None:
    """The column-wise COPY text: NULLs, escapes, a value that is not a str in a text column, repeated and
    distinct dates, JSON with a backslash — each cell as a value-by-value conversion gives it."""
    at = datetime.datetime(2024, 5, 1, 8, 30, tzinfo=datetime.UTC)
    rows: list[dict[str, Any]] = []
    for number in range(bulk.BATCH_SIZE + 3):  # two batches
        rows.append(
            {
                "hazard_id": number + 1, "actor_id": None if number % 2 else 7,
                "actor_name": AWKWARD if number == 5 else ("甲" if number % 3 else 42),
                "created_at": at + datetime.timedelta(days=number % 4), "action": "update",
                "from_status": "", "to_status": "reported", "comment": "无" if number % 5 else "a\\b\r\nc",
                "data": AWKWARD_JSON if number == 7 else {"row": number},
            }
        )  # fmt: skip
    plan = bulk._plan(HazardEvent, connection)
    text = "".join(bulk._copy_lines(rows, plan, ids=None))
    expected = "".join(
        "\t".join(_copy_text(row[attname], field) for attname, field in zip(plan.attnames, plan.fields, strict=True))
        + "\n"
        for row in rows
    )
    assert text == expected
    with_ids = "".join(bulk._copy_lines(rows[:3], plan, ids=[11, 12, 13]))
    assert [line.split("\t", 1)[0] for line in with_ids.splitlines()] == ["11", "12", "13"]


def test_gc_paused_pauses_the_collector_until_the_last_caller_leaves() -> None:
    assert gc.isenabled()
    with bulk.gc_paused():
        assert not gc.isenabled()
        with bulk.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer caller still holds it
    assert gc.isenabled()
    with pytest.raises(RuntimeError), bulk.gc_paused():
        raise RuntimeError("an import that fails")
    assert gc.isenabled()


def test_gc_paused_leaves_a_collector_someone_else_turned_off() -> None:
    gc.disable()
    try:
        with bulk.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
