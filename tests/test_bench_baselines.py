"""The benches' baselines are checked before a figure is compared with them: the admin changelist needs a
session verified by the second factor (else 302), and a baseline that answers anything but 200 with the
expected rows fails the bench."""

from __future__ import annotations

import pytest

from bench.harness import BaselineError, Case, admin_rows, check_baseline, logged_in, logged_in_verified, measure
from hazards.choices import HazardLevel
from hazards.models import Hazard
from portal.models import Enterprise
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard


def test_the_admin_baseline_answers_200_with_the_rows_of_the_scope(cast: Cast, world: World) -> None:
    for _ in range(3):
        make_hazard(world.enterprise_a, level=HazardLevel.GENERAL)
    make_hazard(world.enterprise_other, level=HazardLevel.GENERAL)
    plain, verified = measure(
        [
            Case("admin, password only", logged_in(cast.admin), "/admin/hazards/hazard/", admin_rows),
            Case("admin, verified", logged_in_verified(cast.admin), "/admin/hazards/hazard/", admin_rows),
        ],
        reps=1,
        warmup=0,
    )
    assert plain.status == 302  # what the old benches timed: a redirect to the code page
    with pytest.raises(BaselineError, match="302"):
        check_baseline(plain, expected_rows=3, log=lambda line: None)
    expected = Hazard.objects.visible_to(cast.admin).count()
    assert verified.status == 200 and verified.rows == expected == 3
    lines: list[str] = []
    check_baseline(verified, expected_rows=expected, log=lines.append)
    assert lines and lines[0].startswith("  ✓ baseline")


def test_a_baseline_with_other_rows_fails(cast: Cast, world: World) -> None:
    (enterprises,) = measure(
        [Case("admin", logged_in_verified(cast.admin), "/admin/portal/enterprise/", admin_rows)], reps=1, warmup=0
    )
    visible = Enterprise.objects.visible_to(cast.admin).count()
    assert enterprises.rows == visible
    lines: list[str] = []
    with pytest.raises(BaselineError, match="rows"):
        check_baseline(enterprises, expected_rows=visible + 1, log=lines.append)
    assert lines and "✗ baseline" in lines[0]
