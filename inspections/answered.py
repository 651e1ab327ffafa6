"""What a 自查自改报告 was answered against, and what its principal signs.

A checklist (the campaign's 检查方面 and 检查项) is edited in place by the bureau; a signed report must keep
the words it answered. So the principal's signature stores `checklist_snapshot(report)` on the report (the
campaign's details and every item's text, expected answer, subject and guidance as they were), and every
page and API answer of a signed report reads that snapshot (`as_answered`, `campaign_as_answered`).

`self_check_fingerprint(report)` is one SHA-256 of everything the sign form shows: the checklist as it reads
now (or as signed), every answer with its note and evidence, the summary and the linked hazards. The form
and the API post it back with the signature; `services.self_check_sign` refuses when it has changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from inspections.models import Campaign, ChecklistArea, ChecklistItem, SelfCheckAnswer, SelfCheckReport

CAMPAIGN_FIELDS = (
    "name",
    "document_number",
    "document_title",
    "issuing_authority",
    "start_date",
    "end_date",
    "period_text",
)


def _campaign_details(campaign: Campaign) -> dict[str, str]:
    return {name: str(getattr(campaign, name) or "") for name in CAMPAIGN_FIELDS}


def checklist_snapshot(report: SelfCheckReport) -> dict[str, Any]:
    """The campaign's details and the report's checklist items as they read now (JSON)."""
    items = (
        ChecklistItem.objects.filter(pk__in=report.answers.values("item_id"))
        .select_related("area")
        .order_by("area__order", "area_id", "order", "id")
    )
    return {
        "campaign": _campaign_details(report.campaign),
        "items": {
            str(item.pk): {
                "area": {"id": item.area_id, "order": item.area.order, "number": item.area.number,
                         "title": item.area.title},
                "order": item.order,
                "text": item.text,
                "subject": item.subject,
                "expected_answer": item.expected_answer,
                "guidance": item.guidance,
            }
            for item in items
        },
    }  # fmt: skip


def _signed_snapshot(report: SelfCheckReport) -> dict[str, Any] | None:
    snapshot = report.checklist_snapshot
    return snapshot if report.is_submitted and snapshot and snapshot.get("items") else None


def self_check_fingerprint(report: SelfCheckReport, checklist: dict[str, Any] | None = None) -> str:
    """SHA-256 of what the sign form shows: checklist, answers, notes, evidence, summary, hazards.
    `checklist`: a `checklist_snapshot` just taken (the signature fingerprints exactly what it stores)."""
    answers = (
        SelfCheckAnswer.objects.filter(report_id=report.pk)
        .order_by("item_id")
        .values_list("item_id", "answer", "note", "evidence__id")
    )
    rows: dict[int, dict[str, Any]] = {}
    for item_id, answer, note, evidence_id in answers:
        row = rows.setdefault(item_id, {"item": item_id, "answer": answer, "note": note, "evidence": []})
        if evidence_id is not None:
            row["evidence"].append(evidence_id)
    canonical = json.dumps(
        {
            "report": report.pk,
            "checklist": checklist or _signed_snapshot(report) or checklist_snapshot(report),
            "answers": [{**row, "evidence": sorted(row["evidence"])} for row in rows.values()],
            "summary": report.summary,
            "hazards": sorted(report.hazards.values_list("pk", flat=True)),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CampaignAsAnswered:
    name: str
    document_number: str
    document_title: str
    issuing_authority: str
    start_date: str
    end_date: str
    period_text: str


def campaign_as_answered(report: SelfCheckReport) -> CampaignAsAnswered:
    """The campaign's details as the report was signed against (as they read now for a draft)."""
    snapshot = _signed_snapshot(report)
    details = snapshot["campaign"] if snapshot else _campaign_details(report.campaign)
    return CampaignAsAnswered(**{name: details.get(name, "") for name in CAMPAIGN_FIELDS})


def as_answered(report: SelfCheckReport, answers: Iterable[SelfCheckAnswer]) -> list[SelfCheckAnswer]:
    """The answers with their items as the report was signed against: for a signed report each answer's
    `item` (and its `area`) is replaced, in memory only, by the snapshot's copy (never saved)."""
    rows = list(answers)
    snapshot = _signed_snapshot(report)
    if snapshot is None:
        return rows
    areas: dict[int, ChecklistArea] = {}
    for row in rows:
        frozen = snapshot["items"].get(str(row.item_id))
        if frozen is None:  # an item added after signing is not part of what was signed
            continue
        area_data = frozen["area"]
        area = areas.get(area_data["id"]) or ChecklistArea(
            pk=area_data["id"], order=area_data["order"], number=area_data["number"], title=area_data["title"]
        )
        areas[area_data["id"]] = area
        row.item = ChecklistItem(
            pk=row.item_id, area=area, order=frozen["order"], text=frozen["text"], subject=frozen["subject"],
            expected_answer=frozen["expected_answer"], guidance=frozen["guidance"],
        )  # fmt: skip
    return rows
