"""Django admin for the directory. Changes made here go through the services and are audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from portal.audit import audit_record, snapshot
from portal.choices import AuditAction, Role
from portal.models import AuditEvent, Enterprise, ParentCompany, Person, Region, User
from portal.otp.admin_site import install as install_two_step_admin

admin.site.site_header = "非煤矿山安全监管门户 管理"
admin.site.site_title = "非煤矿山安全监管门户"
# /admin/ needs a session verified by a TOTP code (portal/otp).
install_two_step_admin(admin.site)


def is_portal_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and (user.is_superuser or getattr(user, "role", "") == Role.ADMIN))


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Records every admin create, update and delete in the audit log, scoped like the site.

    A county's 管理员 manages the records of their county only: the change lists, the objects
    and the choices offered in foreign-key fields all go through `visible_to`.
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        visible = getattr(queryset, "visible_to", None)
        return visible(request.user) if visible is not None else queryset

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        manager = db_field.remote_field.model._default_manager
        if hasattr(manager, "visible_to"):
            kwargs["queryset"] = manager.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

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

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            instance=obj,
            before=before,
            after=snapshot(obj),
            detail="管理后台",
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=AuditAction.DELETE,
            instance=obj,
            before=snapshot(obj),
            detail="管理后台",
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    readonly_fields = ("path",)


@admin.register(ParentCompany)
class ParentCompanyAdmin(AuditedAdmin):
    list_display = ("name", "credit_code", "region")
    search_fields = ("name", "credit_code")


@admin.register(Enterprise)
class EnterpriseAdmin(AuditedAdmin):
    list_display = ("name", "credit_code", "town", "industry", "production_status", "risk_grade")
    list_filter = ("industry", "production_status", "risk_grade")
    search_fields = ("name", "credit_code")
    list_select_related = ("town",)
    raw_id_fields = ("parent_company",)


@admin.register(Person)
class PersonAdmin(AuditedAdmin):
    list_display = ("name", "role", "enterprise", "parent_company")
    list_filter = ("role",)
    search_fields = ("name",)
    raw_id_fields = ("enterprise", "parent_company")


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):  # type: ignore[misc]
    list_display = ("username", "full_name", "role", "region", "enterprise", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "full_name")
    raw_id_fields = ("enterprise", "person")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("角色与范围", {"fields": ("full_name", "role", "region", "enterprise", "person", "phone")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "password1", "password2", "full_name", "role", "region", "enterprise")}),
    )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "actor_name", "action", "object_type", "object_repr", "ip_address")
    list_filter = ("action",)
    search_fields = ("actor_name", "object_repr")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.visible_to(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_portal_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
