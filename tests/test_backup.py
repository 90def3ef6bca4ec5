"""A backup taken while the app writes restores to a consistent database (docs/operations.md).

Every write transaction adds one account and one audit entry about it: a consistent copy has
as many of each. The writer is a real thread going through the app's services.
"""

import os
import shutil
import sqlite3
import subprocess
import threading
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from blagis import audit, create_app
from blagis.auth.services import create_user
from blagis.extensions import db
from tests.conftest import test_config as make_config

ACTION = "backup.write"


class Writer(threading.Thread):
    """Writes (account + audit entry) transactions until told to stop."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app = app
        self.stop = threading.Event()
        self.done = 0
        self.progress = threading.Condition()
        self.error: BaseException | None = None

    def run(self):
        try:
            with self.app.app_context():
                while not self.stop.is_set():
                    user = create_user(
                        f"w{self.done}-{uuid.uuid4().hex[:8]}@example.org",
                        "Writer",
                        "a long writer password",
                    )
                    audit.record(ACTION, "user", user.id, actor=user)
                    db.session.commit()
                    with self.progress:
                        self.done += 1
                        self.progress.notify_all()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error
            with self.progress:
                self.progress.notify_all()

    def wait_for(self, count: int) -> None:
        with self.progress:
            self.progress.wait_for(lambda: self.done >= count or self.error is not None)
        assert self.error is None, self.error


def _counts(execute) -> tuple[int, int]:
    users = execute("SELECT count(*) FROM users")
    entries = execute(f"SELECT count(*) FROM audit_entries WHERE action = '{ACTION}'")
    return users, entries


def test_sqlite_online_backup_while_writing(tmp_path):
    source = tmp_path / "live.sqlite3"
    app = create_app(make_config(f"sqlite:///{source}"))
    with app.app_context():
        upgrade()
    writer = Writer(app)
    writer.start()
    copies = []
    try:
        for i, wanted in enumerate((5, 15, 30)):
            writer.wait_for(wanted)
            copy = tmp_path / f"copy{i}.sqlite3"
            # What docs/operations.md says to run: the online backup API, safe while writing.
            live, target = sqlite3.connect(source), sqlite3.connect(copy)
            try:
                live.backup(target)
            finally:
                target.close()
                live.close()
            copies.append(copy)
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None
    previous = 0
    for copy in copies:
        connection = sqlite3.connect(copy)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            users, entries = _counts(lambda sql, c=connection: c.execute(sql).fetchone()[0])
        finally:
            connection.close()
        assert users == entries and users >= previous and users > 0
        previous = users
        # The copy opens with the app, schema and all.
        restored = create_app(make_config(f"sqlite:///{copy}"))
        with restored.app_context():
            version = db.session.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert version.scalar()
            db.session.remove()
            db.engine.dispose()
    with app.app_context():
        db.engine.dispose()


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only")
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_pg_dump_while_writing_restores_consistently(app, database, tmp_path):
    url = sa.engine.make_url(database)
    dump = tmp_path / "blagis.dump"
    scratch = f"{url.database}_restore_{uuid.uuid4().hex[:8]}"
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    writer = Writer(app)
    writer.start()
    try:
        writer.wait_for(5)
        subprocess.run(
            ["pg_dump", "--format=custom", f"--file={dump}", f"--dbname={libpq}"],
            check=True,
            capture_output=True,
            timeout=300,
        )
        writer.wait_for(writer.done + 5)  # writes went on after the dump
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None
    admin_engine = sa.create_engine(
        url.set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
    scratch_url = url.set(drivername="postgresql+psycopg", database=scratch)
    try:
        target = scratch_url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={target}", str(dump)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        engine = sa.create_engine(scratch_url)
        with engine.connect() as conn:
            users, entries = _counts(lambda sql: conn.execute(sa.text(sql)).scalar())
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        engine.dispose()
        assert users == entries and 5 <= users < writer.done
    finally:
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin_engine.dispose()
