"""Cordée settings: one module, driven by the environment.

CORDEE_HOME            data directory (SQLite database, uploads, logs, secret key)
CORDEE_DATABASE_URL    e.g. postgres://user@127.0.0.1:5432/cordee (SQLite under CORDEE_HOME if unset)
CORDEE_SECRET_KEY      Django's secret key (generated once and kept in CORDEE_HOME if unset)
CORDEE_DEBUG           "1" for development pages with tracebacks
CORDEE_ALLOWED_HOSTS   comma-separated host names (default: localhost names)
CORDEE_TASKS           "huey" (default: background worker), "immediate" (run inline)
CORDEE_DPO_CONTACT     how to reach the data protection officer (shown on the register)
CORDEE_RESOLVE_AFTER_IMPORT  "0": no identity resolution after browser and drop-folder imports
CORDEE_RESOLUTION_BACKEND    where identity resolution runs: "duckdb" (default, this process) or
                       "spark" (needs the spark extra and Java 17; see docs/identity.md)
CORDEE_SPARK_MASTER    the Spark master with CORDEE_RESOLUTION_BACKEND=spark (default local[2])
CORDEE_EMAIL_URL       smtp://host:port or smtps://user:password@host:port (campaigns, test sends)
CORDEE_EMAIL_PROVIDER  mailgun|postmark|brevo|sendgrid|mailjet|sparkpost: its tracking webhook
                       (bounces, complaints, unsubscribes) at /webhooks/email/<provider>/
CORDEE_EMAIL_WEBHOOK_SECRET  "user:password" the provider puts in the webhook URL (basic auth)
CORDEE_EMAIL_PROVIDER_KEY    the provider's webhook signing key, where it signs (Mailgun)
CORDEE_MFA_REQUIRED    1 to make office staff enrol a TOTP authenticator (recommended in production)
CORDEE_FIELD_KEYS      field encryption keys "id:base64,..." (first current); else CORDEE_HOME/field_keys
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.csp import CSP  # type: ignore[import-not-found,unused-ignore]
from django.utils.translation import gettext_lazy as _

from cordee.campaigns.email_url import email_mailer


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _default_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "cordee"


CORDEE_HOME = Path(os.environ.get("CORDEE_HOME") or _default_home()).expanduser().resolve()
for _sub in ("", "uploads", "logs", "exports", "static"):
    (CORDEE_HOME / _sub).mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    from_env = os.environ.get("CORDEE_SECRET_KEY")
    if from_env:
        return from_env
    path = CORDEE_HOME / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    # Create the file readable by its owner only before writing the secret into it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = _secret_key()
DEBUG = _env_flag("CORDEE_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("CORDEE_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(
        ","
    )
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "cordee.core",
    "cordee.partners",
    "cordee.customers",
    "cordee.collect",
    "cordee.activities",
    "cordee.segments",
    "cordee.channels",
    "cordee.campaigns",
    "cordee.privacy",
    "cordee.api",
    "ninja",  # its templates and vendored Swagger UI files: the API docs load nothing from a CDN
]

# The "Browser…" classes are Django's own, skipped for the REST API (cordee.core.middleware).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cordee.core.middleware.BrowserSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "cordee.core.middleware.BrowserCsrfViewMiddleware",
    "cordee.core.middleware.BrowserAuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "cordee.core.middleware.BrowserMFAMiddleware",
    "cordee.core.middleware.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "cordee.core.middleware.BrowserHtmxMiddleware",
]

ROOT_URLCONF = "cordee.urls"
WSGI_APPLICATION = "cordee.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cordee.core.context_processors.cordee",
            ],
        },
    },
]

_database_url = os.environ.get("CORDEE_DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql") and _env_flag(
        "CORDEE_DB_PREPARED", default=True
    ):
        # Lets cordee.core.prepared prepare the statements every API call runs (Django's
        # own statements stay unprepared: its cursor binds values client-side). Off
        # (CORDEE_DB_PREPARED=0) behind a pooler in transaction mode that cannot keep them.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(CORDEE_HOME / "cordee.sqlite3"),
            "OPTIONS": {
                # WAL lets the web pages read while an import writes; IMMEDIATE avoids
                # "database is locked" upgrades in concurrent write transactions.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA temp_store=MEMORY;"
                    "PRAGMA cache_size=-131072;"
                    "PRAGMA mmap_size=268435456;"
                ),
            },
            "TEST": {"NAME": os.environ.get("CORDEE_TEST_SQLITE_NAME") or None},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "partners.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("CORDEE_TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = CORDEE_HOME / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve the vendored front-end files straight from the package: the demo needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = CORDEE_HOME / "uploads"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
CORDEE_IMPORT_MAX_BYTES = int(os.environ.get("CORDEE_IMPORT_MAX_BYTES", str(2 * 1024**3)))
# e.g. "Sophie Durand, dpo@office-vallee.fr, 04 50 00 00 00": printed on the register (Art. 30).
CORDEE_DPO_CONTACT = os.environ.get("CORDEE_DPO_CONTACT", "").strip()
# "0" to leave identity resolution to `cordee resolve` instead of running it after each
# import from the browser or a drop folder.
CORDEE_RESOLVE_AFTER_IMPORT = os.environ.get("CORDEE_RESOLVE_AFTER_IMPORT", "1") != "0"
CORDEE_RESOLUTION_BACKEND = os.environ.get("CORDEE_RESOLUTION_BACKEND", "duckdb").strip().lower()
CORDEE_SPARK_MASTER = os.environ.get("CORDEE_SPARK_MASTER", "local[2]")
# Office staff must enrol an authenticator app before any page (cordee.privacy.mfa).
CORDEE_MFA_REQUIRED = _env_flag("CORDEE_MFA_REQUIRED")

MAILERS = {"default": email_mailer(os.environ.get("CORDEE_EMAIL_URL", ""))}
# A provider's webhooks (django-anymail): only with a secret is the endpoint there at all.
CORDEE_EMAIL_PROVIDER = os.environ.get("CORDEE_EMAIL_PROVIDER", "").strip().lower()
CORDEE_EMAIL_WEBHOOK_SECRET = os.environ.get("CORDEE_EMAIL_WEBHOOK_SECRET", "").strip()
CORDEE_EMAIL_PROVIDER_KEY = os.environ.get("CORDEE_EMAIL_PROVIDER_KEY", "").strip()
ANYMAIL = {"WEBHOOK_SECRET": CORDEE_EMAIL_WEBHOOK_SECRET}

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
X_FRAME_OPTIONS = "DENY"
DEFAULT_FROM_EMAIL = os.environ.get("CORDEE_FROM_EMAIL", "Cordée <ne-pas-repondre@localhost>")
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

TASKS: dict[str, dict[str, Any]]
_tasks_mode = os.environ.get("CORDEE_TASKS", "huey")
if _tasks_mode == "immediate":
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {
        "default": {
            "BACKEND": "cordee.core.tasks_backend.HueyBackend",
            "OPTIONS": {"redis_url": os.environ.get("CORDEE_REDIS_URL", "")},
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "file": {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(CORDEE_HOME / "logs" / "cordee.log"),
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "formatter": "plain",
        },
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "level": "WARNING"},
    },
    "root": {"handlers": ["file", "console"], "level": "INFO"},
}
