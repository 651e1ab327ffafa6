"""The admin site is a view over the services.

`ServiceAdmin` (and `ServiceInline` for inline rows) read through `visible_to` like every page, and write
only through three hooks a ModelAdmin provides:

    service_create(request, form) -> the new object         (an add)
    service_update(request, obj, form) -> the object         (a change; `obj` is the stored row)
    service_delete(request, obj) -> None                     (a delete)

each calling the same service the pages and the API call. A ModelAdmin that does not override a hook
does not offer that write at all (its has_*_permission answers False), so a new ModelAdmin is read-only
until it names its services; `tests/test_admin_services.py` walks every registered ModelAdmin to prove it.

A refusal by the service (ValidationError, PermissionDenied, a protected relation) rolls the whole request
back and shows the form again with the service's Chinese message; the audit rows written meanwhile name
the way in ("管理后台"), and whatever is saved must stay in the actor's scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, QuerySet, RestrictedError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from portal import rules
from portal.audit import current_channel

ADMIN_CHANNEL = "管理后台"
HOOKS = {"add": "service_create", "change": "service_update", "delete": "service_delete"}

_T = TypeVar("_T")


def is_portal_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and rules.is_admin(user))


class ServiceRefused(Exception):
    """A service refused an admin write: `errors` by field name (None: the whole form)."""

    def __init__(self, errors: dict[str | None, list[str]]):
        super().__init__(errors)
        self.errors = errors

    @property
    def text(self) -> str:
        return "；".join(message for messages_ in self.errors.values() for message in messages_)


def _refusal(exc: Exception) -> ServiceRefused:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            errors = {key: ValidationError(value).messages for key, value in exc.error_dict.items()}
            return ServiceRefused({None if key == "__all__" else key: value for key, value in errors.items()})
        return ServiceRefused({None: list(exc.messages)})
    if isinstance(exc, ProtectedError | RestrictedError):
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) and not exc.args[0].isascii() else ""
        return ServiceRefused({None: [message or "仍有关联记录引用该对象，不能删除。"]})
    return ServiceRefused({None: [str(exc) or "您无权进行此操作。"]})


def not_offered(hook: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a default hook: the write it stands for is not offered."""
    hook.not_offered = True  # type: ignore[attr-defined]
    return hook


def provides(admin_object: Any, action: str) -> bool:
    """Whether a ModelAdmin or inline names a service for `action` ("add", "change", "delete")."""
    hook = getattr(type(admin_object), HOOKS[action], None)
    return hook is not None and not getattr(hook, "not_offered", False)


@contextmanager
def _admin_channel() -> Iterator[None]:
    token = current_channel.set(ADMIN_CHANNEL)
    try:
        yield
    finally:
        current_channel.reset(token)


def call_service(request: HttpRequest, call: Callable[[], _T], *, keep_visible: bool = True) -> _T:
    """Runs one hook: audited as 管理后台; a refusal becomes ServiceRefused; the saved row must stay in scope."""
    try:
        with _admin_channel():
            result = call()
    except (ValidationError, PermissionDenied, ProtectedError, RestrictedError) as exc:
        raise _refusal(exc) from exc
    if keep_visible and isinstance(result, models.Model):
        manager: Any = type(result)._default_manager
        if hasattr(manager, "visible_to") and not manager.visible_to(request.user).filter(pk=result.pk).exists():
            raise ServiceRefused({None: ["保存后的记录不在您的数据范围内，未保存。"]})
    return result


