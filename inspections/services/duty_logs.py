"""Writes of principals' duty logs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inspections import workdays
from inspections.models import PrincipalDutyLog
from inspections.services.common import principal_of
from portal import audit_events, rules
from portal.audit import snapshot
from portal.choices import PersonRole
from portal.models import Enterprise, Person, User

# --- 履职台账 ----------------------------------------------------------------------------------


@transaction.atomic
def duty_log_save(
    *,
    actor: User,
    enterprise: Enterprise,
    month: dt.date,
    person: Person | None = None,
    on_site_dates: Iterable[dt.date] = (),
    inspections_led: int = 0,
    safety_meetings: int = 0,
    major_hazard_investigation_on: dt.date | None = None,
    parent_leader_visits: int | None = None,
    note: str = "",
) -> PrincipalDutyLog:
    """Creates or replaces the month's 履职台账 of an enterprise."""
    rules.require(actor, "inspections.keep_duty_log", enterprise)
    month = workdays.month_start(month)
    last = workdays.month_end(month)
    today = timezone.localdate()
    if month > today:
        raise ValidationError({"month": "不能填报将来月份的履职台账。"})
    person = person or principal_of(enterprise)
    if person is None:
        raise ValidationError({"person": f"{enterprise.name}尚未登记主要负责人，请先在企业名录中登记。"})
    if person.enterprise_id != enterprise.pk or person.role != PersonRole.PRINCIPAL:
        raise ValidationError({"person": f"{person.name}不是{enterprise.name}登记的主要负责人。"})
    dates = sorted(set(on_site_dates))
    for day in dates:
        if not month <= day <= last:
            raise ValidationError({"on_site_dates": f"{day:%Y-%m-%d} 不在 {month:%Y年%m月} 内。"})
        if day > today:
            raise ValidationError({"on_site_dates": f"{day:%Y-%m-%d} 晚于今天。"})
    if major_hazard_investigation_on is not None and not month <= major_hazard_investigation_on <= last:
        raise ValidationError({"major_hazard_investigation_on": "重大事故隐患全面排查日期须在该月内。"})
    if parent_leader_visits is not None and enterprise.parent_company_id is None:
        raise ValidationError({"parent_leader_visits": "该企业没有上级企业，不填写上级企业负责人到矿检查次数。"})
    log = PrincipalDutyLog.objects.select_for_update().filter(enterprise=enterprise, month=month).first()
    before = snapshot(log) if log is not None else None
    if log is None:
        log = PrincipalDutyLog(enterprise=enterprise, month=month)
    log.person = person
    log.on_site_dates = [day.isoformat() for day in dates]
    log.inspections_led = inspections_led
    log.safety_meetings = safety_meetings
    log.major_hazard_investigation_on = major_hazard_investigation_on
    log.parent_leader_visits = parent_leader_visits
    log.note = note.strip()
    log.recorded_by = actor
    log.full_clean(exclude=["recorded_by"], validate_unique=False)
    after = snapshot(log)
    if before is not None and {k: v for k, v in after.items() if k not in {"updated_at", "recorded_by"}} == {
        k: v for k, v in before.items() if k not in {"updated_at", "recorded_by"}
    }:
        return log
    log.save()
    if before is None:
        audit_events.record_created(actor=actor, instance=log, after=snapshot(log))
    else:
        audit_events.record_updated(actor=actor, instance=log, before=before, after=snapshot(log))
    return log
