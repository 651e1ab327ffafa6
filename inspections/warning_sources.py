"""The per-row 预警 rules as row sources: counted in SQL, and read one page at a time.

Five rules give one warning per row of a table, possibly hundreds of thousands at province scale: 隐患整改逾期,
重大事故隐患长期存在, 同类重大事故隐患反复出现 (hazards), 安全生产许可证到期 (enterprises) and 人员证书到期
(people). Each is declared here once as a `RowSource`: the rule's rows in the user's scope (the very rule of
inspections/warnings.py, written as a queryset), how the region and enterprise filters reach them, the date in
the warning's key (to tell the handled ones), the order of the warnings (`on` newest first, then title, then the
rule's own order for ties) as SQL, and the function building the warning of one row (the rule's own builder).

`source_counts` counts them (`warning_counts`, the 预警 page's tabs) and `source_head` reads the first rows of one
(`WarningListing`); both give exactly what `warnings_for` gives for those kinds (tests/inspections/
test_warning_sources.py compares them on tricky data).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    F,
    IntegerField,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import (
    Cast,
    Coalesce,
    Collate,
    Concat,
    ExtractDay,
    ExtractMonth,
    ExtractYear,
    Lag,
    Substr,
)

from hazards.choices import MINE_TYPE_SECTION, HazardLevel, MineType
from hazards.models import Hazard
from inspections.choices import WarningKind
from inspections.models import WarningResolution
from inspections.warnings import (
    DEFAULT_LONG_OPEN_DAYS,
    Thresholds,
    Warning,
    _expiry_since,
    _months_before,
    _resolved_rows,
    certificate_rows,
    certificate_title,
    certificate_warning,
    licence_rows,
    licence_title,
    licence_warning,
    long_open_rows,
    long_open_title,
    long_open_warning,
    overdue_rows,
    overdue_title,
    overdue_warning,
    repeated_earlier,
    repeated_rows,
    repeated_title,
    repeated_warning,
)
from portal.choices import PersonRole
from portal.models import Enterprise, Region, User
from portal.scoping import in_subtree, subtree_semijoin


@dataclass
class Scope:
    """What a rule's rows depend on: whose scope, which day, the filters, the thresholds and resolutions read."""

    user: User
    today: dt.date
    thresholds: Thresholds
    resolutions: list[WarningResolution]
    region: Region | None = None
    enterprise: Enterprise | None = None
    # The rows of the sources that find theirs in Python (`RowSource.flagged`), read once per scope.
    flagged: dict[str, list[tuple[int, dt.date]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Segment:
    """Rows of a source whose `on` is an increasing function of one date field: ordered by that field."""

    condition: Callable[[dt.date], Q]
    order_field: str
    # The start of the title's text after the part `RowSource.title` orders by, the same for one `on` of the
    # segment: without it, a title that is a prefix of another's (安全资格证, 安全资格证书) would order first.
    tail: Callable[[], list[Any]] = lambda: []


@dataclass(frozen=True)
class RowSource:
    kind: str
    rows: Callable[[Scope], QuerySet[Any]]  # the rule's rows in the user's scope
    region_path: str  # lookup to the row's town path (the region filter)
    enterprise_field: str  # lookup to the row's enterprise id (the enterprise filter)
    key_date: str | None  # the date field of the key `kind:pk:date`; None for keys `kind:pk`
    segments: tuple[Segment, ...]
    # An expression ordering one `on`'s warnings as their titles order them, given the segment's tail.
    title: Callable[[list[Any]], Any]
    tie: tuple[str, ...]  # the rule's own order among warnings of one `on` and title
    related: tuple[str, ...]
    build: Callable[[Scope, list[Any]], list[Warning]]  # the warnings of page rows, in their order
    # A row's warning's (on, title), from the rule's own title function: a page merges the sources' rows by it
    # and builds the warnings of its own rows only (a deep page reads thousands of rows, shows 20).
    key: Callable[[Scope, Any], tuple[dt.date, str]]
    # Values the title and the builder read (the county's threshold): annotated on the page's rows only.
    annotations: Callable[[Scope], dict[str, Any]] = lambda scope: {}
    # For a rule whose rows cost a pass over many (the repeat window): (pk, order date) of every row, read in
    # one query and kept in the scope; counting is then len(), and a page reads its rows by pk. Single segment.
    flagged: Callable[[Scope], list[tuple[int, dt.date]]] | None = None


def _binary(title: Any) -> Any:
    """Titles compare by code point, as Python compares them: SQLite's default collation is binary (code point
    order for UTF-8); PostgreSQL needs "C" for it."""
    return Collate(title, "C") if connection.vendor == "postgresql" else title


def _label(field_name: str, choices: Iterable[tuple[str, str]]) -> Case:
    return Case(
        *[When(**{field_name: value}, then=Value(label)) for value, label in choices],
        default=Value(""),
        output_field=CharField(),
    )


def _text(expression: Any) -> Cast:
    return Cast(expression, output_field=CharField())


# --- 隐患整改逾期 ---------------------------------------------------------------------------------------


def _overdue_title(tail: list[Any]) -> Any:
    # `enterprise name：level`: the rest of the title is the same for the warnings of one deadline.
    return _binary(
        Concat("enterprise__name", Value("："), _label("level", HazardLevel.choices), *tail, output_field=CharField())
    )


OVERDUE = RowSource(
    kind=WarningKind.OVERDUE_HAZARD,
    rows=lambda scope: overdue_rows(scope.user, scope.today),
    region_path="enterprise__town__path",
    enterprise_field="enterprise_id",
    key_date="current_deadline",
    segments=(Segment(lambda today: Q(), "current_deadline"),),  # on = deadline + 1 day
    title=_overdue_title,
    tie=("id",),
    related=("enterprise", "enterprise__town", "criterion"),
    build=lambda scope, rows: [overdue_warning(h, scope.today) for h in rows],
    key=lambda scope, h: (h.current_deadline + dt.timedelta(days=1), overdue_title(h, scope.today)),
)


# --- 重大事故隐患长期存在 ------------------------------------------------------------------------------


def _long_open_rows(scope: Scope) -> QuerySet[Hazard]:
    """Open major hazards found more than the county's N days ago: found before today - N."""
    thresholds = scope.thresholds
    fewest = min([DEFAULT_LONG_OPEN_DAYS, *(d for d, _ in thresholds.rows.values())])
    since = Case(
        *[
            When(in_subtree(path, "enterprise__town__path"), then=Value(scope.today - dt.timedelta(days=d)))
            for path, (d, _m) in sorted(thresholds.rows.items(), key=lambda item: (len(item[0]), item[0]))
        ],
        default=Value(scope.today - dt.timedelta(days=DEFAULT_LONG_OPEN_DAYS)),
        output_field=DateField(),
    )
    rows = long_open_rows(scope.user)
    bound = scope.today - dt.timedelta(days=fewest)  # every county's bound is this day or earlier
    if scope.user.is_superuser and scope.region is None and scope.enterprise is None:
        # Every major hazard of the province: the plain bound first, an index range on (level, found_on).
        rows = rows.filter(found_on__lt=bound)
    else:
        # A region's are better read from its enterprises, but SQLite would take that range for them too (it
        # cannot tell that 重大 is 5% of the rows) and read the province's: the bound on an expression it
        # cannot look up in an index (the same value) leaves it the enterprises' indexes.
        rows = rows.alias(_found=Coalesce("found_on", "found_on")).filter(_found__lt=bound)
    if thresholds.rows:
        rows = rows.alias(_since=since).filter(found_on__lt=F("_since"))
    return rows


def _long_open_title(tail: list[Any]) -> Any:
    # `name：重大事故隐患发现 D 天仍未销号（超过 L 天）`: D is the same for one `on`; the name and L order them.
    limit = [_text("_limit"), Value(" 天）")]
    return _binary(Concat("enterprise__name", Value("："), *limit, *tail, output_field=CharField()))


LONG_OPEN = RowSource(
    kind=WarningKind.LONG_OPEN_MAJOR_HAZARD,
    rows=_long_open_rows,
    region_path="enterprise__town__path",
    enterprise_field="enterprise_id",
    key_date=None,
    segments=(Segment(lambda today: Q(), "found_on"),),
    title=_long_open_title,
    tie=("id",),
    related=("enterprise", "enterprise__town", "criterion"),
    build=lambda scope, rows: [long_open_warning(h, scope.today, h._limit) for h in rows],
    key=lambda scope, h: (h.found_on, long_open_title(h, scope.today, h._limit)),
    annotations=lambda scope: {"_limit": scope.thresholds.expression("enterprise__town__path", 0)},
)


# --- 同类重大事故隐患反复出现 ----------------------------------------------------------------------------


REPEATED_LOOKUPS = ("enterprise__town__path", "enterprise_id")


def _date_part(field_name: str, part: str) -> Any:
    """Year, month or day of a date column as an integer. SQLite keeps dates as ISO text: cut it (Django's
    Extract calls back into Python for every row there); PostgreSQL extracts natively."""
    if connection.vendor == "sqlite":
        start, length = {"year": (1, 4), "month": (6, 2), "day": (9, 2)}[part]
        return Cast(Substr(field_name, start, length), output_field=IntegerField())
    extract = {"year": ExtractYear, "month": ExtractMonth, "day": ExtractDay}[part]
    return extract(field_name)


def _repeated_flagged(scope: Scope) -> list[tuple[int, dt.date]]:
    """(pk, found_on) of the hazards the rule flags: `later` has an earlier hazard of its group (enterprise,
    判定依据; earlier by found_on, id) found on or after `_months_before(later.found_on, months)`. The latest
    of the earlier ones decides, so one LAG over the group (read from `hazard_major_group_idx`) does.

    SQL keeps the hazards whose predecessor is at most `months` calendar months earlier (year * 12 + month):
    a superset, exact but for the first month of the window, where the day decides (clamped to the month's
    end). The rule's own `_months_before` then decides in Python, on those tuples only."""
    index = _date_part("found_on", "year") * 12 + _date_part("found_on", "month")
    partition, order = [F("enterprise_id"), F("criterion_id")], [F("found_on").asc(), F("id").asc()]
    # A group is one enterprise's: the filters may narrow the hazards compared before the LAG.
    candidates = (
        _narrowed(REPEATED_LOOKUPS, repeated_rows(scope.user), scope, semijoin=True)
        .annotate(
            _months=scope.thresholds.expression("enterprise__town__path", 1),
            _earliest=index - F("_months"),
            _previous_index=Window(Lag(index), partition_by=partition, order_by=order),
            _previous=Window(Lag("found_on"), partition_by=partition, order_by=order),
        )
        .filter(_previous_index__gte=F("_earliest"))
        .order_by()
        .values_list("pk", "found_on", "_previous", "_months")
    )
    return [
        (pk, found_on) for pk, found_on, previous, months in candidates if previous >= _months_before(found_on, months)
    ]


def _criterion_name() -> Any:
    """`str(criterion)`: the mine type's name, the section and the item's label."""
    kinds = [
        When(criterion__mine_type=value, then=Value(f"{label}{MINE_TYPE_SECTION.get(value, '')}"))
        for value, label in MineType.choices
    ]
    return Concat(
        Case(*kinds, default=Value(""), output_field=CharField()), "criterion__label", output_field=CharField()
    )


def _repeated_title(tail: list[Any]) -> Any:
    return _binary(
        Concat(
            "enterprise__name",
            Value("：同类重大事故隐患（"),
            _criterion_name(),
            Value("）"),
            _text("_months"),
            Value("个月内反复出现"),
            *tail,
            output_field=CharField(),
        )
    )


def _repeated_build(scope: Scope, rows: list[Hazard]) -> list[Warning]:
    """The page's warnings, with the earlier hazards of their windows (one query for the page)."""
    if not rows:
        return []
    group: dict[tuple[int, int | None], list[Hazard]] = defaultdict(list)
    for hazard in (
        repeated_rows(scope.user)
        # The page's enterprises' major hazards (a few each, from `hazard_major_group_idx`); by 判定依据 below:
        # a criterion_id IN here made SQLite read those criteria's hazards province-wide.
        .filter(enterprise_id__in=sorted({h.enterprise_id for h in rows}))
        .select_related("enterprise", "enterprise__town", "criterion")
        .order_by("found_on", "id")
    ):
        group[(hazard.enterprise_id, hazard.criterion_id)].append(hazard)
    keys = {group_key: [(h.found_on, h.pk) for h in hazards] for group_key, hazards in group.items()}
    warnings = []
    for later in rows:
        group_key = (later.enterprise_id, later.criterion_id)
        before = group[group_key][: bisect.bisect_left(keys[group_key], (later.found_on, later.pk))]
        months: int = cast(Any, later)._months  # annotated (`annotations`)
        warnings.append(repeated_warning(later, repeated_earlier(later, before, months), months, scope.today))
    return warnings


REPEATED = RowSource(
    kind=WarningKind.REPEATED_MAJOR_HAZARD,
    rows=lambda scope: repeated_rows(scope.user),  # the flagged ones: `flagged`
    region_path="enterprise__town__path",
    enterprise_field="enterprise_id",
    key_date=None,
    segments=(Segment(lambda today: Q(), "found_on"),),
    title=_repeated_title,
    # The rule walks the groups by (enterprise, 判定依据), each by (found_on, id).
    tie=("enterprise_id", "criterion_id", "id"),
    related=("enterprise", "enterprise__town", "criterion"),
    build=_repeated_build,
    key=lambda scope, h: (h.found_on, repeated_title(h, h._months)),
    annotations=lambda scope: {"_months": scope.thresholds.expression("enterprise__town__path", 1)},
    flagged=_repeated_flagged,
)


# --- 安全生产许可证到期, 人员证书到期 -----------------------------------------------------------------


def _expiry_segments(field_name: str) -> tuple[Segment, ...]:
    # `on` is the expiry once expired, else the expiry less 90 days: increasing with the expiry on each side.
    # The title ends with portal.expiry's wording: 已于 {expiry} 过期（N 天） / 将于 {expiry} 到期（还有 N 天）.
    return (
        Segment(
            lambda today: Q(**{f"{field_name}__lt": today}),
            field_name,
            lambda: [Value("已于 "), _text(field_name), Value(" 过期（")],
        ),
        Segment(
            lambda today: Q(**{f"{field_name}__gte": today}),
            field_name,
            lambda: [Value("将于 "), _text(field_name), Value(" 到期（还有 ")],
        ),
    )


LICENCE = RowSource(
    kind=WarningKind.LICENCE_EXPIRY,
    rows=lambda scope: licence_rows(scope.user, scope.today),
    region_path="town__path",
    enterprise_field="pk",
    key_date="license_expiry",
    segments=_expiry_segments("license_expiry"),
    # `name：安全生产许可证{text}`: the text is the same for one expiry (one `on` of a segment).
    title=lambda tail: _binary(Concat("name", Value("：安全生产许可证"), *tail, output_field=CharField())),
    tie=("id",),
    related=("town",),
    build=lambda scope, rows: [licence_warning(e, scope.today) for e in rows],
    key=lambda scope, e: (_expiry_since(e.license_expiry, scope.today), licence_title(e, scope.today)),
)


def _certificate_title(tail: list[Any]) -> Any:
    # `enterprise：{role}{name}的{certificate}{text}`: the text is the same for one expiry.
    certificate = Case(When(certificate_type="", then=Value("证书")), default=F("certificate_type"))
    return _binary(
        Concat(
            "enterprise__name",
            Value("："),
            _label("role", PersonRole.choices),
            "name",
            Value("的"),
            certificate,
            *tail,
            output_field=CharField(),
        )
    )


CERTIFICATE = RowSource(
    kind=WarningKind.CERTIFICATE_EXPIRY,
    rows=lambda scope: certificate_rows(scope.user, scope.today),
    region_path="enterprise__town__path",
    enterprise_field="enterprise_id",
    key_date="certificate_expiry",
    segments=_expiry_segments("certificate_expiry"),
    title=_certificate_title,
    tie=("id",),
    related=("enterprise", "enterprise__town"),
    build=lambda scope, rows: [certificate_warning(p, scope.today) for p in rows],
    key=lambda scope, p: (_expiry_since(p.certificate_expiry, scope.today), certificate_title(p, scope.today)),
)


SOURCES: dict[str, RowSource] = {s.kind: s for s in (OVERDUE, LONG_OPEN, REPEATED, LICENCE, CERTIFICATE)}


# --- Counting and reading -----------------------------------------------------------------------------


def source_rows(source: RowSource, scope: Scope) -> QuerySet[Any]:
    """The source's rows in the user's scope, narrowed to the scope's region and enterprise."""
    return _narrowed((source.region_path, source.enterprise_field), source.rows(scope), scope)


def _narrowed(lookups: tuple[str, str], rows: QuerySet[Any], scope: Scope, *, semijoin: bool = False) -> QuerySet[Any]:
    region_path, enterprise_field = lookups
    if scope.region is not None:
        path = scope.region.path
        rows = rows.filter(
            subtree_semijoin(rows.model, region_path, path) if semijoin else in_subtree(path, region_path)
        )
    if scope.enterprise is not None:
        rows = rows.filter(**{enterprise_field: scope.enterprise.pk})
    return rows


def unhandled(source: RowSource, scope: Scope) -> Q | None:
    """The rows whose warning has not been handled among the scope's resolutions (keys `kind:pk` or `kind:pk:date`, the
    date the row's own: a warning handled for an earlier date stands again), None when none was."""
    resolved = _resolved_rows(scope.user, [source.kind], [r.key for r in scope.resolutions])[source.kind]
    if not resolved:
        return None
    if source.key_date is None:
        return ~Q(pk__in=sorted({pk for pk, _ in resolved}))
    handled: dict[str, list[int]] = defaultdict(list)
    for pk, day in resolved:
        handled[day].append(pk)
    condition = Q()
    for day, pks in sorted(handled.items()):
        try:
            date = dt.date.fromisoformat(day)
        except ValueError:  # not a key this engine wrote: it handles nothing here
            continue
        condition &= ~Q(**{source.key_date: date, "pk__in": sorted(pks)})
    return condition


def _flagged(source: RowSource, scope: Scope) -> list[tuple[int, dt.date]] | None:
    if source.flagged is None:
        return None
    if source.kind not in scope.flagged:
        scope.flagged[source.kind] = source.flagged(scope)
    return scope.flagged[source.kind]


def _handled_pks(source: RowSource, scope: Scope) -> set[int]:
    """For keys `kind:pk` (a flagged source's): the rows handled."""
    return {pk for pk, _ in _resolved_rows(scope.user, [source.kind], [r.key for r in scope.resolutions])[source.kind]}


def source_counts(source: RowSource, scope: Scope) -> tuple[int, int]:
    """(warnings, open warnings) of the source: one query."""
    if (flagged := _flagged(source, scope)) is not None:
        handled = _handled_pks(source, scope)
        return len(flagged), sum(pk not in handled for pk, _ in flagged)
    rows = source_rows(source, scope)
    open_condition = unhandled(source, scope)
    if open_condition is None:
        total = rows.count()
        return total, total
    counted = rows.aggregate(total=Count("pk"), open=Count("pk", filter=open_condition))
    return counted["total"], counted["open"]


def _ordered(source: RowSource, scope: Scope, segment: Segment, rows: QuerySet[Any], stop: int) -> list[Any]:
    """The first `stop` of `rows` in the warnings' order."""
    return list(
        rows.select_related(*source.related)
        .annotate(**source.annotations(scope))
        .annotate(_title=source.title(segment.tail()))
        .order_by(F(segment.order_field).desc(), F("_title").desc(), *source.tie)[:stop]
    )


CUTOFF_ROWS = 5000  # above this many rows a page first finds the date of its last row (see source_head)


def source_head(source: RowSource, scope: Scope, stop: int, *, only_open: bool, rows_total: int) -> list[Any]:
    """The rows of the source's first `stop` warnings, each segment's in `warnings_for`'s order (`on` newest
    first, then title, ties in the rule's order), or fewer: one query per segment."""
    if (flagged := _flagged(source, scope)) is not None:
        handled = _handled_pks(source, scope) if only_open else set()
        dates = sorted((day for pk, day in flagged if pk not in handled), reverse=True)
        cutoff = dates[stop - 1] if len(dates) >= stop else dt.date.min
        pks = sorted(pk for pk, day in flagged if day >= cutoff and pk not in handled)
        rows = source.rows(scope).filter(pk__in=pks)
    else:
        rows = source_rows(source, scope)
        if only_open and (open_condition := unhandled(source, scope)) is not None:
            rows = rows.filter(open_condition)
    head: list[Any] = []
    for segment in source.segments:
        part = rows.filter(segment.condition(scope.today))
        if flagged is not None or rows_total <= CUTOFF_ROWS:  # the cutoff is applied already, or not worth it
            head += _ordered(source, scope, segment, part, stop)
            continue
        # Only rows on or after the `stop`-th row's date can be among the first `stop`: found first from the
        # date alone (an index walk), so that titles are built and sorted for those rows only, not for all of
        # them (300,000 overdue hazards for the superuser). The oldest date when there are fewer rows. For a few
        # thousand rows (a town's) sorting them all is cheaper than the planner's take on the two steps.
        last = part.order_by(F(segment.order_field).desc()).values(segment.order_field)[stop - 1 : stop]
        part = part.filter(**{f"{segment.order_field}__gte": Coalesce(Subquery(last), Value(dt.date.min))})
        head += _ordered(source, scope, segment, part, stop)
    return head


def source_warnings(source: RowSource, scope: Scope, rows: list[Any]) -> list[Warning]:
    """The warnings of `rows` (of `source_head`), with what was done about them."""
    found = source.build(scope, rows)
    by_key = {r.key: r for r in scope.resolutions}
    for warning in found:
        warning.resolution = by_key.get(warning.key)
    return found
