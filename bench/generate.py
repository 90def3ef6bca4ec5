"""Fill a database with a realistic Blagis dataset, in bulk, for the benchmark.

    python bench/generate.py --scale 1   --database-url sqlite:////tmp/bench.sqlite3
    python bench/generate.py --scale 100 --database-url postgresql://postgres@127.0.0.1/blagis_bench_100

Scale 1 is the quarter (3 000 accounts, 500 initiatives, 300 events, 10 000 registrations);
scale 100 the territory (300 000 accounts, 50 000 initiatives, 30 000 events, 1 000 000
registrations, 20 000 missions). The schema is rebuilt from the migrations (the database is
emptied first), the contract loaded, then every table written in bulk: COPY on PostgreSQL
(psycopg), executemany batches of SQLAlchemy Core ``insert()`` on SQLite.

Every account shares one precomputed argon2 hash of ``bench.PASSWORD`` (hashing 300 000
passwords would take hours and measure nothing). Known accounts for the benchmark:
``staff@bench.example`` (admin, every commune) and ``habitant<N>@bench.example``.

Missions: written only when the ``missions`` table exists in the models (the volunteers
work); the columns follow ``blagis/models/volunteer.py`` as merged on main at 19:10 (see
``missions_rows``; check it again if that model changes).
"""

import argparse
import math
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402

PASSWORD = "bench-password-2026"  # noqa: S105 - benchmark accounts only
STAFF_EMAIL = "staff@bench.example"
BATCH = 10_000

BASE = {"users": 3_000, "initiatives": 500, "events": 300, "registrations": 10_000, "missions": 200}

FIRST = "Amina Bruno Chloé David Élodie Fatou Gabriel Hugo Inès Jules Karim Léa Marc".split()
LAST = "Martin Bernard Diallo Nguyen Moreau Traoré Petit Lefèvre Haddad Garcia Roux".split()
TOPICS = [
    ("Un banc devant l’école", "Des bancs pour attendre les enfants à la sortie des classes."),
    ("Éclairage du passage", "Le passage entre les deux tours est très sombre le soir."),
    ("Jardin partagé", "Transformer la pelouse au pied de l’immeuble en potager collectif."),
    ("Cours de français", "Des cours de français pour adultes le samedi matin."),
    ("Ramassage des encombrants", "Un jour fixe par mois pour les encombrants."),
    ("Aire de jeux rénovée", "Les jeux du square sont abîmés et dangereux."),
    ("Aide aux devoirs", "Un soutien scolaire gratuit après l’école."),
    ("Piste cyclable", "Relier le quartier à la gare par une piste sécurisée."),
    ("Fête de quartier", "Une grande fête avec les associations en juin."),
    ("Composteur collectif", "Un composteur pour les déchets de cuisine."),
]
EVENT_TITLES = {
    "cafe_benevoles": "Café des bénévoles",
    "cafe_numerique": "Café numérique : vos démarches en ligne",
    "atelier": "Atelier cuisine du monde",
    "repair_cafe": "Repair café",
    "rencontre": "Rencontre avec les élus",
    "sortie": "Sortie au parc de Sceaux",
    "autre": "Permanence d’accès aux droits",
}
START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2027, 12, 31, tzinfo=UTC)
NOW = datetime.now(UTC)


def rand_date(rng: random.Random, start=START, end=END) -> datetime:
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


