"""Figures made by hand, for the builder tests (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from reporting.tables import (
    AccountabilityRow,
    AccountabilityTable,
    Heading,
    MajorHazardLine,
    Period,
    ProblemLine,
    RectificationLine,
    ResponsibilityLine,
    ThreeListsTable,
    WinterRow,
    WinterTable,
)

PERIOD = Period(
    month=dt.date(2023, 12, 1),
    start=dt.date(2023, 12, 1),
    end=dt.date(2023, 12, 31),
    cumulative_start=dt.date(2023, 11, 3),
)


def heading(title: str, **overrides: object) -> Heading:
    values: dict[str, object] = {
        "title": title,
        "unit_name": "泽州县应急管理局",
        "region_code": "140525",
        "region_name": "泽州县",
        "campaign_name": "非煤矿山行业安全生产“百日攻坚”冬季行动",
        "period": PERIOD,
        "filled_on": dt.date(2023, 12, 23),
        "filled_by": "李建光",
        "filler_phone": "0356-2066363",
        "leader_name": "",
    }
    values.update(overrides)
    return Heading(**values)  # type: ignore[arg-type]


def accountability(**overrides: object) -> AccountabilityTable:
    row = AccountabilityRow(
        talk_enterprise=11,
        talk_parent=2,
        penalty_enterprise_count=3,
        penalty_enterprise_amount=Decimal("12.5"),
        penalty_principal_count=1,
        penalty_principal_amount=Decimal("0.75"),
        interview_enterprise=4,
        interview_principal=5,
        interview_parent=1,
        interview_parent_leader=6,
        discipline=7,
        reassignment=8,
        dismissal=9,
        exposure_enterprise=13,
        exposure_principal=14,
        joint_punishment_principal=15,
        joint_punishment_enterprise=16,
        responsibility_list=17,
    )
    return AccountabilityTable(heading=heading("追责问责情况统计表", **overrides), row=row)


def major_lines(count: int) -> tuple[MajorHazardLine, ...]:
    return tuple(
        MajorHazardLine(
            number=index,
            hazard_id=1000 + index,
            enterprise=f"泽州县第{index}石料有限公司",
            town="巴公镇",
            industry="金属非金属露天矿山",
            supervision_unit="泽州县应急管理局",
            detail=(
                f"第{index}号：采场最终边坡台阶高度超过设计要求，存在坍塌风险。"
                "整改计划：按设计削坡减载，2024年1月15日前完成；责任人张三；资金5.00万元。"
            ),
        )
        for index in range(1, count + 1)
    )


def winter(lines: int = 3, **overrides: object) -> WinterTable:
    return WinterTable(
        heading=heading("泽州县非煤矿山行业安全生产“百日攻坚”冬季行动工作报表", **overrides),
        month=WinterRow(
            teams=2,
            enterprises_inspected=12,
            general_found=30,
            general_rectified=25,
            major_found=4,
            major_rectified=1,
            ordered_rectification=3,
            fine_amount=Decimal("12.5"),
            suspension=1,
            public_exposure_case=5,
            illegal_subcontracting=6,
            labour_dispatch=7,
        ),
        cumulative=WinterRow(
            teams=3,
            enterprises_inspected=20,
            general_found=58,
            general_rectified=51,
            major_found=lines,
            major_rectified=2,
            ordered_rectification=8,
            fine_amount=Decimal("20.25"),
            suspension=2,
            public_exposure_case=9,
            illegal_subcontracting=10,
            labour_dispatch=11,
        ),
        major_hazards=major_lines(lines),
    )


def three_lists() -> ThreeListsTable:
    return ThreeListsTable(
        heading=heading("巴公镇“百日攻坚”冬季行动问题、整改、责任“三清单”", unit_name="巴公镇应急管理中心"),
        problems=(
            ProblemLine(
                1,
                7,
                "泽州县示范矿业有限公司",
                "巴公镇",
                "爆破警戒点未设置明显标志",
                "爆破区",
                "一般事故隐患",
                "镇检查",
                dt.date(2023, 12, 5),
            ),
            ProblemLine(
                2,
                8,
                "巴公镇第二石料厂",
                "巴公镇",
                '=HYPERLINK("http://x")',
                "运输道路",
                "重大事故隐患",
                "企业自查",
                dt.date(2023, 12, 9),
            ),
        ),
        rectifications=(
            RectificationLine(
                1,
                7,
                "泽州县示范矿业有限公司",
                "爆破警戒点未设置明显标志",
                "设置警示标志",
                Decimal("0.30"),
                dt.date(2023, 12, 20),
                "已验收",
                dt.date(2023, 12, 18),
            ),
            RectificationLine(2, 8, "巴公镇第二石料厂", "运输道路过窄", "拓宽道路", None, None, "整改中", None),
        ),
        responsibilities=(
            ResponsibilityLine(
                1,
                7,
                "泽州县示范矿业有限公司",
                "爆破警戒点未设置明显标志",
                "爆破队",
                "赵六",
                "王建国",
                "巴公镇应急管理中心",
            ),
        ),
    )
