"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from blagis.extensions import db
from blagis.models.base import include_in_comparison


def test_models_and_migrations_agree(app):
    # The session's schema was built by `upgrade()` in conftest, from the migrations.
    with app.app_context():
        with db.engine.connect() as conn:
            # PostgreSQL-only indexes (the search's trigram index) are not expected on SQLite.
            opts = {
                "compare_type": True,
                "include_object": include_in_comparison(conn.dialect.name),
            }
            context = MigrationContext.configure(conn, opts=opts)
            diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_from_empty_with_the_cli(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, BLAGIS_ENV="development", DATABASE_URL=f"sqlite:///{tmp_path}/fresh.db")
    env.pop("SECRET_KEY", None)
    cmd = [sys.executable, "-m", "flask", "--app", "blagis", "db", "upgrade"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    cmd = [sys.executable, "-m", "flask", "--app", "blagis", "load-contract"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "nodes created: 58" in result.stdout, result.stderr


def test_search_trigram_index_on_postgresql_only(app):
    """The search's ``LIKE '%term%'`` has a pg_trgm GIN index on PostgreSQL, none on SQLite."""
    with app.app_context():
        with db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                definition = conn.exec_driver_sql(
                    "SELECT indexdef FROM pg_indexes"
                    " WHERE indexname = 'ix_initiatives_search_text_trgm'"
                ).scalar()
                assert definition is not None
                assert "USING gin (search_text gin_trgm_ops)" in definition
            else:
                names = {ix["name"] for ix in sa.inspect(conn).get_indexes("initiatives")}
                assert "ix_initiatives_search_text_trgm" not in names
