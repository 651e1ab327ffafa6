"""Limits declared once, without Django at import time.

Request sizes: the settings read them, and so does the reverse proxy's configuration
(deploy/render_nginx.py, and the value docker-compose.yml gives the proxy, which tests/test_infra.py
checks against this rule).

Nothing runs unbounded: the limits on free text, background jobs and images. Models take their text
lengths from here (and so do forms, admin and DRF serializers, which read max_length off the model
field), tasks their time limits, the export service its rate, and the upload checks their pixel bounds.
tests/test_limits.py walks every model field and every registered task.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DEFAULT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
# Room for the multipart envelope and the form's other fields around a file of the largest size, so
# that a file just over UPLOAD_MAX_BYTES reaches the portal and gets its precise Chinese message.
MULTIPART_ENVELOPE_BYTES = 1024 * 1024


def upload_max_bytes(environ: Mapping[str, str] = os.environ) -> int:
    """The largest uploaded file (UPLOAD_MAX_BYTES)."""
    return int(environ.get("UPLOAD_MAX_BYTES", str(DEFAULT_UPLOAD_MAX_BYTES)))


def request_body_max_bytes(upload_max: int) -> int:
    """The largest request body: one file of `upload_max` bytes with its envelope. Bigger bodies are
    refused by the proxy (413) before they are read, and by Django (DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    return upload_max + MULTIPART_ENVELOPE_BYTES


# --- Free text (characters) ------------------------------------------------------------------------
# A 三清单 PDF of a 100 KB description alone runs to 95 pages; these are generous for what people write.
TEXT_COMMENT = 1000  # an opinion, a reason, a decision: a few sentences
TEXT_NOTE = 2000  # a description, measures, findings, a note: a paragraph or two
TEXT_LONG = 5000  # a summary or a quoted requirement of a campaign document
TEXT_LIST = 2000  # lists of names or accounts, one a line
TEXT_SYSTEM = 2000  # errors and results written by the portal itself (truncated there)
TEXT_TRACE = 4000  # a beat step's error, kept longer for whoever investigates it (truncated there)

# --- Background jobs (seconds) ---------------------------------------------------------------------
# soft: SoftTimeLimitExceeded is raised inside the task, which marks its job failed with the reason;
# hard: the pool process is killed (a job left "running" past it is failed by export_expire_stale).
QUICK_JOB: dict[str, Any] = {"soft_time_limit": 30, "time_limit": 60}
PERIODIC_JOB: dict[str, Any] = {"soft_time_limit": 15 * 60, "time_limit": 16 * 60}


def report_job_limits(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Report exports and signing: 5 and 6 minutes, or REPORT_JOB_SOFT_SECONDS / REPORT_JOB_HARD_SECONDS
    (tests/prod/test_job_limits.py runs with a few seconds). Give web, worker and beat the same values:
    whoever sends a task stamps these limits on its message, and the worker obeys the message. The hard
    limit stays above the soft one, so that the task always gets the chance to mark its job failed itself."""
    soft = int(environ.get("REPORT_JOB_SOFT_SECONDS", str(5 * 60)))
    hard = int(environ.get("REPORT_JOB_HARD_SECONDS", str(6 * 60)))
    if soft <= 0 or hard <= soft:
        raise ValueError(f"REPORT_JOB_HARD_SECONDS ({hard}) must be above REPORT_JOB_SOFT_SECONDS ({soft}) > 0")
    return {"soft_time_limit": soft, "time_limit": hard}


REPORT_JOB: dict[str, Any] = report_job_limits()

# --- Export requests -------------------------------------------------------------------------------
EXPORT_RATE_COUNT = 20  # export jobs one user may create ...
EXPORT_RATE_WINDOW = 10 * 60  # ... within this many seconds

# --- Images ----------------------------------------------------------------------------------------
IMAGE_MAX_PIXELS = 40_000_000  # 40 megapixels: a 48 MP phone photo is refused, a 12 MP one is fine
IMAGE_MAX_SIDE = 12_000
THUMBNAIL_SIDE = 480


def seconds_label(seconds: int) -> str:
    """For messages: 300 -> "5 分钟", 45 -> "45 秒"."""
    return f"{seconds // 60} 分钟" if seconds % 60 == 0 else f"{seconds} 秒"


def text_limits(model: Any) -> dict[str, int]:
    """{field name: max_length} of a model's text fields: what importers check each cell against."""
    from django.db import models

    return {
        field.name: int(field.max_length)
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField) and field.max_length
    }


def too_long(text: str, limit: int | None) -> str:
    """The Chinese message for a text over its limit, or "" when it fits."""
    if limit and len(text) > limit:
        return f"不能超过 {limit} 个字（现有 {len(text)} 个字）。"
    return ""
