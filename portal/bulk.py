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

import io
import itertools
import json
import operator
from collections.abc import Iterator
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


def _copy_converter(field: Any) -> Any:
    """value (not None) → its text in COPY's text format, for one column."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: _escape(json.dumps(value, cls=encoder))
    if isinstance(field, models.BooleanField):
        return lambda value: "t" if value else "f"
    if isinstance(field, models.DateField | models.TimeField):  # DateTimeField is a DateField
        memo: dict[Any, str] = {}  # an import's timestamp and its dates repeat

        def temporal(value: Any) -> str:
            try:
                return memo[value]
            except KeyError:
                text = memo[value] = value.isoformat()
                return text

        return temporal
    if isinstance(field, models.CharField | models.TextField):
        return lambda value: _escape(value) if isinstance(value, str) else _text(value)
    return _text  # numbers, foreign keys, IP addresses


def _copy_lines(rows: list[dict[str, Any]], plan: _Plan, ids: list[int] | None) -> Iterator[str]:
    """The rows in COPY's text format (tab-separated, one line per row, the id first when given), a batch of
    `BATCH_SIZE` rows per string: the whole text of 10,000 rows is never held at once."""
    getter = operator.itemgetter(*plan.attnames)
    converters = [_copy_converter(field) for field in plan.fields]
    columns = range(len(converters))
    for start in range(0, len(rows), BATCH_SIZE):
        lines: list[str] = []
        for position in range(start, min(start + BATCH_SIZE, len(rows))):
            values = getter(rows[position])
            cells = ["\\N" if values[i] is None else converters[i](values[i]) for i in columns]
            if ids is not None:
                cells.insert(0, str(ids[position]))
            lines.append("\t".join(cells))
        lines.append("")
        yield "\n".join(lines)


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


__all__ = ["BATCH_SIZE", "COPY_MIN_ROWS", "bulk_insert"]
