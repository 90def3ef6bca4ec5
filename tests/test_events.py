"""Events and registrations: capacity, waitlist, staff, calendars, listing."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blagis.extensions import db
from blagis.models import (
    OutboxMessage,
    Registration,
    RegistrationState,
    utcnow,
)
from tests import factories_events

make_event = factories_events.make_event
add_registration = factories_events.add_registration


def states(app, event):
    with app.app_context():
        rows = db.session.scalars(
            select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)
        ).all()
        return [(r.user_id or r.name, r.seats, r.state.value) for r in rows]


def confirmed_seats(app, event):
    with app.app_context():
        return db.session.scalar(
            select(func.coalesce(func.sum(Registration.seats), 0)).where(
                Registration.event_id == event.id,
                Registration.state == RegistrationState.CONFIRMED,
            )
        )


def mails(app, template=None):
    with app.app_context():
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if template:
            query = query.where(OutboxMessage.template == template)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


# --- registering ----------------------------------------------------------------------------


def test_register_confirmed_with_ics_mail(app, client, auth, make_user, make_event):
    user = make_user(locale="en")
    event = make_event(capacity=2)
    auth.login_as(user)
    response = client.post(f"/events/{event.id}/register", data={"seats": "1"})
    assert response.status_code == 302
    assert states(app, event) == [(user.id, 1, "confirmed")]
    [mail] = mails(app, "registration_confirmed")
    assert mail.recipient == user.email and mail.locale == "en"
    assert mail.subject.startswith("You are registered")
    assert mail.attachments[0]["content_type"] == "text/calendar"
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Cancel my registration" in page
    account = client.get("/account").get_data(as_text=True)
    assert event.title in account and "Cancel my registration" in account


def test_second_request_changes_nothing_and_says_so(app, client, auth, make_user, make_event):
    user = make_user()
    event = make_event(capacity=5, max_seats=3)
    auth.login_as(user)
    client.post(f"/events/{event.id}/register", data={"seats": "2"})
    response = client.post(
        f"/events/{event.id}/register", data={"seats": "3"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "déjà inscrit" in response.get_data(as_text=True)
    assert states(app, event) == [(user.id, 2, "confirmed")]
    assert len(mails(app, "registration_confirmed")) == 1


def test_full_event_waitlists(app, client, auth, make_user, make_event):
    event = make_event(capacity=1)
    first, second = make_user(), make_user()
    auth.login_as(first)
    client.post(f"/events/{event.id}/register", data={"seats": "1"})
    auth.logout()
    auth.login_as(second)
    client.post(f"/events/{event.id}/register", data={"seats": "1"})
    assert states(app, event) == [(first.id, 1, "confirmed"), (second.id, 1, "waitlisted")]
    assert [m.recipient for m in mails(app, "registration_waitlisted")] == [second.email]
    page = client.get("/events").get_data(as_text=True)
    assert "Complet" in page and "1 personne sur la liste d’attente" in page


def test_unlimited_capacity_always_confirms(app, client, auth, make_user, make_event):
    event = make_event(capacity=None, max_seats=4)
    user = make_user()
    auth.login_as(user)
    client.post(f"/events/{event.id}/register", data={"seats": "4"})
    assert states(app, event) == [(user.id, 4, "confirmed")]


@pytest.mark.parametrize("seats", ["0", "99", "-1", "abc", "", "2"])
def test_bad_seats_refused_without_500(app, client, auth, make_user, make_event, seats):
    event = make_event(capacity=10, max_seats=1)
    auth.login_as(make_user())
    response = client.post(f"/events/{event.id}/register", data={"seats": seats})
    assert response.status_code == 422
    assert states(app, event) == []


def test_seats_up_to_max_seats(app, client, auth, make_user, make_event):
    event = make_event(capacity=10, max_seats=4)
    auth.login_as(make_user())
    assert client.post(f"/events/{event.id}/register", data={"seats": "5"}).status_code == 422
    assert client.post(f"/events/{event.id}/register", data={"seats": "4"}).status_code == 302
    assert confirmed_seats(app, event) == 4


def test_unknown_event_404(client, auth, make_user):
    auth.login_as(make_user())
    for path in ("/events/999999", "/events/999999.ics"):
        assert client.get(path).status_code == 404
    assert client.post("/events/999999/register", data={"seats": "1"}).status_code == 404
    assert client.post("/events/999999/cancel").status_code == 404
    assert client.get("/events/abc").status_code == 404


@pytest.mark.parametrize(
    "overrides",
    [
        {"cancelled": True},
        {"registration_opens_at": "future"},
        {"registration_closes_at": "past"},
        {"starts_at": "past"},
    ],
)
def test_closed_registration_refused(app, client, auth, make_user, make_event, overrides):
    now = utcnow()
    values = {}
    for key, value in overrides.items():
        if value == "future":
            values[key] = now + timedelta(days=1)
        elif value == "past":
            values[key] = now - timedelta(hours=1)
        else:
            values[key] = value
    event = make_event(**values)
    auth.login_as(make_user())
    response = client.post(f"/events/{event.id}/register", data={"seats": "1"})
    assert response.status_code == 422
    assert states(app, event) == []


def test_anonymous_must_log_in(client, make_event):
    event = make_event()
    response = client.post(f"/events/{event.id}/register", data={"seats": "1"})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- cancelling and the waitlist -------------------------------------------------------------


def test_cancel_promotes_waitlist_in_order(
    app, client, auth, make_user, make_event, add_registration
):
    event = make_event(capacity=3, max_seats=3)
    holder = make_user()
    a, b, c = make_user(locale="en"), make_user(), make_user()
    add_registration(event, holder, seats=3)
    add_registration(event, a, seats=2, state="waitlisted")
    add_registration(event, b, seats=1, state="waitlisted")
    add_registration(event, c, seats=1, state="waitlisted")
    auth.login_as(holder)
    response = client.post(f"/events/{event.id}/cancel")
    assert response.status_code == 302
    assert states(app, event) == [
        (holder.id, 3, "cancelled"),
        (a.id, 2, "confirmed"),
        (b.id, 1, "confirmed"),
        (c.id, 1, "waitlisted"),
    ]
    promoted = mails(app, "registration_promoted")
    assert [m.recipient for m in promoted] == [a.email, b.email]
    assert promoted[0].locale == "en" and promoted[1].locale == "fr"
    assert confirmed_seats(app, event) == 3


def test_group_that_does_not_fit_is_not_overtaken(
    app, client, auth, make_user, make_event, add_registration
):
    event = make_event(capacity=3, max_seats=3)
    holder, family, single = make_user(), make_user(), make_user()
    add_registration(event, holder, seats=1)
    add_registration(event, make_user(), seats=1)
    add_registration(event, make_user(), seats=1)
    add_registration(event, family, seats=3, state="waitlisted")
    add_registration(event, single, seats=1, state="waitlisted")
    auth.login_as(holder)
    client.post(f"/events/{event.id}/cancel")
    after = dict((who, state) for who, _, state in states(app, event))
    # Strict order: the single person behind the family waits too (docs/events.md).
    assert after[family.id] == "waitlisted" and after[single.id] == "waitlisted"
    assert confirmed_seats(app, event) == 2


def test_new_registrant_does_not_overtake_the_waitlist(
    app, client, auth, make_user, make_event, add_registration
):
    event = make_event(capacity=3, max_seats=3)
    add_registration(event, make_user(), seats=2)
    add_registration(event, make_user(), seats=3, state="waitlisted")
    late = make_user()
    auth.login_as(late)
    client.post(f"/events/{event.id}/register", data={"seats": "1"})
    assert states(app, event)[-1] == (late.id, 1, "waitlisted")


def test_waitlisted_can_leave(app, client, auth, make_user, make_event, add_registration):
    event = make_event(capacity=1)
    add_registration(event, make_user())
    user = make_user()
    add_registration(event, user, state="waitlisted")
    auth.login_as(user)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Quitter la liste d’attente" in page and "numéro 1 de la file" in page
    client.post(f"/events/{event.id}/cancel", data={"next": "account"})
    assert states(app, event)[-1] == (user.id, 1, "cancelled")
    assert mails(app, "registration_promoted") == []


def test_cannot_cancel_after_start(app, client, auth, make_user, make_event, add_registration):
    event = make_event(starts_at=utcnow() - timedelta(minutes=5))
    user = make_user()
    add_registration(event, user)
    auth.login_as(user)
    response = client.post(f"/events/{event.id}/cancel", follow_redirects=True)
    assert response.status_code == 200
    assert states(app, event) == [(user.id, 1, "confirmed")]


def test_cancel_without_registration_is_harmless(client, auth, make_user, make_event):
    event = make_event()
    auth.login_as(make_user())
    response = client.post(f"/events/{event.id}/cancel", follow_redirects=True)
    assert response.status_code == 200
    assert "pas inscrit" in response.get_data(as_text=True)
