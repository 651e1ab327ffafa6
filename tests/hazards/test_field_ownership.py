"""Every field has an owner (hazards.fields): which role may change which field of a hazard in which status.

The walk is parametrized from the declaration itself: for every declared field, every member of the cast
and every status of both levels, the service (hazard_update for the pages and the API, hazard_admin_amend
for the admin) changes the field exactly when the declaration grants it, and otherwise refuses it naming
the field and saves nothing. Every model field is either declared or listed as set only by a step, so a
new field without a rule fails here.

The reproduced attack — the enterprise moving a county-fixed deadline of an overdue hazard — is tested
through the API, the page form, 开始整改 and the ledger re-upload.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from hazards import fields as ownership
from hazards import models as hazard_models
from hazards import services
from hazards.api.serializers import AdminAmendInputSerializer, HazardUpdateInputSerializer
from hazards.choices import ExtensionStatus, HazardAction, HazardCategory, HazardLevel, HazardSource, HazardStatus
from hazards.forms import FiveImplementationForm
from hazards.ledger import ledger_import
from hazards.models import ExtensionRequest, Hazard, HazardEvent
from hazards.permissions import ADMIN, ENTERPRISE, REGION_STAFF, can, effective_roles
from portal.models import User
from tests.conftest import Cast, World
from tests.hazards.conftest import FIVE, add_extension, make_hazard, open_pit_item
from tests.hazards.ledger_xlsx import major_row, row, simple

S = HazardStatus
A = HazardAction
MAJOR = HazardLevel.MAJOR
GENERAL = HazardLevel.GENERAL
DEADLINE = datetime.date(2024, 6, 30)  # make_hazard's deadline: passed, so the hazards below are overdue
LATER = datetime.date(2030, 12, 31)
LEVEL_STATUSES = [(MAJOR, status) for status in sorted(ownership.MAJOR_STATUSES)] + [
    (GENERAL, status) for status in sorted(ownership.GENERAL_STATUSES)
]
# Every role that reaches the hazard of enterprise_a (outside the scope is a 404, tested elsewhere).
MEMBERS = ["clerk", "principal", "town_a_staff", "county_staff", "county_leader", "city_viewer", "admin"]


# --- The declaration is complete -------------------------------------------------------------------


def _model_fields(model: type[models.Model]) -> set[str]:
    """The model's own fields (not the reverse relations other models declare)."""
    return {field.name for field in [*model._meta.concrete_fields, *model._meta.many_to_many]}


@pytest.mark.parametrize("model_name", sorted(ownership.FIELD_RULES))
def test_every_model_field_has_a_rule_or_is_set_by_a_step(model_name: str) -> None:
    model = getattr(hazard_models, model_name)
    granted = set(ownership.FIELD_RULES[model_name])
    by_step = set(ownership.STEP_FIELDS[model_name])
    assert not granted & by_step, f"declared twice: {sorted(granted & by_step)}"
    undeclared = _model_fields(model) - granted - by_step
    assert not undeclared, f"{model_name}: fields without an owner: {sorted(undeclared)} (add them to hazards.fields)"
    assert granted | by_step <= _model_fields(model), "hazards.fields names a field the model does not have"


# Records about a hazard that no user edits: the timeline, the reminder job's claims, a user's notifications.
SYSTEM_RECORDS = {"HazardEvent", "HazardReminder", "Notification"}


def test_the_workflow_models_are_all_declared() -> None:
    # Every model of the hazards app that belongs to a hazard is declared (or is a system record), so a new
    # workflow model without an owner for its fields fails here.
    from django.apps import apps

    belongs = {
        model.__name__
        for model in apps.get_app_config("hazards").get_models()
        if model is Hazard or any(f.is_relation and f.related_model is Hazard for f in model._meta.concrete_fields)
    }
    assert belongs - SYSTEM_RECORDS == set(ownership.FIELD_RULES) == set(ownership.STEP_FIELDS)


def test_the_api_serializers_offer_exactly_the_declared_fields() -> None:
    update = set(HazardUpdateInputSerializer().fields) - {"comment"}
    amend = set(AdminAmendInputSerializer().fields) - {"reason"}
    assert update == ownership.declared_fields(ENTERPRISE | REGION_STAFF) == services.EDITABLE_FIELDS
    assert amend == ownership.declared_fields(ADMIN) == services.AMENDABLE_FIELDS
    assert "current_deadline" not in update and "status" not in amend


# --- The walk: field × member × status, from the declaration ------------------------------------------


