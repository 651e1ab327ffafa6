"""The working-day calendar in the admin site: every save and delete goes through calendar_services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from inspections import calendar_services
from inspections.models import Holiday, HolidayYear
from portal.service_admin import ServiceAdmin


class CalendarAdmin(ServiceAdmin):
    """Read by every admin; written only by the services (the 管理员 role or a superuser)."""

    actions = None  # no bulk delete around the services


class HolidayForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Holiday
        fields = ("date", "kind", "name")

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if not self.errors:
            probe = Holiday(date=data["date"], kind=data["kind"], name=data.get("name", ""))
            calendar_services.validate_holiday(probe, exclude_pk=self.instance.pk)
        return data

    def validate_unique(self) -> None:
        """validate_holiday names the day already entered."""


class HolidayYearForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = HolidayYear
        fields = ("year", "notice")

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if self.instance.pk is None and not self.errors:
            calendar_services.validate_holiday_year(data.get("year"))
        return data

    def validate_unique(self) -> None:
        """validate_holiday_year says the year is already entered."""


@admin.register(Holiday)
class HolidayAdmin(CalendarAdmin):
    form = HolidayForm
    list_display = ("date", "name", "kind")
    list_filter = ("kind", "name")
    date_hierarchy = "date"
    search_fields = ("name",)
    fields = ("date", "kind", "name")

    def service_create(self, request: HttpRequest, form: Any) -> Holiday:
        data = {name: form.cleaned_data[name] for name in ("date", "kind", "name")}
        return calendar_services.holiday_create(actor=request.user, **data)  # type: ignore[arg-type]

    def service_update(self, request: HttpRequest, obj: Holiday, form: Any) -> Holiday:
        data = {name: form.cleaned_data[name] for name in ("date", "kind", "name")}
        return calendar_services.holiday_update(actor=request.user, holiday=obj, data=data)  # type: ignore[arg-type]

    def service_delete(self, request: HttpRequest, obj: Holiday) -> None:
        calendar_services.holiday_delete(actor=request.user, holiday=obj)  # type: ignore[arg-type]


@admin.register(HolidayYear)
class HolidayYearAdmin(CalendarAdmin):
    form = HolidayYearForm
    list_display = ("year", "notice", "created_at")
    fields = ("year", "notice")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("year",) if obj is not None else ()

    def service_create(self, request: HttpRequest, form: Any) -> HolidayYear:
        return calendar_services.holiday_year_create(
            actor=request.user,  # type: ignore[arg-type]
            year=form.cleaned_data["year"],
            notice=form.cleaned_data["notice"],
        )

    def service_update(self, request: HttpRequest, obj: HolidayYear, form: Any) -> HolidayYear:
        calendar_services.holiday_year_update(
            actor=request.user,  # type: ignore[arg-type]
            entry=obj,
            notice=form.cleaned_data["notice"],
        )
        return obj

    def service_delete(self, request: HttpRequest, obj: HolidayYear) -> None:
        calendar_services.holiday_year_delete(actor=request.user, entry=obj)  # type: ignore[arg-type]
