"""Factories of volunteer profiles, missions and sign-ups for the volunteers tests."""

from datetime import timedelta

import pytest

from blagis.extensions import db
from blagis.models import (
    Mission,
    MissionSignup,
    Role,
    SignupState,
    User,
    VolunteerProfile,
    utcnow,
)


@pytest.fixture
def make_volunteer(app, make_user):
    """``make_volunteer(skills=[...], availability=[...], contact_ok=True)`` -> User with a
    profile and the volunteer role."""

    def factory(email=None, *, skills=(), availability=(), contact_ok=True, **kwargs) -> User:
        kwargs.setdefault("role", Role.VOLUNTEER)
        user = make_user(email, **kwargs)
        with app.app_context():
            db.session.add(
                VolunteerProfile(
                    user_id=user.id,
                    skills=list(skills),
                    skills_other="",
                    availability=list(availability),
                    contact_ok=contact_ok,
                )
            )
            db.session.commit()
        return user

    return factory


@pytest.fixture
def make_mission(app):
    """``make_mission(needed=3, **overrides)`` -> committed, detached Mission (in 3 days)."""

    def factory(**overrides) -> Mission:
        start = overrides.pop("starts_at", utcnow() + timedelta(days=3))
        values = {
            "title": "Accueil du café",
            "description": "Accueillir les participants.",
            "starts_at": start,
            "ends_at": start + timedelta(hours=2),
            "needed": 3,
            "commune_code": "sceaux",
            "place": "Centre social des Blagis",
        }
        values.update(overrides)
        with app.app_context():
            mission = Mission(**values)
            db.session.add(mission)
            db.session.commit()
            db.session.refresh(mission)
            db.session.expunge(mission)
        return mission

    return factory


@pytest.fixture
def add_signup(app):
    def factory(mission, user, *, state="confirmed", attended=None) -> MissionSignup:
        with app.app_context():
            row = MissionSignup(
                mission_id=mission.id,
                user_id=user.id,
                state=SignupState(state),
                attended=attended,
                created_at=utcnow(),
            )
            db.session.add(row)
            db.session.commit()
            db.session.refresh(row)
            db.session.expunge(row)
        return row

    return factory
