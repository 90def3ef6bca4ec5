"""Initiatives: proposing, visibility, moderation, answers, supports, reports, search, API."""

import re

import pytest
from sqlalchemy import func, select

from blagis.extensions import db
from blagis.initiatives.services import fold, search_text_for
from blagis.initiatives.text import render_plain
from blagis.models import (
    AuditEntry,
    Initiative,
    InitiativeObjective,
    InitiativeReport,
    InitiativeStatusChange,
    InitiativeSupport,
    ModerationState,
    ObjectiveNode,
    OutboxMessage,
    PublicStatus,
    utcnow,
)

GOOD = {
    "title": "Un potager partagé au pied des immeubles",
    "summary": "Cultiver ensemble des légumes entre voisins.",
    "body": "Nous proposons des bacs.\n\nPlus d'infos : https://example.org/potager.",
    "commune": "sceaux",
}


@pytest.fixture
def make_initiative(app):
    """Factory: ``make_initiative(author, state="published", **fields)`` -> id."""

    def factory(author=None, *, state="published", status="new", objectives=(), **fields):
        values = {
            "title": "Initiative",
            "summary": "Résumé",
            "body": "Texte",
            "commune_code": "sceaux",
            **fields,
        }
        with app.app_context():
            initiative = Initiative(
                **values,
                author_id=author.id if author else None,
                state=ModerationState(state),
                status=PublicStatus(status),
                search_text=search_text_for(values["title"], values["summary"], values["body"]),
                published_at=utcnow() if state == "published" else None,
            )
            db.session.add(initiative)
            db.session.flush()
            for code in objectives:
                node = db.session.scalar(select(ObjectiveNode).where(ObjectiveNode.code == code))
                db.session.add(
                    InitiativeObjective(initiative_id=initiative.id, objective_id=node.id)
                )
            db.session.commit()
            return initiative.id

    return factory


def get(app, initiative_id) -> Initiative:
    with app.app_context():
        initiative = db.session.get(Initiative, initiative_id)
        db.session.expunge(initiative)
        return initiative


def mails(app, template=None) -> list[OutboxMessage]:
    with app.app_context():
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if template:
            query = query.where(OutboxMessage.template == template)
        return db.session.scalars(query).all()


def audits(app, action) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).all()


# --- proposing and editing ------------------------------------------------------------------


def test_propose_creates_pending_initiative(app, client, auth, make_user):
    author = make_user()
    auth.login_as(author)
    response = client.post("/initiatives/new", data=GOOD)
    assert response.status_code == 302
    with app.app_context():
        initiative = db.session.scalar(select(Initiative))
        assert initiative.state == ModerationState.PENDING
        assert initiative.author_id == author.id
        assert initiative.search_text == fold(
            " ".join((GOOD["title"], GOOD["summary"], GOOD["body"]))
        )
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Awaiting moderation" in html or "En attente de modération" in html


def test_propose_requires_login(client):
    response = client.get("/initiatives/new")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "field,value",
    [
        ("title", "x" * 151),
        ("summary", "x" * 301),
        ("body", "x" * 10_001),
        ("title", ""),
        ("title", "   "),
        ("commune", "atlantis"),
        ("commune", ""),
    ],
)
def test_propose_rejects_bad_fields(app, client, auth, make_user, field, value):
    auth.login_as(make_user())
    response = client.post("/initiatives/new", data=dict(GOOD, **{field: value}))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Initiative.id))) == 0


def test_propose_limits_are_inclusive(client, auth, make_user):
    auth.login_as(make_user())
    data = dict(GOOD, title="t" * 150, summary="s" * 300, body="b" * 10_000)
    assert client.post("/initiatives/new", data=data).status_code == 302


def test_propose_garbage_never_500(client, auth, make_user):
    auth.login_as(make_user())
    for data in ({}, {"title": ["a", "b"]}, {"body": "é" * 20_000}):
        assert client.post("/initiatives/new", data=data).status_code == 422
    # A NUL character is refused before any view runs (blagis.security), never a 500.
    assert client.post("/initiatives/new", data={"commune": "\x00"}).status_code == 400