def _new_value(name: str, hazard: Hazard) -> Any:
    """A valid value different from the hazard's, or None where no valid change exists."""
    values: dict[str, Any] = {
        "ledger_number": f"NEW-{hazard.pk}",  # a ledger number is unique within the enterprise
        "description": f"改写后的隐患内容{hazard.pk}",
        "location": "东帮+300平台",
        "category": HazardCategory.TRANSPORT,
        "criterion": open_pit_item(2) if hazard.is_major else None,
        "criterion_text": "二（二）",
        "found_on": datetime.date(2024, 4, 30),
        "found_by": "王五",
        "source": HazardSource.TOWN_INSPECTION,
        "measures": "分台阶削坡",
        "responsible_unit": "安全科",
        "responsible_person": "赵六",
        "funds_wan": Decimal("3.00"),
        "deadline": LATER,
        "interim_measures": "专人监护",
        "rectification_note": "已完成一半",
        "current_deadline": LATER,
        "rectified_on": datetime.date(2024, 6, 1),
        "closed_on": datetime.date(2024, 6, 2),
        "supervision_level": "city",
        "supervision_unit": "晋城市应急管理局",
        "supervision_doc_number": "晋应急督〔2024〕1号",
        "supervision_date": datetime.date(2024, 5, 10),
        "supervision_deadline": datetime.date(2024, 8, 10),
    }
    if name == "level":  # the criterion goes with it (a major hazard cites one, a general one none)
        return GENERAL if hazard.is_major else MAJOR
    value = values[name]
    if value is None or value == getattr(hazard, name):
        return None
    return value


def _expected(name: str, member: User, hazard: Hazard) -> bool:
    roles = effective_roles(member)
    roles = ADMIN if ADMIN & roles else roles
    if not ownership.granted(name, roles=roles, level=hazard.level, status=hazard.status):
        return False
    # The deadline rule, written out here rather than read from hazards.fields: every hazard of the walk has a
    # deadline, fixed once a major hazard is confirmed by the county and from the report of a general one.
    fixed = hazard.level == GENERAL or hazard.status in {S.CONFIRMED, S.RECTIFYING, S.CLOSURE_REQUESTED, S.CLOSED}
    return not (name in ownership.DEADLINE_FIELDS and fixed)


def _change(member: User, hazard: Hazard, name: str, value: Any) -> Hazard:
    data = {name: value}
    if name == "level":
        data["criterion"] = open_pit_item() if value == MAJOR else None
    if ADMIN & effective_roles(member):
        return services.hazard_admin_amend(actor=member, hazard=hazard, data=data, reason="核对更正")
    return services.hazard_update(actor=member, hazard=hazard, data=data)


@pytest.mark.parametrize("member_name", MEMBERS)
@pytest.mark.parametrize("name", sorted(ownership.HAZARD_FIELD_RULES))
def test_each_field_changes_exactly_where_the_declaration_grants_it(
    world: World, cast: Cast, catalogue: None, name: str, member_name: str
) -> None:
    member = getattr(cast, member_name)
    walked = 0
    for level, status in LEVEL_STATUSES:
        hazard = make_hazard(world.enterprise_a, level=level, status=status)
        value = _new_value(name, hazard)
        if value is None:
            continue
        walked += 1
        expected = _expected(name, member, hazard)
        case = (name, member_name, level, status)
        if expected:
            _change(member, hazard, name, value)
            hazard.refresh_from_db()
            assert getattr(hazard, name) == value, case
            assert hazard.events.get().action in {A.UPDATE, A.ADMIN_AMEND}, case
            continue
        before = getattr(hazard, name)
        with pytest.raises((PermissionDenied, ValidationError)) as refused:
            _change(member, hazard, name, value)
        action = A.ADMIN_AMEND if ADMIN & effective_roles(member) else A.UPDATE
        if can(member, hazard, action) and name in (services.AMENDABLE_FIELDS if action == A.ADMIN_AMEND else
                                                    services.EDITABLE_FIELDS):  # fmt: skip
            # The step is open to the member: the refusal is the field's, by its Chinese name.
            assert refused.type is PermissionDenied, case
            assert f"“{ownership.field_label(name)}”" in str(refused.value), (case, str(refused.value))
        hazard.refresh_from_db()
        assert getattr(hazard, name) == before, case
        assert not hazard.events.exists(), case
    assert walked, f"{name}: no status to walk"