def model_values(form: Any, *, changed_only: bool, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The model fields of a validated form, as a service's `data` (the changed ones, or all of them)."""
    model = form._meta.model
    concrete = {field.name for field in model._meta.concrete_fields}
    names = form.changed_data if changed_only else list(form.cleaned_data)
    return {
        name: form.cleaned_data[name]
        for name in names
        if name in concrete and name in form.cleaned_data and name not in exclude
    }


class ServiceHooks:
    """The hooks; the defaults mean "this write is not offered"."""

    @not_offered
    def service_create(self, request: HttpRequest, form: Any) -> models.Model:
        raise PermissionDenied("管理后台不提供此项新增。")

    @not_offered
    def service_update(self, request: HttpRequest, obj: Any, form: Any) -> models.Model:
        raise PermissionDenied("管理后台不提供此项修改。")

    @not_offered
    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        raise PermissionDenied("管理后台不提供此项删除。")


class ServiceAdmin(ServiceHooks, admin.ModelAdmin):  # type: ignore[type-arg]
    """Scoped reads for the county's 管理员 (and the superuser); writes only through the service hooks."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        visible = getattr(queryset, "visible_to", None)
        return visible(request.user) if visible is not None else queryset

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        manager = db_field.remote_field.model._default_manager
        if hasattr(manager, "visible_to") and "queryset" not in kwargs:
            kwargs["queryset"] = manager.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_portal_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_portal_admin(request) and provides(self, "add")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request) and provides(self, "change")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request) and provides(self, "delete")

    # --- the writes -------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            stored = type(obj)._default_manager.get(pk=obj.pk)
            saved = call_service(request, lambda: self.service_update(request, stored, form))
        else:
            saved = call_service(request, lambda: self.service_create(request, form))
        # The response (redirect, message) and the inlines use the form's object: give it the saved row.
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Many-to-many fields are not offered (no portal model edits one in the admin).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # What Django's change message reads from a saved formset.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        inline = next((i for i in self.get_inline_instances(request, form.instance) if i.model is formset.model), None)
        if inline is None or not isinstance(inline, ServiceInline):
            if any(f.has_changed() for f in formset.forms):
                raise ServiceRefused({None: [f"管理后台不能在此修改“{formset.model._meta.verbose_name}”。"]})
            return
        parent = form.instance
        for row in formset.initial_forms:
            stored = row.instance
            if stored.pk is None:
                continue
            if formset.can_delete and formset._should_delete_form(row):
                call_service(request, partial(inline.service_delete, request, stored), keep_visible=False)
                formset.deleted_objects.append(stored)
            elif row.has_changed():
                fresh = type(stored)._default_manager.get(pk=stored.pk)
                saved = call_service(request, partial(inline.service_update, request, fresh, row))
                formset.changed_objects.append((saved, row.changed_data))
        for row in formset.extra_forms:
            if not row.has_changed() or (formset.can_delete and formset._should_delete_form(row)):
                continue
            formset.new_objects.append(call_service(request, partial(inline.service_create, request, parent, row)))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        call_service(request, lambda: self.service_delete(request, obj), keep_visible=False)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)

    # --- a refusal shows the form again ----------------------------------------------------------

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            # Everything was rolled back; the same POST again, its form now carrying the refusal.
            request._service_refusal = refused  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refused: ServiceRefused | None = getattr(request, "_service_refusal", None)
        if refused is None:
            return form_class
        refusals = refused.errors

        class RefusedForm(form_class):  # type: ignore[misc, valid-type]
            def clean(self) -> Any:
                cleaned = super().clean()
                for field, errors in refusals.items():
                    self.add_error(field if field in self.fields else None, errors)
                return cleaned

        return RefusedForm

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceRefused as refused:
            messages.error(request, refused.text)
            return HttpResponseRedirect(request.path)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        try:
            return super().changelist_view(request, extra_context)
        except ServiceRefused as refused:
            messages.error(request, refused.text)
            return HttpResponseRedirect(request.get_full_path())


class ServiceInline(ServiceHooks, admin.TabularInline):  # type: ignore[type-arg]
    """Inline rows, written through the hooks (`service_create(request, parent, form)` for a new row)."""

    extra = 0

    @not_offered
    def service_create(self, request: HttpRequest, parent: Any, form: Any) -> models.Model:  # type: ignore[override]
        raise PermissionDenied("管理后台不提供此项新增。")

    def may_edit(self, request: HttpRequest, parent: Any) -> bool:
        return True

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request) and provides(self, "add") and self.may_edit(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request) and provides(self, "change") and self.may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_portal_admin(request) and provides(self, "delete") and self.may_edit(request, obj)
