"""Who may do what through the API.

Reading is decided by `Model.objects.visible_to(user)` alone (out of scope → 404). These classes
only add the role rules for writing and for the admin-only resources:

- a write refused by role is a 403 — but only for an object the user can see: detail writes are
  checked in `has_object_permission`, i.e. after the scoped lookup, so an unseen object stays 404;
- a resource reserved to admins (accounts, audit log) is a 403 for everyone else, whatever the id,
  so the answer never depends on whether the object exists.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from portal import rules
from portal.models import Person
from portal.scoping import sees_personal_data
from portal.services import may_edit_own_enterprise

# The role predicates live in portal.rules; these names are what the API's views import.
ENTERPRISE_WRITERS = rules.COUNTY_DESK
ADMINS = rules.ADMINS
has_role = rules.has_role
is_admin = rules.is_admin


def can_write_enterprises(user: Any) -> bool:
    return rules.may(user, "portal.write_enterprises")


def can_see_personal_data(user: Any, person: Person) -> bool:
    """ID numbers and phones in clear: admins, and the people of the user's own enterprise (scoping's rule)."""
    return sees_personal_data(user, enterprise_id=person.enterprise_id)


class RoleWritePermission(BasePermission):
    """Everyone in scope reads; only `view.write_roles` write (403 for a visible object, else 404)."""

    message = "您的角色无权进行此操作。"

    def _may_write(self, request: Request, view: Any) -> bool:
        return has_role(request.user, getattr(view, "write_roles", frozenset()))

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if getattr(view, "detail", False):
            # Decided after the scoped lookup, in has_object_permission.
            return True
        return self._may_write(request, view)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return self._may_write(request, view)


class EnterpriseWritePermission(RoleWritePermission):
    """Enterprises: admins and county staff write; the enterprise clerk also changes their own enterprise
    (PUT/PATCH — which fields, the service decides: services.ENTERPRISE_SELF_SERVICE_FIELDS)."""

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in {"PUT", "PATCH"} and may_edit_own_enterprise(user=request.user, enterprise=obj):
            return True
        return super().has_object_permission(request, view, obj)


class IsCountyAdmin(BasePermission):
    """Accounts and the audit log: admins only, for every method and every id."""

    message = "只有管理员可以访问此接口。"

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_admin(request.user)
