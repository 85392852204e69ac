"""Configuration: built-in defaults, then ``EXCHANGE_*`` environment variables.

Nothing here runs at import time. :func:`load` is called by the app factory and
:func:`validate` refuses a configuration that would be unsafe or unusable, so a
mistake shows up as one clear message at start-up instead of a 500 later on.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess  # nosec B404: tesseract --list-langs, a fixed argv
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

ENVIRONMENTS = ("development", "production", "testing")
MIN_SECRET_LENGTH = 32
WEAK_SECRETS = {"dev", "secret", "changeme", "change-me", "development", "password"}
# Where `make run` serves the site: the address account links lead to outside production.
DEVELOPMENT_SITE_URL = "http://127.0.0.1:5000"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# How long a sign-in lasts: a session cookie at most a day after it was last written, a
# remember-me cookie 30 days; a form's CSRF token is good for 4 hours after the page loaded.
SESSION_LIFETIME = timedelta(hours=24)
REMEMBER_ME_LIFETIME = timedelta(days=30)
CSRF_TOKEN_LIFETIME_S = 4 * 3600
# Tesseract's language codes joined by "+": eng+fra+spa.
OCR_LANGUAGES_PATTERN = re.compile(r"^[a-z][a-z_]{2,}(\+[a-z][a-z_]{2,})*$")


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says what to change."""


def defaults(instance_dir: Path) -> dict[str, Any]:
    """Embedded defaults: one machine, no services, everything in the instance folder."""
    return {
        "ENV": "production",
        "DATABASE_URL": f"sqlite:///{instance_dir / 'exchange.sqlite3'}",
        "STORAGE_URL": (instance_dir / "files").as_uri(),
        "INDEX_DIR": str(instance_dir / "index"),
        "SECRET_KEY": None,  # nosec B105: no secret here; validate() insists on a strong one
        "MAX_UPLOAD_MB": 25,
        "STARTER_DOWNLOADS": 3,
        "RATELIMIT_STORAGE_URL": "memory://",
        "WORKERS": 1,  # processes serving this node; infra/gunicorn.conf.py tells the app
        "SITE_NAME": "Toolkit Exchange",
        "EXTRACT_TIMEOUT_S": 20,
        "EXTRACT_MEMORY_MB": 512,
        # Draw the first page of office files without a thumbnail with LibreOffice, in a
        # job after the share. None: on when LibreOffice's soffice is installed.
        "OFFICE_PREVIEWS": None,
        # Read scanned pages and pictures with Tesseract (None: on when it is installed),
        # in these languages (Tesseract's codes joined by "+"), at most OCR_PAGE_LIMIT pages
        # of a file, each within OCR_SECONDS_PER_PAGE.
        "OCR": None,
        "OCR_LANGUAGES": "eng+fra+spa",
        "OCR_PAGE_LIMIT": 20,
        "OCR_SECONDS_PER_PAGE": 30,
        # redis://host:6379/0 puts jobs on a Redis queue run by `exchange worker`; empty:
        # they run in this process, one at a time, right after the commit that asked.
        "QUEUE_URL": "",
        # Without a queue: run each job in the thread whose commit asked for it, right after
        # that commit, instead of on the background thread (the tests' setting: a share is
        # read, credited and searchable when its request returns, by the same handler).
        "JOBS_EAGER": False,
        "JOBS_EAGER_EXCEPT": (),  # with JOBS_EAGER, jobs by these names still wait their turn
        "QUEUE_NAME": "exchange",  # one per site sharing a Redis (tests use one each)
        "QUEUE_RETRIES": "10,60,300",  # seconds before each retry of a failed job
        "JOB_TIMEOUT_S": 600,
        # A worker says it is alive this often during a job; a job whose worker stayed
        # silent for three times as long was abandoned (the worker died) and is retried.
        "QUEUE_HEARTBEAT_S": 10,
        "QUEUE_MAINTENANCE_S": 30,  # how often an idle worker looks for abandoned jobs
        "PRESIGN_SECONDS": 60,
        "QUOTA_FILES": 500,
        "QUOTA_MB": 2000,
        # e.g. https://toolkit.example.org: every link in an email or a credited file starts
        # with it, and requests naming any other host are refused. Required in production.
        "SITE_URL": "",
        # More host names to answer besides SITE_URL's, e.g. "127.0.0.1" for health checks.
        "TRUSTED_HOSTS": "",
        "SMTP_URL": "",  # smtp://user:pass@host:587?starttls=true; empty: emails go to the log
        "MAIL_FROM": "",
        # Send each notification email by a job right after the commit that wrote it;
        # off, they wait in the outbox for `exchange send-emails`.
        "EMAIL_JOBS": True,
        # Show account links (confirm, reset) on the page instead of only emailing them:
        # for a development server without email. Never in production.
        "MAIL_LINKS_ON_PAGE": None,
        "S3_CONNECT_TIMEOUT_S": 3,
        "S3_READ_TIMEOUT_S": 20,
        # Unreferenced objects younger than this may belong to a share still committing.
        "DOCTOR_ORPHAN_GRACE_S": 3600,
        # How many proxies (nginx, a load balancer) sit in front; 0 trusts no X-Forwarded-*.
        "PROXY_FIX": 0,
        "METRICS": False,
        "BENCH_ENDPOINTS": False,
        "READY_TIMEOUT_S": 2.0,
        "READY_MAX_INDEX_LAG": 100,
        # Resources "More like this" shows on a resource page; 0 leaves the block out.
        "RELATED_RESOURCES": 6,
        # Flask refuses a session cookie older than this, whether or not it is "permanent".
        "PERMANENT_SESSION_LIFETIME": SESSION_LIFETIME,
        "REMEMBER_COOKIE_DURATION": REMEMBER_ME_LIFETIME,
        "WTF_CSRF_TIME_LIMIT": CSRF_TOKEN_LIFETIME_S,
    }


