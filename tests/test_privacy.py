"""RGPD: export, deletion, retention purge, and the registries other domains plug into."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blagis import audit, privacy
from blagis.extensions import db
from blagis.mail import queue_mail
from blagis.models import AuditEntry, OutboxMessage, OutboxStatus, Role, User, utcnow
from tests import factories_events
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


# --- the domains' registries: initiatives, events -------------------------------------------


make_event = factories_events.make_event
add_registration = factories_events.add_registration


def _published_initiative(author, **values):
    from blagis.models import Initiative, ModerationState

    initiative = Initiative(
        title=values.pop("title", "Des bancs au parc"),
        summary="Pour se reposer",
        body="Des bancs à l’ombre, près des jeux.",
        commune_code="sceaux",
        author_id=author.id if author else None,
        state=ModerationState.PUBLISHED,
        published_at=utcnow(),
        **values,
    )
    db.session.add(initiative)
    db.session.flush()
    return initiative


def test_export_contains_my_initiatives_and_registrations(
    app, client, auth, make_user, make_event, add_registration
):
    from blagis.initiatives import services as initiatives

    me, other = make_user("ana@example.org"), make_user("bob@example.org")
    event = make_event(title="Repair café")
    add_registration(event, me, seats=2)
    add_registration(event, other)
    with app.app_context():
        _published_initiative(me, title="Un jardin partagé")
        theirs = _published_initiative(other, title="Plus de lumière")
        stored_me = db.session.get(User, me.id)
        initiatives.toggle_support(stored_me, theirs)
        initiatives.report(stored_me, theirs, "Hors sujet")
        db.session.commit()
    auth.login_as(me)
    data = json.loads(client.post("/account/export").get_data(as_text=True))
    assert [i["title"] for i in data["initiatives"]["authored"]] == ["Un jardin partagé"]
    assert [s["title"] for s in data["initiatives"]["supported"]] == ["Plus de lumière"]
    assert data["initiatives"]["reported"][0]["reason"] == "Hors sujet"
    (registration,) = data["registrations"]
    assert registration["event"] == "Repair café" and registration["seats"] == 2
    assert registration["state"] == "confirmed"
    assert "bob@example.org" not in json.dumps(data)


def test_delete_keeps_initiatives_anonymous_and_frees_my_seats(
    app, client, auth, make_user, make_event, add_registration
):
    from blagis.initiatives import services as initiatives
    from blagis.models import (
        Initiative,
        InitiativeReport,
        InitiativeSupport,
        Registration,
        RegistrationState,
    )

    me = make_user("cleo@example.org", name="Cléo Martin")
    other = make_user("dan@example.org")
    waiting = make_user("eva@example.org", name="Eva")
    future = make_event(capacity=1)
    past = make_event(starts_at=utcnow() - timedelta(days=10))
    mine_future = add_registration(future, me)
    waitlisted = add_registration(future, waiting, state="waitlisted")
    mine_past = add_registration(past, me, seats=3)
    with app.app_context():
        db.session.execute(
            Registration.__table__.update()
            .where(Registration.id == mine_past.id)
            .values(attended=True)
        )
        mine = _published_initiative(me, title="Un composteur")
        theirs = _published_initiative(other)
        stored_me = db.session.get(User, me.id)
        initiatives.toggle_support(stored_me, theirs)
        initiatives.report(stored_me, theirs, "Doublon")
        db.session.commit()
        mine_id, theirs_id = mine.id, theirs.id
    auth.login_as(me)
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 302

    # The initiative is still published, without my name.
    page = client.get(f"/initiatives/{mine_id}").get_data(as_text=True)
    assert "Un composteur" in page and "Cléo" not in page
    with app.app_context():
        initiative = db.session.get(Initiative, mine_id)
        assert initiative.author_id is None and initiative.is_published
        # My support still counts, anonymously; my report is gone.
        assert db.session.get(Initiative, theirs_id).support_count == 1
        assert db.session.scalar(select(InitiativeSupport.user_id)) is None
        assert db.session.scalar(select(func.count(InitiativeReport.id))) == 0
        # Future registration cancelled, the waitlisted person promoted and told.
        cancelled = db.session.get(Registration, mine_future.id)
        assert cancelled.state == RegistrationState.CANCELLED and cancelled.user_id is None
        promoted = db.session.get(Registration, waitlisted.id)
        assert promoted.state == RegistrationState.CONFIRMED
        recipients = db.session.scalars(select(OutboxMessage.recipient)).all()
        assert "eva@example.org" in recipients and "cleo@example.org" not in recipients
        # The past registration stays for the figures, detached from the account.
        kept = db.session.get(Registration, mine_past.id)
        assert kept.user_id is None and kept.seats == 3 and kept.attended is True
        assert kept.state == RegistrationState.CONFIRMED
    assert waiting.email == "eva@example.org"


def _figures() -> dict:
    """Counts per event and per objective, with plain SQL aggregates (not the app's code)."""
    from sqlalchemy import text

    per_event = db.session.execute(
        text(
            "SELECT event_id, state, COUNT(*), SUM(seats),"
            " SUM(CASE WHEN attended THEN seats ELSE 0 END)"
            " FROM registrations GROUP BY event_id, state ORDER BY event_id, state"
        )
    ).all()
    per_objective = db.session.execute(
        text(
            "SELECT eo.objective_id, COUNT(DISTINCT e.id), COUNT(r.id), SUM(r.seats),"
            " SUM(CASE WHEN r.attended THEN r.seats ELSE 0 END),"
            " SUM(COALESCE(e.drop_in_count, 0))"
            " FROM event_objectives eo JOIN events e ON e.id = eo.event_id"
            " LEFT JOIN registrations r ON r.event_id = e.id AND r.state = 'confirmed'"
            " GROUP BY eo.objective_id ORDER BY eo.objective_id"
        )
    ).all()
    return {
        "per_event": [tuple(row) for row in per_event],
        "per_objective": [tuple(row) for row in per_objective],
    }


def test_purge_erases_old_walk_in_contacts_and_keeps_the_figures(
    app, runner, make_user, make_event, add_registration
):
    from blagis.models import ObjectiveNode, Registration, event_objectives

    member = make_user("fred@example.org")
    long_ago = utcnow() - timedelta(days=31 * (app.config["BLAGIS_RETENTION_MONTHS"] + 2))
    old = make_event(starts_at=long_ago, drop_in_count=4)
    recent = make_event(starts_at=utcnow() - timedelta(days=3))
    walk_in = add_registration(old, name="Mme Roux", phone="06 12 34 56 78", seats=2)
    absent = add_registration(old, name="M. Petit", email="petit@example.org")
    add_registration(old, member)
    add_registration(old, name="Annulé", phone="0600000000", state="cancelled")
    fresh = add_registration(recent, name="Mme Blanc", phone="0611111111")
    with app.app_context():
        db.session.execute(
            Registration.__table__.update()
            .where(Registration.id == walk_in.id)
            .values(attended=True)
        )
        db.session.execute(
            Registration.__table__.update()
            .where(Registration.id == absent.id)
            .values(attended=False)
        )
        node = db.session.scalar(select(ObjectiveNode).order_by(ObjectiveNode.id).limit(1))
        db.session.execute(
            event_objectives.insert(),
            [
                {"event_id": old.id, "objective_id": node.id},
                {"event_id": recent.id, "objective_id": node.id},
            ],
        )
        db.session.commit()
        before = _figures()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "registrations: 3" in result.output
    with app.app_context():
        assert _figures() == before
        rows = db.session.scalars(
            select(Registration).where(Registration.event_id == old.id).order_by(Registration.id)
        ).all()
        assert len(rows) == 4
        walk_ins = [r for r in rows if r.user_id is None]
        assert all(r.name is None and r.phone is None and r.email is None for r in walk_ins)
        assert [r.user_id for r in rows if r.user_id] == [member.id]
        kept = db.session.get(Registration, fresh.id)
        assert kept.name == "Mme Blanc" and kept.phone == "0611111111"
    assert "registrations: 0" in runner.invoke(args=["purge"]).output


# --- contact details of registered people: staff of the event's commune only ----------------


def test_contacts_of_registered_people_only_for_staff_of_the_commune(
    app, client, auth, make_user, make_event, add_registration
):
    event = make_event(commune_code="sceaux")
    add_registration(event, name="Mme Durand", phone="01 46 61 00 00", email="durand@example.org")
    add_registration(event, make_user("gil@example.org"))
    pages = (
        f"/staff/events/{event.id}/registrations",
        f"/staff/events/{event.id}/registrations.csv",
    )
    for who in (
        make_user(role=Role.STAFF, scope="sceaux"),
        make_user(role=Role.STAFF, scope=None),
        make_user(role=Role.ADMIN),
    ):
        auth.login_as(who)
        for page in pages:
            response = client.get(page)
            body = response.get_data(as_text=True)
            assert response.status_code == 200, (who.email, page)
            assert "01 46 61 00 00" in body and "durand@example.org" in body
            assert "gil@example.org" in body
        auth.logout()
    auth.login_as(make_user(role=Role.STAFF, scope="bagneux"))
    for page in pages:
        response = client.get(page)
        assert response.status_code == 403
        assert "durand@example.org" not in response.get_data(as_text=True)
    assert client.get("/admin/outbox").status_code == 403


def _rows_pointing_at(user_id: int) -> dict:
    """Every column with a foreign key to users.id, and how many rows still hold ``user_id``."""
    from blagis.models.base import Base

    found = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "users" for fk in column.foreign_keys):
                count = db.session.scalar(
                    select(func.count()).select_from(table).where(column == user_id)
                )
                found[f"{table.name}.{column.name}"] = count
    return found


def test_deleting_a_staff_account_leaves_no_row_pointing_at_it(
    app, client, auth, make_user, make_event
):
    """Events created, people registered on behalf, audit entries: all detached, all kept."""
    from blagis.events import services as events
    from blagis.models import Event, Registration

    staff = make_user("agent@example.org", role=Role.STAFF, scope="sceaux")
    event = make_event()
    with app.app_context():
        stored = db.session.get(User, staff.id)
        db.session.execute(
            Event.__table__.update().where(Event.id == event.id).values(created_by_id=staff.id)
        )
        events.staff_register(
            stored, event.id, name="Mme Noir", phone="0600000001", email=None, seats=1
        )
        db.session.commit()
        assert sum(_rows_pointing_at(staff.id).values()) >= 3
    auth.login_as(staff)
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 302
    with app.app_context():
        assert db.session.get(User, staff.id) is None
        assert set(_rows_pointing_at(staff.id).values()) == {0}
        assert db.session.scalar(select(func.count(Registration.id))) == 1
        assert db.session.get(Event, event.id) is not None
