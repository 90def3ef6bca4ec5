"""Fixtures: one app and one database per test session, rows emptied after each test.

Runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set.
"""

import os
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from blagis import create_app
from blagis.extensions import db
from blagis.models import Role, User

PASSWORD = "correct horse battery"  # noqa: S105 - test accounts only
# Tables kept between tests (the contract is reloaded, an upsert, after each test).
KEPT_TABLES = {"alembic_version", "communes", "content_generations"}


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def test_config(url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "BLAGIS_ENV": "testing",
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # Exact page cache: other apps of the test process (and servers) see every change.
        "PAGE_CACHE_CHECK_SECONDS": 0,
        "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        "BLAGIS_BASE_URL": "http://blagis.test",
        # Requests for other hosts get a 400: the test client's and the test servers' are known.
        "BLAGIS_EXTRA_HOSTS": "localhost,127.0.0.1",
        "SERVER_NAME": None,
        **extra,
    }


def _reset_schema(app) -> None:
    """Drop everything, then build the schema with the migrations (as production does)."""
    with app.app_context():
        engine = db.engine
        meta = sa.MetaData()
        meta.reflect(bind=engine)
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
            else:
                meta.drop_all(bind=conn)
        upgrade()
        from blagis.objectives.services import load_contract

        load_contract()
        db.session.commit()


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    return database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(database):
    app = create_app(test_config(database))
    _reset_schema(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def empty_tables(app) -> None:
    """Delete every row but the communes, then reload the contract objectives."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in KEPT_TABLES:
                    conn.execute(table.delete())
            # The rows went without the ORM, so no counter moved: move them all, so that no
            # app (this one, or a test server's) serves a page of the previous test.
            generations = db.metadata.tables["content_generations"]
            conn.execute(generations.update().values(value=generations.c.value + 1))
        from blagis.objectives.services import load_contract

        load_contract()
        db.session.commit()
        db.session.remove()


@pytest.fixture(autouse=True)
def _clean_database(request):
    yield
    if "app" in request.fixturenames:
        empty_tables(request.getfixturevalue("app"))


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def refresh_figures(app):
    """``refresh_figures(years=None)``: what the ``refresh-figures`` cron does, committed.

    Pages read the yearly figures the last refresh stored (a year never refreshed is computed
    live): a test that checks figures after new activity refreshes first, as the cron would.
    """

    def refresh(years=None):
        from blagis.indicators.services import refresh_figures as refresh_

        with app.app_context():
            done = refresh_(years)
            db.session.commit()
            db.session.remove()
        return done

    return refresh


@pytest.fixture
def make_user(app):
    """Factory: ``make_user(role="staff", commune="sceaux", scope="sceaux")`` -> committed User."""
    counter = {"n": 0}

    def factory(
        email: str | None = None,
        *,
        role: str | Role = Role.RESIDENT,
        commune: str | None = "sceaux",
        scope: str | None = None,
        name: str | None = None,
        password: str = PASSWORD,
        locale: str | None = None,
    ) -> User:
        from blagis.auth.services import create_user

        counter["n"] += 1
        email = email or f"user{counter['n']}@example.org"
        with app.app_context():
            user = create_user(
                email,
                name or f"User {counter['n']}",
                password,
                role=Role(role),
                commune_code=commune,
                locale=locale,
            )
            user.scope_commune_code = scope
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
        return user

    return factory


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = PASSWORD, follow_redirects: bool = False):
        return self._client.post(
            "/auth/login",
            data={"email": email, "password": password},
            follow_redirects=follow_redirects,
        )

    def login_as(self, user: User):
        response = self.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as q: client.get(...)``; then ``q.count`` is the SQL queries run.

    The page cache is off while counting: the counts are those of rendering the page (a page
    served from the cache runs one query, tests/test_pagecache.py checks that).
    """

    @contextmanager
    def counting():
        counter = QueryCounter()

        def before(conn, cursor, statement, parameters, context, executemany):
            if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)", statement, re.I):
                counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", before)
        cache_seconds = app.config["PAGE_CACHE_SECONDS"]
        app.config["PAGE_CACHE_SECONDS"] = 0
        try:
            yield counter
        finally:
            app.config["PAGE_CACHE_SECONDS"] = cache_seconds
            sa.event.remove(engine, "before_cursor_execute", before)

    return counting


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
