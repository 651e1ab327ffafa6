"""The journal of a load run against the database: every write the load made is there exactly once.

Run with the stack's environment:  python -m load.verify JOURNAL RUN_ID  (prints a JSON summary;
exit status 1 when a check failed).

The journal (written by load/locustfile.py) has one JSON line per write:

- ``{"kind": "ledger", "enterprise": ID, "numbers": [...], "upload": ID|null, "ok": bool, "status": HTTP}``:
  a ledger upload of rows whose 编号 are unique markers;
- ``{"kind": "step", "action": "confirm-town", "hazard": ID, "marker": M, "ok": bool, "status": HTTP}``:
  a workflow step whose comment is a unique marker.

Checks:

- a successful write is in the database exactly once: each row of an uploaded ledger is one hazard
  of that enterprise (none lost, none doubled) and the upload is committed; a step left exactly one
  event with its marker, of the expected action, and the hazard is in the step's target status
  (each pooled hazard gets one step);
- a refused write (an HTTP error) left nothing: no hazard with its rows' 编号, no event with its marker;
- a write whose response never came (status 0: timeout, connection reset) is all or nothing: every
  row or none, one event or none;
- nothing else: the database holds no hazard and no event with this run's marker that the journal
  does not name (a write that was not journalled, or was written twice under another key).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import django

# The step's URL name → (HazardAction, the hazard's status after it).
STEP_OUTCOMES = {
    "sign-report": ("sign_report", "pending_town"),
    "confirm-town": ("town_confirm", "pending_county"),
    "confirm-county": ("county_confirm", "confirmed"),
}


@dataclass
class Verification:
    writes_ok: int = 0
    writes_failed: int = 0
    writes_unknown: int = 0
    rows_ok: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def read_journal(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def verify(entries: list[dict[str, Any]], run_id: str) -> Verification:
    from hazards.models import Hazard, HazardEvent, LedgerUpload

    result = Verification()
    prefix = f"LT-{run_id}-"
    hazards = Counter(
        (enterprise, number)
        for enterprise, number in Hazard.objects.filter(ledger_number__startswith=prefix).values_list(
            "enterprise_id", "ledger_number"
        )
    )
    events: dict[str, list[tuple[int, str]]] = {}
    for marker, hazard_id, action in HazardEvent.objects.filter(comment__startswith=prefix).values_list(
        "comment", "hazard_id", "action"
    ):
        events.setdefault(marker, []).append((hazard_id, action))
    statuses = dict(
        Hazard.objects.filter(id__in=[e["hazard"] for e in entries if e["kind"] == "step"]).values_list("id", "status")
    )
    committed = set(
        LedgerUpload.objects.filter(id__in=[e["upload"] for e in entries if e.get("upload")])
        .filter(status="committed")
        .values_list("id", flat=True)
    )
    named_rows: set[tuple[int, str]] = set()
    named_markers: set[str] = set()

    for entry in entries:
        answered = bool(entry.get("status"))
        if entry["ok"]:
            result.writes_ok += 1
        elif answered:
            result.writes_failed += 1
        else:
            result.writes_unknown += 1
        if entry["kind"] == "ledger":
            keys = [(entry["enterprise"], number) for number in entry["numbers"]]
            named_rows.update(keys)
            found = [hazards[key] for key in keys]
            what = f"ledger upload {entry.get('upload')} of {entry.get('user')} ({', '.join(entry['numbers'])})"
            if entry["ok"]:
                result.rows_ok += len(keys)
                if found != [1] * len(keys):
                    result.problems.append(f"{what}: succeeded, but its rows are in the database {found} times")
                if entry.get("upload") not in committed:
                    result.problems.append(f"{what}: succeeded, but the upload is not committed")
            elif answered and any(found):
                result.problems.append(f"{what}: refused ({entry['status']}), yet {sum(found)} rows were written")
            elif not answered and found not in ([0] * len(keys), [1] * len(keys)):
                result.problems.append(f"{what}: no answer, and the rows are half written: {found}")
        else:
            marker = entry["marker"]
            named_markers.add(marker)
            action, after = STEP_OUTCOMES[entry["action"]]
            seen = events.get(marker, [])
            what = f"{entry['action']} of hazard {entry['hazard']} by {entry.get('user')} ({marker})"
            if entry["ok"]:
                if seen != [(entry["hazard"], action)]:
                    result.problems.append(f"{what}: succeeded, but its events are {seen}")
                elif statuses.get(entry["hazard"]) != after:
                    result.problems.append(f"{what}: succeeded, but the hazard is {statuses.get(entry['hazard'])}")
            elif answered and seen:
                result.problems.append(f"{what}: refused ({entry['status']}), yet recorded {seen}")
            elif not answered and len(seen) > 1:
                result.problems.append(f"{what}: no answer, and recorded {len(seen)} times")

    for key, count in hazards.items():
        if key not in named_rows:
            result.problems.append(f"hazard {key[1]} of enterprise {key[0]} ({count}×) is in no journalled write")
    for marker, seen in events.items():
        if marker not in named_markers:
            result.problems.append(f"event {marker} ({seen}) is in no journalled write")
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m load.verify JOURNAL RUN_ID", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    result = verify(read_journal(Path(argv[1])), argv[2])
    print(json.dumps(result.as_dict(), ensure_ascii=False))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
