"""The enforcement pages: list and detail scoped, forms for field staff only, changes by the issuing unit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inspections import services
from inspections.models import EnforcementRecord
from tests.conftest import Cast, World

DAY = dt.date(2024, 5, 10)


@pytest.fixture
def records(cast: Cast, world: World) -> dict[str, EnforcementRecord]:
    pdf = SimpleUploadedFile("决定书.pdf", b"%PDF-1.7 x")
    return {
        "a": services.enforcement_record_create(
            actor=cast.town_a_staff, kind="penalty_enterprise", date=DAY, enterprise=world.enterprise_a,
            amount=Decimal("2"), attachments=[pdf],
        ),
        "b": services.enforcement_record_create(
            actor=cast.town_b_staff, kind="suspension", date=DAY, enterprise=world.enterprise_b
        ),
    }  # fmt: skip


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


DETAIL = {
    "town_a_staff": {"a"}, "town_b_staff": {"b"}, "county_staff": {"a", "b"}, "city_viewer": {"a", "b"},
    "clerk": {"a"}, "other_county_staff": set(), "other_clerk": set(),
}  # fmt: skip


@pytest.mark.parametrize("member", sorted(DETAIL))
def test_list_and_detail_are_scoped(cast: Cast, records: dict, member: str) -> None:
    client = _client(getattr(cast, member))
    listing = client.get("/inspections/enforcement/")
    assert listing.status_code == 200
    shown = {key for key, r in records.items() if r.get_absolute_url() in listing.content.decode()}
    assert shown == DETAIL[member]
    for key, record in records.items():
        assert client.get(record.get_absolute_url()).status_code == (200 if key in DETAIL[member] else 404)
        attachment = record.attachments.first()
        if attachment is not None:
            expected = 200 if key in DETAIL[member] else 404
            assert client.get(f"/inspections/files/enforcement/{attachment.pk}/").status_code == expected


def test_town_records_through_the_form(cast: Cast, world: World) -> None:
    client = _client(cast.town_a_staff)
    form = client.get("/inspections/enforcement/new/?kind=interview_principal")
    assert form.status_code == 200
    body = form.content.decode()
    assert world.enterprise_a.name in body and world.enterprise_b.name not in body
    response = client.post(
        "/inspections/enforcement/new/",
        {"kind": "interview_principal", "date": "2024-05-11", "enterprise": world.enterprise_a.pk},
    )
    assert response.status_code == 302
    record = EnforcementRecord.objects.get()
    assert record.person_name == "王建国" and record.issuing_unit == world.town_a
    # Another town's enterprise is not even a choice.
    refused = client.post(
        "/inspections/enforcement/new/",
        {"kind": "suspension", "date": "2024-05-11", "enterprise": world.enterprise_b.pk},
    )
    assert refused.status_code == 200 and "enterprise" in refused.context["form"].errors
    # A fine without its amount: the Chinese reason on the form.
    missing = client.post(
        "/inspections/enforcement/new/",
        {"kind": "penalty_enterprise", "date": "2024-05-11", "enterprise": world.enterprise_a.pk},
    )
    assert "行政处罚须填写罚款金额" in missing.content.decode()
    assert EnforcementRecord.objects.count() == 1


@pytest.mark.parametrize("member", ["clerk", "principal", "county_leader", "city_viewer"])
def test_non_field_staff_get_403_on_the_form(cast: Cast, member: str) -> None:
    assert _client(getattr(cast, member)).get("/inspections/enforcement/new/").status_code == 403


def test_only_the_issuing_unit_edits_and_deletes(cast: Cast, records: dict) -> None:
    record = records["a"]
    county = _client(cast.county_staff)
    assert county.get(f"/inspections/enforcement/{record.pk}/edit/").status_code == 403
    assert county.post(f"/inspections/enforcement/{record.pk}/delete/").status_code == 403
    other_town = _client(cast.town_b_staff)
    assert other_town.post(f"/inspections/enforcement/{record.pk}/delete/").status_code == 404
    town = _client(cast.town_a_staff)
    page = town.get(f"/inspections/enforcement/{record.pk}/edit/")
    assert page.status_code == 200
    assert town.post(f"/inspections/enforcement/{record.pk}/delete/").status_code == 302
    assert not EnforcementRecord.objects.filter(pk=record.pk).exists()


def test_form_links_hazards_of_the_chosen_enterprise(cast: Cast, world: World) -> None:
    from hazards import services as hazard_services

    own = hazard_services.hazard_report(
        actor=cast.town_a_staff, enterprise=world.enterprise_a, level="general", description="配电柜未接地",
        category="power", source="town_inspection", found_on=DAY,
    )  # fmt: skip
    other = hazard_services.hazard_report(
        actor=cast.town_a_staff, enterprise=world.enterprise_a2, level="general", description="无警示标志",
        category="other", source="town_inspection", found_on=DAY,
    )  # fmt: skip
    client = _client(cast.town_a_staff)
    form = client.get(f"/inspections/enforcement/new/?kind=order_rectification&enterprise={world.enterprise_a.pk}")
    body = form.content.decode()
    assert "配电柜未接地" in body and "无警示标志" not in body
    refused = client.post(
        "/inspections/enforcement/new/",
        {
            "kind": "order_rectification",
            "date": "2024-05-11",
            "enterprise": world.enterprise_a.pk,
            "hazards": [other.pk],
        },
    )
    assert refused.status_code == 200 and not EnforcementRecord.objects.exists()
    done = client.post(
        "/inspections/enforcement/new/",
        {"kind": "order_rectification", "date": "2024-05-11", "enterprise": world.enterprise_a.pk, "hazards": [own.pk]},
    )
    assert done.status_code == 302
    record = EnforcementRecord.objects.get()
    assert list(record.hazards.all()) == [own]
    assert "配电柜未接地" in client.get(record.get_absolute_url()).content.decode()
