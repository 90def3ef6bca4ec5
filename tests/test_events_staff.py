"""Staff side of events: create/edit within scope, series, people without account, attendance,
CSV sheet, calendars, listing filters, API, reminders, audit."""

import csv
import io
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from blagis.extensions import db
from blagis.models import AuditEntry, Event, OutboxMessage, Registration, utcnow
from blagis.timeutils import PARIS, format_local
from tests import factories_events

make_event = factories_events.make_event
add_registration = factories_events.add_registration


def local(delta: timedelta) -> str:
    return format_local(utcnow() + delta)


def form_data(**overrides) -> dict:
    data = {
        "title": "Atelier cuisine en famille",
        "description": "Cuisinons ensemble des recettes de saison.",
        "kind": "atelier",
        "starts_at": local(timedelta(days=5)),
        "ends_at": local(timedelta(days=5, hours=2)),
        "place": "Maison de quartier des Blagis, 12 rue des Blagis",
        "commune": "sceaux",
        "capacity": "12",
        "max_seats": "4",
        "objectives": ["1", "4.1"],
    }
    data.update(overrides)
    return data


def audit_actions(app):
    with app.app_context():
        return [a.action for a in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


@pytest.fixture
def staff(make_user, auth):
    user = make_user(role="staff", scope="sceaux")
    auth.login_as(user)
    return user


# --- creating and editing ----------------------------------------------------------------------


def test_staff_creates_event_with_objectives(app, client, staff):
    response = client.post("/staff/events/new", data=form_data())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        event = db.session.scalar(select(Event))
        assert event.capacity == 12 and event.max_seats == 4 and event.created_by_id == staff.id
    assert "event.create" in audit_actions(app)
    page = client.get("/objectives/4.1").get_data(as_text=True)
    assert "Atelier cuisine en famille" in page
    assert "Atelier cuisine en famille" in client.get("/events?objective=4").get_data(as_text=True)
    assert "Atelier cuisine" not in client.get("/events?objective=2").get_data(as_text=True)


@pytest.mark.parametrize(
    "field,value",
    [
        ("ends_at", "start"),
        ("starts_at", "not a date"),
        ("starts_at", "2026-13-45T25:99"),
        ("capacity", "0"),
        ("capacity", "-3"),
        ("max_seats", "0"),
        ("max_seats", "11"),
        ("kind", "party"),
        ("commune", "atlantis"),
        ("title", ""),
        ("objectives", ["99.99"]),
        ("partner_id", "12345"),
        ("repeat", "daily"),
    ],
)
def test_staff_bad_event_input_is_422(app, client, staff, field, value):
    data = form_data()
    data[field] = data["starts_at"] if value == "start" else value
    response = client.post("/staff/events/new", data=data)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(Event)) is None


def test_empty_capacity_means_unlimited(app, client, staff):
    assert client.post("/staff/events/new", data=form_data(capacity="")).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Event)).capacity is None


def test_scoped_staff_cannot_act_elsewhere(app, client, staff, make_event, add_registration):
    other = make_event(commune_code="bagneux", title="Brocante de Bagneux")
    registration = add_registration(other, name="Mme Diallo", phone="0600000000")
    assert client.get(f"/staff/events/{other.id}/edit").status_code == 403
    assert client.get(f"/staff/events/{other.id}/registrations").status_code == 403
    assert client.get(f"/staff/events/{other.id}/registrations.csv").status_code == 403
    assert (
        client.post(f"/staff/registrations/{registration.id}/attendance", data={"present": "1"})
    ).status_code == 403
    assert client.post("/staff/events/new", data=form_data(commune="bagneux")).status_code == 422
    assert client.get("/staff/events/999999/edit").status_code == 404
    assert "Brocante de Bagneux" not in client.get("/staff/events").get_data(as_text=True)


def test_residents_cannot_reach_staff_pages(client, auth, make_user, make_event):
    event = make_event()
    auth.login_as(make_user())
    for path in ("/staff/events", "/staff/events/new", f"/staff/events/{event.id}/registrations"):
        assert client.get(path).status_code == 403