def test_author_edits_after_changes_requested_back_to_pending(
    app, client, auth, make_user, make_initiative
):
    author = make_user()
    initiative_id = make_initiative(author, state="changes_requested")
    auth.login_as(author)
    assert client.get(f"/initiatives/{initiative_id}/edit").status_code == 200
    data = dict(GOOD, title="Un potager (version 2)")
    assert client.post(f"/initiatives/{initiative_id}/edit", data=data).status_code == 302
    initiative = get(app, initiative_id)
    assert initiative.state == ModerationState.PENDING
    assert initiative.title == "Un potager (version 2)"
    assert "version 2" in initiative.search_text


def test_edit_refused_once_published_or_for_others(app, client, auth, make_user, make_initiative):
    author, other = make_user(), make_user()
    published = make_initiative(author, state="published", title="Publiée")
    pending = make_initiative(author, state="pending")
    auth.login_as(author)
    response = client.post(f"/initiatives/{published}/edit", data=GOOD)
    assert response.status_code == 302
    assert get(app, published).title == "Publiée"
    auth.logout()
    auth.login_as(other)
    # Another resident does not even see the pending one.
    assert client.post(f"/initiatives/{pending}/edit", data=GOOD).status_code == 404
    assert client.post(f"/initiatives/{published}/edit", data=GOOD).status_code == 403


def test_edit_bad_input_is_422(client, auth, make_user, make_initiative):
    author = make_user()
    initiative_id = make_initiative(author, state="pending")
    auth.login_as(author)
    response = client.post(f"/initiatives/{initiative_id}/edit", data=dict(GOOD, summary="x" * 301))
    assert response.status_code == 422


# --- visibility -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["pending", "rejected", "changes_requested", "hidden"])
def test_unpublished_visible_to_author_and_staff_only(app, state, auth, make_user, make_initiative):
    author = make_user()
    resident = make_user()
    staff_other = make_user(role="staff", commune="bagneux", scope="bagneux")
    staff = make_user(role="staff", scope="sceaux")
    staff_everywhere = make_user(role="staff", commune="bagneux")
    admin_other = make_user(role="admin", commune="bagneux", scope="bagneux")
    initiative_id = make_initiative(
        author, state=state, title="Secret en attente", moderation_reason="Motif de modération"
    )
    url = f"/initiatives/{initiative_id}"

    anonymous = app.test_client()
    assert anonymous.get(url).status_code == 404
    # Staff scoped to another commune see neither the page nor the moderation reason.
    for user, expected in (
        (author, 200),
        (resident, 404),
        (staff, 200),
        (staff_everywhere, 200),
        (admin_other, 200),
        (staff_other, 404),
    ):
        client = app.test_client()
        client.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
        response = client.get(url)
        assert response.status_code == expected, (user, response.status_code)
        if expected == 404:
            assert "Motif de modération" not in response.get_data(as_text=True)
    # Not in the public list nor in the API.
    assert "Secret en attente" not in anonymous.get("/initiatives").get_data(as_text=True)
    assert anonymous.get("/api/v1/initiatives").get_json()["total"] == 0


def test_staff_of_another_commune_cannot_moderate(app, client, auth, make_user, make_initiative):
    author = make_user()
    initiative_id = make_initiative(author, state="pending", title="Idée de Sceaux")
    auth.login_as(make_user(role="staff", commune="bagneux", scope="bagneux"))
    assert client.get(f"/staff/initiatives/{initiative_id}").status_code == 403
    for path, data in (
        ("moderate", {"decision": "publish"}),
        ("status", {"status": "accepted", "answer": "Oui"}),
        ("objectives", {"objectives": "1"}),
    ):
        assert (
            client.post(f"/staff/initiatives/{initiative_id}/{path}", data=data).status_code == 403
        )
    assert get(app, initiative_id).state == ModerationState.PENDING
    # And the scoped queue does not list it.
    assert "Idée de Sceaux" not in client.get("/staff/initiatives").get_data(as_text=True)