def instance_dir_from_env() -> Path:
    """The instance folder: ``EXCHANGE_INSTANCE_DIR`` or ``./instance``, made absolute."""
    return Path(os.environ.get("EXCHANGE_INSTANCE_DIR", "instance")).resolve()


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from defaults, the environment and test overrides, then validate."""
    app.config.update(defaults(Path(app.instance_path)))
    if test_config is None:
        app.config.from_prefixed_env("EXCHANGE")
    else:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"] and app.config["ENV"] != "production":
        app.config["SECRET_KEY"] = development_secret(Path(app.instance_path))
    try:
        validate(app.config)
    except ConfigError as exc:
        raise ConfigError(with_environment_hint(str(exc), test_config)) from None
    derive(app.config)


def with_environment_hint(problem: str, test_config: dict[str, Any] | None) -> str:
    """``problem``, and when ``EXCHANGE_ENV`` was never set, why production's rules applied
    and what to set for a server on this machine: an operator who typed ``exchange run``
    meant the development server more often than not."""
    if test_config is not None or "EXCHANGE_ENV" in os.environ:
        return problem
    return (
        f"EXCHANGE_ENV is not set, so the production rules apply: {problem} "
        "For a development server on this machine, set EXCHANGE_ENV=development "
        "(as `make run` does)."
    )


def development_secret(instance_dir: Path) -> str:
    """A random secret made once and kept, so sessions survive restarts of ``make run``."""
    path = instance_dir / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def validate(config: dict[str, Any]) -> None:
    """Refuse settings that would be unsafe or cannot work, naming the variable to fix."""
    if config["ENV"] not in ENVIRONMENTS:
        raise ConfigError(f"EXCHANGE_ENV must be one of {', '.join(ENVIRONMENTS)}.")
    secret = config.get("SECRET_KEY") or ""
    if len(secret) < MIN_SECRET_LENGTH or secret.lower() in WEAK_SECRETS:
        raise ConfigError(
            "EXCHANGE_SECRET_KEY is missing or weak: set it to a random value of at least "
            f"{MIN_SECRET_LENGTH} characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    for name in ("MAX_UPLOAD_MB", "STARTER_DOWNLOADS", "QUOTA_FILES", "QUOTA_MB"):
        if not isinstance(config[name], int) or config[name] < 0:
            raise ConfigError(f"EXCHANGE_{name} must be a whole number, 0 or more.")
    if not str(config["STORAGE_URL"]).startswith(("file://", "s3://")):
        raise ConfigError("EXCHANGE_STORAGE_URL must start with file:// or s3://.")
    validate_site(config)
    validate_operations(config)
    validate_office_previews(config)
    validate_ocr(config)
    validate_rate_limits(config)
    validate_queue(config)


def validate_queue(config: dict[str, Any]) -> None:
    """The job queue's settings: a Redis address, a name, retries and time limits."""
    url = str(config["QUEUE_URL"] or "")
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            "EXCHANGE_QUEUE_URL must be a Redis address, e.g. redis://127.0.0.1:6379/0, "
            "or empty to run jobs in the web process."
        )
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,80}", str(config["QUEUE_NAME"])):
        raise ConfigError("EXCHANGE_QUEUE_NAME must be letters, digits, '-', '_', '.' or ':'.")
    if queue_retry_delays(config) is None:
        raise ConfigError(
            "EXCHANGE_QUEUE_RETRIES must be seconds to wait before each retry, separated by "
            "commas (e.g. 10,60,300), or empty for no retries."
        )
    for name in ("JOB_TIMEOUT_S", "QUEUE_HEARTBEAT_S", "QUEUE_MAINTENANCE_S"):
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"EXCHANGE_{name} must be a whole number of seconds, 1 or more.")


