"""Indexes for the hazard list at province scale (counts of 重大/逾期 from the index alone, sorting by the
deadline without sorting the table, category and 挂牌督办 filters)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hazards", "0003_ledger_upload"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="hazard",
            name="hazard_level_status_idx",
        ),
        migrations.AddIndex(
            model_name="hazard",
            index=models.Index(fields=["level", "status", "current_deadline"], name="hazard_level_status_dl_idx"),
        ),
        migrations.AddIndex(
            model_name="hazard",
            index=models.Index(fields=["current_deadline", "id"], name="hazard_deadline_idx"),
        ),
        migrations.AddIndex(
            model_name="hazard",
            index=models.Index(fields=["category", "status"], name="hazard_category_status_idx"),
        ),
        migrations.AddIndex(
            model_name="hazard",
            index=models.Index(
                condition=models.Q(("supervision_level", ""), _negated=True),
                fields=["supervision_level", "status"],
                name="hazard_supervised_idx",
            ),
        ),
    ]
