"""Metadata captured at init, without a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
from seedboard.metadata import collect_metadata


def test_metadata_names_imported_packages_only_and_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not a git repository: no git block, no error
    meta = collect_metadata()
    assert "git" not in meta
    assert meta["packages"]["numpy"] == numpy.__version__
    assert "tensorflow" not in sys.modules and "tensorflow" not in meta["packages"]
    assert (meta["command"], meta["pid"]) == (sys.argv, os.getpid())
    assert meta["python"].count(".") == 2 and meta["host"]


def test_metadata_records_the_git_commit_branch_and_dirty_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q", "-b", "exp/lr")
    (tmp_path / "train.py").write_text("print(1)\n")
    git("add", "train.py")
    git("commit", "-q", "-m", "first")
    monkeypatch.chdir(tmp_path)

    assert collect_metadata()["git"] == {"commit": git("rev-parse", "HEAD"), "branch": "exp/lr", "dirty": False}
    (tmp_path / "train.py").write_text("print(2)\n")
    assert collect_metadata()["git"]["dirty"] is True
