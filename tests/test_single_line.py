"""Issue 15, item 2: a CR/LF in a single-line field never breaks an event, its calendar files
or a registration to it."""

import base64
import logging
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from blagis.extensions import db
from blagis.models import Event, Mission, OutboxMessage, Partner, Registration, User, utcnow
from blagis.text import multi_line, single_line
from blagis.timeutils import format_local
from tests import factories_events

make_event = factories_events.make_event

HOSTILE = "A\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:injected"


@pytest.fixture
def staff(make_user, auth):
    user = make_user(role="staff", scope="sceaux")
    auth.login_as(user)
    return user


def test_single_line_filter():
    assert single_line("  A\r\nB\tC\x00D\u2028E  ") == "A B C D E"
    assert single_line(None) is None
    assert multi_line("a\r\nb\rc\x00d\x0b") == "a\nb\ncd"


def event_form(**overrides) -> dict:
    start = utcnow() + timedelta(days=5)
    data = {
        "title": "Atelier",
        "kind": "atelier",
        "starts_at": format_local(start),
        "ends_at": format_local(start + timedelta(hours=2)),
        "place": "Maison de quartier",
        "commune": "sceaux",
        "max_seats": "1",
    }
    data.update(overrides)
    return data


def test_hostile_staff_post_is_stored_on_one_line(app, client, staff):
    response = client.post(
        "/staff/events/new", data=event_form(title=HOSTILE, place="Salle\r\n1\x0b")
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        event = db.session.scalar(select(Event))
        assert event.title == "A END:VEVENT BEGIN:VEVENT SUMMARY:injected"
        assert event.place == "Salle 1"
        event_id = event.id
    assert client.get(f"/events/{event_id}.ics").status_code == 200


def test_every_single_line_form_field_is_cleaned(app, client, staff, make_event):
    event = make_event()
    url = f"/staff/events/{event.id}/registrations"
    response = client.post(url, data={"name": "Mme\r\nX", "phone": "06\n12", "seats": "1"})
    assert response.status_code == 302
    response = client.post("/staff/partners", data={"name": "Asso\r\nBcc: x"})
    assert response.status_code == 302
    start = utcnow() + timedelta(days=4)
    response = client.post(
        f"/staff/events/{event.id}/missions",
        data={
            "title": "Accueil\r\nX",
            "starts_at": format_local(start),
            "ends_at": format_local(start + timedelta(hours=1)),
            "needed": "2",
            "place": "Hall\nB",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        registration = db.session.scalar(select(Registration))
        assert (registration.name, registration.phone) == ("Mme X", "06 12")
        assert db.session.scalar(select(Partner.name)) == "Asso Bcc: x"
        mission = db.session.scalar(select(Mission))
        assert (mission.title, mission.place) == ("Accueil X", "Hall B")


def test_sign_up_name_is_one_line(app, client):
    response = client.post(
        "/auth/register",
        data={
            "email": "newcomer@example.org",
            "display_name": "Nour\r\nAdmin",
            "password": "a long enough password",
            "password_confirm": "a long enough password",
            "commune": "sceaux",
            "accept_terms": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "newcomer@example.org"))
        assert user.display_name == "Nour Admin"


def _put_crlf_in_db(app, event_id):
    """A row written with CR/LF by other means than the forms (older data, a script)."""
    with app.app_context():
        db.session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(title=HOSTILE, place="Salle\r\n2", description="Ligne 1\r\nLigne 2\x0b")
        )
        db.session.commit()


def test_event_with_crlf_in_database_still_gives_valid_calendars(app, client, make_event):
    event = make_event()
    _put_crlf_in_db(app, event.id)
    response = client.get(f"/events/{event.id}.ics")
    assert response.status_code == 200
    assert b"\r\nEND:VEVENT\r\nBEGIN:VEVENT" not in response.data.split(b"BEGIN:VEVENT", 1)[1]
    [vevent] = Calendar.from_ical(response.data).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "A END:VEVENT BEGIN:VEVENT SUMMARY:injected"
    assert str(vevent["LOCATION"]).startswith("Salle 2, ")
    assert str(vevent["DESCRIPTION"]) == "Ligne 1\nLigne 2"
    feed = client.get("/events.ics")
    assert feed.status_code == 200
    assert len(Calendar.from_ical(feed.data).walk("VEVENT")) == 1


def test_registration_to_such_an_event_succeeds_with_its_calendar(
    app, client, auth, make_user, make_event
):
    event = make_event()
    _put_crlf_in_db(app, event.id)
    auth.login_as(make_user())
    response = client.post(f"/events/{event.id}/register", data={"seats": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Registration.state)).value == "confirmed"
        [mail] = db.session.scalars(select(OutboxMessage)).all()
        assert mail.template == "registration_confirmed"
        ics = base64.b64decode(mail.attachments[0]["data"])
    assert len(Calendar.from_ical(ics).walk("VEVENT")) == 1


def test_attachment_failure_never_blocks_a_registration(
    app, client, auth, make_user, make_event, monkeypatch, caplog
):
    """Whatever goes wrong in the calendar builder, the registration commits and the mail
    goes without the attachment; the fault is logged."""
    from blagis.events import ics

    def broken(event):
        raise ValueError("calendar builder fault")

    monkeypatch.setattr(ics, "event_calendar", broken)
    event = make_event()
    auth.login_as(make_user())
    with caplog.at_level(logging.ERROR):
        response = client.post(f"/events/{event.id}/register", data={"seats": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Registration.state)).value == "confirmed"
        [mail] = db.session.scalars(select(OutboxMessage)).all()
        assert mail.template == "registration_confirmed" and not mail.attachments
    assert any("attachment could not be built" in r.getMessage() for r in caplog.records)
