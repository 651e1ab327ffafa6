"""Campaigns are data: a county's 管理员 creates and edits them here, with their phases, checklist,
quotas and deliverables as inlines, through `inspections.campaign_services` (audited, scoped)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest

from inspections import campaign_services
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
from portal import rules
from portal.admin import AuditedAdmin
from portal.scoping import in_subtree
from portal.service_admin import ServiceAdmin, ServiceInline, model_values


def _actor(request: HttpRequest) -> Any:
    return request.user


class PartInline(ServiceInline):
    """A part of a campaign (or a checklist item of an area), through `campaign_services.campaign_part_*`."""

    def may_edit(self, request: HttpRequest, parent: Any) -> bool:
        if parent is None:
            return rules.may(request.user, "inspections.edit_campaign", None)
        campaign = parent.campaign if isinstance(parent, ChecklistArea) else parent
        return rules.may(request.user, "inspections.edit_campaign", campaign)

    def service_create(self, request: HttpRequest, parent: Any, form: Any) -> Model:  # type: ignore[override]
        data = model_values(form, changed_only=False, exclude=("id", "campaign", "area"))
        return campaign_services.campaign_part_create(actor=_actor(request), model=self.model, parent=parent, data=data)

    def service_update(self, request: HttpRequest, obj: Any, form: Any) -> Model:
        data = model_values(form, changed_only=True, exclude=("id", "campaign", "area"))
        return campaign_services.campaign_part_update(actor=_actor(request), part=obj, data=data)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        campaign_services.campaign_part_delete(actor=_actor(request), part=obj)


class PhaseInline(PartInline):
    model = CampaignPhase
    fields = ("order", "name", "kind", "start_date", "end_date", "description")


class AreaInline(PartInline):
    model = ChecklistArea
    fields = ("order", "number", "title", "description")
    show_change_link = True


class QuotaInline(PartInline):
    model = Quota
    fields = ("order", "kind", "subject", "number", "unit", "period", "phase", "text")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "phase":
            campaign_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = CampaignPhase.objects.filter(campaign_id=campaign_id or 0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DeliverableInline(PartInline):
    model = Deliverable
    fields = (
        "order", "name", "submitter", "recipients", "kind", "schedule", "table", "due_date", "day_of_month",
        "min_count", "requires_principal_signature", "description",
    )  # fmt: skip


class CampaignPartsAdmin(ServiceAdmin):
    def _campaign(self, obj: Any) -> Campaign | None:
        return obj if isinstance(obj, Campaign) else getattr(obj, "campaign", None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (
            obj is None or rules.may(request.user, "inspections.edit_campaign", self._campaign(obj))
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and (
            obj is None or rules.may(request.user, "inspections.edit_campaign", self._campaign(obj))
        )


@admin.register(Campaign)
class CampaignAdmin(CampaignPartsAdmin):
    list_display = ("name", "document_number", "issuing_region", "start_date", "end_date")
    search_fields = ("name", "document_number")
    list_select_related = ("issuing_region",)
    inlines = (PhaseInline, AreaInline, QuotaInline, DeliverableInline)
    fieldsets = (
        (None, {"fields": ("name", "document_number", "document_title", "issuing_region", "issuing_authority")}),
        ("期限", {"fields": ("start_date", "end_date", "period_text")}),
        ("内容", {"fields": ("summary",)}),
    )

    def service_create(self, request: HttpRequest, form: Any) -> Campaign:
        data = model_values(form, changed_only=False)
        return campaign_services.campaign_create(actor=_actor(request), data=data)

    def service_update(self, request: HttpRequest, obj: Campaign, form: Any) -> Campaign:
        data = model_values(form, changed_only=True)
        return campaign_services.campaign_update(actor=_actor(request), campaign=obj, data=data)

    def service_delete(self, request: HttpRequest, obj: Campaign) -> None:
        campaign_services.campaign_delete(actor=_actor(request), campaign=obj)


class ItemInline(PartInline):
    model = ChecklistItem
    fields = ("order", "text", "subject", "expected_answer", "guidance")


@admin.register(ChecklistArea)
class ChecklistAreaAdmin(CampaignPartsAdmin):
    list_display = ("__str__", "campaign", "order")
    list_filter = ("campaign",)
    list_select_related = ("campaign",)
    inlines = (ItemInline,)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "campaign":
            user: Any = request.user
            queryset = Campaign.objects.visible_to(user)
            if not user.is_superuser:
                queryset = queryset.filter(in_subtree(user.region_path, "issuing_region__path"))
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def service_create(self, request: HttpRequest, form: Any) -> ChecklistArea:
        data = model_values(form, changed_only=False, exclude=("campaign",))
        return campaign_services.campaign_part_create(
            actor=_actor(request), model=ChecklistArea, parent=form.cleaned_data["campaign"], data=data
        )

    def service_update(self, request: HttpRequest, obj: ChecklistArea, form: Any) -> ChecklistArea:
        if "campaign" in form.changed_data:
            raise ValidationError({"campaign": "检查方面不能移到另一个专项行动。"})
        data = model_values(form, changed_only=True)
        return campaign_services.campaign_part_update(actor=_actor(request), part=obj, data=data)

    def service_delete(self, request: HttpRequest, obj: ChecklistArea) -> None:
        campaign_services.campaign_part_delete(actor=_actor(request), part=obj)


@admin.register(WarningSettings)
class WarningSettingsAdmin(ServiceAdmin):
    list_display = ("county", "long_open_major_hazard_days", "repeat_window_months")

    def service_create(self, request: HttpRequest, form: Any) -> WarningSettings:
        data = model_values(form, changed_only=False, exclude=("county",))
        return campaign_services.warning_settings_create(
            actor=_actor(request), county=form.cleaned_data["county"], data=data
        )

    def service_update(self, request: HttpRequest, obj: WarningSettings, form: Any) -> WarningSettings:
        if "county" in form.changed_data:
            raise ValidationError({"county": "不能修改预警阈值所属的县，请新增该县的阈值。"})
        data = model_values(form, changed_only=True)
        return campaign_services.warning_settings_update(actor=_actor(request), settings=obj, data=data)

    def service_delete(self, request: HttpRequest, obj: WarningSettings) -> None:
        campaign_services.warning_settings_delete(actor=_actor(request), settings=obj)


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
