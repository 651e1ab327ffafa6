"""Django admin for the directory: a view over `portal.services` (see portal/service_admin.py)."""

from __future__ import annotations

import contextvars
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from portal import services
from portal.models import AuditEvent, Enterprise, ParentCompany, Person, Region, User
from portal.otp.admin_site import install as install_two_step_admin
from portal.service_admin import ServiceAdmin, ServiceRefused, call_service, is_portal_admin, model_values

admin.site.site_header = "非煤矿山安全监管门户 管理"
admin.site.site_title = "非煤矿山安全监管门户"
# /admin/ needs a session verified by a TOTP code (portal/otp).
install_two_step_admin(admin.site)

# The base of every ModelAdmin of the portal (the older name, kept for the apps' admin modules).
AuditedAdmin = ServiceAdmin


class ReadOnlyThirdPartyAdmin:
    """The ModelAdmin of another package, kept for reading only (its writes would bypass the services)."""

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _keep_site_to_the_services(site: admin.AdminSite) -> None:
    """Groups and model permissions are not used by the portal, and API tokens are issued by the token login
    (audited): their admins go. django-axes' records stay readable (a lockout ends by its cool-off or by
    `manage.py axes_reset_username`). The apps listed before `portal` have registered theirs by now."""
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import TokenProxy

    for model in (Group, TokenProxy):
        if site.is_registered(model):
            site.unregister(model)
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        if site.is_registered(model):
            base = type(site._registry[model])
            site.unregister(model)
            site.register(model, type(f"ReadOnly{base.__name__}", (ReadOnlyThirdPartyAdmin, base), {}))


_keep_site_to_the_services(admin.site)

__all__ = ["AuditedAdmin", "ServiceAdmin", "is_portal_admin"]


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@admin.register(Region)
class RegionAdmin(ServiceAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    readonly_fields = ("path",)

    def service_create(self, request: HttpRequest, form: Any) -> Region:
        data = form.cleaned_data
        return services.region_create(
            actor=_actor(request), code=data["code"], name=data["name"], level=data["level"], parent=data["parent"]
        )

    def service_update(self, request: HttpRequest, obj: Region, form: Any) -> Region:
        return services.region_update(actor=_actor(request), region=obj, data=model_values(form, changed_only=True))

    def service_delete(self, request: HttpRequest, obj: Region) -> None:
        services.region_delete(actor=_actor(request), region=obj)


@admin.register(ParentCompany)
class ParentCompanyAdmin(ServiceAdmin):
    list_display = ("name", "credit_code", "region")
    search_fields = ("name", "credit_code")

    def service_create(self, request: HttpRequest, form: Any) -> ParentCompany:
        return services.parent_company_create(actor=_actor(request), **model_values(form, changed_only=False))

    def service_update(self, request: HttpRequest, obj: ParentCompany, form: Any) -> ParentCompany:
        data = model_values(form, changed_only=True)
        return services.parent_company_update(actor=_actor(request), company=obj, data=data)

    def service_delete(self, request: HttpRequest, obj: ParentCompany) -> None:
        services.parent_company_delete(actor=_actor(request), company=obj)


@admin.register(Enterprise)
class EnterpriseAdmin(ServiceAdmin):
    list_display = ("name", "credit_code", "town", "industry", "production_status", "risk_grade")
    list_filter = ("industry", "production_status", "risk_grade")
    search_fields = ("name", "credit_code")
    list_select_related = ("town",)
    raw_id_fields = ("parent_company",)

    def service_create(self, request: HttpRequest, form: Any) -> Enterprise:
        return services.enterprise_create(actor=_actor(request), **model_values(form, changed_only=False))

    def service_update(self, request: HttpRequest, obj: Enterprise, form: Any) -> Enterprise:
        data = model_values(form, changed_only=True)
        return services.enterprise_update(actor=_actor(request), enterprise=obj, data=data)

    def service_delete(self, request: HttpRequest, obj: Enterprise) -> None:
        services.enterprise_delete(actor=_actor(request), enterprise=obj)


@admin.register(Person)
class PersonAdmin(ServiceAdmin):
    list_display = ("name", "role", "enterprise", "parent_company")
    list_filter = ("role",)
    search_fields = ("name",)
    raw_id_fields = ("enterprise", "parent_company")

    def service_create(self, request: HttpRequest, form: Any) -> Person:
        return services.person_create(actor=_actor(request), **model_values(form, changed_only=False))

    def service_update(self, request: HttpRequest, obj: Person, form: Any) -> Person:
        return services.person_update(actor=_actor(request), person=obj, data=model_values(form, changed_only=True))

    def service_delete(self, request: HttpRequest, obj: Person) -> None:
        services.person_delete(actor=_actor(request), person=obj)


# The actor of the password form's save (the form is built by Django's view, without the request).
_password_actor: contextvars.ContextVar[User | None] = contextvars.ContextVar("password_actor", default=None)


class ServicePasswordForm(AdminPasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        password = self.cleaned_data.get("password1")
        if password:
            services.user_set_password(actor=_password_actor.get(), user=self.user, password=password)
        return self.user


_USER_SCOPE_FIELDSET = ("角色与范围", {"fields": ("full_name", "role", "region", "enterprise", "person", "phone")})


@admin.register(User)
class UserAdmin(ServiceAdmin, BaseUserAdmin):  # type: ignore[misc]
    """Accounts, through `user_create` / `user_update` / `user_set_password` and their grant rules.

    Groups and model permissions are not used by the portal and are not offered; superuser and staff
    status are offered to the superuser only (the services refuse them to anyone else anyway).
    """

    list_display = ("username", "full_name", "role", "region", "enterprise", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "full_name")
    raw_id_fields = ("enterprise", "person")
    filter_horizontal = ()
    change_password_form = ServicePasswordForm
    add_fieldsets = (
        (None, {"fields": ("username", "password1", "password2", "full_name", "role", "region", "enterprise")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.add_fieldsets
        status: tuple[str, ...] = ("is_active",)
        if request.user.is_superuser:
            status = ("is_active", "is_staff", "is_superuser")
        return (
            (None, {"fields": ("username", "password")}),
            ("个人信息", {"fields": ("email",)}),
            _USER_SCOPE_FIELDSET,
            ("状态", {"fields": status}),
        )

    def service_create(self, request: HttpRequest, form: Any) -> User:
        data = form.cleaned_data
        return services.user_create(
            actor=_actor(request), username=data["username"], password=data["password1"], role=data.get("role", ""),
            full_name=data.get("full_name", ""), region=data.get("region"), enterprise=data.get("enterprise"),
        )  # fmt: skip

    def service_update(self, request: HttpRequest, obj: User, form: Any) -> User:
        data = model_values(form, changed_only=True, exclude=("password",))
        return services.user_update(actor=_actor(request), user=obj, data=data)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        token = _password_actor.set(_actor(request))
        try:
            return call_service(request, lambda: super(UserAdmin, self).user_change_password(request, id, form_url))
        except ServiceRefused as refused:
            messages.error(request, refused.text)
            return HttpResponseRedirect(request.path)
        finally:
            _password_actor.reset(token)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "actor_name", "kind", "action", "object_type", "object_repr", "ip_address")
    list_filter = ("kind", "action")
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
