"""隐患台账 upload: an enterprise's hazard ledger (Excel) read, previewed and imported, all rows or none.

Who: an enterprise's clerk or principal for their own enterprise; a town's staff on behalf of an
enterprise of their town; county staff for the county's enterprises (scope through `visible_to`: an
enterprise outside it is a 404). Other roles are refused. ``manage.py import_ledger`` runs as the system.

Reading (`portal.spreadsheets` does the hostile-file checks; python-calamine reads the rows,
`portal.spreadsheet_calamine`, or openpyxl with `hazards.ledger_reader` where calamine would read otherwise):
title rows and merged cells above a header anywhere in the first 10 rows, column synonyms, Excel or
written dates, full-width digits and spaces, levels written several ways, trailing blank and
signature rows ignored. A major hazard must cite an item of 矿安〔2022〕88号, matched with the
enterprise's industry as the mine-type hint; a citation that cannot be matched is an error on that
row and column, with the reason.

Identity: a row is the same hazard as one the enterprise already has when it has the same ledger
编号 (a column so named or a synonym; 序号 is a row counter that enterprises restart every month, never
an identity); without a number, the same 发现日期 and normalised 隐患内容 (`hazard_identity_key`). A row
may also find a hazard by date and content when one of the two uploads had numbers and the other not.
Such a row updates that hazard (or leaves it unchanged); it never creates a second one. A 编号 that
matches a hazard whose date and content both differ is an error on that row naming the hazard
(`number_reused`), never an update.

What a re-upload may change (the enterprise's fields in `hazards.fields`, shown in the preview):
* only the columns present in the file; a blank cell never clears what the system already holds;
* 隐患级别 never changes through a ledger (it decides the workflow): a different level is an error;
* a major hazard, once signed by the principal (any status after 待主要负责人签字), keeps what was
  signed: a change to any other column is an error naming the column and why; the 五落实 (整改措施,
  责任单位, 责任人, 整改资金, 应急预案/临时管控措施) and 整改情况 may still be updated while the
  enterprise holds the hazard (not once it asked for closure or reported it rectified);
* a fixed 整改时限 (confirmed by the county, 挂牌督办, an approved extension; a general hazard's from its
  report) moves only by an approved extension: a different one is an error on the row;
* a closed (已销号/已验收) hazard changes only by an admin: any difference is an error.

Status: new rows start where a new report starts (`hazard_report`): a general hazard 已上报, a major
one 待主要负责人签字 — a ledger never stands in for the principal's signature. Existing hazards keep
their status, but for one thing a ledger records: a general hazard whose row says 已整改 and gives a
整改完成时间 takes the workflow's steps to 已整改 on that date, waiting for the town's 验收
(`hazards.ledger_history`, one event and audit row per step); a major hazard's 整改情况 is only kept.
New hazards get a 台账导入 event, updated ones a 修改 event; each also an audit row. Without a 隐患类别
column the category stays empty (未分类), never guessed.

Checks: the dates and the cited criterion by the services' own rules (`hazards.validation`), worded for a
row; who may change which column by `hazards.fields`.

Writing: the preview stores the file and a 待确认 `LedgerUpload`; the commit re-reads the stored file
and re-validates it inside one transaction (the enterprise and its hazards locked), then writes: new
hazards through `portal.bulk.bulk_insert` (COPY on PostgreSQL with ids reserved from the sequence,
multi-row INSERTs elsewhere), their events through `hazards.services.record_events_many` and their audit
rows through `portal.audit.audit_record_many` (the bulk twins of the single-event writers, same
arguments), changed hazards with bulk_update. Any error writes nothing. `python -m bench ledger` measures it.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import hashlib
import operator
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.db.models.base import ModelState
from django.http import Http404
from django.utils import timezone

from hazards import audit_events as hazard_events
from hazards.audit_events import STEP_KINDS
from hazards.choices import (
    CATEGORY_UNSET_LABEL,
    INDUSTRY_MINE_TYPE,
    HazardAction,
    HazardCategory,
    HazardLevel,
    HazardSource,
    HazardStatus,
    LedgerUploadStatus,
    NotificationKind,
)
from hazards.criteria import CriterionCatalogue
from hazards.fields import DEADLINE_FIELDS, DETAIL_FIELDS, LEDGER_ROLES, refused_fields
from hazards.ledger_history import rectification_steps, says_rectified
from hazards.ledger_reader import fast_workbook
from hazards.models import Hazard, LedgerUpload, hazard_identity_key, local_today
from hazards.permissions import ENTERPRISE, REGION_STAFF, effective_roles
from hazards.services import enterprise_users, notify, record_events_many, town_staff
from hazards.validation import criterion_errors, hazard_date_errors, rectified_on_errors
from portal import limits
from portal.audit import audit_record_many, snapshot
from portal.bulk import bulk_insert, gc_paused
from portal.choices import AuditAction, Role
from portal.models import Enterprise, User
from portal.spreadsheet_calamine import open_calamine
from portal.spreadsheets import (
    CellError,
    ImportResult,
    PreviewRow,
    RowAction,
    SpreadsheetError,
    Table,
    choice_lookup,
    clean_text,
    find_table,
    fold_width,
    normalize_header,
    open_workbook,
    parse_date,
    parse_decimal,
    read_bytes,
    write_table,
)

# field → header texts that mean it; the first is the label of the template and of the messages.
LEDGER_COLUMNS: dict[str, list[str]] = {
    "ledger_number": ["隐患编号", "编号", "台账编号", "隐患台账编号"],
    "serial": ["序号"],
    "description": [
        "隐患内容", "隐患描述", "存在问题", "问题描述", "存在的问题", "隐患名称", "隐患情况", "事故隐患内容",
        "隐患及问题", "问题隐患", "隐患问题", "隐患", "问题",
    ],
    "location": ["隐患部位", "部位", "地点", "隐患地点", "所在部位", "具体部位", "位置", "隐患位置"],
    "found_on": ["发现日期", "排查日期", "检查时间", "发现时间", "排查时间", "检查日期", "日期"],
    "level": ["隐患级别", "级别", "等级", "隐患等级", "隐患分级"],
    "category": ["隐患类别", "类别", "隐患类型", "类型", "隐患分类", "专业"],
    "source": ["隐患来源", "来源", "排查方式", "发现方式", "检查类型"],
    "found_by": ["发现人", "排查人", "检查人", "检查人员"],
    "criterion": ["判定依据", "重大隐患判定依据", "重大事故隐患判定依据", "判定标准", "依据"],
    "measures": ["整改措施", "治理措施", "整改方案", "治理方案"],
    "responsible_unit": ["责任单位", "整改责任单位", "责任部门", "整改单位"],
    "responsible_person": ["责任人", "整改责任人", "整改负责人"],
    "funds_wan": ["整改资金（万元）", "整改资金", "治理资金", "资金"],
    "deadline": ["整改时限", "整改期限", "完成时限", "整改完成时限", "整改完成期限", "计划完成时间", "限期"],
    "interim_measures": [
        "应急预案/临时管控措施", "应急预案及临时管控措施", "应急预案", "临时管控措施", "管控措施", "临时措施",
        "应急措施", "防范措施", "安全防范措施",
    ],
    "rectification_note": ["整改情况", "完成情况", "整改完成情况", "整改进展", "整改落实情况", "治理情况", "整改结果"],
    "rectified_on": [
        "整改完成时间", "整改完成日期", "实际完成时间", "实际完成日期", "完成时间", "完成日期", "整改日期",
    ],
}  # fmt: skip
REQUIRED = ("description", "found_on", "level")
LABELS = {name: words[0] for name, words in LEDGER_COLUMNS.items()}
STATUS_LABEL = "导入后状态"

# Read into the hazard only through the workflow's steps (`hazards.ledger_history`), never as a plain field.
HISTORY_FIELDS = ("rectified_on",)
# Model fields a ledger row fills, in display order (序号 is recognised as a header but never read).
ROW_FIELDS = [name for name in LEDGER_COLUMNS if name not in ("serial", *HISTORY_FIELDS)]
# What a re-upload may change in which status: the enterprise's fields of hazards.fields (LEDGER_ROLES).
_TEXT_LIMITS = limits.text_limits(Hazard)  # every text column, the long ones (隐患内容, 整改措施 …) too
_FUNDS_LIMIT = decimal.Decimal("9999999999.99")

LEVEL_SYNONYMS: dict[str, list[str]] = {
    HazardLevel.GENERAL: ["一般", "一般隐患", "一般事故隐患", "一般生产安全事故隐患", "一般安全隐患", "一般级"],
    HazardLevel.MAJOR: ["重大", "重大隐患", "重大事故隐患", "重大生产安全事故隐患", "重大安全隐患", "重大级"],
}
SOURCE_SYNONYMS: dict[str, list[str]] = {
    HazardSource.SELF_CHECK: ["自查", "企业自查", "自检", "日常检查", "日常排查", "企业排查", "班组检查", "自查自改"],
    HazardSource.TOWN_INSPECTION: ["镇检查", "乡镇检查", "镇级检查", "镇应急管理中心检查", "乡镇排查"],
    HazardSource.COUNTY_INSPECTION: ["县局检查", "县检查", "县级检查", "县应急管理局检查", "县应急局检查"],
    HazardSource.SUPERIOR_INSPECTION: ["上级检查", "市局检查", "市级检查", "省级检查", "省厅检查", "上级督查"],
    HazardSource.EXPERT_CHECK: ["专家体检", "专家检查", "专家排查", "专家会诊", "第三方检查"],
    HazardSource.TIP_OFF: ["举报", "群众举报", "投诉举报"],
}
# A category written in a ledger's own words: the first keyword found decides.
CATEGORY_KEYWORDS: list[tuple[str, str]] = [
    ("尾矿", HazardCategory.TAILINGS),
    ("有限空间", HazardCategory.CONFINED_SPACE),
    ("受限空间", HazardCategory.CONFINED_SPACE),
    ("动火", HazardCategory.HOT_WORK),
    ("爆破", HazardCategory.BLASTING),
    ("火工品", HazardCategory.BLASTING),
    ("炸药", HazardCategory.BLASTING),
    ("边坡", HazardCategory.SLOPE),
    ("滑坡", HazardCategory.SLOPE),
    ("台阶", HazardCategory.SLOPE),
    ("排土场", HazardCategory.SLOPE),
    ("运输", HazardCategory.TRANSPORT),
    ("车辆", HazardCategory.TRANSPORT),
    ("道路", HazardCategory.TRANSPORT),
    ("通风", HazardCategory.VENTILATION),
    ("防尘", HazardCategory.VENTILATION),
    ("防治水", HazardCategory.WATER),
    ("排水", HazardCategory.WATER),
    ("防水", HazardCategory.WATER),
    ("水害", HazardCategory.WATER),
    ("顶板", HazardCategory.ROOF),
    ("冒顶", HazardCategory.ROOF),
    ("片帮", HazardCategory.ROOF),
    ("采空区", HazardCategory.ROOF),
    ("供配电", HazardCategory.POWER),
    ("配电", HazardCategory.POWER),
    ("供电", HazardCategory.POWER),
    ("用电", HazardCategory.POWER),
    ("电气", HazardCategory.POWER),
    ("机电", HazardCategory.POWER),
    ("提升", HazardCategory.HOISTING),
    ("卷扬", HazardCategory.HOISTING),
    ("罐笼", HazardCategory.HOISTING),
    ("消防", HazardCategory.FIRE),
    ("火灾", HazardCategory.FIRE),
    ("外包", HazardCategory.OUTSOURCING),
    ("外委", HazardCategory.OUTSOURCING),
    ("承包", HazardCategory.OUTSOURCING),
    ("分包", HazardCategory.OUTSOURCING),
    ("管理", HazardCategory.MANAGEMENT),
    ("制度", HazardCategory.MANAGEMENT),
    ("培训", HazardCategory.MANAGEMENT),
    ("其他", HazardCategory.OTHER),
    ("其它", HazardCategory.OTHER),
]
_LEVEL_LOOKUP = choice_lookup(HazardLevel.choices, LEVEL_SYNONYMS)
_SOURCE_LOOKUP = choice_lookup(HazardSource.choices, SOURCE_SYNONYMS)
_CATEGORY_LOOKUP = choice_lookup(HazardCategory.choices)
_LEVEL_LABELS = dict(HazardLevel.choices)
_CATEGORY_LABELS = dict(HazardCategory.choices)
_SOURCE_LABELS = dict(HazardSource.choices)
_STATUS_LABELS = dict(HazardStatus.choices)

UPLOADER_ROLES = ENTERPRISE | REGION_STAFF
REFUSED_MESSAGE = "您无权上传隐患台账：隐患台账由企业填报员或主要负责人上传，或由镇应急管理中心、县局股室代为上传。"
CLI_ACTOR_NAME = "manage.py import_ledger"
BATCH_SIZE = 500
# Events and audit rows written per call of their bulk writers (one COPY each on PostgreSQL).
RECORD_CHUNK = 2_000


class LedgerError(Exception):
    """The upload as a whole cannot go on (a stale or foreign preview); the message is Chinese."""


# --------------------------------------------------------------------------------------------
# Who may upload
# --------------------------------------------------------------------------------------------


def may_upload(user: Any) -> bool:
    """The role may upload ledgers (for the enterprises in the user's scope)."""
    return bool(getattr(user, "is_active", False) and effective_roles(user) & UPLOADER_ROLES)


def check_uploader(actor: User | None, enterprise: Enterprise) -> None:
    """404 when the enterprise is outside the actor's scope; 403 when the role may not upload. None = system."""
    if actor is None:
        return
    if not Enterprise.objects.visible_to(actor).filter(pk=enterprise.pk).exists():
        raise Http404("未找到该企业。")
    if not may_upload(actor):
        raise PermissionDenied(REFUSED_MESSAGE)


def enterprise_for_upload(user: User, chosen: Any = None) -> Enterprise:
    """The enterprise an upload is for: an enterprise user's own (choosing another is a 404), or the one a
    town or county user chose within their scope (404 outside it, or when none was chosen)."""
    queryset = Enterprise.objects.visible_to(user).select_related("town")
    if user.enterprise_id is not None:
        if chosen not in (None, "", user.enterprise_id, str(user.enterprise_id)):
            raise Http404("未找到该企业。")
        return queryset.get(pk=user.enterprise_id)
    try:
        return queryset.get(pk=int(chosen))
    except (Enterprise.DoesNotExist, TypeError, ValueError):
        raise Http404("未找到该企业。") from None


def uploadable_enterprises(user: User) -> Any:
    """The enterprises a user may upload a ledger for (none when the role may not upload)."""
    queryset = Enterprise.objects.visible_to(user).select_related("town").order_by("name", "id")
    return queryset if may_upload(user) else queryset.none()


# --------------------------------------------------------------------------------------------
# Reading one row
# --------------------------------------------------------------------------------------------


@contextmanager
def open_ledger(source: Any) -> Iterator[Table]:
    """The ledger table of an .xlsx (refused as a whole with a `SpreadsheetError`); the workbook is closed on exit.

    Read by python-calamine after the hostile-file checks; a file calamine would read otherwise than openpyxl
    (formulas, error cells, cells without references, a sheet too large for calamine's dense rectangle:
    `portal.spreadsheet_calamine`) by openpyxl and `hazards.ledger_reader`.
    """
    data = read_bytes(source)
    workbook: Any = open_calamine(data)
    if workbook is None:
        workbook = open_workbook(data)
        sheets: Any = fast_workbook(workbook)
    else:
        sheets = workbook
    try:
        yield find_table(sheets, synonyms=LEDGER_COLUMNS, required=REQUIRED)
    finally:
        workbook.close()


def parse_level(value: Any) -> str:
    text = clean_text(value)
    if not text:
        raise CellError("必填，不能为空（一般或重大）。")
    found = _LEVEL_LOOKUP.get(normalize_header(text))
    if found is None:
        raise CellError(f"“{text}”不是有效的隐患级别，应为：一般、重大（或一般事故隐患、重大事故隐患）。")
    return found


def parse_category(value: Any) -> str | None:
    text = clean_text(value)
    if not text:
        return None
    key = normalize_header(text)
    found = _CATEGORY_LOOKUP.get(key)
    if found is not None:
        return found
    for keyword, category in CATEGORY_KEYWORDS:
        if keyword in key:
            return category
    allowed = "、".join(label for _, label in HazardCategory.choices)
    raise CellError(f"“{text}”不是有效的隐患类别，应为：{allowed}。")


def parse_source(value: Any) -> str | None:
    text = clean_text(value)
    if not text:
        return None
    found = _SOURCE_LOOKUP.get(normalize_header(text))
    if found is None:
        allowed = "、".join(label for _, label in HazardSource.choices)
        raise CellError(f"“{text}”不是有效的隐患来源，应为：{allowed}。")
    return found


def parse_funds(value: Any) -> decimal.Decimal | None:
    number = parse_decimal(value, places=2, minimum=0, units=("万元", "万"))
    if number is not None and number > _FUNDS_LIMIT:
        raise CellError(f"金额过大：“{clean_text(value)}”（单位为万元）。")
    return number


def _text_parser(name: str) -> Callable[[Any], str]:
    """The parser of a text column: the cell's clean text, within the field's length (its limit looked up once)."""
    limit = _TEXT_LIMITS.get(name)

    def parse(value: Any) -> str:
        text = clean_text(value)
        if limit and len(text) > limit:
            raise CellError(limits.too_long(text, limit))
        return text

    return parse


def _remembered(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`parse` answering once per distinct cell value (by type and value: True is not 1), for the columns whose
    values repeat down a ledger (level, category, source, dates, amounts). A refused value raises each time."""
    answers: dict[tuple[type, Any], Any] = {}

    def remembered(value: Any) -> Any:
        key = (value.__class__, value)
        try:
            return answers[key]
        except KeyError:
            answer = answers[key] = parse(value)
            return answer
        except TypeError:  # unhashable
            return parse(value)

    return remembered


@dataclass
class _Row:
    """One data row read from the file: the values of the columns present, before matching."""

    number: int
    values: dict[str, Any]  # field → value; absent or blank cells are not in it
    key: str
    level: str
    has_number: bool


class _RowReader:
    """Reads the rows of one table for one enterprise; errors go to `result`."""

    def __init__(self, *, table: Table, enterprise: Enterprise, catalogue: CriterionCatalogue, result: ImportResult):
        self.table = table
        self.enterprise = enterprise
        self.catalogue = catalogue
        self.result = result
        self.mine_type_hint = INDUSTRY_MINE_TYPE.get(enterprise.industry)
        self.at_path = enterprise.town.path
        self.number_field = "ledger_number"  # 序号 is a row counter, restarted every month: never an identity
        self.present = [name for name in LEDGER_COLUMNS if table.has(name)]
        self.today = local_today()
        self.criteria_cache: dict[str, Any] = {}
        self.date_errors: dict[tuple[datetime.date | None, datetime.date | None], dict[str, str]] = {}
        self.labels = {name: table.label(name) for name in LEDGER_COLUMNS}
        self.labels["ledger_number"] = table.label(self.number_field)
        self.labels["criterion_text"] = self.labels["criterion"]
        # Per column of the file: (column, value it fills, parser, required), decided once for all rows.
        parsers: dict[str, Any] = {
            "level": parse_level,
            "found_on": parse_date,
            "deadline": parse_date,
            "category": parse_category,
            "source": parse_source,
            "funds_wan": parse_funds,
            "rectified_on": parse_date,
        }
        self.plan: list[tuple[str, str, Any, bool]] = []
        for name in self.present:
            if name in ("serial", "ledger_number") and name != self.number_field:
                continue
            target = {"serial": "ledger_number", "criterion": "criterion_text"}.get(name, name)
            parser = parsers.get(name)
            # Per reader (one file): what is remembered never outlives the upload.
            parse = _remembered(parser) if parser is not None else _text_parser(target)
            self.plan.append((name, target, parse, name in REQUIRED))

    def label(self, name: str) -> str:
        return self.labels.get(name) or LABELS.get(name, name)

    def fail(self, number: int, name: str, message: str) -> None:
        self.result.add_error(number, self.label(name), message)

    def check_header(self) -> bool:
        """File-level problems of the header: an amount column in 元 instead of 万元."""
        if self.table.has("funds_wan"):
            written = self.table.label("funds_wan")
            if "元" in written and "万元" not in fold_width(written).replace(" ", ""):
                self.result.add_error(
                    self.table.header_row,
                    written,
                    "整改资金须以万元为单位填写：请将表头改为“整改资金（万元）”并换算金额后重新上传。",
                )
                return False
        return True

    def read(self, number: int, raw: dict[str, Any]) -> _Row | None:
        errors_before = len(self.result.errors)
        values: dict[str, Any] = {}
        for name, target, parse, required in self.plan:
            cell = raw.get(name)
            if cell is None:
                if required:
                    self.fail(number, name, "必填，不能为空。")
                continue
            try:
                value = parse(cell)
            except CellError as exc:
                self.fail(number, name, exc.message)
                continue
            if value is None or value == "":
                if required:
                    self.fail(number, name, "必填，不能为空。")
                continue
            values[target] = value

        level = values.get("level")
        found_on = values.get("found_on")
        # The services' own rules (hazards.validation), worded for a row: the dates the message compares. Asked
        # once per pair of dates (a ledger's rows share them).
        deadline = values.get("deadline")
        dates = self.date_errors.get((found_on, deadline))
        if dates is None:
            dates = self.date_errors[found_on, deadline] = hazard_date_errors(
                found_on=found_on, deadline=deadline, today=self.today, dated=True
            )
        for name, message in dates.items():
            self.fail(number, name, message)
        if level == HazardLevel.MAJOR:
            self.match_criterion(number, values)
        if len(self.result.errors) > errors_before or level is None:
            return None
        ledger_number = values.get("ledger_number", "")
        key = hazard_identity_key(
            ledger_number=ledger_number, found_on=found_on, description=values.get("description", "")
        )
        return _Row(number=number, values=values, key=key, level=level, has_number=bool(ledger_number))

    def match_criterion(self, number: int, values: dict[str, Any]) -> None:
        text = values.get("criterion_text", "")
        if not text:
            example = "如“露天矿山第（七）项”或“二（七）”"
            if not self.table.has("criterion"):
                fail_message = (
                    f"重大事故隐患必须写明判定依据，但表格中没有“判定依据”列：请增加该列并填写（{example}）。"
                )
            else:
                fail_message = f"重大事故隐患必须填写判定依据（矿安〔2022〕88号的条目，{example}）。"
            self.fail(number, "criterion", fail_message)
            return
        match = self.criteria_cache.get(text)
        if match is None:
            match = self.criteria_cache[text] = self.catalogue.match(text, self.mine_type_hint)
        if match.criterion is None:
            self.fail(number, "criterion", match.reason)
            return
        problems = criterion_errors(level=HazardLevel.MAJOR, criterion=match.criterion, at_path=self.at_path)
        if problems:
            self.fail(number, "criterion", problems["criterion"])
        else:
            values["criterion"] = match.criterion


# --------------------------------------------------------------------------------------------
# Matching rows to the enterprise's hazards, and planning the writes
# --------------------------------------------------------------------------------------------


@dataclass
class _Planned:
    row: int
    hazard: Hazard  # the instance to write: new, or a copy of the existing one with the changes
    existing: Hazard | None = None
    before: dict[str, Any] | None = None
    fields: list[str] = field(default_factory=list)
    steps: list[tuple[str, str, str]] = field(default_factory=list)  # workflow steps the row's history takes


def _display(hazard: Hazard, name: str) -> str:
    value = getattr(hazard, name if name != "criterion" else "criterion_id")
    if name == "criterion" and value is None:
        return hazard.criterion_text
    if name == "category" and not value:
        return CATEGORY_UNSET_LABEL
    if value is None or value == "":
        return ""
    if name == "level":
        return str(_LEVEL_LABELS.get(value, value))
    if name == "category":
        return str(_CATEGORY_LABELS.get(value, value))
    if name == "source":
        return str(_SOURCE_LABELS.get(value, value))
    if name == "status":
        return str(_STATUS_LABELS.get(value, value))
    if name == "criterion":
        return str(hazard.criterion) if hazard.criterion is not None else hazard.criterion_text
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


_HAZARD_DEFAULTS = {
    field.attname: (field.get_default() if field.has_default() else ("" if field.empty_strings_allowed else None))
    for field in Hazard._meta.concrete_fields
}
_HAZARD_DEFAULTS["id"] = None


def _new_hazard(row: _Row, *, enterprise: Enterprise, actor: User | None) -> Hazard:
    """A new hazard for a row, its fields set directly (every concrete field, as `Model.__init__` would set
    them, without its per-field work: at 10,000 rows the constructor was a tenth of the import)."""
    values = dict(_HAZARD_DEFAULTS)
    values.update(row.values)
    criterion: Any = values.pop("criterion", None)  # the matched item: its id is the field
    values["criterion_id"] = criterion.pk if criterion is not None and row.level == HazardLevel.MAJOR else None
    values.update(
        enterprise_id=enterprise.pk,
        level=row.level,
        status=HazardStatus.DRAFT if row.level == HazardLevel.MAJOR else HazardStatus.REPORTED,
        category=row.values.get("category", ""),  # none stated: 未分类, not a guess
        source=row.values.get("source", HazardSource.SELF_CHECK),
        reported_by_id=actor.pk if actor is not None else None,
        identity_key=row.key,
        current_deadline=row.values.get("deadline"),
    )
    hazard = Hazard.__new__(Hazard)
    values["_state"] = state = ModelState()
    hazard.__dict__ = values
    cache = state.fields_cache
    cache["enterprise"] = enterprise
    cache["criterion"] = criterion if values["criterion_id"] is not None else None
    return hazard


def _comparable(hazard: Hazard, name: str) -> Any:
    return hazard.criterion_id if name == "criterion" else getattr(hazard, name)


def _content_key(description: str) -> str:
    """The normalised 隐患内容 alone (the identity key's digest without a date)."""
    return hazard_identity_key(ledger_number="", found_on=None, description=description)


def number_reused(row: _Row, hazard: Hazard) -> bool:
    """A row carries the 编号 of an existing hazard whose 发现日期 and 隐患内容 both differ: another hazard that
    reuses the number (e.g. numbers restarted in a new month), never an update of the one registered."""
    return (
        row.has_number
        and row.values.get("found_on") != hazard.found_on
        and _content_key(row.values.get("description", "")) != _content_key(hazard.description)
    )


def number_reused_message(hazard: Hazard) -> str:
    text = hazard.description.strip().replace("\n", " ")
    short = text if len(text) <= 30 else f"{text[:30]}…"
    return (
        f"编号“{hazard.ledger_number}”在系统中已登记为另一条隐患（{hazard.found_on:%Y-%m-%d}发现：“{short}”），"
        "与本行的发现日期和隐患内容都不同。编号是隐患的标识，不能用于另一条隐患：如为新隐患，请换一个未用过的编号；"
        "如是同一条隐患，请核对发现日期和隐患内容。"
    )


class _ExistingIndex:
    """The enterprise's hazards by identity key, and by date + description for the fallback match."""

    def __init__(self, hazards: list[Hazard]) -> None:
        self.hazards = hazards
        self.by_key = {hazard.identity_key: hazard for hazard in hazards}
        self._by_content: dict[str, list[Hazard]] | None = None

    @property
    def by_content(self) -> dict[str, list[Hazard]]:
        """Built on the first row not found by its key (a re-upload of the same ledger never needs it)."""
        if self._by_content is None:
            self._by_content = {}
            for hazard in self.hazards:
                content = hazard_identity_key(
                    ledger_number="", found_on=hazard.found_on, description=hazard.description
                )
                self._by_content.setdefault(content, []).append(hazard)
        return self._by_content

    def find(self, row: _Row) -> tuple[Hazard | None, str]:
        """The hazard a row is, or none; a message when the match is ambiguous."""
        hazard = self.by_key.get(row.key)
        if hazard is not None:
            return (None, number_reused_message(hazard)) if number_reused(row, hazard) else (hazard, "")
        if not self.hazards:  # the enterprise's first ledger
            return None, ""
        content_key = (
            hazard_identity_key(
                ledger_number="", found_on=row.values.get("found_on"), description=row.values.get("description", "")
            )
            if row.has_number
            else row.key
        )
        candidates = self.by_content.get(content_key, [])
        if row.has_number:
            # The file now has numbers; the hazard was registered without one.
            candidates = [hazard for hazard in candidates if not hazard.ledger_number]
        if len(candidates) == 1:
            return candidates[0], ""
        if len(candidates) > 1:
            numbers = "、".join(hazard.ledger_number or f"#{hazard.pk}" for hazard in candidates[:5])
            return None, (
                f"系统中有{len(candidates)}条发现日期和隐患内容都相同的隐患（编号：{numbers}），"
                "无法确定对应哪一条：请在台账中填写隐患编号。"
            )
        return None, ""


def _lock_reason(existing: Hazard, name: str, reason: str) -> str:
    status = _STATUS_LABELS.get(existing.status, existing.status)
    if name in DEADLINE_FIELDS:  # fixed by the county, a supervision or an approved extension
        return reason
    if existing.status in HazardStatus.finished():
        return f"该隐患{status}，不能通过台账修改；已办结的隐患只能由管理员更正并说明理由。"
    if not existing.is_major or name not in DETAIL_FIELDS:
        return reason
    return (
        f"该重大事故隐患已由主要负责人签字上报（当前状态：{status}），此项不能通过台账修改；"
        "“五落实”和整改情况可以更新，其他内容如需修改，请由确认单位退回后再上传。"
    )


# What a history step changes on a hazard (shown in the preview, written by the commit).
HISTORY_CHANGES = ["status", "rectified_on", "rectified_by"]


def _take_history(
    reader: _RowReader, row: _Row, hazard: Hazard, *, actor: User | None
) -> list[tuple[str, str, str]] | None:
    """Apply the rectification the row records (`hazards.ledger_history`) to `hazard` (new, or a copy of the
    registered one): the workflow steps it takes ([] for none), or None when the row contradicts itself."""
    if hazard.pk is None:
        hazard.rectified_on = None  # a new hazard got every row value; the date is the steps' to set
    rectified_on = row.values.get("rectified_on")
    if rectified_on is None or row.level != HazardLevel.GENERAL:
        return []  # a major hazard's 整改情况 is kept, but only the workflow moves it
    steps = rectification_steps(hazard.level, hazard.status)
    if not steps:
        return []  # already rectified, verified or closed
    note = hazard.rectification_note
    if not says_rectified(note):
        stated = f"为“{note}”" if note else "未填写"
        reader.fail(
            row.number,
            "rectified_on",
            f"填写了整改完成时间，但整改情况{stated}：已整改完成的，请在整改情况中写明“已整改”；"
            "尚未整改完成的，请清空整改完成时间。",
        )
        return None
    problems = rectified_on_errors(rectified_on=rectified_on, found_on=hazard.found_on, today=reader.today, dated=True)
    if problems:
        reader.fail(row.number, "rectified_on", problems["rectified_on"])
        return None
    for name in HISTORY_CHANGES:
        reader.labels.setdefault(name, str(getattr(Hazard._meta.get_field(name), "verbose_name", name)))
    hazard.status = steps[-1][2]
    hazard.rectified_on = rectified_on
    hazard.rectified_by = actor  # who recorded the rectification: as in the workflow, not who verifies it
    return steps


def _plan(
    rows: list[_Row],
    *,
    reader: _RowReader,
    existing: _ExistingIndex,
    enterprise: Enterprise,
    actor: User | None,
    result: ImportResult,
    display: bool = True,
) -> list[_Planned]:
    """Match the rows to the enterprise's hazards and plan the writes; with `display`, the preview's values."""
    planned: list[_Planned] = []
    first_row_of_key: dict[str, int] = {}
    first_row_of_hazard: dict[int, int] = {}
    present_fields = [name for name in ROW_FIELDS if reader.table.has(name)]
    if reader.table.has("criterion"):
        present_fields.append("criterion_text")
    shown_fields = [name for name in ROW_FIELDS if name in present_fields]
    result.columns = [reader.label(name) for name in shown_fields] + [STATUS_LABEL]
    # Plain fields a row may change (level never; the criterion is handled with its text).
    change_fields = [name for name in present_fields if name not in ("level", "criterion", "criterion_text")]
    compared = [*change_fields, "criterion", "criterion_text"]

    for row in rows:
        number = row.number
        if row.key in first_row_of_key:
            same = "编号" if row.has_number else "发现日期和隐患内容"
            reader.fail(
                number,
                "ledger_number" if row.has_number else "description",
                f"与第{first_row_of_key[row.key]}行的{same}相同，是同一条隐患，请删除重复行。",
            )
            continue
        first_row_of_key[row.key] = number
        current, ambiguity = existing.find(row)
        if ambiguity:
            reader.fail(number, "ledger_number" if reader.table.has(reader.number_field) else "description", ambiguity)
            continue
        values = row.values
        if current is None:
            hazard = _new_hazard(row, enterprise=enterprise, actor=actor)
            steps = _take_history(reader, row, hazard, actor=actor)
            if steps is None:
                continue
            if display:
                shown = {reader.label(name): _display(hazard, name) for name in shown_fields}
                shown[STATUS_LABEL] = _display(hazard, "status")
            else:
                shown = {}
            result.rows.append(PreviewRow(row=number, action=RowAction.CREATE, key=row.key, values=shown))
            planned.append(_Planned(row=number, hazard=hazard, steps=steps))
            continue

        if current.pk in first_row_of_hazard:
            reader.fail(
                number,
                "ledger_number" if row.has_number else "description",
                f"与第{first_row_of_hazard[current.pk]}行对应系统中的同一条隐患，请合并为一行。",
            )
            continue
        first_row_of_hazard[current.pk] = number
        errors_before = len(result.errors)
        if row.level != current.level:
            reader.fail(
                number,
                "level",
                f"该隐患已登记为{_LEVEL_LABELS[current.level]}，台账中为{_LEVEL_LABELS[row.level]}；"
                "隐患级别不能通过台账修改，如需更正请联系管理员。",
            )
        hazard = copy.copy(current)
        old_deadline = hazard.deadline
        for name in change_fields:
            if name in values:
                setattr(hazard, name, values[name])
        criterion = values.get("criterion")
        if criterion is not None and row.level == current.level == HazardLevel.MAJOR:
            # The same item written another way ("二（七）" for "露天矿山第（七）项") is no change.
            if criterion.pk != current.criterion_id:
                hazard.criterion = criterion
                hazard.criterion_text = values.get("criterion_text", "")
        elif row.level == current.level == HazardLevel.GENERAL and "criterion_text" in values:
            hazard.criterion_text = values["criterion_text"]
        if "deadline" in values and hazard.current_deadline in (None, old_deadline):
            hazard.current_deadline = hazard.deadline
        hazard.identity_key = hazard_identity_key(
            ledger_number=hazard.ledger_number, found_on=hazard.found_on, description=hazard.description
        )
        changed = [name for name in compared if _comparable(hazard, name) != _comparable(current, name)]
        if changed:
            # Who may change which column in which status is hazards.fields' declaration. A refused column
            # (a fixed deadline, a signed major hazard's details) is an error on its row, so the whole file
            # waits until it is fixed: a bureau expects a ledger to be applied as written or not at all, and
            # a silently kept deadline would leave the enterprise's book and the portal disagreeing unseen.
            locked = refused_fields(current, changed, roles=LEDGER_ROLES)
            for name, reason in locked.items():
                if name == "criterion_text" and "criterion" in locked:
                    continue
                reader.fail(number, name, _lock_reason(current, name, reason))
        steps = _take_history(reader, row, hazard, actor=actor)
        if steps:
            changed += HISTORY_CHANGES
        if hazard.identity_key != current.identity_key:
            other = existing.by_key.get(hazard.identity_key)
            if other is not None and other.pk != current.pk:
                reader.fail(number, "ledger_number", "修改后与系统中另一条隐患的编号（或发现日期和内容）相同。")
        if len(result.errors) > errors_before:
            continue
        fields = list(changed)
        if changed:
            if hazard.current_deadline != current.current_deadline:
                fields.append("current_deadline")
            if hazard.identity_key != current.identity_key:
                fields.append("identity_key")
        if display:
            shown = {reader.label(name): _display(hazard, name) for name in shown_fields}
            shown[STATUS_LABEL] = _display(hazard, "status")
        else:
            shown = {}
        changes = {
            reader.label(name): (_display(current, name), _display(hazard, name))
            for name in changed
            if not (name == "criterion_text" and "criterion" in changed)
        }
        result.rows.append(
            PreviewRow(
                row=number,
                action=RowAction.UPDATE if changed else RowAction.UNCHANGED,
                key=current.identity_key,
                values=shown,
                changes=changes,
            )
        )
        planned.append(
            _Planned(row=number, hazard=hazard, existing=current, before=snapshot(current) if changed else None,
                     fields=sorted(set(fields)), steps=steps or [])
        )  # fmt: skip
    return planned


def _validate(
    source: Any, *, enterprise: Enterprise, actor: User | None, file_name: str, lock: bool
) -> tuple[ImportResult, list[_Planned]]:
    result = ImportResult(file_name=file_name)
    try:
        with open_ledger(source) as table:
            result.sheet_title = table.sheet_title
            result.header_row = table.header_row
            # A county's own items are cited by that county's enterprises only.
            catalogue = CriterionCatalogue.load(at_path=enterprise.town.path)
            reader = _RowReader(table=table, enterprise=enterprise, catalogue=catalogue, result=result)
            if not reader.check_header():
                return result, []
            rows: list[_Row] = []
            seen = False
            for number, raw in table.rows():
                seen = True
                row = reader.read(number, raw)
                if row is not None:
                    rows.append(row)
    except SpreadsheetError as exc:
        result.add_error(0, "", exc.message)
        return result, []
    if not seen:
        result.add_error(0, "", "表格中没有数据行：请在表头下方逐行填写隐患。")
        return result, []
    queryset = Hazard.objects.filter(enterprise=enterprise).select_related("criterion")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    index = _ExistingIndex(list(queryset))
    planned = _plan(
        rows, reader=reader, existing=index, enterprise=enterprise, actor=actor, result=result, display=not lock
    )
    result.rows.sort(key=lambda preview: preview.row)
    return result, planned


@gc_paused()
def ledger_validate(
    *, source: Any, enterprise: Enterprise, actor: User | None = None, file_name: str = ""
) -> ImportResult:
    """Read and check a ledger without writing anything: the preview and ``--dry-run``."""
    check_uploader(actor, enterprise)
    result, _ = _validate(source, enterprise=enterprise, actor=actor, file_name=file_name, lock=False)
    return result


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _actor_name(actor: User | None) -> str:
    if actor is None:
        return CLI_ACTOR_NAME
    return actor.full_name or actor.get_username()


_TEMPORAL = (models.DateField, models.TimeField)  # DateTimeField is a DateField
_SNAPSHOT_NAMES = [f.name for f in Hazard._meta.concrete_fields]
_SNAPSHOT_ATTNAMES = [f.attname for f in Hazard._meta.concrete_fields]
_SNAPSHOT_VALUES = operator.itemgetter(*_SNAPSHOT_ATTNAMES)
_SNAPSHOT_STAMPS = [f.name for f in Hazard._meta.concrete_fields if isinstance(f, models.DateTimeField)]
_SNAPSHOT_ISO = [
    f.name for f in Hazard._meta.concrete_fields if isinstance(f, _TEMPORAL) and f.name not in _SNAPSHOT_STAMPS
]
_SNAPSHOT_STR = [f.name for f in Hazard._meta.concrete_fields if isinstance(f, models.DecimalField)]


def _snapshot(hazard: Hazard, stamps: dict[int, tuple[Any, str]]) -> dict[str, Any]:
    """`portal.audit.snapshot` of a hazard (the same keys and JSON values), with the field types decided once
    instead of per value (10,000 audit rows): the values picked in C, then the dates and amounts made text.
    `stamps` remembers the text of each timestamp object (by identity: the import's one `now` on every hazard)."""
    values = hazard.__dict__
    try:
        picked = _SNAPSHOT_VALUES(values)
    except KeyError:  # a field not loaded (never in an import): None
        picked = tuple(values.get(attname) for attname in _SNAPSHOT_ATTNAMES)
    data = dict(zip(_SNAPSHOT_NAMES, picked, strict=True))
    for name in _SNAPSHOT_STAMPS:
        value = data[name]
        if value is not None:
            seen = stamps.get(id(value))
            if seen is None or seen[0] is not value:
                seen = stamps[id(value)] = (value, value.isoformat())
            data[name] = seen[1]
    for name in _SNAPSHOT_ISO:
        value = data[name]
        if value is not None:
            data[name] = value.isoformat()
    for name in _SNAPSHOT_STR:
        value = data[name]
        if value is not None:
            data[name] = str(value)
    return data


def _write(
    planned: list[_Planned],
    *,
    result: ImportResult,
    enterprise: Enterprise,
    actor: User | None,
    upload: LedgerUpload,
) -> None:
    """Bulk writes of a validated ledger; the caller holds the transaction."""
    now = timezone.now()
    name = _actor_name(actor)
    creates = [item for item in planned if item.existing is None]
    updates = [item for item in planned if item.existing is not None and item.fields]
    new_hazards = [item.hazard for item in creates]
    if new_hazards:
        for hazard in new_hazards:
            hazard.created_at = hazard.updated_at = now
        reserved = bulk_insert(Hazard, [hazard.__dict__ for hazard in new_hazards], ids=True)
        if reserved:  # PostgreSQL's COPY took ids reserved from the sequence
            ids = {hazard.identity_key: pk for hazard, pk in zip(new_hazards, reserved, strict=True)}
        else:  # read back by the key the enterprise's hazards are unique on
            ids = dict(
                Hazard.objects.filter(
                    enterprise=enterprise, identity_key__in=[hazard.identity_key for hazard in new_hazards]
                ).values_list("identity_key", "pk")
            )
        for hazard in new_hazards:
            hazard.pk = ids[hazard.identity_key]
            hazard._state.adding = False
            hazard._state.db = "default"
    if updates:
        for item in updates:
            item.hazard.updated_at = now
        fields = sorted({name for item in updates for name in item.fields} | {"updated_at"})
        Hazard.objects.bulk_update([item.hazard for item in updates], fields=fields, batch_size=BATCH_SIZE)

    detail = f"隐患台账导入：{upload.original_name}"
    region_path = enterprise.town.path
    audit_name = "" if actor is not None else CLI_ACTOR_NAME
    events: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    created_kind, updated_kind = STEP_KINDS[HazardAction.LEDGER_IMPORT], STEP_KINDS[HazardAction.UPDATE]
    upload_pk = upload.pk
    stamps: dict[int, tuple[Any, str]] = {}
    for item in [*creates, *updates]:
        hazard = item.hazard
        created = item.existing is None
        status = _status_before(item)
        data: dict[str, Any] = {"ledger_upload": upload_pk, "row": item.row}
        if not created:
            data["fields"] = item.fields
        # What `hazards.services._record` and `portal.audit.audit_record` take for one event, many at once.
        event = {
            "hazard": hazard, "actor": actor, "actor_name": name,
            "action": HazardAction.LEDGER_IMPORT if created else HazardAction.UPDATE,
            "from_status": "" if created else status, "to_status": status,
            "comment": detail if created else f"{detail}（重新上传，更新）", "data": data,
        }  # fmt: skip
        audit = {
            "actor": actor, "actor_name": audit_name,
            "action": AuditAction.CREATE if created else AuditAction.UPDATE, "instance": hazard,
            "kind": created_kind if created else updated_kind,
            "extra": {"hazard_id": hazard.pk, "ledger_upload": upload_pk, "row": item.row},
            "before": None if created else item.before, "after": _snapshot(hazard, stamps),
            "detail": f"{detail} 第{item.row}行", "region_path": region_path,
        }  # fmt: skip
        events.append(event)
        audits.append(audit)
        if item.steps:
            for step_event, step_audit in _history_records(item, event, audit):
                events.append(step_event)
                audits.append(step_audit)
        if len(audits) >= RECORD_CHUNK:  # a chunk at a time: the snapshots of 10,000 hazards are never all held
            record_events_many(events, at=now)
            audit_record_many(audits, at=now)
            events, audits = [], []
    record_events_many(events, at=now)
    audit_record_many(audits, at=now)

    upload.status = LedgerUploadStatus.COMMITTED
    upload.committed_at = now
    upload.sheet_title = result.sheet_title[:100]
    upload.header_row = result.header_row
    upload.total_rows = len(result.rows)
    upload.created_count = result.created
    upload.updated_count = result.updated
    upload.unchanged_count = result.unchanged
    upload.error_count = 0
    upload.save()
    hazard_events.ledger_imported(
        actor=actor,
        actor_name=name if actor is None else "",
        upload=upload,
        enterprise=enterprise,
        detail=detail,
        summary=result.summary(),
    )
    _notify(creates=creates, enterprise=enterprise, actor=actor, result=result)
    _notify_rectified([*creates, *updates], enterprise=enterprise, actor=actor)


def _status_before(item: _Planned) -> str:
    """The hazard's status before the history steps of its row (its status when there are none)."""
    return item.steps[0][1] if item.steps else item.hazard.status


def _history_records(
    item: _Planned, event: dict[str, Any], audit: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """The event and audit row of each workflow step the row's history takes (what the step's service records:
    the step, from which status to which, and the hazard after it), after the row's own event and audit row."""
    hazard = item.hazard
    rectified = f"台账记载已整改，整改完成时间 {hazard.rectified_on:%Y-%m-%d}" if hazard.rectified_on else "台账记载"
    for action, from_status, to_status in item.steps:
        label = HazardAction(action).label
        yield (
            {**event, "action": action, "from_status": from_status, "to_status": to_status, "comment": rectified,
             "data": {**event["data"], "history": True}},
            {**audit, "action": AuditAction.UPDATE, "kind": STEP_KINDS[action], "before": None,
             "extra": {**audit["extra"], "step": action, "from_status": from_status, "to_status": to_status},
             "detail": f"隐患{label}：{rectified}（{audit['detail']}）"},
        )  # fmt: skip


def _notify_rectified(items: list[_Planned], *, enterprise: Enterprise, actor: User | None) -> None:
    """The town verifies what a ledger records as rectified (as after the workflow's 整改完成)."""
    moved = [item.hazard for item in items if item.steps]
    if moved:
        notify(
            recipients=town_staff(moved[0]),
            hazard=moved[0] if len(moved) == 1 else None,
            message=f"{enterprise.name}的隐患台账记载{len(moved)}条一般事故隐患已整改，请镇应急管理中心验收。",
            exclude=actor,
        )


def _notify(*, creates: list[_Planned], enterprise: Enterprise, actor: User | None, result: ImportResult) -> None:
    majors = [item.hazard for item in creates if item.hazard.level == HazardLevel.MAJOR]
    if majors:
        principals = enterprise_users(majors[0], [Role.ENTERPRISE_PRINCIPAL])
        notify(
            recipients=principals,
            hazard=majors[0] if len(majors) == 1 else None,
            message=f"{enterprise.name}的隐患台账导入了{len(majors)}条重大事故隐患，请企业主要负责人逐条确认签字上报。",
            exclude=actor,
        )
    if actor is not None and actor.enterprise_id == enterprise.pk:
        # The enterprise filed its ledger: its town is told (issue 13 §2).
        notify(
            recipients=User.objects.filter(is_active=True, role=Role.TOWN_STAFF, region_id=enterprise.town_id),
            hazard=None,
            message=f"{enterprise.name}上传了隐患台账：{result.summary()}。",
            kind=NotificationKind.INFO,
        )
    if actor is None or actor.enterprise_id != enterprise.pk:
        who = "系统" if actor is None else f"{actor.get_role_display()}{_actor_name(actor)}"
        notify(
            recipients=User.objects.filter(
                is_active=True, enterprise_id=enterprise.pk, role__in=[Role.ENTERPRISE_CLERK, Role.ENTERPRISE_PRINCIPAL]
            ),
            hazard=None,
            message=f"{who}代为上传了{enterprise.name}的隐患台账：{result.summary()}。",
            exclude=actor,
        )


def _new_upload(*, data: bytes, enterprise: Enterprise, actor: User | None, file_name: str) -> LedgerUpload:
    upload = LedgerUpload(
        enterprise=enterprise,
        original_name=(file_name or "隐患台账.xlsx")[:255],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
        uploaded_by_name=_actor_name(actor)[:150],
        uploaded_at=timezone.now(),
    )
    upload.file.save(f"{uuid.uuid4().hex}.xlsx", ContentFile(data), save=False)
    return upload


def _file_error(file_name: str, exc: SpreadsheetError) -> ImportResult:
    result = ImportResult(file_name=file_name)
    result.add_error(0, "", exc.message)
    return result


def _conflict(file_name: str) -> ImportResult:
    result = ImportResult(file_name=file_name)
    result.add_error(0, "", "保存时与他人刚提交的数据冲突（同一编号的隐患已被登记），未导入任何数据，请重新上传。")
    return result


@gc_paused()
def ledger_upload_create(
    *, actor: User, enterprise: Enterprise, source: Any, file_name: str = ""
) -> tuple[ImportResult, LedgerUpload | None]:
    """The preview of an uploaded ledger. When every row passes, the file is kept as a 待确认 upload."""
    check_uploader(actor, enterprise)
    try:
        data = read_bytes(source)
    except SpreadsheetError as exc:
        return _file_error(file_name, exc), None
    result, _ = _validate(data, enterprise=enterprise, actor=actor, file_name=file_name, lock=False)
    if not result.ok:
        return result, None
    upload = _new_upload(data=data, enterprise=enterprise, actor=actor, file_name=file_name)
    upload.sheet_title = result.sheet_title[:100]
    upload.header_row = result.header_row
    upload.total_rows = len(result.rows)
    upload.created_count = result.created
    upload.updated_count = result.updated
    upload.unchanged_count = result.unchanged
    stored = upload.file.name
    try:
        with transaction.atomic():
            upload.save()
            hazard_events.ledger_uploaded(actor=actor, upload=upload, enterprise=enterprise, summary=result.summary())
    except Exception:
        upload.file.storage.delete(stored)
        raise
    return result, upload


@gc_paused()
def ledger_upload_preview(*, actor: User, upload: LedgerUpload) -> ImportResult:
    """The preview of a stored upload, validated again against the hazards as they are now."""
    check_uploader(actor, upload.enterprise)
    with upload.file.open("rb") as handle:
        data = handle.read()
    result, _ = _validate(data, enterprise=upload.enterprise, actor=actor, file_name=upload.original_name, lock=False)
    return result


@gc_paused()
def ledger_upload_commit(*, actor: User, upload: LedgerUpload) -> ImportResult:
    """Import a 待确认 upload: re-read and re-validate the stored file, then write every row or none.

    Only the user who uploaded it may confirm it. When the file no longer passes (the hazards
    changed since the preview), nothing is written and the upload is marked 确认时未通过检查.
    """
    check_uploader(actor, upload.enterprise)
    try:
        with transaction.atomic():
            locked = LedgerUpload.objects.select_for_update().select_related("enterprise__town").get(pk=upload.pk)
            if locked.uploaded_by_id != actor.pk:
                raise PermissionDenied("只有上传该台账的用户可以确认导入。")
            if locked.status != LedgerUploadStatus.PENDING:
                raise LedgerError(f"该台账已{locked.get_status_display()}，不能再次确认导入；如有修改，请重新上传。")
            enterprise = Enterprise.objects.select_for_update().select_related("town").get(pk=locked.enterprise_id)
            with locked.file.open("rb") as handle:
                data = handle.read()
            result, planned = _validate(
                data, enterprise=enterprise, actor=actor, file_name=locked.original_name, lock=True
            )
            if result.ok:
                _write(planned, result=result, enterprise=enterprise, actor=actor, upload=locked)
                result.committed = True
            else:
                locked.status = LedgerUploadStatus.FAILED
                locked.error_count = len(result.errors)
                locked.save(update_fields=["status", "error_count"])
                hazard_events.ledger_refused(actor=actor, upload=locked, errors=len(result.errors))
    except IntegrityError:
        LedgerUpload.objects.filter(pk=upload.pk, status=LedgerUploadStatus.PENDING).update(
            status=LedgerUploadStatus.FAILED
        )
        return _conflict(upload.original_name)
    upload.refresh_from_db()
    return result


@gc_paused()
def ledger_import(
    *,
    source: Any,
    enterprise: Enterprise,
    actor: User | None = None,
    file_name: str = "",
    dry_run: bool = False,
) -> ImportResult:
    """Validate and import in one step (``manage.py import_ledger``, scripts and tests): every row or none.

    The file is kept as an upload only when the import is written; a dry run or a file with any
    error writes nothing at all.
    """
    check_uploader(actor, enterprise)
    try:
        data = read_bytes(source)
    except SpreadsheetError as exc:
        return _file_error(file_name, exc)
    if dry_run:
        result, _ = _validate(data, enterprise=enterprise, actor=actor, file_name=file_name, lock=False)
        return result
    stored = ""
    try:
        with transaction.atomic():
            locked = Enterprise.objects.select_for_update().select_related("town").get(pk=enterprise.pk)
            result, planned = _validate(data, enterprise=locked, actor=actor, file_name=file_name, lock=True)
            if not result.ok:
                return result
            upload = _new_upload(data=data, enterprise=locked, actor=actor, file_name=file_name)
            stored = upload.file.name
            upload.save()
            _write(planned, result=result, enterprise=locked, actor=actor, upload=upload)
            result.committed = True
            return result
    except IntegrityError:
        if stored:
            LedgerUpload.file.field.storage.delete(stored)
        return _conflict(file_name)
    except Exception:
        if stored:
            LedgerUpload.file.field.storage.delete(stored)
        raise


# --------------------------------------------------------------------------------------------
# The template
# --------------------------------------------------------------------------------------------

TEMPLATE_FIELDS = [name for name in LEDGER_COLUMNS if name != "serial"]


def _template_value(hazard: Hazard, name: str) -> Any:
    if name == "criterion":
        return hazard.criterion_text or (hazard.criterion.code if hazard.criterion else "")
    if name == "level":
        return "重大" if hazard.level == HazardLevel.MAJOR else "一般"
    value = getattr(hazard, name)
    if name in ("category", "source"):
        return _display(hazard, name)
    return value


def ledger_template(*, user: User | None = None, enterprise: Enterprise | None = None) -> Any:
    """The .xlsx template (headers, a sheet of allowed values); with an enterprise, filled with its hazards
    (in the user's scope) so that it can be edited and uploaded again. Every text cell is formula-neutralised."""
    headers = [("*" if name in REQUIRED else "") + LABELS[name] for name in TEMPLATE_FIELDS]
    rows: list[list[Any]] = []
    title = "隐患排查治理台账"
    if enterprise is not None:
        title = f"{enterprise.name}隐患排查治理台账"
        hazards = Hazard.objects.visible_to(user) if user is not None else Hazard.objects.all()
        for hazard in hazards.filter(enterprise=enterprise).select_related("criterion").order_by("found_on", "id"):
            rows.append([_template_value(hazard, name) for name in TEMPLATE_FIELDS])
    notes: list[list[Any]] = [["列名", "是否必填", "填写说明"]]
    explanations = {
        "ledger_number": "企业自己的隐患编号；重新上传时按编号更新同一条隐患（无编号时按发现日期和隐患内容识别）；"
        "“序号”只是行号，不作为隐患编号；一个编号只用于一条隐患",
        "description": "隐患的具体情况",
        "found_on": "日期，如 2024-05-01、2024/5/1、2024.5.1 或 2024年5月1日",
        "level": "一般 或 重大（也可写一般事故隐患、重大事故隐患）",
        "category": "可选：" + "、".join(label for _, label in HazardCategory.choices) + "；不填为“未分类”",
        "source": "可选：" + "、".join(label for _, label in HazardSource.choices) + "；不填为“企业自查”",
        "criterion": "重大事故隐患必填：矿安〔2022〕88号的条目，如“露天矿山第（七）项”或“二（七）”",
        "funds_wan": "单位：万元",
        "deadline": "日期",
        "rectification_note": "整改进展或完成情况；已整改完成的写明“已整改”",
        "rectified_on": "一般事故隐患已整改的，填写整改完成日期（整改情况写明“已整改”），导入后为“已整改”，待镇验收；"
        "重大事故隐患按销号流程办理，此列不导入",
    }
    for name in TEMPLATE_FIELDS:
        notes.append([LABELS[name], "是" if name in REQUIRED else "否", explanations.get(name, "")])
    notes.append([])
    notes.append(
        [
            "说明：表头可以在前10行内的任意一行，上方可有标题行；列名可用常见写法（如“存在问题”“排查日期”）；"
            "表格末尾的填表人、审核人、签字等行会被忽略。重大事故隐患导入后需企业主要负责人确认签字上报。"
        ]
    )
    return write_table(headers, rows, sheet_title="隐患台账", title=title, notes={"填写说明": notes})


__all__ = [
    "LEDGER_COLUMNS",
    "REFUSED_MESSAGE",
    "REQUIRED",
    "LedgerError",
    "check_uploader",
    "enterprise_for_upload",
    "ledger_import",
    "ledger_template",
    "ledger_upload_commit",
    "ledger_upload_create",
    "ledger_upload_preview",
    "ledger_validate",
    "may_upload",
    "uploadable_enterprises",
]
