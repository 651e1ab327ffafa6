"""Reads of hazards. Every queryset that reaches a user starts from `visible_to`."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Q, QuerySet, Value, When
from django.http import Http404

from hazards.choices import ExtensionStatus, HazardStatus, MineType
from hazards.filters import HazardFilterSet
from hazards.models import (
    ExtensionRequest,
    Hazard,
    HazardEvent,
    HazardEvidence,
    HazardQuerySet,
    MajorHazardCriterion,
    Notification,
)
from hazards.permissions import extension_decider_levels, queue_statuses
from portal.models import User

LIST_RELATED = ("enterprise", "enterprise__town", "criterion")


def hazard_base(*, user: User) -> HazardQuerySet:
    return Hazard.objects.visible_to(user).select_related(*LIST_RELATED)


def hazard_list(*, user: User, params: Any = None) -> HazardQuerySet:
    """The hazards a user may see, filtered and sorted by `params` (the same for page, API and export)."""
    queryset = hazard_base(user=user).order_by("-found_on", "-id")
    if params is None:
        return queryset
    filterset = HazardFilterSet(params, queryset=queryset, user=user)
    # An invalid value (an enterprise outside the scope, a bad date) matches nothing rather than being dropped.
    return filterset.qs if filterset.is_valid() else queryset.none()


def hazard_filterset(*, user: User, params: Any) -> HazardFilterSet:
    return HazardFilterSet(params, queryset=hazard_base(user=user).order_by("-found_on", "-id"), user=user)


def hazard_get(*, user: User, pk: int) -> Hazard:
    """One hazard, or 404 when it does not exist *or* is out of the user's scope."""
    try:
        return hazard_base(user=user).select_related("signed_by", "rectified_by", "verified_by").get(pk=pk)
    except (Hazard.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该隐患。") from None


def work_queue(*, user: User) -> HazardQuerySet:
    """What waits for this user's action: the statuses their role moves on, and extensions they decide."""
    condition = Q()
    for level, statuses in queue_statuses(user).items():
        if statuses:
            condition |= Q(level=level, status__in=statuses)
    decider_levels = extension_decider_levels(user)
    if decider_levels:
        # The ids of the (few) hazards with a pending extension, read first, not a subquery: under the OR a
        # correlated EXISTS ran once per hazard in scope, and even a hashed IN (subquery) kept PostgreSQL on a
        # sequential scan of every hazard in scope (50,000 at county scale: 90 ms for the count alone); with a
        # list of ids each side of the OR reads its own index (status/level, primary key).
        pending = list(
            ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).values_list("hazard_id", flat=True)
        )
        condition |= Q(pk__in=pending, level__in=decider_levels)
    if not condition:
        return hazard_base(user=user).none()
    queryset = hazard_base(user=user).filter(condition)
    # The rectifier never verifies: their own rectifications do not wait for them.
    queryset = queryset.exclude(status__in=[HazardStatus.RECTIFIED, HazardStatus.CLOSURE_REQUESTED], rectified_by=user)
    return queryset.order_by("current_deadline", "found_on", "id")


def hazard_events(*, user: User, hazard: Hazard) -> QuerySet[HazardEvent]:
    return HazardEvent.objects.visible_to(user).filter(hazard=hazard).order_by("created_at", "id")


def hazard_evidence(*, user: User, hazard: Hazard) -> QuerySet[HazardEvidence]:
    return HazardEvidence.objects.visible_to(user).filter(hazard=hazard).select_related("uploaded_by")


def hazard_extensions(*, user: User, hazard: Hazard) -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.visible_to(user).filter(hazard=hazard).select_related("requested_by", "decided_by")


def criterion_list(
    *, mine_type: str | None = None, active_only: bool = True, user: Any = None, at_path: str | None = None
) -> QuerySet[MajorHazardCriterion]:
    """The 判定依据 catalogue: the national items and, with `user`, the items of the user's county (or, with
    `at_path`, those that apply at that region: what an enterprise there may cite)."""
    queryset = MajorHazardCriterion.objects.all()
    if user is not None:
        queryset = queryset.visible_to(user)
    if at_path is not None:
        queryset = queryset.applicable_at(at_path)
    if active_only:
        queryset = queryset.filter(is_active=True)
    if mine_type:
        queryset = queryset.filter(mine_type=mine_type)
    part = Case(*(When(mine_type=value, then=Value(i)) for i, value in enumerate(MineType.values)), default=Value(9))
    return queryset.order_by("document", part, "number")


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(recipient=user).select_related("hazard")
    return queryset.filter(is_read=False) if unread_only else queryset


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, is_read=False).count()
