"""Settings for 非煤矿山安全监管门户.

Everything that differs between a laptop and a bureau's server comes from the environment.
The defaults run the portal with nothing installed but Python: SQLite in the project folder
and Celery on kombu's filesystem transport (a real worker and beat, no broker server).
Production sets DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis), DEBUG=0, SECRET_KEY
and ALLOWED_HOSTS; `manage.py check --deploy` is then clean.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from portal import limits

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuv"  # noqa: S105 - only when DEBUG  # nosec B105 # used only when DEBUG (SECRET_KEY is required otherwise)
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG=0")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    # Kept installed only for its (emptied) table: API tokens are portal.tokens.ApiToken.
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    # Two-step verification (动态口令, TOTP): required for /admin/, available to every user.
    "django_otp",
    "django_otp.plugins.otp_totp",
    # One-time backup codes (备用码), shown once at enrolment: the way back in without the phone.
    "django_otp.plugins.otp_static",
    "portal",
    "hazards",
    "inspections",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "portal.middleware.RequestContextMiddleware",
    # Last, so that a lockout answers before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
                "inspections.context_processors.calendar_warning",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        # A kept connection is checked before a request reuses it: after a database restart, no process
        # answers its next request with the dead connection (tests/prod/test_faults.py).
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker write while the web process reads; the busy timeout waits out a
    # writer instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 8 idle hours (a working day) and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# API tokens (portal/tokens): one per device, ended after this long unused, and at the latest after the
# absolute lifetime; revoked by a password change or reset, by deactivation and by 「退出所有设备」.
API_TOKEN_IDLE_SECONDS = int(os.environ.get("API_TOKEN_IDLE_SECONDS", str(7 * 24 * 3600)))
API_TOKEN_MAX_AGE_SECONDS = int(os.environ.get("API_TOKEN_MAX_AGE_SECONDS", str(30 * 24 * 3600)))

# Lockout after repeated failed logins (django-axes): per user name and address.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind reverse proxies (nginx in front of gunicorn), the number of them that append to X-Forwarded-For:
# the lockout and the audit log then take the client's address from that header (portal/client_ip.py).
# 0 = no proxy trusted: REMOTE_ADDR.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "portal.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Two-step verification (portal/otp): TOTP devices of django-otp. A wrong code makes the next try wait
# 1, 2, 4, 8, ... seconds (django-otp's throttling); the device secret is never shown in the admin.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "非煤矿山安全监管门户")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# A password login waiting for its code is forgotten after this many seconds.
OTP_PENDING_LOGIN_SECONDS = 300

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# Our few corrections of the dependencies' Chinese (portal/locale) win over every app's own catalogue.
LOCALE_PATHS = [BASE_DIR / "portal" / "locale"]
USE_TZ = True
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# The key that signs backups (HMAC-SHA256, README "Backup and restore"): kept outside the database,
# the archives and MEDIA_ROOT; the first backup creates it (mode 0600). restore refuses other archives.
BACKUP_SIGNING_KEY_FILE = Path(os.environ.get("BACKUP_SIGNING_KEY_FILE", VAR_DIR / "secrets" / "backup-signing.key"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploads: spreadsheets and evidence. Bigger files are refused before they are read.
UPLOAD_MAX_BYTES = limits.upload_max_bytes()
DATA_UPLOAD_MAX_MEMORY_SIZE = limits.request_body_max_bytes(UPLOAD_MAX_BYTES)  # the proxy's client_max_body_size too
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Of each uploaded file the parser keeps UPLOAD_MAX_BYTES + 1 bytes at most (the views refuse it by its size).
FILE_UPLOAD_HANDLERS = [
    "portal.uploads.UploadSizeCapHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
SPREADSHEET_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("SPREADSHEET_MAX_UNCOMPRESSED_BYTES", str(200 * 1024 * 1024)))
SPREADSHEET_MAX_MEMBERS = 500
SPREADSHEET_MAX_ROWS = int(os.environ.get("SPREADSHEET_MAX_ROWS", "50000"))
# Checked by streaming the sheets before any row is parsed (portal/spreadsheet_bounds.py; README "Upload bounds").
SPREADSHEET_MAX_SHEET_ROWS = int(os.environ.get("SPREADSHEET_MAX_SHEET_ROWS", str(SPREADSHEET_MAX_ROWS + 1000)))
SPREADSHEET_MAX_COLUMNS = int(os.environ.get("SPREADSHEET_MAX_COLUMNS", "200"))
SPREADSHEET_MAX_SHARED_STRINGS = int(os.environ.get("SPREADSHEET_MAX_SHARED_STRINGS", "300000"))
SPREADSHEET_SCAN_SECONDS = float(os.environ.get("SPREADSHEET_SCAN_SECONDS", "10"))
SPREADSHEET_PARSE_SECONDS = float(os.environ.get("SPREADSHEET_PARSE_SECONDS", "30"))

# --- Security (production values when DEBUG=0) --------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The health endpoint is probed over plain HTTP by the orchestrator.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "portal.tokens.authentication.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute"},
    "EXCEPTION_HANDLER": "portal.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "非煤矿山安全监管门户 API",
    "DESCRIPTION": "县应急管理局非煤矿山安全监管门户的 REST 接口。所有数据按用户的辖区或企业范围过滤。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The 400/401/404 every operation can give, where a view did not document them (portal/api/schema_hooks.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.schema_hooks.document_generic_errors",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets share the field name "role" (accounts and people).
    "ENUM_NAME_OVERRIDES": {
        "UserRoleEnum": "portal.choices.Role",
        "PersonRoleEnum": "portal.choices.PersonRole",
        # Several choice sets share the field name "kind" (inspections).
        "EnforcementKindEnum": "inspections.choices.EnforcementKind",
        "QuotaKindEnum": "inspections.choices.QuotaKind",
        # Hazards: several choice sets share "level", "status", "kind" and "action".
        "HazardLevelEnum": "hazards.choices.HazardLevel",
        "SupervisionLevelEnum": "hazards.choices.SupervisionLevel",
        "HazardStatusEnum": "hazards.choices.HazardStatus",
        "HazardActionEnum": "hazards.choices.HazardAction",
        "ExtensionStatusEnum": "hazards.choices.ExtensionStatus",
        "EvidenceKindEnum": "hazards.choices.EvidenceKind",
        "NotificationKindEnum": "hazards.choices.NotificationKind",
        # Monthly tables (reporting): "kind" and "status" again.
        "ReportKindEnum": "reporting.choices.ReportKind",
        "ReportVersionStatusEnum": "reporting.choices.VersionStatus",
        "ReportJobStatusEnum": "reporting.choices.JobStatus",
    },
}

# --- Celery -----------------------------------------------------------------------------------
# Without a Redis URL, Celery runs on kombu's filesystem transport: the worker and beat are
# still real, separate processes, and nothing needs a server. Every folder must exist
# before the first message, control_folder included (kombu does not create them).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_FILESYSTEM_DIR = Path(os.environ.get("CELERY_FILESYSTEM_DIR", VAR_DIR / "celery"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (CELERY_FILESYSTEM_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    # A task taken by a worker that died without a word (kill -9, out of memory) stays unacknowledged
    # in Redis; it is handed out again after this many seconds (the fault drills in tests/prod use a few).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A backstop only: every task declares its own limits from portal.limits (tests/test_limits.py checks it).
CELERY_TASK_SOFT_TIME_LIMIT = 15 * 60
CELERY_TASK_TIME_LIMIT = 16 * 60
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "heartbeat": {
        "task": "portal.tasks.record_heartbeat",
        "schedule": float(os.environ.get("HEARTBEAT_INTERVAL_SECONDS", "60")),
    },
}
CELERY_BEAT_SCHEDULE["purge-expired-api-tokens"] = {
    "task": "portal.tasks.purge_expired_api_tokens",
    "schedule": crontab(hour=3, minute=10),
}
# Import files previewed but never confirmed (portal.import_flow) are deleted nightly once older than this.
IMPORT_STAGED_MAX_AGE_HOURS = float(os.environ.get("IMPORT_STAGED_MAX_AGE_HOURS", "24"))
CELERY_BEAT_SCHEDULE["sweep-staged-imports"] = {
    "task": "portal.tasks.sweep_staged_imports",
    "schedule": crontab(hour=3, minute=40),
}
# 隐患整改到期提醒 (hazards): every morning, what falls due within 3 days and what is overdue.
CELERY_BEAT_SCHEDULE["hazard-deadline-reminders"] = {
    "task": "hazards.tasks.send_deadline_reminders",
    "schedule": crontab(hour=7, minute=30),
}
# 月度报表 (reporting): drafts 2 days and 1 day before each deadline, reminders, the deadline's flags;
# nightly, signed tables whose records changed get a new version.
CELERY_BEAT_SCHEDULE["reporting-monthly-schedule"] = {
    "task": "reporting.tasks.run_monthly_schedule",
    "schedule": crontab(hour=6, minute=30),
}
CELERY_BEAT_SCHEDULE["reporting-check-amendments"] = {
    "task": "reporting.tasks.check_amendments",
    "schedule": crontab(hour=2, minute=15),
}
# A report or sign job whose worker died (kill -9, out of memory) is taken up again once its heartbeat is
# older than the lease (reporting/leases.py): beat looks every REPORT_JOB_SWEEP_SECONDS and queues it
# again, so it waits minutes, not the broker's visibility timeout (an hour).
REPORT_JOB_LEASE_SECONDS = float(os.environ.get("REPORT_JOB_LEASE_SECONDS", "90"))
REPORT_JOB_SWEEP_SECONDS = float(os.environ.get("REPORT_JOB_SWEEP_SECONDS", "30"))
CELERY_BEAT_SCHEDULE["reporting-requeue-abandoned-jobs"] = {
    "task": "reporting.tasks.requeue_abandoned_jobs",
    "schedule": REPORT_JOB_SWEEP_SECONDS,
    "options": {"expires": REPORT_JOB_SWEEP_SECONDS},  # a sweep nobody ran in time is replaced by the next
}
# Report jobs killed at their hard time limit are marked failed (they would stay 生成中 forever).
CELERY_BEAT_SCHEDULE["reporting-expire-stale-jobs"] = {
    "task": "reporting.tasks.expire_stale_jobs",
    "schedule": 5 * 60.0,
}
# 专项行动材料报送提醒 (inspections): 3 days and 1 day before each due date, to whoever has not filed.
CELERY_BEAT_SCHEDULE["inspections-deliverable-reminders"] = {
    "task": "inspections.tasks.send_deliverable_reminders",
    "schedule": crontab(hour=8, minute=0),
}

# --- E-mail (notifications are sent only when a server is configured) ------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "portal@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Cache: shared between web, worker and beat (the worker heartbeat lives here) ------------
_REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _REDIS_CACHE_URL}
        if _REDIS_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
    )
}
