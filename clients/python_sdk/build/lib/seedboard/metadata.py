"""Run metadata captured at `init`: git state, host, interpreter, packages, command line.

Everything here is best effort: a missing ``git``, a directory that is not a repository
or a slow file system leave a field out rather than fail or stall `init`.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from typing import Any

from ._version import __version__

__all__ = ["GIT_TIMEOUT", "PACKAGES", "collect_metadata", "git_info", "package_versions"]

GIT_TIMEOUT = 2.0  # seconds per git call; a huge repository must not hold up training
# Module names as they appear in sys.modules, reported only if the program imported them.
PACKAGES = ("torch", "numpy", "jax", "tensorflow", "sklearn")


def _git(*args: str, cwd: str | None = None) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_info(cwd: str | None = None) -> dict[str, Any]:
    """``{"commit", "branch", "dirty"}`` of the repository around `cwd`, or {}.

    Read fresh at every `init` (a sweep may commit or edit files between runs), in one
    ``git status --porcelain=v2 --branch`` call: about as cheap as a single
    ``rev-parse``. Older gits without porcelain v2 get the three separate calls.
    """
    status = _git("status", "--porcelain=v2", "--branch", "--untracked-files=no", cwd=cwd)
    if status is None:
        return _git_info_legacy(cwd)
    lines = status.splitlines()
    # Header lines look like "# branch.oid <sha>"; every other line is a changed file.
    headers = dict(line[2:].partition(" ")[::2] for line in lines if line.startswith("# "))
    commit = headers.get("branch.oid", "")
    if not commit or commit == "(initial)":  # no commit yet
        return {}
    head = headers.get("branch.head", "")
    info: dict[str, Any] = {"commit": commit}
    if head:
        info["branch"] = "HEAD" if head == "(detached)" else head  # as rev-parse --abbrev-ref
    info["dirty"] = any(line and not line.startswith("#") for line in lines)
    return info


def _git_info_legacy(cwd: str | None) -> dict[str, Any]:
    commit = _git("rev-parse", "HEAD", cwd=cwd)
    if not commit:
        return {}
    info: dict[str, Any] = {"commit": commit}
    branch = _git("rev-parse", "--abbrev-ref", "HEAD", cwd=cwd)
    if branch:
        info["branch"] = branch
    status = _git("status", "--porcelain", "--untracked-files=no", cwd=cwd)
    if status is not None:
        info["dirty"] = bool(status)
    return info


def package_versions() -> dict[str, str]:
    """Versions of the key ML packages already imported; nothing is imported here."""
    versions = {}
    for name in PACKAGES:
        module = sys.modules.get(name)
        version = getattr(module, "__version__", None) if module is not None else None
        if isinstance(version, str):
            versions[name] = version
    return versions


def collect_metadata() -> dict[str, Any]:
    """The metadata block sent with every new run."""
    meta: dict[str, Any] = {
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "command": list(sys.argv),
        "pid": os.getpid(),
        "sdk": {"name": "seedboard-python", "version": __version__},
    }
    git = git_info()
    if git:
        meta["git"] = git
    return meta
