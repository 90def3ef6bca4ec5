"""Rate limits on the actions that attract abuse, each tunable from the configuration.

Views say ``@limit("RATELIMIT_LOGIN")``; the decorator only marks the view. A limit counts a
view's POSTs per client address; ``per=`` narrows it to (address, something the request names)
and ``failures_only=True`` counts only the requests the view calls :func:`count_failure` in
(failed log-ins per address and account: nobody can lock an account for everyone). Each application
gets its own Flask-Limiter instance in ``init_app`` (after the blueprints are registered),
which wraps the marked views. One limiter per app keeps apps independent: a test app with
limits on does not switch them on for another, and each reads its own storage
(``RATELIMIT_STORAGE_URI``: memory by default, Redis in production so that every gunicorn
worker and server shares the counts) and key prefix (``RATELIMIT_KEY_PREFIX``).
"""

from collections.abc import Callable

from flask import current_app, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

DEFAULTS = {
    "RATELIMIT_LOGIN": "10 per minute;50 per hour",
    # Failed log-ins per (client address, account e-mail): the right password from another
    # address still works.
    "RATELIMIT_LOGIN_FAILURES": "5 per 15 minutes",
    "RATELIMIT_REGISTER": "5 per minute;20 per hour",
    "RATELIMIT_RESET": "5 per minute;20 per hour",
    "RATELIMIT_PROPOSE": "5 per minute;30 per day",
    "RATELIMIT_REGISTRATION": "20 per minute",
    "RATELIMIT_REPORT": "10 per minute;50 per day",
}

_MARK = "_blagis_ratelimits"
_FAILED = "blagis_ratelimit_failed"


def limit(key: str, *, per: Callable[[], str] | None = None, failures_only: bool = False):
    """Decorator limiting a view's POSTs by client address with the configured value.

    ``per`` returns a second part of the key (an e-mail from the form); with
    ``failures_only`` only the requests that called :func:`count_failure` are counted,
    though every POST is refused once the limit is reached.
    """
    if key not in DEFAULTS:
        raise KeyError(f"unknown rate limit {key!r}: add it to blagis.ratelimits.DEFAULTS")

    def decorator(view):
        setattr(view, _MARK, (*getattr(view, _MARK, ()), (key, per, failures_only)))
        return view

    return decorator


def limits_of(view) -> list[str]:
    """The configuration keys of the limits on ``view``."""
    return [key for key, _per, _failures in getattr(view, _MARK, ())]


def count_failure() -> None:
    """Count this request in the view's ``failures_only`` limits."""
    g.setdefault(_FAILED, True)


def _failed(response) -> bool:
    return bool(g.get(_FAILED))


def _key_func(per: Callable[[], str] | None):
    if per is None:
        return get_remote_address
    return lambda: f"{get_remote_address()}/{per()}"


def _provider(key: str):
    return lambda: current_app.config.get(key) or DEFAULTS[key]


def init_app(app) -> None:
    """Give ``app`` its limiter and wrap every view marked with ``limit``."""
    limiter = Limiter(key_func=get_remote_address, default_limits=[])
    limiter.init_app(app)
    app.extensions["blagis_limiter"] = limiter
    for endpoint, view in list(app.view_functions.items()):
        wrapped = view
        for key, per, failures_only in getattr(view, _MARK, ()):
            wrapped = limiter.limit(
                _provider(key),
                key_func=_key_func(per),
                methods=["POST"],
                scope=key.lower(),
                deduct_when=_failed if failures_only else None,
            )(wrapped)
        app.view_functions[endpoint] = wrapped


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
