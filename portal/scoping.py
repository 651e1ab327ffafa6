"""The one place where rows are scoped to a user (after NetBox's RestrictedQuerySet.restrict()).

Every page, API view, export, drill-down and file download gets its rows from
`Model.objects.visible_to(user)`. A model says how it reaches a region and an enterprise
through two class attributes:

    scope_region_path     lookup from the model to a materialised region path ("town__path" for an
                          enterprise, "path" for Region itself), or a tuple of such lookups that
                          are OR-ed; None when region users never see the model
    scope_enterprise_path lookup from the model to an Enterprise id ("pk" for Enterprise itself),
                          None when enterprise users never see the model

A model issued by a region for everything below it (a campaign and its parts) names instead

    scope_campaign_region_path  lookup to the issuing region's path: read by that region's subtree
                          (its towns and their enterprises) and by the regions above it

The region-subtree rule is written once, here: `in_subtree()` (a Q) and `path_within()` (in Python),
with `ancestor_paths()` for the way up. Paths are delimited ("/140000/140500/140525/"), so the prefix
"/140000/140500/14052/" never matches the path of 140525.

A region-scoped user sees the whole subtree of their region (one indexed prefix match on the
materialised path); an enterprise-scoped user sees only what belongs to their enterprise; a
user with no scope sees nothing. Out-of-scope objects are then simply absent, so views answer
404 without confirming that they exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.models import User

_M = TypeVar("_M", bound=models.Model)


def in_subtree(path: str, field: str = "path") -> models.Q:
    """Rows whose region path (`field`, a lookup such as "town__path") lies in the subtree rooted at `path`.

    One indexed prefix match on the materialised path; the root itself is inside its subtree.
    """
    return models.Q(**{f"{field}__startswith": path})


def path_within(path: str, root: str) -> bool:
    """The Python side of `in_subtree`: whether the region at `path` lies in the subtree rooted at `root`."""
    return path.startswith(root)


def ancestor_paths(path: str) -> list[str]:
    """ "/140000/140500/140525/" → ["/140000/", "/140000/140500/", "/140000/140500/140525/"]."""
    codes = [code for code in path.split("/") if code]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def in_line(path: str, field: str = "path") -> models.Q:
    """Rows whose region (`field`) is in the subtree of `path` or one of its ancestors: what reaches down
    to `path` or was issued below it."""
    return in_subtree(path, field) | models.Q(**{f"{field}__in": ancestor_paths(path)})


def subtree_semijoin(model: Any, lookup: str, path: str) -> models.Q:
    """`in_subtree(path, lookup)` as nested `fk IN (SELECT id …)` along the relations of `lookup`
    ("enterprise__town__path" → enterprise IN (enterprises whose town IN (regions under path))): the same rows
    (a null key is in no subquery, as it matched no path through the LEFT JOIN), without joining the table."""
    head, _, rest = lookup.partition("__")
    if not rest:
        return in_subtree(path, lookup)
    related = model._meta.get_field(head).related_model
    if related is None:  # not a relation: the lookup as written
        return in_subtree(path, lookup)
    inner = related._base_manager.filter(subtree_semijoin(related, rest, path)).values("pk")
    return models.Q(**{f"{head}__in": inner})


class ScopedQuerySet(models.QuerySet[_M]):
    def visible_to(self, user: User | AnonymousUser | None, *, semijoin: bool = False) -> ScopedQuerySet[_M]:
        """The rows `user` may see. `semijoin`: the region condition as `fk IN (SELECT …)` even when one
        relation leads to the region, for a caller whose query SQLite would otherwise plan as a scan of the whole
        table joined to its regions (a window over one county's major hazards: 730 ms → 40 ms)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        model: Any = self.model
        campaign_lookup: str | None = getattr(model, "scope_campaign_region_path", None)
        if campaign_lookup is not None:
            return self._visible_down_and_up(user, campaign_lookup)
        region_lookup: str | tuple[str, ...] | None = getattr(model, "scope_region_path", None)
        enterprise_lookup: str | None = getattr(model, "scope_enterprise_path", None)
        if user.enterprise_id is not None:
            if enterprise_lookup is None:
                return self.none()
            return self.filter(**{enterprise_lookup: user.enterprise_id})
        if user.region_id is not None and region_lookup is not None:
            if isinstance(region_lookup, str):
                if semijoin:
                    return self.filter(subtree_semijoin(model, region_lookup, user.region_path))
                return self.filter(in_subtree(user.region_path, region_lookup))
            # Several ways into a region (a person's enterprise or parent company, a record's issuing unit):
            # OR-ed across LEFT JOINs, no index serves the condition and every row of the table is joined
            # and tested (a county's people at province scale: 23,000 rows joined for 70). As semi-joins each
            # branch is a small `fk IN (SELECT id …)` of the regions' subtree.
            condition = models.Q()
            for lookup in region_lookup:
                condition |= subtree_semijoin(model, lookup, user.region_path)
            return self.filter(condition)
        return self.none()

    def _visible_down_and_up(self, user: Any, lookup: str) -> ScopedQuerySet[_M]:
        """A campaign and its parts: read by the issuing region's subtree and its enterprises, and by the
        regions above it (the city) — still one indexed comparison on the materialised path."""
        if user.enterprise_id is not None:
            enterprise = user.enterprise
            if enterprise is None:
                return self.none()
            return self.filter(**{f"{lookup}__in": ancestor_paths(enterprise.town.path)})
        if user.region_id is not None:
            return self.filter(in_line(user.region_path, lookup))
        return self.none()


class ScopedManager(models.Manager[_M]):
    def get_queryset(self) -> ScopedQuerySet[_M]:
        return ScopedQuerySet(self.model, using=self._db)

    def visible_to(self, user: Any, *, semijoin: bool = False) -> ScopedQuerySet[_M]:
        return self.get_queryset().visible_to(user, semijoin=semijoin)


def sees_personal_data(user: Any, *, enterprise_id: int | None) -> bool:
    """Phones and ID numbers in clear: admins (and superusers), and the users of the record's own enterprise.

    The one masking rule for the enterprise page, the people list, the API and the Excel export: everyone
    else in scope reads the masked value (138****5678).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    from portal.rules import is_admin  # portal.rules reads this module's path helpers

    if is_admin(user):
        return True
    return bool(enterprise_id is not None and user.enterprise_id == enterprise_id)


def log_denied(
    *,
    user: Any,
    model: type[models.Model],
    lookup: dict[str, Any],
    detail: str,
    visible: models.QuerySet[Any] | None = None,
) -> bool:
    """Writes one 越权访问 audit row when `lookup` names an existing object that was answered 404.

    One query: the object itself, and, with `visible` (the user's scoped rows of `model`), whether it is
    among them (a visible object missed for another reason — a page that does not apply to it — is no
    attempt on another scope and is not logged). A bad value or no such object logs nothing.
    """
    from portal import audit_events  # portal.audit imports the models, which import this module

    try:
        candidates = model._default_manager.filter(**lookup)
        if visible is not None:
            candidates = candidates.annotate(_in_scope=models.Exists(visible.filter(pk=models.OuterRef("pk"))))
        target = candidates.first()
    except (TypeError, ValueError, OverflowError, ValidationError):
        return False
    if target is None or getattr(target, "_in_scope", False):
        return False
    audit_events.access_denied(user=user if getattr(user, "pk", None) else None, target=target, detail=detail)
    return True


def visible_or_404(request: HttpRequest, model_or_queryset: Any, /, **lookup: Any) -> Any:
    """The one object `lookup` names among the rows `request.user` may see, else 404.

    `model_or_queryset` is a model or one of its querysets (a selector's, with its joins and extra
    conditions); either way the rows go through `visible_to(request.user)`. On a miss, an existing
    object outside the scope is logged as 越权访问 (one extra query, only then) before the 404.
    """
    if isinstance(model_or_queryset, models.QuerySet):
        queryset: models.QuerySet[Any] = model_or_queryset
    else:
        queryset = model_or_queryset._default_manager.all()
    model = queryset.model
    try:
        return queryset.visible_to(request.user).get(**lookup)  # type: ignore[attr-defined]
    except (model.DoesNotExist, TypeError, ValueError, OverflowError, ValidationError):
        pass
    raise not_found(request, model, **lookup)


def not_found(request: HttpRequest, model: type[models.Model], /, **lookup: Any) -> Http404:
    """The 404 to raise for a page's missed lookup, after logging 越权访问 when `lookup` names an existing
    object outside `request.user`'s scope (for views whose lookup goes through a selector of their own)."""
    visible = model._default_manager.visible_to(request.user)  # type: ignore[attr-defined]
    log_denied(
        user=request.user, model=model, lookup=lookup, detail=f"{request.method} {request.path}", visible=visible
    )
    return Http404(f"未找到该{model._meta.verbose_name}。")
