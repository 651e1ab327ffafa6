"""The working-day calendar in the admin site: every save and delete goes through calendar_services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from inspections import calendar_services
from inspections.models import Holiday, HolidayYear
from portal.admin import is_portal_admin


class CalendarAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read by every admin; written only by the services (the 管理员 role or a superuser)."""

    actions = None  # no bulk delete around the services

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_portal_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_portal_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


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

    def save_model(self, request: HttpRequest, obj: Holiday, form: Any, change: bool) -> None:
        user: Any = request.user
        data = {name: form.cleaned_data[name] for name in ("date", "kind", "name")}
        if change:
            saved = calendar_services.holiday_update(actor=user, holiday=obj, data=data)
        else:
            saved = calendar_services.holiday_create(actor=user, **data)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Holiday) -> None:
        calendar_services.holiday_delete(actor=request.user, holiday=obj)  # type: ignore[arg-type]


@admin.register(HolidayYear)
class HolidayYearAdmin(CalendarAdmin):
    form = HolidayYearForm
    list_display = ("year", "notice", "created_at")
    fields = ("year", "notice")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("year",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: HolidayYear, form: Any, change: bool) -> None:
        user: Any = request.user
        if change:
            calendar_services.holiday_year_update(actor=user, entry=obj, notice=form.cleaned_data["notice"])
            return
        saved = calendar_services.holiday_year_create(
            actor=user, year=form.cleaned_data["year"], notice=form.cleaned_data["notice"]
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: HolidayYear) -> None:
        calendar_services.holiday_year_delete(actor=request.user, entry=obj)  # type: ignore[arg-type]
