"""Error pages: localized HTML, or JSON under /api; never a stack trace outside debug."""

from flask import Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, HTTPException, InternalServerError, SecurityError

from blagis.extensions import db


def _titles():
    return {
        400: _("Bad request"),
        403: _("Access denied"),
        404: _("Page not found"),
        405: _("Method not allowed"),
        413: _("Request too large"),
        429: _("Too many requests"),
        500: _("Server error"),
        503: _("Service unavailable"),
    }


def _messages():
    return {
        400: _("The request could not be understood. Please go back and try again."),
        403: _("You do not have permission to see this page."),
        404: _("The page you are looking for does not exist or is no longer available."),
        405: _("This address does not accept this kind of request."),
        413: _("What you sent is too large."),
        429: _("You have made too many attempts. Please wait a moment before trying again."),
        500: _("Something went wrong on our side. The team has been told; please try again."),
        503: _("The service is temporarily unavailable. Please try again in a few minutes."),
    }


def _unknown_host() -> bool:
    """The request named a host outside TRUSTED_HOSTS (Flask refused it before routing): no
    URL can be built, so the answer is a bare page, never cached (no view ran)."""
    return isinstance(request.routing_exception, SecurityError)


def render_error(code: int, message: str | None = None, retry_after: str | None = None):
    title = _titles().get(code, _("Error"))
    message = message or _messages().get(code, "")
    if request.path.startswith("/api/"):
        response = jsonify({"error": {"status": code, "title": title, "message": message}})
        response.status_code = code
        return response
    if _unknown_host():
        return Response(f"{title}\n\n{message}\n", code, mimetype="text/plain")
    return (
        render_template(
            "errors/error.html", code=code, title=title, message=message, retry_after=retry_after
        ),
        code,
    )


def handle_http_exception(error: HTTPException):
    code = error.code or 500
    if code >= 500:
        db.session.rollback()
    if code == 429:
        return too_many_requests()
    if isinstance(error, CSRFError):
        return render_error(
            400, _("The form has expired or was sent from elsewhere. Please reload and try again.")
        )
    if isinstance(error, Forbidden) and error.description != Forbidden.description:
        # The permission check said why (blagis.permissions.forbid): tell the visitor.
        return render_error(403, error.description)
    return render_error(code)


def too_many_requests():
    """The localized 429 page, saying when the limit that was hit resets (and Retry-After)."""
    from datetime import timedelta

    from flask import make_response
    from flask_babel import format_timedelta

    from blagis.ratelimits import retry_after_seconds

    seconds = retry_after_seconds()
    when = (
        format_timedelta(timedelta(seconds=seconds), add_direction=True, threshold=1.0)
        if seconds
        else None
    )
    response = make_response(render_error(429, retry_after=when))
    if seconds:
        response.headers.setdefault("Retry-After", str(seconds))
    return response


def handle_database_error(error: Exception):
    """The database lost or refused the connection: a read runs again, else 503 (blagis.dbretry)."""
    from flask import current_app

    from blagis import dbretry

    if not dbretry.is_unavailable(error):
        return handle_unexpected(error)
    _discard_session()
    retried = dbretry.mark_for_retry(error)
    current_app.logger.warning(
        "Database unavailable on %s %s (%s): %s",
        request.method,
        request.path,
        "run again" if retried else "503",
        error.__class__.__name__,
    )
    if retried:  # thrown away by dbretry.RetryReads, which runs the request again
        return Response(status=503)
    return service_unavailable(dbretry.RETRY_AFTER_SECONDS)


def _discard_session() -> None:
    """Roll back, and drop the session: its connection may be dead, the next use opens anew."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - a dead connection may fail to roll back; it is dropped
        pass
    db.session.remove()


def service_unavailable(seconds: int):
    """The localized 503 page (JSON under /api) with Retry-After.

    Rendered without the database if need be: the layout reads the account and the communes,
    which may fail again while the database is away; then a bare page in the visitor's language.
    """
    from flask import make_response
    from flask_babel import force_locale

    from blagis.i18n import supported_locales

    try:
        response = make_response(render_error(503))
    except Exception:  # noqa: BLE001 - the database failed again while rendering the page
        _discard_session()
        locales = supported_locales()
        locale = request.accept_languages.best_match(locales) or locales[0]
        with force_locale(locale):
            title, message = _titles()[503], _messages()[503]
        response = Response(f"{title}\n\n{message}\n", 503, mimetype="text/plain")
    response.headers["Retry-After"] = str(seconds)
    response.cache_control.no_store = True
    return response


def handle_unexpected(error: Exception):
    db.session.rollback()
    from flask import current_app

    current_app.logger.exception("Unhandled error on %s", request.path)
    return render_error(500)


def init_app(app) -> None:
    import sqlalchemy as sa

    from blagis import dbretry

    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(Exception, handle_unexpected)
    app.register_error_handler(sa.exc.DBAPIError, handle_database_error)
    app.register_error_handler(sa.exc.TimeoutError, handle_database_error)
    dbretry.init_app(app)
