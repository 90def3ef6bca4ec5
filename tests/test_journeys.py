"""Issue 20, the journeys of residents, volunteers and agents: past events that offer nothing,
the desks on /contact, account self-service (password, past registrations, confirmation before
cancelling, hours only for volunteers), the home page's initiatives, volunteer attestations,
and a 403 page that says why."""

import html
import re
from datetime import timedelta

from sqlalchemy import func, select

from blagis.extensions import db
from blagis.models import (
    Attestation,
    AuditEntry,
    Desk,
    Initiative,
    ModerationState,
    PublicStatus,
    Registration,
    RegistrationState,
    User,
    utcnow,
)
from tests import factories_events, factories_volunteers
from tests.conftest import PASSWORD

make_event = factories_events.make_event
add_registration = factories_events.add_registration
make_volunteer = factories_volunteers.make_volunteer
make_mission = factories_volunteers.make_mission
add_signup = factories_volunteers.add_signup


def text(response) -> str:
    """The page as a reader sees its characters (entities such as &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def _audit_actions(app) -> list[str]:
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        db.session.remove()
    return actions


# --- 1. past and cancelled activities offer nothing --------------------------------------------


def test_past_listing_says_it_took_place_not_places_left(client, make_event, add_registration):
    event = make_event(starts_at=utcnow() - timedelta(days=3), capacity=10, title="Repair café")
    add_registration(event, name="Mme Durand", phone="01 00 00 00 00")
    page = text(client.get("/events?past=1"))
    assert "Repair café" in page
    assert "A eu lieu" in page
    assert "places restantes" not in page and "9 places" not in page


def test_past_event_page_says_so_and_offers_nothing(client, auth, make_user, make_event):
    event = make_event(starts_at=utcnow() - timedelta(days=3))
    auth.login_as(make_user())
    page = text(client.get(f"/events/{event.id}"))
    assert "Cette activité a eu lieu le" in page
    assert f'action="/events/{event.id}/register"' not in page
    assert f"/events/{event.id}.ics" not in page  # no « Ajouter à mon agenda »
    assert "places restantes" not in page and "Je m’inscris" not in page


def test_cancelled_event_page_says_so_and_offers_nothing(client, auth, make_user, make_event):
    event = make_event(cancelled=True)
    auth.login_as(make_user())
    page = text(client.get(f"/events/{event.id}"))
    assert "Annulée" in page and "Cette activité est annulée." in page
    assert f'action="/events/{event.id}/register"' not in page
    assert f"/events/{event.id}.ics" not in page
    assert "places restantes" not in page


def test_registering_for_a_past_event_is_refused_plainly(app, client, auth, make_user, make_event):
    event = make_event(starts_at=utcnow() - timedelta(days=3))
    auth.login_as(make_user())
    response = client.post(f"/events/{event.id}/register", data={"seats": "1"})
    assert response.status_code == 422
    assert "Cette activité a déjà commencé : les inscriptions sont fermées." in text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count(Registration.id))) == 0
        db.session.remove()


# --- 2. a human to turn to: /contact ------------------------------------------------------------


def _desk(app, **values) -> int:
    from blagis.contact.services import save_desk

    data = {
        "commune_code": "sceaux",
        "name": "Accueil du centre social (exemple)",
        "address": "4 rue de l'Exemple\n92330 Sceaux",
        "hours": "Lundi au vendredi : 9 h – 12 h",
        "phone": "01 00 00 00 04",
        "email": "accueil@blagis.example",
        "services": "Vous inscrire à une activité\nVous aider avec votre compte",
        **values,
    }
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        if admin is None:
            from blagis.auth.services import create_user

            admin = create_user("root@example.org", "Root", PASSWORD, role="admin")
        desk = save_desk(admin, None, data)
        db.session.commit()
        desk_id = desk.id
        db.session.remove()
    return desk_id


def test_contact_page_gives_places_hours_phone_and_services(app, client):
    _desk(app)
    _desk(app, commune_code="bagneux", name="Maison de quartier (exemple)", phone="")
    response = client.get("/contact")
    assert response.status_code == 200
    page = text(response)
    for commune in ("Bagneux", "Bourg-la-Reine", "Fontenay-aux-Roses", "Sceaux"):
        assert f">{commune}</h2>" in page
    assert re.search(r"<address[^>]*>\s*4 rue de l'Exemple<br>92330 Sceaux", page)
    assert '<a href="tel:0100000004">01 00 00 00 04</a>' in page
    assert "<li>Lundi au vendredi : 9 h – 12 h</li>" in page
    assert "<li>Vous inscrire à une activité</li>" in page
    assert 'id="sceaux"' in page  # the event pages link to their commune's desks


def test_every_event_page_and_the_footer_link_to_the_desks(client, make_event):
    event = make_event()
    page = text(client.get(f"/events/{event.id}"))
    assert 'href="/contact#sceaux"' in page
    assert 'href="/contact"' in text(client.get("/"))


def test_staff_keep_the_desks_of_their_commune_only(app, client, auth, make_user):
    bagneux_desk = _desk(app, commune_code="bagneux", name="Maison de quartier (exemple)")
    auth.login_as(make_user(role="staff", scope="sceaux"))
    form = {
        "commune": "sceaux",
        "name": "Permanence de la médiathèque",
        "address": "5 allée de l'Exemple\r\n92330 Sceaux",
        "hours": "Mercredi : 14 h – 17 h",
        "phone": "01 00 00 00 05",
        "services": "Aide au numérique",
    }
    assert client.post("/staff/desks", data=form).status_code == 302
    assert "Permanence de la médiathèque" in text(client.get("/contact"))
    # Another commune: not offered, and refused if sent anyway.
    assert client.post("/staff/desks", data=dict(form, commune="bagneux")).status_code == 422
    refused = client.get(f"/staff/desks/{bagneux_desk}/edit")
    assert refused.status_code == 403
    assert "Cette page est réservée à l’équipe de Bagneux" in text(refused)
    assert client.post(f"/staff/desks/{bagneux_desk}/delete").status_code == 403
    with app.app_context():
        mine = db.session.scalar(select(Desk).where(Desk.name == "Permanence de la médiathèque"))
        assert mine.address == "5 allée de l'Exemple\n92330 Sceaux"
        mine_id = mine.id
        db.session.remove()
    edited = client.post(f"/staff/desks/{mine_id}/edit", data=dict(form, phone="01 00 00 00 06"))
    assert edited.status_code == 302
    assert "tel:0100000006" in text(client.get("/contact"))
    assert client.post(f"/staff/desks/{mine_id}/delete").status_code == 302
    assert "Permanence de la médiathèque" not in text(client.get("/contact"))
    assert _audit_actions(app)[-3:] == ["desk.created", "desk.updated", "desk.deleted"]


def test_a_desk_needs_an_address_and_a_real_phone_number(client, auth, make_user):
    auth.login_as(make_user(role="staff", scope="sceaux"))
    response = client.post(
        "/staff/desks", data={"commune": "sceaux", "name": "Accueil", "phone": "call us"}
    )
    assert response.status_code == 422
    page = text(response)
    assert "Saisissez l’adresse." in page


def test_demo_desks_are_plainly_examples(app):
    from blagis.demo import create_demo

    with app.app_context():
        create_demo()
        db.session.commit()
        desks = db.session.scalars(select(Desk)).all()
        assert {d.commune_code for d in desks} == {
            "bagneux",
            "bourg-la-reine",
            "fontenay-aux-roses",
            "sceaux",
        }
        for desk in desks:
            assert "exemple" in (desk.name + desk.address).lower()
            assert desk.phone.startswith("01 00 00 00 0")
        db.session.remove()


# --- 3. account self-service --------------------------------------------------------------------


def test_change_password(app, client, auth, make_user):
    user = make_user()
    other = app.test_client()  # the same account logged in on another device
    assert other.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code
    auth.login_as(user)
    assert client.get("/account/password").status_code == 200
    new = "un nouveau mot de passe solide"
    wrong = client.post(
        "/account/password",
        data={"current_password": "not it", "password": new, "password_confirm": new},
    )
    assert wrong.status_code == 422
    assert "Ce n’est pas votre mot de passe actuel." in text(wrong)
    weak = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": "short", "password_confirm": "short"},
    )
    assert weak.status_code == 422  # the same rules as at registration
    done = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": new, "password_confirm": new},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200  # this session stays logged in
    assert "/auth/login" in other.get("/account").headers["Location"]  # the other one is out
    assert auth.logout() and auth.login(user.email).status_code == 422
    assert auth.login(user.email, new).status_code == 302
    assert "account.password_changed" in _audit_actions(app)


def test_account_lists_past_registrations(client, auth, make_user, make_event, add_registration):
    user = make_user()
    past = make_event(title="Sortie au musée", starts_at=utcnow() - timedelta(days=20))
    add_registration(past, user)
    upcoming = make_event(title="Atelier cuisine")
    add_registration(upcoming, user)
    auth.login_as(user)
    page = text(client.get("/account"))
    assert "Activités auxquelles j’ai participé" in page
    assert "Sortie au musée" in page.split("Activités auxquelles j’ai participé")[1]
    assert "Atelier cuisine" in page.split("Activités auxquelles j’ai participé")[0]


def test_cancelling_asks_for_confirmation_without_javascript(
    app, client, auth, make_user, make_event, add_registration
):
    user = make_user()
    event = make_event()
    registration = add_registration(event, user)
    auth.login_as(user)
    account = text(client.get("/account"))
    assert f'href="/events/{event.id}/cancel?next=account"' in account
    assert f'href="/events/{event.id}/cancel"' in text(client.get(f"/events/{event.id}"))
    confirm = client.get(f"/events/{event.id}/cancel?next=account")
    assert confirm.status_code == 200
    page = text(confirm)
    assert f'<form method="post" action="/events/{event.id}/cancel">' in page
    assert '<input type="hidden" name="next" value="account">' in page
    with app.app_context():  # asking is not cancelling
        assert db.session.get(Registration, registration.id).state == RegistrationState.CONFIRMED
        db.session.remove()
    done = client.post(f"/events/{event.id}/cancel", data={"next": "account"})
    assert done.status_code == 302 and done.headers["Location"] == "/account"
    with app.app_context():
        assert db.session.get(Registration, registration.id).state == RegistrationState.CANCELLED
        db.session.remove()
    # Nothing left to cancel: the confirmation page sends back with a message.
    assert client.get(f"/events/{event.id}/cancel").status_code == 302


def test_hours_only_for_volunteers_in_french_format(
    client, auth, make_user, make_volunteer, make_mission, add_signup
):
    auth.login_as(make_user())
    assert "Heures de bénévolat" not in text(client.get("/account"))
    auth.logout()
    volunteer = make_volunteer()
    auth.login_as(volunteer)
    assert "Heures de bénévolat : 0\xa0h" in text(client.get("/account"))
    start = utcnow() - timedelta(days=2)
    mission = make_mission(starts_at=start, ends_at=start + timedelta(minutes=90))
    add_signup(mission, volunteer, attended=True)
    page = text(client.get("/account"))
    assert "Heures de bénévolat : 1,5\xa0h" in page and "1.5" not in page
    other = make_mission(starts_at=start - timedelta(days=1))  # 2 h more: 3,5 h
    add_signup(other, volunteer, attended=True)
    assert "Heures de bénévolat : 3,5\xa0h" in text(client.get("/account"))


def test_hours_format(app):
    from blagis.templating import format_hours

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert [format_hours(v) for v in (3.0, 1.5, 0, 2.25)] == [
            "3\xa0h",
            "1,5\xa0h",
            "0\xa0h",
            "2,2\xa0h",
        ]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert format_hours(1.5) == "1.5\xa0h"


# --- 7. the home page features initiatives that are alive ---------------------------------------


def test_home_features_live_initiatives(app, client):
    now = utcnow()
    cases = {
        "Un banc à l'ombre": (PublicStatus.UNDER_STUDY, None),
        "Un composteur": (PublicStatus.NOT_RETAINED, now - timedelta(days=2)),
        "Une fresque finie": (PublicStatus.DONE, now - timedelta(days=10)),
        "Une fête de 2020": (PublicStatus.DONE, now - timedelta(days=400)),
    }
    with app.app_context():
        for title, (status, answered) in cases.items():
            db.session.add(
                Initiative(
                    title=title,
                    summary="Résumé",
                    body="Texte",
                    commune_code="sceaux",
                    state=ModerationState.PUBLISHED,
                    status=status,
                    published_at=now - timedelta(days=1),
                    answered_at=answered,
                )
            )
        db.session.commit()
        db.session.remove()
    page = text(client.get("/"))
    assert "Un banc à l'ombre" in page and "Une fresque finie" in page
    assert "Un composteur" not in page and "Une fête de 2020" not in page


# --- 9. volunteer attestations ------------------------------------------------------------------


def _served(make_mission, add_signup, volunteer, *, commune="sceaux", days=10, title="Accueil"):
    start = utcnow() - timedelta(days=days)
    mission = make_mission(
        title=title,
        commune_code=commune,
        starts_at=start,
        ends_at=start + timedelta(hours=3),
    )
    add_signup(mission, volunteer, attended=True)
    return mission


def test_volunteer_gets_a_printable_attestation_that_the_code_confirms(
    app, client, auth, make_volunteer, make_mission, add_signup
):
    _desk(app)
    volunteer = make_volunteer(name="Sam")
    _served(make_mission, add_signup, volunteer, title="Accueil du café")
    _served(make_mission, add_signup, volunteer, days=5, title="Repair café")
    auth.login_as(volunteer)
    assert client.get("/volunteer/certificate").status_code == 200
    response = client.post("/volunteer/certificate", data={"full_name": "Samira Benali"})
    assert response.status_code == 302
    document = client.get(response.headers["Location"])
    assert document.status_code == 200
    page = text(document)
    assert "Samira Benali" in page
    assert "Engagements Quartiers 2030" in page  # the organisation
    assert "4 rue de l'Exemple" in page  # its address: the commune's desk
    assert "Accueil du café" in page and "Repair café" in page
    assert "6\xa0h" in page  # total
    assert "Nom, fonction et signature" in page  # the signature block
    code = re.search(r'class="attestation__code">([A-Z0-9-]+)<', page).group(1)
    assert re.fullmatch(r"([A-Z2-9]{4}-){3}[A-Z2-9]{4}", code)

    anonymous = app.test_client()
    for typed in (code, code.replace("-", "").lower()):
        check = anonymous.get(f"/attestations/{typed}")
        assert check.status_code == 200
        assert check.headers["X-Robots-Tag"] == "noindex"
        shown = text(check)
        assert "Samira Benali" in shown and "6\xa0h" in shown
        assert "Accueil du café" not in shown  # minimal data: no missions, no address
        assert "4 rue de l'Exemple" not in shown and volunteer.email not in shown
    typed = anonymous.get("/attestations?code=" + code.replace("-", " "))
    assert typed.status_code == 302 and typed.headers["Location"].endswith(f"/attestations/{code}")
    assert anonymous.get("/attestations/ABCD-EFGH-JKMN-PQRS").status_code == 404
    assert anonymous.get("/attestations/nonsense").status_code == 404
    assert "attestation.issued" in _audit_actions(app)


def test_attestation_codes_are_random_and_unguessable(app):
    from blagis.volunteers.attestations import ALPHABET, CODE_LENGTH, new_code

    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert len(ALPHABET) ** CODE_LENGTH >= 2**80


def test_no_attestation_without_attended_missions(client, auth, make_volunteer):
    auth.login_as(make_volunteer())
    response = client.post("/volunteer/certificate", data={"full_name": "Samira Benali"})
    assert response.status_code == 422


def test_staff_issue_an_attestation_for_their_commune(
    app, client, auth, make_user, make_volunteer, make_mission, add_signup
):
    volunteer = make_volunteer(name="Sam")
    _served(make_mission, add_signup, volunteer, commune="sceaux", title="Accueil à Sceaux")
    _served(make_mission, add_signup, volunteer, commune="bagneux", title="Repair à Bagneux")
    agent = make_user(role="staff", scope="sceaux", name="Agente de Sceaux")
    auth.login_as(agent)
    form = client.get(f"/staff/volunteers/{volunteer.id}/attestation")
    assert form.status_code == 200
    response = client.post(
        f"/staff/volunteers/{volunteer.id}/attestation", data={"full_name": "Samira Benali"}
    )
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Accueil à Sceaux" in page and "Repair à Bagneux" not in page
    assert "Agente de Sceaux" in page
    with app.app_context():
        attestation = db.session.scalar(select(Attestation))
        assert attestation.commune_code == "sceaux" and attestation.issued_by_id == agent.id
        attestation_id = attestation.id
        db.session.remove()
    # The volunteer sees it; another resident does not; an agent of Bagneux does not.
    auth.logout()
    auth.login_as(volunteer)
    assert client.get(f"/volunteer/attestations/{attestation_id}").status_code == 200
    auth.logout()
    auth.login_as(make_user())
    assert client.get(f"/volunteer/attestations/{attestation_id}").status_code == 403
    auth.logout()
    auth.login_as(make_user(role="staff", scope="bagneux"))
    assert client.get(f"/volunteer/attestations/{attestation_id}").status_code == 403


def test_deleting_the_account_voids_its_attestations(
    app, client, auth, make_volunteer, make_mission, add_signup
):
    volunteer = make_volunteer()
    _served(make_mission, add_signup, volunteer)
    auth.login_as(volunteer)
    location = client.post("/volunteer/certificate", data={"full_name": "Sam B"}).headers[
        "Location"
    ]
    code = re.search(r'class="attestation__code">([A-Z0-9-]+)<', text(client.get(location)))[1]
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 302
    assert app.test_client().get(f"/attestations/{code}").status_code == 404


# --- 14. the 403 page says why ------------------------------------------------------------------


def test_forbidden_page_tells_a_commune_agent_why(client, auth, make_user, make_event):
    event = make_event(commune_code="bagneux")
    auth.login_as(make_user(role="staff", scope="sceaux"))
    response = client.get(f"/staff/events/{event.id}/edit")
    assert response.status_code == 403
    page = text(response)
    assert "Cette page est réservée à l’équipe de Bagneux" in page
    assert "votre compte agit pour Sceaux" in page


def test_forbidden_page_tells_a_resident_why(client, auth, make_user):
    auth.login_as(make_user())
    response = client.get("/staff/initiatives")
    assert response.status_code == 403
    assert "Cette page est réservée à l’équipe" in text(response)
    response = client.get("/admin/users")
    assert "Cette page est réservée aux administrateurs." in text(response)
