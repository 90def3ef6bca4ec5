"""Configuration: defaults, then the environment, then the mapping given to ``create_app``."""

import os
from datetime import timedelta

ENV_KEYS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_KEY_PREFIX",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_TLS",
    "MAIL_FROM",
    "MAIL_MAX_ATTEMPTS",
    "SMS_SMPP_HOST",
    "SMS_SMPP_PORT",
    "SMS_SMPP_SYSTEM_ID",
    "SMS_SMPP_PASSWORD",
    "SMS_FROM",
    "BLAGIS_BASE_URL",
    "BLAGIS_EXTRA_HOSTS",
    "BLAGIS_RETENTION_MONTHS",
    "BLAGIS_ENV",
    "RATELIMIT_ENABLED",
    "BLAGIS_ACCESSIBILITY_CONTACT",
    "BLAGIS_TRUSTED_PROXIES",
    "PAGE_CACHE_SECONDS",
    "PAGE_CACHE_CHECK_SECONDS",
    "PERMANENT_SESSION_LIFETIME",
    "STAFF_SESSION_LIFETIME",
)


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot be used safely."""


def _bool(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgres://``/``postgresql://`` URLs and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(app, overrides: dict | None = None) -> None:
    """Fill ``app.config``; refuse to start without SECRET_KEY outside development/testing."""
    overrides = dict(overrides or {})
    env = {k: os.environ[k] for k in ENV_KEYS if os.environ.get(k) not in (None, "")}

    app.config.update(
        BLAGIS_ENV="production",
        SQLALCHEMY_DATABASE_URI=None,
        # No pool_pre_ping: blagis.dbtuning checks pooled connections more cheaply.
        SQLALCHEMY_ENGINE_OPTIONS={},
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_ENABLED=True,
        MAIL_SERVER=None,
        MAIL_PORT=25,
        MAIL_USERNAME=None,
        MAIL_PASSWORD=None,
        MAIL_USE_TLS=False,
        MAIL_FROM="Blagis <ne-pas-repondre@blagis.example>",
        MAIL_MAX_ATTEMPTS=8,
        MAIL_TIMEOUT=30,
        # A message claimed longer ago than this (a worker died mid-send) is claimed again.
        MAIL_CLAIM_TIMEOUT=600,
        # SMS over SMPP 3.4 (blagis.sms); without a host, no SMS is sent (call list instead).
        SMS_SMPP_HOST=None,
        SMS_SMPP_PORT=2775,
        SMS_SMPP_SYSTEM_ID=None,
        SMS_SMPP_PASSWORD=None,
        SMS_FROM="Blagis",
        SMS_TIMEOUT=10,
        # The public address: every absolute link, and the only Host answered to (see below).
        BLAGIS_BASE_URL=None,
        # Other Host names answered to (comma-separated), e.g. a monitor polling 127.0.0.1.
        BLAGIS_EXTRA_HOSTS="",
        BLAGIS_RETENTION_MONTHS=24,
        BLAGIS_ACCESSIBILITY_CONTACT="accessibilite@blagis.example",
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed (0: none).
        BLAGIS_TRUSTED_PROXIES=0,
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_DEFAULT_TIMEZONE="Europe/Paris",
        BLAGIS_LOCALES=("fr", "en"),
        PASSWORD_RESET_MAX_AGE=3600,
        EMAIL_CONFIRM_MAX_AGE=7 * 24 * 3600,
        # A session ends this long after its log-in (seconds), or sooner at log-out; staff
        # sessions, which open everyone's personal data, end after STAFF_SESSION_LIFETIME.
        PERMANENT_SESSION_LIFETIME=14 * 24 * 3600,
        STAFF_SESSION_LIFETIME=12 * 3600,
        # Keys in a shared Redis are prefixed so several sites (or test runs) never mix.
        RATELIMIT_KEY_PREFIX="blagis",
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        # Anonymous public pages kept in each worker's memory while unchanged (blagis.pagecache);
        # the age limit bounds what only the clock changes. 0 turns the cache off.
        PAGE_CACHE_SECONDS=30,
        # A worker reads the change counters at most this often (seconds, 0: every request):
        # another worker's or instance's change shows on kept pages after at most this delay.
        PAGE_CACHE_CHECK_SECONDS=1.0,
        PAGE_CACHE_MAX_ENTRIES=2000,
        PAGE_CACHE_MAX_BYTES=64 * 1024 * 1024,
    )
    app.config.update(env)
    app.config.update(overrides)

    if "DATABASE_URL" in overrides or "DATABASE_URL" in env:
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "blagis.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    uri = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("sqlite"):
        # A busy SQLite waits for the writer instead of failing with "database is locked".
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}

    # From the environment it is a string: "0" turns rate limits off (browser tests' server).
    app.config["RATELIMIT_ENABLED"] = _bool(app.config["RATELIMIT_ENABLED"])
    app.config["MAIL_PORT"] = int(app.config["MAIL_PORT"])
    app.config["MAIL_USE_TLS"] = _bool(app.config["MAIL_USE_TLS"])
    app.config["SMS_SMPP_PORT"] = int(app.config["SMS_SMPP_PORT"])
    app.config["MAIL_MAX_ATTEMPTS"] = max(1, int(app.config["MAIL_MAX_ATTEMPTS"]))
    app.config["BLAGIS_RETENTION_MONTHS"] = int(app.config["BLAGIS_RETENTION_MONTHS"])
    app.config["PAGE_CACHE_SECONDS"] = max(0, int(app.config["PAGE_CACHE_SECONDS"]))
    app.config["PAGE_CACHE_CHECK_SECONDS"] = max(0.0, float(app.config["PAGE_CACHE_CHECK_SECONDS"]))
    app.config["BLAGIS_TRUSTED_PROXIES"] = max(0, int(app.config["BLAGIS_TRUSTED_PROXIES"]))
    for key in ("PERMANENT_SESSION_LIFETIME", "STAFF_SESSION_LIFETIME"):
        value = app.config[key]
        if not isinstance(value, timedelta):
            value = timedelta(seconds=max(60, int(value)))
        app.config[key] = value
    relaxed = app.config["BLAGIS_ENV"] in {"development", "testing"} or app.config.get("TESTING")
    base_url = (app.config["BLAGIS_BASE_URL"] or "").rstrip("/")
    # Without an address, development links follow the host the browser used (blagis.urls);
    # production refuses to start (below), since links in mail would point nowhere.
    app.config["BLAGIS_BASE_URL_FROM_REQUEST"] = not base_url
    if base_url and "TRUSTED_HOSTS" not in overrides:
        # Flask answers 400 to any other Host header, before a view (or the page cache) runs.
        from blagis.urls import trusted_hosts

        app.config["TRUSTED_HOSTS"] = trusted_hosts(
            base_url, app.config["BLAGIS_EXTRA_HOSTS"], app.config["BLAGIS_ENV"] == "development"
        )
    base_url = base_url or "http://127.0.0.1:5000"
    app.config["BLAGIS_BASE_URL"] = base_url
    # Cookies only travel over TLS when the site is served over HTTPS.
    secure = base_url.startswith("https://")
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if key not in overrides:
            app.config[key] = secure

    if not app.config.get("SECRET_KEY"):
        if not relaxed:
            raise ConfigError(
                "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
                "value (for example: python -c 'import secrets; print(secrets.token_hex(32))'), "
                "or set BLAGIS_ENV=development to run locally."
            )
        # A development-only fallback: production refuses to start without SECRET_KEY.
        app.config["SECRET_KEY"] = "development-only-not-secret"  # noqa: S105
    if app.config["BLAGIS_BASE_URL_FROM_REQUEST"] and not relaxed:
        raise ConfigError(
            "BLAGIS_BASE_URL is not set. Set it to the site's public address (for example "
            "https://participation.example.fr): links in pages, the API and mail are built from "
            "it, and requests for any other host are refused. Or set BLAGIS_ENV=development."
        )
