"""Seedboard settings: one module, every knob read from the environment.

Each variable goes through a typed helper that raises ImproperlyConfigured on a bad
value, so a typo fails at start-up instead of at the first request. Secrets may also
come from a file named by `<NAME>_FILE` (Docker secrets).
"""

from __future__ import annotations

import os
import re
import secrets
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_rate(name: str, default: str) -> str:
    """A request rate as '<count>/<second|minute|hour|day>'."""
    raw = env_str(name, default)
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", raw):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate (use <count>/<second|minute|hour|day>)")
    return raw


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("SEEDBOARD_DEBUG", False)
DATA_DIR = Path(env_str("SEEDBOARD_DATA_DIR", str(BASE_DIR / "var")))
# Test-only hosts ("testserver") are added by Django's test set-up, not here.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Trusted reverse proxies in front of Seedboard: the client address is then taken from
# X-Forwarded-For (throttles, sign-in lockouts) and the scheme from X-Forwarded-Proto, which
# the proxy must set (overwrite) itself. Without a proxy neither header is believed.
SEEDBOARD_NUM_PROXIES = env_int("SEEDBOARD_NUM_PROXIES", 0, minimum=0)
if SEEDBOARD_NUM_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "server.core",
    "server.accounts",
    "server.tracking",
    "server.stats",
    "server.benchmarks",
    "server.mlflow_compat",
    "server.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before the middleware that answer early (query string checks, static files), so that their
    # responses are not framed either.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "server.web.middleware.RequestCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "server.web.middleware.ContentSecurityPolicyMiddleware",
    "server.web.middleware.QueryTimeoutPageMiddleware",
    # Last, so the lockout page it puts in place of the sign-in response goes through the others.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "server.urls"