def test_residents_cannot_reach_staff_pages(client, auth, make_user, make_initiative):
    initiative_id = make_initiative(make_user(), state="pending")
    assert client.get("/staff/initiatives").status_code == 302
    auth.login_as(make_user())
    assert client.get("/staff/initiatives").status_code == 403
    assert (
        client.post(
            f"/staff/initiatives/{initiative_id}/moderate", data={"decision": "publish"}
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    "path",
    [
        "/initiatives/999999",
        "/initiatives/999999/edit",
        "/staff/initiatives/999999",
        "/initiatives/abc",
        "/initiatives/-1",
        "/initiatives/99999999999999999999999",
    ],
)
def test_unknown_ids_are_404(client, auth, make_user, path):
    auth.login_as(make_user(role="admin"))
    assert client.get(path).status_code == 404


def test_unknown_ids_on_post_are_404(client, auth, make_user):
    auth.login_as(make_user(role="admin"))
    for path in ("support", "report"):
        assert client.post(f"/initiatives/424242/{path}", data={"reason": "x"}).status_code == 404
    for path in ("moderate", "status", "objectives"):
        assert client.post(f"/staff/initiatives/424242/{path}").status_code == 404


# --- moderation -----------------------------------------------------------------------------


def test_publish_audits_and_mails_author_in_their_language(
    app, client, auth, make_user, make_initiative
):
    author = make_user(locale="en")
    staff = make_user(role="staff", scope="sceaux")
    initiative_id = make_initiative(author, state="pending", title="Jardin")
    auth.login_as(staff)
    queue = client.get("/staff/initiatives").get_data(as_text=True)
    assert "Jardin" in queue
    response = client.post(
        f"/staff/initiatives/{initiative_id}/moderate", data={"decision": "publish"}
    )
    assert response.status_code == 303
    initiative = get(app, initiative_id)
    assert initiative.state == ModerationState.PUBLISHED and initiative.published_at
    (entry,) = audits(app, "initiative.publish")
    assert entry.actor_id == staff.id
    assert entry.before["state"] == "pending" and entry.after["state"] == "published"
    (mail,) = mails(app, "initiative_published")
    assert mail.recipient == author.email and mail.locale == "en"
    assert "published" in mail.subject.lower()
    assert f"/initiatives/{initiative_id}" in mail.body_text


@pytest.mark.parametrize(
    "decision,state,template",
    [
        ("reject", "rejected", "initiative_rejected"),
        ("request_changes", "changes_requested", "initiative_changes_requested"),
    ],
)
def test_reject_and_request_changes_need_a_reason(
    app, client, auth, make_user, make_initiative, decision, state, template
):
    author = make_user(locale="fr")
    initiative_id = make_initiative(author, state="pending")
    auth.login_as(make_user(role="staff"))
    url = f"/staff/initiatives/{initiative_id}/moderate"
    response = client.post(url, data={"decision": decision, "reason": "  "})
    assert response.status_code == 422
    assert 'id="reason-error"' in response.get_data(as_text=True)
    assert get(app, initiative_id).state == ModerationState.PENDING

    response = client.post(url, data={"decision": decision, "reason": "Précisez le lieu."})
    assert response.status_code == 303
    initiative = get(app, initiative_id)
    assert initiative.state == state and initiative.moderation_reason == "Précisez le lieu."
    (mail,) = mails(app, template)
    assert "Précisez le lieu." in mail.body_text and mail.locale == "fr"
    assert mail.subject in (
        "Votre initiative n’a pas été publiée",
        "Des modifications sont demandées pour votre initiative",
    )
    assert audits(app, f"initiative.{decision}")[0].after["reason"] == "Précisez le lieu."

    # The author sees the reason on their account page.
    auth.logout()
    auth.login_as(author)
    assert "Précisez le lieu." in auth._client.get("/account").get_data(as_text=True)


def test_moderation_bad_decisions(app, client, auth, make_user, make_initiative):
    initiative_id = make_initiative(make_user(), state="published")
    auth.login_as(make_user(role="staff"))
    url = f"/staff/initiatives/{initiative_id}/moderate"
    for data in ({}, {"decision": "explode"}, {"decision": "reject", "reason": "Non"}):
        assert client.post(url, data=data).status_code == 422
    assert get(app, initiative_id).state == ModerationState.PUBLISHED


def test_staff_hides_published_with_reason(app, client, auth, make_user, make_initiative):
    author = make_user()
    initiative_id = make_initiative(author, state="published", title="Propos douteux")
    auth.login_as(make_user(role="admin"))
    url = f"/staff/initiatives/{initiative_id}/moderate"
    assert client.post(url, data={"decision": "hide"}).status_code == 422
    assert (
        client.post(url, data={"decision": "hide", "reason": "Propos injurieux"}).status_code == 303
    )
    assert get(app, initiative_id).state == ModerationState.HIDDEN
    anonymous = app.test_client()
    assert anonymous.get(f"/initiatives/{initiative_id}").status_code == 404
    assert "Propos douteux" not in anonymous.get("/initiatives").get_data(as_text=True)
    assert mails(app, "initiative_hidden")
    # Staff can publish it again.
    assert client.post(url, data={"decision": "publish"}).status_code == 303
    assert anonymous.get(f"/initiatives/{initiative_id}").status_code == 200


def test_queue_filters_by_state_oldest_first_with_report_counts(
    app, client, auth, make_user, make_initiative
):
    author = make_user()
    first = make_initiative(author, state="pending", title="Première idée")
    make_initiative(author, state="pending", title="Deuxième idée")
    reported = make_initiative(author, state="published", title="Idée signalée")
    make_initiative(author, state="rejected", title="Idée refusée")
    with app.app_context():
        for _ in range(2):
            reporter = make_user()
            db.session.add(
                InitiativeReport(initiative_id=reported, user_id=reporter.id, reason="x")
            )
        db.session.commit()
    auth.login_as(make_user(role="staff"))
    html = client.get("/staff/initiatives").get_data(as_text=True)
    assert html.index("Première idée") < html.index("Deuxième idée")
    assert "Idée signalée" not in html and "Idée refusée" not in html
    html = client.get("/staff/initiatives?state=published").get_data(as_text=True)
    assert "Idée signalée" in html and ("2 signalements" in html or "2 reports" in html)
    html = client.get("/staff/initiatives?state=reported").get_data(as_text=True)
    assert "Idée signalée" in html and "Première idée" not in html
    html = client.get("/staff/initiatives?state=all").get_data(as_text=True)
    assert all(t in html for t in ("Première idée", "Idée signalée", "Idée refusée"))
    for garbage in ("nope", "%00", "", "pending&page=abc"):
        assert client.get(f"/staff/initiatives?state={garbage}").status_code == 200
    detail = client.get(f"/staff/initiatives/{first}").get_data(as_text=True)
    assert 'name="decision"' in detail and 'name="objectives"' in detail


# --- public status and answers --------------------------------------------------------------


def test_status_change_requires_answer_and_keeps_history(
    app, client, auth, make_user, make_initiative
):
    author = make_user(locale="en")
    staff = make_user(role="staff", scope="sceaux", name="Agent Secret Dupont")
    initiative_id = make_initiative(author, state="published")
    auth.login_as(staff)
    url = f"/staff/initiatives/{initiative_id}/status"
    response = client.post(url, data={"status": "under_study", "answer": ""})
    assert response.status_code == 422
    assert 'id="answer-error"' in response.get_data(as_text=True)
    assert client.post(url, data={"status": "bogus", "answer": "x"}).status_code == 422

    client.post(url, data={"status": "under_study", "answer": "Nous étudions le lieu."})
    client.post(url, data={"status": "accepted", "answer": "Accepté pour le printemps."})
    with app.app_context():
        changes = db.session.scalars(select(InitiativeStatusChange)).all()
        assert [c.status for c in changes] == ["under_study", "accepted"]
        assert all(c.actor_role == "staff" and c.created_at for c in changes)
    initiative = get(app, initiative_id)
    assert initiative.status == PublicStatus.ACCEPTED and initiative.answered_at
    entries = audits(app, "initiative.status")
    assert [e.before["status"] for e in entries] == ["new", "under_study"]
    assert entries[1].after == {
        "state": "published",
        "status": "accepted",
        "reason": None,
        "answer": "Accepté pour le printemps.",
    }
    status_mails = mails(app, "initiative_status")
    assert len(status_mails) == 2 and "Accepted" in status_mails[1].body_text

    html = app.test_client().get(f"/initiatives/{initiative_id}?lang=fr").get_data(as_text=True)
    assert "Nous étudions le lieu." in html and "Accepté pour le printemps." in html
    assert "Agent Secret Dupont" not in html
    assert "Équipe de la ville — Sceaux" in html


def test_status_only_on_published(app, client, auth, make_user, make_initiative):
    initiative_id = make_initiative(make_user(), state="pending")
    auth.login_as(make_user(role="staff"))
    response = client.post(
        f"/staff/initiatives/{initiative_id}/status", data={"status": "accepted", "answer": "Oui"}
    )
    assert response.status_code == 422


# --- supports ---------------------------------------------------------------------------------


def test_support_toggles_and_counts(app, client, auth, make_user, make_initiative):
    initiative_id = make_initiative(make_user(), state="published")
    auth.login_as(make_user())
    url = f"/initiatives/{initiative_id}/support"
    assert client.post(url).status_code == 303
    assert get(app, initiative_id).support_count == 1
    html = client.get(f"/initiatives/{initiative_id}?lang=en").get_data(as_text=True)
    assert "1 person supports this initiative." in html and "Withdraw my support" in html
    # A second POST withdraws: never two supports from one account.
    client.post(url)
    assert get(app, initiative_id).support_count == 0
    client.post(url)
    with app.app_context():
        assert db.session.scalar(select(func.count(InitiativeSupport.id))) == 1


def test_double_support_is_one_support(app, make_user, make_initiative):
    """Even a repeated insert (a double submit racing) leaves one row and count 1."""
    from blagis.initiatives import services

    user = make_user()
    initiative_id = make_initiative(make_user(), state="published")
    with app.test_request_context():
        initiative = db.session.get(Initiative, initiative_id)
        db.session.add(InitiativeSupport(initiative_id=initiative_id, user_id=user.id))
        db.session.commit()
        # The service sees the existing row and withdraws; a new one then counts once.
        assert services.toggle_support(user, initiative) is False
        assert services.toggle_support(user, initiative) is True
        db.session.commit()
        assert initiative.support_count == 1
        with pytest.raises(Exception):  # noqa: B017 - the unique constraint itself
            with db.session.begin_nested():
                db.session.add(InitiativeSupport(initiative_id=initiative_id, user_id=user.id))
        db.session.rollback()


def test_cannot_support_own_or_unpublished(app, client, auth, make_user, make_initiative):
    author = make_user()
    own = make_initiative(author, state="published")
    pending = make_initiative(make_user(), state="pending")
    auth.login_as(author)
    assert client.post(f"/initiatives/{own}/support").status_code == 403
    assert client.post(f"/initiatives/{pending}/support").status_code == 404
    assert get(app, own).support_count == 0
    assert "I support this initiative" not in client.get(f"/initiatives/{own}?lang=en").get_data(
        as_text=True
    )


def test_support_requires_login(client, make_user, make_initiative):
    initiative_id = make_initiative(make_user(), state="published")
    response = client.post(f"/initiatives/{initiative_id}/support")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- reports ----------------------------------------------------------------------------------


def test_report_once_with_reason(app, client, auth, make_user, make_initiative):
    initiative_id = make_initiative(make_user(), state="published")
    auth.login_as(make_user())
    url = f"/initiatives/{initiative_id}/report"
    response = client.post(url, data={"reason": ""})
    assert response.status_code == 422 and 'id="reason-error"' in response.get_data(as_text=True)
    assert client.post(url, data={"reason": "x" * 1001}).status_code == 422
    assert client.post(url, data={"reason": "Contenu publicitaire"}).status_code == 303
    response = client.post(url, data={"reason": "Encore"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(InitiativeReport.id))) == 1


def test_report_only_published(client, auth, make_user, make_initiative):
    pending = make_initiative(make_user(), state="pending")
    auth.login_as(make_user())
    assert client.post(f"/initiatives/{pending}/report", data={"reason": "x"}).status_code == 404


# --- objectives -------------------------------------------------------------------------------


def test_set_objectives_replaces_the_set_and_audits(app, client, auth, make_user, make_initiative):
    initiative_id = make_initiative(make_user(), state="published", title="Jardin des voisins")
    auth.login_as(make_user(role="staff"))
    url = f"/staff/initiatives/{initiative_id}/objectives"
    assert client.post(url, data={"objectives": ["1", "3.1"]}).status_code == 303
    assert client.post(url, data={"objectives": ["3.1", "4"]}).status_code == 303
    with app.app_context():
        codes = db.session.scalars(
            select(ObjectiveNode.code)
            .join(InitiativeObjective)
            .where(InitiativeObjective.initiative_id == initiative_id)
        ).all()
    assert sorted(codes) == ["3.1", "4"]
    entries = audits(app, "initiative.objectives")
    assert entries[-1].before == {"objectives": ["1", "3.1"]}
    assert entries[-1].after == {"objectives": ["3.1", "4"]}
    # The node page of the axis lists it (linked below the axis), and so does the filter.
    anonymous = app.test_client()
    assert "Jardin des voisins" in anonymous.get("/objectives/3").get_data(as_text=True)
    assert "Jardin des voisins" in anonymous.get("/initiatives?objective=3").get_data(as_text=True)
    assert "Jardin des voisins" not in anonymous.get("/initiatives?objective=1").get_data(
        as_text=True
    )
    # Clearing the set is allowed.
    assert client.post(url, data={}).status_code == 303


def test_unknown_objective_code_is_a_form_error(app, client, auth, make_user, make_initiative):
    initiative_id = make_initiative(make_user(), state="published", objectives=["1"])
    auth.login_as(make_user(role="staff"))
    response = client.post(
        f"/staff/initiatives/{initiative_id}/objectives", data={"objectives": ["1.1", "99.9"]}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="objectives-error"' in html and "99.9" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InitiativeObjective)) == 1


def test_objective_filter_covers_subtree(app, client, make_user, make_initiative):
    author = make_user()
    with app.app_context():
        action = db.session.scalar(
            select(ObjectiveNode.code).where(ObjectiveNode.level == "action").limit(1)
        )
    axis = action.split(".")[0]
    make_initiative(author, title="Liée à l'action", objectives=[action])
    make_initiative(author, title="Sans lien")
    html = client.get(f"/initiatives?objective={axis}").get_data(as_text=True)
    assert "Liée à l" in html and "Sans lien" not in html
    html = client.get(f"/objectives/{action}").get_data(as_text=True)
    assert "Liée à l" in html


# --- listing, search, API -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query,expected",
    [
        ("cafe", "Café des parents"),
        ("CAFÉ", "Café des parents"),
        ("ECOLE", "Aide aux devoirs"),
        ("école", "Aide aux devoirs"),
        ("Oeuvre", "Fresque"),
        ("fresque murale", "Fresque"),
    ],
)
def test_search_is_accent_and_case_insensitive(client, make_user, make_initiative, query, expected):
    author = make_user()
    make_initiative(author, title="Café des parents", summary="Le samedi matin")
    make_initiative(author, title="Aide aux devoirs", body="Près de l'école Léo-Lagrange")
    make_initiative(author, title="Fresque", summary="Une œuvre murale collective")
    html = client.get("/initiatives", query_string={"q": query}).get_data(as_text=True)
    titles = re.findall(r'class="initiative-card__title"><a [^>]+>([^<]+)<', html)
    assert titles == [expected]


def test_search_escapes_like_wildcards(client, make_user, make_initiative):
    author = make_user()
    make_initiative(author, title="Remise de 50% sur la cantine")
    make_initiative(author, title="Autre chose")
    html = client.get("/initiatives", query_string={"q": "%"}).get_data(as_text=True)
    assert "Remise de 50" in html and "Autre chose" not in html
    html = client.get("/initiatives", query_string={"q": "_"}).get_data(as_text=True)
    assert "Autre chose" not in html


def test_filters_status_commune_and_sorts(app, client, make_user, make_initiative):
    author = make_user()
    a = make_initiative(author, title="Alpha", status="accepted", commune_code="bagneux")
    b = make_initiative(author, title="Bravo", status="new")
    c = make_initiative(author, title="Charlie", status="done")
    with app.app_context():
        db.session.get(Initiative, b).support_count = 5
        db.session.get(Initiative, a).support_count = 2
        db.session.get(Initiative, a).answered_at = utcnow()
        db.session.commit()

    def titles(query):
        html = client.get("/initiatives" + query).get_data(as_text=True)
        return re.findall(r'class="initiative-card__title"><a [^>]+>([^<]+)<', html)

    assert titles("?status=accepted") == ["Alpha"]
    assert titles("?commune=bagneux") == ["Alpha"]
    assert titles("?commune=sceaux&status=done") == ["Charlie"]
    assert titles("") == ["Charlie", "Bravo", "Alpha"]
    assert titles("?sort=supported") == ["Bravo", "Alpha", "Charlie"]
    assert titles("?sort=answered")[0] == "Alpha"
    assert c


@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=-3",
        "?page=0",
        "?page=99999999999999999999",
        "?page=500",
        "?status=garbage",
        "?status=%00",
        "?commune=%00",
        "?objective=99.99",
        "?objective=1%25",
        "?objective=%27;drop",
        "?sort=evil",
        "?q=%00",
        "?q=" + "x" * 5000,
    ],
)
def test_garbage_list_params_never_500(client, make_user, make_initiative, query):
    make_initiative(make_user(), title="Toujours là")
    assert client.get("/initiatives" + query).status_code == 200
    assert client.get("/api/v1/initiatives" + query).status_code == 200


