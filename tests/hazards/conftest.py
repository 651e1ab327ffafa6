"""Helpers for the hazards tests: the catalogue, and hazards put directly into any status."""

from __future__ import annotations

import datetime
import io
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile

from hazards.choices import (
    EvidenceKind,
    ExtensionStatus,
    HazardCategory,
    HazardLevel,
    HazardSource,
    HazardStatus,
    MineType,
)
from hazards.criteria import load_catalogue_file
from hazards.models import (
    ExtensionRequest,
    Hazard,
    HazardEvidence,
    MajorHazardCriterion,
    hazard_identity_key,
)
from portal.choices import Role
from portal.images import make_thumbnail
from portal.models import Enterprise, User
from tests.conftest import World
from tests.factories import UserFactory
from tests.images import TINY_PNG

PNG_BYTES = TINY_PNG  # a real image: uploads are opened to read their pixel size
_counter = itertools.count(1)


@pytest.fixture
def catalogue(db: None) -> None:
    """The seeded catalogue (re-seeded if a transactional test flushed it)."""
    if not MajorHazardCriterion.objects.exists():
        load_catalogue_file()


def open_pit_item(number: int = 7) -> MajorHazardCriterion:
    return MajorHazardCriterion.objects.get(mine_type=MineType.OPEN_PIT, number=number)


FIVE = {
    "measures": "清理边坡浮石，按设计削坡减载",
    "responsible_unit": "采矿车间",
    "responsible_person": "李安全",
    "funds_wan": Decimal("12.50"),
    "interim_measures": "设置警戒线，暂停该台阶作业",
}


def make_hazard(
    enterprise: Enterprise,
    *,
    level: str = HazardLevel.MAJOR,
    status: str | None = None,
    five: bool = True,
    **fields: Any,
) -> Hazard:
    """A hazard put straight into a status (the workflow itself is tested through the services)."""
    n = next(_counter)
    found_on = fields.pop("found_on", datetime.date(2024, 5, 1))
    deadline = fields.pop("deadline", datetime.date(2024, 6, 30))
    values: dict[str, Any] = {
        "enterprise": enterprise,
        "level": level,
        "description": f"测试隐患{n}：+320平台边坡有浮石",
        "category": HazardCategory.SLOPE,
        "source": HazardSource.SELF_CHECK,
        "found_on": found_on,
        "status": status or (HazardStatus.DRAFT if level == HazardLevel.MAJOR else HazardStatus.REPORTED),
        "criterion": open_pit_item() if level == HazardLevel.MAJOR else None,
        "deadline": deadline,
        "current_deadline": deadline,
        **(FIVE if five else {}),
    }
    values.update(fields)
    hazard = Hazard(**values)
    hazard.identity_key = hazard_identity_key(
        ledger_number=hazard.ledger_number, found_on=hazard.found_on, description=hazard.description
    )
    hazard.save()
    return hazard


def add_evidence(hazard: Hazard, user: User | None = None, kind: str = EvidenceKind.RECTIFICATION) -> HazardEvidence:
    evidence = HazardEvidence(
        hazard=hazard, kind=kind, original_name="整改后.png", size=len(PNG_BYTES), sha256="0" * 64, uploaded_by=user
    )
    evidence.file.save("test.png", ContentFile(PNG_BYTES), save=False)
    evidence.thumbnail.save("test.thumb.jpg", ContentFile(make_thumbnail(io.BytesIO(PNG_BYTES))), save=False)
    evidence.save()
    return evidence


def add_extension(hazard: Hazard, user: User) -> ExtensionRequest:
    assert hazard.current_deadline is not None
    return ExtensionRequest.objects.create(
        hazard=hazard,
        requested_by=user,
        old_deadline=hazard.current_deadline,
        requested_deadline=hazard.current_deadline + datetime.timedelta(days=30),
        reason="设备到货延迟",
        status=ExtensionStatus.PENDING,
    )


def second_town_a_staff(world: World) -> User:
    return UserFactory(username="town_a_2", role=Role.TOWN_STAFF, region=world.town_a)


def second_county_staff(world: World) -> User:
    return UserFactory(username="county_2", role=Role.COUNTY_STAFF, region=world.county)
