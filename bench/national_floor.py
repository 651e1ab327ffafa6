"""The raw SQL floor of a roll-up: bench/reports.py's statements, grouped by region in one pass per table.

bench/reports.py's `raw_accountability` / `raw_winter` answer one region; a roll-up of 2,800 counties
asked that way is a loop, not a floor. Here each source table is read once for all regions of the
roll-up: the row's unit (or its enterprise's town) is cut to the regions' path length and joined to a
VALUES list of (path, campaign), so "tagged with the region's campaign" is exactly the per-region rule
of the raw SQL. Same cells, same keys as those functions (the bench checks them against the portal).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection

from bench.reports import _in

CENT = Decimal("0.01")


def _groups(scopes: list[Any]) -> tuple[str, list[Any], int, Any]:
    """The VALUES list of (path, campaign id), its parameters, the common path length and period."""
    periods = {scope.period for scope in scopes}
    lengths = {len(scope.region.path) for scope in scopes}
    if len(periods) != 1 or len(lengths) != 1:
        raise ValueError("a grouped floor needs one period and one region level")
    values = ", ".join(["(%s, %s::bigint)"] * len(scopes))
    params = [p for scope in scopes for p in (scope.region.path, scope.campaign.pk)]
    return f"(VALUES {values}) AS g(path, campaign)", params, lengths.pop(), periods.pop()


def _fetch(sql: str, params: list[Any]) -> dict[str, tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _enforcement_parts(columns: Any, table: str, monthly: bool) -> tuple[list[str], list[tuple[str, bool, bool]]]:
    from inspections.choices import Measure, kinds_for_column

    parts, keys = [], []
    for column in columns:
        condition = f"e.kind IN {_in(kinds_for_column(column.key, table))}"
        for prefix, extra in (("cumulative", ""), ("month", " AND e.date >= %s")) if monthly else (("", ""),):
            key = f"{prefix}.{column.key}" if prefix else column.key
            if column.measure == Measure.DISTINCT_ENTERPRISES:
                parts.append(f"COUNT(DISTINCT CASE WHEN {condition}{extra} THEN e.enterprise_id END)")
            elif column.measure == Measure.DISTINCT_PARENTS:
                parts.append(f"COUNT(DISTINCT CASE WHEN {condition}{extra} THEN e.parent_company_id END)")
            elif monthly and column.measure == Measure.AMOUNT:
                parts.append(f"COALESCE(SUM(CASE WHEN {condition}{extra} THEN e.amount END), 0)")
            else:
                parts.append(f"SUM(CASE WHEN {condition}{extra} THEN 1 ELSE 0 END)")
            keys.append((key, monthly and column.measure == Measure.AMOUNT, bool(extra)))
            if not monthly and column.amount_unit:
                keys[-1] = (f"{column.key}_count", False, False)
                parts.append(f"COALESCE(SUM(CASE WHEN {condition} THEN e.amount END), 0)")
                keys.append((f"{column.key}_amount", True, False))
    return parts, keys


def _enforcement(scopes: list[Any], columns: Any, table: str, monthly: bool) -> dict[str, dict[str, Any]]:
    values, params, length, period = _groups(scopes)
    parts, keys = _enforcement_parts(columns, table, monthly)
    sql = (
        f"SELECT g.path, {', '.join(parts)} FROM inspections_enforcementrecord e "  # noqa: S608 - kinds from the code  # nosec B608 # constant SQL from model and code names
        f"JOIN portal_region u ON u.id = e.issuing_unit_id JOIN {values} ON g.path = left(u.path, {length}) "
        "WHERE e.date BETWEEN %s AND %s AND (e.campaign_id = g.campaign OR e.campaign_id IS NULL) GROUP BY g.path"
    )
    month = [period.start for _, _, is_month in keys if is_month]
    rows = _fetch(sql, [*month, *params, period.cumulative_start, period.end])
    result: dict[str, dict[str, Any]] = {}
    for scope in scopes:
        row = rows.get(scope.region.path, (None,) * len(keys))
        result[scope.region.path] = {
            key: Decimal(value or 0).quantize(CENT) if amount else int(value or 0)
            for (key, amount, _), value in zip(keys, row, strict=True)
        }
    return result


def accountability(scopes: list[Any]) -> dict[int, dict[str, Any]]:
    from inspections.choices import ACCOUNTABILITY_COLUMNS, ACCOUNTABILITY_TABLE

    cells = _enforcement(scopes, ACCOUNTABILITY_COLUMNS, ACCOUNTABILITY_TABLE, monthly=False)
    return {scope.region.pk: cells[scope.region.path] for scope in scopes}


def winter(scopes: list[Any]) -> dict[int, dict[str, Any]]:
    from inspections.choices import WINTER_ENFORCEMENT_COLUMNS, WINTER_TABLE

    values, params, length, period = _groups(scopes)
    start, month_start, end = period.cumulative_start, period.start, period.end
    teams = _fetch(
        "SELECT g.path, COUNT(*), SUM(CASE WHEN t.formed_on >= %s THEN 1 ELSE 0 END) "  # noqa: S608  # nosec B608 # constant SQL from model and code names
        f"FROM inspections_inspectionteam t JOIN portal_region u ON u.id = t.unit_id "
        f"JOIN {values} ON g.path = left(u.path, {length}) "
        "WHERE t.campaign_id = g.campaign AND t.formed_on BETWEEN %s AND %s GROUP BY g.path",
        [month_start, *params, start, end],
    )
    inspected = _fetch(
        "SELECT g.path, COUNT(DISTINCT i.enterprise_id), "  # noqa: S608  # nosec B608 # constant SQL from model and code names
        "COUNT(DISTINCT CASE WHEN i.date >= %s THEN i.enterprise_id END) FROM inspections_inspection i "
        f"JOIN portal_region u ON u.id = i.unit_id JOIN {values} ON g.path = left(u.path, {length}) "
        "WHERE i.date BETWEEN %s AND %s AND (i.campaign_id = g.campaign OR i.campaign_id IS NULL) GROUP BY g.path",
        [month_start, *params, start, end],
    )
    general_done = "h.level = 'general' AND h.status IN ('rectified', 'verified') AND h.rectified_on <= %s"
    major_done = "h.level = 'major' AND h.status = 'closed' AND h.closed_on <= %s"
    hazards = _fetch(
        "SELECT g.path, "  # noqa: S608 - constant SQL; values are parameters  # nosec B608 # constant SQL from model and code names
        "SUM(CASE WHEN h.level = 'general' THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {general_done} THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN h.level = 'major' THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {major_done} THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN h.level = 'general' AND h.found_on >= %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {general_done} AND h.found_on >= %s THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN h.level = 'major' AND h.found_on >= %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {major_done} AND h.found_on >= %s THEN 1 ELSE 0 END) "
        "FROM hazards_hazard h JOIN portal_enterprise n ON n.id = h.enterprise_id "
        f"JOIN portal_region t ON t.id = n.town_id JOIN {values} ON g.path = left(t.path, {length}) "
        "WHERE h.found_on BETWEEN %s AND %s AND h.status <> 'draft' GROUP BY g.path",
        [end, end, month_start, end, month_start, month_start, end, month_start, *params, start, end],
    )
    enforcement = _enforcement(scopes, WINTER_ENFORCEMENT_COLUMNS, WINTER_TABLE, monthly=True)
    result: dict[int, dict[str, Any]] = {}
    hazard_keys = ("general_found", "general_rectified", "major_found", "major_rectified")
    for scope in scopes:
        path = scope.region.path
        cells: dict[str, Any] = {}
        total, month = teams.get(path, (0, 0))
        cells["cumulative.teams"], cells["month.teams"] = int(total or 0), int(month or 0)
        total, month = inspected.get(path, (0, 0))
        cells["cumulative.enterprises_inspected"], cells["month.enterprises_inspected"] = int(total), int(month)
        values_ = [int(v or 0) for v in hazards.get(path, (0,) * 8)]
        for prefix, chunk in (("cumulative", values_[:4]), ("month", values_[4:])):
            cells.update({f"{prefix}.{key}": value for key, value in zip(hazard_keys, chunk, strict=True)})
        cells.update(enforcement[path])
        result[scope.region.pk] = cells
    return result
