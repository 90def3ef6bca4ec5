"""Never more volunteers than needed: many simultaneous sign-ups against a real server process.

Same harness as tests/test_events_concurrency.py (a server process on the session's database,
SQLite or PostgreSQL; real threads as clients).
"""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from blagis.extensions import db
from blagis.models import MissionSignup, utcnow
from tests import factories_volunteers
from tests.browser import Browser
from tests.conftest import PASSWORD
from tests.test_events_concurrency import server  # noqa: F401 - fixture

make_volunteer = factories_volunteers.make_volunteer
make_mission = factories_volunteers.make_mission

CLIENTS = 24
NEEDED = 3


def _run_all(target, items) -> list[BaseException]:
    errors: list[BaseException] = []
    lock = threading.Lock()

    def wrapped(item):
        try:
            target(item)
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=wrapped, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _log_in(port, users, path):
    browsers = []
    lock = threading.Lock()

    def log_in(user):
        browser = Browser(port)
        token = browser.token("/auth/login")
        status, _ = browser.request(
            "POST", "/auth/login", {"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert status == 302, status
        pair = (browser, browser.token(path))
        with lock:
            browsers.append(pair)

    errors = _run_all(log_in, users)
    assert not errors, errors
    return browsers


@pytest.mark.slow
def test_simultaneous_signups_never_overfill(app, make_volunteer, make_mission, server):  # noqa: F811
    mission = make_mission(needed=NEEDED)
    users = [make_volunteer(f"vol{i}@example.org") for i in range(CLIENTS)]
    browsers = _log_in(server, users, f"/missions/{mission.id}")
    assert len(browsers) == CLIENTS

    barrier = threading.Barrier(CLIENTS)
    statuses = []
    lock = threading.Lock()

    def fire(pair):
        browser, token = pair
        barrier.wait(timeout=60)
        status, _ = browser.request("POST", f"/missions/{mission.id}/signup", {"csrf_token": token})
        with lock:
            statuses.append(status)

    errors = _run_all(fire, browsers)
    assert not errors, errors
    assert statuses == [302] * CLIENTS, sorted(statuses)
    with app.app_context():
        rows = db.session.scalars(
            select(MissionSignup).where(MissionSignup.mission_id == mission.id)
        ).all()
        assert len([r for r in rows if r.state.value == "confirmed"]) == NEEDED
        assert len(rows) == NEEDED
        db.session.remove()


@pytest.mark.slow
def test_one_person_cannot_take_two_overlapping_missions_at_once(
    app,
    make_volunteer,
    make_mission,
    server,  # noqa: F811
):
    start = utcnow() + timedelta(days=2)
    missions = [
        make_mission(title=f"Créneau {i}", starts_at=start + timedelta(minutes=10 * i))
        for i in range(6)
    ]
    user = make_volunteer("busy@example.org")
    browser, token = _log_in(server, [user], "/volunteer")[0]
    # One browser session, many simultaneous requests (same cookie).
    barrier = threading.Barrier(len(missions))

    def fire(mission):
        barrier.wait(timeout=60)
        status, _ = browser.request("POST", f"/missions/{mission.id}/signup", {"csrf_token": token})
        assert status == 302, status

    errors = _run_all(fire, missions)
    assert not errors, errors
    with app.app_context():
        rows = db.session.scalars(
            select(MissionSignup).where(
                MissionSignup.user_id == user.id, MissionSignup.state == "confirmed"
            )
        ).all()
        assert len(rows) == 1
        db.session.remove()
