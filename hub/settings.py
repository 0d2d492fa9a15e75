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
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

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
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
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
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "celery")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection around every task unless this is set
# (a new PostgreSQL backend per task); hub/celery.py closes old or broken connections around
# each task instead, honouring CONN_MAX_AGE like a web request does.
CELERY_DB_REUSE_MAX = 1_000_000
HEARTBEAT_SECONDS = int(env("HEARTBEAT_SECONDS", "15"))


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
OPENAI_BASE_URL = env("OPENAI_BASE_URL", "https://api.openai.com/v1")
ANTHROPIC_BASE_URL = env("ANTHROPIC_BASE_URL", "https://api.anthropic.com")
GEMINI_BASE_URL = env("GEMINI_BASE_URL", "https://generativelanguage.googleapis.com")

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
        # Django's own handlers go: with DEBUG its console repeats every line the root's prints,
        # unscrubbed, and mail_admins sends nothing without ADMINS.
        "django": {"handlers": []},
        # They write the path of every 4xx/5xx answer ("Bad Request: /hooks/…"); filtered at
        # the logger too, so any handler added to them later gets it clean.
        "django.request": {"filters": ["scrub_paths"]},
        "django.server": {"filters": ["scrub_paths"], "handlers": ["console"], "propagate": False},
    },
}

# The recipe engine (docs/engine.md explains each figure).
# Hosts, IPs or CIDRs the HTTP request step may reach although they are not public
# (e.g. "intranet.example.com,10.0.0.0/8"); everything private is refused otherwise.
HTTP_STEP_ALLOWLIST = env_list("HTTP_STEP_ALLOWLIST")
ENGINE_LEASE_SECONDS = int(env("ENGINE_LEASE_SECONDS", "120"))
ENGINE_STEP_TIMEOUT_SECONDS = int(env("ENGINE_STEP_TIMEOUT_SECONDS", "60"))
ENGINE_RUN_TIMEOUT_SECONDS = int(env("ENGINE_RUN_TIMEOUT_SECONDS", str(6 * 3600)))
ENGINE_MAX_ATTEMPTS = int(env("ENGINE_MAX_ATTEMPTS", "6"))
ENGINE_RETRY_BASE_SECONDS = float(env("ENGINE_RETRY_BASE_SECONDS", "2"))
ENGINE_RETRY_MAX_SECONDS = float(env("ENGINE_RETRY_MAX_SECONDS", "900"))
ENGINE_OUTPUT_MAX_BYTES = int(env("ENGINE_OUTPUT_MAX_BYTES", str(64 * 1024)))
ENGINE_OUTPUT_HARD_MAX_BYTES = int(env("ENGINE_OUTPUT_HARD_MAX_BYTES", str(5 * 1024 * 1024)))
ENGINE_LOOP_MAX_ITEMS = int(env("ENGINE_LOOP_MAX_ITEMS", "100"))
ENGINE_WEBHOOK_MAX_BYTES = int(env("ENGINE_WEBHOOK_MAX_BYTES", str(1024 * 1024)))
ENGINE_RUN_RETENTION_DAYS = int(env("ENGINE_RUN_RETENTION_DAYS", "30"))
# How long an event that started a run (schedule due time, Idempotency-Key, poller item) is
# remembered, whatever the run retention: over a year, beyond any sender's retry window.
ENGINE_DEDUPE_DAYS = int(env("ENGINE_DEDUPE_DAYS", "400"))
# Waits up to this long are handed to the broker with a countdown; longer ones stay in the
# database and the tick sends them this long before they are due. Capped at half the broker's
# visibility timeout (Redis hands an unacknowledged countdown message out again after it).
ENGINE_WAIT_ENQUEUE_SECONDS = int(env("ENGINE_WAIT_ENQUEUE_SECONDS", "300"))
# The scheduler (beat) runs the schedule tick itself this often (hub/system/scheduler.py).
ENGINE_TICK_SECONDS = float(env("ENGINE_TICK_SECONDS", "1"))
ENGINE_SWEEP_SECONDS = int(env("ENGINE_SWEEP_SECONDS", "30"))
# A queued run whose message has not been picked up for this long is sent again.
ENGINE_SWEEP_GRACE_SECONDS = int(env("ENGINE_SWEEP_GRACE_SECONDS", "120"))
CELERY_BEAT_SCHEDULE.update(
    {
        "engine-sweep": periodic("hub.engine.tasks.sweep", ENGINE_SWEEP_SECONDS),
        "engine-prune": periodic("hub.engine.tasks.prune", 3600),
    }
)