WSGI_APPLICATION = "server.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# PostgreSQL is the system of record; without DATABASE_URL Seedboard runs embedded on SQLite.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "seedboard.sqlite3"),
            # WAL lets the demo's readers and the writer work side by side.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 30},
            # A file, not memory, so a server process started by the tests shares the test database.
            "TEST": {"NAME": str(DATA_DIR / "test-seedboard.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def local_secret_key(path: Path) -> str:
    """A random key kept in the data directory (mode 0600), made on first start, kept across restarts."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write(key)
    except FileExistsError:  # another process of this start made it first
        return path.read_text().strip()
    return key


# Production sets SECRET_KEY (or SECRET_KEY_FILE) and refuses to start without one. Only the
# embedded default (SQLite) and a developer's machine (SEEDBOARD_LOCAL_SECRET_KEY, set
# by `make run` and `make test`) keep a generated key in the data directory instead.
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    embedded = not DATABASE_URL or DATABASE_URL.startswith("sqlite")
    if not embedded and not env_bool("SEEDBOARD_LOCAL_SECRET_KEY", False):
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) is not set. Set it to a long random string, for example "
            "the output of `python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = local_secret_key(DATA_DIR / "secret_key")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The web UI signs in with Django's sessions; the API keeps its bearer tokens.
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Failed sign-ins are counted per account and per client address (django-axes): at the limit,
# that account (from any address) and that address (for any account) are locked for the cool-off.
# The axes backend only refuses locked-out attempts; ModelBackend checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed attempts are rows in the database, so the count is shared by every web process and
# works alike on SQLite and PostgreSQL (the cache handler would need Redis).
AXES_HANDLER = "server.accounts.signin.SignInAttemptHandler"
AXES_FAILURE_LIMIT = env_int("SEEDBOARD_SIGNIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SEEDBOARD_SIGNIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "server.accounts.signin.signin_username"
# The same client address as the API's throttles (REST_FRAMEWORK["NUM_PROXIES"] below), so
# django-ipware's own guess from headers is never used.
AXES_CLIENT_IP_CALLABLE = "server.core.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "server.web.errors.signin_locked_out"
# Successful sign-ins are not logged by axes: only the failed attempts it counts are stored.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# Behind HTTPS (SEEDBOARD_TLS, or the older SEEDBOARD_SECURE_COOKIES): cookies over HTTPS only,
# HSTS, and plain-HTTP requests redirected.
SEEDBOARD_TLS = env_bool("SEEDBOARD_TLS", False)
SEEDBOARD_SECURE_COOKIES = env_bool("SEEDBOARD_SECURE_COOKIES", False) or SEEDBOARD_TLS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SEEDBOARD_SECURE_COOKIES
SECURE_HSTS_SECONDS = env_int("SEEDBOARD_HSTS_SECONDS", 31_536_000, minimum=0) if SEEDBOARD_TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SEEDBOARD_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading asks browsers to ship the domain as HTTPS-only, a commitment hard to take back:
# an operator opts in. Not preloading is a choice, so `check --deploy` is not to warn about it.
SECURE_HSTS_PRELOAD = env_bool("SEEDBOARD_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_SSL_REDIRECT = env_bool("SEEDBOARD_SSL_REDIRECT", SEEDBOARD_TLS)
# Health checks of a container runtime call the server over plain HTTP from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# The headers every response gets (SecurityMiddleware, XFrameOptionsMiddleware); these are
# Django's defaults, written out because the tests and docs promise them.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve static files from the apps' folders too, so the API docs work before collectstatic
# (the embedded default and the tests); production images run collectstatic.
WHITENOISE_USE_FINDERS = True
warnings.filterwarnings("ignore", message="No directory at")

# A metric batch of 50,000 points with long keys is a few MB of JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("SEEDBOARD_MAX_REQUEST_BYTES", 32 * 1024 * 1024, minimum=1024)
SEEDBOARD_MAX_BATCH_POINTS = 50_000
# Query strings beyond this get a 414 (gunicorn's limit_request_line caps the whole request line).
SEEDBOARD_MAX_QUERY_STRING = env_int("SEEDBOARD_MAX_QUERY_STRING", 32 * 1024, minimum=1024)
# The API's SQL statements are cancelled after this long (0: never), so no request holds the
# database; set on web connections only (server/wsgi.py), never on workers' or migrations'.
SEEDBOARD_STATEMENT_TIMEOUT_MS = env_int("SEEDBOARD_STATEMENT_TIMEOUT_MS", 5000, minimum=0)

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["server.accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "server.accounts.authentication.TokenScopePermission",
    ],
    "DEFAULT_RENDERER_CLASSES": ["server.core.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["server.core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "server.core.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["server.core.throttling.UserThrottle"],
    "UNAUTHENTICATED_USER": None,
    # The client address of a request is REMOTE_ADDR unless trusted proxies add X-Forwarded-For.
    "NUM_PROXIES": SEEDBOARD_NUM_PROXIES,
}
SEEDBOARD_THROTTLE_ENABLED = env_bool("SEEDBOARD_THROTTLE_ENABLED", True)
# Generous: an SDK sends large batches, so a few requests a second is already heavy use.
SEEDBOARD_THROTTLE_RATE = env_rate("SEEDBOARD_THROTTLE_RATE", "100000/hour")
# Requests with no or a wrong token, per client address: enough for the API docs, not for guessing.
SEEDBOARD_ANON_THROTTLE_RATE = env_rate("SEEDBOARD_ANON_THROTTLE_RATE", "300/minute")
# Sign-in attempts (the web UI's form) per client address.
SEEDBOARD_SIGNIN_THROTTLE_RATE = env_rate("SEEDBOARD_SIGNIN_THROTTLE_RATE", "10/minute")

SPECTACULAR_SETTINGS = {
    "TITLE": "Seedboard API",
    "DESCRIPTION": (
        "Log runs, hyperparameters and metric time series; compare model variants across seeds. "
        "Authenticate with `Authorization: Bearer <token>`. Errors are "
        '`{"error": {"code", "message", "field"}}` with a 4xx status.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "server.tracking.models.Run.Status",
        "StatsStatusEnum": "server.stats.models.Status",
    },
}

# Celery: Redis when REDIS_URL is set; otherwise the embedded default runs tasks in-process
# (eager), which needs no broker server and suits one user on a laptop.
# Eager tasks still open a producer: name a host so kombu does not warn about a missing one.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# With acks_late, a task whose worker died is handed out again only after this many seconds,
# so it must exceed the longest task (a full project recompute takes seconds, not minutes).
# The tests lower it to see a killed worker's task come back.
SEEDBOARD_CELERY_VISIBILITY_TIMEOUT = env_int("SEEDBOARD_CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
# Look for such tasks every 2 s (kombu's default scans only every 10 x 10 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": SEEDBOARD_CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 2,
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULE = {
    "runs-mark-crashed": {"task": "seedboard.runs_mark_crashed", "schedule": 60.0},
    "stats-requeue": {"task": "seedboard.stats_requeue", "schedule": 60.0},
    "overviews-requeue": {"task": "seedboard.overviews_requeue", "schedule": 60.0},
}
# A running run without a heartbeat for this long is marked crashed (the SDK beats every ~15 s).
SEEDBOARD_HEARTBEAT_TIMEOUT = env_int("SEEDBOARD_HEARTBEAT_TIMEOUT", 600, minimum=30)
# Statistics waiting this long for a recompute that never started (a broker outage lost the
# message) are queued again by the stats-requeue beat task; one "computing" for this long plus
# the visibility timeout lost its worker and its message.
SEEDBOARD_STATS_REQUEUE_AFTER = env_int("SEEDBOARD_STATS_REQUEUE_AFTER", 600, minimum=10)
# A recompute runs this long after the change that queued it, so the changes of that moment share it.
SEEDBOARD_RECOMPUTE_DELAY_MS = env_int("SEEDBOARD_RECOMPUTE_DELAY_MS", 5000, minimum=0)
# A statistics row whose recompute was stopped this many times in a row before it finished
# (its worker killed: out of memory, SIGKILL) is marked failed instead of computed again by the
# re-delivered task; the next change of its inputs queues it again (models.py).
SEEDBOARD_STATS_MAX_INTERRUPTED = env_int("SEEDBOARD_STATS_MAX_INTERRUPTED", 2, minimum=1)
# A prefork worker child whose resident memory has grown past this many MiB is replaced after
# its current task (Celery checks between tasks, so this bounds growth over many tasks, not one
# task; the statistics bound a comparison's own memory, ~0.4 GiB for 500 variants x 2 tasks).
# 0 turns the limit off.
SEEDBOARD_WORKER_MAX_MEMORY_MB = env_int("SEEDBOARD_WORKER_MAX_MEMORY_MB", 1024, minimum=0)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = SEEDBOARD_WORKER_MAX_MEMORY_MB * 1024 or None  # Celery counts KiB
# No task runs longer than this (prefork pool): at the soft limit the task raises, so a
# recompute records its error; 30 s later the child is killed, which counts as an interruption.
# Keep it below the visibility timeout, or Redis hands a still-running task to another worker.
# The limits travel in each task message from the process that queues it: set it alike for the
# web server and the workers.
SEEDBOARD_TASK_TIME_LIMIT = env_int("SEEDBOARD_TASK_TIME_LIMIT", 900, minimum=2)
CELERY_TASK_SOFT_TIME_LIMIT = SEEDBOARD_TASK_TIME_LIMIT - min(30, SEEDBOARD_TASK_TIME_LIMIT // 2)
CELERY_TASK_TIME_LIMIT = SEEDBOARD_TASK_TIME_LIMIT
# Test hook: every statistics recompute sleeps this long after claiming its row, so a test
# can kill a worker in the middle of one. Always 0 outside tests.
SEEDBOARD_STATS_TEST_DELAY_MS = env_int("SEEDBOARD_STATS_TEST_DELAY_MS", 0, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("SEEDBOARD_LOG_LEVEL", "WARNING")},
}
