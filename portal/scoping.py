"""The one place where rows are scoped to a user (after NetBox's RestrictedQuerySet.restrict()).

Every page, API view, export, drill-down and file download gets its rows from
`Model.objects.visible_to(user)`. A model says how it reaches a region and an enterprise
through two class attributes:

    scope_region_path     lookup from the model to a materialised region path ("town__path" for an
                          enterprise, "path" for Region itself), or a tuple of such lookups that
                          are OR-ed; None when region users never see the model
    scope_enterprise_path lookup from the model to an Enterprise id ("pk" for Enterprise itself),
                          None when enterprise users never see the model

A region-scoped user sees the whole subtree of their region (one indexed prefix match on the
materialised path); an enterprise-scoped user sees only what belongs to their enterprise; a
user with no scope sees nothing. Out-of-scope objects are then simply absent, so views answer
404 without confirming that they exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.models import User

_M = TypeVar("_M", bound=models.Model)


class ScopedQuerySet(models.QuerySet[_M]):
    def visible_to(self, user: User | AnonymousUser | None) -> ScopedQuerySet[_M]:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        model: Any = self.model
        region_lookup: str | tuple[str, ...] | None = getattr(model, "scope_region_path", None)
        enterprise_lookup: str | None = getattr(model, "scope_enterprise_path", None)
        if user.enterprise_id is not None:
            if enterprise_lookup is None:
                return self.none()
            return self.filter(**{enterprise_lookup: user.enterprise_id})
        if user.region_id is not None and region_lookup is not None:
            lookups = (region_lookup,) if isinstance(region_lookup, str) else region_lookup
            condition = models.Q()
            for lookup in lookups:
                condition |= models.Q(**{f"{lookup}__startswith": user.region_path})
            return self.filter(condition)
        return self.none()


class ScopedManager(models.Manager[_M]):
    def get_queryset(self) -> ScopedQuerySet[_M]:
        return ScopedQuerySet(self.model, using=self._db)

    def visible_to(self, user: Any) -> ScopedQuerySet[_M]:
        return self.get_queryset().visible_to(user)