def queue_retry_delays(config: dict[str, Any]) -> list[int] | None:
    """The seconds to wait before each retry of a failed job; None when unreadable."""
    text = str(config["QUEUE_RETRIES"]).replace(" ", "")
    parts = text.split(",") if text else []
    if not all(part.isdigit() for part in parts):
        return None
    return [int(part) for part in parts]


def validate_rate_limits(config: dict[str, Any]) -> None:
    """Refuse rate limits that each worker would count on its own.

    With ``memory://`` every worker process keeps its own counters, so N workers let N
    times the limit through: with 4 workers, 40 password guesses a minute instead of 10.
    """
    workers = config["WORKERS"]
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError("EXCHANGE_WORKERS must be the number of worker processes, 1 or more.")
    if config["ENV"] != "production" or workers == 1 or not config.get("RATELIMIT_ENABLED", True):
        return
    if str(config["RATELIMIT_STORAGE_URL"]).startswith("memory://"):
        raise ConfigError(
            f"EXCHANGE_RATELIMIT_STORAGE_URL is memory://, so each of the {workers} workers "
            f"would count rate limits on its own and let {workers} times as many login "
            "attempts through: set it to a Redis shared by every worker and node, e.g. "
            "redis://127.0.0.1:6379/0, or run a single worker."
        )


def validate_operations(config: dict[str, Any]) -> None:
    """The settings of a production deployment: proxies, metrics, readiness checks."""
    proxies = config["PROXY_FIX"]
    if isinstance(proxies, bool) or not isinstance(proxies, int) or not 0 <= proxies <= 5:
        raise ConfigError("EXCHANGE_PROXY_FIX must be the number of proxies in front, 0 to 5.")
    for name in ("METRICS", "BENCH_ENDPOINTS", "EMAIL_JOBS"):
        if config[name] not in (True, False, 0, 1):
            raise ConfigError(f"EXCHANGE_{name} must be 1 (on) or 0 (off).")
    timeout = config["READY_TIMEOUT_S"]
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 30:
        raise ConfigError("EXCHANGE_READY_TIMEOUT_S must be a number of seconds, up to 30.")
    if not isinstance(config["READY_MAX_INDEX_LAG"], int) or config["READY_MAX_INDEX_LAG"] < 0:
        raise ConfigError("EXCHANGE_READY_MAX_INDEX_LAG must be a whole number, 0 or more.")
    related = config["RELATED_RESOURCES"]
    if isinstance(related, bool) or not isinstance(related, int) or not 0 <= related <= 12:
        raise ConfigError("EXCHANGE_RELATED_RESOURCES must be a whole number from 0 to 12.")


def validate_office_previews(config: dict[str, Any]) -> None:
    """Office previews need LibreOffice: asking for them without it is a mistake to say
    at start-up, not a page that silently never gets its pictures."""
    wanted = config["OFFICE_PREVIEWS"]
    if wanted not in (None, True, False, 0, 1):
        raise ConfigError("EXCHANGE_OFFICE_PREVIEWS must be 1 (on) or 0 (off).")
    if wanted and shutil.which("soffice") is None:
        raise ConfigError(
            "EXCHANGE_OFFICE_PREVIEWS is on but LibreOffice is not installed (no soffice "
            "on the PATH): install it, e.g. apt-get install libreoffice-writer-nogui "
            "libreoffice-calc-nogui libreoffice-impress-nogui, or set it to 0."
        )


