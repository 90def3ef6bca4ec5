"""Serve the app on a free loopback port for tests that need a real server process.

Usage: ``python tests/serve_app.py DATABASE_URL``; prints ``PORT <n>`` once listening. CSRF
stays on (clients fetch real tokens); rate limits are off so one address can act for many.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from werkzeug.serving import make_server  # noqa: E402

from blagis import create_app  # noqa: E402
from tests.conftest import test_config  # noqa: E402


def main() -> None:
    app = create_app(test_config(sys.argv[1], WTF_CSRF_ENABLED=True))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
