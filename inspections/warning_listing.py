"""One page of 预警 at province scale: what the 预警 page and `GET /api/v1/warnings/` show.

`warnings_for` builds every warning of the scope, which is fine for the rules that give a few hundred but not
for 隐患整改逾期: one warning per overdue hazard, 300,000 at province scale for the superuser (47 s to build).
`WarningListing` keeps that kind in SQL: it is counted there (`count()`, open ones with
`open_overdue_condition`) and only the rows a page needs are read, in the order `warnings_for` gives (newest
`on` first, then title, ties in the rule's own order), merged with the other kinds' warnings. The list is
therefore identical to `warnings_for(...)` filtered the same way; it is a sequence a `Paginator` can page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, overload

from django.db import connection
from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.db.models.functions import Collate, Concat

from hazards.choices import HazardLevel
from hazards.models import Hazard
from inspections.choices import WarningKind
from inspections.warnings import (
    Warning,
    last_complete_month,
    open_overdue_condition,
    overdue_rows,
    overdue_warning,
    resolutions_of,
    warnings_for,
    with_resolutions,
)
from portal.models import Enterprise, Region, User
from portal.scoping import in_subtree

LAZY = WarningKind.OVERDUE_HAZARD


def _title_order(field: str) -> Any:
    """The start of a 隐患整改逾期 title (`enterprise name：level`), which orders warnings of one deadline (the
    rest of the title is the same for them). Compared by code point, as Python compares the titles."""
    level = Case(
        *[When(level=value, then=Value(label)) for value, label in HazardLevel.choices],
        default=Value(""),
        output_field=CharField(),
    )
    title = Concat(field, Value("："), level, output_field=CharField())
    # SQLite's default collation is binary (code point order for UTF-8); PostgreSQL needs "C" for it.
    return Collate(title, "C") if connection.vendor == "postgresql" else title


class WarningListing(Sequence[Warning]):
    """The warnings of `kinds` (None: all) in the user's scope, newest first, as `warnings_for` lists them;
    `only_open` keeps those not yet handled. With `counted`, `.counts` / `.open_counts` give the number per
    kind of every kind (as `WarningList` does), whatever `kinds` lists."""

    def __init__(
        self,
        *,
        user: User,
        today: dt.date,
        month: dt.date | None = None,
        kinds: Iterable[str] | None = None,
        region: Region | None = None,
        enterprise: Enterprise | None = None,
        only_open: bool = False,
        counted: bool = False,
    ) -> None:
        self.user, self.today = user, today
        listed = set(WarningKind.values) if kinds is None else set(kinds) & set(WarningKind.values)
        evaluated = (set(WarningKind.values) if counted else listed) - {LAZY}
        month = month or last_complete_month(today)
        found = warnings_for(
            user=user, today=today, month=month, kinds=evaluated, region=region, enterprise=enterprise
        ) if evaluated else []  # fmt: skip
        self._eager = [w for w in found if w.kind in listed and (w.is_open or not only_open)]
        self.counts = dict.fromkeys(WarningKind.values, 0)
        self.open_counts = dict.fromkeys(WarningKind.values, 0)
        for warning in found:
            self.counts[warning.kind] += 1
            self.open_counts[warning.kind] += warning.is_open
        self._lazy: QuerySet[Hazard] | None = None
        self._lazy_count = 0
        self._resolutions = []
        if LAZY in listed or counted:
            rows = overdue_rows(user, today)
            if region is not None:
                rows = rows.filter(in_subtree(region.path, "enterprise__town__path"))
            if enterprise is not None:
                rows = rows.filter(enterprise_id=enterprise.pk)
            self._resolutions = resolutions_of(user, [LAZY])
            open_rows = rows.filter(open_overdue_condition(user, today, self._resolutions))
            if counted:
                self.counts[LAZY] = rows.count()
                self.open_counts[LAZY] = open_rows.count()
            if LAZY in listed:
                self._lazy = open_rows if only_open else rows
                if counted:
                    self._lazy_count = self.open_counts[LAZY] if only_open else self.counts[LAZY]
                else:
                    self._lazy_count = self._lazy.count()

    def __len__(self) -> int:
        return len(self._eager) + self._lazy_count

    def _head(self, stop: int) -> list[Warning]:
        """The first `stop` warnings: only the first `stop` overdue hazards can be among them."""
        head: list[Warning] = []
        if self._lazy is not None and stop > 0:
            rows = (
                self._lazy.select_related("enterprise", "enterprise__town", "criterion")
                .annotate(_title=_title_order("enterprise__name"))
                .order_by(F("current_deadline").desc(), F("_title").desc(), "id")[:stop]
            )
            head = with_resolutions(self.user, [overdue_warning(h, self.today) for h in rows], self._resolutions)
        # The overdue ones first, as `warnings_for` gathers them: the stable sort keeps ties in that order.
        return sorted([*head, *self._eager], key=lambda w: (w.on, w.title), reverse=True)[:stop]

    @overload
    def __getitem__(self, index: int) -> Warning: ...

    @overload
    def __getitem__(self, index: slice) -> list[Warning]: ...

    def __getitem__(self, index: int | slice) -> Warning | list[Warning]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return self._head(stop)[start:stop:step]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._head(index + 1)[index]