def test_edit_bumps_sequence_and_tells_registrants(
    app, client, staff, make_user, make_event, add_registration
):
    event = make_event(title="Sortie au parc de Sceaux")
    person = make_user(locale="en")
    add_registration(event, person)
    add_registration(event, name="M. Martin", email="martin@example.org")
    data = form_data(
        title="Sortie au parc de Sceaux",
        starts_at=format_local(event.starts_at + timedelta(hours=1)),
        ends_at=format_local(event.ends_at + timedelta(hours=1)),
        capacity="10",
        max_seats="1",
        objectives=[],
    )
    assert client.post(f"/staff/events/{event.id}/edit", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Event, event.id).sequence == 1
        changed = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "event_changed")
        ).all()
        assert sorted((m.recipient, m.locale) for m in changed) == [
            ("martin@example.org", "fr"),
            (person.email, "en"),
        ]
    assert "event.update" in audit_actions(app)


def test_cancel_event_keeps_registrations_and_mails(
    app, client, staff, make_user, make_event, add_registration
):
    event = make_event(capacity=1)
    a, b = make_user(), make_user()
    add_registration(event, a)
    add_registration(event, b, state="waitlisted")
    add_registration(event, name="Sans adresse", phone="0102030405", state="waitlisted")
    data = form_data(
        title=event.title,
        starts_at=format_local(event.starts_at),
        ends_at=format_local(event.ends_at),
        capacity="1",
        max_seats="1",
        cancelled="y",
    )
    assert client.post(f"/staff/events/{event.id}/edit", data=data).status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(Registration).order_by(Registration.id)).all()
        assert [r.state.value for r in rows] == ["confirmed", "waitlisted", "waitlisted"]
        sent = db.session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.template == "event_cancelled")
        ).all()
        assert sorted(sent) == sorted([a.email, b.email])
    assert "event.cancel" in audit_actions(app)
    ics = Calendar.from_ical(client.get(f"/events/{event.id}.ics").data)
    [vevent] = ics.walk("VEVENT")
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert int(vevent["SEQUENCE"]) == 1


def test_raising_capacity_promotes_in_order(
    app, client, staff, make_user, make_event, add_registration
):
    event = make_event(capacity=1, max_seats=2)
    add_registration(event, make_user())
    first, second, third = make_user(), make_user(), make_user()
    add_registration(event, first, seats=2, state="waitlisted")
    add_registration(event, second, state="waitlisted")
    add_registration(event, third, state="waitlisted")
    data = form_data(
        title=event.title,
        starts_at=format_local(event.starts_at),
        ends_at=format_local(event.ends_at),
        capacity="4",
        max_seats="2",
    )
    assert client.post(f"/staff/events/{event.id}/edit", data=data).status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(Registration).order_by(Registration.id)).all()
        assert [r.state.value for r in rows] == [
            "confirmed",
            "confirmed",
            "confirmed",
            "waitlisted",
        ]
        promoted = db.session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.template == "registration_promoted")
        ).all()
        assert promoted == [first.email, second.email]


# --- series ----------------------------------------------------------------------------------


def test_weekly_series_and_edit_whole_series(app, client, staff):
    start = utcnow() + timedelta(days=2)
    # The last date in Paris time, as staff type it (UTC's date differs just before midnight).
    until = (start + timedelta(weeks=3)).astimezone(PARIS).date().isoformat()
    data = form_data(
        title="Café des bénévoles",
        kind="cafe_benevoles",
        starts_at=format_local(start),
        ends_at=format_local(start + timedelta(hours=2)),
        repeat="weekly",
        repeat_until=until,
    )
    assert client.post("/staff/events/new", data=data).status_code == 302
    with app.app_context():
        events = db.session.scalars(select(Event).order_by(Event.starts_at)).all()
        assert len(events) == 4
        assert len({e.series_id for e in events}) == 1
        first_id, last_id = events[0].id, events[-1].id
        last_start, last_end = events[-1].starts_at, events[-1].ends_at
        gaps = {(b.starts_at - a.starts_at).days for a, b in zip(events, events[1:], strict=False)}
        assert gaps <= {6, 7}  # a week, whatever the clock change
    edit = dict(data, title="Café des bénévoles du jeudi", apply_to="series", capacity="20")
    edit.pop("repeat")
    assert client.post(f"/staff/events/{first_id}/edit", data=edit).status_code == 302
    with app.app_context():
        titles = db.session.scalars(select(Event.title).order_by(Event.starts_at)).all()
        assert titles == ["Café des bénévoles du jeudi"] * 4
        assert db.session.get(Event, last_id).capacity == 20
    one = dict(
        edit,
        title="Café spécial",
        apply_to="one",
        starts_at=format_local(last_start),
        ends_at=format_local(last_end),
    )
    assert client.post(f"/staff/events/{last_id}/edit", data=one).status_code == 302
    with app.app_context():
        titles = db.session.scalars(select(Event.title).order_by(Event.starts_at)).all()
        assert titles[-1] == "Café spécial" and titles[0] == "Café des bénévoles du jeudi"