def test_list_is_paginated_by_20(client, make_user, make_initiative):
    author = make_user()
    for i in range(25):
        make_initiative(author, title=f"Idée {i:02d}")
    html = client.get("/initiatives").get_data(as_text=True)
    assert html.count('class="card initiative-card"') == 20
    assert "page=2" in html
    html = client.get("/initiatives?page=2").get_data(as_text=True)
    assert html.count('class="card initiative-card"') == 5


def test_api_published_only_paginated_without_personal_data(
    app, client, make_user, make_initiative
):
    author = make_user("secret.person@example.org", name="Personne Secrète")
    for i in range(3):
        make_initiative(author, title=f"Publique {i}", objectives=["1"])
    make_initiative(author, state="pending", title="En attente")
    response = client.get("/api/v1/initiatives?per_page=2")
    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] == 3 and len(data["items"]) == 2 and data["per_page"] == 2
    assert "cursor=" in data["next"] and data["prev"] is None
    raw = response.get_data(as_text=True)
    assert "secret.person" not in raw and "Secrète" not in raw and "author" not in raw
    item = data["items"][0]
    assert item["objectives"] == ["1"] and item["status"] == "new" and item["supports"] == 0
    second = client.get(data["next"]).get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert client.get("/api/v1/initiatives?per_page=1000").get_json()["per_page"] == 100
    assert client.get("/api/v1/initiatives?q=PUBLIQUE 1").get_json()["total"] == 1
    assert client.get("/api/v1/initiatives/999").status_code == 404
    assert client.get("/api/v1/initiatives/999").is_json


