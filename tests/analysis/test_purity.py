"""server/analysis is pure: numpy, scipy and the standard library, nothing of Django or Seedboard."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "server" / "analysis"
FORBIDDEN_ROOTS = {"django", "rest_framework", "celery", "kombu", "workers", "seedboard"}


def _loaded_modules_after(import_code: str) -> list[str]:
    """Modules (outside the stdlib, numpy, scipy) that a fresh interpreter has loaded after ``import_code``."""
    code = (
        "import json, sys\n"
        f"{import_code}\n"
        "import server.analysis as analysis\n"
        "import pkgutil, importlib\n"
        "for info in pkgutil.iter_modules(analysis.__path__):\n"
        "    importlib.import_module('server.analysis.' + info.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _forbidden(modules: list[str]) -> list[str]:
    return [
        m
        for m in modules
        if m.split(".")[0] in FORBIDDEN_ROOTS or (m.startswith("server.") and not m.startswith("server.analysis"))
    ]


def test_the_analysis_modules_import_no_django_and_nothing_of_seedboard() -> None:
    # server/__init__.py is the Django app's (it loads the Celery app), so a bare `server`
    # package stands in for it: what is measured is what server.analysis itself imports.
    bare_parent = (
        "import types\n"
        "server = types.ModuleType('server')\n"
        "server.__path__ = ['server']\n"
        "sys.modules['server'] = server"
    )
    modules = _loaded_modules_after(bare_parent)
    assert "server.analysis.pairwise" in modules
    assert _forbidden(modules) == []


def test_importing_server_analysis_does_not_import_django() -> None:
    modules = _loaded_modules_after("")
    assert [m for m in modules if m.split(".")[0] == "django"] == []


def test_every_import_in_the_package_is_stdlib_numpy_scipy_or_relative() -> None:
    allowed = set(sys.stdlib_module_names) | {"numpy", "scipy"}
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] not in allowed]
    assert offenders == []


def test_modules_stay_under_500_lines() -> None:
    sizes = {path.name: len(path.read_text().splitlines()) for path in PACKAGE.glob("*.py")}
    assert {name: size for name, size in sizes.items() if size > 500} == {}
