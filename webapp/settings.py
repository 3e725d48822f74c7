"""Django settings: everything that differs between machines comes from the environment.

Defaults give a working laptop install: SQLite in DATA_DIR, Redis on localhost (the run
command starts a private one when REDIS_URL is unset)."""
from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from webapp.env import env_bool, env_choice, env_dir, env_int, env_list, env_str, env_url, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = env_dir("DATA_DIR", BASE_DIR / "var")

SECRET_KEY = secret_key(DATA_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The project's apps come first so that their templates (registration/login.html ...) win over
# the admin's of the same name.
INSTALLED_APPS = [
    "webapp.accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' Swagger UI from its own static files, not from a CDN
    "webapp.jobs",
    "webapp.papers",
    "webapp.imports",
    "webapp.reports",
    "webapp.ideas",
    "webapp.maps",
    "webapp.library",
    "webapp.feeds",
    "webapp.site",
    "webapp.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "webapp.http.content_security_policy",
    # Serves the project's own static files (no CDN), also when DEBUG is off.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

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


def _database() -> dict:
    url = env_url("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
                  schemes=("sqlite", "postgres", "postgresql", "pgsql"))
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not valid: {exc}") from None
    if config["ENGINE"].endswith("sqlite3"):
        # WAL lets the web process read while a worker writes; the test database is a
        # file (not :memory:) so that a Celery worker thread sees the same data.
        config["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 30}
        config["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at every start when it is missing (collectstatic is optional)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # no collectstatic needed for a laptop install or the tests
REDIS_URL = env_url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "redis+socket"))
REDIS_URL_FOR_CACHE = REDIS_URL.replace("redis+socket://", "unix://")

# Uploads live in DATA_DIR, outside any directory the web server serves.
UPLOAD_DIR = DATA_DIR / "uploads"
MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 200, minimum=1)
# Per client (user, token or address): searches per minute, imports per hour; 0 = no limit
# (the load test runs with RATE_LIMIT_SEARCH_PER_MIN=0).
RATE_LIMITS = {"search": (env_int("RATE_LIMIT_SEARCH_PER_MIN", 120, minimum=0), 60),
               "import": (env_int("RATE_LIMIT_IMPORTS_PER_HOUR", 20, minimum=0), 3600),
               # splitting an idea and ranking inspirations run the encoder in the web process
               "split": (env_int("RATE_LIMIT_SPLITS_PER_MIN", 30, minimum=0), 60),
               "inspire": (env_int("RATE_LIMIT_INSPIRE_PER_MIN", 30, minimum=0), 60)}
# Jobs that queue LLM work, per user and hour, counted on the job rows (webapp.writes; an idea
# run's own reports count as reports), and the LLM jobs waiting across all users; 0 = no limit.
JOB_QUOTAS_PER_HOUR = {"reports.noveltyreport": env_int("QUOTA_REPORTS_PER_HOUR", 100, minimum=0),
                       "ideas.idearun": env_int("QUOTA_IDEA_RUNS_PER_HOUR", 20, minimum=0)}
LLM_QUEUE_MAX = env_int("LLM_QUEUE_MAX", 200, minimum=0)

# Rate limits and cross-process caches share the broker's Redis.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL_FOR_CACHE,
        "KEY_PREFIX": "ideation",
        # An unreachable Redis costs a search at most this long before the limiter fails open.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# --- E-mail (password reset, digests) ---------------------------------------------------
# SMTP when EMAIL_HOST is set; otherwise every mail is written as a file into DATA_DIR/mail
# (nothing leaves the machine, and the pages say so), or printed with EMAIL_BACKEND=console.
EMAIL_HOST = env_str("EMAIL_HOST")
_EMAIL_BACKENDS = {"smtp": "django.core.mail.backends.smtp.EmailBackend",
                   "file": "django.core.mail.backends.filebased.EmailBackend",
                   "console": "django.core.mail.backends.console.EmailBackend"}
EMAIL_BACKEND = _EMAIL_BACKENDS[env_choice("EMAIL_BACKEND", "smtp" if EMAIL_HOST else "file",
                                           choices=tuple(_EMAIL_BACKENDS))]
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
EMAIL_FILE_PATH = DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Ideation Space <noreply@localhost>")
# Absolute links in mails and feeds (unsubscribe, papers): the address users reach the site at.
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Celery -----------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None  # job state lives on our own rows, not in Celery's backend
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# One task at a time per worker process: jobs are long, and prefetching would hide a
# queued job behind a busy process.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# An unacknowledged (acks_late) task is redelivered after this long; it must exceed the
# longest task, otherwise a slow job would run twice (the row claim makes that harmless).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 7200, minimum=60)}
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_SOFT_TIME_LIMIT", 3000, minimum=10)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TIME_LIMIT", 3600, minimum=10)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured(f"CELERY_TIME_LIMIT={CELERY_TASK_TIME_LIMIT} must exceed "
                               f"CELERY_SOFT_TIME_LIMIT={CELERY_TASK_SOFT_TIME_LIMIT} (the soft limit fails the job "
                               f"with its reason first)")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A job whose worker stopped sending heartbeats for this long is re-queued by beat. A running
