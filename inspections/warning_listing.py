"""One page of 预警 at province scale: what the 预警 page and `GET /api/v1/warnings/` show.

`warnings_for` builds every warning of the scope, which is fine for the rules that give a few hundred but not for
the per-row rules (inspections/warning_sources.py: 隐患整改逾期, 重大事故隐患长期存在, 同类重大事故隐患反复出现,
安全生产许可证到期, 人员证书到期: 300,000 overdue hazards alone at province scale for the superuser).
`WarningListing` keeps those in SQL: they are counted there and only the rows a page needs are read, each source
in the order `warnings_for` gives (newest `on` first, then title, ties in the rule's own order), merged with the
other kinds' warnings. The list is therefore identical to `warnings_for(...)` filtered the same way; it is a
sequence a `Paginator` can page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, overload

from inspections.choices import WarningKind
from inspections.warning_sources import SOURCES, Scope, source_counts, source_head, source_warnings
from inspections.warnings import Thresholds, Warning, last_complete_month, resolutions_of, warnings_for
from portal.models import Enterprise, Region, User


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
        listed = set(WarningKind.values) if kinds is None else set(kinds) & set(WarningKind.values)
        wanted = set(WarningKind.values) if counted else listed
        evaluated, sourced = wanted - set(SOURCES), wanted & set(SOURCES)
        # One read of the thresholds and of what was handled, for the rules evaluated and the sources alike.
        thresholds = Thresholds()
        self._scope = Scope(
            user=user, today=today, thresholds=thresholds, resolutions=resolutions_of(user, wanted) if wanted else [],
            region=region, enterprise=enterprise,
        )  # fmt: skip
        self._only_open = only_open
        found = warnings_for(
            user=user, today=today, month=month or last_complete_month(today), kinds=evaluated, region=region,
            enterprise=enterprise, thresholds=thresholds, resolutions=self._scope.resolutions,
        ) if evaluated else []  # fmt: skip
        self._eager = [w for w in found if w.kind in listed and (w.is_open or not only_open)]
        self.counts = dict.fromkeys(WarningKind.values, 0)
        self.open_counts = dict.fromkeys(WarningKind.values, 0)
        for warning in found:
            self.counts[warning.kind] += 1
            self.open_counts[warning.kind] += warning.is_open
        # The sources listed, in the rules' order, each with the number of its warnings listed.
        self._sourced: list[tuple[str, int]] = []
        for kind in WarningKind.values:
            if kind in sourced:
                self.counts[kind], self.open_counts[kind] = source_counts(SOURCES[kind], self._scope)
                if kind in listed:
                    self._sourced.append((kind, self.open_counts[kind] if only_open else self.counts[kind]))

    def __len__(self) -> int:
        return len(self._eager) + sum(n for _, n in self._sourced)

    def _page(self, start: int, stop: int) -> list[Warning]:
        """Warnings `start` to `stop`: only the first `stop` rows of each source can be among them; they are
        merged by their (on, title) and the warnings built for the page's rows alone."""
        if stop <= start:
            return []
        rows = {
            kind: source_head(SOURCES[kind], self._scope, stop, only_open=self._only_open, rows_total=number)
            for kind, number in self._sourced
            if number
        }
        # Gathered in the rules' order, as `warnings_for` gathers them: the stable sort keeps ties in that order.
        gathered: list[tuple[tuple[dt.date, str], str, Any]] = []
        for kind in WarningKind.values:
            if kind in rows:
                key = SOURCES[kind].key
                gathered += [(key(self._scope, row), kind, row) for row in rows[kind]]
            else:
                gathered += [((w.on, w.title), kind, w) for w in self._eager if w.kind == kind]
        page = sorted(gathered, key=lambda item: item[0], reverse=True)[start:stop]
        built = {
            kind: iter(source_warnings(SOURCES[kind], self._scope, [row for _, k, row in page if k == kind]))
            for kind in rows
        }
        return [next(built[kind]) if kind in built else item for _, kind, item in page]

    @overload
    def __getitem__(self, index: int) -> Warning: ...

    @overload
    def __getitem__(self, index: slice) -> list[Warning]: ...

    def __getitem__(self, index: int | slice) -> Warning | list[Warning]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return self._page(start, stop)[::step] if step > 0 else self._page(0, len(self))[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._page(index, index + 1)[0]
