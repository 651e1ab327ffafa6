"""Paging of the hazard lists at province scale.

An exact COUNT(*) of a million hazards costs PostgreSQL 60–300 ms (every row of an index is visited),
more than the rest of the page. So for the wide scopes (a superuser, a province's or a city's users, no
town or enterprise chosen) a list whose planner estimate exceeds ESTIMATE_ABOVE rows shows the estimate
("约 1,000,000 条") instead; everything else — every county's list, any filtered list of a realistic
size — is counted exactly, without asking the planner first. With an estimate, the next page is known by
reading one row more than the page (never from the estimated count), so paging through to the very end
always works, and a page past the estimated last one is not refused. SQLite (tests, the default bench)
always counts exactly.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections

from portal.choices import RegionLevel

# Above this many (estimated) rows the count is the planner's estimate.
ESTIMATE_ABOVE = 200_000


def estimated_rows(queryset: Any) -> int | None:
    """PostgreSQL's estimate of the rows a queryset returns (one EXPLAIN, no rows read); None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or queryset.query.is_empty():
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedPage(Page):
    """A page that knows whether another one follows from the row read beyond it."""

    def __init__(self, object_list: Any, number: int, paginator: Any, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self._more = more

    def has_next(self) -> bool:
        return self._more

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


def wide_scope(user: Any, params: Any) -> bool:
    """Whether a list may be large enough for an estimated count: a superuser's, or a province's or city's
    users', when no town or enterprise narrows it (a county holds tens of thousands of hazards at most)."""
    if params is not None and (params.get("town") or params.get("enterprise")):
        return False
    if getattr(user, "is_superuser", False):
        return True
    region = getattr(user, "region", None) if getattr(user, "region_id", None) is not None else None
    return region is not None and region.level in {RegionLevel.PROVINCE, RegionLevel.CITY}


class HazardPaginator(Paginator):
    """Exact count, or — when allowed and above ESTIMATE_ABOVE rows — the planner's estimate."""

    count_is_estimate = False

    def __init__(self, object_list: Any, per_page: Any, *args: Any, allow_estimate: bool = False, **kwargs: Any):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.allow_estimate = allow_estimate

    @cached_property
    def count(self) -> int:
        estimate = estimated_rows(self.object_list) if self.allow_estimate else None
        if estimate is not None and estimate > ESTIMATE_ABOVE:
            self.count_is_estimate = True
            return estimate
        return int(self.object_list.count())  # type: ignore[attr-defined]

    def validate_number(self, number: Any) -> int:
        if self.count and self.count_is_estimate:
            try:
                value = int(number)
            except (TypeError, ValueError):
                raise PageNotAnInteger("页码应为整数。") from None
            if value < 1:
                raise EmptyPage("页码应不小于 1。")
            return value
        return int(super().validate_number(number))

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if not self.count_is_estimate:
            top = min(bottom + self.per_page, self.count)
            return Page(seek(self.object_list, bottom, top, total=self.count), number, self)
        rows = seek(self.object_list, bottom, bottom + self.per_page + 1)
        return EstimatedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


def _reversible(queryset: Any) -> bool:
    """Whether the queryset's order is total and made of plain fields (see `with_tiebreak`), so that the
    reversed queryset lists exactly the same rows backwards (NULLs included: both databases mirror them)."""
    ordering = list(queryset.query.order_by)
    return (
        bool(ordering) and all(isinstance(term, str) for term in ordering) and ordering[-1].lstrip("-") in {"id", "pk"}
    )


def seek(queryset: Any, bottom: int, top: int, *, total: int | None = None) -> list[Any]:
    """Rows bottom..top of an ordered queryset, found through their ids first.

    Sliced directly, the database joins the enterprise, town and criterion of every row before it sorts and
    skips (SQLite drives the join from the enterprises: 4 s for the first page of a million hazards, 90 s
    for the last). Here the ids of the page are found by a subquery over the hazards table alone — the
    ordering's index, read as far as the offset — and only those rows are joined: one query still. When the
    exact total is known and the page lies in the back half, the subquery reads the reversed ordering from
    the other end, so the last page costs what the first does and no page reads more than half the index.
    """
    if top <= bottom:
        return []
    query = queryset.query
    if not hasattr(queryset, "values") or query.distinct or query.combinator or not query.order_by:
        return list(queryset[bottom:top])
    ids = queryset.values("pk")
    if total is not None and bottom > total // 2 and _reversible(queryset):
        ids = queryset.reverse().values("pk")[max(0, total - top) : total - bottom]
    else:
        ids = ids[bottom:top]
    return list(queryset.filter(pk__in=ids))


def with_tiebreak(queryset: Any) -> Any:
    """The queryset ordered by its own ordering and then by id in the same direction.

    Without it, rows that share a sort key (many hazards have the same deadline or status) could appear on
    two pages or on none; with it, each ordering is served by an index that ends with the id.
    """
    ordering = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
    if not ordering or not all(isinstance(term, str) for term in ordering):
        return queryset
    if {term.lstrip("-") for term in ordering} & {"id", "pk"}:
        return queryset
    return queryset.order_by(*ordering, "-id" if ordering[0].startswith("-") else "id")
