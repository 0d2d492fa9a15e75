"""All settings, read from the environment. With none set the hub runs on embedded defaults:
a SQLite file and a file-system Celery broker under var/, keys generated on first use.

Set HUB_ENV=production to require real secrets and turn on the secure-cookie and HTTPS
settings that `manage.py check --deploy` looks for.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HUB_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def local_secret(filename: str, make) -> str:
    """A secret generated once and kept under var/, for runs that set none."""
    path = VAR_DIR / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


HUB_ENV = env("HUB_ENV", "local")
PRODUCTION = HUB_ENV == "production"
DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("Set SECRET_KEY: it is required when HUB_ENV=production.")
    SECRET_KEY = local_secret("secret_key", lambda: secrets.token_urlsafe(50))


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


# Keys that encrypt tokens and client secrets at rest. The first encrypts; all decrypt, so a
# new key goes first and `manage.py rotate_keys` re-encrypts everything under it.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
if not FIELD_ENCRYPTION_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured("Set FIELD_ENCRYPTION_KEYS: required when HUB_ENV=production.")
    FIELD_ENCRYPTION_KEYS = [local_secret("field_encryption_key", _fernet_key)]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The address people reach the hub at; OAuth redirect URLs and invite links are built on it.
HUB_BASE_URL = env("HUB_BASE_URL", f"http://127.0.0.1:{env('PORT', '8000')}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    # Named partials: the editor renders one card of a page (templates/recipes/editor/).
    "template_partials",
    "hub.accounts",
    "hub.system",
    "hub.connections",
    "hub.recipes",
    "hub.engine",
    "hub.llm",
    "hub.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hub.web.middleware.CurrentWorkspaceMiddleware",
    "hub.web.middleware.FriendlyMethodNotAllowedMiddleware",
]

ROOT_URLCONF = "hub.web.urls"
WSGI_APPLICATION = "hub.wsgi.application"

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
                "hub.web.context_processors.workspace",
                "hub.web.context_processors.broken_connections",
                "hub.web.context_processors.llm_budget_alerts",
            ],
        },
    },
]

# SQLite by default, in WAL mode with IMMEDIATE transactions and a busy timeout so web, worker
# and scheduler can write side by side without "database is locked".
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'hub.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Kept open like PostgreSQL's: opening one (and registering Django's SQL functions on
    # it) cost the web more CPU than the webhook it served (bench/engine.py, docs/engine.md
    # "Scale"). hub/celery.py and Django's request signals close broken or old ones.
    DATABASES["default"]["CONN_MAX_AGE"] = int(env("SQLITE_CONN_MAX_AGE", "600"))
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # its check reads the socket
        DATABASES["default"]["ENGINE"] = "hub.system.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in: email and password, optional TOTP. Nobody signs themselves up unless
# HUB_OPEN_SIGNUP is on: admins invite members.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "hub.web.adapter.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
HUB_OPEN_SIGNUP = env_bool("HUB_OPEN_SIGNUP", default=False)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Toolstack Hub"
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"
INVITE_VALID_DAYS = int(env("INVITE_VALID_DAYS", "7"))
# How long the editor's pickers reuse an app's answer (hub/web/choices.py). CACHES is left to
# Django's default, a per-process LocMemCache: enough for answers this short-lived.
CHOICES_CACHE_SECONDS = int(env("CHOICES_CACHE_SECONDS", "60"))
from hub.rate_limits import *  # noqa: E402, F403  (RATE_LIMIT*: per-connection API limits)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["hub.formats"]
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app directories, so `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True

# Email: printed to the console unless an SMTP host is configured.
EMAIL_HOST = env("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(env("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Toolstack Hub <hub@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Celery. Tasks take ids, ack after the work is done, and a worker takes one message at a time.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "staging", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    # kombu's file transport with whole-file writes and claims by rename
    # (hub/system/file_broker.py says what it fixes).
    CELERY_BROKER_TRANSPORT = "hub.system.file_broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "staging_folder": str(_broker_dir / "staging"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # kombu sleeps this long whenever the folder is empty or every slot is busy; its
        # default (1 s) made the worker finish one batch of 8 runs per second. An idle poll
        # is one listdir of an empty folder: 20 a second cost ~0.1 % of a core.
        "polling_interval": float(env("CELERY_FILESYSTEM_POLLING_INTERVAL", "0.05")),
    }
else:
    # A message whose worker died unacknowledged comes back after this long (Redis, SQS).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "3600"))
    }
    # How often a Redis consumer looks for such messages (kombu's default is ~100 s).
    if env("CELERY_UNACKED_RESTORE_INTERVAL"):
        CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_interval"] = int(
            env("CELERY_UNACKED_RESTORE_INTERVAL")
        )
        CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_throttle"] = 1
    if CELERY_BROKER_URL.startswith("redis://"):
        # kombu's Redis transport, where a worker survives Redis going away
        # (hub/system/redis_broker.py says what it repairs).
        CELERY_BROKER_TRANSPORT = "hub.system.redis_broker:Transport"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Steps mostly wait on apps, so one worker process runs them on a pool of threads (the step
# timeout works on any pool: docs/engine.md, "Timeouts"). Measured in bench/engine.py.
CELERY_WORKER_POOL = env("CELERY_WORKER_POOL", "threads")
CELERY_WORKER_CONCURRENCY = int(env("CELERY_WORKER_CONCURRENCY", "8"))
# Recycle policy. A thread-pool worker measured flat (bench/memory.py: +0.1 MB per 10,000
# runs), so it is not recycled; a prefork child that grows past this (KB) is replaced after
# its current task (prefork only; Celery's threads pool has no per-child limits).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = int(env("CELERY_WORKER_MAX_MEMORY_PER_CHILD", "250000"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "celery")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection around every task unless this is set
# (a new PostgreSQL backend per task); hub/celery.py closes old or broken connections around
# each task instead, honouring CONN_MAX_AGE like a web request does.
CELERY_DB_REUSE_MAX = 1_000_000
HEARTBEAT_SECONDS = int(env("HEARTBEAT_SECONDS", "15"))
# Below this much free space under HUB_VAR_DIR the hub reports it and refuses new webhooks
# with a 503 (hub/system/disk.py).
HUB_MIN_FREE_MB = int(env("HUB_MIN_FREE_MB", "50"))
# Beat keeps its last-run times here; the Procfile passes no --schedule, so it follows
# HUB_VAR_DIR like every other file the hub writes.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")


def periodic(task: str, seconds: int) -> dict:
    """A beat entry that expires after one period, so a backlog never runs it twice over."""
    return {"task": task, "schedule": seconds, "options": {"expires": seconds}}


CELERY_BEAT_SCHEDULE = {
    "heartbeat": periodic("hub.system.tasks.heartbeat", HEARTBEAT_SECONDS),
    "refresh-expiring-connections": periodic("hub.connections.tasks.refresh_expiring", 300),
}

# The apps' addresses. Every external URL is a setting so the same code runs against the
# real services or local stand-ins.
NOTION_API_URL = env("NOTION_API_URL", "https://api.notion.com")
NOTION_AUTHORIZE_URL = env("NOTION_AUTHORIZE_URL", "https://api.notion.com/v1/oauth/authorize")
NOTION_VERSION = env("NOTION_VERSION", "2025-09-03")
SLACK_API_URL = env("SLACK_API_URL", "https://slack.com/api/")
SLACK_AUTHORIZE_URL = env("SLACK_AUTHORIZE_URL", "https://slack.com/oauth/v2/authorize")
GOOGLE_AUTHORIZE_URL = env("GOOGLE_AUTHORIZE_URL", "https://accounts.google.com/o/oauth2/v2/auth")
GOOGLE_TOKEN_URL = env("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token")
GOOGLE_REVOKE_URL = env("GOOGLE_REVOKE_URL", "https://oauth2.googleapis.com/revoke")
GMAIL_API_URL = env("GMAIL_API_URL", "https://gmail.googleapis.com/gmail/v1")
CLICKUP_API_URL = env("CLICKUP_API_URL", "https://api.clickup.com/api/v2")
CLICKUP_AUTHORIZE_URL = env("CLICKUP_AUTHORIZE_URL", "https://app.clickup.com/api")
# Instant triggers (docs/engine.md, "Instant triggers"). Slack's signing secret verifies its
# Events API requests at /apps/slack/events; its app-level token (xapp-…) runs Socket Mode
# (`manage.py slack_socket_mode`). Both may instead be entered by an admin on Slack's setup page.
SLACK_SIGNING_SECRET = env("SLACK_SIGNING_SECRET")
SLACK_APP_TOKEN = env("SLACK_APP_TOKEN")
# How often the webhooks registered at apps (ClickUp) are checked and re-registered when the
# app reports them failing or suspended.
APP_SUBSCRIPTION_CHECK_SECONDS = int(env("APP_SUBSCRIPTION_CHECK_SECONDS", "600"))
CELERY_BEAT_SCHEDULE["app-subscriptions"] = periodic(
    "hub.engine.check_subscriptions", APP_SUBSCRIPTION_CHECK_SECONDS
)
OPENAI_BASE_URL = env("OPENAI_BASE_URL", "https://api.openai.com/v1")
ANTHROPIC_BASE_URL = env("ANTHROPIC_BASE_URL", "https://api.anthropic.com")
GEMINI_BASE_URL = env("GEMINI_BASE_URL", "https://generativelanguage.googleapis.com")
# Each call to an AI provider gives up after this long (the engine then retries the step).
LLM_CALL_TIMEOUT_SECONDS = float(env("LLM_CALL_TIMEOUT_SECONDS", "60"))

# OAuth client credentials from the environment win over ones entered in the UI.
OAUTH_CLIENTS = {
    app: {"client_id": env(f"{app}_CLIENT_ID"), "client_secret": env(f"{app}_CLIENT_SECRET")}
    for app in ("NOTION", "SLACK", "GOOGLE", "CLICKUP")
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {
        "scrub_secrets": {"()": "hub.connections.log_filters.ScrubSecrets"},
        # Webhook secrets, invite and reset links, OAuth callback codes in request paths.
        "scrub_paths": {"()": "hub.system.logs.ScrubRequestPaths"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["scrub_paths"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Celery's two lines per task ("received", "succeeded in") repeat what every Run and
        # StepRun records; at 150 runs/s they cost CPU. CELERY_TASK_LOG_LEVEL=INFO shows them.
        "celery.app.trace": {"level": env("CELERY_TASK_LOG_LEVEL", "WARNING")},
        "celery.worker.strategy": {"level": env("CELERY_TASK_LOG_LEVEL", "WARNING")},
        # urllib3 logs request lines with their query strings (ClickUp's token exchange).
        "urllib3.connectionpool": {"filters": ["scrub_secrets"]},
        # The AI providers' SDKs log a line per request (method and URL) at INFO: noise at
        # every call, and an OpenAI-compatible base URL may carry credentials.
        "httpx": {"level": "WARNING", "filters": ["scrub_secrets"]},
        "httpx2": {"level": "WARNING", "filters": ["scrub_secrets"]},
        # Django's own handlers go: with DEBUG its console repeats every line the root's prints,
        # unscrubbed, and mail_admins sends nothing without ADMINS.
        "django": {"handlers": []},
        # They write the path of every 4xx/5xx answer ("Bad Request: /hooks/…"); filtered at
        # the logger too, so any handler added to them later gets it clean.
        "django.request": {"filters": ["scrub_paths"]},
        "django.server": {"filters": ["scrub_paths"], "handlers": ["console"], "propagate": False},
    },
}

# The recipe engine and polled triggers (docs/engine.md explains each figure).
from hub.engine_settings import *  # noqa: E402, F403  (ENGINE_*, TRIGGER_*, HTTP_STEP_ALLOWLIST)

CELERY_BEAT_SCHEDULE.update(
    {
        "engine-sweep": periodic("hub.engine.tasks.sweep", ENGINE_SWEEP_SECONDS),  # noqa: F405
        "engine-prune": periodic("hub.engine.tasks.prune", 3600),
    }
)
