"""Test overrides on top of the one settings module."""

import tempfile
from pathlib import Path

from portal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
_TMP = Path(tempfile.mkdtemp(prefix="portal-test-"))
MEDIA_ROOT = _TMP / "media"
BACKUP_SIGNING_KEY_FILE = _TMP / "secrets" / "backup-signing.key"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = False
AXES_ENABLED = True
STATIC_ROOT = _TMP / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Tasks the tests send go to broker folders of their own, never to var/celery, where the worker
# of a running `make run` would pick them up (with ids from the test database).
CELERY_FILESYSTEM_DIR = _TMP / "celery"
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
    }
    for _folder in ("queue", "processed", "control"):
        (CELERY_FILESYSTEM_DIR / _folder).mkdir(parents=True, exist_ok=True)
