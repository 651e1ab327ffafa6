"""The fixed layouts of the monthly tables, word for word from the seed attachments.

A header is a row of groups; a group has columns; a column has one or more leaves (the cells
that hold numbers), each with its unit. Three header rows follow from it:

    row 1  group labels      (a group with one unlabelled column spans rows 1–2)
    row 2  column labels     (a column with two leaves spans both, e.g. 次 and 万元)
    row 3  units

The leaf keys are the field names of the figures dataclasses in `reporting.tables`; a leaf fed by
enforcement records names its column of `inspections.choices.ENFORCEMENT_COLUMNS`, which alone
says which kinds count there and how (records, distinct enterprises, distinct parent companies, 万元).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Leaf:
    """A cell that holds a number. `column` names the column of `inspections.choices` it is fed by
    (the same as `key` except for 行政处罚, whose one column has two cells: 次 and 万元)."""

    key: str
    unit: str
    is_amount: bool = False
    column: str = ""

    @property
    def source_column(self) -> str:
        return self.column or self.key


@dataclass(frozen=True)
class Column:
    label: str | None  # None: the group label stands alone over the unit (spans rows 1–2)
    leaves: tuple[Leaf, ...]


@dataclass(frozen=True)
class Group:
    label: str
    columns: tuple[Column, ...]

    @property
    def width(self) -> int:
        return sum(len(column.leaves) for column in self.columns)


@dataclass(frozen=True)
class Layout:
    title: str
    groups: tuple[Group, ...]
    row_label: str | None = None  # a first column naming each data row (冬季行动工作报表: 行业)

    def leaves(self) -> Iterator[Leaf]:
        for group in self.groups:
            for column in group.columns:
                yield from column.leaves

    def leaf(self, key: str) -> Leaf:
        for leaf in self.leaves():
            if leaf.key == key:
                return leaf
        raise KeyError(key)

    def label_of(self, key: str) -> str:
        """The full name of a leaf for messages and drill-down pages: 惩处情况 / 非煤矿山企业行政处罚（万元）."""
        for group in self.groups:
            for column in group.columns:
                for leaf in column.leaves:
                    if leaf.key == key:
                        unit = leaf.unit.strip("()（）")
                        parts = [group.label] + ([column.label] if column.label else [])
                        return f"{' / '.join(parts)}（{unit}）"
        raise KeyError(key)

    @property
    def width(self) -> int:
        return sum(group.width for group in self.groups) + (1 if self.row_label else 0)


def _one(label: str, key: str, unit: str, *, is_amount: bool = False) -> Group:
    return Group(label, (Column(None, (Leaf(key, unit, is_amount),)),))


# 追责问责情况统计表 (泽应急发〔2024〕83号 附件)
ACCOUNTABILITY = Layout(
    title="追责问责情况统计表",
    groups=(
        Group(
            "谈话情况",
            (
                Column("非煤矿山企业", (Leaf("talk_enterprise", "人次"),)),
                Column("上级企业", (Leaf("talk_parent", "家"),)),
            ),
        ),
        Group(
            "惩处情况",
            (
                Column(
                    "非煤矿山企业行政处罚",
                    (
                        Leaf("penalty_enterprise_count", "次", column="penalty_enterprise"),
                        Leaf("penalty_enterprise_amount", "万元", is_amount=True, column="penalty_enterprise"),
                    ),
                ),
                Column(
                    "非煤矿山企业主要负责人行政处罚",
                    (
                        Leaf("penalty_principal_count", "次", column="penalty_principal"),
                        Leaf("penalty_principal_amount", "万元", is_amount=True, column="penalty_principal"),
                    ),
                ),
            ),
        ),
        Group(
            "约谈情况",
            (
                Column("非煤矿山企业", (Leaf("interview_enterprise", "处"),)),
                Column("非煤矿山企业主要负责人", (Leaf("interview_principal", "人次"),)),
                Column("上级企业", (Leaf("interview_parent", "家"),)),
                Column("上级企业主要负责人或分管负责人", (Leaf("interview_parent_leader", "人次"),)),
            ),
        ),
        Group(
            "责任追究情况",
            (
                Column("党纪政纪处理", (Leaf("discipline", "人次"),)),
                Column("调整工作岗位", (Leaf("reassignment", "人次"),)),
                Column("解聘", (Leaf("dismissal", "人数"),)),
            ),
        ),
        Group(
            "通报曝光情况",
            (
                Column("非煤矿山企业", (Leaf("exposure_enterprise", "处"),)),
                Column("非煤矿山企业主要负责人", (Leaf("exposure_principal", "人次"),)),
            ),
        ),
        Group(
            "纳入联合惩戒对象",
            (
                Column("非煤矿山企业主要负责人", (Leaf("joint_punishment_principal", "人次"),)),
                Column("非煤矿山企业", (Leaf("joint_punishment_enterprise", "处"),)),
            ),
        ),
        _one("纳入安全生产主体责任名单非煤矿山企业", "responsibility_list", "处"),
    ),
)

ACCOUNTABILITY_SIGNATURES = ("分管负责人（签字）：", "填表人：", "填表人电话：")
ACCOUNTABILITY_NOTE = "备注：本表由县（市、区）应急管理局填报，表中数据为当月累计汇总数据"

# {county}非煤矿山行业安全生产“百日攻坚”冬季行动工作报表 (泽应急发〔2023〕331号 附件)
WINTER_TITLE = "{county}非煤矿山行业安全生产“百日攻坚”冬季行动工作报表"
WINTER = Layout(
    title=WINTER_TITLE,
    row_label="行业",
    groups=(
        _one("成立督查组", "teams", "(个)"),
        _one("排查企业", "enterprises_inspected", "(家)"),
        Group(
            "一般隐患",
            (
                Column("排查", (Leaf("general_found", "(项)"),)),
                Column("已整改", (Leaf("general_rectified", "(项)"),)),
            ),
        ),
        Group(
            "重大隐患",
            (
                Column("排查", (Leaf("major_found", "(项)"),)),
                Column("已整改", (Leaf("major_rectified", "(项)"),)),
            ),
        ),
        _one("责令限期整改企业数", "ordered_rectification", "(家)"),
        _one("行政罚款金额", "fine_amount", "(万)", is_amount=True),
        _one("停产整顿数", "suspension", "(家)"),
        _one("公开曝光案例数", "public_exposure_case", "(个)"),
        _one("查处违法分包转包和挂靠资质行为数", "illegal_subcontracting", "(家)"),
        _one("查处劳务派遣用工违法行为数", "labour_dispatch", "(个)"),
    ),
)
WINTER_INDUSTRY = "非煤矿山"
WINTER_CUMULATIVE = "累计"

MAJOR_HAZARDS_TITLE = "重大隐患明细"
MAJOR_HAZARD_COLUMNS = ("序号", "企业名称", "所在镇", "行业类别", "挂牌督办单位", "重大隐患明细及整改计划")

# 问题、整改、责任“三清单” (泽应急发〔2023〕331号: 每月25日前报送……问题、整改、责任“三清单”)
THREE_LISTS_TITLE = "{unit}“百日攻坚”冬季行动问题、整改、责任“三清单”"
PROBLEM_LIST_TITLE = "问题清单"
PROBLEM_COLUMNS = ("序号", "企业名称", "所在镇", "问题隐患", "隐患部位", "隐患级别", "隐患来源", "发现日期")
RECTIFICATION_LIST_TITLE = "整改清单"
RECTIFICATION_COLUMNS = (
    "序号",
    "企业名称",
    "问题隐患",
    "整改措施",
    "整改资金（万元）",
    "整改时限",
    "整改状态",
    "整改完成日期",
)
RESPONSIBILITY_LIST_TITLE = "责任清单"
RESPONSIBILITY_COLUMNS = ("序号", "企业名称", "问题隐患", "责任单位", "责任人", "企业主要负责人", "监管责任单位")

LAYOUTS: dict[str, Layout] = {"accountability": ACCOUNTABILITY, "winter": WINTER}


@dataclass(frozen=True)
class HeaderCell:
    """One cell of the three header rows: 0-based row and column, spans, text."""

    row: int
    col: int
    rowspan: int
    colspan: int
    text: str
    leaf_key: str | None = None  # set on unit cells

    @property
    def is_merged(self) -> bool:
        return self.rowspan > 1 or self.colspan > 1


HEADER_ROWS = 3


def header_cells(layout: Layout) -> list[HeaderCell]:
    """The header of a layout as positioned cells, shared by the Excel and PDF builders and the page."""
    cells: list[HeaderCell] = []
    col = 0
    if layout.row_label:
        cells.append(HeaderCell(0, 0, HEADER_ROWS, 1, layout.row_label))
        col = 1
    for group in layout.groups:
        if len(group.columns) == 1 and group.columns[0].label is None:
            cells.append(HeaderCell(0, col, 2, group.width, group.label))
        else:
            cells.append(HeaderCell(0, col, 1, group.width, group.label))
        for column in group.columns:
            if column.label is not None:
                cells.append(HeaderCell(1, col, 1, len(column.leaves), column.label))
            for leaf in column.leaves:
                cells.append(HeaderCell(2, col, 1, 1, leaf.unit, leaf.key))
                col += 1
    return cells


def header_rows(layout: Layout) -> list[list[HeaderCell]]:
    """The same cells grouped by row, in column order (for HTML, where covered cells are simply absent)."""
    rows: list[list[HeaderCell]] = [[] for _ in range(HEADER_ROWS)]
    for cell in header_cells(layout):
        rows[cell.row].append(cell)
    return rows
