"""Gunicorn settings for Blagis: ``gunicorn -c gunicorn.conf.py "blagis:create_app()"``.

Everything tunable comes from the environment (docs/deploy.md has the reference):

- ``GUNICORN_BIND`` (default ``127.0.0.1:8000``: the reverse proxy in front talks to it),
- ``WEB_CONCURRENCY`` worker processes (default 2 × CPUs + 1),
- ``GUNICORN_THREADS`` threads per worker (default 4; ``gthread`` workers keep connections
  alive and let a worker wait on the database for one request while serving another),
- ``GUNICORN_TIMEOUT`` seconds before a stuck worker is killed and replaced (default 30),
- ``GUNICORN_ACCESSLOG`` access log file, ``-`` for stdout (the default), empty for none.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (plus jitter): bounds slow memory growth.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 2000)
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# The proxy sets X-Forwarded-*; only trust it from the proxy's own address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