def test_list_page_runs_a_bounded_number_of_queries(app, make_user, make_initiative, count_queries):
    """The same number of queries for 3 or 30 initiatives on the page: no query per row."""
    author = make_user()
    client = app.test_client()
    client.post(
        "/auth/login", data={"email": make_user().email, "password": "correct horse battery"}
    )

    def measure() -> dict[str, int]:
        result = {}
        for url in (
            "/initiatives?sort=supported",
            "/api/v1/initiatives?per_page=100",
            "/",
            "/objectives/1",
            "/account",
        ):
            with count_queries() as q:
                assert client.get(url).status_code == 200
            result[url] = q.count
        return result

    for i in range(3):
        make_initiative(author, title=f"Idée {i}", objectives=["1", "2"])
    small = measure()
    for i in range(3, 30):
        make_initiative(author, title=f"Idée {i}", objectives=["1", "2"])
    large = measure()
    assert small == large
    assert large["/initiatives?sort=supported"] <= 8, large
    assert large["/api/v1/initiatives?per_page=100"] <= 8, large


# --- blocks, rendering ----------------------------------------------------------------------


def test_home_and_account_blocks(app, client, auth, make_user, make_initiative):
    author = make_user()
    make_initiative(author, title="Visible partout")
    make_initiative(author, state="pending", title="Ma proposition en attente")
    home = client.get("/").get_data(as_text=True)
    assert "Visible partout" in home and "Ma proposition en attente" not in home
    auth.login_as(author)
    account = client.get("/account?lang=en").get_data(as_text=True)
    assert "Ma proposition en attente" in account and "Awaiting moderation" in account