def test_series_without_until_is_refused(client, staff):
    assert client.post("/staff/events/new", data=form_data(repeat="monthly")).status_code == 422


@pytest.mark.parametrize(
    "overrides",
    [
        {
            "starts_at": "9999-12-31T20:00",
            "ends_at": "9999-12-31T22:00",
            "repeat": "weekly",
            "repeat_until": "9999-12-31",
        },
        {"starts_at": "0001-01-01T00:00", "ends_at": "0001-01-01T02:00"},
        {"repeat": "weekly", "repeat_until": "2026-99-99"},
        {"repeat": "weekly", "repeat_until": "2000-01-01"},
        {"repeat": "weekly", "repeat_until": "2099-01-01"},
        {"registration_opens_at": "2026-01-02T10:00", "registration_closes_at": "2026-01-01T10:00"},
    ],
)
def test_extreme_event_input_never_500(client, staff, overrides):
    response = client.post("/staff/events/new", data=form_data(**overrides))
    assert response.status_code in (302, 422)


# --- people without account, attendance, drop-ins, CSV -----------------------------------------


def test_staff_registers_people_without_account(app, client, staff, make_event):
    event = make_event(capacity=3)
    url = f"/staff/events/{event.id}/registrations"
    r = client.post(url, data={"name": "Mme Ndiaye", "phone": "06 12 34 56 78", "seats": "2"})
    assert r.status_code == 302
    r = client.post(url, data={"name": "M. Léger", "email": "leger@example.org", "seats": "2"})
    assert r.status_code == 302
    for bad in (
        {"name": "", "phone": "0600", "seats": "1"},
        {"name": "Sans contact", "seats": "1"},
        {"name": "X", "phone": "0600", "seats": "0"},
        {"name": "X", "phone": "0600", "seats": "99"},
        {"name": "X", "email": "pas-une-adresse", "seats": "1"},
    ):
        assert client.post(url, data=bad).status_code == 422
    with app.app_context():
        rows = db.session.scalars(select(Registration).order_by(Registration.id)).all()
        assert [(r.name, r.state.value) for r in rows] == [
            ("Mme Ndiaye", "confirmed"),
            ("M. Léger", "waitlisted"),
        ]
        [mail] = db.session.scalars(select(OutboxMessage)).all()
        assert mail.recipient == "leger@example.org" and mail.locale == "fr"
        assert mail.template == "registration_waitlisted"
    assert audit_actions(app).count("registration.create_on_behalf") == 2
    page = client.get(url).get_data(as_text=True)
    assert "Mme Ndiaye" in page and "06 12 34 56 78" in page


def test_attendance_and_csv_sheet(app, client, staff, make_user, make_event, add_registration):
    event = make_event(capacity=5, title="Repair café")
    resident = make_user(name="Amélie Poulain")
    present = add_registration(event, resident)
    absent = add_registration(event, name="Zoé Müller", phone="0611223344", seats=2)
    add_registration(event, name="Waiting Person", phone="0700000000", state="waitlisted")
    assert (
        client.post(f"/staff/registrations/{present.id}/attendance", data={"present": "1"})
    ).status_code == 302
    assert (
        client.post(f"/staff/registrations/{absent.id}/attendance", data={"present": "0"})
    ).status_code == 302
    bad = client.post(f"/staff/registrations/{absent.id}/attendance", data={"present": "maybe"})
    assert bad.status_code in (302, 303)
    assert (
        client.post("/staff/registrations/999999/attendance", data={"present": "1"}).status_code
        == 404
    )
    response = client.get(f"/staff/events/{event.id}/registrations.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:6] == ["Nom", "Téléphone", "E-mail", "Places", "État", "Présent"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Amélie Poulain"][5] == "oui" and by_name["Amélie Poulain"][2] == resident.email
    assert by_name["Zoé Müller"][1:6] == ["0611223344", "", "2", "confirmée", "non"]
    assert by_name["Waiting Person"][4] == "liste d’attente"
    assert audit_actions(app).count("registration.attendance") == 2