class Writer:
    """Bulk insert of row tuples: COPY on PostgreSQL, Core executemany on SQLite."""

    def __init__(self, engine: sa.Engine, metadata: sa.MetaData):
        self.engine = engine
        self.metadata = metadata
        self.pg = engine.dialect.name == "postgresql"

    def write(self, table_name: str, columns: list[str], rows) -> int:
        started = time.perf_counter()
        n = 0
        with self.engine.begin() as conn:
            if self.pg:
                raw = conn.connection.driver_connection
                cols = ", ".join(columns)
                with raw.cursor() as cur, cur.copy(f"COPY {table_name} ({cols}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row(row)
                        n += 1
            else:
                # The DB-API's executemany with values already in SQLAlchemy's SQLite storage
                # format (naive UTC text datetimes): Core's per-row type processing is ~10× slower.
                raw = conn.connection.driver_connection
                marks = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO {table_name} ({', '.join(columns)}) VALUES ({marks})"
                batch = []
                for row in rows:
                    batch.append(tuple(_sqlite_value(v) for v in row))
                    if len(batch) >= BATCH:
                        raw.executemany(sql, batch)
                        n += len(batch)
                        batch = []
                if batch:
                    raw.executemany(sql, batch)
                    n += len(batch)
        print(f"  {table_name:<28} {n:>9} rows  {time.perf_counter() - started:6.1f} s", flush=True)
        return n


def build_schema(app) -> None:
    from flask_migrate import upgrade

    from blagis.extensions import db
    from blagis.objectives.services import load_contract

    engine = db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        else:
            meta = sa.MetaData()
            meta.reflect(bind=conn)
            meta.drop_all(bind=conn)
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()
    load_contract()
    db.session.commit()


MISSION_TITLES = ["Accueil du public", "Installation de la salle", "Tenue du stand",
                  "Accompagnement des enfants", "Rangement", "Préparation du goûter"]  # fmt: skip


def missions_rows(n: int, n_users: int, n_events: int, communes, cweights, rng):
    """Missions (volunteers model: ``blagis/models/volunteer.py`` after the merge) and a few
    sign-ups each. Written only when the tables exist; columns as in that model."""
    missions, signups = [], []
    for i in range(1, n + 1):
        starts = rand_date(rng).replace(minute=0, second=0, microsecond=0)
        needed = rng.randint(1, 12)
        missions.append(
            (i, rng.randint(1, n_events) if rng.random() < 0.6 else None,
             rng.choice(MISSION_TITLES), "Merci d’avance !", starts,
             starts + timedelta(hours=rng.choice((2, 3, 4))), needed,
             rng.choices(communes, cweights)[0], "Centre social", False,
             starts - timedelta(days=20), starts - timedelta(days=20))
        )  # fmt: skip
        for uid in rng.sample(range(2, n_users + 1), rng.randint(0, needed)):
            state = "withdrawn" if rng.random() < 0.1 else "confirmed"
            signups.append((i, uid, state, starts - timedelta(days=rng.randint(1, 19))))
    mission_cols = ["id", "event_id", "title", "description", "starts_at", "ends_at", "needed",
                    "commune_code", "place", "cancelled", "created_at", "updated_at"]  # fmt: skip
    signup_cols = ["mission_id", "user_id", "state", "created_at"]
    return mission_cols, missions, signup_cols, signups


def generate(app, scale: int, seed: int = 2026) -> dict:
    from argon2 import PasswordHasher

    from blagis.extensions import db
    from blagis.initiatives.services import search_text_for
    from blagis.models import Commune, ObjectiveNode

    rng = random.Random(seed)
    sizes = {k: v * scale for k, v in BASE.items()}
    timings = {}
    t0 = time.perf_counter()
    print(f"schema (migrations + contract) on {db.engine.dialect.name}", flush=True)
    build_schema(app)
    timings["schema"] = time.perf_counter() - t0

    communes = [c.code for c in db.session.scalars(sa.select(Commune).order_by(Commune.position))]
    actions = (
        db.session.scalars(sa.select(ObjectiveNode.id).where(ObjectiveNode.level == "action")).all()
        or db.session.scalars(sa.select(ObjectiveNode.id)).all()
    )
    db.session.remove()
    # The quarter's communes get most of the activity (a skewed but total distribution).
    cweights = [1 / (i + 1) for i in range(len(communes))]
    metadata = db.metadata
    w = Writer(db.engine, metadata)
    # Parameters close to argon2-cffi's defaults: log-ins cost what they cost in production.
    pw_hash = PasswordHasher().hash(PASSWORD)

    t1 = time.perf_counter()
    n_users = sizes["users"]

    def users():
        for i in range(1, n_users + 1):
            created = rand_date(rng, START, NOW)
            if i == 1:
                email, role, scope = STAFF_EMAIL, "admin", None
            elif i <= 1 + max(5, n_users // 500):
                email, role = f"agent{i}@bench.example", "staff"
                scope = communes[i % len(communes)]
            else:
                email, role, scope = f"habitant{i}@bench.example", "resident", None
                if i % 20 == 0:
                    role = "volunteer"
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)[0]}."
            commune = rng.choices(communes, cweights)[0]
            yield (
                i, email, name, pw_hash, role, commune, scope, rng.choice(("fr", "fr", "en")),
                True, True, created, created, created,
            )  # fmt: skip

    w.write(
        "users",
        [
            "id",
            "email",
            "display_name",
            "password_hash",
            "role",
            "commune_code",
            "scope_commune_code",
            "locale",
            "notify_reminders",
            "notify_missions",
            "email_confirmed_at",
            "created_at",
            "updated_at",
        ],  # fmt: skip
        users(),
    )

    # --- initiatives, supports, status changes, objective links ---------------------------
    n_init = sizes["initiatives"]
    states = (
        ["published"] * 80
        + ["pending"] * 8
        + ["rejected"] * 5
        + ["hidden"] * 2
        + ["changes_requested"] * 5
    )
    statuses = (
        ["new"] * 45
        + ["under_study"] * 20
        + ["accepted"] * 10
        + ["in_progress"] * 10
        + ["done"] * 8
        + ["not_retained"] * 7
    )
    init_rows, supports, changes, links = [], [], [], []
    for i in range(1, n_init + 1):
        title, summary = rng.choice(TOPICS)
        commune = rng.choices(communes, cweights)[0]
        title = f"{title} ({commune.replace('-', ' ').title()} #{i})"
        body = summary + " " + " ".join(rng.choice(TOPICS)[1] for _ in range(3))
        created = rand_date(rng, START, min(END, NOW))
        state = rng.choice(states)
        published = created + timedelta(days=rng.randint(1, 5)) if state == "published" else None
        status = rng.choice(statuses) if state == "published" else "new"
        answered = None
        if status != "new":
            answered = published + timedelta(days=rng.randint(5, 60))
            changes.append(
                (i, status, "Merci pour votre proposition : nous l’étudions.", "staff", commune,
                 answered)
            )  # fmt: skip
        n_sup = 0
        if state == "published":
            n_sup = min(n_users - 1, int(rng.paretovariate(1.2)) - 1)
            for uid in rng.sample(range(2, n_users + 1), n_sup):
                supports.append((i, uid, published + timedelta(hours=rng.randint(1, 2000))))
        for oid in rng.sample(actions, rng.choice((0, 1, 1, 2))):
            links.append((i, oid))
        init_rows.append(
            (i, title[:150], summary, body, commune, rng.randint(2, n_users), state,
             "Merci de préciser le lieu." if state in {"rejected", "changes_requested"} else None,
             status, published, answered, n_sup, search_text_for(title, summary, body),
             created, answered or published or created)
        )  # fmt: skip
    w.write(
        "initiatives",
        [
            "id",
            "title",
            "summary",
            "body",
            "commune_code",
            "author_id",
            "state",
            "moderation_reason",
            "status",
            "published_at",
            "answered_at",
            "support_count",
            "search_text",
            "created_at",
            "updated_at",
        ],  # fmt: skip
        iter(init_rows),
    )
    w.write("initiative_supports", ["initiative_id", "user_id", "created_at"], iter(supports))
    w.write(
        "initiative_status_changes",
        ["initiative_id", "status", "answer", "actor_role", "actor_commune_code", "created_at"],
        iter(changes),
    )
    w.write("initiative_objectives", ["initiative_id", "objective_id"], iter(links))
    del init_rows, supports, changes, links

    # --- partners, events, objective links, registrations ---------------------------------
    partners = ["Centre social des Blagis", "CAF des Hauts-de-Seine", "Association Lire Ensemble",
                "Maison des jeunes", "Médiathèque", "Régie de quartier"]  # fmt: skip
    w.write(
        "partners",
        ["id", "name", "created_at", "updated_at"],
        ((i + 1, p, START, START) for i, p in enumerate(partners)),
    )
    n_events = sizes["events"]
    kinds = list(EVENT_TITLES)
    event_rows, event_links, regs = [], [], []
    n_regs = sizes["registrations"]
    # Registrations per event: skewed (a few popular events), scaled to the wanted total.
    weights = [rng.lognormvariate(0, 1) for _ in range(n_events)]
    total_w = sum(weights)
    reg_counts = [min(n_users - 2, int(n_regs * x / total_w)) for x in weights]
    reg_counts[0] += n_regs - sum(reg_counts)
    for i in range(1, n_events + 1):
        kind = rng.choice(kinds)
        starts = rand_date(rng).replace(minute=0, second=0, microsecond=0)
        ends = starts + timedelta(hours=rng.choice((1, 2, 2, 3)))
        commune = rng.choices(communes, cweights)[0]
        k = reg_counts[i - 1]
        capacity = None if rng.random() < 0.3 else max(1, int(k * rng.uniform(0.7, 1.3)))
        max_seats = 1 if rng.random() < 0.7 else 4
        cancelled = rng.random() < 0.03
        event_rows.append(
            (i, EVENT_TITLES[kind], "Ouvert à toutes et à tous, gratuit.", kind, starts, ends,
             "Centre social, 2 rue des Blagis", commune, rng.choice((None, *range(1, 7))),
             capacity, max_seats, cancelled, 0, None, starts - timedelta(days=30),
             starts - timedelta(days=30))
        )  # fmt: skip
        for oid in rng.sample(actions, rng.choice((0, 1, 1, 2))):
            event_links.append((i, oid))
        taken = 0
        past = starts < NOW
        for uid in rng.sample(range(2, n_users + 1), k):
            seats = 1 if max_seats == 1 else rng.choice((1, 1, 2, 3))
            created = starts - timedelta(hours=rng.randint(2, 700))
            if rng.random() < 0.08:
                state, cancelled_at = "cancelled", created + timedelta(hours=1)
            elif capacity is None or taken + seats <= capacity:
                state, cancelled_at = "confirmed", None
                taken += seats
            else:
                state, cancelled_at = "waitlisted", None
            attended = (rng.random() < 0.85) if (past and state == "confirmed") else None
            regs.append((i, uid, seats, state, attended, created, cancelled_at, True))
    w.write(
        "events",
        [
            "id",
            "title",
            "description",
            "kind",
            "starts_at",
            "ends_at",
            "place",
            "commune_code",
            "partner_id",
            "capacity",
            "max_seats",
            "cancelled",
            "sequence",
            "drop_in_count",
            "created_at",
            "updated_at",
        ],  # fmt: skip
        iter(event_rows),
    )
    w.write("event_objectives", ["event_id", "objective_id"], iter(event_links))
    w.write(
        "registrations",
        [
            "event_id",
            "user_id",
            "seats",
            "state",
            "attended",
            "created_at",
            "cancelled_at",
            "reminders_ok",
        ],
        iter(regs),
    )
    del event_rows, event_links, regs

    if "missions" in metadata.tables:
        mcols, missions, scols, signups = missions_rows(
            sizes["missions"], n_users, n_events, communes, cweights, rng
        )
        w.write("missions", mcols, iter(missions))
        if "mission_signups" in metadata.tables:
            w.write("mission_signups", scols, iter(signups))
    else:
        print("  missions: no such table in this branch (written once the volunteers model exists)")

    if w.pg:
        with db.engine.begin() as conn:
            for table in metadata.sorted_tables:
                if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                    conn.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                        )
                    )
    timings["rows"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    # As autovacuum would: statistics for the planner, visibility map for index-only scans.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE" if w.pg else "ANALYZE"))
    timings["analyze"] = time.perf_counter() - t2
    return timings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    from blagis import create_app

    app = create_app(
        {"DATABASE_URL": args.database_url, "BLAGIS_ENV": "development", "SECRET_KEY": "bench"}
    )
    started = time.perf_counter()
    with app.app_context():
        timings = generate(app, args.scale, args.seed)
    total = time.perf_counter() - started
    print(
        "timings: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        + f", total {total:.1f} s ({math.ceil(total / 60)} min)"
    )


if __name__ == "__main__":
    main()
