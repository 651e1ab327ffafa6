"""The 判定依据 catalogue (seeded by migration from the JSON) and the parser of ledger citations."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from hazards.choices import MAIN_STANDARD_DOCUMENT, MineType
from hazards.criteria import (
    DEFAULT_CATALOGUE_FILE,
    CriterionCatalogue,
    chinese_to_int,
    int_to_chinese,
    match_criterion_reference,
    parse_criterion_reference,
)
from hazards.models import MajorHazardCriterion

SHARED_JSON = Path("/work/shared/reference/kuang-an-2022-88-major-hazard-criteria.json")
DATA = json.loads(DEFAULT_CATALOGUE_FILE.read_text(encoding="utf-8"))
MINE_TYPE_BY_LABEL = {label: value for value, label in MineType.choices}


def test_the_repo_copy_is_the_shared_reference() -> None:
    if not SHARED_JSON.exists():
        pytest.skip("shared reference not on this machine")
    assert DEFAULT_CATALOGUE_FILE.read_bytes() == SHARED_JSON.read_bytes()


@pytest.mark.django_db
def test_migration_seeded_every_item_of_the_json() -> None:
    expected_total = sum(len(part["items"]) for part in DATA["parts"])
    assert expected_total == DATA["counts"]["first_level_items"]["total"] == 64
    seeded = MajorHazardCriterion.objects.filter(document=DATA["document_number"])
    assert seeded.count() == expected_total
    per_type = Counter(seeded.values_list("mine_type", flat=True))
    for part in DATA["parts"]:
        assert per_type[MINE_TYPE_BY_LABEL[part["mine_type"]]] == len(part["items"]) == part["item_count"]
    # Every item as in the JSON: label, text, sub-items and the cross-check notes.
    for part in DATA["parts"]:
        for item in part["items"]:
            row = seeded.get(mine_type=MINE_TYPE_BY_LABEL[part["mine_type"]], number=item["number"])
            assert row.code == item["code"]
            assert row.label == item["label"]
            assert row.text == item["text"]
            assert row.sub_items == item["sub_items"]
            assert row.verification == item["verification"]
            assert row.cross_checked_by == item["cross_checked_by"]
            assert row.note == item.get("note", "")
    assert sum(len(row.sub_items) for row in seeded) == DATA["counts"]["numbered_sub_items"]["total"]


@pytest.mark.django_db
def test_load_criteria_command_is_idempotent_and_keeps_admin_corrections(capsys: pytest.CaptureFixture[str]) -> None:
    item = MajorHazardCriterion.objects.get(mine_type=MineType.TAILINGS, number=1)
    item.text = "管理员更正后的文字"
    item.save()
    call_command("load_criteria")
    assert "新增 0 条，更新 0 条，未变 64 条" in capsys.readouterr().out
    item.refresh_from_db()
    assert item.text == "管理员更正后的文字"
    MajorHazardCriterion.objects.filter(mine_type=MineType.OPEN_PIT, number=13).delete()
    call_command("load_criteria")
    assert "新增 1 条" in capsys.readouterr().out
    assert MajorHazardCriterion.objects.count() == 64


@pytest.mark.parametrize(
    ("text", "number"),
    [("七", 7), ("十", 10), ("十五", 15), ("二十", 20), ("三十二", 32), ("12", 12), ("二十一", 21)],
)
def test_chinese_numerals(text: str, number: int) -> None:
    assert chinese_to_int(text) == number
    if not text.isdigit():
        assert int_to_chinese(number) == text


@pytest.mark.parametrize("text", ["", "十十", "二二", "百", "abc", "三十二十"])
def test_chinese_numerals_garbage(text: str) -> None:
    assert chinese_to_int(text) is None


# (ledger text, mine-type hint, expected mine type, expected number, expected sub-item)
GOOD = [
    ("露天矿山第（七）项", None, MineType.OPEN_PIT, 7, None),
    ("露天矿山第(七)项", None, MineType.OPEN_PIT, 7, None),
    ("露天矿山第７项", None, MineType.OPEN_PIT, 7, None),
    ("露天矿山 第 （ 七 ） 项", None, MineType.OPEN_PIT, 7, None),
    ("二（六）", None, MineType.OPEN_PIT, 6, None),
    ("二(6)", None, MineType.OPEN_PIT, 6, None),
    ("二、（六）", MineType.UNDERGROUND, MineType.OPEN_PIT, 6, None),  # the citation's part wins over the hint
    ("一（二十一）", None, MineType.UNDERGROUND, 21, None),
    ("一（三十二）", None, MineType.UNDERGROUND, 32, None),
    ("三（十九）", None, MineType.TAILINGS, 19, None),
    ("第七项", MineType.OPEN_PIT, MineType.OPEN_PIT, 7, None),
    ("第7条", "quarry", MineType.OPEN_PIT, 7, None),  # an enterprise industry as the hint
    ("（七）", "露天矿山", MineType.OPEN_PIT, 7, None),
    ("七", MineType.TAILINGS, MineType.TAILINGS, 7, None),
    (
        "《金属非金属矿山重大事故隐患判定标准》（矿安〔2022〕88号）露天矿山第（七）项",
        None,
        MineType.OPEN_PIT,
        7,
        None,
    ),
    ("依据《金属非金属矿山重大事故隐患判定标准》二（六）", None, MineType.OPEN_PIT, 6, None),
    ("金属非金属矿山重大事故隐患判定标准 地下矿山第（四）项", None, MineType.UNDERGROUND, 4, None),
    ("矿安[2022]88号 尾矿库（三）", None, MineType.TAILINGS, 3, None),
    ("金属非金属露天矿山重大事故隐患第十项", None, MineType.OPEN_PIT, 10, None),
    ("第二部分第六项", None, MineType.OPEN_PIT, 6, None),
    ("一（四）1", None, MineType.UNDERGROUND, 4, 1),
    ("地下矿山第（四）项第5项", None, MineType.UNDERGROUND, 4, 5),
    ("一（四）3.", None, MineType.UNDERGROUND, 4, 3),
    ("﹙七﹚", MineType.OPEN_PIT, MineType.OPEN_PIT, 7, None),
]


@pytest.mark.parametrize(("text", "hint", "mine_type", "number", "sub_item"), GOOD)
def test_parse_good_references(text: str, hint: str | None, mine_type: str, number: int, sub_item: int | None) -> None:
    result = parse_criterion_reference(text, hint)
    assert result.reference is not None, result.reason
    assert (result.reference.mine_type, result.reference.number, result.reference.sub_item) == (
        mine_type,
        number,
        sub_item,
    )
    assert result.reference.document == MAIN_STANDARD_DOCUMENT


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "hint", "mine_type", "number", "sub_item"), GOOD)
def test_match_good_references(
    catalogue: None, text: str, hint: str | None, mine_type: str, number: int, sub_item: int | None
) -> None:
    match = match_criterion_reference(text, hint)
    assert match, match.reason
    assert match.criterion is not None
    assert (match.criterion.mine_type, match.criterion.number, match.sub_item) == (mine_type, number, sub_item)


BAD = [
    ("", None, "判定依据为空"),
    ("   ", None, "判定依据为空"),
    ("见附件", MineType.OPEN_PIT, "未能从"),
    ("无", MineType.OPEN_PIT, "未能从"),
    ("一般隐患", None, "未能从"),
    ("第（七）项", None, "未写明矿山类型"),
    ("（七）", "exploration", "未写明矿山类型"),
    ("露天矿山第（二十）项", None, "共13项，没有第（二十）项"),
    ("一（三十三）", None, "共32项，没有第（三十三）项"),
    ("尾矿库（0）", None, "未能从"),
    ("露天矿山一（七）", None, "不一致"),
    ("地下矿山和露天矿山第七项", None, "多种矿山类型"),
    ("一（四）9", None, "只有5个分项"),
    ("二（一）2", None, "没有分项"),
    ("矿安〔2024〕41号 地下矿山（一）", None, "没有矿安〔2024〕41号"),
    ("DROP TABLE hazards; --", MineType.OPEN_PIT, "未能从"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "hint", "reason"), BAD)
def test_match_refuses_with_a_reason(catalogue: None, text: str, hint: str | None, reason: str) -> None:
    match = match_criterion_reference(text, hint)
    assert not match
    assert match.criterion is None
    assert reason in match.reason


@pytest.mark.django_db
def test_inactive_items_are_not_matched(catalogue: None) -> None:
    MajorHazardCriterion.objects.filter(mine_type=MineType.OPEN_PIT, number=7).update(is_active=False)
    match = match_criterion_reference("二（七）")
    assert not match
    assert "已停用" in match.reason


@pytest.mark.django_db
def test_a_loaded_catalogue_matches_without_queries(
    catalogue: None, django_assert_num_queries: pytest.FixtureRequest
) -> None:
    loaded = CriterionCatalogue.load()
    with django_assert_num_queries(0):  # type: ignore[operator]
        for text, hint, *_ in GOOD:
            assert loaded.match(text, hint)


@pytest.mark.django_db
def test_an_admin_added_document_is_matched_by_its_number(catalogue: None) -> None:
    MajorHazardCriterion.objects.create(
        document="矿安〔2024〕41号", mine_type=MineType.UNDERGROUND, number=1, label="（一）", text="补充情形一。"
    )
    match = match_criterion_reference("矿安〔2024〕41号 地下矿山第（一）项")
    assert match.criterion is not None and match.criterion.document == "矿安〔2024〕41号"
    # Without a document number the main standard is meant.
    default = match_criterion_reference("地下矿山第（一）项")
    assert default.criterion is not None and default.criterion.document == MAIN_STANDARD_DOCUMENT
