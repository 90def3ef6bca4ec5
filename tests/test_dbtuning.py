"""Pooled PostgreSQL connections are checked at checkout without a round trip per request."""

import time

import pytest
import sqlalchemy as sa

from blagis import dbtuning
from blagis.config import normalise_database_url


@pytest.fixture
def pg_engine(database):
    if not database.startswith("postgres"):
        pytest.skip("PostgreSQL only: SQLite has no server to lose")
    dbtuning.install()  # as create_app does
    engine = sa.create_engine(normalise_database_url(database), pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def raw_connection(engine):
    """The pooled psycopg connection (checked in again before it is used)."""
    fairy = engine.raw_connection()
    raw = fairy.driver_connection
    fairy.close()
    return raw


def terminate(engine, pid: int) -> None:
    with sa.create_engine(engine.url, poolclass=sa.pool.NullPool).connect() as other:
        assert other.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()


def test_a_connection_the_server_closed_is_replaced_without_an_error(pg_engine):
    pid = backend_pid(pg_engine)
    raw = raw_connection(pg_engine)
    assert not dbtuning._has_input(raw)  # a live idle connection: nothing to read
    terminate(pg_engine, pid)
    deadline = time.monotonic() + 5
    while not dbtuning._has_input(raw):  # the server's farewell reaches the socket
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # Used within PING_IDLE_SECONDS, so it would not be pinged: the farewell is what tells.
    assert backend_pid(pg_engine) != pid


def test_a_connection_idle_too_long_is_pinged_and_left_as_it_was(pg_engine, monkeypatch):
    backend_pid(pg_engine)
    monkeypatch.setattr(dbtuning, "PING_IDLE_SECONDS", 0.0)
    with pg_engine.connect() as conn:  # pinged in autocommit, then handed out unchanged
        assert conn.connection.driver_connection.autocommit is False
        conn.execute(sa.text("CREATE TEMPORARY TABLE t (x int)"))
        conn.rollback()
        # The table was created in the connection's own transaction, not in the ping's.
        assert conn.execute(sa.text("SELECT to_regclass('pg_temp.t')")).scalar() is None


def test_a_ping_that_fails_discards_the_connection(pg_engine, monkeypatch):
    pid = backend_pid(pg_engine)
    monkeypatch.setattr(dbtuning, "PING_IDLE_SECONDS", 0.0)
    monkeypatch.setattr(dbtuning, "_has_input", lambda conn: False)
    terminate(pg_engine, pid)
    assert backend_pid(pg_engine) != pid
