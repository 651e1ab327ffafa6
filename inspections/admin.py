"""Campaigns are data: a county's 管理员 creates and edits them here, with their phases, checklist,
quotas and deliverables as inlines. Every change, inline rows included, is written to the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from inspections.models import (
    Campaign,
    CampaignPhase,
    ChecklistArea,
    ChecklistItem,
    Deliverable,
    EnforcementRecord,
    Inspection,
    InspectionTeam,
    Quota,
    WarningSettings,
)
from portal.admin import AuditedAdmin, is_portal_admin
from portal.audit import audit_record, snapshot
from portal.choices import AuditAction


def _issued_within_scope(request: HttpRequest, campaign: Campaign | None) -> bool:
    """A county admin edits the campaigns of the county (not the city's, which they only read)."""
    user: Any = request.user
    if campaign is None or user.is_superuser:
        return True
    return bool(user.region_id and campaign.issuing_region.path.startswith(user.region_path))


class AuditedInlinesAdmin(AuditedAdmin):
    """Also audits the rows added, changed and deleted through inlines."""

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        pks = [f.instance.pk for f in formset.initial_forms if f.instance.pk is not None]
        # The forms' instances already carry the new values: read the old ones from the database.
        before = {obj.pk: snapshot(obj) for obj in formset.model._default_manager.filter(pk__in=pks)}
        super().save_formset(request, form, formset, change)
        actor: Any = request.user
        for obj in formset.new_objects:
            audit_record(actor=actor, action=AuditAction.CREATE, instance=obj, after=snapshot(obj), detail="管理后台")
        for obj, _fields in formset.changed_objects:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                instance=obj,
                before=before.get(obj.pk),
                after=snapshot(obj),
                detail="管理后台",
            )
        for obj in formset.deleted_objects:
            audit_record(
                actor=actor, action=AuditAction.DELETE, instance=obj, before=before.get(obj.pk), detail="管理后台"
            )


class ScopedInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request) and _issued_within_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request) and _issued_within_scope(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request) and _issued_within_scope(request, obj)


class PhaseInline(ScopedInline):
    model = CampaignPhase
    fields = ("order", "name", "kind", "start_date", "end_date", "description")


class AreaInline(ScopedInline):
    model = ChecklistArea
    fields = ("order", "number", "title", "description")
    show_change_link = True


class QuotaInline(ScopedInline):
    model = Quota
    fields = ("order", "kind", "subject", "number", "unit", "period", "phase", "text")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "phase":
            campaign_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = CampaignPhase.objects.filter(campaign_id=campaign_id or 0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DeliverableInline(ScopedInline):
    model = Deliverable
    fields = (
        "order", "name", "submitter", "recipients", "kind", "schedule", "table", "due_date", "day_of_month",
        "min_count", "requires_principal_signature", "description",
    )  # fmt: skip


@admin.register(Campaign)
class CampaignAdmin(AuditedInlinesAdmin):
    list_display = ("name", "document_number", "issuing_region", "start_date", "end_date")
    search_fields = ("name", "document_number")
    list_select_related = ("issuing_region",)
    inlines = (PhaseInline, AreaInline, QuotaInline, DeliverableInline)
    fieldsets = (
        (None, {"fields": ("name", "document_number", "document_title", "issuing_region", "issuing_authority")}),
        ("期限", {"fields": ("start_date", "end_date", "period_text")}),
        ("内容", {"fields": ("summary",)}),
    )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and _issued_within_scope(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and _issued_within_scope(request, obj)


class ItemInline(ScopedInline):
    model = ChecklistItem
    fields = ("order", "text", "subject", "expected_answer", "guidance")

    def _campaign(self, obj: Any) -> Campaign | None:
        return obj.campaign if isinstance(obj, ChecklistArea) else None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request) and _issued_within_scope(request, self._campaign(obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request) and _issued_within_scope(request, self._campaign(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request) and _issued_within_scope(request, self._campaign(obj))


@admin.register(ChecklistArea)
class ChecklistAreaAdmin(AuditedInlinesAdmin):
    list_display = ("__str__", "campaign", "order")
    list_filter = ("campaign",)
    list_select_related = ("campaign",)
    inlines = (ItemInline,)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        campaign = obj.campaign if isinstance(obj, ChecklistArea) else None
        return super().has_change_permission(request, obj) and _issued_within_scope(request, campaign)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        campaign = obj.campaign if isinstance(obj, ChecklistArea) else None
        return super().has_delete_permission(request, obj) and _issued_within_scope(request, campaign)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "campaign":
            user: Any = request.user
            queryset = Campaign.objects.visible_to(user)
            if not user.is_superuser:
                queryset = queryset.filter(issuing_region__path__startswith=user.region_path)
            kwargs["queryset"] = queryset
            return super(AuditedAdmin, self).formfield_for_foreignkey(db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(WarningSettings)
class WarningSettingsAdmin(AuditedAdmin):
    list_display = ("county", "long_open_major_hazard_days", "repeat_window_months")


class ReadOnlyAudited(AuditedAdmin):
    """Field records are written through the portal's pages (services); the admin only reads them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(EnforcementRecord)
class EnforcementRecordAdmin(ReadOnlyAudited):
    list_display = ("date", "kind", "issuing_unit", "enterprise", "parent_company", "person_name", "amount")
    list_filter = ("kind",)
    search_fields = ("enterprise__name", "person_name", "document_number")
    list_select_related = ("issuing_unit", "enterprise", "parent_company")


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAudited):
    list_display = ("date", "enterprise", "unit", "method", "leader")
    list_filter = ("method",)
    list_select_related = ("enterprise", "unit")


@admin.register(InspectionTeam)
class InspectionTeamAdmin(ReadOnlyAudited):
    list_display = ("name", "campaign", "unit", "formed_on")
