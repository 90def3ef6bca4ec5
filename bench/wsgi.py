"""The application as the benchmark serves it: the real app, plus a bare route (the ceiling).

``gunicorn -c gunicorn.conf.py bench.wsgi:app``. The bare route ``/__bench__/bare`` returns a
fixed string from the same app, workers and server, so the ratio page/bare measures what the
page itself costs. Rate limits are off (one loopback address plays every client), the
configuration otherwise comes from the environment as in production.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from blagis import create_app  # noqa: E402

app = create_app({"RATELIMIT_ENABLED": os.environ.get("BENCH_RATELIMITS") == "1"})

if os.environ.get("BLAGIS_BENCH") == "1":

    @app.route("/__bench__/bare")
    def bench_bare():
        return "ok"
