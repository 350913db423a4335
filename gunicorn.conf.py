"""gunicorn settings shared by `manage.py up`, docker-compose, the tests and the benchmarks.

gunicorn reads this file from the working directory; command-line flags override it.
"""

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
