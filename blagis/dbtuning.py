"""Engine tuning so that concurrent writers wait their turn instead of failing.

SQLite: SQLAlchemy's documented pysqlite recipe ("Serializable isolation / Savepoints /
Transactional DDL"): the driver's own transaction handling is switched off
(``isolation_level = None``) and SQLAlchemy's "begin" event emits the ``BEGIN`` itself, with
WAL journal mode (readers go on while a writer works) and a busy timeout (a writer waits for
the lock instead of failing with "database is locked").

Which BEGIN:

- ``BEGIN IMMEDIATE`` for every transaction that may write: requests other than GET/HEAD/
  OPTIONS, the command line, workers. It takes the write lock before the first read, so a
  read-then-write transaction (counting seats, then registering) cannot be overtaken, and never
  fails on a stale snapshot (SQLITE_BUSY_SNAPSHOT is not retried by the busy timeout).
- plain (deferred) ``BEGIN`` for GET/HEAD/OPTIONS requests, which only read: pages never queue
  behind each other. A safe-method view that must write calls :func:`begin_write` first.

PostgreSQL needs no BEGIN of its own: services lock the rows they count (``SELECT … FOR
UPDATE``). Its connections are checked when taken from the pool (see :func:`_on_checkout`).
"""

import select
import sqlite3
import time

import sqlalchemy as sa
import sqlalchemy.orm
from flask import has_request_context, request
from sqlalchemy.engine import Engine

IMMEDIATE_OPTION = "blagis_begin_immediate"
INFO_KEY = "blagis_immediate"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
USED_KEY = "blagis_used_at"
# A pooled PostgreSQL connection idle for longer than this is pinged before it is used again.
PING_IDLE_SECONDS = 10.0
BUSY_TIMEOUT_MS = 30_000
_installed = False


def _on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        connection_record.info[USED_KEY] = time.monotonic()  # just opened: alive
        return
    # SQLAlchemy emits BEGIN itself (see _on_begin); the driver must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")  # answers "memory" for :memory: databases
    finally:
        cursor.close()


def _wants_immediate(conn) -> bool:
    asked = conn.get_execution_options().get(IMMEDIATE_OPTION)
    if asked is not None:
        return bool(asked)
    return not (has_request_context() and request.method in SAFE_METHODS)


def _on_begin(conn) -> None:
    if conn.dialect.name != "sqlite":
        return
    immediate = _wants_immediate(conn)
    conn.info[INFO_KEY] = immediate
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _has_input(dbapi_connection) -> bool:
    """Whether the server sent something to an idle connection: nothing is expected there
    except the farewell of a server that shut down or terminated it (then the socket closes)."""
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _on_checkout(dbapi_connection, connection_record, connection_proxy) -> None:
    """Hand out only live PostgreSQL connections, without a round trip on every request.

    SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` at every checkout: on our two-core machine
    a round trip to PostgreSQL costs ~0.45 ms, and at the territory's size it was a quarter of
    what a logged-in page kept in memory costs. This is the same check made cheaper: a
    connection the server closed (restart, ``pg_terminate_backend``) has its farewell waiting
    on its socket, seen by a zero-timeout ``poll``; one idle for PING_IDLE_SECONDS (a silent
    network may have dropped it) is pinged as ``pool_pre_ping`` would. A failed check raises
    ``DisconnectionError``: the pool discards the connection and opens a new one.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        return
    now = time.monotonic()
    used_at = connection_record.info.get(USED_KEY)
    connection_record.info[USED_KEY] = now
    try:
        if used_at is not None and now - used_at < PING_IDLE_SECONDS:
            if not _has_input(dbapi_connection):
                return
        # As SQLAlchemy's psycopg dialect pings: in autocommit, so that no transaction is left.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            dbapi_connection.execute("SELECT 1")
        finally:
            if not dbapi_connection.closed:
                dbapi_connection.autocommit = autocommit
    except Exception as exc:  # any failure means: do not use this connection
        raise sa.exc.DisconnectionError(str(exc)) from exc


def install() -> None:
    """Listen on every Engine (the app's, Alembic's, the tests'), once per process."""
    global _installed
    if _installed:
        return
    sa.event.listen(Engine, "connect", _on_connect)
    sa.event.listen(Engine, "begin", _on_begin)
    sa.event.listen(sa.pool.Pool, "checkout", _on_checkout)
    _installed = True


def init_app(app) -> None:
    install()


def begin_read(session) -> None:
    """Open the session's transaction without the SQLite write lock, even in a POST.

    For work that reads, then spends time before it writes (a log-in checks the password with
    argon2: ~50 ms of CPU): the write lock is taken afterwards with :func:`begin_write`, so
    other writers do not wait for the password check. Nothing to do elsewhere.
    """
    if isinstance(session, sa.orm.scoped_session):
        session = session()
    if session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        return
    session.connection(execution_options={IMMEDIATE_OPTION: False})


def begin_write(session) -> None:
    """Make sure the session's transaction holds the SQLite write lock from its first read.

    Used by services that read then write atomically (seats). If the current transaction is
    a deferred one (a GET, or a reader), it is committed (it wrote nothing) and the next one
    opens with ``BEGIN IMMEDIATE``. On other databases nothing changes; callers lock the rows
    they count with ``FOR UPDATE``.
    """
    if isinstance(session, sa.orm.scoped_session):
        session = session()
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.connection().info.get(INFO_KEY):
            return  # already the writer
        session.commit()
    session.connection(execution_options={IMMEDIATE_OPTION: True})


def lock_row(session, model, row_id: int, *options):
    """The row of ``model`` with this id (or None), locked until the transaction ends.

    For services that count what hangs on a row (an event's seats, a mission's places) before
    adding to it: SQLite takes its write lock first (:func:`begin_write`), other databases lock
    the row (``SELECT … FOR UPDATE``); the row is read afresh either way.
    """
    begin_write(session)
    return session.scalar(
        sa.select(model)
        .where(model.id == row_id)
        .options(*options)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    )
