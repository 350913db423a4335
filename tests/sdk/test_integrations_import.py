"""The framework integrations stay optional: `import seedboard` loads no framework, and their
modules compile on the SDK's oldest Python (this file also runs there, `make test-sdk-oldest`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.sdk.conftest import SDK_SRC

FRAMEWORKS = ("torch", "lightning", "pytorch_lightning", "transformers", "keras", "optuna", "tensorflow")
MODULES = sorted((SDK_SRC / "seedboard" / "integrations").glob("*.py"))


def test_importing_seedboard_loads_no_framework() -> None:
    code = (
        "import sys, seedboard, seedboard.integrations; "
        f"print(sorted(name for name in {FRAMEWORKS!r} if name in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(SDK_SRC)}, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("path", MODULES, ids=[path.name for path in MODULES])
def test_each_integration_module_compiles_on_this_python(path: Path) -> None:
    compile(path.read_text(), str(path), "exec")
