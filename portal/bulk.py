"""Many rows of one model written at once, inside the caller's transaction: the bulk writers of the audit log
(`portal.audit.audit_record_many`), of hazard events and of the ledger import read this.

What bulk_create does, without its per-value preparation of every field of every object, which was the
largest cost of a 10,000-row ledger import (30,000 objects, ~60 % of the write time). Rows are dicts of
attname → value with every concrete field but the id.

* SQLite and others: multi-row INSERTs of `BATCH_SIZE` rows, values adapted by the field's own
  ``get_db_prep_save`` where the driver needs it (dates, timestamps, decimals, JSON, IP addresses);
* PostgreSQL (psycopg2): one ``COPY … FROM STDIN`` per call from `COPY_MIN_ROWS` rows on, the values
  written in COPY's text format (`_copy_text`), which the server parses far faster than bound INSERT
  parameters. ``ids=True`` reserves the ids from the table's sequence first (``nextval`` over
  ``generate_series``), writes them in the COPY, and answers them in the rows' order, so a caller gets
  its ids without reading the rows back.

Neither opens a transaction: the caller's ``transaction.atomic`` makes the writes all or nothing.
"""

from __future__ import annotations

import contextlib
import gc
import io
import itertools
import json
import operator
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models

BATCH_SIZE = 500
COPY_MIN_ROWS = 200  # below this one INSERT is as quick and the COPY setup is not worth it
_COPY_READ = 256 * 1024  # characters psycopg2 asks the COPY source for at a time

# Field types whose Python value is already what the database driver takes.
_PLAIN_TYPES = frozenset(
    {
        "CharField", "TextField", "ForeignKey", "IntegerField", "BigIntegerField", "SmallIntegerField",
        "PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField", "BooleanField",
    }
)  # fmt: skip


@dataclass(frozen=True)
class _Plan:
    attnames: list[str]  # every concrete field but the id, in column order
    fields: list[Any]
    adapted: list[Any]  # the field where the driver needs the backend's adaptation, else None
    head: str  # INSERT INTO … (columns) VALUES
    row_sql: str  # (%s, …)
    columns: str  # the quoted column list


_PLANS: dict[tuple[type[models.Model], str], _Plan] = {}


def _plan(model: type[models.Model], db: Any) -> _Plan:
    key = (model, db.vendor)
    plan = _PLANS.get(key)
    if plan is None:
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        quote = db.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        # Identifiers from the model's own metadata, quoted by the backend; every value is a parameter.
        head = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608  # nosec B608 # quoted model identifiers
        plan = _PLANS[key] = _Plan(
            attnames=[field.attname for field in fields],
            fields=fields,
            adapted=[None if field.get_internal_type() in _PLAIN_TYPES else field for field in fields],
            head=head,
            row_sql=f"({', '.join(['%s'] * len(fields))})",
            columns=columns,
        )
    return plan


def _escape(text: str) -> str:
    """COPY's text-format escapes, only where needed (``in`` is a memchr; str.translate with a table walks
    every character in Python's dict: it was two thirds of a 10,000-row COPY)."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text:
        text = text.replace("\t", "\\t")
    if "\n" in text:
        text = text.replace("\n", "\\n")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    return text


def _text(value: Any) -> str:
    return _escape(str(value))


_NULL = "\\N"


def _text_column(values: tuple[Any, ...]) -> Sequence[str]:
    """A text column of a batch: the values themselves when none is NULL, none is not a str and none holds a
    character COPY escapes, checked once on the column's joined text (C speed) instead of cell by cell."""
    try:
        joined = "".join(values)
    except TypeError:  # a NULL, or a value that is not a str
        return [_NULL if value is None else _text(value) for value in values]
    if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
        return [_escape(value) for value in values]
    return values


def _mapped(convert: Callable[[Any], str]) -> Callable[[tuple[Any, ...]], Sequence[str]]:
    """A column of hashable values converted once per distinct value (an import's timestamp, its dates, ids and
    amounts repeat): equal values give the same stored value (1.0 and 1.00 are one numeric)."""

    def column(values: tuple[Any, ...]) -> Sequence[str]:
        try:
            texts = {value: _NULL if value is None else convert(value) for value in set(values)}
        except TypeError:  # unhashable
            return [_NULL if value is None else convert(value) for value in values]
        return list(map(texts.__getitem__, values))

    return column


_mapped_text = _mapped(_text)


def _plain_column(values: tuple[Any, ...]) -> Sequence[str]:
    """Numbers, foreign keys, IP addresses: plain ints (ids) are their digits, mapped in C; anything else is
    converted once per distinct value and escaped."""
    nulls = values.count(None)
    if nulls == len(values):
        return [_NULL] * nulls
    if not nulls and set(map(type, values)) == {int}:
        return list(map(str, values))
    return _mapped_text(values)


def _json_column(field: Any) -> Callable[[tuple[Any, ...]], Sequence[str]]:
    # One encoder for the column: json.dumps(value, cls=…) would build one per value. Its output is
    # json.dumps's (the same defaults), as JSONField writes it.
    encode = (field.encoder or json.JSONEncoder)().encode

    def column(values: tuple[Any, ...]) -> Sequence[str]:
        if values.count(None) == len(values):  # a create's `before`
            return [_NULL] * len(values)
        return [_NULL if value is None else _escape(encode(value)) for value in values]

    return column


def _copy_column(field: Any) -> Callable[[tuple[Any, ...]], Sequence[str]]:
    """The column's values of a batch (a tuple) → their texts in COPY's text format (NULL as \\N)."""
    if isinstance(field, models.JSONField):
        return _json_column(field)
    if isinstance(field, models.BooleanField):
        return _mapped(lambda value: "t" if value else "f")
    if isinstance(field, models.DateField | models.TimeField):  # DateTimeField is a DateField
        return _mapped(lambda value: value.isoformat())
    if isinstance(field, models.CharField | models.TextField):
        return _text_column
    return _plain_column  # numbers, foreign keys, IP addresses


