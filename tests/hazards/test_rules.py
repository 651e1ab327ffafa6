"""The hazard actions as portal.rules sees them: the rule table of hazards/permissions.py, registered."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from hazards import fields, permissions
from hazards.choices import HazardLevel, HazardStatus
from hazards.models import Hazard
from hazards.rules import STEP_ACTIONS
from portal import rules
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard

pytestmark = pytest.mark.usefixtures("catalogue")


@pytest.fixture
def hazards(world: World) -> list[Hazard]:
    """One hazard of each level in each status it can be in, in two towns."""
    made = []
    for enterprise in (world.enterprise_a, world.enterprise_b):
        for status in HazardStatus.values:
            made.append(make_hazard(enterprise, level=HazardLevel.MAJOR, status=status))
            made.append(make_hazard(enterprise, level=HazardLevel.GENERAL, status=status))
    return made


@pytest.mark.parametrize("action", STEP_ACTIONS)
def test_restrict_is_may_over_the_visible_rows(hazards: list[Hazard], cast: Cast, action: str) -> None:
    """The row filter and the per-object answer never disagree, for any member and step."""
    name = f"hazards.{action}"
    for member, user in cast.all().items():
        rows = set(rules.restrict(Hazard.objects.all(), user, name).values_list("pk", flat=True))
        allowed = {h.pk for h in Hazard.objects.visible_to(user) if rules.may(user, name, h)}
        assert rows == allowed, (member, action)


def test_may_and_require_are_the_rule_table(hazards: list[Hazard], cast: Cast) -> None:
    draft = next(h for h in hazards if h.level == HazardLevel.MAJOR and h.status == HazardStatus.DRAFT)
    assert rules.may(cast.principal, "hazards.sign_report", draft)
    assert not rules.may(cast.clerk, "hazards.sign_report", draft)
    with pytest.raises(PermissionDenied, match="企业主要负责人"):
        rules.require(cast.clerk, "hazards.sign_report", draft)
    with pytest.raises(ValidationError, match="不能进行"):
        rules.require(cast.town_a_staff, "hazards.town_confirm", draft)
    for user in cast.all().values():
        for action in STEP_ACTIONS:
            assert rules.may(user, f"hazards.{action}", draft) == permissions.can(user, draft, action)


def test_the_rectifier_never_verifies(world: World, cast: Cast) -> None:
    hazard = make_hazard(
        world.enterprise_a, level=HazardLevel.GENERAL, status=HazardStatus.RECTIFIED, rectified_by=cast.town_a_staff
    )
    assert not rules.may(cast.town_a_staff, "hazards.verify", hazard)
    assert not rules.restrict(Hazard.objects.all(), cast.town_a_staff, "hazards.verify").filter(pk=hazard.pk)
    hazard.rectified_by = cast.clerk
    hazard.save()
    assert rules.restrict(Hazard.objects.all(), cast.town_a_staff, "hazards.verify").filter(pk=hazard.pk).exists()


def test_who_reports_which_level(cast: Cast) -> None:
    assert rules.may(cast.clerk, "hazards.report", HazardLevel.MAJOR)
    assert not rules.may(cast.county_leader, "hazards.report", HazardLevel.GENERAL)
    with pytest.raises(PermissionDenied, match="您无权上报"):
        rules.require(cast.city_viewer, "hazards.report", HazardLevel.MAJOR)


def test_field_ownership_is_reachable_through_the_rules(hazards: list[Hazard], cast: Cast) -> None:
    names = ["description", "deadline", "measures", "responsible_person"]
    for hazard in hazards[:8]:
        for user in (cast.clerk, cast.town_a_staff, cast.county_staff):
            roles = fields.update_roles(user)
            assert rules.editable_fields(user, hazard, names) == fields.editable_now(hazard, names, roles=roles)
            assert rules.refused_fields(user, hazard, names) == fields.refused_fields(hazard, names, roles=roles)
