"""The permission matrix of the whole API: every endpoint and method × the shared cast × in and out of scope.

One row per endpoint and method (the operations of the OpenAPI schema — a test fails when an operation
has no row). Each row says, for every member of the cast and for anonymous, what they get on an object
of side A (巴公镇 / 泽州县: enterprise_a, town_a) and on one of side X (上党区 of 长治市: enterprise_other,
other_town), which only other_county_staff and other_clerk may see. For a collection the object is the
one the row builds (a list must, or must not, contain it); for a create it is the scope the payload
refers to (the enterprise, town, campaign … of that side).

Codes (columns: clerk principal town_a town_b county leader admin city o_county o_clerk anonymous):

    200 201 202 204  done — for a write, the row's probe shows the change
    200~             answered 200 but changes nothing (marking someone else's notification read)
    L / -            200, and the list contains / does not contain the object
    403              may see it but may not do this (nothing changed, no audit row)
    404              may not see it (nothing changed; a lookup of an existing object is logged 越权访问)
    400              a write whose payload refers to something out of the member's scope: the same
                     "不存在或不在您的辖区内" as for an id that does not exist, so nothing leaks
    401              anonymous

SPEC.md §1 and §7 decide: a user reaches only their region's subtree or their enterprise; anything else
is a 404 — never a 403 — and the attempt is logged. A 403 is given only where the answer cannot depend on
whether the object exists: an object the user may see, or a resource reserved to a role as a whole
(accounts and the audit log: admins; creating a hazard, a ledger upload, field work: the roles that do it).
Every cell runs in its own savepoint on objects built for it, so the cells never see each other's writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from hazards.models import ExtensionRequest, Hazard, HazardEvidence, LedgerUpload, MajorHazardCriterion, Notification
from inspections.models import (
    DeliverableSubmission,
    EnforcementRecord,
    Exam,
    Inspection,
    InspectionPhoto,
    InspectionTeam,
    PrincipalDutyLog,
    SelfCheckAnswer,
    SelfCheckReport,
    TownProgressReport,
    WarningResolution,
)
from portal.choices import AuditAction
from portal.models import ApiToken, AuditEvent, Enterprise, ParentCompany, User
from reporting.models import ExportJob, ReportVersion
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.security import matrix_world as w

MEMBERS = (
    "clerk", "principal", "town_a_staff", "town_b_staff", "county_staff", "county_leader", "admin", "city_viewer",
    "other_county_staff", "other_clerk", "anonymous",
)  # fmt: skip
NOW = dt.datetime(2024, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
METHODS = ("get", "post", "put", "patch", "delete")

Obj = dict[str, Any]
Build = Callable[[w.Ctx, str], Obj]
Payload = Callable[[w.Ctx, str, Obj], dict[str, Any]]
Probe = Callable[[Obj], Any]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    a: str
    x: str | None = None
    build: Build | None = None
    payload: Payload | None = None
    probe: Probe | None = None

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _field(model: Any, name: str) -> Probe:
    return lambda obj: model.objects.filter(pk=obj["id"]).values_list(name, flat=True).first()


def _exists(model: Any) -> Probe:
    return lambda obj: model.objects.filter(pk=obj["id"]).exists()


def _count(model: Any) -> Probe:
    return lambda obj: model.objects.count()


def _device_exists(obj: Obj) -> Any:
    return TOTPDevice.objects.filter(user_id=obj["id"]).exists()


def _status(obj: Obj) -> Any:
    return Hazard.objects.filter(pk=obj["id"]).values_list("status", "supervision_level", "location").first()


def _const(data: dict[str, Any]) -> Payload:
    return lambda ctx, side, obj: dict(data)


def _when(days: int = 0) -> str:
    return (w.DAY + dt.timedelta(days=days)).isoformat()


V = "/api/v1"
H = f"{V}/hazards/{{id}}"
# The columns:                 clerk princ townA townB cnty  lead  admin city  oCnty oClk  anon
VISIBLE_A = "                  L     L     L     -     L     L     L     L     -     -     401"
VISIBLE_X = "                  -     -     -     -     -     -     -     -     L     L     401"
SEE_A = "                      200   200   200   404   200   200   200   200   404   404   401"
SEE_X = "                      404   404   404   404   404   404   404   404   200   200   401"
REGION_LIST_A = "              -     -     L     -     L     L     L     L     -     -     401"
REGION_LIST_X = "              -     -     -     -     -     -     -     -     L     -     401"
REGION_SEE_A = "               404   404   200   404   200   200   200   200   404   404   401"
REGION_SEE_X = "               404   404   404   404   404   404   404   404   200   404   401"
UNIT_ONLY_A = "                403   403   {ok}   404   403   403   403   403   404   404   401"
UNIT_ONLY_X = "                404   404   404   404   404   404   404   404   {ok}   403   401"
ADMIN_ONLY = "                 403   403   403   403   403   403   {ok}   403   403   403   401"
EVERYONE = "                   200   200   200   200   200   200   200   200   200   200   401"
COUNTY_ONLY_A = "              404   404   404   404   {ok}   404   404   404   404   404   401"
COUNTY_ONLY_X = "              404   404   404   404   404   404   404   404   {ok}   404   401"


def unit_only(code: str) -> tuple[str, str]:
    return UNIT_ONLY_A.replace("{ok}", code), UNIT_ONLY_X.replace("{ok}", code)


def admin_only(code: str) -> str:
    return ADMIN_ONLY.replace("{ok}", code)


ROWS: list[Row] = [
    #     method, path, then side A and side X:
    #    clerk principal town_a town_b county leader admin city o_county o_clerk anonymous
    #   "clerk princ townA townB cnty  lead  admin city  oCnty oClk  anon"
    # --- Authentication -------------------------------------------------------------------------------
    # Each member with their own password; anonymous with a wrong one.
    Row("POST", f"{V}/auth/token/", "200 200 200 200 200 200 200 200 200 200 400"),
    Row("GET", f"{V}/me/", EVERYONE),
    # One's own API tokens only: another user's token is a 404 (logged), whoever asks.
    Row("GET", f"{V}/auth/tokens/", COUNTY_ONLY_A.replace("{ok}", "L").replace("404", "-"),
        COUNTY_ONLY_X.replace("{ok}", "L").replace("404", "-"), w.own_token),
    Row("DELETE", f"{V}/auth/tokens/{{id}}/", COUNTY_ONLY_A.replace("{ok}", "204"),
        COUNTY_ONLY_X.replace("{ok}", "204"), w.own_token, None, _exists(ApiToken)),
    Row("POST", f"{V}/auth/logout/", EVERYONE.replace("200", "204"), None, None, None, _count(ApiToken)),
    Row("POST", f"{V}/auth/logout-all/", EVERYONE, None, None, None, _count(ApiToken)),
    # 工作台: everyone's own sections (what each role finds is tested in tests/test_worklist.py)
    Row("GET", f"{V}/me/tasks/", EVERYONE),
    # --- Directory ------------------------------------------------------------------------------------
    Row("GET", f"{V}/regions/", VISIBLE_A, VISIBLE_X, w.region),
    Row("GET", f"{V}/regions/{{id}}/", SEE_A, SEE_X, w.region),
    Row("GET", f"{V}/enterprises/", VISIBLE_A, VISIBLE_X, w.enterprise),
    Row("GET", f"{V}/enterprises/{{id}}/", SEE_A, SEE_X, w.enterprise),
    # Enterprises are written by admins and county staff (portal.api.permissions.ENTERPRISE_WRITERS); the
    # enterprise clerk changes their own enterprise's own data (services.ENTERPRISE_SELF_SERVICE_FIELDS), so
    # the PUT keeps name, credit code, town and industry as they are and changes the contact.
    Row("POST", f"{V}/enterprises/",
        "403   403   403   403   201   403   201   403   400   403   401",
        "403   403   403   403   400   403   400   403   201   403   401",
        None, w.enterprise_payload, _count(Enterprise)),
    Row("PUT", f"{V}/enterprises/{{id}}/",
        "200   403   403   404   200   403   200   403   404   404   401",
        "404   404   404   404   404   404   404   404   200   200   401",
        w.enterprise, w.enterprise_put_payload, _field(Enterprise, "contact_name")),
    Row("PATCH", f"{V}/enterprises/{{id}}/",
        "200   403   403   404   200   403   200   403   404   404   401",
        "404   404   404   404   404   404   404   404   200   200   401",
        w.enterprise, _const({"production_status": "suspended"}), _field(Enterprise, "production_status")),
    Row("DELETE", f"{V}/enterprises/{{id}}/",
        "404   404   403   404   204   403   204   403   404   404   401",
        "404   404   404   404   404   404   404   404   204   404   401",
        w.bare_enterprise, None, _exists(Enterprise)),
    Row("GET", f"{V}/parent-companies/", VISIBLE_A, VISIBLE_X, w.parent_company),
    Row("GET", f"{V}/parent-companies/{{id}}/", SEE_A, SEE_X, w.parent_company),
    Row("POST", f"{V}/parent-companies/", admin_only("201"), admin_only("400"),
        None, w.parent_company_payload, _count(ParentCompany)),
    Row("PUT", f"{V}/parent-companies/{{id}}/",
        "403   403   403   404   403   403   200   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   403   401",
        w.parent_company, w.parent_company_payload, _field(ParentCompany, "name")),
    Row("PATCH", f"{V}/parent-companies/{{id}}/",
        "403   403   403   404   403   403   200   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   403   401",
        w.parent_company, _const({"address": "矩阵地址"}), _field(ParentCompany, "address")),
    Row("DELETE", f"{V}/parent-companies/{{id}}/",
        "404   404   403   404   403   403   204   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   404   401",
        w.bare_parent_company, None, _exists(ParentCompany)),
    Row("GET", f"{V}/people/", VISIBLE_A, VISIBLE_X, w.person),
    Row("GET", f"{V}/people/{{id}}/", SEE_A, SEE_X, w.person),
    # Accounts and the audit log: admins only, whatever the id; an admin reaches their own county.
    Row("GET", f"{V}/users/", admin_only("L"), admin_only("-"), w.account),
    Row("GET", f"{V}/users/{{id}}/", admin_only("200"), admin_only("404"), w.account),
    Row("POST", f"{V}/users/", admin_only("201"), admin_only("400"), None, w.user_payload, _count(User)),
    Row("PUT", f"{V}/users/{{id}}/", admin_only("200"), admin_only("404"),
        w.account, w.user_put_payload, _field(User, "full_name")),
    Row("PATCH", f"{V}/users/{{id}}/", admin_only("200"), admin_only("404"),
        w.account, _const({"full_name": "矩阵改名"}), _field(User, "full_name")),
    Row("POST", f"{V}/users/{{id}}/reset-two-factor/", admin_only("204"), admin_only("404"),
        w.account_with_device, None, _device_exists),
    Row("GET", f"{V}/audit-events/", admin_only("L"), admin_only("-"), w.audit_event),
    Row("GET", f"{V}/audit-events/{{id}}/", admin_only("200"), admin_only("404"), w.audit_event),
    # --- Hazards (hazards/permissions.py RULES) ----------------------------------------------------------
    Row("GET", f"{V}/hazards/", VISIBLE_A, VISIBLE_X, w.general_reported),
    Row("GET", f"{H}/", SEE_A, SEE_X, w.general_reported),
    # 上报: enterprises, towns and the county (REPORT_ROLES); an enterprise account reports for its own.
    Row("POST", f"{V}/hazards/",
        "201   201   201   400   201   403   403   403   400   400   401",
        "400   400   400   400   400   403   403   403   201   201   401",
        None, w.hazard_payload, _count(Hazard)),
    Row("PATCH", f"{H}/",
        "200   200   200   404   200   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   200   200   401",
        w.general_reported, _const({"location": "矩阵部位"}), _status),
    Row("POST", f"{H}/sign-report/",
        "403   200   403   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   403   401",
        w.major("draft"),
        lambda ctx, side, obj: {"fingerprint": obj["fingerprint"], "password": TEST_PASSWORD}, _status),
    Row("POST", f"{H}/confirm-town/",
        "403   403   200   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   403   401",
        w.major("pending_town"), _const({}), _status),
    Row("POST", f"{H}/confirm-county/",
        "403   403   403   404   200   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   200   403   401",
        w.major("pending_county"), _const({}), _status),
    Row("POST", f"{H}/send-back/",
        "403   403   403   404   200   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   200   403   401",
        w.major("pending_county"), _const({"reason": "材料不全"}), _status),
    Row("POST", f"{H}/supervise/",
        "403   403   403   404   200   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   200   403   401",
        w.major("confirmed"),
        _const({"level": "county", "unit": "县应急管理局", "doc_number": "督〔2024〕3号", "date": _when(),
                "deadline": _when(30)}),
        _status),
    Row("POST", f"{H}/start-rectification/",
        "200   200   403   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   200   401",
        w.major("confirmed"), _const({}), _status),
    Row("POST", f"{H}/request-closure/",
        "200   200   403   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   200   401",
        w.major("rectifying"), _const({"rectified_on": _when(), "rectification_note": "已削坡"}), _status),
    Row("POST", f"{H}/close/",
        "403   403   403   404   200   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   200   403   401",
        w.major("closure_requested"), _const({}), _status),
    Row("POST", f"{H}/mark-rectified/",
        "200   200   200   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   200   401",
        w.general_rectifying, _const({"rectified_on": _when(), "rectification_note": "已清理"}), _status),
    Row("POST", f"{H}/verify/",
        "403   403   200   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   403   401",
        w.general_rectified, _const({}), _status),
    # Bulk verify (hazards.bulk): a role that never verifies is refused as a whole (403); a hazard out of
    # scope is one refused item of a 200 answer (logged 越权访问), so nothing changes.
    Row("POST", f"{V}/hazard-bulk/{{step}}/",
        "403   403   200   200~  403   403   403   403   403   403   401",
        "403   403   200~  200~  403   403   403   403   403   403   401",
        lambda ctx, side: {**w.general_rectified(ctx, side), "step": "verify"},
        lambda ctx, side, obj: {"ids": [obj["id"]], "comment": "批量验收"}, _status),
    Row("POST", f"{H}/recheck/",
        "403   403   200   404   200   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   200   403   401",
        w.general_verified, _const({"passed": False, "comment": "警示标志缺失"}), _status),
    Row("POST", f"{H}/admin-amend/",
        "403   403   403   404   403   403   200   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   403   401",
        w.general_verified, _const({"reason": "部位录入错误", "location": "+320平台东帮"}), _status),
    Row("GET", f"{H}/events/", SEE_A, SEE_X, w.general_reported),
    Row("GET", f"{H}/evidence/", SEE_A, SEE_X, w.general_reported),
    Row("POST", f"{H}/evidence/",
        "201   201   201   404   201   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   201   201   401",
        w.general_rectifying, w.evidence_payload, _count(HazardEvidence)),
    Row("GET", f"{H}/extensions/", SEE_A, SEE_X, w.general_rectifying),
    Row("POST", f"{H}/extensions/",
        "201   201   403   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   201   401",
        w.general_rectifying, _const({"requested_deadline": "2024-07-31", "reason": "设备到货延迟"}),
        _count(ExtensionRequest)),
    Row("GET", f"{V}/hazard-extensions/", VISIBLE_A, VISIBLE_X, w.pending_extension),
    Row("GET", f"{V}/hazard-extensions/{{id}}/", SEE_A, SEE_X, w.pending_extension),
    Row("POST", f"{V}/hazard-extensions/{{id}}/decide/",
        "403   403   200   404   200   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   200   403   401",
        w.pending_extension, _const({"approve": True}), _field(ExtensionRequest, "status")),
    Row("GET", f"{V}/hazard-evidence/{{id}}/", SEE_A, SEE_X, w.hazard_with_evidence),
    Row("GET", f"{V}/hazard-evidence/{{id}}/file/", SEE_A, SEE_X, w.hazard_with_evidence),
    # The 判定依据 catalogue is one for the deployment: everyone reads it, admins keep it.
    Row("GET", f"{V}/hazard-criteria/", "L L L L L L L L L L 401", None, w.criterion),
    Row("GET", f"{V}/hazard-criteria/{{id}}/", EVERYONE, None, w.criterion),
    Row("POST", f"{V}/hazard-criteria/", admin_only("201"), None, None,
        _const({"document": "矩阵地方标准", "mine_type": "open_pit", "number": 99, "label": "（九十九）",
                "text": "矩阵测试条目"}),
        _count(MajorHazardCriterion)),
    # A county's own item: seen in that county's subtree (not by the city), changed by its admin only. The
    # national items change only by a superuser (tests/hazards/test_criteria_scope.py).
    Row("PATCH", f"{V}/hazard-criteria/{{id}}/",
        "                  403   403   403   403   403   403   200   404   404   404   401",
        "                  404   404   404   404   404   404   404   404   403   403   401",
        w.county_criterion, _const({"note": "矩阵备注"}), _field(MajorHazardCriterion, "note")),
    # The work queue holds what waits for the member's role: a major hazard awaiting the county.
    Row("GET", f"{V}/work-queue/",
        "-     -     -     -     L     -     -     -     -     -     401",
        "-     -     -     -     -     -     -     -     L     -     401",
        w.major("pending_county")),
    # Notifications are the recipient's own (the clerk's here).
    Row("GET", f"{V}/notifications/",
        "L     -     -     -     -     -     -     -     -     -     401",
        "-     -     -     -     -     -     -     -     -     L     401",
        w.notification),
    Row("POST", f"{V}/notifications/mark-read/",
        "200   200~  200~  200~  200~  200~  200~  200~  200~  200~  401",
        "200~  200~  200~  200~  200~  200~  200~  200~  200~  200   401",
        w.notification, lambda ctx, side, obj: {"ids": [obj["id"]]}, _field(Notification, "is_read")),
    # --- The 隐患台账 upload (hazards.ledger: enterprises upload, towns and the county upload for them) -----
    Row("GET", f"{V}/ledger-uploads/", VISIBLE_A, VISIBLE_X, w.ledger_upload),
    Row("GET", f"{V}/ledger-uploads/{{id}}/", SEE_A, SEE_X, w.ledger_upload),
    Row("GET", f"{V}/ledger-uploads/{{id}}/file/", SEE_A, SEE_X, w.ledger_upload),
    Row("GET", f"{V}/ledger-uploads/{{id}}/preview/",
        "200   200   200   404   200   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   200   200   401",
        w.ledger_upload),
    # Only the uploader confirms.
    Row("POST", f"{V}/ledger-uploads/{{id}}/commit/",
        "200   403   403   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   200   401",
        w.ledger_upload, _const({}), _field(LedgerUpload, "status")),
    Row("POST", f"{V}/ledger-uploads/",
        "201   201   201   404   201   403   403   403   404   404   401",
        "404   404   404   404   404   403   403   403   201   201   401",
        w.enterprise, w.ledger_payload, _count(LedgerUpload)),
    # --- Campaigns (read down the tree and up to the city) -------------------------------------------------
    Row("GET", f"{V}/campaigns/",
        "L     L     L     L     L     L     L     L     -     -     401",
        "-     -     -     -     -     -     -     -     L     L     401",
        w.campaign),
    Row("GET", f"{V}/campaigns/{{id}}/",
        "200   200   200   200   200   200   200   200   404   404   401",
        "404   404   404   404   404   404   404   404   200   200   401",
        w.campaign),
    Row("GET", f"{V}/campaigns/{{id}}/matrix/",
        "403   403   200   200   200   200   200   200   404   404   401",
        "404   404   404   404   404   404   404   404   200   403   401",
        w.campaign),
    Row("GET", f"{V}/coverage/", "403 403 200 200 200 200 200 200 200 403 401"),
    Row("GET", f"{V}/warnings/", EVERYONE),
    # 预警的处理情况: town and county staff, for a warning in their scope (another scope's key: 400).
    Row("POST", f"{V}/warnings/resolve/",
        "403   403   200   400   200   403   403   403   400   403   401",
        "403   403   400   400   400   403   403   403   200   403   401",
        w.expired_licence, lambda ctx, side, obj: {"key": obj["key"], "note": "矩阵已处理"},
        _count(WarningResolution)),
    Row("GET", f"{V}/enforcement-kinds/", EVERYONE),
    # --- Field work (inspections.permissions: recorded by town and county staff, changed by the unit) -------
    Row("GET", f"{V}/enforcement-records/", VISIBLE_A, VISIBLE_X, w.enforcement_record),
    Row("GET", f"{V}/enforcement-records/{{id}}/", SEE_A, SEE_X, w.enforcement_record),
    Row("POST", f"{V}/enforcement-records/",
        "403   403   201   400   201   403   403   403   400   400   401",
        "400   400   400   400   400   400   400   400   201   403   401",
        None, lambda ctx, side, obj: {"kind": "suspension", "date": _when(), "enterprise": ctx.enterprise(side).pk},
        _count(EnforcementRecord)),
    Row("PATCH", f"{V}/enforcement-records/{{id}}/", *unit_only("200"),
        w.enforcement_record, _const({"document_number": "矩阵〔2024〕1号"}),
        _field(EnforcementRecord, "document_number")),
    Row("DELETE", f"{V}/enforcement-records/{{id}}/", *unit_only("204"),
        w.enforcement_record, None, _exists(EnforcementRecord)),
    Row("GET", f"{V}/inspections/", VISIBLE_A, VISIBLE_X, w.inspection),
    Row("GET", f"{V}/inspections/{{id}}/", SEE_A, SEE_X, w.inspection),
    Row("POST", f"{V}/inspections/",
        "403   403   201   400   201   403   403   403   400   400   401",
        "400   400   400   400   400   400   400   400   201   403   401",
        None, lambda ctx, side, obj: {"enterprise": ctx.enterprise(side).pk, "date": _when(),
                                      "method": "open_and_covert", "leader": "赵卫东"},
        _count(Inspection)),
    Row("PATCH", f"{V}/inspections/{{id}}/", *unit_only("200"),
        w.inspection, _const({"findings": "矩阵发现"}), _field(Inspection, "findings")),
    Row("DELETE", f"{V}/inspections/{{id}}/", *unit_only("204"), w.inspection, None, _exists(Inspection)),
    Row("POST", f"{V}/inspections/{{id}}/hazards/", *unit_only("201"),
        w.inspection, _const({"level": "general", "category": "slope", "description": "台阶过陡"}), _count(Hazard)),
    Row("POST", f"{V}/inspections/{{id}}/photos/", *unit_only("201"),
        w.inspection, lambda ctx, side, obj: {"file": w.SimpleUploadedFile("a.jpg", w.JPEG, "image/jpeg")},
        _count(InspectionPhoto)),
    Row("GET", f"{V}/inspection-teams/", REGION_LIST_A, REGION_LIST_X, w.team),
    Row("POST", f"{V}/inspection-teams/",
        "403   403   201   201   201   403   403   403   400   400   401",
        "400   400   400   400   400   400   400   400   201   403   401",
        None, lambda ctx, side, obj: {"campaign": ctx.campaign[side].pk, "name": "矩阵督查组", "leader": "甲",
                                      "formed_on": _when()},
        _count(InspectionTeam)),
    Row("GET", f"{V}/exams/", VISIBLE_A, VISIBLE_X, w.exam),
    Row("GET", f"{V}/exams/{{id}}/", SEE_A, SEE_X, w.exam),
    Row("POST", f"{V}/exams/",
        "403   403   201   400   201   403   403   403   400   400   401",
        "400   400   400   400   400   400   400   400   201   403   401",
        w.field_enterprise, lambda ctx, side, obj: {"enterprise": obj["id"], "person": obj["person"], "date": _when(),
                                                    "score": "85"},
        _count(Exam)),
    Row("GET", f"{V}/duty-logs/", VISIBLE_A, VISIBLE_X, w.duty_log),
    Row("GET", f"{V}/duty-logs/{{id}}/", SEE_A, SEE_X, w.duty_log),
    # The enterprise's own accounts, its town and the county keep the 履职台账.
    Row("POST", f"{V}/duty-logs/",
        "201   201   201   400   201   403   403   403   400   400   401",
        "400   400   400   400   400   400   400   400   201   201   401",
        w.field_enterprise, lambda ctx, side, obj: {"enterprise": obj["id"], "month": "2024-04-01",
                                                    "on_site_dates": ["2024-04-08", "2024-04-09"]},
        _count(PrincipalDutyLog)),
    # 自查自改报告: the enterprise, or its town filing on its behalf; the principal signs (in person).
    Row("GET", f"{V}/self-check-reports/", VISIBLE_A, VISIBLE_X, w.self_check),
    Row("GET", f"{V}/self-check-reports/{{id}}/", SEE_A, SEE_X, w.self_check),
    Row("POST", f"{V}/self-check-reports/",
        "201   201   201   400   403   403   403   403   400   400   401",
        "400   400   400   400   400   400   400   400   403   201   401",
        None, lambda ctx, side, obj: {"campaign": ctx.campaign[side].pk, "enterprise": ctx.enterprise(side).pk},
        _count(SelfCheckReport)),
    Row("POST", f"{V}/self-check-reports/{{id}}/answers/",
        "200   200   200   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   200   401",
        w.self_check, lambda ctx, side, obj: {"item": obj["item"], "answer": "no", "note": "矩阵"},
        lambda obj: list(SelfCheckAnswer.objects.filter(report_id=obj["id"]).values_list("answer", "note"))),
    Row("POST", f"{V}/self-check-reports/{{id}}/summary/",
        "200   200   200   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   200   401",
        w.self_check, _const({"summary": "矩阵综述"}), _field(SelfCheckReport, "summary")),
    Row("POST", f"{V}/self-check-reports/{{id}}/sign/",
        "200   200   200   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   200   401",
        w.self_check_answered,
        lambda ctx, side, obj: {
            "username": ctx.extra["principal_username"][side], "password": TEST_PASSWORD,
            "fingerprint": obj["fingerprint"],
        },
        _field(SelfCheckReport, "status")),
    Row("GET", f"{V}/progress-reports/", REGION_LIST_A, REGION_LIST_X, w.progress_report),
    Row("POST", f"{V}/progress-reports/",
        "403   403   201   201   403   403   403   403   400   400   401",
        "400   400   400   400   400   400   400   400   403   403   401",
        w.phase, lambda ctx, side, obj: {"phase": obj["id"], "progress": "矩阵进展"}, _count(TownProgressReport)),
    Row("GET", f"{V}/deliverable-submissions/", REGION_LIST_A, REGION_LIST_X, w.submission),
    Row("POST", f"{V}/deliverable-submissions/",
        "403   403   201   201   403   403   403   403   400   400   401",
        "400   400   400   400   400   400   400   400   403   403   401",
        w.town_deliverable, lambda ctx, side, obj: {"deliverable": obj["id"], "due_date": obj["due"],
                                                    "content": "矩阵报送"},
        _count(DeliverableSubmission)),
    # --- Monthly tables (regions only; enterprise accounts see none of it) ------------------------------
    Row("GET", f"{V}/reports/", REGION_LIST_A, REGION_LIST_X, w.report),
    Row("GET", f"{V}/reports/{{id}}/", REGION_SEE_A, REGION_SEE_X, w.report),
    Row("GET", f"{V}/report-tables/{{kind}}/{{code}}/{{month}}/", REGION_SEE_A, REGION_SEE_X, w.table),
    Row("POST", f"{V}/report-exports/",
        "404   404   202   404   202   202   202   202   404   404   401",
        "404   404   404   404   404   404   404   404   202   404   401",
        w.table, lambda ctx, side, obj: {"kind": "accountability", "region": obj["code"], "month": w.MONTH,
                                         "file_format": "xlsx"},
        _count(ExportJob)),
    Row("GET", f"{V}/report-exports/{{id}}/", REGION_SEE_A, REGION_SEE_X, w.export_job),
    Row("POST", f"{V}/report-versions/{{id}}/sign/",
        "404   404   403   404   403   202   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   404   401",
        w.submitted_version, lambda ctx, side, obj: {"fingerprint": obj["fingerprint"], "password": TEST_PASSWORD},
        _count(ExportJob)),
    # 报送: the filing unit's own staff only (a town its table); 核验已签字文件: anyone signed in, in their scope.
    Row("POST", f"{V}/report-tables/{{kind}}/{{code}}/{{month}}/submit/",
        "404   404   200   404   403   403   403   403   404   404   401",
        "404   404   404   404   404   404   404   404   403   404   401",
        w.table, _const({}), _count(ReportVersion)),
    Row("POST", f"{V}/report-versions/verify/", EVERYONE, None, None,
        lambda ctx, side, obj: {"file": SimpleUploadedFile("核验.xlsx", b"not a signed file")}),
]  # fmt: skip


def _codes(text: str) -> dict[str, str]:
    codes = text.split()
    assert len(codes) == len(MEMBERS), text
    return dict(zip(MEMBERS, codes, strict=True))


# --- The world, built once per module ------------------------------------------------------------------


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def ctx(django_db_setup: None, django_db_blocker: Any) -> Iterator[w.Ctx]:
    """The shared cast (tests/conftest.py's own fixtures), built once inside a transaction rolled back at the end."""
    from tests import conftest

    traveller = time_machine.travel(NOW, tick=False)
    traveller.start()
    try:
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                world: World = _fixture_function(conftest.world)(None)
                cast: Cast = _fixture_function(conftest.cast)(world)
                context = w.build_context(world, cast)
                yield context
            finally:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
    finally:
        traveller.stop()


def _fixture_function(fixture: Any) -> Any:
    for attribute in ("_get_wrapped_function", "__wrapped__"):
        found = getattr(fixture, attribute, None)
        if found is not None:
            return found() if attribute == "_get_wrapped_function" else found
    return fixture.__pytest_wrapped__.obj


# --- One cell -----------------------------------------------------------------------------------------------


def _listed(body: Any, obj: Obj) -> bool:
    items = body["results"] if isinstance(body, dict) else body
    return any(str(item.get("id")) == str(obj["id"]) for item in items)


def _payload(row: Row, context: w.Ctx, side: str, obj: Obj, member: str) -> dict[str, Any]:
    if row.path.endswith("/auth/token/"):
        if member == "anonymous":
            return {"username": "clerk", "password": "wrong-password"}
        return {"username": getattr(context.cast, member).username, "password": TEST_PASSWORD}
    return row.payload(context, side, obj) if row.payload else {}


def _not_audited() -> Any:
    return AuditEvent.objects.exclude(action=AuditAction.DENIED)


def run_side(context: w.Ctx, client: APIClient, row: Row, side: str, codes: dict[str, str]) -> list[str]:
    """The row's object is built once for the side (in a savepoint); each member's request then runs in a
    savepoint of its own, rolled back, so every member acts on the object exactly as it was built."""
    failures: list[str] = []
    try:
        with transaction.atomic():
            obj = row.build(context, side) if row.build else {}
            for member, expected in codes.items():
                problem = run_cell(context, client, row, obj, member, side, expected)
                if problem:
                    failures.append(f"{side} {member}: {problem}")
            raise _Rollback
    except _Rollback:
        pass
    return failures


def run_cell(
    context: w.Ctx, client: APIClient, row: Row, obj: Obj, member: str, side: str, expected: str
) -> str | None:
    """One request in a savepoint that is rolled back; returns what went wrong, or None."""
    problem: str | None = None
    try:
        with transaction.atomic():
            url = row.path.format(**obj)
            payload = _payload(row, context, side, obj, member)
            before = row.probe(obj) if row.probe else None
            audited = _not_audited().count()
            denied = AuditEvent.objects.filter(action=AuditAction.DENIED).count()
            headers = {} if member == "anonymous" else {"HTTP_AUTHORIZATION": f"Token {context.tokens[member]}"}
            files = any(hasattr(value, "read") for value in payload.values())
            call = getattr(client, row.method.lower())
            if row.method == "GET":
                response = call(url, **headers)
            else:
                response = call(url, payload, format="multipart" if files else "json", **headers)
            problem = _judge(row, obj, expected, response, before, audited, denied)
            raise _Rollback
    except _Rollback:
        pass
    return problem


def _judge(row: Row, obj: Obj, expected: str, response: Any, before: Any, audited: int, denied: int) -> str | None:
    status = response.status_code
    got = str(status)
    want = expected.rstrip("~")
    if expected in ("L", "-"):
        if status != 200:
            return f"expected a list ({expected}), got {status}: {_text(response)}"
        listed = _listed(response.json(), obj)
        if listed != (expected == "L"):
            return f"expected the object {'listed' if expected == 'L' else 'not listed'}"
        return None
    if got != want:
        return f"expected {want}, got {status}: {_text(response)}"
    if row.probe is not None and row.method != "GET":
        after = row.probe(obj)
        changed = after != before
        if status < 300 and not expected.endswith("~") and not changed:
            return f"{status} but the probe did not change ({before!r})"
        if (status >= 300 or expected.endswith("~")) and changed:
            return f"{status} but something changed: {before!r} → {after!r}"
        if status >= 400 and _not_audited().count() != audited:
            return f"{status} but an audit row was written"
    if status == 404 and obj and AuditEvent.objects.filter(action=AuditAction.DENIED).count() == denied:
        return "404 on an existing object, but the attempt was not logged (越权访问)"
    return None


def _text(response: Any) -> str:
    return response.content[:160].decode(errors="replace") if not response.streaming else "<file>"


# --- The tests ----------------------------------------------------------------------------------------------


def _operations() -> set[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in METHODS if method in item
    }


def test_every_operation_of_the_api_has_a_row(db: None) -> None:
    keys = [row.key for row in ROWS]
    assert len(keys) == len(set(keys)), "a row is listed twice"
    missing = sorted(_operations() - set(keys))
    stale = sorted(set(keys) - _operations())
    assert not missing, f"endpoints without a row in the permission matrix: {missing}"
    assert not stale, f"rows for endpoints that no longer exist: {stale}"


@pytest.mark.parametrize("row", ROWS, ids=[row.key for row in ROWS])
def test_permission_matrix(ctx: w.Ctx, db: None, row: Row) -> None:
    client = APIClient()
    failures: list[str] = []
    for side, text in (("A", row.a), ("X", row.x)):
        if text is None:
            continue
        failures += run_side(ctx, client, row, side, _codes(text))
    assert not failures, f"{row.key}\n" + "\n".join(failures)
