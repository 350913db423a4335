"""The web process's guard on the database: a statement_timeout on its PostgreSQL connections.

Only web connections get it (server/wsgi.py installs `web_statement_timeout_install`): Celery
workers, migrations, management commands and the benchmarks run long statements on purpose.
It is a session setting made once per new connection, so it holds for the connection's whole
life under CONN_MAX_AGE at the cost of one round trip per connection, not per request. (Behind
a pooler in transaction mode, a session SET would leak to other clients: give the web role
`ALTER ROLE ... SET statement_timeout` there instead.) A cancelled statement becomes a 503
`query_timeout` error in server/core/errors.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created


def statement_timeout_apply(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    timeout = settings.SEEDBOARD_STATEMENT_TIMEOUT_MS
    if connection.vendor != "postgresql" or not timeout:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{int(timeout)}ms"])


def web_statement_timeout_install() -> None:
    connection_created.connect(statement_timeout_apply, dispatch_uid="seedboard-web-statement-timeout")
