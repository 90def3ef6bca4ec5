"""Does ``POST /auth/reset`` take as long for an unknown address as for an account's?

Not a test (timings vary with the machine): a measurement to run by hand after a change to the
password-reset path (docs/security.md). It builds the app on a fresh database, makes one
account, then sends the two kinds of request in turn through the test client and prints each
kind's median and the difference::

    .venv/bin/python bench/reset_timing.py                      # a temporary SQLite file
    .venv/bin/python bench/reset_timing.py --database-url postgresql://postgres@127.0.0.1/x
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="an empty database (default: temporary SQLite)")
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from blagis import create_app
    from blagis.auth.services import create_user
    from blagis.extensions import db

    url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "reset.sqlite3")
    app = create_app(
        {
            "SECRET_KEY": "timing",
            "BLAGIS_ENV": "testing",
            "DATABASE_URL": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "BLAGIS_BASE_URL": "http://blagis.test",
        }
    )
    with app.app_context():
        upgrade()
        create_user("known@example.org", "Known", "a long enough password")
        db.session.commit()
    client = app.test_client()
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(args.rounds + 20):
        for kind in ("known", "unknown") if i % 2 else ("unknown", "known"):
            start = time.perf_counter()
            response = client.post("/auth/reset", data={"email": f"{kind}@example.org"})
            elapsed = time.perf_counter() - start
            assert response.status_code == 302, response.status_code
            if i >= 20:  # warm-up: templates compiled, connections opened
                times[kind].append(elapsed * 1000)
    known, unknown = (statistics.median(times[k]) for k in ("known", "unknown"))
    print(f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, {args.rounds} rounds")
    print(f"known account   median {known:6.2f} ms")
    print(f"unknown address median {unknown:6.2f} ms")
    print(f"difference             {known - unknown:+6.2f} ms")


if __name__ == "__main__":
    main()
