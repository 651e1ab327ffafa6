"""Campaigns, their phases, checklist, quotas and deliverables, and the warning thresholds change through
`inspections.campaign_services`: the issuing county's 管理员 (or a superuser) only, audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from inspections import campaign_services as cs
from inspections.models import Campaign, CampaignPhase, ChecklistArea, ChecklistItem, Deliverable, Quota
from portal.choices import AuditAction, Role
from portal.models import AuditEvent, User
from tests.conftest import Cast, World
from tests.factories import UserFactory
from tests.otp_helpers import force_login_verified

QUOTA = {"kind": "principal_days_on_site", "subject": "enterprise_principal"}
CAMPAIGN = {"name": "集中排查整治", "start_date": dt.date(2025, 3, 1), "end_date": dt.date(2025, 5, 31)}


def _superuser() -> User:
    return UserFactory(username="root", role="", is_superuser=True, is_staff=True)


def test_county_admin_creates_and_edits_the_countys_campaign_audited(cast: Cast, world: World) -> None:
    campaign = cs.campaign_create(actor=cast.admin, data={**CAMPAIGN, "issuing_region": world.county})
    phase = cs.campaign_part_create(
        actor=cast.admin, model=CampaignPhase, parent=campaign,
        data={"name": "排查阶段", "start_date": dt.date(2025, 3, 1), "end_date": dt.date(2025, 3, 31)},
    )  # fmt: skip
    quota = cs.campaign_part_create(
        actor=cast.admin, model=Quota, parent=campaign,
        data={**QUOTA, "number": Decimal(10), "unit": "个工作日", "phase": phase},
    )  # fmt: skip
    area = cs.campaign_part_create(actor=cast.admin, model=ChecklistArea, parent=campaign, data={"title": "方面一"})
    item = cs.campaign_part_create(actor=cast.admin, model=ChecklistItem, parent=area, data={"text": "是否建立制度"})
    deliverable = cs.campaign_part_create(
        actor=cast.admin, model=Deliverable, parent=campaign,
        data={"name": "工作总结", "submitter": "town", "recipients": "县局", "schedule": "once",
              "due_date": dt.date(2025, 5, 25)},
    )  # fmt: skip
    cs.campaign_part_update(actor=cast.admin, part=quota, data={"number": Decimal(12)})
    cs.campaign_update(actor=cast.admin, campaign=campaign, data={"summary": "目标"})
    for obj in (campaign, phase, quota, area, item, deliverable):
        assert AuditEvent.objects.filter(
            action=AuditAction.CREATE, object_id=str(obj.pk), object_type=str(obj._meta.verbose_name)
        ).exists(), obj
    assert Quota.objects.get(pk=quota.pk).number == 12
    cs.campaign_delete(actor=cast.admin, campaign=campaign)
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DELETE, object_id=str(item.pk)).exists()


@pytest.mark.parametrize("member", ["county_staff", "county_leader", "town_a_staff", "clerk", "city_viewer"])
def test_other_roles_change_no_campaign(cast: Cast, world: World, member: str) -> None:
    user = getattr(cast, member)
    campaign = Campaign.objects.filter(issuing_region=world.county).first()
    assert campaign is not None
    with pytest.raises((PermissionDenied, ValidationError)):
        cs.campaign_create(actor=user, data={**CAMPAIGN, "issuing_region": world.county})
    with pytest.raises(PermissionDenied):
        cs.campaign_update(actor=user, campaign=campaign, data={"summary": "改"})
    with pytest.raises(PermissionDenied):
        cs.campaign_part_create(actor=user, model=ChecklistArea, parent=campaign, data={"title": "新方面"})
    with pytest.raises(PermissionDenied):
        cs.campaign_delete(actor=user, campaign=campaign)
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_a_county_admin_does_not_edit_the_citys_or_another_countys_campaign(cast: Cast, world: World) -> None:
    city_campaign = cs.campaign_create(actor=_superuser(), data={**CAMPAIGN, "issuing_region": world.city})
    other_admin = UserFactory(username="other_admin", role=Role.ADMIN, region=world.other_county, is_staff=True)
    ours = cs.campaign_create(actor=cast.admin, data={**CAMPAIGN, "issuing_region": world.county})
    for actor, campaign in ((cast.admin, city_campaign), (other_admin, ours)):
        with pytest.raises(PermissionDenied):
            cs.campaign_update(actor=actor, campaign=campaign, data={"summary": "改"})
        with pytest.raises(PermissionDenied):
            cs.campaign_part_create(actor=actor, model=ChecklistArea, parent=campaign, data={"title": "新方面"})
    with pytest.raises(ValidationError):
        cs.campaign_create(actor=cast.admin, data={**CAMPAIGN, "issuing_region": world.city})
    with pytest.raises(ValidationError):
        cs.campaign_update(actor=cast.admin, campaign=ours, data={"issuing_region": world.other_county})
    # A quota's phase is a phase of the same campaign.
    foreign_phase = cs.campaign_part_create(
        actor=_superuser(), model=CampaignPhase, parent=city_campaign,
        data={"name": "市阶段", "start_date": dt.date(2025, 3, 1), "end_date": dt.date(2025, 3, 31)},
    )  # fmt: skip
    with pytest.raises(ValidationError, match="适用阶段必须是本专项行动的阶段"):
        cs.campaign_part_create(
            actor=cast.admin, model=Quota, parent=ours,
            data={**QUOTA, "number": Decimal(1), "unit": "次", "phase": foreign_phase},
        )  # fmt: skip
    # The admin site offers the city's campaign read-only.
    client = Client()
    force_login_verified(client, cast.admin)
    page = client.get(f"/admin/inspections/campaign/{city_campaign.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/inspections/campaign/{city_campaign.pk}/delete/", {"post": "yes"}).status_code == 403


def test_warning_thresholds_are_the_countys(cast: Cast, world: World) -> None:
    settings = cs.warning_settings_create(actor=cast.admin, county=world.county, data={"repeat_window_months": 6})
    assert settings.repeat_window_months == 6
    with pytest.raises(PermissionDenied):
        cs.warning_settings_create(actor=cast.admin, county=world.other_county, data={})
    with pytest.raises(PermissionDenied):
        cs.warning_settings_update(actor=cast.county_staff, settings=settings, data={"repeat_window_months": 3})
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_id=str(settings.pk)).exists()


def test_bulk_delete_in_the_admin_is_all_or_nothing_through_the_service(cast: Cast, world: World) -> None:
    city_campaign = cs.campaign_create(actor=_superuser(), data={**CAMPAIGN, "issuing_region": world.city})
    ours = cs.campaign_create(actor=cast.admin, data={**CAMPAIGN, "issuing_region": world.county})
    client = Client()
    force_login_verified(client, cast.admin)
    action = {"action": "delete_selected", "post": "yes", "_selected_action": [ours.pk, city_campaign.pk]}
    assert client.post("/admin/inspections/campaign/", action).status_code == 403  # the city's is not theirs
    assert Campaign.objects.filter(pk__in=[ours.pk, city_campaign.pk]).count() == 2  # nothing deleted
    assert not AuditEvent.objects.filter(action=AuditAction.DELETE, object_id=str(ours.pk)).exists()
    action["_selected_action"] = [ours.pk]
    assert client.post("/admin/inspections/campaign/", action).status_code == 302
    assert not Campaign.objects.filter(pk=ours.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DELETE, object_id=str(ours.pk), detail="管理后台").exists()
