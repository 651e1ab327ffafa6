"""The national bench's raw SQL (bench/national_floor.py) answers the portal's roll-up numbers.

PostgreSQL only (it uses `left()`); run with --db=postgresql. The bench asserts the same at scale; this
keeps the grouped SQL honest against the scenario's records, where every rule of the tables is exercised.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from reporting import selectors
from reporting.choices import ReportKind
from tests.reporting.test_figures import DEC, MAY


@pytest.mark.postgres
@pytest.mark.parametrize(("kind", "month"), [(ReportKind.ACCOUNTABILITY, MAY), (ReportKind.WINTER, DEC)])
def test_grouped_floor_gives_the_rollup_numbers(scenario: Any, kind: str, month: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the national bench's SQL is PostgreSQL's: run with --db=postgresql")
    from bench import national_floor
    from reporting.figures import compute_rollup

    w = scenario.world
    grouped = national_floor.accountability if kind == ReportKind.ACCOUNTABILITY else national_floor.winter
    for regions in ([w.town_a, w.town_b], [w.county]):
        scopes = [
            s for s in selectors.scopes_for(kind=kind, regions=regions, month=month).values() if not isinstance(s, str)
        ]
        tables = compute_rollup(kind, scopes)
        floor = grouped(scopes)
        assert any(v for cells in floor.values() for v in cells.values()), "the scenario has records here"
        for region in regions:
            assert floor[region.pk] == tables[region.pk].cells(), region.name
