"""Sign-ups and e-mail confirmations at once, against a real server process (issue 15, item 10).

Same harness as tests/test_events_concurrency.py: a server process on the session's database
(SQLite or PostgreSQL), real threads as clients. Every write path of the accounts takes the
same SQLite write recipe (blagis/dbtuning.py), so none of them fails with "database is locked".
"""

import re
import threading

import pytest
from sqlalchemy import func, select

from blagis.extensions import db
from blagis.models import OutboxMessage, User
from tests.browser import Browser
from tests.test_events_concurrency import server  # noqa: F401 - fixture

PEOPLE = 40
PASSWORD = "a long enough password"


def _confirm_path(app, email: str) -> str:
    with app.app_context():
        body = db.session.scalar(
            select(OutboxMessage.body_text).where(
                OutboxMessage.recipient == email, OutboxMessage.template == "account_created"
            )
        )
        db.session.remove()
    assert body, f"no confirmation mail for {email}"
    return re.search(r"https?://[^/\s]+(/auth/confirm/\S+)", body).group(1)


@pytest.mark.slow
def test_simultaneous_sign_ups_and_confirmations_never_fail(app, server):  # noqa: F811
    barrier = threading.Barrier(PEOPLE)
    lock = threading.Lock()
    statuses: dict[str, list[int]] = {"register": [], "confirm": []}
    errors: list[BaseException] = []

    def person(n: int) -> None:
        try:
            email = f"newcomer{n}@example.org"
            browser = Browser(server)
            token = browser.token("/auth/register")
            barrier.wait(timeout=60)
            status, _ = browser.request(
                "POST",
                "/auth/register",
                {
                    "csrf_token": token,
                    "email": email,
                    "display_name": f"Newcomer {n}",
                    "password": PASSWORD,
                    "password_confirm": PASSWORD,
                    "commune": "sceaux",
                    "accept_terms": "y",
                },
            )
            with lock:
                statuses["register"].append(status)
            # Straight to the mailbox and the link, while the others are still signing up.
            status, _ = browser.request("GET", _confirm_path(app, email))
            with lock:
                statuses["confirm"].append(status)
        except BaseException as error:  # noqa: BLE001 - reported below
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=person, args=(n,)) for n in range(PEOPLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    assert statuses["register"] == [302] * PEOPLE, sorted(statuses["register"])
    assert statuses["confirm"] == [302] * PEOPLE, sorted(statuses["confirm"])
    with app.app_context():
        confirmed = db.session.scalar(
            select(func.count(User.id)).where(User.email_confirmed_at.is_not(None))
        )
        assert confirmed == PEOPLE