def validate_ocr(config: dict[str, Any]) -> None:
    """Limits that bound a share's time, and languages Tesseract really has: asking for OCR
    without them is a mistake to say at start-up, not scans that silently stay unread."""
    if config["OCR"] not in (None, True, False, 0, 1):
        raise ConfigError("EXCHANGE_OCR must be 1 (on) or 0 (off).")
    pages = config["OCR_PAGE_LIMIT"]
    if isinstance(pages, bool) or not isinstance(pages, int) or not 1 <= pages <= 500:
        raise ConfigError("EXCHANGE_OCR_PAGE_LIMIT must be a whole number of pages, 1 to 500.")
    seconds = config["OCR_SECONDS_PER_PAGE"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 600:
        raise ConfigError("EXCHANGE_OCR_SECONDS_PER_PAGE must be a number of seconds, up to 600.")
    languages = config["OCR_LANGUAGES"]
    if not isinstance(languages, str) or not OCR_LANGUAGES_PATTERN.match(languages):
        raise ConfigError(
            "EXCHANGE_OCR_LANGUAGES must be Tesseract's language codes joined by +, "
            "e.g. eng+fra+spa."
        )
    wanted = config["OCR"]
    if wanted or (wanted is None and shutil.which("tesseract")):
        _check_tesseract(languages)


def _check_tesseract(languages: str) -> None:
    if shutil.which("tesseract") is None:
        raise ConfigError(
            "EXCHANGE_OCR is on but Tesseract is not installed (no tesseract on the PATH): "
            "install it, e.g. apt-get install tesseract-ocr tesseract-ocr-eng "
            "tesseract-ocr-fra tesseract-ocr-spa, or set it to 0."
        )
    missing = set(languages.split("+")) - tesseract_languages()
    if missing:
        raise ConfigError(
            f"EXCHANGE_OCR_LANGUAGES names {', '.join(sorted(missing))}, which Tesseract "
            "does not have here: install its language data (e.g. apt-get install "
            f"tesseract-ocr-{sorted(missing)[0]}) or leave it out."
        )


def tesseract_languages() -> set[str]:
    """The language data the installed Tesseract has (``tesseract --list-langs``)."""
    listing = subprocess.run(  # nosec B603 B607: a fixed argv, no shell
        ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=20, check=False
    )
    lines = (listing.stdout + listing.stderr).splitlines()
    return {line.strip() for line in lines if line.strip() and " " not in line.strip()}


def validate_site(config: dict[str, Any]) -> None:
    """The public address links are built from, never from a request's Host header."""
    if not config["SITE_URL"] and config["ENV"] == "production":
        raise ConfigError(
            "EXCHANGE_SITE_URL is required in production: the site's public address, e.g. "
            "https://toolkit.example.org (links in emails and credited files start with it)."
        )
    parts = urlsplit(str(config["SITE_URL"] or DEVELOPMENT_SITE_URL))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(
            "EXCHANGE_SITE_URL must be the site's address, like https://toolkit.example.org."
        )
    if not isinstance(config["TRUSTED_HOSTS"], str | list | tuple):
        raise ConfigError("EXCHANGE_TRUSTED_HOSTS must be host names separated by commas.")


def derive_site(config: dict[str, Any]) -> None:
    """Fix the site's address and the hosts a request may name (Flask answers others 400).

    Outside production the loopback names are trusted too, so `make run` answers on both
    http://127.0.0.1:5000 and http://localhost:5000.
    """
    config["SITE_URL"] = str(config["SITE_URL"] or DEVELOPMENT_SITE_URL).rstrip("/")
    extra = config["TRUSTED_HOSTS"]
    names = extra.replace(",", " ").split() if isinstance(extra, str) else list(extra)
    if config["ENV"] != "production":
        names += LOOPBACK_HOSTS
    site_host = urlsplit(config["SITE_URL"]).hostname
    config["TRUSTED_HOSTS"] = list(dict.fromkeys([site_host, *names]))


def derive_sessions(config: dict[str, Any]) -> None:
    """Cookies only the browser may read (how long they last is set in :func:`defaults`)."""
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    config["REMEMBER_COOKIE_SAMESITE"] = "Lax"


def derive(config: dict[str, Any]) -> None:
    """Translate our settings into the names Flask and its extensions read."""
    if config["MAIL_LINKS_ON_PAGE"] is None:
        config["MAIL_LINKS_ON_PAGE"] = config["ENV"] == "development" and not config["SMTP_URL"]
    if config["ENV"] == "production":
        config["MAIL_LINKS_ON_PAGE"] = False
    wanted = config["OFFICE_PREVIEWS"]
    config["OFFICE_PREVIEWS"] = bool(shutil.which("soffice") if wanted is None else wanted)
    config["OCR"] = bool(shutil.which("tesseract") if config["OCR"] is None else config["OCR"])
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    # Room for the form fields around the files; the per-file limit is checked separately.
    config["MAX_CONTENT_LENGTH"] = (config["MAX_UPLOAD_MB"] + 1) * 1024 * 1024
    config["MAX_FORM_MEMORY_SIZE"] = 1024 * 1024
    config["RATELIMIT_STORAGE_URI"] = config["RATELIMIT_STORAGE_URL"]
    config["RATELIMIT_HEADERS_ENABLED"] = True
    derive_site(config)
    derive_sessions(config)
    config["TESTING"] = config["ENV"] == "testing" or config.get("TESTING", False)
