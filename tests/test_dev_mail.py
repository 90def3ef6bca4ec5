"""A newcomer's first minutes on ``make run``: the mail is readable, the port can change."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from blagis import create_app
from blagis.extensions import db
from blagis.mail.worker import run_once
from blagis.models import OutboxMessage, OutboxStatus, User
from tests import conftest

ROOT = Path(__file__).resolve().parent.parent
NEWCOMER = {
    "email": "nouvelle@example.org",
    "display_name": "Nouvelle",
    "password": "a long enough password",
    "password_confirm": "a long enough password",
    "commune": "sceaux",
    "accept_terms": "y",
}


@pytest.fixture
def dev_app(app, database):
    """The application as ``make run`` configures it (development, no MAIL_SERVER), on the
    test database (``app`` empties it after the test)."""
    dev = create_app(conftest.test_config(database, BLAGIS_ENV="development", TESTING=False))
    assert not dev.config["MAIL_SERVER"]
    yield dev
    with dev.app_context():
        db.session.remove()
        db.engine.dispose()


def test_dev_mail_page_shows_the_confirmation_mail_with_a_working_link(dev_app):
    client = dev_app.test_client()
    assert client.get("/dev/mail").status_code == 200
    assert client.post("/auth/register", data=NEWCOMER).status_code == 302
    with dev_app.app_context():
        report = run_once()  # what the worker started by `make run` does
    assert report.sent == 1

    html = client.get("/dev/mail").get_data(as_text=True)
    assert "Confirmez votre compte Blagis" in html and "nouvelle@example.org" in html
    link = re.search(r'<a href="http://blagis\.test(/auth/confirm/[^"]+)"', html).group(1)
    assert client.get(link).status_code in (200, 302)
    with dev_app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nouvelle@example.org"))
        assert user.email_confirmed_at is not None
        [mail] = db.session.scalars(select(OutboxMessage)).all()
        assert mail.status == OutboxStatus.SENT


@pytest.mark.parametrize("env", ["production", "testing"])
def test_dev_mail_page_is_404_outside_development(app, database, env):
    assert app.test_client().get("/dev/mail").status_code == 404  # the testing app
    other = create_app(conftest.test_config(database, BLAGIS_ENV=env, TESTING=False))
    assert other.test_client().get("/dev/mail").status_code == 404


def make_dry_run(*variables: str) -> str:
    """The commands ``make run`` would run (``-n``: printed, not run), as on a fresh shell."""
    outer = {"PORT", "BLAGIS_BASE_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}  # e.g. `make test`
    env = {k: v for k, v in os.environ.items() if k not in outer}
    result = subprocess.run(
        ["make", "-n", "run", *variables],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_run_serves_on_the_port_asked_and_runs_the_mail_worker():
    lines = make_dry_run("PORT=5055")
    assert re.search(r"flask --app blagis run --host 127\.0\.0\.1 --port 5055\b", lines)
    assert "BLAGIS_BASE_URL=http://127.0.0.1:5055" in lines  # links in mail lead back here
    assert "send-mail --loop" in lines
    assert re.search(r"--port 5000\b", make_dry_run())
