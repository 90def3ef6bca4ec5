"""Absolute links (pages, API, mail, calendars), built with or without a request (CLI, worker).

Every absolute link comes from ``BLAGIS_BASE_URL``, never from the request's ``Host`` header: a
forged host must not end up in a page, an API answer or a message that other people receive
(the page cache would hand it to every visitor). Only in development without a configured
address (``BLAGIS_BASE_URL_FROM_REQUEST``) do links follow the host the browser used; the page
cache key then holds the host too (blagis.pagecache).
"""

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request


def base_url() -> str:
    """The site's public address, without a trailing slash."""
    if current_app.config.get("BLAGIS_BASE_URL_FROM_REQUEST") and has_request_context():
        return request.host_url.rstrip("/")
    return current_app.config["BLAGIS_BASE_URL"]


def absolute_url(endpoint: str, **values) -> str:
    """The site's address + the path of ``endpoint`` (a full ``blueprint.view`` name); extra
    ``values`` become the query string, as with ``url_for``."""
    adapter = current_app.url_map.bind("localhost")
    return base_url() + adapter.build(endpoint, values)


def is_http_url(value: str | None) -> bool:
    """An ``http://`` or ``https://`` address with a host: the only links we print from input."""
    if not value:
        return False
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def safe_href(value: str | None) -> str | None:
    """``value`` if it may be an ``href`` (http(s) only), else None (``javascript:``…)."""
    return value.strip() if is_http_url(value) else None


def trusted_hosts(base: str, extra: str | None, development: bool) -> list[str]:
    """The ``Host`` names answered to: the base URL's, the extra list, loopback in development."""
    hosts = [urlsplit(base).hostname or ""]
    hosts += [h.strip() for h in (extra or "").split(",") if h.strip()]
    if development:
        hosts += ["localhost", "127.0.0.1"]
    return list(dict.fromkeys(h for h in hosts if h))