def test_drop_in_count(app, client, staff, make_event):
    event = make_event()
    url = f"/staff/events/{event.id}/drop-ins"
    assert client.post(url, data={"drop_in_count": "17"}).status_code == 302
    assert client.post(url, data={"drop_in_count": "-4"}).status_code == 302
    with app.app_context():
        assert db.session.get(Event, event.id).drop_in_count == 17
    assert "event.drop_ins" in audit_actions(app)


def test_staff_cancels_a_registration_and_promotes(
    app, client, staff, make_user, make_event, add_registration
):
    event = make_event(capacity=1)
    phoned = add_registration(event, name="Mme Roux", phone="0601")
    waiting = make_user()
    add_registration(event, waiting, state="waitlisted")
    assert client.post(f"/staff/registrations/{phoned.id}/cancel").status_code == 302
    with app.app_context():
        states = db.session.scalars(select(Registration.state).order_by(Registration.id)).all()
        assert [s.value for s in states] == ["cancelled", "confirmed"]
    assert "registration.cancel" in audit_actions(app)


def test_partners(app, client, staff, make_event):
    assert (
        client.post("/staff/partners", data={"name": "Centre social des Blagis"}).status_code == 302
    )
    assert (
        client.post("/staff/partners", data={"name": "centre social des blagis"}).status_code == 422
    )
    assert client.post("/staff/partners", data={"name": ""}).status_code == 422
    with app.app_context():
        from blagis.models import Partner

        partner = db.session.scalar(select(Partner))
    r = client.post(f"/staff/partners/{partner.id}/edit", data={"name": "CSC des Blagis"})
    assert r.status_code == 302
    assert client.get("/staff/partners/9999/edit").status_code == 404
    event = make_event(partner_id=partner.id)
    assert "CSC des Blagis" in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert {"partner.create", "partner.update"} <= set(audit_actions(app))


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/",
        "www.example.fr",
        "https://",
    ],
)
def test_partner_website_is_http_only(app, client, staff, website):
    from blagis.models import Partner

    response = client.post("/staff/partners", data={"name": "Asso", "website": website})
    assert response.status_code == 422
    assert "Saisissez une adresse web commençant par https:// ou http://." in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Partner)) == 0


def test_partner_website_accepts_web_addresses_and_old_rows_never_become_links(app, client, staff):
    from blagis.domain import DomainError
    from blagis.events.services import save_partner
    from blagis.models import Partner, User

    for website in ("https://asso.example.fr/page?x=1", "http://asso.example.org"):
        name = website.split("/")[2]
        response = client.post("/staff/partners", data={"name": name, "website": website})
        assert response.status_code == 302, website
    # The service refuses it too (another caller than the form).
    with app.test_request_context():
        actor = db.session.scalar(select(User))
        with pytest.raises(DomainError):
            save_partner(actor, None, "Autre", "javascript:alert(1)")
        db.session.rollback()
        # A row saved before the check: shown as text, never as a link.
        db.session.add(Partner(name="Ancienne", website="javascript:alert(1)"))
        db.session.commit()
    html = client.get("/staff/partners").get_data(as_text=True)
    assert 'href="javascript' not in html.lower() and "javascript:alert(1)" in html
    assert 'href="https://asso.example.fr/page?x=1"' in html
    assert 'href="http://asso.example.org"' in html


def test_partner_names_differing_only_by_accented_case_are_one_name(app, client, staff):
    """SQLite's lower() folds ASCII only: the same name twice was a unique-index 500."""
    assert client.post("/staff/partners", data={"name": "Éclat Ð"}).status_code == 302
    for again in ("Éclat Ð", "éclat ð", "ÉCLAT Ð"):
        response = client.post("/staff/partners", data={"name": again})
        assert response.status_code == 422, again
        assert "porte déjà ce nom" in response.get_data(as_text=True)
    with app.app_context():
        from blagis.models import Partner

        assert db.session.scalar(select(func.count(Partner.id))) == 1


