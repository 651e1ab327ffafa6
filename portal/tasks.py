"""Small periodic jobs of the portal itself."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone


@shared_task(name="portal.tasks.record_heartbeat")
def record_heartbeat() -> str:
    # Beat sends this every minute; the health page shows when the worker last ran it.
    stamp = timezone.now().isoformat()
    cache.set("portal:worker-heartbeat", stamp, timeout=None)
    return stamp


@shared_task(name="portal.tasks.ping")
def ping() -> str:
    return "pong"
