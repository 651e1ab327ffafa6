"""Writes about warnings: what was done about one (a 约谈/处罚 record linked, or 已处理 with a note).

The warnings are derived (inspections/warnings.py); only their handling is stored, in
`WarningResolution`, by the warning's stable key. Pages, the API and the admin call these services.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inspections import audit_events as inspection_events
from inspections import workdays
from inspections.choices import WarningKind
from inspections.models import EnforcementRecord, WarningResolution
from inspections.warnings import Warning, warnings_for
from portal import rules
from portal.audit import snapshot
from portal.models import User

NOT_FOUND = "预警不存在或不在您的辖区内。"


def warning_find(*, user: User, key: str, today: dt.date | None = None) -> Warning:
    """The warning with this key among those the user's scope holds today, else a ValidationError."""
    kind = key.split(":", 1)[0]
    if kind not in WarningKind.values:
        raise ValidationError(NOT_FOUND)
    month: dt.date | None = None
    if kind == WarningKind.QUOTA_MISS:  # quota_miss:YYYY-MM:…: the month the quota was checked for
        try:
            month = dt.datetime.strptime(key.split(":")[1], "%Y-%m").date()
        except (IndexError, ValueError):
            raise ValidationError(NOT_FOUND) from None
        month = workdays.month_start(month)
    for warning in warnings_for(user=user, today=today, month=month, kinds={kind}):
        if warning.key == key:
            return warning
    raise ValidationError(NOT_FOUND)


@transaction.atomic
def warning_resolve(
    *,
    actor: User,
    key: str,
    note: str = "",
    record: EnforcementRecord | None = None,
    today: dt.date | None = None,
) -> WarningResolution:
    """Records what was done about a warning: a 约谈/处罚 record of the same enterprise, or a note.

    Town and county staff only (whoever records field work), within their scope. Doing it again
    replaces the earlier handling (both are in the audit log).
    """
    rules.require(actor, "inspections.record_field_work")
    warning = warning_find(user=actor, key=key.strip(), today=today)
    note = note.strip()
    if record is not None:
        if not EnforcementRecord.objects.visible_to(actor).filter(pk=record.pk).exists():
            raise ValidationError({"record": "约谈、处罚记录不存在或不在您的辖区内。"})
        if warning.enterprise is None or record.enterprise_id != warning.enterprise.pk:
            raise ValidationError({"record": "所选记录不是该预警所涉企业的约谈、处罚记录。"})
    elif not note:
        raise ValidationError({"note": "请填写处理情况，或关联约谈、处罚记录。"})
    unit = warning.unit
    assert unit is not None
    existing = WarningResolution.objects.select_for_update().filter(key=warning.key).first()
    before = snapshot(existing) if existing is not None else None
    resolution = existing or WarningResolution(key=warning.key)
    resolution.kind = warning.kind
    resolution.region = unit
    resolution.enterprise = warning.enterprise
    resolution.record = record
    resolution.note = note
    resolution.resolved_by = actor
    resolution.resolved_at = timezone.now()
    resolution.save()
    inspection_events.warning_resolved(
        actor=actor, resolution=resolution, title=warning.title, before=before, after=snapshot(resolution)
    )
    return resolution
