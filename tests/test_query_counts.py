"""Query discipline: each main page runs the same number of SQL queries at two data sizes.

A page whose count grows with the data has an N+1 (a query per row): at territory scale that is
thousands of queries. Each page is requested once before counting (per-process caches such as
the translations are warm), then counted with a small dataset and again after adding ten times
more rows of every kind.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from blagis.extensions import db
from blagis.initiatives.services import search_text_for
from blagis.models import (
    Event,
    EventKind,
    Initiative,
    InitiativeObjective,
    InitiativeStatusChange,
    InitiativeSupport,
    ModerationState,
    ObjectiveNode,
    PublicStatus,
    Registration,
    RegistrationState,
    Role,
    event_objectives,
    utcnow,
)

PUBLIC = [
    "/",
    "/initiatives",
    "/initiatives?q=jardin",
    "/initiatives?sort=supported&page=2",
    "/initiatives/{initiative}",
    "/events",
    "/events?past=1",
    "/events/{event}",
    "/events/{event}.ics",
    "/events.ics",
    "/objectives",
    "/objectives/{node}",
    "/api/v1/events",
    "/api/v1/initiatives",
    "/api/v1/objectives",
]
RESIDENT = ["/account"]
STAFF = [
    "/staff/initiatives",
    "/staff/initiatives/{initiative}",
    "/staff/events",
    "/staff/events/{event}/registrations",
    "/staff/events/{event}/registrations.csv",
    "/staff/report",
]


def populate(app, n: int, user_ids: list[int], owner_id: int) -> None:
    """``n`` initiatives and events with supports, answers, objective links, registrations;
    the owner (the resident whose /account is counted) gets a share of every kind."""
    now = utcnow()
    with app.app_context():
        nodes = db.session.scalars(select(ObjectiveNode.id).order_by(ObjectiveNode.id)).all()
        for i in range(n):
            title = f"Jardin partagé {i}"
            initiative = Initiative(
                title=title,
                summary="Un potager au pied des immeubles.",
                body="Texte",
                commune_code="sceaux" if i % 2 else "bagneux",
                author_id=owner_id if i % 3 == 0 else user_ids[i % len(user_ids)],
                state=ModerationState.PUBLISHED if i % 5 else ModerationState.PENDING,
                status=PublicStatus.UNDER_STUDY if i % 2 else PublicStatus.NEW,
                search_text=search_text_for(title, "Un potager", "Texte"),
                published_at=now - timedelta(days=i),
                support_count=len(user_ids),
            )
            db.session.add(initiative)
            db.session.flush()
            db.session.add(
                InitiativeObjective(initiative_id=initiative.id, objective_id=nodes[i % len(nodes)])
            )
            if i % 2:
                db.session.add(
                    InitiativeStatusChange(
                        initiative_id=initiative.id,
                        status=PublicStatus.UNDER_STUDY,
                        answer="Nous étudions votre proposition.",
                        actor_role="staff",
                    )
                )
            for uid in [*user_ids, owner_id]:
                db.session.add(InitiativeSupport(initiative_id=initiative.id, user_id=uid))
            for past in (False, True):
                start = now + (timedelta(days=-10 - i) if past else timedelta(days=2 + i))
                event = Event(
                    title=f"Atelier {i}",
                    description="Ouvert à tous.",
                    kind=EventKind.ATELIER,
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    place="Centre social",
                    commune_code="sceaux",
                    capacity=len(user_ids),
                    max_seats=2,
                )
                db.session.add(event)
                db.session.flush()
                db.session.execute(
                    event_objectives.insert().values(
                        event_id=event.id, objective_id=nodes[i % len(nodes)]
                    )
                )
                for k, uid in enumerate([*user_ids, owner_id]):
                    db.session.add(
                        Registration(
                            event_id=event.id,
                            user_id=uid,
                            seats=1,
                            state=RegistrationState.WAITLISTED
                            if k >= len(user_ids)
                            else RegistrationState.CONFIRMED,
                        )
                    )
                db.session.add(
                    Registration(event_id=event.id, name="Sans compte", seats=1, state="confirmed")
                )
        db.session.commit()


def _ids(app) -> dict:
    with app.app_context():
        return {
            "initiative": db.session.scalar(
                select(Initiative.id)
                .where(Initiative.state == ModerationState.PUBLISHED)
                .order_by(Initiative.id)
            ),
            "event": db.session.scalar(
                select(Event.id).where(Event.starts_at > utcnow()).order_by(Event.id)
            ),
            "node": db.session.scalar(
                select(ObjectiveNode.code).order_by(ObjectiveNode.id).limit(1)
            ),
        }


def _counts(app, client, auth, count_queries, paths, ids) -> dict:
    adapter = app.url_map.bind("localhost")
    counts = {}
    for template in paths:
        path = template.format(**ids)
        try:
            adapter.match(path.split("?")[0])
        except NotFound:
            continue  # a page of a branch not merged here (the staff report)
        client.get(path)  # warm per-process caches
        with count_queries() as q:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts[template] = q.count
    return counts


def test_query_counts_do_not_grow_with_data(
    app, client, auth, make_user, count_queries, refresh_figures
):
    residents = [make_user() for _ in range(3)]
    owner = make_user()
    staff = make_user(role=Role.ADMIN, scope=None)
    ids_small = [u.id for u in residents]

    populate(app, 3, ids_small, owner.id)
    refresh_figures()  # pages read the stored figures (the cron's), as in production
    ids = _ids(app)
    public_small = _counts(app, client, auth, count_queries, PUBLIC, ids)
    auth.login_as(owner)
    resident_small = _counts(app, client, auth, count_queries, RESIDENT, ids)
    auth.logout()
    auth.login_as(staff)
    staff_small = _counts(app, client, auth, count_queries, STAFF, ids)
    auth.logout()

    more = [make_user() for _ in range(12)]
    populate(app, 30, [u.id for u in more], owner.id)
    refresh_figures()
    public_big = _counts(app, client, auth, count_queries, PUBLIC, ids)
    auth.login_as(owner)
    resident_big = _counts(app, client, auth, count_queries, RESIDENT, ids)
    auth.logout()
    auth.login_as(staff)
    staff_big = _counts(app, client, auth, count_queries, STAFF, ids)

    assert public_big == public_small
    assert resident_big == resident_small
    assert staff_big == staff_small
    # Bounded, not only constant: no page needs more than a handful of queries. The objective
    # node page gathers the most (its node, the tree, indicators for every year since 2024,
    # targets, and the initiatives, events and missions blocks).
    for counts in (public_big, resident_big, staff_big):
        for path, n in counts.items():
            assert n <= (18 if path == "/objectives/{node}" else 15), (path, n)


@pytest.mark.parametrize("path", ["/initiatives?page=999999", "/events?page=999999"])
def test_far_pages_are_answered(client, path):
    """Past the last page: an empty page (or 404), never an error."""
    assert client.get(path).status_code in {200, 404}
