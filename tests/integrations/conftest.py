"""One live Seedboard server per test module, and the SDK pointed at it.

Training with a real framework costs seconds, so a module's tests share one server (and
the framework's import) instead of starting one each, as tests/conftest.py's does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import seedboard
from django.core.management import call_command

from tests.conftest import live_server_process
from tests.live_server import ServerProcess

SDK_VARIABLES = ("URL", "TOKEN", "TOKEN_FILE", "MODE", "DIR", "FLUSH_TIMEOUT", "PROJECT")
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The mark makes pytest-django create the test database; the tests themselves write
    # through the server process only, so no per-test flush (transaction=True) is needed.
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.django_db)


@pytest.fixture(scope="module")
def module_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[ServerProcess]:
    """A live server for the whole module, on the test database (emptied afterwards)."""
    try:
        with live_server_process(django_db_blocker.unblock) as server:
            yield server
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def sdk_env(module_server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK logs into the module's server, with its own SEEDBOARD_DIR."""
    for name in SDK_VARIABLES:
        monkeypatch.delenv(f"SEEDBOARD_{name}", raising=False)
    monkeypatch.setenv("SEEDBOARD_URL", module_server.url)
    monkeypatch.setenv("SEEDBOARD_TOKEN", module_server.token)
    monkeypatch.setenv("SEEDBOARD_DIR", str(tmp_path / "seedboard-home"))


@pytest.fixture
def project() -> str:
    """A project of team 'acme' that no other test uses."""
    return f"acme/fw-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def api(sdk_env: None) -> Iterator[seedboard.Api]:
    with seedboard.Api() as client:
        yield client