# --- calendars, listing, API -------------------------------------------------------------------


def test_event_ics_parses_back(app, client, make_event):
    event = make_event(title="Café numérique : débuter sur smartphone")
    response = client.get(f"/events/{event.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == event.title
    assert str(vevent["UID"]) == f"event-{event.id}@blagis.test"
    assert vevent.decoded("DTSTART") == event.starts_at.replace(microsecond=0)
    assert vevent["DTSTART"].params["TZID"] == "Europe/Paris"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "Europe/Paris"
    again = Calendar.from_ical(client.get(f"/events/{event.id}.ics").data)
    assert str(again.walk("VEVENT")[0]["UID"]) == str(vevent["UID"])


def test_feed_ics_with_filters(client, make_event):
    a = make_event(title="Atelier vélo", kind="atelier")
    make_event(title="Sortie au musée", kind="sortie", commune_code="bagneux")
    make_event(title="Déjà passé", starts_at=utcnow() - timedelta(days=3))
    cal = Calendar.from_ical(client.get("/events.ics").data)
    assert sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT")) == [
        "Atelier vélo",
        "Sortie au musée",
    ]
    cal = Calendar.from_ical(client.get("/events.ics?kind=atelier").data)
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [f"event-{a.id}@blagis.test"]
    cal = Calendar.from_ical(client.get("/events.ics?past=1").data)
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["Déjà passé"]


def test_listing_filters_and_places(client, make_event, make_user, add_registration):
    full = make_event(title="Atelier complet", kind="atelier", capacity=1)
    add_registration(full, make_user())
    add_registration(full, make_user(), state="waitlisted")
    make_event(title="Sortie à Bagneux", kind="sortie", commune_code="bagneux", capacity=8)
    make_event(title="Rencontre passée", kind="rencontre", starts_at=utcnow() - timedelta(days=2))
    html = client.get("/events").get_data(as_text=True)
    assert "Atelier complet" in html and "Sortie à Bagneux" in html
    assert "Rencontre passée" not in html
    assert "Complet" in html and "8 places restantes" in html
    assert "1 personne sur la liste d’attente" in html
    html = client.get("/events?commune=bagneux").get_data(as_text=True)
    assert "Sortie à Bagneux" in html and "Atelier complet" not in html
    html = client.get("/events?kind=atelier").get_data(as_text=True)
    assert "Atelier complet" in html and "Sortie à Bagneux" not in html
    html = client.get("/events?past=1").get_data(as_text=True)
    assert "Rencontre passée" in html and "Atelier complet" not in html
    home = client.get("/").get_data(as_text=True)
    assert "Atelier complet" in home and "8 places restantes" in home


@pytest.mark.parametrize(
    "query",
    [
        "kind=party",
        "commune=%00",
        "objective=zzz",
        "objective=" + "9" * 500,
        "past=yes",
        "page=-5",
        "page=abc",
        "page=99999999999999999999",
        "per_page=100000",
        "kind=atelier&kind=sortie",
        "objective=%25",
        "objective=1.%25",
    ],
)
def test_garbage_query_params_never_500(client, auth, make_user, make_event, query):
    make_event()
    auth.login_as(make_user(role="admin"))
    for path in ("/events", "/events.ics", "/api/v1/events", "/staff/events"):
        assert client.get(f"{path}?{query}").status_code in (200, 302)


def test_api_events_paginated_without_personal_data(
    client, make_event, make_user, add_registration
):
    events = [make_event(title=f"Atelier {i}", capacity=5) for i in range(3)]
    add_registration(events[0], make_user("secret@example.org"), seats=1)
    add_registration(events[0], name="Nom Secret", phone="0699999999")
    response = client.get("/api/v1/events?per_page=2")
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["events"]) == 2 and body["total"] == 3
    assert body["next"].startswith("http") and "cursor=" in body["next"]
    first = body["events"][0]
    assert first["places_left"] == 3 and first["waitlist_length"] == 0
    text = response.get_data(as_text=True)
    assert "secret@example.org" not in text and "Nom Secret" not in text and "0699" not in text
    last = client.get("/api/v1/events?per_page=2&page=2").get_json()
    assert len(last["events"]) == 1 and last["next"] is None
    assert client.get("/api/v1/events?per_page=500").get_json()["per_page"] == 100


