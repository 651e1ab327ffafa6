"""Seed the 判定依据 catalogue with the 64 items of 矿安〔2022〕88号 from hazards/data/.

Self-contained on purpose (a migration must not depend on app code that may change later).
Idempotent: items already present (by document, mine type and number) are left as they are,
so that an admin's corrections survive a re-run.
"""

import json
from pathlib import Path

from django.db import migrations

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "kuang-an-2022-88-major-hazard-criteria.json"
MINE_TYPES = {"地下矿山": "underground", "露天矿山": "open_pit", "尾矿库": "tailings"}


def seed(apps, schema_editor):
    Criterion = apps.get_model("hazards", "MajorHazardCriterion")
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    document = data["document_number"]
    source = data["source"]
    existing = set(Criterion.objects.filter(document=document).values_list("mine_type", "number"))
    rows = []
    for part in data["parts"]:
        mine_type = MINE_TYPES[part["mine_type"]]
        for item in part["items"]:
            if (mine_type, item["number"]) in existing:
                continue
            rows.append(
                Criterion(
                    document=document,
                    mine_type=mine_type,
                    number=item["number"],
                    label=item["label"],
                    text=item["text"],
                    sub_items=item["sub_items"],
                    source=source,
                    verification=item.get("verification", ""),
                    cross_checked_by=item.get("cross_checked_by", []),
                    note=item.get("note", ""),
                    uncertain=bool(item.get("uncertain", False)),
                    is_active=True,
                )
            )
    Criterion.objects.bulk_create(rows)


def unseed(apps, schema_editor):
    Criterion = apps.get_model("hazards", "MajorHazardCriterion")
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    Criterion.objects.filter(document=data["document_number"], hazards__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("hazards", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
