"""Django admin for the monthly tables: read-only, so that admins see the state and errors of the
versions, export jobs and beat steps. Every change goes through `reporting.services` / the schedule.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from portal.admin import AuditedAdmin
from portal.service_admin import call_service
from reporting import services
from reporting.models import ExportJob, Report, ReportVersion, ScheduledRun


class ReadOnlyAdmin(AuditedAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReportVersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ReportVersion
    fields = ("number", "status", "submitted_at", "submitted_by", "signed_at", "signed_by", "xlsx_sha256", "pdf_sha256")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "region", "month", "due_on", "flagged_missing_at")
    list_filter = ("kind", "month")
    search_fields = ("region__name", "region__code")
    inlines = [ReportVersionInline]


@admin.register(ReportVersion)
class ReportVersionAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "computed_at", "submitted_at", "signed_at", "fingerprint")
    list_filter = ("status", "report__kind")
    search_fields = ("report__region__name", "fingerprint", "xlsx_sha256", "pdf_sha256")
    readonly_fields = [field.name for field in ReportVersion._meta.fields]


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__", "purpose", "status", "progress", "attempts", "requested_by", "created_at", "finished_at", "error",
    )  # fmt: skip
    list_filter = ("purpose", "status", "kind", "file_format")
    readonly_fields = [field.name for field in ExportJob._meta.fields]


@admin.register(ScheduledRun)
class ScheduledRunAdmin(ReadOnlyAdmin):
    list_display = ("run_on", "step", "kind", "region", "month", "status", "attempts", "detail", "short_error")
    list_filter = ("status", "step", "kind", "run_on")
    search_fields = ("region__name", "error", "detail")
    readonly_fields = [field.name for field in ScheduledRun._meta.fields]
    actions = ["allow_again"]

    @admin.display(description="错误信息")
    def short_error(self, obj: ScheduledRun) -> str:
        return obj.error.splitlines()[0][:80] if obj.error else ""

    @admin.action(description="允许失败的步骤再次执行（重置尝试次数）")
    def allow_again(self, request: HttpRequest, queryset: QuerySet[ScheduledRun]) -> None:
        actor: Any = request.user
        count = call_service(request, lambda: services.scheduled_run_allow_again(actor=actor, runs=queryset))
        self.message_user(request, f"已重置 {count} 个失败步骤，下次定时任务将再次执行。", messages.SUCCESS)
