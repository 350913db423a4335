"""Property-based fuzzing of the whole API from its OpenAPI schema (schemathesis, live server).

Every generated request, valid or not, must get a documented status with a body matching
the documented schema: in particular never a 500. The hooks in schemathesis_hooks.py turn the
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

REPO = Path(__file__).resolve().parents[2]
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(seedboard_server, tmp_path):
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if cli is None:
        pytest.skip("schemathesis is not installed")
    result = subprocess.run(
        [cli, "run", f"{seedboard_server.url}/api/v1/schema/", "-H", f"Authorization: Bearer {seedboard_server.token}",
         "--checks", CHECKS, "--max-examples", "40", "--seed", "1", "--workers", "1"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.server.schemathesis_hooks", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[result.stdout.find("FAILURES") :][:3000]
    assert "generated" in result.stdout and " failed" not in result.stdout.split("Test cases:")[-1]
