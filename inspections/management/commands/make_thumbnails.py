"""manage.py make_thumbnails: thumbnails for photos stored before uploads made them (hazard evidence and
inspection photos). Pages show only thumbnails, so such a photo is listed by name until this has run.
An original beyond the pixel bounds gets none (it stays a download). Safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hazards.models import HazardEvidence
from hazards.services import evidence_make_thumbnail
from inspections.models import InspectionPhoto
from inspections.services import photo_make_thumbnail


class Command(BaseCommand):
    help = "为尚无缩略图的隐患照片和检查照片生成缩略图（超过像素上限的原图不生成）。"

    def handle(self, *args: Any, **options: Any) -> None:
        made = skipped = 0
        for evidence in HazardEvidence.objects.filter(thumbnail="").iterator():
            if evidence_make_thumbnail(evidence=evidence):
                made += 1
            else:
                skipped += 1
        for photo in InspectionPhoto.objects.filter(thumbnail="").iterator():
            if photo_make_thumbnail(photo=photo):
                made += 1
            else:
                skipped += 1
        self.stdout.write(f"已生成缩略图 {made} 张；跳过 {skipped} 个（非照片、无法识别或超过像素上限）。")