def test_the_walk_is_not_vacuous() -> None:
    # Each member is granted some field somewhere and refused some field somewhere (the walk tests both).
    for roles in (ENTERPRISE, REGION_STAFF, ADMIN):
        statuses = [(level, status) for level, status in LEVEL_STATUSES]
        grants = [
            ownership.granted(name, roles=roles, level=level, status=status)
            for name in ownership.HAZARD_FIELD_RULES
            for level, status in statuses
        ]
        assert any(grants) and (roles == ADMIN or not all(grants))


def test_only_an_admin_changes_the_level(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, level=GENERAL, status=S.RECTIFYING)
    for member in (cast.clerk, cast.town_a_staff, cast.county_staff):
        with pytest.raises(ValidationError, match="不能修改这些字段：level"):
            services.hazard_update(actor=member, hazard=hazard, data={"level": MAJOR, "criterion": open_pit_item()})
    hazard = services.hazard_admin_amend(
        actor=cast.admin, hazard=hazard, data={"level": MAJOR, "criterion": open_pit_item()}, reason="定级错误"
    )
    assert hazard.level == MAJOR


# --- The deadline rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "status", "extra", "why"),
    [
        (MAJOR, S.DRAFT, {}, ""),
        (MAJOR, S.PENDING_TOWN, {}, ""),
        (MAJOR, S.PENDING_COUNTY, {}, ""),
        (MAJOR, S.CONFIRMED, {}, "县局已确认"),
        (MAJOR, S.RECTIFYING, {}, "县局已确认"),
        (MAJOR, S.PENDING_COUNTY, {"supervision_level": "county"}, "已挂牌督办"),
        (MAJOR, S.CONFIRMED, {"deadline": None, "current_deadline": None}, ""),
        (GENERAL, S.REPORTED, {}, "随隐患上报"),
        (GENERAL, S.REPORTED, {"deadline": None, "current_deadline": None}, ""),
    ],
)
def test_when_the_deadline_is_fixed(
    world: World, cast: Cast, catalogue: None, level: str, status: str, extra: dict[str, Any], why: str
) -> None:
    hazard = make_hazard(world.enterprise_a, level=level, status=status, **extra)
    assert ownership.deadline_fixed_by(hazard) == why
    if why:
        with pytest.raises(PermissionDenied, match=f"“整改时限”已确定（{why}）"):
            services.hazard_update(actor=cast.county_staff, hazard=hazard, data={"deadline": LATER})
        hazard.refresh_from_db()
        assert hazard.deadline == extra.get("deadline", DEADLINE)
    else:
        # Not fixed yet (or none recorded): filled in or changed by whoever owns the 五落实.
        hazard = services.hazard_update(actor=cast.county_staff, hazard=hazard, data={"deadline": LATER})
        assert hazard.deadline == hazard.current_deadline == LATER


def test_an_approved_extension_fixes_the_deadline(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_COUNTY)
    assert ownership.deadline_fixed_by(hazard) == ""
    add_extension(hazard, cast.clerk)
    assert ownership.deadline_fixed_by(hazard) == ""  # pending is not approved
    ExtensionRequest.objects.filter(hazard=hazard).update(status=ExtensionStatus.APPROVED)
    assert ownership.deadline_fixed_by(hazard) == "已批准延期"


