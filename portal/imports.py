"""Import of the enterprise directory from Excel: upload → preview → confirm, all rows or none.

The service (``enterprise_import_validate`` / ``enterprise_import_commit``) is used by the page and by
``manage.py import_enterprises``. Rows are identified by 统一社会信用代码: a code already registered in the
importer's scope is an update, a new code a creation, a code registered outside the scope is refused.
The commit re-reads and re-validates the stored file inside one transaction, then writes with
``bulk_create`` / ``bulk_update`` and one audit row per created or updated enterprise plus one IMPORT row.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse_lazy
from django.utils import timezone

from portal import audit_events, limits, rules
from portal.audit import audit_batch, snapshot
from portal.choices import (
    Industry,
    ProductionStatus,
    RegionLevel,
    RiskGrade,
    StandardizationGrade,
)
from portal.import_flow import ImportFileForm, ImportFlow, ImportPage, StagedUploads, import_page
from portal.models import Enterprise, ParentCompany, Region, User
from portal.scoping import in_subtree
from portal.spreadsheets import (
    CellError,
    ImportResult,
    PreviewRow,
    RowAction,
    SpreadsheetError,
    Table,
    choice_lookup,
    clean_text,
    open_table,
    parse_choice,
    parse_date,
    write_table,
)
from portal.uploads import PreviewStore
from portal.validators import (
    clean_name,
    mask_phone,
    name_key,
    normalize_credit_code,
    validate_credit_code,
    validate_plausible_date,
)

# field → header texts that mean it; the first is the label of the template and of the messages.
ENTERPRISE_COLUMNS: dict[str, list[str]] = {
    "name": ["企业名称", "单位名称", "企业全称", "企业（矿山）名称", "矿山名称", "企业名", "名称"],
    "credit_code": ["统一社会信用代码", "社会信用代码", "信用代码", "统一信用代码", "社会统一信用代码"],
    "town": ["所在镇", "所在乡镇", "所属乡镇", "所属镇", "乡镇", "镇（乡）", "属地乡镇", "所在镇（乡）"],
    "industry": ["行业类别", "行业", "行业分类", "矿山类型", "企业类型", "类别"],
    "production_status": ["生产状态", "生产经营状态", "生产建设状态", "状态", "企业状态"],
    "parent_company": ["上级企业/主体公司", "上级企业", "主体公司", "上级公司", "所属集团", "集团公司"],
    "risk_grade": ["安全风险等级", "风险等级", "风险分级", "安全风险分级"],
    "standardization_grade": ["安全生产标准化等级", "标准化等级", "标准化达标等级"],
    "license_number": ["安全生产许可证编号", "安全生产许可证号", "许可证编号", "许可证号"],
    "license_expiry": ["许可证有效期至", "许可证有效期", "许可证到期日期", "有效期至", "有效期"],
    "address": ["地址", "企业地址", "详细地址", "注册地址", "生产地址"],
    "contact_name": ["联系人", "企业联系人"],
    "contact_phone": ["联系电话", "联系人电话", "电话", "联系方式", "手机"],
}
REQUIRED = ("name", "credit_code", "town", "industry", "production_status")
LABELS = {name: words[0] for name, words in ENTERPRISE_COLUMNS.items()}
# Model fields written by the import (parent_company and town are foreign keys).
IMPORTED_FIELDS = [name for name in ENTERPRISE_COLUMNS if name != "credit_code"]

INDUSTRY_SYNONYMS = {
    Industry.UNDERGROUND: ["地下矿山", "地下", "金属地下矿山", "非金属地下矿山", "井工矿山"],
    Industry.OPEN_PIT: ["露天矿山", "露天", "金属露天矿山", "非金属露天矿山"],
    Industry.TAILINGS: ["尾矿", "尾矿库"],
    Industry.QUARRY: ["采石场", "露天采石场", "小型采石场", "石料厂"],
    Industry.EXPLORATION: ["地质勘探", "地勘单位", "勘探单位", "地质勘查单位"],
    Industry.OTHER: ["其它"],
}
STATUS_SYNONYMS = {
    ProductionStatus.PRODUCING: ["生产", "在产", "正常"],
    ProductionStatus.BUILDING: ["建设", "在建", "基建"],
    ProductionStatus.SUSPENDED: ["停产整顿", "停产中", "长期停产"],
    ProductionStatus.CONSTRUCTION_HALTED: ["停止建设"],
    ProductionStatus.CLOSED: ["已关闭", "关闭退出", "闭坑", "注销"],
}
RISK_SYNONYMS = {
    RiskGrade.A: ["A类"],
    RiskGrade.B: ["B类"],
    RiskGrade.C: ["C类"],
    RiskGrade.D: ["D类"],
}
STANDARDIZATION_SYNONYMS = {
    StandardizationGrade.FIRST: ["1级", "一级达标", "1"],
    StandardizationGrade.SECOND: ["2级", "二级达标", "2"],
    StandardizationGrade.THIRD: ["3级", "三级达标", "3"],
    StandardizationGrade.NONE: ["无", "未评级", "不达标"],
}
_CHOICES: dict[str, tuple[list[tuple[str, str]], dict[str, str]]] = {
    name: (list(choices), choice_lookup(choices, synonyms))
    for name, choices, synonyms in (
        ("industry", Industry.choices, INDUSTRY_SYNONYMS),
        ("production_status", ProductionStatus.choices, STATUS_SYNONYMS),
        ("risk_grade", RiskGrade.choices, RISK_SYNONYMS),
        ("standardization_grade", StandardizationGrade.choices, STANDARDIZATION_SYNONYMS),
    )
}
_TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡")

PREVIEWS = PreviewStore(folder="imports/enterprises", salt="portal.imports.enterprise")
CLI_ACTOR_NAME = "manage.py import_enterprises"


class ImportScopeError(ValueError):
    """The importer has no scope to import into."""


# --------------------------------------------------------------------------------------------
# Scope
# --------------------------------------------------------------------------------------------


@dataclass
class _Scope:
    """What the importer may touch: the towns, the enterprises and the parent companies in scope."""

    user: User | None
    county: Region | None
    region_path: str  # for the IMPORT audit row

    def towns(self) -> list[Region]:
        base = Region.objects.visible_to(self.user) if self.user is not None else Region.objects.all()
        towns = base.filter(level=RegionLevel.TOWN)
        if self.county is not None:
            towns = towns.filter(in_subtree(self.county.path))
        return list(towns.select_related("parent"))

    def enterprises(self) -> Any:
        queryset = Enterprise.objects.visible_to(self.user) if self.user is not None else Enterprise.objects.all()
        if self.county is not None:
            queryset = queryset.filter(in_subtree(self.county.path, "town__path"))
        return queryset

    def parent_companies(self) -> Any:
        queryset = ParentCompany.objects.visible_to(self.user) if self.user is not None else ParentCompany.objects.all()
        if self.county is not None:
            queryset = queryset.filter(in_subtree(self.county.path, "region__path"))
        return queryset


def _scope(user: User | None, county: Region | None) -> _Scope:
    if user is not None and not _may_import(user):
        raise PermissionDenied("只有县局管理员或股室可以导入企业名录。")
    if user is None and county is None:
        raise ImportScopeError("必须指定导入人或导入到的县（区）。")
    if county is not None and county.level != RegionLevel.COUNTY:
        raise ImportScopeError(f"{county.name}不是县级区划。")
    if county is not None:
        path = county.path
    elif user is not None and user.region_id is not None:
        path = user.region_path
    else:
        path = ""
    return _Scope(user=user, county=county, region_path=path)


def _may_import(user: User) -> bool:
    return rules.may(user, "portal.import_enterprises")


def _town_key(name: str) -> str:
    for suffix in _TOWN_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


class _TownIndex:
    def __init__(self, towns: Iterable[Region]) -> None:
        self.by_code: dict[str, Region] = {}
        self.by_name: dict[str, list[Region]] = {}
        self.by_key: dict[str, list[Region]] = {}
        for town in towns:
            self.by_code[town.code] = town
            self.by_name.setdefault(town.name, []).append(town)
            self.by_key.setdefault(_town_key(town.name), []).append(town)

    def resolve(self, text: str) -> Region:
        compact = text.replace(" ", "")
        if compact in self.by_code:
            return self.by_code[compact]
        for candidates in (self.by_name.get(compact), self.by_key.get(_town_key(compact))):
            if candidates and len(candidates) == 1:
                return candidates[0]
            if candidates:
                counties = "、".join(sorted({t.parent.name if t.parent else "" for t in candidates}))
                raise CellError(f"“{text}”在辖区内不唯一（{counties}），请填写镇的行政区划代码。")
        raise CellError(f"“{text}”不是您辖区内的镇/乡，请填写辖区内镇的名称或行政区划代码。")


class _ParentIndex:
    def __init__(self, companies: Iterable[ParentCompany]) -> None:
        self.by_code: dict[str, ParentCompany] = {}
        self.by_name: dict[str, list[ParentCompany]] = {}
        for company in companies:
            if company.credit_code:
                self.by_code[company.credit_code] = company
            self.by_name.setdefault(company.name, []).append(company)

    def resolve(self, text: str) -> ParentCompany:
        code = normalize_credit_code(text)
        if code in self.by_code:
            return self.by_code[code]
        candidates = self.by_name.get(text, [])
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise CellError(f"名为“{text}”的上级企业有多个，请填写其统一社会信用代码。")
        raise CellError(f"上级企业“{text}”尚未登记或不在您的辖区，请先登记该上级企业，或留空。")


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@dataclass
class _Planned:
    """What the commit writes for one row."""

    instance: Enterprise
    before: dict[str, Any] | None = None
    fields: list[str] = field(default_factory=list)


def _display(enterprise: Enterprise, name: str) -> str:
    if name == "town":
        return enterprise.town.name if enterprise.town_id is not None else ""
    if name == "parent_company":
        return enterprise.parent_company.name if enterprise.parent_company is not None else ""
    if name in _CHOICES:
        value = getattr(enterprise, name)
        return str(dict(_CHOICES[name][0]).get(value, value or ""))
    value = getattr(enterprise, name)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _comparable(enterprise: Enterprise, name: str) -> Any:
    if name in {"town", "parent_company"}:
        return getattr(enterprise, f"{name}_id")
    return getattr(enterprise, name)


_TEXT_LIMITS = limits.text_limits(Enterprise)


def _read_row(
    *,
    result: ImportResult,
    table: Table,
    number: int,
    raw: dict[str, Any],
    towns: _TownIndex,
    parents: _ParentIndex,
) -> dict[str, Any]:
    """{field: value} for the columns present in the file; errors are recorded in `result`."""
    values: dict[str, Any] = {}

    def fail(name: str, message: str) -> None:
        result.add_error(number, table.label(name), message)

    for name in table.columns:
        text = clean_text(raw.get(name))
        if name in REQUIRED and not text:
            fail(name, "必填，不能为空。")
            continue
        try:
            if name == "credit_code":
                code = normalize_credit_code(text)
                validate_credit_code(code)
                values[name] = code
            elif name == "town":
                values[name] = towns.resolve(text)
            elif name == "parent_company":
                values[name] = parents.resolve(text) if text else None
            elif name in _CHOICES:
                choices, lookup = _CHOICES[name]
                values[name] = parse_choice(text, choices, lookup=lookup) or ""
            elif name == "license_expiry":
                values[name] = parse_date(raw.get(name))
                validate_plausible_date(values[name])
            else:
                message = limits.too_long(text, _TEXT_LIMITS.get(name))
                if message:
                    raise CellError(message)
                values[name] = text
        except CellError as exc:
            fail(name, exc.message)
        except ValidationError as exc:
            fail(name, "；".join(exc.messages))
    return values


def _validate(source: Any, *, scope: _Scope, file_name: str, lock: bool) -> tuple[ImportResult, list[_Planned]]:
    result = ImportResult(file_name=file_name)
    planned: list[_Planned] = []
    try:
        with open_table(source, synonyms=ENTERPRISE_COLUMNS, required=REQUIRED) as table:
            result.sheet_title = table.sheet_title
            result.header_row = table.header_row
            present = [name for name in ENTERPRISE_COLUMNS if table.has(name)]
            result.columns = [LABELS[name] for name in present]
            raw_rows = list(table.rows())
    except SpreadsheetError as exc:
        result.add_error(0, "", exc.message)
        return result, planned
    if not raw_rows:
        result.add_error(0, "", "表格中没有数据行：请在表头下方逐行填写企业。")
        return result, planned

    towns = _TownIndex(scope.towns())
    parent_texts = {clean_text(raw.get("parent_company")) for _, raw in raw_rows} - {""}
    parent_query = Q(name__in=parent_texts) | Q(credit_code__in={normalize_credit_code(t) for t in parent_texts})
    parents = _ParentIndex(scope.parent_companies().filter(parent_query) if parent_texts else [])

    codes = {normalize_credit_code(clean_text(raw.get("credit_code"))) for _, raw in raw_rows} - {""}
    existing_query = Enterprise.objects.filter(credit_code__in=codes).select_related("town", "parent_company")
    if lock:
        existing_query = existing_query.select_for_update(of=("self",))
    existing = {enterprise.credit_code: enterprise for enterprise in existing_query}
    in_scope = set(scope.enterprises().filter(credit_code__in=codes).values_list("pk", flat=True))

    first_row_of_code: dict[str, int] = {}
    # Names compare by portal.validators.name_key within a town (Enterprise.clean, which bulk writes skip).
    town_names: dict[tuple[int, str], Enterprise] = {}
    for known in Enterprise.objects.filter(town__in=scope.towns()).only("pk", "name", "credit_code", "town_id"):
        town_names.setdefault((known.town_id, name_key(known.name)), known)
    first_row_of_name: dict[tuple[int, str], int] = {}
    for number, raw in raw_rows:
        errors_before = len(result.errors)
        values = _read_row(result=result, table=table, number=number, raw=raw, towns=towns, parents=parents)
        code = values.get("credit_code")
        if code:
            if code in first_row_of_code:
                result.add_error(
                    number, table.label("credit_code"), f"与第{first_row_of_code[code]}行的统一社会信用代码重复。"
                )
            else:
                first_row_of_code[code] = number
        current = existing.get(code) if code else None
        if current is not None and current.pk not in in_scope:
            result.add_error(
                number,
                table.label("credit_code"),
                "该统一社会信用代码已由您辖区以外的企业登记，不能在此导入或修改；如企业确已迁入，请联系市局调整。",
            )
        phone = values.get("contact_phone", "")
        if phone and "*" in phone:
            if current is not None and phone == mask_phone(current.contact_phone):
                values.pop("contact_phone")  # an exported (masked) phone left as it was: keep the stored one
            else:
                result.add_error(
                    number, table.label("contact_phone"), "含有 * 号（导出时已打码的号码），请填写完整号码或留空。"
                )
        if len(result.errors) > errors_before:
            continue

        if current is None:
            instance = Enterprise(credit_code=code or "")
            before = None
        else:
            instance = copy.copy(current)
            before = {name: _comparable(current, name) for name in IMPORTED_FIELDS}
        for name, value in values.items():
            if name != "credit_code":
                setattr(instance, name, value)
        try:
            instance.clean_fields(exclude=["town", "parent_company", "credit_code"])
        except ValidationError as exc:
            for name, messages_ in exc.message_dict.items():
                result.add_error(number, table.label(name) if name in LABELS else "", "；".join(messages_))
            continue

        instance.name = clean_name(instance.name)
        if instance.town_id is not None and instance.name:
            slot = (instance.town_id, name_key(instance.name))
            namesake = town_names.get(slot)
            if namesake is not None and namesake.pk != instance.pk:
                result.add_error(number, table.label("name"), instance.duplicate_name_message(namesake))
                continue
            if slot in first_row_of_name:
                result.add_error(number, table.label("name"), f"与第{first_row_of_name[slot]}行的企业同镇同名。")
                continue
            first_row_of_name[slot] = number

        shown = {LABELS[name]: _display(instance, name) for name in present}
        if current is None:
            planned_row = _Planned(instance=instance)
            preview = PreviewRow(row=number, action=RowAction.CREATE, key=code or "", values=shown)
        else:
            changed = [name for name in IMPORTED_FIELDS if _comparable(instance, name) != (before or {}).get(name)]
            planned_row = _Planned(instance=instance, before=snapshot(current), fields=changed)
            preview = PreviewRow(
                row=number,
                action=RowAction.UPDATE if changed else RowAction.UNCHANGED,
                key=code or "",
                values=shown,
                changes={LABELS[name]: (_display(current, name), _display(instance, name)) for name in changed},
            )
        preview.payload = planned_row
        result.rows.append(preview)
        planned.append(planned_row)
    return result, planned


def enterprise_import_validate(
    *, source: Any, user: User | None = None, county: Region | None = None, file_name: str = ""
) -> ImportResult:
    """Read and check a directory file without writing anything: the preview and ``--dry-run``."""
    result, _ = _validate(source, scope=_scope(user, county), file_name=file_name, lock=False)
    return result


def enterprise_import_commit(
    *,
    source: Any,
    user: User | None = None,
    county: Region | None = None,
    file_name: str = "",
    stored_path: str = "",
) -> ImportResult:
    """Validate again and write every row, or none: one transaction, bulk writes, audited.

    Returns the result; ``result.committed`` tells whether anything was written. A file with any
    error writes nothing.
    """
    scope = _scope(user, county)
    actor_name = user.get_username() if user is not None else CLI_ACTOR_NAME
    try:
        with transaction.atomic():
            result, planned = _validate(source, scope=scope, file_name=file_name, lock=True)
            if not result.ok:
                return result
            now = timezone.now()
            creates = [p.instance for p in planned if p.before is None]
            updates = [p for p in planned if p.before is not None and p.fields]
            if creates:
                Enterprise.objects.bulk_create(creates, batch_size=500)
                if any(enterprise.pk is None for enterprise in creates):  # backends without RETURNING
                    ids = dict(
                        Enterprise.objects.filter(credit_code__in=[e.credit_code for e in creates]).values_list(
                            "credit_code", "pk"
                        )
                    )
                    for enterprise in creates:
                        enterprise.pk = ids[enterprise.credit_code]
            if updates:
                for item in updates:
                    item.instance.updated_at = now
                fields = sorted({name for item in updates for name in item.fields} | {"updated_at"})
                Enterprise.objects.bulk_update([item.instance for item in updates], fields=fields, batch_size=500)
            rows_by_instance = {id(row.payload.instance): row.row for row in result.rows}
            detail = f"Excel 导入企业名录：{file_name}" if file_name else "Excel 导入企业名录"
            with audit_batch():
                for enterprise in creates:
                    audit_events.record_created(
                        actor=user, actor_name=actor_name, instance=enterprise, after=snapshot(enterprise),
                        detail=f"{detail} 第{rows_by_instance[id(enterprise)]}行",
                    )  # fmt: skip
                for item in updates:
                    audit_events.record_updated(
                        actor=user, actor_name=actor_name, instance=item.instance, before=item.before,
                        after=snapshot(item.instance), detail=f"{detail} 第{rows_by_instance[id(item.instance)]}行",
                    )  # fmt: skip
            audit_events.enterprises_imported(
                actor=user, actor_name=actor_name, summary=result.summary(), detail=detail,
                region_path=scope.region_path, stored_path=stored_path or "",
            )  # fmt: skip
            result.committed = True
            return result
    except IntegrityError:
        result = ImportResult(file_name=file_name)
        result.add_error(0, "", "保存时与他人刚提交的数据冲突（统一社会信用代码重复），未导入任何数据，请重新上传。")
        return result


# --------------------------------------------------------------------------------------------
# The template
# --------------------------------------------------------------------------------------------


def template_workbook(*, user: User | None = None, county: Region | None = None) -> Any:
    """The .xlsx template: the expected headers (required ones starred) and a sheet of allowed values."""
    headers = [("*" if name in REQUIRED else "") + LABELS[name] for name in ENTERPRISE_COLUMNS]
    towns = sorted(_scope(user, county).towns(), key=lambda town: town.code)
    notes: list[list[Any]] = [["列名", "是否必填", "填写说明"]]
    explanations = {
        "name": "企业全称",
        "credit_code": "18位统一社会信用代码；已登记的代码将更新该企业",
        "town": "镇/乡名称或行政区划代码，可选：" + "、".join(town.name for town in towns),
        "industry": "可选：" + "、".join(label for _, label in Industry.choices),
        "production_status": "可选：" + "、".join(label for _, label in ProductionStatus.choices),
        "parent_company": "须为已登记的上级企业名称或其统一社会信用代码，可留空",
        "risk_grade": "可选：" + "、".join(label for _, label in RiskGrade.choices),
        "standardization_grade": "可选：" + "、".join(label for _, label in StandardizationGrade.choices),
        "license_expiry": "日期，如 2026-12-31 或 2026年12月31日",
    }
    for name in ENTERPRISE_COLUMNS:
        notes.append([LABELS[name], "是" if name in REQUIRED else "否", explanations.get(name, "")])
    notes.append([])
    notes.append(
        [
            "说明：表头可以在前10行内的任意一行，上方可有标题行；列名可用常见同义写法；表格末尾的填表人、审核人、备注等行会被忽略。"
        ]
    )
    return write_table(headers, [], sheet_title="企业名录", notes={"填写说明": notes})


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


class EnterpriseImportForm(ImportFileForm):
    """The upload form (kept by name for the callers that import it)."""


class _EnterpriseImporter:
    """The directory import on the shared preview/confirm mechanism (portal.import_flow)."""

    def validate(self, *, source: bytes, user: User, file_name: str) -> ImportResult:
        return enterprise_import_validate(source=source, user=user, file_name=file_name)

    def commit(self, *, source: bytes, user: User, file_name: str, stored_path: str) -> ImportResult:
        return enterprise_import_commit(source=source, user=user, file_name=file_name, stored_path=stored_path)


FLOW = ImportFlow(
    importer=_EnterpriseImporter(),
    staging=StagedUploads(PREVIEWS),
    page=ImportPage(
        heading="导入预览",
        crumbs=(("企业名录", reverse_lazy("enterprise-list")), ("从 Excel 导入", reverse_lazy("enterprise-import"))),
        form_template="portal/enterprise_import_form.html",
        confirm_url=reverse_lazy("enterprise-import"),
        restart_url=reverse_lazy("enterprise-import"),
    ),
    form_template="portal/enterprise_import.html",
    template_workbook=lambda user: template_workbook(user=user),
    template_file_name="企业名录导入模板.xlsx",
    success_url="enterprise-list",
    form_class=EnterpriseImportForm,
)


def enterprise_import_view(request: HttpRequest, *, user: User) -> HttpResponseBase:
    """GET: the upload form (``?template=1``: the template). POST: preview, or commit with a token."""
    if not _may_import(user):
        raise PermissionDenied("只有县局管理员或股室可以导入企业名录。")
    return import_page(request, user=user, flow=FLOW)


__all__ = [
    "ENTERPRISE_COLUMNS",
    "REQUIRED",
    "EnterpriseImportForm",
    "ImportScopeError",
    "enterprise_import_commit",
    "enterprise_import_validate",
    "enterprise_import_view",
    "template_workbook",
]