def test_listing_query_count_is_bounded(
    client, make_event, make_user, add_registration, count_queries
):
    def run():
        with count_queries() as q:
            assert client.get("/events").status_code == 200
        return q.count

    for i in range(3):
        add_registration(make_event(title=f"Petit {i}"), make_user())
    small = run()
    for i in range(15):
        add_registration(make_event(title=f"Grand {i}"), make_user())
    assert run() == small
    with count_queries() as q:
        client.get("/api/v1/events")
    assert q.count <= small + 2


# --- reminders -----------------------------------------------------------------------------------


def test_send_reminders_once(app, runner, make_user, make_event, add_registration):
    soon = make_event(starts_at=utcnow() + timedelta(hours=20))
    later = make_event(starts_at=utcnow() + timedelta(days=5))
    user = make_user(locale="en")
    add_registration(soon, user)
    add_registration(soon, name="Sans e-mail", phone="0600")
    add_registration(soon, name="Avec e-mail", email="avec@example.org", state="waitlisted")
    add_registration(soon, make_user(), state="cancelled")
    add_registration(later, make_user())
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0 and "reminders queued: 2" in result.output
    result = runner.invoke(args=["send-reminders"])
    assert "reminders queued: 0" in result.output
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)).all()
        assert [(m.recipient, m.locale) for m in rows] == [
            ("avec@example.org", "fr"),
            (user.email, "en"),
        ]
        assert rows[1].subject.startswith("Reminder")


def test_staff_pages_render(app, client, staff, make_event, add_registration):
    event = make_event(max_seats=3, registration_closes_at=utcnow() + timedelta(days=1))
    add_registration(event, name="Mme Blanc", phone="0601", seats=2)
    for path in (
        "/staff/events",
        "/staff/events?past=1",
        "/staff/events/new",
        f"/staff/events/{event.id}/edit",
        f"/staff/events/{event.id}/registrations",
        "/staff/partners",
        f"/events/{event.id}",
        "/events?lang=en",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    html = client.get(f"/staff/events/{event.id}/edit").get_data(as_text=True)
    assert format_local(event.starts_at) in html
    assert 'name="cancelled"' in html and 'name="objectives"' in html


def test_staff_cannot_register_on_cancelled_event_but_can_after_window(
    app, client, staff, make_event
):
    cancelled = make_event(cancelled=True)
    closed = make_event(registration_closes_at=utcnow() - timedelta(hours=1))
    person = {"name": "Mme Petit", "phone": "0601020304", "seats": "1"}
    r = client.post(f"/staff/events/{cancelled.id}/registrations", data=person)
    assert r.status_code == 422
    r = client.post(f"/staff/events/{closed.id}/registrations", data=person)
    assert r.status_code == 302
    r = client.post("/staff/events/999999/registrations", data=person)
    assert r.status_code == 404


def test_objective_indicators(app, make_event, make_user, add_registration, client):
    from blagis.events.services import indicators
    from blagis.models import ObjectiveNode, event_objectives

    now = utcnow()
    held = make_event(starts_at=now - timedelta(days=1), drop_in_count=7)
    other = make_event(starts_at=now - timedelta(days=2), drop_in_count=100)
    cancelled = make_event(starts_at=now - timedelta(days=2), cancelled=True, drop_in_count=50)
    with app.app_context():
        node = db.session.scalar(select(ObjectiveNode).where(ObjectiveNode.code == "4.4.1"))
        for event_id in (held.id, cancelled.id):
            db.session.execute(
                event_objectives.insert().values(event_id=event_id, objective_id=node.id)
            )
        db.session.commit()
    for i in range(3):
        r = add_registration(held, make_user(), seats=2)
        with app.app_context():
            db.session.get(Registration, r.id).attended = i < 2
            db.session.commit()
    add_registration(held, make_user(), state="waitlisted")
    add_registration(other, make_user())
    with app.app_context():
        result = indicators(["4", "4.4", "4.4.1"], now - timedelta(days=30), now)
        assert (result.events, result.confirmed_seats, result.attended_seats, result.drop_ins) == (
            1,
            6,
            4,
            7,
        )
        assert indicators([], now - timedelta(days=30), now).events == 0
    html = client.get("/objectives/4.4").get_data(as_text=True)
    assert "4 personnes présentes" in html and "7 personnes venues sans inscription" in html


def test_csv_neutralises_formulas(client, staff, make_event, add_registration):
    event = make_event()
    add_registration(event, name='=HYPERLINK("http://evil")', phone="+33 6 12 34 56 78")
    add_registration(event, name="@SUM(A1)", phone="-1+1")
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/staff/events/{event.id}/registrations.csv").data.decode("utf-8-sig")
            ),
            delimiter=";",
        )
    )
    assert rows[1][0].startswith("'=") and rows[1][1] == "+33 6 12 34 56 78"
    assert rows[2][0] == "'@SUM(A1)" and rows[2][1] == "'-1+1"