def test_the_admin_cannot_move_a_fixed_deadline_either(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    for data in ({"current_deadline": LATER}, {"deadline": LATER}):
        with pytest.raises(PermissionDenied, match="只能通过申请延期并经批准后变更"):
            services.hazard_admin_amend(actor=cast.admin, hazard=hazard, data=data, reason="企业要求")
    hazard.refresh_from_db()
    assert hazard.current_deadline == DEADLINE and hazard.is_overdue


def test_the_extension_still_moves_it(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    extension = services.hazard_request_extension(
        actor=cast.clerk, hazard=hazard, requested_deadline=LATER, reason="雨季"
    )
    services.hazard_decide_extension(actor=cast.county_staff, extension=extension, approve=True)
    hazard.refresh_from_db()
    assert hazard.current_deadline == LATER and not hazard.is_overdue


# --- The reproduced attack, through every path ----------------------------------------------------------


def _overdue_major(world: World, cast: Cast) -> Hazard:
    """A county-confirmed, 整改中, overdue major hazard."""
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    assert hazard.is_overdue and hazard in Hazard.objects.overdue()
    return hazard


def _unchanged_and_overdue(hazard: Hazard) -> None:
    hazard.refresh_from_db()
    assert (hazard.deadline, hazard.current_deadline) == (DEADLINE, DEADLINE)
    assert hazard in Hazard.objects.overdue()
    assert not HazardEvent.objects.filter(hazard=hazard, action=A.UPDATE).exists()


@pytest.mark.parametrize("level", [MAJOR, GENERAL])
@pytest.mark.parametrize("member", ["clerk", "principal", "town_a_staff", "county_staff"])
def test_api_patch_of_a_fixed_deadline_is_403(
    world: World, cast: Cast, catalogue: None, level: str, member: str
) -> None:
    hazard = make_hazard(world.enterprise_a, level=level, status=S.RECTIFYING)
    client = APIClient()
    client.force_login(getattr(cast, member))
    response = client.patch(f"/api/v1/hazards/{hazard.pk}/", {"deadline": "2027-12-31"}, format="json")
    assert response.status_code == 403, response.content
    assert "“整改时限”已确定" in response.json()["detail"]
    _unchanged_and_overdue(hazard)
    overdue = client.get("/api/v1/hazards/", {"overdue": "true"}).json()["results"]
    assert hazard.pk in {item["id"] for item in overdue}
    # The 五落实 the enterprise may still complete goes through, the same deadline sent along is no change.
    response = client.patch(
        f"/api/v1/hazards/{hazard.pk}/", {"measures": "分台阶削坡", "deadline": DEADLINE.isoformat()}, format="json"
    )
    assert response.status_code == 200 and response.json()["measures"] == "分台阶削坡"
    _unchanged_and_overdue_after_update(hazard)


def _unchanged_and_overdue_after_update(hazard: Hazard) -> None:
    hazard.refresh_from_db()
    assert hazard.current_deadline == DEADLINE and hazard in Hazard.objects.overdue()


def test_api_admin_amend_of_a_fixed_deadline_is_403(world: World, cast: Cast, catalogue: None) -> None:
    hazard = _overdue_major(world, cast)
    client = APIClient()
    client.force_login(cast.admin)
    response = client.post(
        f"/api/v1/hazards/{hazard.pk}/admin-amend/", {"current_deadline": "2027-12-31", "reason": "x"}, format="json"
    )
    assert response.status_code == 403 and "“现整改时限”已确定" in response.json()["detail"]
    _unchanged_and_overdue(hazard)


def test_start_rectification_does_not_move_a_confirmed_deadline(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.CONFIRMED)
    client = APIClient()
    client.force_login(cast.clerk)
    response = client.post(
        f"/api/v1/hazards/{hazard.pk}/start-rectification/", {"deadline": "2027-12-31"}, format="json"
    )
    assert response.status_code == 403 and "“整改时限”已确定（县局已确认）" in response.json()["detail"]
    hazard.refresh_from_db()
    assert hazard.status == S.CONFIRMED and hazard.current_deadline == DEADLINE
    # The same deadline (as the page's form sends it back) is no change: rectification starts.
    response = client.post(
        f"/api/v1/hazards/{hazard.pk}/start-rectification/", {"deadline": DEADLINE.isoformat()}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == S.RECTIFYING


def test_a_confirmed_hazard_without_a_deadline_gets_one_when_rectification_starts(
    world: World, cast: Cast, catalogue: None
) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.CONFIRMED, deadline=None)
    hazard = services.hazard_start_rectification(actor=cast.clerk, hazard=hazard, deadline=LATER)
    assert hazard.current_deadline == LATER and ownership.deadline_fixed_by(hazard) == "县局已确认"


def _step_url(hazard: Hazard, slug: str) -> str:
    return reverse("hazards:hazard-step", args=[hazard.pk, slug])


@pytest.mark.parametrize("level", [MAJOR, GENERAL])
def test_page_form_shows_a_fixed_deadline_as_text_and_never_moves_it(
    client: Client, world: World, cast: Cast, catalogue: None, level: str
) -> None:
    hazard = make_hazard(world.enterprise_a, level=level, status=S.RECTIFYING)
    client.force_login(cast.clerk)
    page = client.get(reverse("hazards:hazard-detail", args=[hazard.pk])).content.decode()
    assert 'name="five-measures"' in page
    assert 'name="five-deadline"' not in page
    assert "只能通过申请延期并经批准后变更" in page
    form = FiveImplementationForm(hazard=hazard, user=cast.clerk, prefix="five")
    assert "deadline" not in form.fields and [label for label, _v, _r in form.read_only] == ["整改时限"]
    assert form.read_only[0][1] == DEADLINE.isoformat()

    # A crafted POST with the deadline changes nothing of it (the other inputs as the page sends them).
    sent = {f"five-{key}": str(value) for key, value in FIVE.items()}
    response = client.post(_step_url(hazard, "five"), {**sent, "five-deadline": "2027-12-31"})
    assert response.status_code == 400 and "没有修改任何内容" in response.content.decode()
    response = client.post(_step_url(hazard, "five"), {**sent, "five-deadline": "2027-12-31", "five-measures": "削坡"})
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.measures == "削坡"
    _unchanged_and_overdue_after_update(hazard)


def test_page_form_offers_the_deadline_while_it_is_not_fixed(world: World, cast: Cast, catalogue: None) -> None:
    draft = make_hazard(world.enterprise_a, status=S.DRAFT)
    assert "deadline" in FiveImplementationForm(hazard=draft, user=cast.clerk).fields
    confirmed_without = make_hazard(world.enterprise_a, status=S.CONFIRMED, deadline=None)
    assert "deadline" in FiveImplementationForm(hazard=confirmed_without, user=cast.clerk).fields
    # The admin's correction form shows the fixed 现整改时限 as text too.
    from hazards.forms import AdminAmendForm

    rectifying = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    amend = AdminAmendForm(hazard=rectifying, user=cast.admin)
    assert "current_deadline" not in amend.fields and "location" in amend.fields


def test_ledger_reupload_cannot_move_a_fixed_deadline(world: World, cast: Cast, catalogue: None) -> None:
    first = ledger_import(
        source=simple([major_row("M-1"), row("G-1")]), enterprise=world.enterprise_a, actor=cast.clerk
    )
    assert first.committed, first.error_lines()
    major = Hazard.objects.get(ledger_number="M-1")
    general = Hazard.objects.get(ledger_number="G-1")
    Hazard.objects.filter(pk=major.pk).update(status=S.RECTIFYING)
    Hazard.objects.filter(pk=general.pk).update(status=S.RECTIFYING)

    for uploader in (cast.clerk, cast.town_a_staff, cast.county_staff, None):
        moved = simple([major_row("M-1", deadline=LATER, measures="削坡"), row("G-1", deadline=LATER)])
        result = ledger_import(source=moved, enterprise=world.enterprise_a, actor=uploader)
        assert not result.committed
        assert result.error_lines() == [
            "第2行 整改时限：“整改时限”已确定（县局已确认），只能通过申请延期并经批准后变更。",
            "第3行 整改时限：“整改时限”已确定（随隐患上报），只能通过申请延期并经批准后变更。",
        ], uploader
        for hazard in (major, general):
            _unchanged_and_overdue(hazard)
        assert Hazard.objects.get(pk=major.pk).measures == "清理浮石"  # the file was refused as a whole

    # Without the deadline change the same re-upload goes through.
    result = ledger_import(
        source=simple([major_row("M-1", measures="削坡"), row("G-1")]), enterprise=world.enterprise_a, actor=cast.clerk
    )
    assert result.committed and result.summary() == "新增 0 条，更新 1 条，未变 1 条", result.error_lines()


def test_ledger_reupload_may_still_set_a_draft_deadline(world: World, cast: Cast, catalogue: None) -> None:
    ledger_import(source=simple([major_row("D-1")]), enterprise=world.enterprise_a, actor=cast.clerk)
    result = ledger_import(source=simple([major_row("D-1", deadline=LATER)]), enterprise=world.enterprise_a,
                           actor=cast.clerk)  # fmt: skip
    assert result.committed, result.error_lines()
    hazard = Hazard.objects.get()
    assert hazard.deadline == hazard.current_deadline == LATER


def test_ledger_reupload_after_closure_request_keeps_what_was_submitted(
    world: World, cast: Cast, catalogue: None
) -> None:
    ledger_import(source=simple([major_row("C-1", note="整改中")]), enterprise=world.enterprise_a, actor=cast.clerk)
    Hazard.objects.update(status=S.CLOSURE_REQUESTED)
    result = ledger_import(source=simple([major_row("C-1", note="改写的整改情况")]), enterprise=world.enterprise_a,
                           actor=cast.clerk)  # fmt: skip
    assert result.error_lines() == ["第2行 整改情况：该隐患当前状态为“申请销号”，“整改情况”不能修改。"]
    assert Hazard.objects.get().rectification_note == "整改中"