def test_body_is_escaped_and_linkified():
    html = str(
        render_plain(
            "Hello <script>alert(1)</script>\n"
            "see https://example.org/a?b=1&c=2.\n\n"
            'javascript:alert(1) "https://x.test/"onmouseover=1'
        )
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">'
        "https://example.org/a?b=1&amp;c=2</a>." in html
    )
    assert html.count("<p>") == 2 and "<br>" in html
    assert 'href="javascript' not in html and "onmouseover=1</a>" not in html


def test_show_page_renders_body_safely(client, make_user, make_initiative):
    initiative_id = make_initiative(
        make_user(), body="<b>gras</b>\n\nVoir https://example.org/x", title="Sûre"
    )
    html = client.get(f"/initiatives/{initiative_id}").get_data(as_text=True)
    assert "&lt;b&gt;gras&lt;/b&gt;" in html
    assert 'rel="nofollow ugc noopener">https://example.org/x</a>' in html


def test_demo_creates_initiatives_in_every_state(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        states = set(db.session.scalars(select(Initiative.state)))
        assert states == set(ModerationState)
        assert db.session.scalar(select(func.count(InitiativeStatusChange.id))) > 0


def test_csrf_is_required_on_every_initiative_post(app, client, auth, make_user, make_initiative):
    from tests.conftest import csrf_token_from

    initiative_id = make_initiative(make_user(), state="published")
    auth.login_as(make_user(role="staff"))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for path in (
            f"/initiatives/{initiative_id}/support",
            f"/initiatives/{initiative_id}/report",
            f"/staff/initiatives/{initiative_id}/moderate",
            f"/staff/initiatives/{initiative_id}/status",
            f"/staff/initiatives/{initiative_id}/objectives",
            "/initiatives/new",
        ):
            assert client.post(path, data={"reason": "x"}).status_code == 400, path
        page = client.get(f"/initiatives/{initiative_id}").get_data(as_text=True)
        token = csrf_token_from(page)
        response = client.post(f"/initiatives/{initiative_id}/support", data={"csrf_token": token})
        assert response.status_code == 303
        staff_page = client.get(f"/staff/initiatives/{initiative_id}").get_data(as_text=True)
        assert staff_page.count('name="csrf_token"') >= 3
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert get(app, initiative_id).support_count == 1


def test_concurrent_support_clicks_keep_one_support_and_an_exact_count(
    app, make_user, make_initiative
):
    """Real threads, one session each, the same account clicking at once."""
    import threading

    user = make_user()
    initiative_id = make_initiative(make_user(), state="published")
    clients = []
    for _ in range(6):
        c = app.test_client()
        c.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
        clients.append(c)
    barrier = threading.Barrier(len(clients))
    statuses = []

    def click(c):
        barrier.wait()
        statuses.append(c.post(f"/initiatives/{initiative_id}/support").status_code)

    threads = [threading.Thread(target=click, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [303] * len(clients)
    with app.app_context():
        rows = db.session.scalar(
            select(func.count(InitiativeSupport.id)).where(
                InitiativeSupport.initiative_id == initiative_id
            )
        )
        assert rows <= 1
        assert db.session.get(Initiative, initiative_id).support_count == rows


RATE_LIMIT_SCRIPT = """
import sys
from blagis import create_app
from tests.conftest import PASSWORD, test_config

url, email, initiative_id = sys.argv[1], sys.argv[2], sys.argv[3]
app = create_app(test_config(
    url, RATELIMIT_ENABLED=True, RATELIMIT_PROPOSE="2 per minute", RATELIMIT_REPORT="1 per minute"
))
client = app.test_client()
assert client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 302
codes = [client.post("/initiatives/new", data={}).status_code for _ in range(3)]
report_url = f"/initiatives/{initiative_id}/report"
codes += [client.post(report_url, data={}).status_code for _ in range(2)]
print(" ".join(map(str, codes)))
"""


def test_propose_and_report_are_rate_limited(database, make_user, make_initiative):
    """In a separate process: the shared limiter is switched off in this test session."""
    import subprocess
    import sys
    from pathlib import Path

    user = make_user()
    initiative_id = make_initiative(make_user(), state="published")
    result = subprocess.run(
        [sys.executable, "-c", RATE_LIMIT_SCRIPT, database, user.email, str(initiative_id)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["422", "422", "429", "422", "429"]