def _copy_lines(rows: list[dict[str, Any]], plan: _Plan, ids: list[int] | None) -> Iterator[str]:
    """The rows in COPY's text format (tab-separated, one line per row, the id first when given), a batch of
    `BATCH_SIZE` rows per string: the whole text of 10,000 rows is never held at once. Each batch is turned
    into columns and converted a column at a time, so that the per-value work runs in C (joins, maps, set
    lookups) rather than in a Python call per cell: that was the largest part of a ledger import's write."""
    attnames = plan.attnames
    getter = operator.itemgetter(*attnames)
    converters = [_copy_column(field) for field in plan.fields]
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        if len(attnames) == 1:
            transposed: list[tuple[Any, ...]] = [tuple(row[attnames[0]] for row in batch)]
        else:
            transposed = list(zip(*map(getter, batch), strict=True))
        columns = [convert(values) for convert, values in zip(converters, transposed, strict=True)]
        if ids is not None:
            columns.insert(0, list(map(str, ids[start : start + len(batch)])))
        yield "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


class _CopySource(io.TextIOBase):
    """A file for psycopg2's ``copy_expert`` that reads the batches of `_copy_lines` as they are made."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks
        self._buffer = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        if size is None or size < 0:
            text, self._buffer = self._buffer + "".join(self._chunks), ""
            return text
        while len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        text, self._buffer = self._buffer[:size], self._buffer[size:]
        return text


def _copy(db: Any, model: type[models.Model], rows: list[dict[str, Any]], *, ids: bool) -> list[int] | None:
    plan = _plan(model, db)
    quote = db.ops.quote_name
    table = model._meta.db_table
    pk = model._meta.pk
    assert pk is not None  # every model has one; for the type checker
    with db.cursor() as cursor:
        reserved: list[int] | None = None
        if ids:
            # As many ids from the table's own sequence as an INSERT without ids would take.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk.column, len(rows)],
            )
            reserved = [row[0] for row in cursor.fetchall()]
        head = f"{quote(pk.column)}, {plan.columns}" if ids else plan.columns
        sql = f"COPY {quote(table)} ({head}) FROM STDIN"
        cursor.cursor.copy_expert(sql, _CopySource(_copy_lines(rows, plan, reserved)), size=_COPY_READ)
    return reserved


def _uses_copy(db: Any, count: int) -> bool:
    """COPY through psycopg2's ``copy_expert`` (psycopg 3 has another API: INSERTs there)."""
    return db.vendor == "postgresql" and count >= COPY_MIN_ROWS and db.Database.__name__ == "psycopg2"


_gc_lock = threading.Lock()
_gc_pauses = 0  # callers inside `gc_paused` (threads of one process share the collector)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a bulk import reads, checks and writes its rows.

    Such an import builds some 10^5 objects (rows, hazards, events, audit rows) that all live until it ends;
    each time the allocations pass the collector's threshold it scans them again, for nothing: a fifth of a
    10,000-row ledger import's CPU went to some 300 collections. Reference counting still frees everything
    as usual (an import makes no cycles worth waiting for); the collector resumes when the last paused
    caller leaves, and its next collections look at the survivors once.
    """
    global _gc_pauses
    with _gc_lock:
        if _gc_pauses == 0 and not gc.isenabled():
            paused = False  # someone else turned it off: theirs to turn on
        else:
            paused = True
            _gc_pauses += 1
            gc.disable()
    try:
        yield
    finally:
        if paused:
            with _gc_lock:
                _gc_pauses -= 1
                if _gc_pauses == 0:
                    gc.enable()


def bulk_insert(model: type[models.Model], rows: list[dict[str, Any]], *, ids: bool = False) -> list[int] | None:
    """Insert the rows (attname → value; every concrete field but the id). With ``ids=True`` on PostgreSQL the
    new ids in the rows' order; otherwise None (the caller reads them back by a key of its own)."""
    if not rows:
        return [] if ids else None
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the thread-local proxy (30,000 lookups)
    db.ensure_connection()
    if _uses_copy(db, len(rows)):
        return _copy(db, model, rows, ids=ids)
    plan = _plan(model, db)
    head, row_sql = plan.head, plan.row_sql
    getter = operator.itemgetter(*plan.attnames)
    # Only dates, timestamps, amounts and JSON need the backend's adaptation; each distinct (hashable) value
    # is adapted once (the import's timestamp and the dates repeat).
    to_adapt: list[tuple[int, Any, dict[Any, Any]]] = [
        (index, model_field, {}) for index, model_field in enumerate(plan.adapted) if model_field is not None
    ]

    def prepare(row: dict[str, Any]) -> Any:
        values = getter(row)
        if not to_adapt:
            return values
        prepared = list(values)
        for index, model_field, memo in to_adapt:
            value = prepared[index]
            if value is None:
                continue
            try:
                prepared[index] = memo[value]
            except KeyError:
                prepared[index] = memo[value] = model_field.get_db_prep_save(value, db)
            except TypeError:  # unhashable (JSON)
                prepared[index] = model_field.get_db_prep_save(value, db)
        return prepared

    with db.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            batch = [prepare(row) for row in rows[start : start + BATCH_SIZE]]
            if db.vendor == "sqlite":
                cursor.executemany(head + row_sql, batch)
            else:
                cursor.execute(head + ", ".join([row_sql] * len(batch)), list(itertools.chain.from_iterable(batch)))
    return None


__all__ = ["BATCH_SIZE", "COPY_MIN_ROWS", "bulk_insert", "gc_paused"]
