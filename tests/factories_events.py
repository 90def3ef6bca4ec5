"""Factories of events and registrations for the events tests."""

from datetime import timedelta

import pytest

from blagis.extensions import db
from blagis.models import Event, EventKind, Registration, RegistrationState, utcnow


@pytest.fixture
def make_event(app):
    """``make_event(capacity=10, **overrides)`` -> committed, detached Event (in 3 days)."""

    def factory(**overrides) -> Event:
        start = overrides.pop("starts_at", utcnow() + timedelta(days=3))
        values = {
            "title": "Café numérique",
            "description": "Venez avec votre téléphone.",
            "kind": EventKind.CAFE_NUMERIQUE,
            "starts_at": start,
            "ends_at": start + timedelta(hours=2),
            "place": "Centre social des Blagis",
            "commune_code": "sceaux",
            "capacity": 10,
            "max_seats": 1,
        }
        values.update(overrides)
        with app.app_context():
            event = Event(**values)
            db.session.add(event)
            db.session.commit()
            db.session.refresh(event)
            db.session.expunge(event)
        return event

    return factory


@pytest.fixture
def add_registration(app):
    """``add_registration(event, user=None, seats=1, state="confirmed", name=...)``."""

    def factory(event, user=None, *, seats=1, state="confirmed", name=None, email=None, phone=None):
        with app.app_context():
            registration = Registration(
                event_id=event.id,
                user_id=user.id if user is not None else None,
                name=name if user is None else None,
                email=email,
                phone=phone,
                seats=seats,
                state=RegistrationState(state),
                created_at=utcnow(),
            )
            db.session.add(registration)
            db.session.commit()
            db.session.refresh(registration)
            db.session.expunge(registration)
        return registration

    return factory
