"""EXPLAIN ANALYZE the listing queries of the app on a generated PostgreSQL database.

    python bench/explain.py --database-url postgresql://postgres@127.0.0.1/blagis_bench_100

The statements are the app's own (``published_query``, ``events_query``, ``queue_query``, the
staff events list, the COUNT that ``db.paginate`` adds, the API keyset pages), run through
SQLAlchemy so that every parameter is bound as in production; each is explained ``--runs``
times and the median server-side execution time printed with the indexes the plan used (or
"Seq Scan" when it read a whole table). Read-only; run it after ``bench/generate.py``.
"""

import argparse
import json
import os
import statistics
import sys
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402


@contextmanager
def explaining(engine):
    """Prefix the next statements with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)."""

    def before(conn, cursor, statement, parameters, context, executemany):
        return "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters

    sa.event.listen(engine, "before_cursor_execute", before, retval=True)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def _walk(node, found: list[str]) -> None:
    kind = node["Node Type"]
    if "Index Name" in node:
        found.append(f"{kind} {node['Index Name']}")
    elif kind in ("Seq Scan", "Bitmap Heap Scan") and "Relation Name" in node:
        if kind == "Seq Scan":
            found.append(f"Seq Scan {node['Relation Name']}")
    elif kind in ("Sort", "Incremental Sort"):
        found.append(kind)
    for child in node.get("Plans", []):
        _walk(child, found)


def explain(engine, statement, runs: int) -> tuple[float, str]:
    times, plan = [], None
    with engine.connect() as conn:
        for _ in range(runs):
            with explaining(engine):
                result = conn.execute(statement)
                raw = result.cursor.fetchone()[0]
            doc = raw if isinstance(raw, list) else json.loads(raw)
            times.append(doc[0]["Execution Time"])
            plan = doc[0]["Plan"]
    found: list[str] = []
    _walk(plan, found)
    return statistics.median(times), ", ".join(dict.fromkeys(found))


def statements(app):
    """(name, Select) pairs: every listing the public pages, the APIs and staff queues run."""
    from blagis.events import services as events
    from blagis.initiatives import services as initiatives
    from blagis.models import Event, utcnow
    from blagis.objectives.services import subtree_codes

    def count(query):
        return sa.select(sa.func.count()).select_from(query.order_by(None).subquery())

    filters = initiatives.ListFilters
    page = initiatives.PER_PAGE
    deep = 1000 * page  # what ?page=1001 asks for
    cases = [
        ("initiatives newest p1", initiatives.published_query(filters()).limit(page)),
        ("initiatives newest COUNT", count(initiatives.published_query(filters()))),
        (
            "initiatives newest OFFSET 20000",
            initiatives.published_query(filters()).limit(page).offset(deep),
        ),
        (
            "initiatives supported p1",
            initiatives.published_query(filters(sort="supported")).limit(page),
        ),
        (
            "initiatives answered p1",
            initiatives.published_query(filters(sort="answered")).limit(page),
        ),
        (
            "initiatives status=done p1",
            initiatives.published_query(filters(status="done")).limit(page),
        ),
        (
            "initiatives commune p1",
            initiatives.published_query(filters(commune="sceaux")).limit(page),
        ),
        (
            "initiatives objective=2 p1",
            initiatives.published_query(filters(objective="2")).limit(page),
        ),
        ("initiatives q=jardin p1", initiatives.published_query(filters(q="jardin")).limit(page)),
        ("initiatives q=jardin COUNT", count(initiatives.published_query(filters(q="jardin")))),
        ("initiatives q=xyzzy COUNT", count(initiatives.published_query(filters(q="xyzzy")))),
        (
            "initiatives q=ecole sceaux COUNT",
            count(initiatives.published_query(filters(q="ecole sceaux"))),
        ),
    ]
    session = app.extensions["sqlalchemy"].session
    if hasattr(initiatives, "page_after"):  # the API's keyset pages (the same depth)
        for sort in initiatives.SORTS:
            query = initiatives.published_query(filters(sort=sort))
            last = session.scalars(query.offset(deep - 1).limit(1)).first()
            if last is not None:
                cursor = initiatives.cursor_after(last, sort, 1001)
                after, _page = initiatives.page_after(query, sort, cursor)
                cases.append((f"initiatives {sort} keyset at 20000", after.limit(page)))
    upcoming = events.events_query()
    past = events.events_query(past=True)
    cases += [
        ("events upcoming p1", upcoming.limit(20)),
        ("events upcoming COUNT", count(upcoming)),
        ("events past p1", past.limit(20)),
        ("events past COUNT", count(past)),
        ("events past OFFSET 2000", past.limit(20).offset(2000)),
        (
            "events past OFFSET 2000 + kind",
            events.events_query(kind="atelier", past=True).limit(20).offset(2000),
        ),
        ("events upcoming kind", events.events_query(kind="atelier").limit(20)),
        ("events upcoming commune", events.events_query(commune="bagneux").limit(20)),
        ("events past commune", events.events_query(commune="bagneux", past=True).limit(20)),
        (
            "events upcoming objective=3",
            events.events_query(objective_codes=subtree_codes("3")).limit(20),
        ),
    ]
    if hasattr(events, "page_after"):
        last = session.scalars(past.offset(1999).limit(1)).first()
        if last is not None:
            after, _page = events.page_after(past, True, events.cursor_after(last, True, 101))
            cases.append(("events past keyset at 2000", after.limit(20)))
    staff = SimpleNamespace(scope_commune_code=None, is_admin=True)
    scoped = SimpleNamespace(scope_commune_code="sceaux", is_admin=False)
    for state in ("pending", "reported", "all", "published"):
        query = initiatives.queue_query(staff, state)
        cases.append((f"staff queue {state} p1", query.limit(50)))
        cases.append((f"staff queue {state} COUNT", count(query)))
    cases.append(
        ("staff queue pending sceaux p1", initiatives.queue_query(scoped, "pending").limit(50))
    )
    now = utcnow()
    floor = now - timedelta(seconds=events.longest_event_seconds())
    staff_events = (
        sa.select(Event)
        .where(Event.ends_at >= now, Event.starts_at >= floor)
        .order_by(Event.starts_at, Event.id)
    )
    staff_past = (
        sa.select(Event)
        .where(Event.ends_at < now, Event.starts_at < now)
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    cases += [
        ("staff events upcoming p1", staff_events.limit(20)),
        ("staff events upcoming COUNT", count(staff_events)),
        ("staff events past p1", staff_past.limit(20)),
    ]
    return cases


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated substrings of query names")
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("a PostgreSQL --database-url is required")
    os.environ.setdefault("BLAGIS_ENV", "development")
    from blagis import create_app
    from blagis.extensions import db

    app = create_app({"DATABASE_URL": args.database_url, "TESTING": False})
    wanted = [w for w in args.only.split(",") if w]
    with app.test_request_context():
        engine = db.engine
        print("| query | plan (indexes used) | ms (median) |")
        print("|---|---|---|")
        for name, statement in statements(app):
            if wanted and not any(w in name for w in wanted):
                continue
            ms, plan = explain(engine, statement, args.runs)
            print(f"| {name} | {plan} | {ms:.2f} |", flush=True)


if __name__ == "__main__":
    main()
