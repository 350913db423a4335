"""Settings that must refuse to start rather than run insecurely."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from tests.conftest import REPO

SHOW = "import django; django.setup(); from django.conf import settings as s; print(s.SECRET_KEY, s.ALLOWED_HOSTS)"


def start(tmp_path, **env):
    base = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SECRET_KEY_FILE", "SEEDBOARD_LOCAL_SECRET_KEY"}
    }
    return subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**base, "DJANGO_SETTINGS_MODULE": "server.settings", "SEEDBOARD_DATA_DIR": str(tmp_path), **env},
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_production_database_without_a_secret_key_refuses_to_start(tmp_path):
    result = start(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/seedboard")
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) is not set" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_the_embedded_default_keeps_a_random_private_key_across_restarts(tmp_path):
    first, second = start(tmp_path, DATABASE_URL=""), start(tmp_path, DATABASE_URL="")
    assert first.returncode == 0, first.stderr
    key = first.stdout.split()[0]
    assert len(key) >= 50 and "insecure" not in key
    assert second.stdout.split()[0] == key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert start(tmp_path / "other", DATABASE_URL="").stdout.split()[0] != key


def test_a_set_secret_key_is_used_and_test_hosts_are_not_allowed_by_default(tmp_path):
    result = start(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/seedboard", SECRET_KEY="s" * 60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "s" * 60
    assert "testserver" not in result.stdout
