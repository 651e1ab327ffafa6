"""Audit rows say what happened (issue 12 §3): every kind has one event function, every event function is
called, nothing writes a row around them; the kinds of accounts and tokens, the bulk writer, the
backfill of old rows, and the audit page and API filtering by kind, scoped as before."""

from __future__ import annotations

import ast
import importlib
from collections import defaultdict
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.test import Client
from rest_framework.test import APIClient

from portal import audit_events, services
from portal.audit import audit_batch, audit_record
from portal.choices import AuditAction, AuditKind
from portal.models import AuditEvent
from portal.tokens.services import api_token_issue, api_token_revoke
from tests.conftest import Cast, World

ROOT = Path(__file__).resolve().parent.parent
APPS = ("portal", "hazards", "inspections", "reporting")
EVENT_MODULES = [ROOT / app / "audit_events.py" for app in APPS]
# Written only by the ledger importer's raw bulk INSERT (hazards/ledger.py, via audit_events.STEP_KINDS),
# which records a row of a ledger without the hazard services.
BULK_ONLY = {AuditKind.HAZARD_LEDGER_IMPORTED}
WRITERS = {"audit_write", "audit_row", "audit_record"}


def _source_files() -> list[Path]:
    return [path for app in APPS for path in sorted((ROOT / app).rglob("*.py")) if "migrations" not in path.parts]


def _kinds_in(node: ast.AST) -> set[str]:
    return {
        sub.attr
        for sub in ast.walk(node)
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "AuditKind"
    }


def _names_in(node: ast.AST) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
    return names


def _event_functions() -> dict[str, tuple[Path, ast.FunctionDef]]:
    found: dict[str, tuple[Path, ast.FunctionDef]] = {}
    for path in EVENT_MODULES:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                assert node.name not in found, f"{node.name} is defined in two audit_events modules"
                found[node.name] = (path, node)
    return found


def test_every_kind_has_exactly_one_event_function() -> None:
    emitters: dict[str, list[str]] = defaultdict(list)
    for name, (_path, node) in _event_functions().items():
        for kind in _kinds_in(node):
            emitters[kind].append(name)
    legacy = {kind.name for kind in AuditKind if kind.value.startswith("legacy.")}
    for kind in AuditKind:
        if kind.name in legacy:
            assert not emitters.get(kind.name), f"{kind} is only for rows from before kinds"
        elif kind in BULK_ONLY:
            assert not emitters.get(kind.name)
        else:
            assert len(emitters.get(kind.name, [])) == 1, (kind.value, emitters.get(kind.name))


def test_every_event_function_is_called_from_the_code() -> None:
    functions = _event_functions()
    # What each module-level statement of an event module refers to (a dispatch table names its functions).
    inside: dict[str, set[str]] = {}
    for path in EVENT_MODULES:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            for target in _defined_names(node):
                inside[target] = _names_in(node) - {target}
    outside: set[str] = set()
    for path in _source_files():
        if path not in EVENT_MODULES:
            outside |= _names_in(ast.parse(path.read_text(encoding="utf-8")))
    used, todo = set(), [name for name in inside if name in outside]
    while todo:
        name = todo.pop()
        if name not in used:
            used.add(name)
            todo.extend(ref for ref in inside.get(name, ()) if ref in inside)
    unused = sorted(set(functions) - used)
    assert not unused, f"event functions no code calls: {unused}"


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def test_rows_are_written_only_by_the_event_functions() -> None:
    offenders = []
    for path in _source_files():
        if path in EVENT_MODULES or path == ROOT / "portal" / "audit.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in WRITERS:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert not offenders, offenders


# --- Accounts and tokens -----------------------------------------------------------------------


def test_a_role_change_is_a_grant_and_a_phone_change_an_update(cast: Cast, world: World) -> None:
    services.user_update(actor=cast.admin, user=cast.town_a_staff, data={"phone": "13800000000"})
    services.user_update(actor=cast.admin, user=cast.town_a_staff, data={"region": world.town_b})
    update, grant = AuditEvent.objects.filter(object_id=str(cast.town_a_staff.pk)).order_by("id")
    assert (update.kind, update.action, update.extra["changed"]) == (AuditKind.USER_UPDATED, "update", ["phone"])
    assert (grant.kind, grant.action) == (AuditKind.USER_ROLE_GRANTED, "update")
    assert grant.extra["grants"] == {"region": [world.town_a.pk, world.town_b.pk]}
    assert grant.get_kind_display() == "变更角色或辖区"


def test_token_issue_and_revoke_are_audited_with_their_reason(cast: Cast) -> None:
    token, _key = api_token_issue(user=cast.clerk, device="手机")
    api_token_revoke(actor=cast.clerk, token=token, reason="用户作废")
    issued, revoked = AuditEvent.objects.filter(kind__startswith="token.").order_by("id")
    assert (issued.kind, issued.action, issued.actor) == (AuditKind.TOKEN_ISSUED, AuditAction.TOKEN_ISSUED, cast.clerk)
    assert issued.extra == {"token": f"{token.prefix}…"}
    assert (revoked.kind, revoked.extra["reason"]) == (AuditKind.TOKEN_REVOKED, "用户作废")
    assert revoked.detail == f"作废 API 令牌 {token.prefix}…：用户作废"


