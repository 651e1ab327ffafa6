"""判定依据: reading what ledgers write ("露天矿山第（七）项", "二（六）", "第七项", …) as one catalogue item.

The standard 《金属非金属矿山重大事故隐患判定标准》(矿安〔2022〕88号) has three parts in this order:
一、地下矿山 (32 items), 二、露天矿山 (13 items), 三、尾矿库 (19 items). Items are labelled (一) … (三十二)
within their part; some have numbered sub-items ("1." …). Ledgers cite an item by part and label in
many spellings; `match_criterion_reference` maps any of them to one item or says, in Chinese, why not.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hazards.choices import (
    INDUSTRY_MINE_TYPE,
    MAIN_STANDARD_DOCUMENT,
    MAIN_STANDARD_TITLE,
    SECTION_MINE_TYPE,
    MineType,
)

if TYPE_CHECKING:
    from hazards.models import MajorHazardCriterion

_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "一二三四五六七八九十"
_NUMBER = rf"(\d{{1,3}}|[{_CN}]{{1,4}})"

_MINE_TYPE_WORDS: list[tuple[str, str]] = [
    ("地下矿山", MineType.UNDERGROUND),
    ("露天矿山", MineType.OPEN_PIT),
    ("尾矿库", MineType.TAILINGS),
    ("地下", MineType.UNDERGROUND),
    ("露天", MineType.OPEN_PIT),
]

# 矿安〔2022〕88号 in its usual spellings (〔〕, [], (), 【】, or no brackets at all).
_DOCUMENT = re.compile(r"矿安[〔\[(【]?(\d{4})[〕\])】]?第?(\d{1,4})号")
_TITLE = re.compile(r"《[^》]*》")
_NOISE_WORDS = [
    MAIN_STANDARD_TITLE,
    "重大事故隐患判定标准",
    "判定标准",
    "金属非金属",
    "重大生产安全事故隐患",
    "重大事故隐患",
    "判定依据",
    "依据",
    "根据",
    "规定",
    "属于",
    "符合",
    "情形",
    "的",
]
_PART = re.compile(r"第([一二三])(?:部分|章|节)")
_SECTION = re.compile(r"(?:^|(?<=[^一二三四五六七八九十\d]))([一二三])[、.,，]?(?=\()")
_BRACKET_ITEM = re.compile(rf"\({_NUMBER}\)")
_ORDINAL_ITEM = re.compile(rf"第{_NUMBER}(?:项|条|款)?")
_BARE_ITEM = re.compile(rf"^{_NUMBER}(?:项|条|款)?$")
_SUB_ITEM = re.compile(r"^第?(\d{1,2})(?:项|目|小项|[.、)])?")


def chinese_to_int(value: str) -> int | None:
    """ "七" → 7, "十五" → 15, "二十" → 20, "三十二" → 32, "12" → 12; anything else → None."""
    if value.isdigit():
        return int(value)
    if not value or any(ch not in _CN for ch in value):
        return None
    if "十" not in value:
        return _DIGITS[value] if len(value) == 1 else None
    tens, _, ones = value.partition("十")
    if "十" in ones or len(tens) > 1 or len(ones) > 1:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def int_to_chinese(value: int) -> str:
    """7 → "七", 15 → "十五", 32 → "三十二" (1–99)."""
    names = " 一二三四五六七八九"
    if value < 10:
        return names[value]
    tens, ones = divmod(value, 10)
    return f"{names[tens] if tens > 1 else ''}十{names[ones] if ones else ''}"


def item_label(number: int) -> str:
    return f"（{int_to_chinese(number)}）"


def mine_type_from_hint(hint: str | None) -> str | None:
    """A MineType from a MineType value, an enterprise industry, or a Chinese name."""
    if not hint:
        return None
    if hint in MineType.values:
        return hint
    if hint in INDUSTRY_MINE_TYPE:
        return INDUSTRY_MINE_TYPE[hint]
    text = unicodedata.normalize("NFKC", hint)
    for word, mine_type in _MINE_TYPE_WORDS:
        if word in text:
            return mine_type
    if "采石场" in text:
        return MineType.OPEN_PIT
    return None


@dataclass(frozen=True)
class CriterionReference:
    """What a citation says, before it is looked up."""

    mine_type: str
    number: int
    sub_item: int | None = None
    document: str = MAIN_STANDARD_DOCUMENT


@dataclass(frozen=True)
class ParseResult:
    reference: CriterionReference | None
    reason: str = ""


@dataclass(frozen=True)
class CriterionMatch:
    criterion: MajorHazardCriterion | None
    reason: str = ""
    sub_item: int | None = None

    def __bool__(self) -> bool:
        return self.criterion is not None


def _normalise(text: str) -> str:
    value = unicodedata.normalize("NFKC", text or "")
    value = re.sub(r"\s+", "", value)
    # Brackets that NFKC leaves alone.
    return (
        value.replace("〔", "[")
        .replace("〕", "]")
        .replace("【", "[")
        .replace("】", "]")
        .replace("﹙", "(")
        .replace("﹚", ")")
    )


def parse_criterion_reference(text: str, mine_type_hint: str | None = None) -> ParseResult:
    """Parse a citation without touching the database."""
    value = _normalise(text)
    if not value:
        return ParseResult(None, "判定依据为空。")

    document = MAIN_STANDARD_DOCUMENT
    doc_match = _DOCUMENT.search(value)
    if doc_match:
        document = f"矿安〔{doc_match.group(1)}〕{int(doc_match.group(2))}号"
        value = value[: doc_match.start()] + value[doc_match.end() :]
    value = _TITLE.sub("", value)
    value = value.replace("()", "").replace("[]", "")
    for word in _NOISE_WORDS:
        value = value.replace(word, "")

    mine_types: set[str] = set()
    for word, mine_type in _MINE_TYPE_WORDS:
        if word in value:
            mine_types.add(mine_type)
            value = value.replace(word, "")
    if len(mine_types) > 1:
        names = "、".join(MineType(m).label for m in sorted(mine_types))
        return ParseResult(None, f"同时写了多种矿山类型（{names}），无法确定判定依据。")

    section_mine_type: str | None = None
    section = ""
    section_match = _PART.search(value) or _SECTION.search(value)
    if section_match:
        section = section_match.group(1)
        section_mine_type = SECTION_MINE_TYPE[section]
        value = value[: section_match.start()] + value[section_match.end() :]
    if section_mine_type and mine_types and section_mine_type not in mine_types:
        written = MineType(next(iter(mine_types))).label
        return ParseResult(
            None, f"编号中的“{section}”是{MineType(section_mine_type).label}部分，与所写的{written}不一致。"
        )

    number: int | None = None
    sub_item: int | None = None
    rest = ""
    for pattern in (_BRACKET_ITEM, _ORDINAL_ITEM, _BARE_ITEM):
        item_match = pattern.search(value)
        if item_match:
            number = chinese_to_int(item_match.group(1))
            rest = value[item_match.end() :]
            break
    if number is None or number == 0:
        return ParseResult(
            None, f"未能从“{text.strip()[:40]}”中识别出条目编号，应写作如“露天矿山第（七）项”或“二（七）”。"
        )
    rest = rest.lstrip("项条款")
    sub_match = _SUB_ITEM.match(rest)
    if sub_match:
        sub_item = int(sub_match.group(1))

    resolved = (
        section_mine_type or (next(iter(mine_types)) if mine_types else None) or mine_type_from_hint(mine_type_hint)
    )
    if resolved is None:
        return ParseResult(None, "未写明矿山类型（地下矿山、露天矿山或尾矿库），无法确定判定依据。")
    return ParseResult(CriterionReference(mine_type=resolved, number=number, sub_item=sub_item, document=document))


@dataclass
class CriterionCatalogue:
    """The catalogue loaded once (for an import of thousands of rows), keyed by document, mine type and number."""

    items: dict[tuple[str, str, int], MajorHazardCriterion] = field(default_factory=dict)

    @classmethod
    def load(cls, *, at_path: str | None = None) -> CriterionCatalogue:
        """The whole catalogue, or with `at_path` what an enterprise there may cite (national + its county's)."""
        from hazards.models import MajorHazardCriterion

        items = MajorHazardCriterion.objects.all()
        if at_path is not None:
            items = items.applicable_at(at_path)
        return cls({(c.document, c.mine_type, c.number): c for c in items})

    def count(self, document: str, mine_type: str) -> int:
        return sum(
            1 for c in self.items.values() if c.document == document and c.mine_type == mine_type and c.is_active
        )

    def match(self, text: str, mine_type_hint: str | None = None) -> CriterionMatch:
        parsed = parse_criterion_reference(text, mine_type_hint)
        reference = parsed.reference
        if reference is None:
            return CriterionMatch(None, parsed.reason)
        mine_label = MineType(reference.mine_type).label
        criterion = self.items.get((reference.document, reference.mine_type, reference.number))
        if criterion is None:
            total = self.count(reference.document, reference.mine_type)
            if total == 0:
                return CriterionMatch(None, f"判定依据目录中没有{reference.document}的{mine_label}条目。")
            return CriterionMatch(
                None,
                f"{reference.document}{mine_label}部分共{total}项，没有第{item_label(reference.number)}项。",
            )
        if not criterion.is_active:
            return CriterionMatch(None, f"{mine_label}第{criterion.label}项已停用。")
        if reference.sub_item is not None and not 1 <= reference.sub_item <= len(criterion.sub_items):
            if criterion.sub_items:
                count = len(criterion.sub_items)
                reason = f"{mine_label}第{criterion.label}项只有{count}个分项，没有第{reference.sub_item}分项。"
            else:
                reason = f"{mine_label}第{criterion.label}项没有分项。"
            return CriterionMatch(None, reason)
        return CriterionMatch(criterion, "", reference.sub_item)


def match_criterion_reference(
    text: str, mine_type_hint: str | None = None, *, catalogue: CriterionCatalogue | None = None
) -> CriterionMatch:
    """One catalogue item for a citation, or no item and the reason in Chinese.

    `mine_type_hint` (a MineType, an enterprise industry or a Chinese name) is used only when the
    citation itself names no part; a part written in the citation always wins.
    """
    return (catalogue or CriterionCatalogue.load()).match(text, mine_type_hint)


DEFAULT_CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "kuang-an-2022-88-major-hazard-criteria.json"
_MINE_TYPE_BY_LABEL = {label: value for value, label in MineType.choices}


def load_catalogue_file(path: Path = DEFAULT_CATALOGUE_FILE, *, update: bool = False) -> tuple[int, int, int]:
    """Add the items of a catalogue JSON file (the shape of hazards/data/*.json); returns (new, updated, unchanged).

    The same reading as the seeding migration, for operators adding a document (e.g. a supplement)
    and for tests whose database was flushed. Recorded in the audit log.
    """
    from django.db import transaction

    from hazards import audit_events as hazard_events
    from hazards.models import MajorHazardCriterion

    data = json.loads(path.read_text(encoding="utf-8"))
    document = data["document_number"]
    created = updated = unchanged = 0
    with transaction.atomic():
        existing = {(c.mine_type, c.number): c for c in MajorHazardCriterion.objects.filter(document=document)}
        for part in data["parts"]:
            mine_type = _MINE_TYPE_BY_LABEL[part["mine_type"]]
            for item in part["items"]:
                values = {
                    "label": item["label"],
                    "text": item["text"],
                    "sub_items": item.get("sub_items", []),
                    "source": data.get("source", document),
                    "verification": item.get("verification", ""),
                    "cross_checked_by": item.get("cross_checked_by", []),
                    "note": item.get("note", ""),
                    "uncertain": bool(item.get("uncertain", False)),
                }
                current = existing.get((mine_type, int(item["number"])))
                if current is None:
                    MajorHazardCriterion.objects.create(
                        document=document, mine_type=mine_type, number=int(item["number"]), **values
                    )
                    created += 1
                elif update and any(getattr(current, key) != value for key, value in values.items()):
                    for key, value in values.items():
                        setattr(current, key, value)
                    current.save()
                    updated += 1
                else:
                    unchanged += 1
        if created or updated:
            hazard_events.criteria_imported(document=document, created=created, updated=updated)
    return created, updated, unchanged
