"""gunicorn settings shared by `manage.py up`, docker-compose, the tests and the benchmarks.

gunicorn reads this file from the working directory; command-line flags override it.
"""

import gc
import os

bind = os.environ.get("SEEDBOARD_BIND", "127.0.0.1:8000")
# Sync workers, four per core: a request spends much of its time waiting for PostgreSQL
# (COPY, commit), and bench/ingest.py ran 8 clients ~1.5x faster with 4 per core than with 2.
workers = int(os.environ.get("WEB_CONCURRENCY", str(4 * (os.cpu_count() or 1))))
worker_class = "sync"
# Load Django once in the master: workers fork ready, and the first requests are not slow.
preload_app = True
timeout = 120
graceful_timeout = 30
# Unlimited here, bounded in Django: gunicorn's largest finite limit is 8190 bytes (it clamps
# anything above), less than a history or curves request naming its 200 runs or variants
# needs (about 8.3 KB). server/core/middleware.py answers a JSON 414 beyond
# SEEDBOARD_MAX_QUERY_STRING (32 KB) before anything parses the query, and Django caps the
# number of parameters (DATA_UPLOAD_MAX_NUMBER_FIELDS, 400 beyond). A reverse proxy in front
# should cap the request line too (nginx: large_client_header_buffers).
limit_request_line = 0
accesslog = None
loglevel = os.environ.get("SEEDBOARD_LOG_LEVEL", "warning").lower()


def when_ready(server):
    """Import every view in the master, so the workers fork with Django, DRF and Altair loaded.

    Django reads the URL configuration, and with it the views, on the first request: without this
    each worker would import them after the fork, slowly and outside the freeze below.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns


def pre_fork(server, worker):
    """Move the objects loaded so far out of the garbage collector's reach (`gc.freeze`).

    Django, DRF and Altair leave about 180,000 long-lived objects, and a full collection walks
    them all: about 95 ms on an idle 2-core machine, several times that under load, paid by
    whichever request triggers it. Frozen, a full collection walks only what the worker made.
    The workers also keep sharing those pages with the master (collections no longer write them).
    """
    gc.freeze()