# job's heartbeat is written every JOB_HEARTBEAT_S by a thread (webapp.jobs.lifecycle), so a live
# worker inside one long step never looks stale.
JOB_STALE_AFTER_S = env_int("JOB_STALE_AFTER_S", 120, minimum=10)
JOB_HEARTBEAT_S = env_int("JOB_HEARTBEAT_S", 5, minimum=1)
if JOB_HEARTBEAT_S * 3 > JOB_STALE_AFTER_S:
    raise ImproperlyConfigured(f"JOB_HEARTBEAT_S={JOB_HEARTBEAT_S} must be at most a third of "
                               f"JOB_STALE_AFTER_S={JOB_STALE_AFTER_S}, or live jobs would look stale")

# Soft time limits of a novelty report and of an idea run on the llm queue (the hard limits are
# 30 s more).
REPORT_TIME_LIMIT_S = env_int("REPORT_TIME_LIMIT_S", 120, minimum=10)
IDEAS_TIME_LIMIT_S = env_int("IDEAS_TIME_LIMIT_S", 300, minimum=10)
# The llm-queue worker loads the model when its process starts (the launcher sets it).
LLM_PRELOAD = env_bool("LLM_PRELOAD", False)

IMPORT_BATCH_SIZE = env_int("IMPORT_BATCH_SIZE", 500, minimum=1)
# Papers per indexing task: small enough that a killed worker loses little, large enough
# that the encoder batches well.
INDEX_CHUNK_SIZE = env_int("INDEX_CHUNK_SIZE", 256, minimum=1)
# FAISS indexes; on several machines, a path on shared storage.
INDEX_AFTER_IMPORT = env_bool("INDEX_AFTER_IMPORT", True)
INDEX_DIR = env_dir("INDEX_DIR", DATA_DIR / "index")

# Feeds (webapp.feeds): the sources' base URLs (tests point them at a local replay server), the
# folder under which staff may watch folders, how long a file must sit unchanged before it is
# imported, feeds per user, and the HTTP client's tries per page and timeout.
ARXIV_OAI_URL = env_url("ARXIV_OAI_URL", "https://oaipmh.arxiv.org/oai", schemes=("http", "https"))
OPENALEX_URL = env_url("OPENALEX_URL", "https://api.openalex.org", schemes=("http", "https"))
FEED_FOLDER_ROOT = env_dir("FEED_FOLDER_ROOT", DATA_DIR / "inbox")
FEED_FOLDER_SETTLE_S = env_int("FEED_FOLDER_SETTLE_S", 10, minimum=0)
FEEDS_PER_USER = env_int("FEEDS_PER_USER", 20, minimum=0)
FEED_HTTP_TRIES = env_int("FEED_HTTP_TRIES", 5, minimum=1)
FEED_HTTP_TIMEOUT_S = env_int("FEED_HTTP_TIMEOUT_S", 60, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"],
             "level": env_choice("LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))},
    # FAISS logs each CPU build it tries and fails to load (AVX512, AVX2) at INFO in every process.
    "loggers": {"faiss.loader": {"level": "WARNING"}},
}
