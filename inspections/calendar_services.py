"""Writes of the working-day calendar (节假日与调休, 节假日安排年份). Each is one audited transaction.

Only 管理员 and superusers change the calendar (it is the same for every region). A year counts as
entered once its HolidayYear exists, which needs at least one holiday of that year first; a day of an
entered year can still be corrected.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from inspections import workdays
from inspections.models import Holiday, HolidayYear
from portal import audit_events, rules
from portal.audit import snapshot
from portal.models import User
from portal.validators import validate_plausible_date

HOLIDAY_FIELDS = ("date", "kind", "name")


def _require_calendar_admin(actor: User) -> None:
    rules.require(actor, "inspections.keep_calendar")


def validate_holiday(holiday: Holiday, *, exclude_pk: int | None) -> None:
    """The rules of one calendar day (also run by the admin form, so that it shows them on the field)."""
    if not isinstance(holiday.date, dt.date):
        raise ValidationError({"date": "请填写日期。"})
    validate_plausible_date(holiday.date)
    if holiday.kind not in Holiday.Kind.values:
        raise ValidationError({"kind": "类别只能是“放假”或“调休上班”。"})
    holiday.name = (holiday.name or "").strip()
    if not holiday.name:
        raise ValidationError({"name": "请填写节日名称，如“春节”。"})
    if holiday.kind == Holiday.Kind.WORK and holiday.date.weekday() < 5:
        raise ValidationError({"kind": f"{holiday.date:%Y-%m-%d} 是工作日（周一至周五），不需要登记调休上班。"})
    others = Holiday.objects.filter(date=holiday.date)
    clash = (others.exclude(pk=exclude_pk) if exclude_pk is not None else others).first()
    if clash is not None:
        raise ValidationError({"date": f"{holiday.date:%Y-%m-%d} 已登记为“{clash}”。"})


@transaction.atomic
def holiday_create(*, actor: User, date: dt.date, kind: str, name: str) -> Holiday:
    _require_calendar_admin(actor)
    holiday = Holiday(date=date, kind=kind, name=name)
    validate_holiday(holiday, exclude_pk=None)
    holiday.save()
    audit_events.record_created(actor=actor, instance=holiday, after=snapshot(holiday))
    workdays.forget()
    return holiday


@transaction.atomic
def holiday_update(*, actor: User, holiday: Holiday, data: dict[str, Any]) -> Holiday:
    _require_calendar_admin(actor)
    unknown = set(data) - set(HOLIDAY_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改的字段：{'、'.join(sorted(unknown))}")
    stored = Holiday.objects.select_for_update().get(pk=holiday.pk)
    before = snapshot(stored)
    for key, value in data.items():
        setattr(stored, key, value)
    validate_holiday(stored, exclude_pk=stored.pk)
    stored.save()
    audit_events.record_updated(actor=actor, instance=stored, before=before, after=snapshot(stored))
    workdays.forget()
    return stored


@transaction.atomic
def holiday_delete(*, actor: User, holiday: Holiday) -> None:
    _require_calendar_admin(actor)
    before = snapshot(holiday)
    audit_events.record_deleted(actor=actor, instance=holiday, before=before)
    holiday.delete()
    workdays.forget()


def validate_holiday_year(year: Any) -> None:
    if not isinstance(year, int) or not 1950 <= year <= 2099:
        raise ValidationError({"year": "年份应在 1950 至 2099 之间。"})
    if HolidayYear.objects.filter(year=year).exists():
        raise ValidationError({"year": f"{year} 年的节假日安排已经登记。"})
    if not Holiday.objects.filter(date__year=year).exists():
        raise ValidationError({"year": f"请先在“节假日与调休”中录入 {year} 年的放假和调休日期，再登记该年。"})


@transaction.atomic
def holiday_year_create(*, actor: User, year: int, notice: str = "") -> HolidayYear:
    """Mark `year` as entered: from now on its quota checks count real working days."""
    _require_calendar_admin(actor)
    validate_holiday_year(year)
    entry = HolidayYear.objects.create(year=year, notice=(notice or "").strip())
    audit_events.record_created(actor=actor, instance=entry, after=snapshot(entry))
    workdays.forget()
    return entry


@transaction.atomic
def holiday_year_update(*, actor: User, entry: HolidayYear, notice: str) -> HolidayYear:
    _require_calendar_admin(actor)
    stored = HolidayYear.objects.select_for_update().get(pk=entry.pk)
    before = snapshot(stored)
    stored.notice = (notice or "").strip()
    stored.save(update_fields=["notice"])
    audit_events.record_updated(actor=actor, instance=stored, before=before, after=snapshot(stored))
    return stored


@transaction.atomic
def holiday_year_delete(*, actor: User, entry: HolidayYear) -> None:
    """The year counts as not entered again (its days stay, to be corrected)."""
    _require_calendar_admin(actor)
    audit_events.record_deleted(actor=actor, instance=entry, before=snapshot(entry))
    entry.delete()
    workdays.forget()
