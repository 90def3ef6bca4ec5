"""Engine tuning so that concurrent writers wait their turn instead of failing.

SQLite: SQLAlchemy's documented pysqlite recipe ("Serializable isolation / Savepoints /
Transactional DDL"): the driver's own transaction handling is switched off
(``isolation_level = None``) and SQLAlchemy's "begin" event emits the ``BEGIN`` itself. A
transaction that must read then write atomically (a registration counting the seats left)
asks for ``BEGIN IMMEDIATE`` through :func:`begin_write`: it takes the write lock before its
first read, and a second writer waits (busy timeout) instead of failing with "database is
locked". WAL journal mode lets readers go on while a writer works. Ordinary transactions stay
deferred so reads never queue behind writes.

PostgreSQL needs nothing here: services lock the rows they count (``SELECT … FOR UPDATE``).
"""

import sqlite3

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.engine import Engine

IMMEDIATE_OPTION = "blagis_begin_immediate"
BUSY_TIMEOUT_MS = 30_000
_installed = False


def _on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # SQLAlchemy emits BEGIN itself (see _on_begin); the driver must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")  # answers "memory" for :memory: databases
    finally:
        cursor.close()


def _on_begin(conn) -> None:
    if conn.dialect.name != "sqlite":
        return
    if conn.get_execution_options().get(IMMEDIATE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def install() -> None:
    """Listen on every Engine (the app's, Alembic's, the tests'), once per process."""
    global _installed
    if _installed:
        return
    sa.event.listen(Engine, "connect", _on_connect)
    sa.event.listen(Engine, "begin", _on_begin)
    _installed = True


def init_app(app) -> None:
    install()


def begin_write(session) -> None:
    """Start the session's next transaction as a writer that holds the lock from its first read.

    On SQLite the request's current transaction (reads only: the logged-in user, the page's
    lookups) is committed, and the next one opens with ``BEGIN IMMEDIATE``: concurrent
    writers queue on the busy timeout. On other databases nothing changes; callers lock the
    rows they count with ``FOR UPDATE``.
    """
    if isinstance(session, sa.orm.scoped_session):
        session = session()
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.connection().get_execution_options().get(IMMEDIATE_OPTION):
            return  # already the writer
        session.commit()
    session.connection(execution_options={IMMEDIATE_OPTION: True})
