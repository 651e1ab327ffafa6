"""Django admin for hazards.

The 判定依据 catalogue is edited here through `criterion_create` / `criterion_update`: the national items only
by a superuser, a county's own items by its 管理员. Hazards and their timeline are
read-only here: every change to a hazard goes through `hazards.services`, so that it is checked,
recorded as an event and notified — a closed hazard changes only through `hazard_admin_amend`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hazards import services
from hazards.models import ExtensionRequest, Hazard, HazardEvent, HazardEvidence, MajorHazardCriterion, Notification
from portal import rules
from portal.admin import AuditedAdmin
from portal.service_admin import ServiceAdmin, model_values


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MajorHazardCriterion)
class MajorHazardCriterionAdmin(ServiceAdmin):
    list_display = ("code_display", "mine_type", "short_text", "document", "region", "uncertain", "is_active")
    list_filter = ("document", "mine_type", "is_active", "uncertain")
    search_fields = ("text", "label")
    ordering = ("document", "mine_type", "number")
    list_select_related = ("region",)

    @admin.display(description="条目")
    def code_display(self, obj: MajorHazardCriterion) -> str:
        return obj.code

    @admin.display(description="内容")
    def short_text(self, obj: MajorHazardCriterion) -> str:
        return obj.text[:50]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ("document", "mine_type", "number", "label", "text", "sub_items", "note", "is_active")
        # Only a superuser chooses the region (none: national); a county's items are the county's.
        return (*fields, "region") if request.user.is_superuser else fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (
            obj is None or rules.may(request.user, "hazards.edit_criterion", obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Cited items must stay; retire them with "启用" instead.
        return False

    def service_create(self, request: HttpRequest, form: Any) -> MajorHazardCriterion:
        data = model_values(form, changed_only=False)
        return services.criterion_create(actor=request.user, data=data)  # type: ignore[arg-type]

    def service_update(self, request: HttpRequest, obj: MajorHazardCriterion, form: Any) -> MajorHazardCriterion:
        data = model_values(form, changed_only=True)
        return services.criterion_update(actor=request.user, criterion=obj, data=data)  # type: ignore[arg-type]


class HazardEventInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = HazardEvent
    fields = ("created_at", "actor_name", "action", "from_status", "to_status", "comment")
    readonly_fields = fields
    extra = 0


class HazardEvidenceInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = HazardEvidence
    fields = ("kind", "original_name", "size", "sha256", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    extra = 0


class ExtensionRequestInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = ExtensionRequest
    fields = ("requested_at", "old_deadline", "requested_deadline", "reason", "status", "decided_by", "decided_at")
    readonly_fields = fields
    extra = 0


@admin.register(Hazard)
class HazardAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = (
        "ledger_number",
        "short_description",
        "enterprise",
        "level",
        "category",
        "status",
        "current_deadline",
        "supervision_level",
    )
    list_filter = ("level", "status", "category", "source", "supervision_level")
    search_fields = ("description", "ledger_number", "enterprise__name")
    list_select_related = ("enterprise", "criterion")
    date_hierarchy = "found_on"
    inlines = (HazardEventInline, HazardEvidenceInline, ExtensionRequestInline)

    @admin.display(description="隐患内容")
    def short_description(self, obj: Hazard) -> str:
        return obj.description[:40]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    list_display = ("created_at", "recipient", "kind", "message", "is_read")
    list_filter = ("kind", "is_read")

    def get_queryset(self, request: HttpRequest) -> Any:
        # Notifications are personal: an admin reads only their own here.
        queryset = super().get_queryset(request).select_related("recipient")
        return queryset if request.user.is_superuser else queryset.filter(recipient=request.user)
