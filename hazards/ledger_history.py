"""What a ledger row says about a hazard's past: the rectification it records (整改情况 + 整改完成时间).

The rule (read by `hazards.ledger` for the preview, the commit, the page, the API and the CLI alike):

* A **general** hazard whose row says 已整改 (`says_rectified`) and gives a 整改完成时间 arrives — new or
  already registered — as 已整改 on that date, waiting for the town's 验收: the steps the workflow would
  take (`rectification_steps`: 开始整改, then 整改完成, read from the rule table in `hazards.permissions`)
  are recorded as the hazard's events, one per step, with the uploader as the one who recorded the
  rectification (so that, as in the workflow, they cannot verify it themselves). The town still verifies.
* A date without a statement that the hazard was rectified, or with a statement that it was not
  (“整改中”, “未整改”), is an error on that row: the ledger contradicts itself.
* A **major** hazard's 整改情况 is kept and shown, but only the workflow moves it (申请销号 with evidence,
  销号 by the county): its row's 整改完成时间 is not taken.
* A hazard already rectified, verified or closed is not moved again.
"""

from __future__ import annotations

import re
import unicodedata

from hazards.choices import HazardAction, HazardLevel, HazardStatus
from hazards.permissions import rule_for

# The statements of a finished rectification, and the words that deny or qualify one.
RECTIFIED_WORDS = (
    "已整改", "整改完成", "完成整改", "整改完毕", "已完成", "已落实", "已消除", "已处理", "已闭环", "已修复", "已更换",
)  # fmt: skip
NOT_RECTIFIED_WORDS = ("未", "尚未", "没有", "正在", "整改中", "进行中", "部分", "一半", "%", "％")
# The workflow's steps from a reported hazard to 已整改, in order (each taken only where the rule table has it).
HISTORY_ACTIONS = (HazardAction.START_RECTIFICATION, HazardAction.MARK_RECTIFIED)

_SPACES = re.compile(r"\s+")


def _normal(note: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", note or ""))


def says_not_rectified(note: str) -> bool:
    """The note denies or qualifies the rectification (“整改中”, “未整改”, “已完成50%”)."""
    text = _normal(note)
    return any(word in text for word in NOT_RECTIFIED_WORDS)


def says_rectified(note: str) -> bool:
    """The note states a finished rectification (“已整改”, “已完成整改，更换门锁”)."""
    text = _normal(note)
    return any(word in text for word in RECTIFIED_WORDS) and not says_not_rectified(text)


def rectification_steps(level: str, status: str) -> list[tuple[str, str, str]]:
    """(action, from status, to status) of the workflow's steps from `status` to 已整改; [] when there is no
    such path (a major hazard, or one already rectified, verified or closed)."""
    steps: list[tuple[str, str, str]] = []
    for action in HISTORY_ACTIONS:
        rule = rule_for(action, level, status)
        if rule is None or rule.target is None:
            continue
        steps.append((str(action), status, str(rule.target)))
        status = rule.target
    return steps if status == HazardStatus.RECTIFIED and level == HazardLevel.GENERAL else []


__all__ = ["HISTORY_ACTIONS", "rectification_steps", "says_not_rectified", "says_rectified"]
