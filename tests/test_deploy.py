"""Production shape: two gunicorn instances on one PostgreSQL and one Redis.

Each instance is started as production starts it (``gunicorn -c gunicorn.conf.py
"blagis:create_app()"``, configuration from the environment, CSRF and rate limits on). Checks:
registrations fired at both never overbook; the rate limits are shared through Redis; a session
started on one instance is valid on the other (same SECRET_KEY, no server-side session state).

Clients use distinct loopback source addresses (127.0.0.x) so that each simulated person has
its own rate-limit bucket, as real visitors do. Skipped unless TEST_DATABASE_URL is PostgreSQL
and Redis answers on 127.0.0.1:6379.
"""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlalchemy import select

from blagis.extensions import db
from blagis.models import Registration, RegistrationState
from tests import factories_events
from tests.browser import Browser

make_event = factories_events.make_event

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REDIS = "redis://127.0.0.1:6379"
PEOPLE = 12
CAPACITY = 5

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="two instances need a shared PostgreSQL (TEST_DATABASE_URL)",
)


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def instances(app, database):
    """Two gunicorn servers (two workers each) on the test database and the real Redis."""
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"blagis-test-{uuid.uuid4().hex[:12]}"
    env = dict(
        os.environ,
        PYTHONPATH=ROOT,
        BLAGIS_ENV="production",
        SECRET_KEY="deploy-test-shared-secret-key",
        DATABASE_URL=database,
        RATELIMIT_STORAGE_URI=REDIS,
        RATELIMIT_KEY_PREFIX=prefix,
        BLAGIS_BASE_URL="http://127.0.0.1",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="4",
        GUNICORN_ACCESSLOG="",
        GUNICORN_LOGLEVEL="warning",
    )
    procs, ports = [], []
    for _ in range(2):
        port = _free_port()
        cmd = [sys.executable, "-m", "gunicorn", "-c", os.path.join(ROOT, "gunicorn.conf.py")]
        cmd += ["--bind", f"127.0.0.1:{port}", "blagis:create_app()"]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.DEVNULL))
        ports.append(port)
    try:
        for port in ports:
            deadline = time.time() + 60
            while True:
                try:
                    status, _ = Browser(port).request("GET", "/healthz")
                    if status == 200:
                        break
                except OSError:
                    pass
                assert time.time() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
        _forget_prefix(prefix)


def _forget_prefix(prefix: str) -> None:
    """Delete the test's rate-limit keys from Redis (plain RESP, no client library needed)."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as s:
            script = "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end"
            arg = prefix + "*"
            parts = ["EVAL", script, "0", arg]
            msg = f"*{len(parts)}\r\n" + "".join(f"${len(p.encode())}\r\n{p}\r\n" for p in parts)
            s.sendall(msg.encode())
            s.recv(64)
    except OSError:
        pass


def test_registrations_at_both_instances_never_overbook(app, instances, make_user, make_event):
    event = make_event(capacity=CAPACITY, max_seats=1)
    people = [make_user() for _ in range(PEOPLE)]
    browsers = []
    for n, person in enumerate(people):
        browser = Browser(source=f"127.0.0.{10 + n}")
        port = instances[n % 2]
        assert browser.login(person.email, port=port) == 302
        browsers.append((browser, port, browser.token(f"/events/{event.id}", port=port)))

    barrier = threading.Barrier(len(browsers))
    statuses = []

    def fire(browser, port, token):
        barrier.wait()
        status, _ = browser.request(
            "POST", f"/events/{event.id}/register", {"csrf_token": token, "seats": "1"}, port=port
        )
        statuses.append(status)

    threads = [threading.Thread(target=fire, args=b) for b in browsers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert statuses == [302] * PEOPLE

    with app.app_context():
        rows = db.session.scalars(
            select(Registration).where(Registration.event_id == event.id)
        ).all()
        confirmed = sum(r.seats for r in rows if r.state == RegistrationState.CONFIRMED)
        waiting = [r for r in rows if r.state == RegistrationState.WAITLISTED]
        db.session.remove()
    assert len(rows) == PEOPLE
    assert confirmed == CAPACITY
    assert len(waiting) == PEOPLE - CAPACITY


def test_login_rate_limit_is_shared_between_instances(app, instances, make_user):
    """RATELIMIT_LOGIN allows 10 a minute per address: the 11th, on either instance, is 429.

    Each attempt names another account, so that the failures per (address, account) limit
    (5) is not what stops them; that one is shared the same way (tests/test_security.py)."""
    person = make_user()
    browser = Browser(source="127.0.0.77")
    statuses = [
        browser.login(f"x{n}-{person.email}", "wrong password", port=instances[n % 2])
        for n in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    # The next one on the other instance too: the count lives in Redis, not in a worker.
    assert browser.login(person.email, "wrong password", port=instances[1]) == 429


def test_session_from_one_instance_is_valid_on_the_other(app, instances, make_user):
    person = make_user()
    browser = Browser(source="127.0.0.88")
    assert browser.login(person.email, port=instances[0]) == 302
    status, html = browser.request("GET", "/account", port=instances[1])
    assert status == 200
    assert person.display_name in html
    # And a CSRF token issued by B is accepted by A (log out through A with B's token).
    token = browser.token("/account", port=instances[1])
    status, _ = browser.request("POST", "/auth/logout", {"csrf_token": token}, port=instances[0])
    assert status == 302
    status, _ = browser.request("GET", "/account", port=instances[1])
    assert status == 302
