"""server/web/charts is pure: Altair and the standard library, nothing of Django or the rest of Seedboard."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "server" / "web" / "charts"
FORBIDDEN_ROOTS = {"django", "rest_framework", "celery", "kombu", "workers", "seedboard"}


def _loaded_modules() -> list[str]:
    # server/__init__.py is the Django app's (it loads the Celery app), and server/web/__init__.py
    # is the web app's, so bare packages stand in for both: what is measured is what the charts import.
    code = (
        "import json, sys, types, pkgutil, importlib\n"
        "for name, path in (('server', 'server'), ('server.web', 'server/web')):\n"
        "    module = types.ModuleType(name)\n"
        "    module.__path__ = [path]\n"
        "    sys.modules[name] = module\n"
        "import server.web.charts as charts\n"
        "for info in pkgutil.iter_modules(charts.__path__):\n"
        "    importlib.import_module('server.web.charts.' + info.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_chart_modules_import_no_django_and_nothing_else_of_seedboard() -> None:
    modules = _loaded_modules()
    assert "server.web.charts.ranking" in modules
    forbidden = [
        m
        for m in modules
        if m.split(".")[0] in FORBIDDEN_ROOTS
        or (m.startswith("server.") and not m.startswith("server.web.charts") and m != "server.web")
    ]
    assert forbidden == []


def test_every_import_in_the_package_is_stdlib_altair_or_relative() -> None:
    allowed = set(sys.stdlib_module_names) | {"altair"}
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


def test_the_package_never_lifts_altairs_row_limit() -> None:
    for path in PACKAGE.glob("*.py"):
        source = path.read_text()
        assert "max_rows" not in source and "disable_max_rows" not in source and ".enable(" not in source, path.name


def test_modules_stay_under_500_lines() -> None:
    sizes = {path.name: len(path.read_text().splitlines()) for path in PACKAGE.glob("*.py")}
    assert {name: size for name, size in sizes.items() if size > 500} == {}