@pytest.mark.parametrize(
    ("name", "phone", "email", "expected"),
    [
        # Arithmetic a spreadsheet computes: every one gets the quote, in every column.
        ("-2+3", "-5+5", None, ["'-2+3", "'-5+5", ""]),
        ("+1+1", "+1+1", "-1@example.org", ["'+1+1", "'+1+1", "'-1@example.org"]),
        ("\tTab", "\r0601", None, ["'\tTab", "'\r0601", ""]),
        ("=1", "@A1", None, ["'=1", "'@A1", ""]),
        # Phone numbers as people write them stay readable.
        ("Mme Ndiaye", "+33 6 12 34 56 78", None, ["Mme Ndiaye", "+33 6 12 34 56 78", ""]),
        ("M. Petit", "06.12.34.56.78", None, ["M. Petit", "06.12.34.56.78", ""]),
        ("M. Blanc", "+33612345678", None, ["M. Blanc", "+33612345678", ""]),
    ],
)
def test_csv_quotes_arithmetic_cells(
    client, staff, make_event, add_registration, name, phone, email, expected
):
    event = make_event()
    add_registration(event, name=name, phone=phone, email=email)
    body = client.get(f"/staff/events/{event.id}/registrations.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body, newline=""), delimiter=";"))
    assert rows[1][:3] == expected


def test_purge_people_without_account(app, make_event, make_user, add_registration):
    from blagis.events.services import purge_people_without_account

    old = make_event(starts_at=utcnow() - timedelta(days=800))
    recent = make_event()
    user = make_user()
    add_registration(old, name="Mme Ancienne", phone="0600", email="a@example.org")
    add_registration(old, user)
    add_registration(recent, name="Mme Récente", phone="0601")
    with app.app_context():
        assert purge_people_without_account(utcnow() - timedelta(days=365)) == 1
        db.session.commit()
        rows = db.session.scalars(select(Registration).order_by(Registration.id)).all()
        assert (rows[0].name, rows[0].phone, rows[0].email, rows[0].seats) == (None, None, None, 1)
        assert rows[1].user_id == user.id and rows[2].name == "Mme Récente"


def test_series_dates_keep_paris_time_and_month_ends():
    from datetime import date, datetime

    from blagis.events.services import series_dates
    from blagis.models import SeriesFrequency
    from blagis.timeutils import PARIS

    start = datetime(2026, 10, 15, 9, 0, tzinfo=PARIS)  # clocks go back on 25 October
    weekly = series_dates(start, SeriesFrequency.WEEKLY, date(2026, 11, 5))
    assert [d.astimezone(PARIS).strftime("%m-%d %H:%M") for d in weekly] == [
        "10-15 09:00",
        "10-22 09:00",
        "10-29 09:00",
        "11-05 09:00",
    ]
    monthly = series_dates(
        datetime(2027, 1, 31, 18, 30, tzinfo=PARIS), SeriesFrequency.MONTHLY, date(2027, 4, 30)
    )
    assert [d.astimezone(PARIS).strftime("%m-%d %H:%M") for d in monthly] == [
        "01-31 18:30",
        "02-28 18:30",
        "03-31 18:30",
        "04-30 18:30",
    ]
