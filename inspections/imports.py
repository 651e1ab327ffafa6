"""Import of a unit's existing 执法与追责问责 records from Excel: upload → preview → confirm, all rows or none.

Towns keep these records in Excel today. Every row is checked exactly as a record typed in the
browser (`services.validate_enforcement`: kind, target, amount, scope — a town imports only for its
own enterprises); the preview lists every error by sheet row and column, in Chinese. The commit
re-reads the stored file and re-validates it inside one transaction, and writes every row or none.

A re-upload does not duplicate: a row is the same record as one the unit already has when it has
the same kind and 文书编号, or — without a 文书编号 — the same kind, date, enterprise / parent company
and person. Such a row updates the record (or leaves it unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse_lazy

from inspections import audit_events as inspection_events
from inspections.choices import EnforcementKind
from inspections.models import Campaign, EnforcementRecord
from inspections.rules import recording_unit
from inspections.services import validate_enforcement
from portal import audit_events, limits, rules
from portal.audit import snapshot
from portal.import_flow import ImportFileForm, ImportFlow, ImportPage, StagedUploads, import_page
from portal.models import Enterprise, ParentCompany, User
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
    parse_decimal,
    write_table,
)
from portal.uploads import PreviewStore
from portal.validators import name_key, normalize_credit_code

ENFORCEMENT_COLUMNS: dict[str, list[str]] = {
    "kind": ["类型", "执法与追责问责类型", "处理类型", "追责问责类型", "措施类型", "处理方式", "执法类型", "类别"],
    "date": ["日期", "处理日期", "执法日期", "决定日期", "作出日期", "时间"],
    "enterprise": ["非煤矿山企业", "企业名称", "企业", "被处理企业", "对象企业", "单位名称"],
    "parent_company": ["上级企业", "主体公司", "上级公司", "上级企业/主体公司"],
    "person_name": ["对象人员", "姓名", "被处理人", "人员姓名", "当事人", "对象人员姓名"],
    "person_title": ["职务", "对象人员职务"],
    "amount": ["金额（万元）", "金额", "罚款金额", "罚款金额（万元）", "处罚金额", "罚款"],
    "document_number": ["文书编号", "文书号", "决定书编号", "执法文书编号", "文号"],
    "campaign": ["专项行动", "所属专项行动", "行动"],
    "description": ["事由及内容", "事由", "内容", "违法事实", "主要问题", "情况说明"],
}
REQUIRED = ("kind", "date")
LABELS = {name: words[0] for name, words in ENFORCEMENT_COLUMNS.items()}

K = EnforcementKind
KIND_SYNONYMS: dict[str, list[str]] = {
    K.TALK_ENTERPRISE: ["谈话", "谈心谈话", "谈话（企业）", "谈话非煤矿山企业"],
    K.TALK_PARENT: ["谈话上级企业", "谈话（上级公司）"],
    K.PENALTY_ENTERPRISE: ["行政处罚", "企业行政处罚", "处罚企业", "罚款", "非煤矿山企业行政处罚"],
    K.PENALTY_PRINCIPAL: ["主要负责人行政处罚", "处罚主要负责人", "非煤矿山企业主要负责人行政处罚", "个人罚款"],
    K.INTERVIEW_ENTERPRISE: ["约谈", "约谈企业", "约谈非煤矿山企业"],
    K.INTERVIEW_PRINCIPAL: ["约谈主要负责人", "约谈企业主要负责人", "约谈非煤矿山企业主要负责人"],
    K.INTERVIEW_PARENT: ["约谈上级企业", "约谈上级公司", "约谈主体公司"],
    K.INTERVIEW_PARENT_LEADER: [
        "约谈上级企业主要负责人",
        "约谈上级企业分管负责人",
        "约谈上级企业主要负责人或分管负责人",
    ],
    K.ACCOUNTABILITY_DISCIPLINE: ["党纪政纪处理", "党纪处分", "政纪处分"],
    K.ACCOUNTABILITY_REASSIGNMENT: ["调整工作岗位", "调岗"],
    K.ACCOUNTABILITY_DISMISSAL: ["解聘"],
    K.EXPOSURE_ENTERPRISE: ["通报曝光", "通报曝光企业", "通报企业"],
    K.EXPOSURE_PRINCIPAL: ["通报曝光主要负责人", "通报主要负责人"],
    K.JOINT_PUNISHMENT_PRINCIPAL: ["纳入联合惩戒主要负责人", "联合惩戒主要负责人"],
    K.JOINT_PUNISHMENT_ENTERPRISE: ["纳入联合惩戒对象", "联合惩戒", "联合惩戒企业", "纳入联合惩戒企业"],
    K.RESPONSIBILITY_LIST: ["纳入安全生产主体责任名单非煤矿山企业", "主体责任名单"],
    K.ORDER_RECTIFICATION: ["责令整改", "限期整改", "责令限期整改企业"],
    K.SUSPENSION: ["责令停产整顿", "停产整改"],
    K.PUBLIC_EXPOSURE_CASE: ["公开曝光", "曝光案例", "公开曝光案例数"],
    K.ILLEGAL_SUBCONTRACTING: ["违法分包转包", "挂靠资质", "查处违法分包转包和挂靠资质"],
    K.LABOUR_DISPATCH: ["劳务派遣", "查处劳务派遣用工违法"],
    K.CRIMINAL_REFERRAL: ["移送司法", "移送公安"],
    K.LICENCE_SUSPENSION: ["暂扣许可证", "暂扣安全生产许可证"],
    K.LICENCE_REVOCATION: ["吊销许可证", "吊销安全生产许可证"],
    K.SEIZURE: ["查封", "扣押"],
}
_KIND_LOOKUP = choice_lookup(EnforcementKind.choices, KIND_SYNONYMS)

PREVIEWS = PreviewStore(folder="imports/enforcement", salt="inspections.imports.enforcement")
# Fields an imported row may change on a record it matches.
UPDATABLE = ("amount", "person_title", "campaign", "description", "person_name")


class _Index:
    """Names and codes of what the unit may name in a file."""

    def __init__(self, actor: User) -> None:
        unit = recording_unit(actor)
        self.enterprises = list(
            Enterprise.objects.visible_to(actor).filter(in_subtree(unit.path, "town__path")).select_related("town")
        )
        self.parents = list(ParentCompany.objects.visible_to(actor)) + list(
            ParentCompany.objects.filter(in_subtree(unit.path, "enterprises__town__path")).distinct()
        )
        self.campaigns = list(Campaign.objects.visible_to(actor))

    def enterprise(self, text: str) -> Enterprise:
        code = normalize_credit_code(text)
        key = name_key(text)
        found = [e for e in self.enterprises if e.credit_code == code or name_key(e.name) == key]
        if len(found) == 1:
            return found[0]
        if found:
            raise CellError(f"名为“{text}”的企业有多个，请填写统一社会信用代码。")
        raise CellError(f"“{text}”不是本辖区已登记的企业（请填写企业全称或统一社会信用代码）。")

    def parent(self, text: str) -> ParentCompany:
        code = normalize_credit_code(text)
        key = name_key(text)
        found = {p.pk: p for p in self.parents if name_key(p.name) == key or (p.credit_code and p.credit_code == code)}
        if len(found) == 1:
            return next(iter(found.values()))
        if found:
            raise CellError(f"名为“{text}”的上级企业有多个，请填写统一社会信用代码。")
        raise CellError(f"上级企业“{text}”尚未登记或与本辖区无关。")

    def campaign(self, text: str) -> Campaign:
        found = [c for c in self.campaigns if text in (c.name, c.document_number, str(c))]
        if len(found) == 1:
            return found[0]
        raise CellError(f"“{text}”不是可选的专项行动（请填写行动名称或文号）。")


@dataclass
class _Planned:
    record: EnforcementRecord
    before: dict[str, Any] | None  # None: a new record
    changed: list[str]


def _identity(record: EnforcementRecord) -> tuple[Any, ...]:
    if record.document_number:
        return ("doc", record.issuing_unit_id, record.kind, record.document_number)
    return (
        "row",
        record.issuing_unit_id,
        record.kind,
        record.date,
        record.enterprise_id,
        record.parent_company_id,
        record.person_name,
    )


def _existing_by_identity(actor: User, unit_id: int, lock: bool) -> dict[tuple[Any, ...], EnforcementRecord]:
    queryset = EnforcementRecord.objects.filter(issuing_unit_id=unit_id)
    if lock:
        queryset = queryset.select_for_update()
    found: dict[tuple[Any, ...], EnforcementRecord] = {}
    for record in queryset:
        found.setdefault(_identity(record), record)
    return found


def _display(record: EnforcementRecord, name: str) -> str:
    if name == "kind":
        return record.get_kind_display()
    value = getattr(record, name)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


_TEXT_LIMITS = limits.text_limits(EnforcementRecord)


def _read_row(result: ImportResult, table: Table, number: int, raw: dict[str, Any], index: _Index) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in table.columns:
        text = clean_text(raw.get(name))
        if name in REQUIRED and not text:
            result.add_error(number, table.label(name), "必填，不能为空。")
            continue
        try:
            if name == "kind":
                values[name] = parse_choice(text, EnforcementKind.choices, lookup=_KIND_LOOKUP)
            elif name == "date":
                values[name] = parse_date(raw.get(name))
            elif name == "amount":
                values[name] = parse_decimal(raw.get(name), places=2, units=("万元", "万"))
            elif name == "enterprise":
                values[name] = index.enterprise(text) if text else None
            elif name == "parent_company":
                values[name] = index.parent(text) if text else None
            elif name == "campaign":
                values[name] = index.campaign(text) if text else None
            else:
                message = limits.too_long(text, _TEXT_LIMITS.get(name))
                if message:
                    raise CellError(message)
                values[name] = text
        except CellError as exc:
            result.add_error(number, table.label(name), exc.message)
    return values


def _record_errors(result: ImportResult, table: Table, number: int, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            label = table.label(name) if name in LABELS else ""
            result.add_error(number, label, "；".join(errors))
    else:
        result.add_error(number, "", "；".join(exc.messages))


def _validate(source: Any, *, actor: User, file_name: str, lock: bool) -> tuple[ImportResult, list[_Planned]]:
    result = ImportResult(file_name=file_name)
    planned: list[_Planned] = []
    unit = recording_unit(actor)
    try:
        with open_table(source, synonyms=ENFORCEMENT_COLUMNS, required=REQUIRED) as table:
            result.sheet_title = table.sheet_title
            result.header_row = table.header_row
            present = [name for name in ENFORCEMENT_COLUMNS if table.has(name)]
            result.columns = [LABELS[name] for name in present]
            raw_rows = list(table.rows())
    except SpreadsheetError as exc:
        result.add_error(0, "", exc.message)
        return result, planned
    if not raw_rows:
        result.add_error(0, "", "表格中没有数据行：请在表头下方逐行填写记录。")
        return result, planned
    index = _Index(actor)
    existing = _existing_by_identity(actor, unit.pk, lock)
    seen: dict[tuple[Any, ...], int] = {}
    for number, raw in raw_rows:
        errors_before = len(result.errors)
        values = _read_row(result, table, number, raw, index)
        if len(result.errors) > errors_before:
            continue
        record = EnforcementRecord(
            issuing_unit=unit, created_by=actor, **{k: v for k, v in values.items() if v is not None}
        )
        record.person_name = record.person_name or ""
        try:
            validate_enforcement(actor, record)
        except ValidationError as exc:
            _record_errors(result, table, number, exc)
            continue
        except PermissionDenied as exc:
            result.add_error(number, table.label("enterprise"), str(exc))
            continue
        key = _identity(record)
        if key in seen:
            result.add_error(number, "", f"与第{seen[key]}行是同一条记录（类型、日期、对象或文书编号相同）。")
            continue
        seen[key] = number
        shown = {LABELS[name]: _display(record, name) for name in present}
        current = existing.get(key)
        if current is None:
            planned.append(_Planned(record=record, before=None, changed=[]))
            preview = PreviewRow(row=number, action=RowAction.CREATE, key=record.document_number, values=shown)
        else:
            before = snapshot(current)
            changed = [name for name in UPDATABLE if name in values and getattr(record, name) != getattr(current, name)]
            for name in changed:
                setattr(current, name, getattr(record, name))
            planned.append(_Planned(record=current, before=before, changed=changed))
            preview = PreviewRow(
                row=number,
                action=RowAction.UPDATE if changed else RowAction.UNCHANGED,
                key=record.document_number,
                values=shown,
                changes={LABELS[name]: (str(before.get(name) or ""), _display(current, name)) for name in changed},
            )
        result.rows.append(preview)
    return result, planned


def enforcement_import_validate(*, source: Any, actor: User, file_name: str = "") -> ImportResult:
    """Read and check a file without writing anything (the preview)."""
    result, _ = _validate(source, actor=actor, file_name=file_name, lock=False)
    return result


def enforcement_import_commit(*, source: Any, actor: User, file_name: str = "", stored_path: str = "") -> ImportResult:
    """Validate again and write every row, or none, in one transaction, each row audited."""
    with transaction.atomic():
        result, planned = _validate(source, actor=actor, file_name=file_name, lock=True)
        if not result.ok:
            return result
        rows = {id(p.record): r.row for p, r in zip(planned, result.rows, strict=True)}
        detail = f"Excel 导入执法与追责问责记录：{file_name}" if file_name else "Excel 导入执法与追责问责记录"
        for item in planned:
            row_detail = f"{detail} 第{rows[id(item.record)]}行"[:500]
            if item.before is None:
                item.record.save()
                audit_events.record_created(
                    actor=actor, instance=item.record, after=snapshot(item.record), detail=row_detail
                )
            elif item.changed:
                item.record.save()
                audit_events.record_updated(
                    actor=actor, instance=item.record, before=item.before, after=snapshot(item.record),
                    detail=row_detail,
                )  # fmt: skip
        unit = recording_unit(actor)
        inspection_events.enforcement_imported(
            actor=actor, summary=result.summary(), detail=detail, region_path=unit.path, stored_path=stored_path
        )
        result.committed = True
        return result


def template_workbook() -> Any:
    headers = [("*" if name in REQUIRED else "") + LABELS[name] for name in ENFORCEMENT_COLUMNS]
    notes: list[list[Any]] = [["类型（可填写以下任一名称）"]]
    notes += [[label] for _value, label in EnforcementKind.choices]
    notes += [
        [],
        ["说明：非煤矿山企业填写企业全称或统一社会信用代码；行政处罚须填写金额（万元）；"
         "约谈、处罚主要负责人等须填写对象人员姓名；同一类型、同一文书编号的记录再次导入时更新原记录，不会重复。"],
    ]  # fmt: skip
    return write_table(headers, [], sheet_title="执法与追责问责记录", notes={"填写说明": notes})


# --- The page ---------------------------------------------------------------------------------


class EnforcementImportForm(ImportFileForm):
    """The upload form (kept by name for the callers that import it)."""


class _EnforcementImporter:
    """The records import on the shared preview/confirm mechanism (portal.import_flow)."""

    def validate(self, *, source: bytes, user: User, file_name: str) -> ImportResult:
        return enforcement_import_validate(source=source, actor=user, file_name=file_name)

    def commit(self, *, source: bytes, user: User, file_name: str, stored_path: str) -> ImportResult:
        return enforcement_import_commit(source=source, actor=user, file_name=file_name, stored_path=stored_path)


FLOW = ImportFlow(
    importer=_EnforcementImporter(),
    staging=StagedUploads(PREVIEWS),
    page=ImportPage(
        heading="导入预览",
        crumbs=(
            ("执法与追责问责", reverse_lazy("inspections:enforcement-list")),
            ("从 Excel 导入", reverse_lazy("inspections:enforcement-import")),
        ),
        form_template="inspections/_enforcement_import_form.html",
        confirm_url=reverse_lazy("inspections:enforcement-import"),
        restart_url=reverse_lazy("inspections:enforcement-import"),
    ),
    form_template="inspections/enforcement_import.html",
    template_workbook=lambda _user: template_workbook(),
    template_file_name="执法与追责问责记录导入模板.xlsx",
    success_url="inspections:enforcement-list",
    form_class=EnforcementImportForm,
)


def enforcement_import_view(request: HttpRequest, *, user: User) -> HttpResponseBase:
    """GET: the form (``?template=1``: the template). POST: preview, or commit with the preview's token."""
    rules.require(user, "inspections.record_field_work")
    return import_page(request, user=user, flow=FLOW)


__all__ = [
    "ENFORCEMENT_COLUMNS",
    "enforcement_import_commit",
    "enforcement_import_validate",
    "enforcement_import_view",
    "template_workbook",
]
