"""RGPD: export, deletion, retention purge, and the registries other domains plug into."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blagis import audit, privacy
from blagis.extensions import db
from blagis.mail import queue_mail
from blagis.models import AuditEntry, OutboxMessage, OutboxStatus, Role, User, utcnow
from tests.conftest import PASSWORD


@pytest.fixture
def registered(request):
    """Append to a registry for one test only."""
    added = []

    def add(registry, item):
        registry.append(item)
        added.append((registry, item))

    yield add
    for registry, item in added:
        registry.remove(item)


def test_export_needs_login_and_post(client):
    assert client.post("/account/export").status_code == 302
    assert client.get("/account/export").status_code == 405


def test_export_contains_my_data(app, client, auth, make_user, registered):
    admin = make_user("admin@example.org", role=Role.ADMIN)
    user = make_user("ines@example.org", name="Inès")
    with app.app_context():
        audit.record(
            "user.role",
            "user",
            user.id,
            actor=db.session.get(User, admin.id),
            before={"role": "resident"},
            after={"role": "volunteer"},
        )
        queue_mail(
            user.email, "password_reset", context={"user": user, "reset_url": "x", "minutes": 60}
        )
        db.session.commit()
    registered(privacy.EXPORTERS, ("test_domain", lambda u: {"seen": u.email}))
    auth.login_as(user)
    response = client.post("/account/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "ines@example.org"
    assert data["account"]["display_name"] == "Inès"
    assert "password_hash" not in json.dumps(data)
    (entry,) = data["audit"]
    assert entry["action"] == "user.role" and entry["after"] == {"role": "volunteer"}
    assert entry["by_me"] is False
    assert len(data["mail"]) == 1
    assert data["test_domain"] == {"seen": "ines@example.org"}


def test_delete_page_explains_and_needs_password(app, client, auth, make_user):
    user = make_user("jo@example.org")
    auth.login_as(user)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "sans votre nom" in page and 'name="password"' in page
    wrong = client.post("/account/delete", data={"password": "not my password"})
    assert wrong.status_code == 422
    assert client.post("/account/delete", data={}).status_code == 422
    with app.app_context():
        assert db.session.get(User, user.id) is not None


def test_delete_account_runs_erasers_and_logs_out(app, client, auth, make_user, registered):
    user = make_user("kim@example.org")
    other = make_user("lou@example.org")
    seen = []
    registered(privacy.ERASERS, lambda u: seen.append((u.id, u.email)))
    with app.app_context():
        queue_mail(
            user.email, "password_reset", context={"user": user, "reset_url": "x", "minutes": 1}
        )
        queue_mail(
            other.email, "password_reset", context={"user": other, "reset_url": "x", "minutes": 1}
        )
        audit.record("user.role", "user", user.id, before={"role": "x"}, after={"role": "y"})
        db.session.commit()
    auth.login_as(user)
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 302
    assert seen == [(user.id, "kim@example.org")]
    assert client.get("/account").status_code == 302
    assert auth.login("kim@example.org").status_code == 422
    with app.app_context():
        assert db.session.get(User, user.id) is None
        assert db.session.scalars(select(OutboxMessage.recipient)).all() == ["lou@example.org"]
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["user.role", "user.delete"]
        assert entries[0].before is None and entries[0].after is None
        assert all(e.actor_id is None for e in entries)


def test_last_admin_cannot_delete_own_account(app, client, auth, make_user):
    admin = make_user("boss@example.org", role=Role.ADMIN)
    auth.login_as(admin)
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 422
    assert "dernier administrateur" in response.get_data(as_text=True)


def test_privacy_page_states_retention(client, app):
    html = client.get("/about/privacy").get_data(as_text=True)
    assert f"{app.config['BLAGIS_RETENTION_MONTHS']} mois" in html


def _sent_mail(recipient: str, months_ago: int) -> None:
    message = queue_mail(
        recipient, "password_reset", context={"user": None, "reset_url": "x", "minutes": 1}
    )
    message.status = OutboxStatus.SENT
    message.sent_at = utcnow() - timedelta(days=31 * months_ago)


def test_purge_erases_old_personal_data_and_keeps_rows(app, runner, make_user, registered):
    user = make_user("max@example.org")
    cutoffs = []
    registered(privacy.PURGERS, ("test_domain", lambda cutoff: cutoffs.append(cutoff) or 7))
    with app.app_context():
        _sent_mail("old@example.org", 30)
        _sent_mail("recent@example.org", 2)
        old = audit.record("user.role", "user", user.id, before={"role": "a"}, after={"role": "b"})
        old.at = utcnow() - timedelta(days=31 * 30)
        audit.record("user.role", "user", user.id, before={"role": "b"}, after={"role": "c"})
        db.session.commit()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "outbox: 1" in result.output and "audit: 1" in result.output
    assert "test_domain: 7" in result.output
    months = app.config["BLAGIS_RETENTION_MONTHS"]
    assert len(cutoffs) == 1 and utcnow() - cutoffs[0] >= timedelta(days=30 * months)
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [m.recipient for m in messages] == [privacy.ERASED, "recent@example.org"]
        assert messages[0].body_text == privacy.ERASED and messages[0].status == OutboxStatus.SENT
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert entries[0].after is None and entries[1].after == {"role": "c"}
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 2
    again = runner.invoke(args=["purge"])
    assert "outbox: 0" in again.output and "audit: 0" in again.output


def test_purge_dry_run_changes_nothing(app, runner):
    with app.app_context():
        _sent_mail("old@example.org", 30)
        db.session.commit()
    result = runner.invoke(args=["purge", "--dry-run"])
    assert "outbox: 1 (dry run)" in result.output
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.recipient)) == "old@example.org"


def test_purge_deletes_accounts_never_confirmed(app, runner, make_user):
    from blagis.auth.services import create_user

    kept = make_user("confirmed@example.org")
    with app.app_context():
        old = create_user("old@example.org", "Old", "a long password here", confirmed=False)
        old.created_at = utcnow() - timedelta(days=31 * 30)
        create_user("new@example.org", "New", "a long password here", confirmed=False)
        db.session.commit()
    result = runner.invoke(args=["purge"])
    assert "unconfirmed_accounts: 1" in result.output
    with app.app_context():
        emails = sorted(db.session.scalars(select(User.email)))
        assert emails == ["confirmed@example.org", "new@example.org"]
    assert kept.email == "confirmed@example.org"
