"""Property-based fuzzing of the whole API from its OpenAPI schema (schemathesis, live server).

Every generated request, valid or not, must get a documented status with a body matching
the documented schema: in particular never a 500, whoever asks (an admin, a viewer, a read-only
token, no token). The hooks in schemathesis_hooks.py turn the
documented free-form config filter into `config.*` parameters; tests/server/test_query_fuzz.py
fuzzes filters and cursors in depth, in-process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.accounts.services import token_create_for

REPO = Path(__file__).resolve().parents[2]
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


# Each caller fuzzes every operation: the admin deeply, the others enough to cover their refusals
# (403 for a viewer's or a read token's writes, 401 without a token), which must be documented too.
CALLERS = {"admin": 40, "viewer": 10, "read-token": 10, "anonymous": 5}


def _authorization(caller: str, seedboard_server) -> list[str]:
    if caller == "admin":
        return ["-H", f"Authorization: Bearer {seedboard_server.token}"]
    if caller == "viewer":
        return ["-H", f"Authorization: Bearer {token_create_for(team_slug='acme', username='vera', role='viewer')}"]
    if caller == "read-token":
        text = token_create_for(team_slug="acme", username="reed", role="member", scope="read")
        return ["-H", f"Authorization: Bearer {text}"]
    return []


@pytest.mark.slow
@pytest.mark.parametrize("caller", CALLERS)
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(seedboard_server, tmp_path, caller):
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if cli is None:
        pytest.skip("schemathesis is not installed")
    result = subprocess.run(
        [cli, "run", f"{seedboard_server.url}/api/v1/schema/", *_authorization(caller, seedboard_server),
         "--checks", CHECKS, "--max-examples", str(CALLERS[caller]), "--seed", "1", "--workers", "1"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.server.schemathesis_hooks", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[result.stdout.find("FAILURES") :][:3000]
    assert "generated" in result.stdout and " failed" not in result.stdout.split("Test cases:")[-1]
