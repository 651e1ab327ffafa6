"""The figures of each table as typed, immutable data: what `figures` computes, what the builders draw,
and what a signed version keeps as its JSON snapshot (`to_json` / `from_json` round-trip exactly).
"""

from __future__ import annotations

import dataclasses
import datetime
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

from reporting.layouts import ACCOUNTABILITY, WINTER, Layout

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def chinese_date(value: datetime.date | None) -> str:
    """2024年5月1日, as documents write dates."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass(frozen=True)
class Period:
    """The days a table counts.

    `start`–`end`: the reporting month (本月), clipped to the campaign's period.
    `cumulative_start`–`end`: from the campaign's start to the end of the reporting period (累计;
    also what the 追责问责情况统计表 calls 当月累计汇总数据).
    """

    month: datetime.date  # the first day of the reporting month
    start: datetime.date
    end: datetime.date
    cumulative_start: datetime.date

    @property
    def month_label(self) -> str:
        return f"{self.month.year}年{self.month.month}月"

    @property
    def month_code(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def description(self) -> str:
        return (
            f"本月：{chinese_date(self.start)}至{chinese_date(self.end)}；"
            f"累计：{chinese_date(self.cumulative_start)}至{chinese_date(self.end)}"
        )


@dataclass(frozen=True)
class Heading:
    """What stands above and below the grid: title, unit, date, the people."""

    title: str
    unit_name: str  # 填表单位 / 填报单位
    region_code: str
    region_name: str
    campaign_name: str
    period: Period
    filled_on: datetime.date | None = None  # 填表日期
    filled_by: str = ""  # 填表人
    filler_phone: str = ""  # 填表人电话
    leader_name: str = ""  # 分管负责人（签字）: set when the county leader signs
    version_label: str = ""  # e.g. "第2版 草稿"; empty on a signed file


@dataclass(frozen=True)
class AccountabilityRow:
    talk_enterprise: int = 0
    talk_parent: int = 0
    penalty_enterprise_count: int = 0
    penalty_enterprise_amount: Decimal = ZERO
    penalty_principal_count: int = 0
    penalty_principal_amount: Decimal = ZERO
    interview_enterprise: int = 0
    interview_principal: int = 0
    interview_parent: int = 0
    interview_parent_leader: int = 0
    discipline: int = 0
    reassignment: int = 0
    dismissal: int = 0
    exposure_enterprise: int = 0
    exposure_principal: int = 0
    joint_punishment_principal: int = 0
    joint_punishment_enterprise: int = 0
    responsibility_list: int = 0


@dataclass(frozen=True)
class WinterRow:
    teams: int = 0
    enterprises_inspected: int = 0
    general_found: int = 0
    general_rectified: int = 0
    major_found: int = 0
    major_rectified: int = 0
    ordered_rectification: int = 0
    fine_amount: Decimal = ZERO
    suspension: int = 0
    public_exposure_case: int = 0
    illegal_subcontracting: int = 0
    labour_dispatch: int = 0


@dataclass(frozen=True)
class MajorHazardLine:
    number: int
    hazard_id: int
    enterprise: str
    town: str
    industry: str
    supervision_unit: str
    detail: str  # 重大隐患明细及整改计划


@dataclass(frozen=True)
class ProblemLine:
    number: int
    hazard_id: int
    enterprise: str
    town: str
    description: str
    location: str
    level: str
    source: str
    found_on: datetime.date | None


@dataclass(frozen=True)
class RectificationLine:
    number: int
    hazard_id: int
    enterprise: str
    description: str
    measures: str
    funds_wan: Decimal | None
    deadline: datetime.date | None
    status: str
    rectified_on: datetime.date | None


@dataclass(frozen=True)
class ResponsibilityLine:
    number: int
    hazard_id: int
    enterprise: str
    description: str
    responsible_unit: str
    responsible_person: str
    principal: str
    supervising_unit: str


@dataclass(frozen=True)
class AccountabilityTable:
    heading: Heading
    row: AccountabilityRow

    layout: ClassVar[Layout] = ACCOUNTABILITY

    def cells(self) -> dict[str, int | Decimal]:
        return {key: getattr(self.row, key) for key in row_keys(AccountabilityRow)}


@dataclass(frozen=True)
class WinterTable:
    heading: Heading
    month: WinterRow
    cumulative: WinterRow
    major_hazards: tuple[MajorHazardLine, ...] = ()

    layout: ClassVar[Layout] = WINTER

    def cells(self) -> dict[str, int | Decimal]:
        keys = row_keys(WinterRow)
        return {
            **{f"month.{key}": getattr(self.month, key) for key in keys},
            **{f"cumulative.{key}": getattr(self.cumulative, key) for key in keys},
        }


@dataclass(frozen=True)
class ThreeListsTable:
    heading: Heading
    problems: tuple[ProblemLine, ...] = ()
    rectifications: tuple[RectificationLine, ...] = ()
    responsibilities: tuple[ResponsibilityLine, ...] = ()

    def cells(self) -> dict[str, int | Decimal]:
        return {
            "problems": len(self.problems),
            "rectifications": len(self.rectifications),
            "responsibilities": len(self.responsibilities),
        }


AnyTable = AccountabilityTable | WinterTable | ThreeListsTable


def row_keys(row_type: type) -> list[str]:
    return [item.name for item in dataclasses.fields(row_type)]


# --------------------------------------------------------------------------------------------
# JSON snapshot
# --------------------------------------------------------------------------------------------


# a dataclass type → the names of its init fields (dataclasses.fields() per row was most of the encoding time)
_INIT_FIELDS: dict[type, tuple[str, ...]] = {}
_PLAIN = (str, int, bool, float, type(None))


def _encode(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    names = _INIT_FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _INIT_FIELDS[kind] = tuple(item.name for item in dataclasses.fields(value) if item.init)
    if names is not None:
        return {name: _encode(getattr(value, name)) for name in names}
    if isinstance(value, Decimal):
        return str(value.quantize(CENT))
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value


def to_json(table: Any) -> dict[str, Any]:
    """A JSON-safe dict of a figures dataclass (Decimal as "12.50", dates as ISO strings)."""
    return typing.cast(dict[str, Any], _encode(table))


_T = TypeVar("_T")


def _decode(kind: Any, value: Any) -> Any:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        options = [option for option in get_args(kind) if option is not type(None)]
        return _decode(options[0], value)
    if origin is tuple:
        item_type = get_args(kind)[0]
        return tuple(_decode(item_type, item) for item in value)
    if kind is Decimal:
        return Decimal(value).quantize(CENT)
    if kind is datetime.date:
        return datetime.date.fromisoformat(value) if value else None
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return from_json(kind, value)
    return value


def from_json(kind: type[_T], data: dict[str, Any]) -> _T:
    """The dataclass back from `to_json`; unknown keys are ignored, missing ones take their defaults."""
    hints = get_type_hints(kind)
    values = {
        item.name: _decode(hints[item.name], data[item.name])
        for item in dataclasses.fields(kind)  # type: ignore[arg-type]
        if item.init and item.name in data
    }
    return kind(**values)


TABLE_TYPES: dict[str, type] = {
    "accountability": AccountabilityTable,
    "winter": WinterTable,
    "three_lists": ThreeListsTable,
}
