"""Issue 15, item 13: an event's volunteer missions follow it when it is cancelled or moved,
and a mission's new time is re-checked and told to its volunteers."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from blagis.extensions import db
from blagis.models import Mission, MissionSignup, OutboxMessage, SignupState, utcnow
from blagis.timeutils import format_local
from tests import factories_events, factories_volunteers

make_event = factories_events.make_event
make_volunteer = factories_volunteers.make_volunteer
make_mission = factories_volunteers.make_mission
add_signup = factories_volunteers.add_signup


def soon(days=3):
    """A start on a whole minute, as the forms give (they have no seconds)."""
    return (utcnow() + timedelta(days=days)).replace(second=0, microsecond=0)


@pytest.fixture
def staff(make_user, auth):
    user = make_user(role="staff", scope="sceaux")
    auth.login_as(user)
    return user


def edit_data(event, **overrides) -> dict:
    data = {
        "title": event.title,
        "kind": event.kind.value,
        "starts_at": format_local(event.starts_at),
        "ends_at": format_local(event.ends_at),
        "place": event.place,
        "commune": event.commune_code,
        "capacity": str(event.capacity or ""),
        "max_seats": "1",
        "apply_to": "one",
    }
    data.update(overrides)
    return data


def mails(app, template):
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.id)
        ).all()
        return [(m.recipient, m.locale, m.subject) for m in rows]


def mission_row(app, mission_id):
    with app.app_context():
        row = db.session.get(Mission, mission_id)
        db.session.expunge(row)
        return row


def signup_state(app, mission_id, user_id):
    with app.app_context():
        return db.session.scalar(
            select(MissionSignup.state).where(
                MissionSignup.mission_id == mission_id, MissionSignup.user_id == user_id
            )
        )


def test_cancelling_an_event_cancels_its_missions_and_tells_volunteers(
    app, client, staff, make_event, make_mission, make_volunteer, add_signup
):
    event = make_event(starts_at=soon())
    mission = make_mission(event_id=event.id, starts_at=event.starts_at - timedelta(hours=1))
    other = make_mission(title="Autre mission")  # not of this event: untouched
    english = make_volunteer(locale="en")
    french = make_volunteer(locale="fr")
    add_signup(mission, english)
    add_signup(mission, french)
    assert mission.title in client.get("/volunteer").get_data(as_text=True)
    response = client.post(f"/staff/events/{event.id}/edit", data=edit_data(event, cancelled="y"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert mission_row(app, mission.id).cancelled
    assert not mission_row(app, other.id).cancelled
    sent = mails(app, "mission_cancelled")
    assert sorted((r, loc) for r, loc, _ in sent) == sorted(
        [(english.email, "en"), (french.email, "fr")]
    )
    subjects = {loc: subject for _, loc, subject in sent}
    assert subjects["en"].startswith("Mission cancelled")
    assert subjects["fr"].startswith("Mission annulée")
    listing = client.get("/volunteer").get_data(as_text=True)
    assert mission.title not in listing and "Autre mission" in listing


def test_moving_an_event_moves_its_missions_and_rechecks_overlaps(
    app, client, staff, make_event, make_mission, make_volunteer, add_signup
):
    event = make_event(starts_at=soon())
    before = event.starts_at - timedelta(hours=1)
    mission = make_mission(event_id=event.id, starts_at=before)
    stays, clashes = make_volunteer(locale="en"), make_volunteer(locale="fr")
    add_signup(mission, stays)
    add_signup(mission, clashes)
    # ``clashes`` already serves elsewhere the day after, at the time the event moves to.
    shift = timedelta(days=1)
    elsewhere = make_mission(title="Épicerie solidaire", starts_at=before + shift)
    add_signup(elsewhere, clashes)
    moved = edit_data(
        event,
        starts_at=format_local(event.starts_at + shift),
        ends_at=format_local(event.ends_at + shift),
    )
    assert client.post(f"/staff/events/{event.id}/edit", data=moved).status_code == 302
    row = mission_row(app, mission.id)
    assert row.starts_at == mission.starts_at + shift and row.ends_at == mission.ends_at + shift
    assert not row.cancelled
    # Decision: kept where no clash; withdrawn from the moved mission on a clash, and told.
    assert signup_state(app, mission.id, stays.id) == SignupState.CONFIRMED
    assert signup_state(app, mission.id, clashes.id) == SignupState.WITHDRAWN
    assert signup_state(app, elsewhere.id, clashes.id) == SignupState.CONFIRMED
    sent = {r: (loc, subject) for r, loc, subject in mails(app, "mission_moved")}
    assert sent[stays.email] == ("en", f"Mission moved: {mission.title}")
    assert sent[clashes.email][0] == "fr"
    assert sent[clashes.email][1].startswith("Mission déplacée, votre place libérée")
    with app.app_context():
        body = db.session.scalar(
            select(OutboxMessage.body_text)
            .where(OutboxMessage.recipient == clashes.email)
            .where(OutboxMessage.template == "mission_moved")
        )
    assert "Épicerie solidaire" in body


def test_editing_an_event_without_moving_it_leaves_missions_alone(
    app, client, staff, make_event, make_mission, make_volunteer, add_signup
):
    event = make_event(starts_at=soon())
    mission = make_mission(event_id=event.id, starts_at=event.starts_at)
    add_signup(mission, make_volunteer())
    assert (
        client.post(
            f"/staff/events/{event.id}/edit", data=edit_data(event, title="Nouveau titre")
        ).status_code
        == 302
    )
    assert mission_row(app, mission.id).starts_at == mission.starts_at
    assert mails(app, "mission_moved") == []


def test_update_mission_rechecks_overlaps_and_tells_volunteers(
    app, client, staff, make_mission, make_volunteer, add_signup
):
    start = soon(6)
    mission = make_mission(starts_at=start)
    other = make_mission(title="Distribution", starts_at=start + timedelta(hours=3))
    free, busy = make_volunteer(locale="en"), make_volunteer(locale="en")
    add_signup(mission, free)
    add_signup(mission, busy)
    add_signup(other, busy)
    later = start + timedelta(hours=3)
    data = {
        "title": mission.title,
        "starts_at": format_local(later),
        "ends_at": format_local(later + timedelta(hours=2)),
        "needed": "3",
        "commune": "sceaux",
        "place": mission.place,
    }
    response = client.post(f"/staff/missions/{mission.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert signup_state(app, mission.id, free.id) == SignupState.CONFIRMED
    assert signup_state(app, mission.id, busy.id) == SignupState.WITHDRAWN
    sent = {r: subject for r, _, subject in mails(app, "mission_moved")}
    assert sent[free.email] == f"Mission moved: {mission.title}"
    assert sent[busy.email].startswith("Mission moved, your place freed")
    # Changing something else than the time tells nobody again.
    data["title"] = "Accueil (renfort)"
    assert client.post(f"/staff/missions/{mission.id}/edit", data=data).status_code == 302
    assert len(mails(app, "mission_moved")) == 2
