"""A lost database connection: a read is run once more, anything else answers 503.

When PostgreSQL drops a connection in the middle of a request (a restart, a failover,
``pg_terminate_backend``), SQLAlchemy raises a ``DBAPIError`` with ``connection_invalidated``
and throws that connection (and the pool's older ones) away. Then:

- a ``GET``/``HEAD`` request that had written nothing yet (no statement but ``SELECT``/``BEGIN``
  reached the database) is run a second time from the start, on a fresh connection: the
  visitor sees the page, not the hiccup. Once only.
- anything else — a write (``POST``…, or a ``GET`` that already wrote: whether a write or a
  commit reached the server before the connection died is unknown, so it is never replayed
  blindly), a second failure, a database that refuses connections, a lock or deadlock
  reported as ``OperationalError`` (SQLite's "database is locked" too), a full pool — answers
  ``503 Service unavailable`` with ``Retry-After``: a localized page, or JSON under ``/api``.

The retry is a small WSGI wrapper (:class:`RetryReads`): the error handler (blagis.errors)
marks the request as worth a second run, and the wrapper throws the first answer away and
calls the application again with the original environ, so the second run has a fresh request
context, session and connection. Connections that died while idle in the pool are dealt with
earlier, at checkout (blagis.dbtuning).
"""

import sqlalchemy as sa
from flask import g, has_request_context, request

RETRY_AFTER_SECONDS = 5
SAFE_METHODS = frozenset({"GET", "HEAD"})
RETRY_KEY = "blagis.retry_read"
RETRIED_KEY = "blagis.retried_read"
WROTE_KEY = "blagis_wrote"
# Statements after which a request may still be replayed: they change nothing.
READ_PREFIXES = ("SELECT", "BEGIN", "ROLLBACK")
_installed = False


def is_unavailable(error: BaseException) -> bool:
    """The database could not serve this request now (not a bug in it): answer 503."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, sa.exc.OperationalError | sa.exc.TimeoutError)


def mark_for_retry(error: BaseException) -> bool:
    """Ask :class:`RetryReads` to run this request again, if that is safe; True if asked."""
    if not (
        isinstance(error, sa.exc.DBAPIError)
        and error.connection_invalidated
        and request.method in SAFE_METHODS
        and not request.environ.get(RETRIED_KEY)
        and not g.get(WROTE_KEY)
    ):
        return False
    request.environ[RETRY_KEY] = True
    return True


def _before_cursor_execute(conn, cursor, statement, parameters, context, executemany) -> None:
    if has_request_context() and not statement.lstrip()[:8].upper().startswith(READ_PREFIXES):
        g.setdefault(WROTE_KEY, True)


def install() -> None:
    """Note, on every Engine, when a request sends anything but a read (once per process)."""
    global _installed
    if not _installed:
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", _before_cursor_execute)
        _installed = True


class RetryReads:
    """WSGI wrapper: a safe request whose first run lost its connection runs once more."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in SAFE_METHODS:
            return self.wsgi_app(environ, start_response)
        original = dict(environ)
        started: list = []

        def hold(status, headers, exc_info=None):
            started[:] = [status, headers, exc_info]
            return _no_write

        body = self.wsgi_app(environ, hold)
        if environ.get(RETRY_KEY):
            if hasattr(body, "close"):
                body.close()
            return self.wsgi_app({**original, RETRIED_KEY: True}, start_response)
        start_response(*started)
        return body


def _no_write(data) -> None:  # pragma: no cover - Flask never uses the write callable
    raise RuntimeError("write() is not supported")


def close_session(exc=None) -> None:
    """End the request's session even if its connection died after the last query.

    Flask-SQLAlchemy's own teardown rolls back the session's transaction; on a connection the
    server has just dropped that ROLLBACK raises, after the answer was made: the visitor got
    a 500 for a page that was fine. The lost connection is invalidated by then (nothing was
    to be kept: the transaction was over or is void), so closing again succeeds.
    """
    from blagis.extensions import db

    try:
        db.session.remove()
    except sa.exc.DBAPIError:
        try:
            db.session.remove()
        except sa.exc.DBAPIError:  # pragma: no cover - the session object is dropped anyway
            db.session.registry.clear()


def init_app(app) -> None:
    install()
    # Registered after Flask-SQLAlchemy's, so it runs before it (teardowns run in reverse).
    app.teardown_appcontext(close_session)
    app.wsgi_app = RetryReads(app.wsgi_app)
