"""Settings for fangkong, read from the environment (and an optional ``.env`` file).

Every setting that differs between machines comes from an environment variable, documented
in ``.env.example``. With no environment at all the app runs on a local SQLite file in
development mode, so ``make run`` works on a fresh machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# The key shipped in .env.example. Accepted for development only.
EXAMPLE_SECRET_KEY = "dev-only-insecure-key-change-me"


def _load_dotenv(path: Path) -> None:
    """Read KEY=VALUE lines from ``path`` into os.environ, without overriding real variables."""
    if not path.is_file():
        return
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ImproperlyConfigured(
                f"{path.name} line {number}: expected KEY=VALUE, got {raw!r}"
            )
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


if os.environ.get("FANGKONG_DOTENV", "1") == "1":
    _load_dotenv(BASE_DIR / ".env")


def env_str(name: str, default: str = "") -> str:
    """A string from the environment; ``NAME_FILE`` (a path) takes precedence, for secrets."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value in ("True", "true", "1"):
        return True
    if value in ("False", "false", "0"):
        return False
    raise ImproperlyConfigured(f"{name} must be True or False, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", EXAMPLE_SECRET_KEY)
if not DEBUG and SECRET_KEY in ("", EXAMPLE_SECRET_KEY):
    raise ImproperlyConfigured(
        "DEBUG=False needs a real SECRET_KEY (or SECRET_KEY_FILE): the example key is public. "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "simple_history",
    "axes",
    "ninja",
    "fangkong.core",
    "fangkong.org",
    "fangkong.screening",
    "fangkong.alerts",
    "fangkong.observation",
    "fangkong.reporting",
    "fangkong.command",
    "fangkong.checkpoints",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fangkong.core.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fangkong.urls"
WSGI_APPLICATION = "fangkong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fangkong" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "fangkong.core.context_processors.navigation",
            ],
        },
    }
]

# Database: a SQLite file by default, PostgreSQL (or another) by DATABASE_URL.
SQLITE_PATH = Path(os.environ.get("SQLITE_PATH") or BASE_DIR / "var" / "fangkong.sqlite3")
DATABASE_URL = env_str("DATABASE_URL", "")
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 600)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True
        )
    }
else:
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "CONN_MAX_AGE": CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # Writers queue for the lock at BEGIN instead of failing mid-transaction.
                # Page cache and memory map are capped at 64 MB each, so a process's memory
                # stays bounded however large the database grows (a 256 MB map made a
                # 200,000-row export peak at 165 MB against 116 MB at 100,000).
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-64000;"
                    "PRAGMA temp_store=MEMORY;"
                    "PRAGMA mmap_size=67108864;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"

# Accounts: password rules, lockout, idle timeout.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "fangkong.core.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Language and time.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "fangkong" / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# Static files: Bootstrap from npm (node_modules), served by the app itself (WhiteNoise).
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [("bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist")]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Lists.
PAGE_SIZE = env_int("PAGE_SIZE", 50)

# Imports from Excel and CSV: a larger file, or one with more data rows, is refused with a
# message. Uploaded files wait in IMPORT_DIR (private to the app) until imported or replaced.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 50_000_000)
IMPORT_DIR = BASE_DIR / "var" / "imports"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}


# Lockout counts failures per user name, wherever they come from: an account guessed from many
# addresses is still locked. (axes.W006 asks for the address as well, which would let an
# attacker who rotates addresses keep guessing.)
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# A lockout lasts LOGIN_LOCKOUT_MINUTES from the last failure that caused it; attempts during
# the lockout do not extend it (the locked-out page promises a fixed time).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
