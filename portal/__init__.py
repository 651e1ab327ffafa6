"""非煤矿山安全监管门户 — project package and the directory (who is who)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
