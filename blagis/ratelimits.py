"""Rate limits on the actions that attract abuse, each tunable from the configuration."""

from flask import current_app

from blagis.extensions import limiter

DEFAULTS = {
    "RATELIMIT_LOGIN": "10 per minute;50 per hour",
    "RATELIMIT_REGISTER": "5 per minute;20 per hour",
    "RATELIMIT_RESET": "5 per minute;20 per hour",
    "RATELIMIT_PROPOSE": "5 per minute;30 per day",
    "RATELIMIT_REGISTRATION": "20 per minute",
    "RATELIMIT_REPORT": "10 per minute;50 per day",
}


def limit(key: str):
    """Decorator limiting a view's POSTs by client address with the configured value."""
    return limiter.limit(
        lambda: current_app.config.get(key) or DEFAULTS[key],
        methods=["POST"],
        scope=key.lower(),
    )
