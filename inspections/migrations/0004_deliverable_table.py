"""Deliverable.table: which monthly table a deliverable is, by an explicit field.

Until now the reporting app matched words in the deliverable's name (reporting/choices.py,
DELIVERABLE_WORDS), so renaming a deliverable silently stopped its drafts and reminders. The existing
rows are classified here once, by that same matching; from now on only the field counts.
"""

from django.db import migrations, models

# The words the name matching used (a copy: migrations do not import app code that may change).
WORDS = {
    "accountability": ("追责问责情况统计表",),
    "winter": ("冬季行动工作报表", "工作报表"),
    "three_lists": ("三清单",),
}


def classify(name: str) -> str:
    for table, words in WORDS.items():
        if any(word in name for word in words):
            return table
    return ""


def forwards(apps, schema_editor):
    Deliverable = apps.get_model("inspections", "Deliverable")
    for deliverable in Deliverable.objects.filter(schedule="monthly", table=""):
        table = classify(deliverable.name)
        if table:
            Deliverable.objects.filter(pk=deliverable.pk).update(table=table)


class Migration(migrations.Migration):

    dependencies = [
        ('inspections', '0003_hazard_links'),
    ]

    operations = [
        migrations.AddField(
            model_name='deliverable',
            name='table',
            field=models.CharField(blank=True, choices=[('accountability', '追责问责情况统计表'), ('winter', '冬季行动工作报表'), ('three_lists', '问题、整改、责任三清单')], help_text='按月报送的固定格式报表（系统生成草稿、提醒和报送状态）；其他材料留空。', max_length=20, verbose_name='对应月度报表'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