def test_a_batch_saves_its_rows_at_the_end_and_none_when_it_fails(cast: Cast, world: World) -> None:
    before = AuditEvent.objects.count()
    with audit_batch() as rows:
        audit_events.record_updated(actor=cast.admin, instance=world.enterprise_a, before={"a": 1}, after={"a": 2})
        audit_events.record_deleted(actor=cast.admin, instance=world.enterprise_a)
        assert AuditEvent.objects.count() == before and len(rows) == 2
    assert list(AuditEvent.objects.order_by("-id").values_list("kind", flat=True)[:2]) == [
        AuditKind.RECORD_DELETED,
        AuditKind.RECORD_UPDATED,
    ]
    with pytest.raises(RuntimeError), audit_batch():
        audit_events.record_deleted(actor=cast.admin, instance=world.enterprise_a)
        raise RuntimeError
    assert AuditEvent.objects.count() == before + 2


# --- Rows from before kinds --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "object_type", "detail", "kind"),
    [
        ("update", "事故隐患", "隐患镇确认：属实", "hazard.town_confirmed"),
        ("update", "事故隐患", "管理后台：隐患主要负责人签字上报", "hazard.report_signed"),
        ("create", "事故隐患", "隐患上报", "hazard.reported"),
        ("create", "事故隐患", "隐患台账导入：a.xlsx 第3行", "hazard.ledger_imported"),
        ("update", "事故隐患", "隐患整改完成：台账记载（隐患台账导入：a.xlsx 第3行）", "hazard.rectified"),
        ("update", "报表版本", "分管负责人签字，报表冻结", "report.signed"),
        ("update", "自查自改报告", "主要负责人签字报送", "selfcheck.signed"),
        ("update", "用户", "", "user.updated"),
        ("logout", "用户", "退出所有设备：作废 1 个 API 令牌，结束 0 个网页会话", "auth.signed_out_everywhere"),
        ("export", "", "导出隐患台账 3 条；筛选条件：无", "hazard.exported"),
        ("export", "", "别的导出", "legacy.export"),
        ("update", "企业", "", "record.updated"),
    ],
)
def test_the_backfill_reads_old_rows(world: World, action: str, object_type: str, detail: str, kind: str) -> None:
    row = audit_record(actor=None, action=action, detail=detail, region_path="")
    AuditEvent.objects.filter(pk=row.pk).update(object_type=object_type)
    assert AuditEvent.objects.get(pk=row.pk).kind == AuditKind.LEGACY_UNKNOWN
    migration = importlib.import_module("portal.migrations.0007_audit_event_kind_backfill")
    migration.backfill(django_apps, None)
    assert AuditEvent.objects.get(pk=row.pk).kind == kind


# --- The audit page and API --------------------------------------------------------------------


def _two_counties(cast: Cast, world: World) -> None:
    services.enterprise_update(actor=cast.admin, enterprise=world.enterprise_a, data={"address": "巴公镇某村"})
    services.enterprise_update(actor=None, enterprise=world.enterprise_other, data={"address": "外县某村"})
    services.user_update(actor=cast.admin, user=cast.town_a_staff, data={"phone": "13800000001"})


def test_the_audit_page_filters_by_kind_and_by_domain_within_the_county(cast: Cast, world: World) -> None:
    _two_counties(cast, world)
    client = Client()
    client.force_login(cast.admin)
    body = client.get("/audit/", {"kind": "record.updated"}).content.decode()
    assert "泽州县示范矿业有限公司" in body and "上党区外县矿业有限公司" not in body
    assert "修改记录" in body and "town_a" not in body.split('data-testid="audit-table"')[1]
    users = client.get("/audit/", {"kind": "user."}).content.decode().split('data-testid="audit-table"')[1]
    assert "修改账号" in users and "泽州县示范矿业有限公司" not in users
    # An unknown kind filters nothing (and is not echoed back into the page).
    everything = client.get("/audit/", {"kind": "<b>x"}).content.decode()
    assert "泽州县示范矿业有限公司" in everything and "<b>x" not in everything
    # The 事件 select names every kind in Chinese.
    assert "隐患镇确认" in body and "后台任务完成" in body


@pytest.mark.parametrize("member", ["county_staff", "town_a_staff", "clerk", "city_viewer"])
def test_only_admins_read_the_audit_page_whatever_the_kind(cast: Cast, member: str) -> None:
    client = Client()
    client.force_login(getattr(cast, member))
    assert client.get("/audit/", {"kind": "user.updated"}).status_code == 403


def test_the_audit_api_filters_by_kind_and_kind_group(cast: Cast, world: World) -> None:
    _two_counties(cast, world)
    client = APIClient()
    client.force_authenticate(cast.admin)
    rows = client.get("/api/v1/audit-events/", {"kind": "record.updated"}).json()["results"]
    assert rows and {row["kind"] for row in rows} == {"record.updated"}
    assert {row["object_repr"] for row in rows} == {"泽州县示范矿业有限公司"}
    assert rows[0]["kind_display"] == "修改记录" and rows[0]["extra"]["changed"] == ["address"]
    group = client.get("/api/v1/audit-events/", {"kind_group": "user."}).json()["results"]
    assert [row["kind"] for row in group] == ["user.updated"]
    assert client.get("/api/v1/audit-events/", {"kind": "no.such"}).status_code == 400
    other = APIClient()
    other.force_authenticate(cast.county_staff)
    assert other.get("/api/v1/audit-events/", {"kind": "record.updated"}).status_code == 403
