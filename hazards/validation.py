"""The date and criterion rules of a hazard, declared once: the services (and so the pages and the API,
which call them) and the ledger import (`hazards.ledger`, which writes in bulk) read them here.

Each rule answers {field: message} (empty when the values pass). A message comes in two forms of the same
rule: ``dated=False`` for a form or an API field, where the value stands next to the message, and
``dated=True`` for a ledger row, where the message is the only place the user sees the dates it compares.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from hazards.choices import HazardLevel
from portal.validators import validate_plausible_date

if TYPE_CHECKING:
    from hazards.models import MajorHazardCriterion

MAJOR_NEEDS_CRITERION = "重大事故隐患必须选择判定依据（矿安〔2022〕88号的条目）。"


def _day(value: datetime.date) -> str:
    return f"{value:%Y-%m-%d}"


def plausible_date_errors(**dates: datetime.date | None) -> dict[str, str]:
    """Every date lies in the plausible range (`portal.validators.validate_plausible_date`)."""
    errors: dict[str, str] = {}
    for name, value in dates.items():
        try:
            validate_plausible_date(value)
        except ValidationError as exc:
            errors[name] = exc.messages[0]
    return errors


def hazard_date_errors(
    *, found_on: datetime.date | None, deadline: datetime.date | None, today: datetime.date, dated: bool = False
) -> dict[str, str]:
    """发现日期 not after today, both dates plausible, 整改时限 not before 发现日期."""
    errors = plausible_date_errors(found_on=found_on, deadline=deadline)
    if found_on is not None and found_on > today:
        # "Not after today" wins over the range for a future 发现日期.
        errors["found_on"] = f"发现日期不能晚于今天（{_day(today)}）。" if dated else "发现日期不能晚于今天。"
    if found_on is not None and deadline is not None and deadline < found_on and "deadline" not in errors:
        errors["deadline"] = (
            f"整改时限（{_day(deadline)}）不能早于发现日期（{_day(found_on)}）。"
            if dated
            else "整改时限不能早于发现日期。"
        )
    return errors


def rectified_on_errors(
    *, rectified_on: datetime.date, found_on: datetime.date, today: datetime.date, dated: bool = False
) -> dict[str, str]:
    """整改完成日期 plausible, not after today, not before 发现日期 (the first rule broken)."""
    errors = plausible_date_errors(rectified_on=rectified_on)
    if errors:
        return errors
    label = "整改完成时间" if dated else "整改完成日期"  # a ledger's column, a form's field
    if rectified_on > today:
        return {"rectified_on": f"{label}不能晚于今天（{_day(today)}）。" if dated else f"{label}不能晚于今天。"}
    if rectified_on < found_on:
        message = (
            f"{label}（{_day(rectified_on)}）不能早于发现日期（{_day(found_on)}）。"
            if dated
            else f"{label}不能早于发现日期。"
        )
        return {"rectified_on": message}
    return {}


def criterion_errors(*, level: str, criterion: MajorHazardCriterion | None, at_path: str) -> dict[str, str]:
    """A major hazard cites an active item of 矿安〔2022〕88号 that applies where the enterprise is (a county's
    own items only in that county); a general hazard cites none."""
    if level != HazardLevel.MAJOR:
        return {"criterion": "一般事故隐患不填写重大事故隐患判定依据。"} if criterion is not None else {}
    if criterion is None:
        return {"criterion": MAJOR_NEEDS_CRITERION}
    if not criterion.applies_at(at_path):
        return {"criterion": "判定依据不存在或已停用。"}
    if not criterion.is_active:
        return {"criterion": f"判定依据“{criterion}”已停用，请选择有效条目。"}
    return {}


__all__ = [
    "MAJOR_NEEDS_CRITERION",
    "criterion_errors",
    "hazard_date_errors",
    "plausible_date_errors",
    "rectified_on_errors",
]
