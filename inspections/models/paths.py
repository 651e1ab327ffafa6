"""Where uploaded files of campaigns and field work are stored (named in migrations)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import PurePath
from typing import Any

# --- Files ------------------------------------------------------------------------------------


def _upload_to(folder: str, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:10]
    today = dt.date.today()
    return f"inspections/{folder}/{today:%Y/%m}/{uuid.uuid4().hex}{suffix}"


def inspection_photo_path(instance: Any, filename: str) -> str:
    return _upload_to("inspection-photos", filename)


def evidence_path(instance: Any, filename: str) -> str:
    return _upload_to("self-check-evidence", filename)


def enforcement_attachment_path(instance: Any, filename: str) -> str:
    return _upload_to("enforcement", filename)


def deliverable_path(instance: Any, filename: str) -> str:
    return _upload_to("deliverables", filename)
