"""Absolute links for e-mails and calendars, built with or without a request (CLI, worker)."""

from flask import current_app


def absolute_url(endpoint: str, **values) -> str:
    """``BLAGIS_BASE_URL`` + the path of ``endpoint`` (a full ``blueprint.view`` name)."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["BLAGIS_BASE_URL"] + adapter.build(endpoint, values)
