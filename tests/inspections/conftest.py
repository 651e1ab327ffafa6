"""Fixtures of the inspections tests, on top of the shared cast."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from hazards.criteria import load_catalogue_file
from hazards.models import MajorHazardCriterion
from inspections.models import Campaign
from portal.choices import PersonRole
from portal.models import ParentCompany, Person
from tests.conftest import World
from tests.factories import ParentCompanyFactory, PersonFactory

_DB_FIXTURES = {"db", "transactional_db", "live_server", "world", "cast", "campaign83", "campaign331"}


@pytest.fixture(autouse=True)
def seeded_campaigns(request: pytest.FixtureRequest) -> None:
    """The two seed campaigns, as the data migration made them — made again when a transactional test
    (a browser journey) has flushed the database since."""
    names = set(request.fixturenames)
    if not names & _DB_FIXTURES:
        return
    transactional = bool(names & {"transactional_db", "live_server"})
    request.getfixturevalue("transactional_db" if transactional else "db")
    if Campaign.objects.filter(document_number__in=["泽应急发〔2024〕83号", "泽应急发〔2023〕331号"]).count() != 2:
        migration = importlib.import_module("inspections.migrations.0002_seed_campaigns")
        migration.seed(apps, None)
        importlib.import_module("inspections.migrations.0004_deliverable_table").forwards(apps, None)
    if not MajorHazardCriterion.objects.exists():
        load_catalogue_file()


@pytest.fixture
def campaign83(db: None) -> Campaign:
    return Campaign.objects.get(document_number="泽应急发〔2024〕83号")


@pytest.fixture
def campaign331(db: None) -> Campaign:
    return Campaign.objects.get(document_number="泽应急发〔2023〕331号")


@pytest.fixture
def parent_company(world: World) -> ParentCompany:
    """A parent company owning enterprise_a (巴公镇), with its principal and 分管负责人."""
    company = ParentCompanyFactory(name="泽州县示范集团有限公司", region=world.county)
    world.enterprise_a.parent_company = company
    world.enterprise_a.save(update_fields=["parent_company"])
    PersonFactory(parent_company=company, name="李集团", role=PersonRole.PRINCIPAL)
    PersonFactory(parent_company=company, name="赵分管", role=PersonRole.DEPUTY)
    return company


@pytest.fixture
def principal_b(world: World) -> Person:
    return PersonFactory(enterprise=world.enterprise_b, name="刘铁矿", role=PersonRole.PRINCIPAL)
