"""`make load`'s own logic: the journal checked against the database (load/verify.py) and the PASS/FAIL
verdict from locust's figures (load/run.py).

The whole run (stack, county-scale data, locust) takes minutes, too long for the suite: it is
`make load`. What decides its verdict is tested here, on the test database: a journal that matches
the database passes, and each way a write can go wrong — lost, doubled, half written, written though
refused, written without being journalled — is caught.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from hazards.choices import HazardAction, HazardLevel, HazardStatus, LedgerUploadStatus
from hazards.criteria import load_catalogue_file
from hazards.models import Hazard, HazardEvent, LedgerUpload, MajorHazardCriterion
from load.run import Row, Settings, judge, read_stats
from load.verify import read_journal, verify
from portal.models import Enterprise
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard

RUN = "abc123"


def upload(enterprise: Enterprise, **fields: Any) -> LedgerUpload:
    return LedgerUpload.objects.create(
        enterprise=enterprise, status=fields.pop("status", LedgerUploadStatus.COMMITTED), original_name="台账.xlsx",
        file="hazards/ledgers/x.xlsx", size=1, sha256="0" * 64, **fields,
    )  # fmt: skip


def rows(enterprise: Enterprise, *numbers: str) -> list[Hazard]:
    return [make_hazard(enterprise, level=HazardLevel.GENERAL, ledger_number=number) for number in numbers]


def event(hazard: Hazard, marker: str, action: str = HazardAction.TOWN_CONFIRM) -> HazardEvent:
    return HazardEvent.objects.create(hazard=hazard, action=action, comment=marker)


def ledger(enterprise: Enterprise, numbers: list[str], *, ok: bool, status: int, up: int | None) -> dict[str, Any]:
    return {"kind": "ledger", "enterprise": enterprise.pk, "numbers": numbers, "upload": up, "ok": ok, "status": status}


def step(hazard: Hazard, marker: str, *, ok: bool, status: int, action: str = "confirm-town") -> dict[str, Any]:
    return {"kind": "step", "action": action, "hazard": hazard.pk, "marker": marker, "ok": ok, "status": status}


@pytest.fixture
def clean(world: World, cast: Cast) -> list[dict[str, Any]]:
    """A journal and a database that agree: a committed ledger, a refused one, a step done and a step refused."""
    if not MajorHazardCriterion.objects.exists():  # a transactional test elsewhere flushed the seeded catalogue
        load_catalogue_file()
    enterprise = world.enterprise_a
    first = upload(enterprise)
    rows(enterprise, f"LT-{RUN}-000001", f"LT-{RUN}-000002")
    refused = upload(enterprise, status=LedgerUploadStatus.FAILED)
    confirmed = make_hazard(enterprise, status=HazardStatus.PENDING_COUNTY)
    event(confirmed, f"LT-{RUN}-000005")
    untouched = make_hazard(enterprise, status=HazardStatus.PENDING_TOWN)
    return [
        ledger(enterprise, [f"LT-{RUN}-000001", f"LT-{RUN}-000002"], ok=True, status=200, up=first.pk),
        ledger(enterprise, [f"LT-{RUN}-000003", f"LT-{RUN}-000004"], ok=False, status=409, up=refused.pk),
        step(confirmed, f"LT-{RUN}-000005", ok=True, status=200),
        step(untouched, f"LT-{RUN}-000006", ok=False, status=409),
    ]


def test_a_journal_that_matches_the_database_passes(clean: list[dict[str, Any]], tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in clean))
    result = verify(read_journal(path), RUN)
    assert result.problems == []
    assert (result.writes_ok, result.writes_failed, result.writes_unknown, result.rows_ok) == (2, 2, 0, 2)


def test_another_runs_writes_are_not_this_runs_concern(clean: list[dict[str, Any]], world: World) -> None:
    rows(world.enterprise_a, "LT-otherrun-000001")
    assert verify(clean, RUN).passed


def test_a_lost_ledger_row_fails(clean: list[dict[str, Any]]) -> None:
    Hazard.objects.filter(ledger_number=f"LT-{RUN}-000002").delete()
    result = verify(clean, RUN)
    assert not result.passed
    assert "succeeded, but its rows are in the database [1, 0] times" in result.problems[0]


def test_a_ledger_that_is_not_committed_fails(clean: list[dict[str, Any]]) -> None:
    LedgerUpload.objects.filter(pk=clean[0]["upload"]).update(status=LedgerUploadStatus.PENDING)
    assert verify(clean, RUN).problems == [
        f"ledger upload {clean[0]['upload']} of None (LT-{RUN}-000001, LT-{RUN}-000002): succeeded, but the upload "
        "is not committed"
    ]


def test_rows_written_by_a_refused_upload_fail(clean: list[dict[str, Any]], world: World) -> None:
    rows(world.enterprise_a, f"LT-{RUN}-000003")
    result = verify(clean, RUN)
    assert len(result.problems) == 1 and "refused (409), yet 1 rows were written" in result.problems[0]


def test_an_unanswered_upload_is_all_or_nothing(clean: list[dict[str, Any]], world: World) -> None:
    unanswered = ledger(world.enterprise_a, [f"LT-{RUN}-000007", f"LT-{RUN}-000008"], ok=False, status=0, up=None)
    assert verify([*clean, unanswered], RUN).passed  # nothing written
    rows(world.enterprise_a, f"LT-{RUN}-000007", f"LT-{RUN}-000008")
    assert verify([*clean, unanswered], RUN).passed  # everything written
    Hazard.objects.filter(ledger_number=f"LT-{RUN}-000008").delete()
    result = verify([*clean, unanswered], RUN)
    assert result.writes_unknown == 1 and "half written: [1, 0]" in result.problems[0]


def test_a_step_recorded_twice_fails(clean: list[dict[str, Any]]) -> None:
    hazard = Hazard.objects.get(pk=clean[2]["hazard"])
    event(hazard, f"LT-{RUN}-000005")
    result = verify(clean, RUN)
    assert len(result.problems) == 1 and "succeeded, but its events are" in result.problems[0]


def test_a_step_whose_hazard_is_not_in_the_target_status_fails(clean: list[dict[str, Any]]) -> None:
    Hazard.objects.filter(pk=clean[2]["hazard"]).update(status=HazardStatus.PENDING_TOWN)
    result = verify(clean, RUN)
    assert result.problems[0].endswith("succeeded, but the hazard is pending_town")


def test_a_lost_step_and_a_refused_step_that_was_recorded_fail(clean: list[dict[str, Any]]) -> None:
    HazardEvent.objects.filter(comment=f"LT-{RUN}-000005").delete()
    event(Hazard.objects.get(pk=clean[3]["hazard"]), f"LT-{RUN}-000006")
    problems = verify(clean, RUN).problems
    assert len(problems) == 2
    assert "succeeded, but its events are []" in problems[0] and "refused (409), yet recorded" in problems[1]


def test_writes_that_no_journal_line_names_fail(clean: list[dict[str, Any]], world: World) -> None:
    stray = rows(world.enterprise_b, f"LT-{RUN}-000001")[0]  # the same 编号, in another enterprise
    event(stray, f"LT-{RUN}-000099")
    problems = verify(clean, RUN).problems
    assert problems == [
        f"hazard LT-{RUN}-000001 of enterprise {world.enterprise_b.pk} (1×) is in no journalled write",
        f"event LT-{RUN}-000099 ([({stray.pk}, 'town_confirm')]) is in no journalled write",
    ]


# --- the verdict ----------------------------------------------------------------------------------


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "users": 50, "spawn_rate": 10, "seconds": 60, "wait": "1,4", "p95_ms": 300, "out": Path("."), "keep": False,
    }  # fmt: skip
    values.update(overrides)
    return Settings(**values)


def stats_rows(page_p95: float = 120, failures: int = 0) -> list[Row]:
    return [
        Row("page hazard-list", 400, failures, 7.0, 40, page_p95, page_p95 + 50),
        Row("api ledger-commit", 30, 0, 0.5, 150, 420, 600),  # not a page: no latency target
        Row("all requests", 430, failures, 7.5, 45, 200, 450),
    ]


def test_the_verdict_passes_when_every_target_is_met() -> None:
    assert judge(stats_rows(), {"passed": True}, settings()) == (True, [])


@pytest.mark.parametrize(
    ("rows_", "verification", "overrides", "reason"),
    [
        (stats_rows(page_p95=300), {"passed": True}, {}, "page hazard-list: p95 300 ms ≥ 300 ms"),
        (stats_rows(failures=2), {"passed": True}, {}, "2 errors"),
        (stats_rows(), {"passed": False, "problems": ["x lost"]}, {}, "writes: 1 problems, first: x lost"),
        (stats_rows(), {}, {}, "writes: 1 problems, first: the verification did not run"),
        (stats_rows(), {"passed": True}, {"users": 5}, "only 5 users (the target is 50)"),
        ([], {"passed": True}, {}, "no request was made"),
    ],
)
def test_the_verdict_fails_for_each_missed_target(
    rows_: list[Row], verification: dict[str, Any], overrides: dict[str, Any], reason: str
) -> None:
    passed, reasons = judge(rows_, verification, settings(**overrides))
    assert not passed and reason in reasons


def test_locusts_csv_is_read_per_request_kind(tmp_path: Path) -> None:
    path = tmp_path / "locust_stats.csv"
    header = [
        "Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
        "Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s", "50%", "66%",
        "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
    ]  # fmt: skip
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerow(["GET", "page work-queue", 10, 1, 50, 60, 10, 300, 5000, 2.5, 0.1, 50, 60, 70, 80, 90, 250,
                         280, 290, 300, 300, 300])  # fmt: skip
        writer.writerow(["", "Aggregated", 10, 1, 50, 60, 10, 300, 5000, 2.5, 0.1, 50, 60, 70, 80, 90, 250, 280,
                         290, 300, 300, 300])  # fmt: skip
    assert read_stats(path) == [
        Row("page work-queue", 10, 1, 2.5, 50, 250, 290),
        Row("all requests", 10, 1, 2.5, 50, 250, 290),
    ]
