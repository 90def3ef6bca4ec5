"""A dropped database connection: a read runs once more, anything else answers 503, never 500.

On PostgreSQL the connection is really lost: the request's own backend is terminated with
``pg_terminate_backend``. SQLite has no server to lose, so there the test views raise the error
SQLAlchemy raises on a lost connection (``connection_invalidated``).
"""

import os
import sqlite3
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from blagis import create_app
from blagis.config import normalise_database_url
from blagis.extensions import db
from tests import factories_events
from tests.browser import Browser
from tests.conftest import test_config as make_config

make_event = factories_events.make_event
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def lose_the_connection() -> None:
    """The request's database connection dies under it, as when PostgreSQL drops it."""
    if db.engine.dialect.name == "postgresql":
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        killer = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
        with killer.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:p, 5000)"), {"p": pid})
        killer.dispose()
        db.session.execute(sa.text("SELECT 1"))  # raises: the backend is gone
        raise AssertionError("the connection survived pg_terminate_backend")
    raise sa.exc.OperationalError(
        "SELECT 1", {}, sqlite3.OperationalError("disk I/O error"), connection_invalidated=True
    )


@pytest.fixture
def lossy(database):
    """An app with views that lose their connection; ``runs`` counts each view's runs."""
    app = create_app(make_config(database, PAGE_CACHE_SECONDS=0))
    runs: dict[str, int] = {}

    def count(name: str) -> int:
        runs[name] = runs.get(name, 0) + 1
        return runs[name]

    @app.route("/test/read-once")
    def read_once():
        db.session.scalar(sa.text("SELECT 1"))
        if count("read-once") == 1:
            lose_the_connection()
        return "read " + str(db.session.scalar(sa.text("SELECT 2")))

    @app.route("/test/read-always")
    @app.route("/api/test/read-always")
    def read_always():
        count("read-always")
        lose_the_connection()

    @app.route("/test/write", methods=["POST"])
    def write():
        count("write")
        db.session.execute(sa.text("UPDATE communes SET name = name WHERE code = 'sceaux'"))
        lose_the_connection()

    @app.route("/test/read-after-write")
    def read_after_write():
        count("read-after-write")
        db.session.execute(sa.text("UPDATE communes SET name = name WHERE code = 'sceaux'"))
        lose_the_connection()

    yield app, runs
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_read_that_loses_its_connection_runs_once_more(lossy):
    app, runs = lossy
    response = app.test_client().get("/test/read-once")
    assert response.status_code == 200 and response.get_data(as_text=True) == "read 2"
    assert runs["read-once"] == 2


def test_a_read_that_fails_twice_gets_a_localized_503(lossy):
    app, runs = lossy
    client = app.test_client()
    response = client.get("/test/read-always", headers={"Accept-Language": "fr"})
    assert response.status_code == 503 and runs["read-always"] == 2  # retried once, not more
    assert response.headers["Retry-After"] == "5"
    assert "Service indisponible" in response.get_data(as_text=True)
    response = client.get("/test/read-always", headers={"Accept-Language": "en"})
    assert response.status_code == 503 and "Service unavailable" in response.get_data(as_text=True)
    api = client.get("/api/test/read-always")
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    assert api.get_json()["error"]["status"] == 503


def test_a_write_is_never_run_again(lossy):
    app, runs = lossy
    client = app.test_client()
    response = client.post("/test/write")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert runs["write"] == 1
    # Nor a read that had already written something.
    response = client.get("/test/read-after-write")
    assert response.status_code == 503 and runs["read-after-write"] == 1
    # The app goes on with fresh connections.
    assert client.get("/healthz").status_code == 200


# --- a real server while PostgreSQL drops connections -------------------------------------------

CLIENTS = 8
REQUESTS_PER_CLIENT = 120
PATHS = ("/events", "/initiatives", "/api/v1/events", "/objectives", "/", "/volunteer")


@pytest.fixture
def server(database, tmp_path):
    """The app in its own process; its log (tracebacks of any 500) in ``server.log``."""
    env = dict(os.environ, PYTHONPATH=ROOT, PAGE_CACHE_SECONDS="0")
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "tests", "serve_app.py"), database],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("PORT "), f"server did not start: {line!r}"
        yield int(line.split()[1])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
        log.close()


def log_of(tmp_path) -> list[str]:
    return (tmp_path / "server.log").read_text().splitlines()


@pytest.mark.slow
def test_no_server_error_while_postgresql_drops_connections(
    app, database, server, make_event, tmp_path
):
    if not database.startswith("postgres"):
        pytest.skip("PostgreSQL only: SQLite has no server to drop connections")
    for i in range(5):
        make_event(title=f"Atelier {i}")
    statuses: list[int] = []
    lock = threading.Lock()
    done = threading.Event()
    killed = [0]

    def client(n: int) -> None:
        browser = Browser(server)
        for i in range(REQUESTS_PER_CLIENT):
            status, _ = browser.request("GET", PATHS[(n + i) % len(PATHS)])
            with lock:
                statuses.append(status)

    def killer() -> None:
        """Terminate every other backend of the test database, again and again."""
        engine = sa.create_engine(normalise_database_url(database), poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            while not done.wait(1.5):  # as in the review: every 1.5 s
                killed[0] += conn.execute(
                    sa.text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        " AND backend_type = 'client backend'"
                    )
                ).scalar_one()
        engine.dispose()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    stopper = threading.Thread(target=killer)
    stopper.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    stopper.join()
    assert killed[0] > 5  # connections were really dropped while the clients ran
    counts = {status: statuses.count(status) for status in set(statuses)}
    assert len(statuses) == CLIENTS * REQUESTS_PER_CLIENT
    errors = [line for line in log_of(tmp_path) if "Traceback" in line or "Error" in line]
    assert set(counts) <= {200, 503}, (counts, errors[-20:])
    assert counts.get(200, 0) > 0.9 * len(statuses), counts
