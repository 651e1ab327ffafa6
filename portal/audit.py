"""修改留痕: the audit log writer used by every service.

Services record what happened through one function per event kind (the apps' `audit_events.py`),
each calling `audit_write` here inside the caller's transaction, so a change and its audit row are
saved together or not at all. The request's address comes from a context variable set by
`portal.middleware.RequestContextMiddleware`, so services need no request argument.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import decimal
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from portal.bulk import bulk_insert
from portal.choices import AuditAction, AuditKind
from portal.models import AuditEvent, User

current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)
# The way in of the current write when it is not a portal page or the API (the admin site sets "管理后台"):
# every audit row written meanwhile names it first in its detail.
current_channel: contextvars.ContextVar[str] = contextvars.ContextVar("current_channel", default="")
# Inside `audit_batch()`, rows are collected here and saved together at its end (bulk importers).
_batch: contextvars.ContextVar[list[AuditEvent] | None] = contextvars.ContextVar("audit_batch", default=None)


_JSON_PLAIN = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in _JSON_PLAIN:  # most values: no isinstance chain
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The concrete field values of a record, JSON-safe; secrets are left out."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in {"password"}:
            continue
        data[field.name] = _jsonable(getattr(instance, field.attname))
    return data


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, tuple[Any, Any]]:
    before = before or {}
    after = after or {}
    return {
        key: (before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def region_path_of(instance: models.Model | None) -> str:
    """The region path a record is filed under, following the model's own scope lookups."""
    if instance is None:
        return ""
    # __class__, not type(): request.user is a SimpleLazyObject that proxies __class__.
    lookups = getattr(instance.__class__, "scope_region_path", None)
    if lookups is None:
        return ""
    for lookup in (lookups,) if isinstance(lookups, str) else lookups:
        value: Any = instance
        for part in lookup.split("__"):
            value = getattr(value, part, None)
            if value is None:
                break
        if value:
            return str(value)
    return ""


def audit_values(
    *,
    kind: str,
    action: str,
    actor: User | None,
    instance: models.Model | None = None,
    extra: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
    region_path: str | None = None,
    actor_name: str = "",
) -> dict[str, Any]:
    """The fields of one audit row (by attname): `audit_row` makes the row of them, `audit_record_many` writes
    many at once. Only the functions of the apps' `audit_events.py` (one per kind) and the importers' bulk
    writers call this, so every row says what happened; the request's address is filled in here.
    """
    channel = current_channel.get()
    if channel and not detail.startswith(channel):
        detail = f"{channel}：{detail}" if detail else channel
    if region_path is None:
        region_path = region_path_of(instance) or (region_path_of(actor) if actor is not None else "")
    pk = instance.pk if instance is not None else None
    return {
        "actor_id": (actor.pk or None) if actor is not None else None,
        "actor_name": actor_name or (actor.get_username() if actor is not None else ""),
        "action": action,
        "kind": kind,
        "object_type": str(instance._meta.verbose_name) if instance is not None else "",
        "object_id": str(pk) if pk is not None else "",
        "object_repr": str(instance)[:200] if instance is not None else "",
        "before": before,
        "after": after,
        "detail": detail[:500],
        "extra": {key: _jsonable(value) for key, value in (extra or {}).items()},
        "ip_address": current_ip.get(),
        "region_path": region_path,
    }


def audit_row(**values: Any) -> AuditEvent:
    """One audit row, not yet saved (the arguments of `audit_values`): `audit_write` saves it, `audit_batch`
    collects many for one bulk_create."""
    actor = values.get("actor")
    event = AuditEvent(**audit_values(**values))
    if actor is not None and actor.pk:
        event.actor = actor
    return event


def audit_write(
    *,
    kind: str,
    action: str,
    actor: User | None,
    instance: models.Model | None = None,
    extra: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
    region_path: str | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """Saves one audit row (see `audit_row`) inside the caller's transaction."""
    event = audit_row(
        kind=kind, action=action, actor=actor, instance=instance, extra=extra, before=before, after=after,
        detail=detail, region_path=region_path, actor_name=actor_name,
    )  # fmt: skip
    batch = _batch.get()
    if batch is not None:
        batch.append(event)
    else:
        event.save(force_insert=True)
    return event


def audit_record(
    *,
    actor: User | None,
    action: str,
    instance: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
    region_path: str | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """The writer from before event kinds: a row that says only its coarse `action` (kind legacy.unknown).

    Kept for code that has no event function yet (tests, branches written before kinds); the portal's own
    code calls the functions of the apps' `audit_events.py` instead (tests/test_audit_kinds.py checks it).
    """
    return audit_write(
        kind=AuditKind.LEGACY_UNKNOWN, action=action, actor=actor, instance=instance, before=before, after=after,
        detail=detail, region_path=region_path, actor_name=actor_name,
    )  # fmt: skip


@contextlib.contextmanager
def audit_batch(batch_size: int = 500) -> Iterator[list[AuditEvent]]:
    """Rows written by the audit event functions inside the block are saved with one bulk INSERT per
    `batch_size` at its end (an importer writing thousands of rows), with the same kinds and summaries as
    one by one; the rows carry no id until then. Nothing is saved if the block raises."""
    rows: list[AuditEvent] = []
    token = _batch.set(rows)
    try:
        yield rows
    finally:
        _batch.reset(token)
    AuditEvent.objects.bulk_create(rows, batch_size=batch_size)


def audit_record_many(entries: Iterable[Mapping[str, Any]], *, at: datetime.datetime | None = None) -> int:
    """Many audit rows at once (an import's), inside the caller's transaction: each entry holds the keyword
    arguments of `audit_values` (kind and extra included) and gives the row `audit_write` would write, all with
    one timestamp (``at``, the caller's own when its rows share one), written by `portal.bulk.bulk_insert`
    (COPY on PostgreSQL). Answers how many rows were written."""
    now = at or timezone.now()
    rows = [audit_values(**entry) for entry in entries]
    for row in rows:
        row["created_at"] = now
    bulk_insert(AuditEvent, rows)
    return len(rows)


__all__ = [
    "AuditAction",
    "audit_batch",
    "audit_record",
    "audit_record_many",
    "audit_row",
    "audit_values",
    "audit_write",
    "current_channel",
    "current_ip",
    "diff",
    "region_path_of",
    "snapshot",
]
