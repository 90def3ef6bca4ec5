"""Rate limits on the actions that attract abuse, each tunable from the configuration.

Views say ``@limit("RATELIMIT_LOGIN")``; the decorator only marks the view. Each application
gets its own Flask-Limiter instance in ``init_app`` (after the blueprints are registered),
which wraps the marked views. One limiter per app keeps apps independent: a test app with
limits on does not switch them on for another, and each reads its own storage
(``RATELIMIT_STORAGE_URI``: memory by default, Redis in production so that every gunicorn
worker and server shares the counts) and key prefix (``RATELIMIT_KEY_PREFIX``).
"""

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

DEFAULTS = {
    "RATELIMIT_LOGIN": "10 per minute;50 per hour",
    "RATELIMIT_REGISTER": "5 per minute;20 per hour",
    "RATELIMIT_RESET": "5 per minute;20 per hour",
    "RATELIMIT_PROPOSE": "5 per minute;30 per day",
    "RATELIMIT_REGISTRATION": "20 per minute",
    "RATELIMIT_REPORT": "10 per minute;50 per day",
}

_MARK = "_blagis_ratelimit_key"


def limit(key: str):
    """Decorator limiting a view's POSTs by client address with the configured value."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown rate limit {key!r}: add it to blagis.ratelimits.DEFAULTS")

    def decorator(view):
        setattr(view, _MARK, key)
        return view

    return decorator


def _provider(key: str):
    return lambda: current_app.config.get(key) or DEFAULTS[key]


def init_app(app) -> None:
    """Give ``app`` its limiter and wrap every view marked with ``limit``."""
    limiter = Limiter(key_func=get_remote_address, default_limits=[])
    limiter.init_app(app)
    app.extensions["blagis_limiter"] = limiter
    for endpoint, view in list(app.view_functions.items()):
        key = getattr(view, _MARK, None)
        if key is not None:
            app.view_functions[endpoint] = limiter.limit(
                _provider(key), methods=["POST"], scope=key.lower()
            )(view)


def current_limiter() -> Limiter:
    return current_app.extensions["blagis_limiter"]


def retry_after_seconds() -> int | None:
    """Seconds until the limit that was just hit resets (None outside a limited request)."""
    import time

    try:
        hit = current_limiter().current_limit
    except (KeyError, RuntimeError):
        return None
    if hit is None:
        return None
    return max(1, int(hit.reset_at - time.time()))
