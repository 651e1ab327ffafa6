"""Dates are plausible (1950–2099, deadlines not before the found date) and campaign tags match dates.

One validator (portal.validators.validate_plausible_date) sits on every date field people enter, so
the services' full_clean, the forms, the API and the importers all refuse the same dates. A record
tagged with a campaign but dated outside its period is refused (else no table counts it).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from openpyxl import Workbook
from rest_framework.test import APIClient

from hazards import services as hazard_services
from hazards.models import Hazard
from inspections import services as inspection_services
from inspections.imports import enforcement_import_commit
from inspections.models import Campaign, EnforcementRecord, Inspection
from portal.validators import validate_plausible_date
from tests.conftest import Cast, World
from tests.hazards.conftest import catalogue  # noqa: F401 - a fixture

D = dt.date
OUT_OF_RANGE = "不在 1950-01-01 至 2099-12-31 之间"
# Dates the portal sets itself (report months, schedule runs), never typed by a person.
SYSTEM_DATES = {"reporting"}


def test_every_date_field_people_enter_has_the_plausible_range() -> None:
    """Closes the class: a new date field without the validator fails here."""
    missing = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in {"portal", "hazards", "inspections"}
        for field in model._meta.get_fields()
        if isinstance(field, models.DateField)
        and not isinstance(field, models.DateTimeField)
        and validate_plausible_date not in field.validators
    ]
    assert missing == []


def report(cast: Cast, world: World, **changes: Any) -> Hazard:
    data: dict[str, Any] = dict(
        actor=cast.clerk, enterprise=world.enterprise_a, level="general", description="+320平台边坡有浮石",
        category="slope", source="self_check", found_on=D(2024, 5, 1),
    )  # fmt: skip
    data.update(changes)
    return hazard_services.hazard_report(**data)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"found_on": D(1, 1, 1)}, OUT_OF_RANGE),
        ({"found_on": D(1949, 12, 31)}, OUT_OF_RANGE),
        ({"deadline": D(9999, 12, 31)}, OUT_OF_RANGE),
        ({"deadline": D(2024, 4, 30)}, "整改时限不能早于发现日期"),
    ],
    ids=["year-1", "1949", "deadline-9999", "deadline-before-found"],
)
def test_a_hazard_with_an_implausible_date_is_refused(
    cast: Cast,
    world: World,
    catalogue: None,  # noqa: F811 - the fixture imported above
    changes: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(ValidationError, match=message):
        report(cast, world, **changes)
    api = APIClient()
    api.force_login(cast.clerk)
    body = {"level": "general", "description": "+320平台边坡有浮石", "category": "slope", "source": "self_check"}
    body.update({"found_on": "2024-05-01"} | {k: v.isoformat() for k, v in changes.items()})
    response = api.post("/api/v1/hazards/", body, format="json")
    assert response.status_code == 400 and message.split("之间")[0][-10:] in response.content.decode()
    assert Hazard.objects.count() == 0
    # A plausible one passes (the check is not refusing everything).
    assert report(cast, world, deadline=D(2024, 6, 30)).pk


def test_enforcement_records_refuse_1900(cast: Cast, world: World) -> None:
    with pytest.raises(ValidationError, match=OUT_OF_RANGE):
        inspection_services.enforcement_record_create(
            actor=cast.town_a_staff, kind="suspension", date=D(1900, 1, 1), enterprise=world.enterprise_a
        )
    result = enforcement_import_commit(
        source=xlsx([[1, "停产整顿", "1900-01-01", world.enterprise_a.name]]), actor=cast.town_a_staff
    )
    assert not result.committed and any("1950-01-01" in line for line in result.error_lines()), result.error_lines()
    assert EnforcementRecord.objects.count() == 0


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["序号", "处理类型", "日期", "企业名称", "姓名", "罚款金额（万元）", "文书编号", "事由", "专项行动"])
    for row in rows:
        sheet.append(row + [""] * (9 - len(row)))
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


@pytest.fixture
def summer_campaign(world: World) -> Campaign:
    return Campaign.objects.create(
        name="夏季专项整治", issuing_region=world.county, start_date=D(2024, 5, 1), end_date=D(2024, 8, 30)
    )


def test_a_record_tagged_with_a_campaign_must_fall_in_its_period(
    cast: Cast, world: World, summer_campaign: Campaign
) -> None:
    outside = "日期 2024-09-05 不在专项行动“夏季专项整治”的期间（2024-05-01 至 2024-08-30）内"
    with pytest.raises(ValidationError, match=outside):
        inspection_services.enforcement_record_create(
            actor=cast.town_a_staff, kind="suspension", date=D(2024, 9, 5), enterprise=world.enterprise_a,
            campaign=summer_campaign,
        )  # fmt: skip
    with pytest.raises(ValidationError, match=outside):
        inspection_services.inspection_create(
            actor=cast.town_a_staff, enterprise=world.enterprise_a, date=D(2024, 9, 5), method="random_check",
            leader="李明", campaign=summer_campaign,
        )  # fmt: skip
    tagged = xlsx([[1, "停产整顿", "2024-09-05", world.enterprise_a.name, "", "", "", "", "夏季专项整治"]])
    result = enforcement_import_commit(source=tagged, actor=cast.town_a_staff)
    assert not result.committed and any("不在专项行动“夏季专项整治”的期间" in line for line in result.error_lines())
    assert EnforcementRecord.objects.count() == 0 and Inspection.objects.count() == 0
    # Inside the period, or without a campaign, the same records are accepted.
    inspection_services.enforcement_record_create(
        actor=cast.town_a_staff, kind="suspension", date=D(2024, 8, 30), enterprise=world.enterprise_a,
        campaign=summer_campaign,
    )  # fmt: skip
    inspection_services.enforcement_record_create(
        actor=cast.town_a_staff, kind="suspension", date=D(2024, 9, 5), enterprise=world.enterprise_a
    )
    assert EnforcementRecord.objects.count() == 2


def test_hazard_steps_refuse_implausible_dates_through_the_service_and_the_api(
    cast: Cast,
    world: World,
    catalogue: None,  # noqa: F811 - the fixture imported above
) -> None:
    from hazards.choices import HazardLevel, HazardStatus
    from tests.hazards.conftest import make_hazard

    hazard = make_hazard(world.enterprise_a, status=HazardStatus.RECTIFYING, deadline=D(2024, 6, 30))
    with pytest.raises(ValidationError, match=OUT_OF_RANGE):
        hazard_services.hazard_request_extension(
            actor=cast.clerk, hazard=hazard, requested_deadline=D(9999, 12, 31), reason="设备到货延迟"
        )
    api = APIClient()
    api.force_login(cast.clerk)
    response = api.post(
        f"/api/v1/hazards/{hazard.pk}/extensions/",
        {"requested_deadline": "9999-12-31", "reason": "设备到货延迟"},
        format="json",
    )
    assert response.status_code == 400 and "1950-01-01" in response.content.decode()
    assert not hazard.extensions.exists()
    general = make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=HazardStatus.RECTIFYING)
    with pytest.raises(ValidationError, match=OUT_OF_RANGE):
        hazard_services.hazard_mark_rectified(
            actor=cast.clerk, hazard=general, rectified_on=D(1, 1, 1), rectification_note="已清理"
        )
    general.refresh_from_db()
    assert general.rectified_on is None
