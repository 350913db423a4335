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
# Comparison charts put many run ids in one query string; Django still caps the number of
# parameters (DATA_UPLOAD_MAX_NUMBER_FIELDS) and answers 400 beyond it.
limit_request_line = 0
accesslog = None
loglevel = os.environ.get("SEEDBOARD_LOG_LEVEL", "warning").lower()
