"""The enterprise clerk keeps their own enterprise's data (SPEC §1), but not what defines supervision.

Allowed: services.ENTERPRISE_SELF_SERVICE_FIELDS (production status, licence and its expiry, address,
contacts). Refused by name, nothing saved: name, credit code, town, industry, parent company, risk grade,
standardization grade. The principal reads only; another enterprise's clerk gets 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from rest_framework.test import APIClient

from portal import services
from portal.choices import AuditAction, Industry, ProductionStatus
from portal.models import AuditEvent, Enterprise, User
from tests.conftest import Cast, World
from tests.factories import ParentCompanyFactory

ALLOWED = {
    "production_status": ProductionStatus.SUSPENDED,
    "license_number": "（晋）FM安许证字〔2024〕000123",
    "license_expiry": dt.date(2027, 3, 31),
    "address": "巴公镇东四义村北",
    "contact_name": "王填报",
    "contact_phone": "13912345678",
}


def _state(enterprise: Enterprise) -> dict[str, Any]:
    return Enterprise.objects.filter(pk=enterprise.pk).values().get()


def _updates(enterprise: Enterprise) -> int:
    return AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(enterprise.pk)).count()


# --- The service -----------------------------------------------------------------------------------------


def test_service_the_clerk_changes_the_allowed_fields_and_it_is_audited(cast: Cast, world: World) -> None:
    enterprise = world.enterprise_a
    services.enterprise_update_by_enterprise(actor=cast.clerk, enterprise=enterprise, data=dict(ALLOWED))
    enterprise.refresh_from_db()
    for name, value in ALLOWED.items():
        assert getattr(enterprise, name) == value, name
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(enterprise.pk))
    assert event.actor == cast.clerk
    assert event.after["contact_name"] == "王填报"
    assert event.before["production_status"] == ProductionStatus.PRODUCING


def test_service_unchanged_forbidden_values_are_accepted(cast: Cast, world: World) -> None:
    """A whole record sent back as it is (a PUT) is not an attempt to change its identity."""
    enterprise = world.enterprise_a
    data = {"name": enterprise.name, "credit_code": enterprise.credit_code, "town": enterprise.town}
    services.enterprise_update_by_enterprise(
        actor=cast.clerk, enterprise=enterprise, data={**data, "contact_name": "李联系"}
    )
    assert Enterprise.objects.get(pk=enterprise.pk).contact_name == "李联系"


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("name", "企业名称"),
        ("credit_code", "统一社会信用代码"),
        ("town", "所在镇"),
        ("industry", "行业类别"),
        ("parent_company", "上级企业/主体公司"),
        ("risk_grade", "安全风险等级"),
        ("standardization_grade", "安全生产标准化等级"),
    ],
)
def test_service_refuses_a_forbidden_field_by_name_and_saves_nothing(
    cast: Cast, world: World, field: str, label: str
) -> None:
    enterprise = world.enterprise_a
    values: dict[str, Any] = {
        "name": "改名矿业有限公司",
        "credit_code": "91350100M000100Y43",
        "town": world.town_b,
        "industry": Industry.TAILINGS,
        "parent_company": ParentCompanyFactory(name="新集团", region=world.town_a),
        "risk_grade": "A",
        "standardization_grade": "1",
    }
    before, audits = _state(enterprise), _updates(enterprise)
    with pytest.raises(ValidationError) as refused:
        services.enterprise_update_by_enterprise(
            actor=cast.clerk, enterprise=enterprise, data={"contact_name": "王填报", field: values[field]}
        )
    assert refused.value.message_dict == {field: [f"企业用户不能修改“{label}”，该项由县应急管理局登记维护。"]}
    assert _state(enterprise) == before  # not even the allowed contact_name
    assert _updates(enterprise) == audits


@pytest.mark.parametrize("member", ["principal", "other_clerk", "town_a_staff", "county_staff", "admin"])
def test_service_only_the_clerk_of_the_enterprise_uses_the_self_service(cast: Cast, world: World, member: str) -> None:
    enterprise = world.enterprise_a
    before = _state(enterprise)
    with pytest.raises(PermissionDenied):
        services.enterprise_update_by_enterprise(
            actor=getattr(cast, member), enterprise=enterprise, data={"contact_name": "王填报"}
        )
    assert _state(enterprise) == before


def test_service_the_bureau_still_changes_everything(cast: Cast, world: World) -> None:
    enterprise = services.enterprise_update(
        actor=cast.county_staff, enterprise=world.enterprise_a, data={"name": "更名矿业", "risk_grade": "B"}
    )
    assert (enterprise.name, enterprise.risk_grade) == ("更名矿业", "B")


# --- The API ---------------------------------------------------------------------------------------------


def _api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _url(enterprise: Enterprise) -> str:
    return f"/api/v1/enterprises/{enterprise.pk}/"


def test_api_clerk_patches_allowed_fields_of_their_enterprise(cast: Cast, world: World) -> None:
    response = _api(cast.clerk).patch(
        _url(world.enterprise_a),
        {"contact_name": "王填报", "license_expiry": "2027-03-31", "production_status": "suspended"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["contact_name"] == "王填报"
    enterprise = Enterprise.objects.get(pk=world.enterprise_a.pk)
    assert enterprise.license_expiry == dt.date(2027, 3, 31)
    assert enterprise.production_status == "suspended"
    assert _updates(enterprise) == 1


def test_api_clerk_puts_the_whole_record_with_the_identity_unchanged(cast: Cast, world: World) -> None:
    enterprise = world.enterprise_a
    payload = {
        "name": enterprise.name,
        "credit_code": enterprise.credit_code,
        "town": enterprise.town_id,
        "industry": enterprise.industry,
        "production_status": enterprise.production_status,
        "parent_company": enterprise.parent_company_id,
        "address": "巴公镇新地址",
    }
    response = _api(cast.clerk).put(_url(enterprise), payload, format="json")
    assert response.status_code == 200, response.content
    assert Enterprise.objects.get(pk=enterprise.pk).address == "巴公镇新地址"


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("name", "企业名称"),
        ("credit_code", "统一社会信用代码"),
        ("town", "所在镇"),
        ("industry", "行业类别"),
        ("parent_company", "上级企业/主体公司"),
        ("risk_grade", "安全风险等级"),
        ("standardization_grade", "安全生产标准化等级"),
    ],
)
def test_api_clerk_forbidden_field_is_400_naming_it(cast: Cast, world: World, field: str, label: str) -> None:
    enterprise = world.enterprise_a
    values = {
        "name": "改名矿业有限公司",
        # A valid code of no enterprise, and below one that exists: the answer is the same refusal.
        "credit_code": "91350100M000100Y43",
        "town": world.town_b.pk,
        "industry": "tailings",
        "parent_company": ParentCompanyFactory(name="新集团", region=world.town_a).pk,
        "risk_grade": "A",
        "standardization_grade": "1",
    }
    before, audits = _state(enterprise), _updates(enterprise)
    response = _api(cast.clerk).patch(_url(enterprise), {"contact_name": "王填报", field: values[field]}, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {field: [f"企业用户不能修改“{label}”，该项由县应急管理局登记维护。"]}
    assert _state(enterprise) == before
    assert _updates(enterprise) == audits


@pytest.mark.parametrize("field", ["town", "credit_code"])
def test_api_clerk_refusal_does_not_tell_whether_another_object_exists(cast: Cast, world: World, field: str) -> None:
    """Another enterprise's credit code or town, an id that exists nowhere: one and the same answer."""
    existing = world.enterprise_other.credit_code if field == "credit_code" else world.other_town.pk
    missing = "91110000600037341L" if field == "credit_code" else 999999
    answers = [
        _api(cast.clerk).patch(_url(world.enterprise_a), {field: value}, format="json") for value in (existing, missing)
    ]
    assert [answer.status_code for answer in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()


@pytest.mark.parametrize(("member", "code"), [("principal", 403), ("other_clerk", 404), ("town_b_staff", 404)])
def test_api_who_may_not_patch(cast: Cast, world: World, member: str, code: int) -> None:
    enterprise = world.enterprise_a
    before = _state(enterprise)
    response = _api(getattr(cast, member)).patch(_url(enterprise), {"contact_name": "王填报"}, format="json")
    assert response.status_code == code
    assert _state(enterprise) == before


def test_api_clerk_may_neither_create_nor_delete(cast: Cast, world: World) -> None:
    client = _api(cast.clerk)
    assert client.delete(_url(world.enterprise_a)).status_code == 403
    created = client.post(
        "/api/v1/enterprises/",
        {"name": "新矿", "credit_code": "91350100M000100Y43", "town": world.town_a.pk, "industry": "quarry",
         "production_status": "producing"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 403
    assert Enterprise.objects.filter(pk=world.enterprise_a.pk).exists()
    assert not Enterprise.objects.filter(name="新矿").exists()


def test_api_county_staff_still_renames(cast: Cast, world: World) -> None:
    response = _api(cast.county_staff).patch(_url(world.enterprise_a), {"name": "更名矿业"}, format="json")
    assert response.status_code == 200
    assert Enterprise.objects.get(pk=world.enterprise_a.pk).name == "更名矿业"


# --- The web page ----------------------------------------------------------------------------------------


def _web(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _edit_url(enterprise: Enterprise) -> str:
    return f"/enterprises/{enterprise.pk}/edit/"


def test_web_detail_shows_edit_to_the_clerk_and_the_bureau_only(cast: Cast, world: World) -> None:
    url = f"/enterprises/{world.enterprise_a.pk}/"
    for member in ("clerk", "county_staff", "admin"):
        assert 'data-testid="enterprise-edit"' in _web(getattr(cast, member)).get(url).content.decode(), member
    for member in ("principal", "town_a_staff", "county_leader", "city_viewer"):
        page = _web(getattr(cast, member)).get(url)
        assert page.status_code == 200
        assert 'data-testid="enterprise-edit"' not in page.content.decode(), member


def test_web_clerk_form_has_only_the_allowed_fields_and_shows_the_rest_as_text(cast: Cast, world: World) -> None:
    enterprise = world.enterprise_a
    page = _web(cast.clerk).get(_edit_url(enterprise))
    assert page.status_code == 200
    form = page.context["form"]
    assert set(form.fields) == services.ENTERPRISE_SELF_SERVICE_FIELDS
    html = page.content.decode()
    assert 'name="contact_phone"' in html
    for forbidden in ("name", "credit_code", "town", "industry", "parent_company", "risk_grade"):
        assert f'name="{forbidden}"' not in html, forbidden
    assert enterprise.credit_code in html  # shown as text
    assert dict(form.read_only)["所在镇"] == "巴公镇"


def test_web_clerk_saves_allowed_fields_and_forbidden_ones_posted_anyway_change_nothing(
    cast: Cast, world: World
) -> None:
    enterprise = world.enterprise_a
    response = _web(cast.clerk).post(
        _edit_url(enterprise),
        {
            "production_status": "suspended",
            "license_number": "许可证-001",
            "license_expiry": "2027-03-31",
            "contact_name": "王填报",
            # Not in the clerk's form: ignored.
            "name": "改名矿业有限公司",
            "town": world.town_b.pk,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/enterprises/{enterprise.pk}/"
    saved = Enterprise.objects.get(pk=enterprise.pk)
    assert (saved.production_status, saved.license_expiry, saved.contact_name) == (
        "suspended",
        dt.date(2027, 3, 31),
        "王填报",
    )
    assert (saved.name, saved.town_id) == (enterprise.name, enterprise.town_id)
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(enterprise.pk))
    assert event.actor == cast.clerk


def test_web_clerk_bad_input_gets_a_chinese_message_and_nothing_saved(cast: Cast, world: World) -> None:
    enterprise = world.enterprise_a
    before = _state(enterprise)
    page = _web(cast.clerk).post(_edit_url(enterprise), {"production_status": "", "contact_name": "王填报"})
    assert page.status_code == 200
    assert "该字段是必填项" in page.content.decode()
    assert _state(enterprise) == before


@pytest.mark.parametrize(("member", "code"), [("principal", 403), ("town_a_staff", 403), ("other_clerk", 404)])
def test_web_who_may_not_edit(cast: Cast, world: World, member: str, code: int) -> None:
    enterprise = world.enterprise_a
    before = _state(enterprise)
    client = _web(getattr(cast, member))
    assert client.get(_edit_url(enterprise)).status_code == code
    assert client.post(_edit_url(enterprise), {"production_status": "closed"}).status_code == code
    assert _state(enterprise) == before


def test_web_other_clerk_attempt_is_logged(cast: Cast, world: World) -> None:
    _web(cast.other_clerk).get(_edit_url(world.enterprise_a))
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, object_id=str(world.enterprise_a.pk)).exists()


def test_web_county_staff_edits_every_field(cast: Cast, world: World) -> None:
    enterprise = world.enterprise_a
    page = _web(cast.county_staff).get(_edit_url(enterprise))
    form = page.context["form"]
    assert "name" in form.fields and not form.read_only
    assert set(form.fields["town"].queryset) == {world.town_a, world.town_b}
    response = _web(cast.county_staff).post(
        _edit_url(enterprise),
        {
            "name": "更名矿业有限公司",
            "credit_code": enterprise.credit_code,
            "town": world.town_b.pk,
            "industry": enterprise.industry,
            "production_status": enterprise.production_status,
        },
    )
    assert response.status_code == 302
    saved = Enterprise.objects.get(pk=enterprise.pk)
    assert (saved.name, saved.town_id) == ("更名矿业有限公司", world.town_b.pk)
