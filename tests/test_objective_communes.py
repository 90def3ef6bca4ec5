"""Issue 15, item 14: objective nodes declined for one commune link only from that commune's
events and initiatives; territory-wide nodes (commune NULL) from anywhere."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blagis.extensions import db
from blagis.models import (
    Event,
    Initiative,
    InitiativeObjective,
    ModerationState,
    ObjectiveNode,
    event_objectives,
    utcnow,
)
from blagis.timeutils import format_local
from tests.test_initiatives import make_initiative  # noqa: F401 (fixture)


def event_form(**overrides) -> dict:
    start = utcnow() + timedelta(days=5)
    data = {
        "title": "Atelier",
        "kind": "atelier",
        "starts_at": format_local(start),
        "ends_at": format_local(start + timedelta(hours=2)),
        "place": "Maison de quartier",
        "commune": "bagneux",
        "max_seats": "1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def agent(make_user, auth):
    """Staff of every commune, reading French."""
    user = make_user(role="staff", scope=None, locale="fr")
    auth.login_as(user)
    return user


def node_commune(app, code):
    with app.app_context():
        return db.session.scalar(
            select(ObjectiveNode.commune_code).where(ObjectiveNode.code == code)
        )


def test_contract_declines_objectives_for_sceaux_and_axes_for_everyone(app):
    assert node_commune(app, "1") is None
    assert node_commune(app, "1.1") == "sceaux"


def test_event_of_another_commune_cannot_link_a_sceaux_node(app, client, agent):
    response = client.post("/staff/events/new", data=event_form(objectives=["1", "1.1"]))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "1.1 : objectifs propres à Sceaux" in html
    # The message is on the field: tied to the objectives select.
    assert (
        'id="objectives-error"' in html or "objectives" in html.split("1.1 : objectifs")[0][-600:]
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(Event.id))) == 0
    # A territory-wide node links from anywhere, a Sceaux node from Sceaux.
    assert client.post("/staff/events/new", data=event_form(objectives=["1"])).status_code == 302
    data = event_form(objectives=["1.1"], commune="sceaux")
    assert client.post("/staff/events/new", data=data).status_code == 302


def test_moving_an_event_to_another_commune_with_its_links_is_refused(app, client, agent):
    data = event_form(objectives=["1.1", "2"], commune="sceaux")
    assert client.post("/staff/events/new", data=data).status_code == 302
    with app.app_context():
        event_id = db.session.scalar(select(Event.id))
    response = client.post(f"/staff/events/{event_id}/edit", data=dict(data, commune="bagneux"))
    assert response.status_code == 422
    assert "objectifs propres à Sceaux" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Event, event_id).commune_code == "sceaux"
    keep_axis = dict(data, commune="bagneux", objectives=["2"])
    assert client.post(f"/staff/events/{event_id}/edit", data=keep_axis).status_code == 302


def test_initiative_links_follow_its_commune(app, client, auth, make_user, make_initiative):  # noqa: F811
    author = make_user()
    initiative_id = make_initiative(author, commune_code="bagneux")
    auth.login_as(make_user(role="staff", scope=None, locale="fr"))
    url = f"/staff/initiatives/{initiative_id}/objectives"
    response = client.post(url, data={"objectives": ["1.1"]})
    assert response.status_code == 422
    assert "1.1 : objectifs propres à Sceaux" in response.get_data(as_text=True)
    assert client.post(url, data={"objectives": ["1"]}).status_code == 303


def test_author_cannot_move_an_initiative_holding_links_of_its_commune(
    app,
    client,
    auth,
    make_user,
    make_initiative,  # noqa: F811
):
    author = make_user()
    initiative_id = make_initiative(author, state="changes_requested", objectives=["1.1"])
    auth.login_as(author)
    data = {"title": "Un potager", "summary": "Résumé", "body": "Texte", "commune": "bagneux"}
    response = client.post(f"/initiatives/{initiative_id}/edit", data=data)
    assert response.status_code == 422
    assert "de les retirer avant de la déplacer" in response.get_data(as_text=True)
    with app.app_context():
        initiative = db.session.get(Initiative, initiative_id)
        assert initiative.commune_code == "sceaux"
        assert initiative.state == ModerationState.CHANGES_REQUESTED
    # Staying in the commune is fine.
    data["commune"] = "sceaux"
    assert client.post(f"/initiatives/{initiative_id}/edit", data=data).status_code == 302


def test_demo_creates_no_cross_commune_link(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        crossing = ObjectiveNode.commune_code.is_not(None)
        events = db.session.scalar(
            select(func.count())
            .select_from(event_objectives)
            .join(Event, Event.id == event_objectives.c.event_id)
            .join(ObjectiveNode, ObjectiveNode.id == event_objectives.c.objective_id)
            .where(crossing, ObjectiveNode.commune_code != Event.commune_code)
        )
        initiatives = db.session.scalar(
            select(func.count(InitiativeObjective.initiative_id))
            .join(Initiative, Initiative.id == InitiativeObjective.initiative_id)
            .join(ObjectiveNode, ObjectiveNode.id == InitiativeObjective.objective_id)
            .where(crossing, ObjectiveNode.commune_code != Initiative.commune_code)
        )
        assert (events, initiatives) == (0, 0)
        # The demo still links plenty (each other commune's activity to its node's axis).
        assert db.session.scalar(select(func.count()).select_from(event_objectives)) > 50
