"""Reads of the directory. Every queryset that reaches a user starts from `visible_to`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from portal.filters import EnterpriseFilterSet
from portal.models import AuditEvent, Enterprise, Person, User


def enterprise_list(*, user: User, params: Any = None) -> QuerySet[Enterprise]:
    """The enterprises a user may see, filtered and sorted by `params` (the same for page, API, export)."""
    queryset = (
        Enterprise.objects.visible_to(user)
        .select_related("town", "town__parent", "parent_company")
        .order_by("name", "id")
    )
    if params is None:
        return queryset
    return EnterpriseFilterSet(params, queryset=queryset, user=user).qs


def enterprise_people(*, user: User, enterprise: Enterprise) -> QuerySet[Person]:
    return Person.objects.visible_to(user).filter(enterprise=enterprise).order_by("role", "name")


def audit_event_list(*, user: User) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.visible_to(user).select_related("actor")
