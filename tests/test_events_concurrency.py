"""Never overbooked: many simultaneous registrations against a real server process.

Runs on the session's database (SQLite file, or PostgreSQL with TEST_DATABASE_URL): the server
is a separate process with its own connections, the clients are real threads.
"""

import os
import subprocess
import sys
import threading

import pytest
from sqlalchemy import select
from sqlalchemy import text as sa_text

from blagis.extensions import db
from blagis.models import Registration
from tests import factories_events
from tests.browser import Browser
from tests.conftest import PASSWORD

make_event = factories_events.make_event

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENTS = 45
CAPACITY = 10


@pytest.fixture
def server(database):
    """The app in its own process, on a free loopback port."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "tests", "serve_app.py"), database],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
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


@pytest.mark.slow
def test_simultaneous_registrations_never_overbook(app, make_user, make_event, server):
    event = make_event(capacity=CAPACITY, max_seats=1)
    users = [make_user(f"concurrent{i}@example.org") for i in range(CLIENTS)]

    # Log everyone in at the same time too: writes elsewhere (last log-in time) must wait
    # for the lock as well, not fail.
    browsers: list[tuple[Browser, str]] = []
    login_errors: list[BaseException] = []

    def log_in(user) -> None:
        try:
            browser = Browser(server)
            token = browser.token("/auth/login")
            status, _ = browser.request(
                "POST",
                "/auth/login",
                {"email": user.email, "password": PASSWORD, "csrf_token": token},
            )
            assert status == 302, status
            pair = (browser, browser.token(f"/events/{event.id}"))
            with lock:
                browsers.append(pair)
        except BaseException as error:  # noqa: BLE001 - reported below
            with lock:
                login_errors.append(error)

    lock = threading.Lock()
    threads = [threading.Thread(target=log_in, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not login_errors, login_errors
    assert len(browsers) == CLIENTS

    barrier = threading.Barrier(CLIENTS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def fire(browser: Browser, token: str) -> None:
        try:
            barrier.wait(timeout=60)
            status, _ = browser.request(
                "POST", f"/events/{event.id}/register", {"seats": "1", "csrf_token": token}
            )
            with lock:
                statuses.append(status)
        except BaseException as error:  # noqa: BLE001 - reported below
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=fire, args=pair) for pair in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    assert statuses == [302] * CLIENTS, sorted(statuses)
    with app.app_context():
        rows = db.session.scalars(
            select(Registration).where(Registration.event_id == event.id)
        ).all()
        confirmed = sum(r.seats for r in rows if r.state.value == "confirmed")
        waitlisted = [r for r in rows if r.state.value == "waitlisted"]
        assert len(rows) == CLIENTS
        assert len({r.user_id for r in rows}) == CLIENTS
        assert confirmed == CAPACITY
        assert len(waitlisted) == CLIENTS - CAPACITY
        db.session.remove()


def test_sqlite_writer_takes_the_lock_first(app):
    """``begin_write`` opens a BEGIN IMMEDIATE transaction: a second writer cannot start."""
    import sqlite3

    from blagis.dbtuning import begin_write

    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert db.session.execute(sa_text("PRAGMA journal_mode")).scalar() == "wal"
        begin_write(db.session)
        other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            # Readers are not blocked (WAL).
            assert other.execute("SELECT count(*) FROM events").fetchone() == (0,)
        finally:
            other.close()
            db.session.rollback()
            db.session.remove()
