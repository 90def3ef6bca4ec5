"""A hand-built dataset for the indicators tests, whose figures are worked out by hand.

Paris times, written as they are typed; ``scale`` repeats everything (with new people) so
that the query-count tests can grow the data tenfold.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from blagis.auth.services import create_user
from blagis.extensions import db
from blagis.models import (
    Event,
    EventKind,
    Initiative,
    InitiativeObjective,
    InitiativeStatusChange,
    ModerationState,
    ObjectiveNode,
    PublicStatus,
    Registration,
    RegistrationState,
)
from blagis.timeutils import PARIS


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def build_dataset(scale: int = 1, first: int = 0) -> dict:
    """Events E1..E5 and initiatives I1..I4 (see tests/test_indicators.py for the figures)."""
    nodes = {n.code: n for n in db.session.scalars(select(ObjectiveNode))}
    made = {}
    for k in range(first, first + scale):
        users = [
            create_user(f"person{k}-{i}@example.org", f"Personne {k}-{i}", "a long password 123")
            for i in (1, 2, 3)
        ]
        u1, u2, u3 = users
        db.session.flush()

        def event(title, start, commune, codes, *, drop_in=None, cancelled=False):
            e = Event(
                title=title,
                description="",
                kind=EventKind.CAFE_NUMERIQUE,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                place="Centre social des Blagis",
                commune_code=commune,
                drop_in_count=drop_in,
                cancelled=cancelled,
            )
            e.objectives = [nodes[c] for c in codes]
            db.session.add(e)
            db.session.flush()
            return e

        def reg(e, user=None, seats=1, attended=None, state=RegistrationState.CONFIRMED):
            db.session.add(
                Registration(
                    event_id=e.id,
                    user_id=user.id if user else None,
                    name=None if user else "Mme Sans Compte",
                    phone=None if user else "06 12 34 56 78",
                    seats=seats,
                    state=state,
                    attended=attended,
                )
            )

        e1 = event(
            "Café numérique", paris(2025, 3, 10, 10, 0), "sceaux", ["1.1.1", "1.4.1"], drop_in=5
        )
        reg(e1, u1, 2, True)
        reg(e1, u2, 1, False)
        reg(e1, None, 1, True)
        reg(e1, u3, 1, None, RegistrationState.CANCELLED)
        e2 = event("Réveillon solidaire", paris(2025, 12, 31, 23, 30), "bagneux", ["1.1", "2.1"])
        reg(e2, u1, 1, None)
        reg(e2, None, 3, True)
        e3 = event("Galette", paris(2026, 1, 1, 0, 30), "sceaux", ["1.1.1"], drop_in=4)
        reg(e3, u2, 1, True)
        e4 = event(
            "Annulé", paris(2025, 6, 1, 14, 0), "sceaux", ["1.1.1"], drop_in=10, cancelled=True
        )
        reg(e4, u1, 1, True)
        e5 = event("Sortie", paris(2025, 5, 5, 14, 0), "sceaux", ["2"], drop_in=0)
        reg(e5, u3, 1, True)
        reg(e5, u2, 1, None, RegistrationState.WAITLISTED)

        def initiative(title, commune, codes, state, status, published, answered=None, author=u1):
            i = Initiative(
                title=title,
                summary="Résumé",
                body="Texte",
                commune_code=commune,
                author_id=author.id,  # a name the API must not show
                state=state,
                status=status,
                published_at=published,
                answered_at=answered,
            )
            db.session.add(i)
            db.session.flush()
            for c in codes:
                db.session.add(InitiativeObjective(initiative_id=i.id, objective_id=nodes[c].id))
            if answered:
                db.session.add(
                    InitiativeStatusChange(
                        initiative_id=i.id,
                        status=status,
                        answer="Réponse",
                        actor_role="staff",
                        created_at=answered,
                    )
                )
            return i

        pub, pend = ModerationState.PUBLISHED, ModerationState.PENDING
        i1 = initiative(
            "Bancs",
            "sceaux",
            ["1.1.1", "1.4.1"],
            pub,
            PublicStatus.ACCEPTED,
            paris(2025, 2, 1, 9, 0),
            paris(2025, 4, 1, 9, 0),
        )
        i2 = initiative(
            "Jardin", "bagneux", ["1.1"], pub, PublicStatus.NEW, paris(2025, 7, 1, 9, 0)
        )
        i3 = initiative("Brouillon", "sceaux", ["1.1"], pend, PublicStatus.NEW, None)
        i4 = initiative(
            "Fresque",
            "sceaux",
            ["2.1"],
            pub,
            PublicStatus.DONE,
            paris(2024, 11, 1, 9, 0),
            paris(2025, 1, 15, 9, 0),
        )
        made.update(e1=e1.id, e2=e2.id, e3=e3.id, e4=e4.id, e5=e5.id)
        made.update(i1=i1.id, i2=i2.id, i3=i3.id, i4=i4.id)
    db.session.commit()
    return made
