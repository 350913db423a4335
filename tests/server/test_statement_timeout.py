"""The web process's statement_timeout: set on its connections only, and a cancelled query is a 503 JSON error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from django.test import override_settings

from server.core.database import statement_timeout_apply

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")


def statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return str(cursor.fetchone()[0])


@contextmanager
def table_locked(table: str) -> Iterator[None]:
    """Another session holds `table` exclusively while inside, so queries on it wait."""
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, user=settings["USER"],
        password=settings["PASSWORD"] or None, dbname=settings["NAME"],
    )  # fmt: skip
    try:
        other.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        other.rollback()
        other.close()


@pytest.fixture
def reset_timeout():
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")


@override_settings(SEEDBOARD_STATEMENT_TIMEOUT_MS=1234)
def test_a_web_connection_gets_the_configured_statement_timeout(db, reset_timeout):
    # Connections of workers, migrations and tests never get it: only server/wsgi.py installs it.
    assert statement_timeout() == "0"
    statement_timeout_apply(sender=None, connection=connection)
    assert statement_timeout() == "1234ms"


@override_settings(SEEDBOARD_STATEMENT_TIMEOUT_MS=0)
def test_a_zero_timeout_leaves_statements_unlimited(db, reset_timeout):
    statement_timeout_apply(sender=None, connection=connection)
    assert statement_timeout() == "0"


@override_settings(SEEDBOARD_STATEMENT_TIMEOUT_MS=200)
def test_a_query_cancelled_at_the_timeout_is_a_503_json_error(transactional_db, api, reset_timeout):
    api.post("/api/v1/runs/", {"project": "acme/proj", "model": "m"}, format="json")
    statement_timeout_apply(sender=None, connection=connection)
    with table_locked("tracking_run"):  # listing runs waits until it is cancelled
        response = api.get("/api/v1/runs/?project=acme/proj")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "query_timeout"
    assert response.headers["Retry-After"]
    assert api.get("/api/v1/runs/?project=acme/proj").status_code == 200  # the connection is still usable


@override_settings(SEEDBOARD_STATEMENT_TIMEOUT_MS=200)
def test_a_ui_page_whose_query_is_cancelled_is_a_503_page(transactional_db, make_token, reset_timeout):
    from django.contrib.auth.models import User
    from django.test import Client

    make_token("acme", "alice")
    User.objects.filter(username="alice").update(password="")
    browser = Client()
    browser.force_login(User.objects.get(username="alice"))
    statement_timeout_apply(sender=None, connection=connection)
    with table_locked("tracking_project"):  # the home page lists projects
        response = browser.get("/")
    assert response.status_code == 503
    assert "took too long" in response.content.decode() and response["Retry-After"]
    assert "Content-Security-Policy" in response
