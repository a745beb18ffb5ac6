"""Headway settings: one file, driven by environment variables.

With nothing set, Headway runs on SQLite in the project folder, Celery tasks run
in-process (eager) and the cache is local memory, so a newcomer needs only Python.
Set DATABASE_URL / REDIS_URL for PostgreSQL and Redis (production and CI).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
# Production refuses to start with the development key (see the check in core.checks).
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
_production_declared = os.environ.get("HEADWAY_ENV", "").strip().lower() in {"production", "prod"}
if not DEBUG and (_production_declared or env_bool("SECURE_SSL")):
    from core.checks import secret_key_problem  # pure module, no Django import

    if _problem := secret_key_problem(SECRET_KEY, DEV_SECRET_KEY):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(_problem)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "core.admin_scoping.site.HeadwayAdminConfig",  # django.contrib.admin, entered by role
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "core",
    "accounts",
    "goals",
    "kpis",
    "sources",
    "okrs",
    "initiatives",
    "activity",
    "dashboards",
    "api",
]
if env_bool("HEADWAY_BENCH"):
    INSTALLED_APPS.append("bench")  # the benchmark's floor page and seed_bench (bench/run.py)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "api.middleware.ApiJsonErrorsMiddleware",  # /api/: every 4xx/5xx is JSON
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After auth (reads the person's choice), before anything that renders text.
    "accounts.locale.PersonLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.HeadersMiddleware",  # Permissions-Policy; Cache-Control on private pages
    "core.middleware.UnstorableInputMiddleware",  # NUL / lone surrogates: 400 (core.text)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.ratelimit.ApiRateLimitMiddleware",  # /api/ per token (429 JSON)
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
                "csp.context_processors.nonce",
                "accounts.context_processors.navigation",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / os.environ.get("SQLITE_NAME", "db.sqlite3"),
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
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
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-gb"
# The interface's languages (README: Languages). Order: the settings page's choice list.
LANGUAGES = [("en-gb", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed file names need `collectstatic` first: the Docker image does that and
# sets STATIC_MANIFEST=1. Otherwise whitenoise serves the files straight from static/.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = DEBUG

# --- Cache, Celery -------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    # The suite under pytest-xdist (make test): each test process gets its own Redis
    # database (cache and broker), 11 + its number, so one process's cache.clear() never
    # empties another's queue. The same URL for the Celery workers the tests start, which
    # inherit the variable. Never set outside the test run.
    from urllib.parse import urlsplit, urlunsplit

    _gw = int(os.environ["PYTEST_XDIST_WORKER"][2:] or 0)
    REDIS_URL = urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{11 + _gw % 5}"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "headway")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A write never waits on a broker that is down (config.celery.enqueue_on_commit): short
# timeouts, no publish retry. An unacknowledged task (its worker killed) is redelivered
# after visibility_timeout (Redis's default is an hour); a sweep killed half-way is also
# resumed by the minutely evaluate_pending (kpis.sweep), whichever comes first.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 2,
                                   "max_retries": 0, "visibility_timeout": 300}
CELERY_TIMEZONE = "UTC"
# The static beat schedule. Tasks are added by the apps that own them.
CELERY_BEAT_SCHEDULE: dict = {
    "evaluate-all-kpis": {"task": "kpis.tasks.evaluate_all", "schedule": 15 * 60},
    "evaluate-pending-kpis": {"task": "kpis.tasks.evaluate_pending", "schedule": 60},
    "send-checkin-reminders": {"task": "okrs.tasks.send_checkin_reminders", "schedule": 15 * 60},
    "send-digests": {"task": "activity.tasks.send_digests", "schedule": 15 * 60},
    "run-due-sources": {"task": "sources.tasks.run_due_sources", "schedule": 60},
    "sweep-outbox": {"task": "activity.tasks.sweep_outbox", "schedule": 60},
    "post-chat-digests": {"task": "activity.tasks.post_chat_digests", "schedule": 15 * 60},
    "prune-outbox": {"task": "activity.tasks.prune_outbox", "schedule": 24 * 60 * 60},
}

# --- Email -----------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Headway <headway@localhost>")

# --- Security --------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL = env_bool("SECURE_SSL", default=False)  # production behind TLS
if SECURE_SSL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

# Content Security Policy: nothing inline and no eval. Figures are JSON in
# <script type="application/json"> blocks drawn by static/js/app.js; styles are classes
# (static/css/utilities.css has the data-driven widths) and plotly.js's own rules come from
# static/css/plotly.css instead of a <style> it would inject (templates/includes/plotly.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        # blob: for the chart downloads: plotly.js draws the figure's SVG through a blob
        # URL it creates itself into a canvas (static/js/chart-download.js).
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": ["'none'"],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": ["'none'"],
    }
}

# --- Abuse limits ----------------------------------------------------------------------
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login form's field is "username" (holding the email); compare case-insensitively so
# "Kim@Example.com" and "kim@example.com" share one failure count.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "core.ratelimit.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
# Rate limits (core.ratelimit): sign-up, invitations, API per token. Counted in the cache.
RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", default=True)
HEADWAY_RATE_LIMITS: dict = {}  # e.g. {"api": (600, 60)} to override a default
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "")  # "HTTP_X_FORWARDED_FOR" behind a proxy
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_ip"  # log-in lockout counts the same address

# --- Headway ---------------------------------------------------------------------------
INVITATION_DAYS = 7
# Outbox and delivery log (activity.prune, README "Integrations"): delivered events older
# than this many days (at least 8) are deleted, keeping each subscription's last N deliveries.
HEADWAY_OUTBOX_RETENTION_DAYS = int(os.environ.get("HEADWAY_OUTBOX_RETENTION_DAYS", "30"))
HEADWAY_DELIVERY_LOG_KEEP = int(os.environ.get("HEADWAY_DELIVERY_LOG_KEEP", "50"))
# Without REDIS_URL: "thread" sends webhooks/Slack/Teams from background threads (the request
# never waits on a receiver), "inline" in the request (activity.dispatch).
HEADWAY_EAGER_DELIVERY = os.environ.get("HEADWAY_EAGER_DELIVERY", "thread")

# --- Data sources (sources/, README "Data sources") -------------------------------------
# Fernet keys for secrets at rest, comma-separated: the first encrypts, all decrypt (put a
# new key first, run `manage.py rotate_secrets`, then drop the old). Empty: a key derived
# from SECRET_KEY (development only).
HEADWAY_SECRETS_KEYS = env_list("HEADWAY_SECRETS_KEYS")
# Hosts, addresses or networks that outbound requests and SQL sources may reach although
# they are private or loopback (e.g. "db.internal,10.0.0.0/8"); everything else private
# is refused (core.outbound).
HEADWAY_SOURCE_ALLOWED_HOSTS = env_list("HEADWAY_SOURCE_ALLOWED_HOSTS")
# Folders SQLite sources may read from (the demo warehouse lives in the first).
HEADWAY_SOURCE_SQLITE_DIRS = env_list("HEADWAY_SOURCE_SQLITE_DIRS") or [
    str(BASE_DIR / "warehouses")]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A refused request (403) is an answer, not a fault: django.request logs it as one
    # line, without the traceback it would otherwise print for every PermissionDenied.
    "filters": {"forbidden_without_traceback": {"()": "core.logging.ForbiddenWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "filters": ["forbidden_without_traceback"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
