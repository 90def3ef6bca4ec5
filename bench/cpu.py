"""CPU time per request, in process, with every cache off, beside a bare Flask route.

    python bench/cpu.py --database-url postgresql://postgres@127.0.0.1/blagis_bench_100
    python bench/cpu.py --database-url sqlite:////tmp/bench1.sqlite3 --requests 200
    python bench/cpu.py --database-url ... --profile /objectives   # where one page's time goes

Fill the database first with ``bench/generate.py`` (then ``flask refresh-figures``, as the cron
would: the figures' pages read what it stores). The app is built as in production from the
environment, with every cache off: ``PAGE_CACHE_SECONDS=0`` (kept pages, each session's copy of
the report, ``memoize``), and the two per-process caches of the events domain emptied before
each request (``_FEEDS``, the ``.ics`` feeds; ``_LONGEST``, the longest event's duration); rate
limits off, as in ``bench/wsgi.py``. Two routes are added to the same app: ``/__bench__/bare``
returns a short string (the ceiling: Flask, the test client and the WSGI round trip), and
``/__bench__/layout`` renders the site's layout with nothing in it (what every page pays).

Each page is asked ``--requests`` times (after ``--warmup`` rounds), round-robin over every
page so that a busy moment of the machine falls on all of them alike. Each request calls the
WSGI application as a server would (the environ is built before the clock starts, as gunicorn
builds it outside the app; the session cookie the answers set is sent back, as a browser
would), and the CPU time of this process (``time.process_time``) is measured around that call
and the reading of the body. The median is printed, anonymous and logged in (a resident; the
staff report as ``staff@bench.example``), with the ratio to the bare route's median and
whether it holds the target of issue 16: at most 25× for a page, 10× for the empty layout page.
The database server's own CPU (PostgreSQL is another process) is not counted: this measures
what the application costs. Exits 1 when a target does not hold.
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.generate import PASSWORD, STAFF_EMAIL  # noqa: E402

PAGE_TARGET = 25.0
LAYOUT_TARGET = 10.0
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def build_app(database_url: str):
    from flask import render_template_string

    from blagis import create_app

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "PAGE_CACHE_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
        }
    )

    @app.route("/__bench__/bare")
    def bench_bare():
        return "ok"

    @app.route("/__bench__/layout")
    def bench_layout():
        return render_template_string('{% extends "base.html" %}{% block content %}{% endblock %}')

    return app


def caches_off() -> None:
    """Empty the per-process caches that PAGE_CACHE_SECONDS does not govern."""
    from blagis.events import services as event_services
    from blagis.events import views as event_views

    event_views._FEEDS.clear()
    event_services.forget_longest_event()


def ids(app) -> dict:
    """An initiative and an event to show (the most supported, the busiest, as bench/run.py)
    and a resident to log in as."""
    import sqlalchemy as sa

    from blagis.extensions import db
    from blagis.models import Initiative, Registration, User

    with app.app_context():
        resident = db.session.scalar(
            sa.select(User.email).where(User.email.like("habitant%")).order_by(User.id).limit(1)
        )
        initiative = db.session.scalar(
            sa.select(Initiative.id)
            .where(Initiative.state == "published")
            .order_by(Initiative.support_count.desc())
            .limit(1)
        )
        event = db.session.scalar(
            sa.select(Registration.event_id)
            .group_by(Registration.event_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        )
        db.session.remove()
    return {"initiative": initiative, "event": event, "resident": resident}


class Caller:
    """Calls the WSGI app with a GET as a server would, keeping the session cookie it sets."""

    def __init__(self, app, cookie: str | None = None):
        self.app = app
        self.cookie = cookie
        self.base_url = app.config["BLAGIS_BASE_URL"]

    def get(self, path: str) -> tuple[int, float]:
        """(status, CPU seconds spent in the app for this request)."""
        from werkzeug.test import EnvironBuilder

        headers = {"Cookie": f"session={self.cookie}"} if self.cookie else {}
        builder = EnvironBuilder(path=path, base_url=self.base_url, headers=headers)
        environ = builder.get_environ()
        builder.close()
        seen = {}

        def start_response(status, response_headers, exc_info=None):
            seen["status"], seen["headers"] = status, response_headers

        started = time.process_time()
        body = self.app(environ, start_response)
        try:
            b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        spent = time.process_time() - started
        for name, value in seen["headers"]:
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0].removeprefix("session=")
        return int(seen["status"].split()[0]), spent


def login(app, email: str) -> Caller:
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    match = CSRF_RE.search(page)
    data = {"email": email, "password": PASSWORD}
    if match:
        data["csrf_token"] = match.group(1)
    response = client.post("/auth/login", data=data)
    if response.status_code != 302:
        raise SystemExit(f"log-in of {email} failed ({response.status_code})")
    return Caller(app, client.get_cookie("session").value)


def targets(info: dict) -> list[tuple[str, str, tuple[str, ...], float]]:
    """(name, path, who asks — "anonymous", "resident", "staff" —, target ratio)."""
    both = ("anonymous", "resident")
    return [
        ("bare route", "/__bench__/bare", both, 0),
        ("empty layout page", "/__bench__/layout", both, LAYOUT_TARGET),
        ("/", "/", both, PAGE_TARGET),
        ("/initiatives", "/initiatives", both, PAGE_TARGET),
        ("/initiatives?q=jardin", "/initiatives?q=jardin", both, PAGE_TARGET),
        ("/initiatives/<id>", f"/initiatives/{info['initiative']}", both, PAGE_TARGET),
        ("/events", "/events", both, PAGE_TARGET),
        ("/events/<id>", f"/events/{info['event']}", both, PAGE_TARGET),
        ("/objectives", "/objectives", both, PAGE_TARGET),
        ("/api/v1/events", "/api/v1/events", both, PAGE_TARGET),
        ("/events.ics", "/events.ics", both, PAGE_TARGET),
        ("/staff/report", "/staff/report", ("staff",), PAGE_TARGET),
    ]


def measure(app, clients: dict, rows, requests: int, warmup: int) -> dict:
    """{(name, who): [CPU ms per request]}, round-robin over every page."""
    times: dict[tuple[str, str], list[float]] = {}
    for round_no in range(warmup + requests):
        for name, path, whos, _target in rows:
            for who in whos:
                caches_off()
                status, spent = clients[who].get(path)
                if status != 200:
                    raise SystemExit(f"{path} as {who}: {status}")
                if round_no >= warmup:
                    times.setdefault((name, who), []).append(spent * 1000)
    return times


def profile(app, client, path: str, requests: int) -> str:
    """The functions one page spends its time in (cProfile, cumulative), over ``requests``."""
    client.get(path)
    profiler = cProfile.Profile()
    for _ in range(requests):
        caches_off()
        profiler.enable()
        client.get(path)  # (the environ's building is profiled too: a small share)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    return out.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--requests", type=int, default=200, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=5, help="rounds not measured")
    parser.add_argument("--only", default="", help="comma-separated page names (and the bare)")
    parser.add_argument("--profile", metavar="PATH", help="profile one path instead")
    parser.add_argument(
        "--as",
        dest="who",
        default="anonymous",
        choices=("anonymous", "resident", "staff"),
        help="who asks (--profile)",
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    os.environ.setdefault("BLAGIS_ENV", "development")  # no SECRET_KEY needed
    app = build_app(args.database_url)
    info = ids(app)
    clients = {
        "anonymous": Caller(app),
        "resident": login(app, info["resident"]),
        "staff": login(app, STAFF_EMAIL),
    }
    if args.profile:
        print(profile(app, clients[args.who], args.profile, args.requests))
        return 0

    rows = targets(info)
    if args.only:
        wanted = {w.strip() for w in args.only.split(",")}
        rows = [r for r in rows if r[0] in wanted or r[0] == "bare route"]
    load_before = os.getloadavg()
    times = measure(app, clients, rows, args.requests, args.warmup)
    medians = {key: statistics.median(values) for key, values in times.items()}

    dialect = "postgresql" if args.database_url.startswith("postg") else "sqlite"
    print(
        f"database {dialect}; {args.requests} requests per page after {args.warmup} rounds; "
        f"every cache off; load average before {load_before[0]:.2f}, after "
        f"{os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)"
    )
    print()
    print("| page | anonymous ms | × bare | holds | logged in ms | × bare | holds |")
    print("| --- | ---: | ---: | --- | ---: | ---: | --- |")
    failed = False
    for name, _path, whos, target in rows:
        cells = []
        for column in ("anonymous", "logged in"):
            who = next((w for w in whos if (w == "anonymous") == (column == "anonymous")), None)
            if who is None:
                cells += ["—", "—", "—"]
                continue
            ms = medians[(name, who)]
            # Logged in (the staff report too) against the bare route asked with a session.
            bare = medians[("bare route", "anonymous" if who == "anonymous" else "resident")]
            ratio = ms / bare
            if not target:
                cells += [f"{ms:.3f}", "1", ""]
                continue
            holds = ratio <= target
            failed |= not holds
            cells += [f"{ms:.2f}", f"{ratio:.1f}", f"{'yes' if holds else 'no'} (≤ {target:g}×)"]
        label = f"{name} (staff)" if whos == ("staff",) else name
        print(f"| {label} | " + " | ".join(cells) + " |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
