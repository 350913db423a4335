"""Settings that must refuse to start rather than run insecurely."""

from __future__ import annotations

import os
import secrets
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


TLS_SHOW = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, "
    "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)"
)


def tls_settings(tmp_path, **env):
    result = subprocess.run(
        [sys.executable, "-c", TLS_SHOW],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("SEEDBOARD_")}, "DATABASE_URL": "",
             "DJANGO_SETTINGS_MODULE": "server.settings", "SEEDBOARD_DATA_DIR": str(tmp_path), **env},
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_tls_turns_on_hsts_secure_cookies_and_the_redirect(tmp_path):
    assert tls_settings(tmp_path) == "0 True False False False None"
    assert tls_settings(tmp_path, SEEDBOARD_TLS="true") == "31536000 True True True True None"
    assert (
        tls_settings(tmp_path, SEEDBOARD_TLS="true", SEEDBOARD_HSTS_SECONDS="3600",
                     SEEDBOARD_HSTS_INCLUDE_SUBDOMAINS="false", SEEDBOARD_SSL_REDIRECT="false")
        == "3600 False False True True None"
    )  # fmt: skip
    # The older switch still secures the cookies, and nothing else.
    assert tls_settings(tmp_path, SEEDBOARD_SECURE_COOKIES="true") == "0 True False True True None"


def test_the_forwarded_scheme_is_believed_only_behind_trusted_proxies(tmp_path):
    assert tls_settings(tmp_path, SEEDBOARD_TLS="true").endswith("None")
    behind = tls_settings(tmp_path, SEEDBOARD_TLS="true", SEEDBOARD_NUM_PROXIES="1")
    assert behind.endswith("('HTTP_X_FORWARDED_PROTO', 'https')")


def test_a_bad_tls_value_refuses_to_start(tmp_path):
    result = start(tmp_path, DATABASE_URL="", SEEDBOARD_TLS="maybe")
    assert result.returncode != 0 and "SEEDBOARD_TLS='maybe' is not a boolean" in result.stderr


def deploy_check(tmp_path, **env):
    """`manage.py check --deploy --fail-level WARNING` in the production environment, changed by `env`."""
    production = {
        "DATABASE_URL": "postgres://seedboard:secret@db.invalid:5432/seedboard",  # not connected to
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SEEDBOARD_TLS": "true",
        "SEEDBOARD_DEBUG": "false",
        "ALLOWED_HOSTS": "seedboard.example.org",
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SEEDBOARD_", "SECRET_KEY", "ALLOWED_HOSTS"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**base, "SEEDBOARD_DATA_DIR": str(tmp_path), **production, **env},
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_production_settings_pass_the_deploy_check(tmp_path):
    result = deploy_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    preloaded = deploy_check(tmp_path, SEEDBOARD_HSTS_PRELOAD="true")  # nothing silenced then
    assert preloaded.returncode == 0 and "no issues (0 silenced)" in preloaded.stdout, preloaded.stderr


def test_the_deploy_check_fails_without_tls_or_with_debug(tmp_path):
    plain = deploy_check(tmp_path, SEEDBOARD_TLS="false")
    assert plain.returncode != 0
    for check in ["security.W004", "security.W008", "security.W012", "security.W016"]:
        assert check in plain.stderr, check
    debug = deploy_check(tmp_path, SEEDBOARD_DEBUG="true")
    assert debug.returncode != 0 and "security.W018" in debug.stderr
