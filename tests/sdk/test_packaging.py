"""The SDK builds into a wheel whose metadata is ready to publish (license, classifiers, readme)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

SDK = Path(__file__).resolve().parents[2] / "clients" / "python_sdk"


def test_the_sdk_wheel_carries_its_license_classifiers_and_readme(tmp_path: Path) -> None:
    # Built from a copy: setuptools leaves a build/ folder next to the sources it builds.
    source = tmp_path / "python_sdk"
    shutil.copytree(SDK, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    # Build isolation fetches setuptools>=77 (license expressions) when the environment's is older.
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("seedboard-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta_name = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(meta_name).decode())
    assert metadata["Name"] == "seedboard"
    assert metadata["License-Expression"] == "Apache-2.0"
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    classifiers = metadata.get_all("Classifier")
    assert "Programming Language :: Python :: 3.9" in classifiers
    assert metadata["Requires-Python"] == ">=3.9"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert 'pip install "./clients/python_sdk"' in metadata.get_payload()
    assert "seedboard/py.typed" in names and "seedboard/cli.py" in names
