"""Settings for the benchmarks: the portal's settings on a separate database, measured as in production.

The database is `bench-out/bench.sqlite3` (rebuilt on each run), or the PostgreSQL server named by
BENCH_DATABASE_URL, else DATABASE_URL (`python -m bench --postgres` starts a throwaway one).
DEBUG is off (no debug query log, cached templates); HTTPS redirects are off for the test client.
"""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-in-production-0123456789abcdef")

import dj_database_url

from portal.settings import *  # noqa: F403
from portal.settings import BASE_DIR, DATABASES

BENCH_DIR = Path(os.environ.get("BENCH_DIR", BASE_DIR / "bench-out"))
BENCH_DIR.mkdir(parents=True, exist_ok=True)

_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
if _url:
    DATABASES = {"default": dj_database_url.parse(_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            **DATABASES["default"],
            "NAME": str(BENCH_DIR / "bench.sqlite3"),
        }
    }

DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Bench accounts are created by the thousand in later benches: a cheap hasher (never in production).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MEDIA_ROOT = BENCH_DIR / "media"
STATIC_ROOT = BENCH_DIR / "static"  # WhiteNoise wants it to exist; nothing is collected there
STATIC_ROOT.mkdir(exist_ok=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"django.request": {"level": "ERROR"}, "axes": {"level": "ERROR"}},
}
