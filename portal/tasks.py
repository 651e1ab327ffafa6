"""Small periodic jobs of the portal itself.

The cache is shared by web, worker and beat (a file cache under var/, or Redis in production),
so what the worker writes here is what the health page and the tests read.
"""

from __future__ import annotations

import dataclasses

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from portal import limits

HEARTBEAT_KEY = "portal:worker-heartbeat"
PING_KEY = "portal:ping:{token}"


@shared_task(name="portal.tasks.record_heartbeat", **limits.QUICK_JOB)
def record_heartbeat() -> str:
    # Beat sends this every HEARTBEAT_INTERVAL_SECONDS; the health page shows when the worker last ran it.
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, stamp, timeout=None)
    return stamp


@shared_task(name="portal.tasks.ping", **limits.QUICK_JOB)
def ping(token: str = "") -> str:  # nosec B107 # a test token, not a password
    """Proves a round trip through the broker: the worker records that it ran, under `token`."""
    stamp = timezone.now().isoformat()
    if token:
        cache.set(PING_KEY.format(token=token), stamp, timeout=3600)
    return "pong"


@shared_task(name="portal.tasks.purge_expired_api_tokens")
def purge_expired_api_tokens() -> int:
    """Nightly: deletes API tokens past their lifetime (they already stopped working), audited."""
    from portal.tokens.services import api_token_purge_expired

    return api_token_purge_expired()


@shared_task(name="portal.tasks.sweep_staged_imports", **limits.PERIODIC_JOB)
def sweep_staged_imports() -> dict[str, int]:
    """Nightly: deletes the import files previewed but never confirmed (portal.import_flow), logged."""
    from portal.import_flow import staged_imports_sweep

    return dataclasses.asdict(staged_imports_sweep())
