"""Volunteers: profiles, missions, sign-up rules, attendance and hours, staff pages."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blagis.extensions import db
from blagis.models import (
    AuditEntry,
    Mission,
    MissionSignup,
    OutboxMessage,
    Role,
    User,
    VolunteerProfile,
    utcnow,
)
from tests import factories_events, factories_volunteers

make_event = factories_events.make_event
make_volunteer = factories_volunteers.make_volunteer
make_mission = factories_volunteers.make_mission
add_signup = factories_volunteers.add_signup


def _signups(app, mission_id, state="confirmed"):
    with app.app_context():
        rows = db.session.scalars(
            select(MissionSignup).where(
                MissionSignup.mission_id == mission_id, MissionSignup.state == state
            )
        ).all()
        db.session.remove()
        return rows


def _user(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        profile = db.session.scalar(
            select(VolunteerProfile).where(VolunteerProfile.user_id == user_id)
        )
        result = (user.role, profile and (profile.skills, profile.availability, profile.contact_ok))
        db.session.remove()
        return result


# --- profiles ---------------------------------------------------------------------------------


def test_opt_in_makes_a_resident_a_volunteer(app, client, auth, make_user):
    user = make_user()
    auth.login_as(user)
    assert client.get("/volunteer/profile").status_code == 200
    response = client.post(
        "/volunteer/profile",
        data={
            "skills": ["accueil", "cuisine"],
            "skills_other": "Je parle arabe",
            "availability": ["sat-morning", "wed-afternoon"],
            "contact_ok": "y",
        },
    )
    assert response.status_code == 302
    role, profile = _user(app, user.id)
    assert role == Role.VOLUNTEER
    assert profile == (["accueil", "cuisine"], ["wed-afternoon", "sat-morning"], True)


def test_opt_out_removes_the_profile_and_gives_missions_back(
    app, client, auth, make_volunteer, make_mission, add_signup
):
    user = make_volunteer(skills=["accueil"])
    mission = make_mission()
    add_signup(mission, user)
    auth.login_as(user)
    response = client.post("/volunteer/profile", data={"action": "remove"})
    assert response.status_code == 302
    role, profile = _user(app, user.id)
    assert role == Role.RESIDENT and profile is None
    assert _signups(app, mission.id) == []


def test_staff_keep_their_role_when_opting_in_and_out(app, client, auth, make_user):
    user = make_user(role="staff")
    auth.login_as(user)
    client.post("/volunteer/profile", data={"skills": ["accueil"]})
    assert _user(app, user.id)[0] == Role.STAFF
    assert _user(app, user.id)[1] is not None
    client.post("/volunteer/profile", data={"action": "remove"})
    assert _user(app, user.id) == (Role.STAFF, None)


@pytest.mark.parametrize(
    "data",
    [
        {"skills": ["juggling"]},
        {"availability": ["mon-night"]},
        {"skills_other": "x" * 201},
    ],
)
def test_bad_profile_input_is_refused_without_a_500(app, client, auth, make_user, data):
    user = make_user()
    auth.login_as(user)
    response = client.post("/volunteer/profile", data=data)
    assert response.status_code == 422
    assert _user(app, user.id) == (Role.RESIDENT, None)


def test_profile_needs_an_account(client):
    response = client.get("/volunteer/profile")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- sign-up rules ----------------------------------------------------------------------------


def test_signup_and_confirmation_mail(app, client, auth, make_volunteer, make_mission):
    user = make_volunteer()
    mission = make_mission(needed=2)
    auth.login_as(user)
    response = client.post(f"/missions/{mission.id}/signup")
    assert response.status_code == 302
    assert [s.user_id for s in _signups(app, mission.id)] == [user.id]
    # A second click changes nothing.
    client.post(f"/missions/{mission.id}/signup")
    assert len(_signups(app, mission.id)) == 1
    with app.app_context():
        subjects = db.session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.recipient == user.email)
        ).all()
    assert len(subjects) == 1 and "Accueil du café" in subjects[0]


def test_resident_without_profile_is_invited_to_create_it(
    app, client, auth, make_user, make_mission
):
    user = make_user()
    mission = make_mission()
    auth.login_as(user)
    response = client.post(f"/missions/{mission.id}/signup")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/volunteer/profile")
    assert _signups(app, mission.id) == []


def test_a_full_mission_refuses(app, client, auth, make_volunteer, make_mission, add_signup):
    mission = make_mission(needed=1)
    add_signup(mission, make_volunteer())
    late = make_volunteer()
    auth.login_as(late)
    response = client.post(f"/missions/{mission.id}/signup", follow_redirects=True)
    assert "complète" in response.get_data(as_text=True) or "complete" in response.get_data(
        as_text=True
    )
    assert len(_signups(app, mission.id)) == 1


def test_overlapping_missions_are_refused(app, client, auth, make_volunteer, make_mission):
    user = make_volunteer()
    start = utcnow() + timedelta(days=2)
    first = make_mission(title="Préparation", starts_at=start)
    overlapping = make_mission(
        title="Accueil", starts_at=start + timedelta(hours=1), ends_at=start + timedelta(hours=3)
    )
    after = make_mission(
        title="Rangement", starts_at=start + timedelta(hours=2), ends_at=start + timedelta(hours=3)
    )
    auth.login_as(user)
    client.post(f"/missions/{first.id}/signup")
    response = client.post(
        f"/missions/{overlapping.id}/signup",
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "Préparation" in text and "same time" in text
    assert _signups(app, overlapping.id) == []
    # Back to back is not an overlap.
    client.post(f"/missions/{after.id}/signup")
    assert len(_signups(app, after.id)) == 1


def test_required_skill(app, client, auth, make_volunteer, make_mission):
    mission = make_mission(required_skill="cuisine")
    auth.login_as(make_volunteer(skills=["accueil"]))
    client.post(f"/missions/{mission.id}/signup")
    assert _signups(app, mission.id) == []


def test_withdraw_until_the_mission_starts(
    app, client, auth, make_volunteer, make_mission, add_signup
):
    user = make_volunteer()
    future = make_mission()
    started = make_mission(starts_at=utcnow() - timedelta(minutes=5))
    add_signup(future, user)
    add_signup(started, user)
    auth.login_as(user)
    assert client.post(f"/missions/{future.id}/withdraw").status_code == 302
    assert _signups(app, future.id) == []
    assert len(_signups(app, future.id, "withdrawn")) == 1
    client.post(f"/missions/{started.id}/withdraw")
    assert len(_signups(app, started.id)) == 1
    # Signing up again reuses the row.
    client.post(f"/missions/{future.id}/signup")
    assert len(_signups(app, future.id)) == 1
    assert _signups(app, future.id, "withdrawn") == []


def test_no_signup_on_started_or_cancelled_missions(
    app, client, auth, make_volunteer, make_mission
):
    started = make_mission(starts_at=utcnow() - timedelta(minutes=1))
    cancelled = make_mission(cancelled=True)
    auth.login_as(make_volunteer())
    client.post(f"/missions/{started.id}/signup")
    client.post(f"/missions/{cancelled.id}/signup")
    assert _signups(app, started.id) == [] and _signups(app, cancelled.id) == []


# --- /volunteer -------------------------------------------------------------------------------


def test_listing_soonest_first_with_missing_counts_and_filters(
    app, client, make_volunteer, make_mission, add_signup
):
    now = utcnow()
    later = make_mission(title="Mission plus tard", starts_at=now + timedelta(days=5))
    sooner = make_mission(title="Mission bientôt", starts_at=now + timedelta(days=1), needed=2)
    full = make_mission(title="Mission complète", needed=1)
    add_signup(full, make_volunteer())
    add_signup(sooner, make_volunteer())
    make_mission(title="Mission passée", starts_at=now - timedelta(days=1))
    make_mission(title="Mission annulée", cancelled=True)
    make_mission(title="Mission à Bagneux", commune_code="bagneux", required_skill="cuisine")
    text = client.get("/volunteer?lang=fr").get_data(as_text=True)
    assert text.index("Mission bientôt") < text.index("Mission plus tard")
    assert "1 bénévole manquant" in text
    for absent in ("Mission complète", "Mission passée", "Mission annulée"):
        assert absent not in text
    assert later.title in text
    text = client.get("/volunteer?commune=bagneux").get_data(as_text=True)
    assert "Mission à Bagneux" in text and "Mission bientôt" not in text
    text = client.get("/volunteer?skill=cuisine").get_data(as_text=True)
    assert "Mission à Bagneux" in text and "Mission bientôt" not in text


def test_suggestions_first(app, client, auth, make_volunteer, make_mission):
    from blagis.models import slot_of

    start = utcnow() + timedelta(days=4)
    make_mission(title="Mission banale", starts_at=start - timedelta(days=2))
    make_mission(title="Mission pour moi", starts_at=start, required_skill="cuisine")
    user = make_volunteer(skills=["cuisine"], availability=[slot_of(start)])
    auth.login_as(user)
    text = client.get("/volunteer?lang=en").get_data(as_text=True)
    assert "Suggested for you" in text
    assert text.index("Mission pour moi") < text.index("Mission banale")


@pytest.mark.parametrize(
    "query", ["?skill=%00", "?commune=nowhere", "?page=abc", "?page=-4", "?page=99999999999"]
)
def test_listing_ignores_garbage(client, query):
    assert client.get("/volunteer" + query).status_code == 200


def test_unknown_missions_are_404(client, auth, make_volunteer, make_user):
    assert client.get("/missions/999999").status_code == 404
    assert client.get("/missions/99999999999").status_code == 404
    auth.login_as(make_volunteer())
    assert client.post("/missions/999999/signup").status_code == 404
    assert client.post("/missions/999999/withdraw").status_code == 404
    auth.logout()
    auth.login_as(make_user(role="staff"))
    assert client.get("/staff/missions/999999").status_code == 404
    assert client.post("/staff/missions/999999/attendance", data={}).status_code == 404
    assert client.post("/staff/events/999999/missions", data={}).status_code == 404


# --- staff ------------------------------------------------------------------------------------


def test_staff_add_a_mission_to_an_event(app, client, auth, make_user, make_event):
    event = make_event()
    auth.login_as(make_user(role="staff", scope="sceaux"))
    response = client.post(
        f"/staff/events/{event.id}/missions",
        data={
            "title": "Accueil",
            "starts_at": "2030-03-14T09:00",
            "ends_at": "2030-03-14T11:00",
            "needed": "2",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        mission = db.session.scalar(select(Mission))
        assert (mission.event_id, mission.needed, mission.commune_code) == (event.id, 2, "sceaux")
        assert (
            db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "mission"))
            == "mission.create"
        )
    # The event page shows it.
    assert "Accueil" in client.get(f"/events/{event.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"title": "A", "starts_at": "garbage", "ends_at": "2030-03-14T11:00", "needed": "2"},
        {
            "title": "A",
            "starts_at": "2030-03-14T11:00",
            "ends_at": "2030-03-14T09:00",
            "needed": "2",
        },
        {
            "title": "A",
            "starts_at": "2030-03-14T09:00",
            "ends_at": "2030-03-14T11:00",
            "needed": "0",
        },
        {
            "title": "A",
            "starts_at": "2030-03-14T09:00",
            "ends_at": "2030-03-14T11:00",
            "needed": "x",
        },
        {
            "title": "A",
            "starts_at": "2030-03-14T09:00",
            "ends_at": "2030-03-14T11:00",
            "needed": "2",
            "required_skill": "juggling",
        },
    ],
)
def test_bad_mission_input_is_422(app, client, auth, make_user, make_event, data):
    event = make_event()
    auth.login_as(make_user(role="staff"))
    assert client.post(f"/staff/events/{event.id}/missions", data=data).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Mission.id))) == 0


def test_staff_of_another_commune_get_403(app, client, auth, make_user, make_event, make_mission):
    event = make_event(commune_code="sceaux")
    mission = make_mission()
    auth.login_as(make_user(role="staff", scope="bagneux"))
    assert client.get(f"/staff/events/{event.id}/missions").status_code == 403
    assert client.get(f"/staff/missions/{mission.id}").status_code == 403
    assert client.post(f"/staff/missions/{mission.id}/cancel").status_code == 403
    response = client.post(
        "/staff/missions/new",
        data={
            "title": "A",
            "starts_at": "2030-03-14T09:00",
            "ends_at": "2030-03-14T11:00",
            "needed": "2",
            "commune": "sceaux",
        },
    )
    assert response.status_code == 422


def test_standalone_mission_edit_and_cancel(
    app, client, auth, make_user, make_volunteer, add_signup
):
    auth.login_as(make_user(role="staff"))
    response = client.post(
        "/staff/missions/new",
        data={
            "title": "Épicerie solidaire",
            "starts_at": "2030-03-14T14:00",
            "ends_at": "2030-03-14T17:00",
            "needed": "2",
            "commune": "bagneux",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        mission = db.session.scalar(select(Mission))
        db.session.expunge(mission)
    volunteer = make_volunteer()
    add_signup(mission, volunteer)
    add_signup(mission, make_volunteer())
    edit = {
        "title": "Épicerie",
        "starts_at": "2030-03-14T14:00",
        "ends_at": "2030-03-14T17:00",
        "needed": "1",
        "commune": "bagneux",
    }
    # Fewer places than people already signed up: refused.
    assert client.post(f"/staff/missions/{mission.id}/edit", data=edit).status_code == 422
    edit["needed"] = "3"
    assert client.post(f"/staff/missions/{mission.id}/edit", data=edit).status_code == 302
    assert client.post(f"/staff/missions/{mission.id}/cancel").status_code == 302
    with app.app_context():
        row = db.session.get(Mission, mission.id)
        assert (row.title, row.needed, row.cancelled) == ("Épicerie", 3, True)
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "mission")
        ).all()
        assert sorted(actions) == ["mission.cancel", "mission.create", "mission.update"]
        mails = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.recipient == volunteer.email)
        )
        assert mails == 1


# --- attendance and hours ---------------------------------------------------------------------


def test_hours_come_from_attendance_only(
    app, client, auth, make_user, make_volunteer, make_mission, add_signup
):
    volunteer = make_volunteer()
    other = make_volunteer()
    past = utcnow() - timedelta(days=3)
    served = make_mission(starts_at=past, ends_at=past + timedelta(hours=3))
    absent = make_mission(starts_at=past - timedelta(days=1))
    untaken = make_mission(starts_at=past - timedelta(days=2))
    future = make_mission()
    for m in (served, absent, untaken, future):
        add_signup(m, volunteer)
    add_signup(served, other)
    staff = make_user(role="staff", scope="sceaux")
    auth.login_as(staff)
    post = client.post
    assert (
        post(
            f"/staff/missions/{served.id}/attendance",
            data={"user_id": volunteer.id, "present": "1"},
        ).status_code
        == 302
    )
    post(f"/staff/missions/{absent.id}/attendance", data={"user_id": volunteer.id, "present": "0"})
    # Not before the mission starts; not for someone who did not sign up.
    post(f"/staff/missions/{future.id}/attendance", data={"user_id": volunteer.id, "present": "1"})
    loner = make_volunteer()
    post(f"/staff/missions/{served.id}/attendance", data={"user_id": loner.id, "present": "1"})
    # Garbage: no 500.
    for data in ({}, {"user_id": "x", "present": "1"}, {"user_id": volunteer.id, "present": "2"}):
        assert post(f"/staff/missions/{served.id}/attendance", data=data).status_code == 303

    from blagis.volunteers import services

    with app.app_context():
        assert sum(services.hours_by_year(volunteer.id).values()) == pytest.approx(3.0)
        assert services.hours_by_year(other.id) == {}
        assert services.hours_by_year(loner.id) == {}
        assert (
            db.session.scalar(
                select(func.count(AuditEntry.id)).where(AuditEntry.action == "mission.attendance")
            )
            == 2
        )
    auth.logout()
    auth.login_as(volunteer)
    text = client.get("/account?lang=en").get_data(as_text=True)
    assert "Hours served: 3\xa0h" in text  # issue 20: hours as people write them
    text = client.get("/volunteer/certificate?lang=en").get_data(as_text=True)
    assert "3\xa0h" in text  # per year; the missions are listed on the attestation itself


def test_coverage_page(app, client, auth, make_user, make_volunteer, make_mission, add_signup):
    covered = make_mission(title="Mission couverte", needed=1)
    add_signup(covered, make_volunteer())
    make_mission(title="Mission à pourvoir", needed=3)
    make_mission(title="Mission lointaine", starts_at=utcnow() + timedelta(weeks=10))
    make_mission(title="Mission à Bagneux", commune_code="bagneux")
    auth.login_as(make_user(role="staff", scope="sceaux"))
    response = client.get("/staff/volunteers/coverage?lang=en")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Mission couverte" in text and "Mission à pourvoir" in text
    assert "Mission lointaine" not in text and "Mission à Bagneux" not in text
    assert "1 mission is not covered." in text
    assert "Not covered" in text and "3 volunteers missing" in text and "0 / 3" in text
    assert client.get("/staff/volunteers/coverage?weeks=zzz").status_code == 200
    assert "Mission lointaine" in client.get("/staff/volunteers/coverage?weeks=12").get_data(
        as_text=True
    )


def test_coverage_is_for_staff(client, auth, make_volunteer):
    auth.login_as(make_volunteer())
    assert client.get("/staff/volunteers/coverage").status_code == 403


def test_contact_reaches_only_those_who_consented(
    app, client, auth, make_user, make_volunteer, make_mission, add_signup
):
    mission = make_mission()
    yes = make_volunteer("yes@example.org", contact_ok=True)
    no = make_volunteer("no@example.org", contact_ok=False)
    elsewhere = make_volunteer("else@example.org", contact_ok=True)
    add_signup(mission, yes)
    add_signup(mission, no)
    auth.login_as(make_user(role="staff"))
    response = client.post(
        f"/staff/missions/{mission.id}/contact",
        data={"message": "Rendez-vous à 8 h 45.", "to": "signed"},
    )
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert [(m.recipient, m.category.value) for m in rows] == [
            ("yes@example.org", "mission_call")
        ]
        assert "8 h 45" in rows[0].body_text
    client.post(
        f"/staff/missions/{mission.id}/contact", data={"message": "Qui est libre ?", "to": "all"}
    )
    with app.app_context():
        recipients = sorted(db.session.scalars(select(OutboxMessage.recipient)).all())
    assert recipients == [elsewhere.email, "yes@example.org", "yes@example.org"]
    assert no.email not in recipients
    assert client.post(f"/staff/missions/{mission.id}/contact", data={}).status_code == 422


def test_commune_staff_contact_only_their_communes_volunteers(
    app, client, auth, make_user, make_volunteer, make_mission, add_signup
):
    mission = make_mission(commune_code="sceaux")
    other_mission = make_mission(commune_code="bagneux", title="Mission à Bagneux")
    here = make_volunteer("ici@example.org", commune="sceaux")
    signed_elsewhere = make_volunteer("inscrite@example.org", commune="bagneux")
    make_volunteer("ailleurs@example.org", commune="bagneux")
    make_volunteer("sans-commune@example.org", commune=None)
    add_signup(mission, signed_elsewhere)
    auth.login_as(make_user(role="staff", commune="sceaux", scope="sceaux"))

    def recipients():
        with app.app_context():
            return sorted(db.session.scalars(select(OutboxMessage.recipient)).all())

    # "Everyone" is every consenting volunteer of the staff member's commune.
    response = client.post(
        f"/staff/missions/{mission.id}/contact", data={"message": "Qui est libre ?", "to": "all"}
    )
    assert response.status_code == 302
    assert recipients() == [here.email]
    # The mission's own volunteers are reached wherever they live.
    client.post(
        f"/staff/missions/{mission.id}/contact", data={"message": "Merci !", "to": "signed"}
    )
    assert recipients() == [here.email, signed_elsewhere.email]
    # Another commune's mission: no page, no message at all.
    for to in ("all", "signed"):
        response = client.post(
            f"/staff/missions/{other_mission.id}/contact", data={"message": "Bonjour", "to": to}
        )
        assert response.status_code == 403
    assert recipients() == [here.email, signed_elsewhere.email]
    with app.app_context():
        from blagis.volunteers.services import contact

        actor = db.session.scalar(select(User).where(User.scope_commune_code == "sceaux"))
        other = db.session.get(Mission, other_mission.id)
        with pytest.raises(PermissionError):
            contact(actor, other, "Bonjour", everyone=True)


def test_mission_reminders(app, make_volunteer, make_mission, add_signup):
    from blagis.volunteers.services import send_mission_reminders

    soon = make_mission(starts_at=utcnow() + timedelta(hours=20))
    later = make_mission(starts_at=utcnow() + timedelta(days=5))
    user = make_volunteer()
    add_signup(soon, user)
    add_signup(later, user)
    with app.app_context():
        assert send_mission_reminders() == 1
        assert send_mission_reminders() == 0
        db.session.commit()


def test_cafe_page_presents_dates_and_missions(app, client, make_event, make_mission):
    cafe = make_event(kind="cafe_benevoles", title="Café des bénévoles", capacity=None)
    make_mission(event_id=cafe.id, title="Préparation de la salle", starts_at=cafe.starts_at)
    make_event(title="Atelier cuisine", kind="atelier")
    text = client.get("/volunteer/cafe").get_data(as_text=True)
    assert "Préparation de la salle" in text and "Atelier cuisine" not in text


def test_account_deletion_keeps_hours_anonymous(app, make_volunteer, make_mission, add_signup):
    from blagis import privacy
    from blagis.volunteers import services

    user = make_volunteer()
    past = make_mission(starts_at=utcnow() - timedelta(days=2))
    add_signup(past, user, attended=True)
    with app.app_context():
        row = db.session.get(User, user.id)
        assert privacy.export_user_data(row)["volunteering"]["missions"]
        privacy.delete_account(row, row)
        db.session.commit()
        assert services.hours_between(utcnow() - timedelta(days=30), utcnow()) == pytest.approx(2)
        assert db.session.scalar(select(func.count(VolunteerProfile.id))) == 0


def test_listing_runs_a_bounded_number_of_queries(
    app, client, auth, make_volunteer, make_mission, add_signup, count_queries
):
    user = make_volunteer(skills=["accueil"], availability=["sat-morning"])
    for i in range(3):
        add_signup(make_mission(title=f"M{i}", needed=2), make_volunteer())
    auth.login_as(user)
    with count_queries() as few:
        assert client.get("/volunteer").status_code == 200
    for i in range(12):
        add_signup(make_mission(title=f"N{i}", needed=2), make_volunteer())
    with count_queries() as many:
        assert client.get("/volunteer").status_code == 200
    assert many.count == few.count


def test_send_reminders_command_includes_missions(
    app, runner, make_volunteer, make_mission, add_signup
):
    add_signup(make_mission(starts_at=utcnow() + timedelta(hours=30)), make_volunteer())
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "reminders queued: 1" in result.output
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.category)).value == "reminder"


def test_event_page_lists_its_missions(client, auth, make_user, make_event, make_mission):
    event = make_event()
    make_mission(event_id=event.id, title="Préparation de la salle", needed=2)
    text = client.get(f"/events/{event.id}?lang=fr").get_data(as_text=True)
    assert "Missions bénévoles" in text and "2 bénévoles manquants" in text
    assert f"/staff/events/{event.id}/missions" not in text
    auth.login_as(make_user(role="staff", scope="sceaux"))
    assert f"/staff/events/{event.id}/missions" in client.get(f"/events/{event.id}").get_data(
        as_text=True
    )
