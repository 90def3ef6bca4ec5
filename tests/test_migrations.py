"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from blagis.extensions import db


def test_models_and_migrations_agree(app):
    # The session's schema was built by `upgrade()` in conftest, from the migrations.
    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
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
