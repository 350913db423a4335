"""`manage.py setpassword` and the demo user's first password."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from server.accounts.services import token_create_for, user_password_ensure

pytestmark = pytest.mark.django_db


def test_it_sets_a_password_read_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    token_create_for(team_slug="acme", username="alice")
    monkeypatch.setattr("sys.stdin", io.StringIO("correct-horse-battery-9\n"))
    call_command("setpassword", "alice", "--password-stdin", stdout=io.StringIO())
    assert User.objects.get(username="alice").check_password("correct-horse-battery-9")


def test_it_generates_a_password_and_prints_only_it() -> None:
    token_create_for(team_slug="acme", username="alice")
    out = io.StringIO()
    call_command("setpassword", "alice", "--generate", stdout=out)
    password = out.getvalue().strip()
    assert len(password) >= 16 and User.objects.get(username="alice").check_password(password)


def test_it_refuses_a_weak_password_and_an_unknown_user(monkeypatch: pytest.MonkeyPatch) -> None:
    token_create_for(team_slug="acme", username="alice")
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("setpassword", "alice", "--password-stdin")
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("setpassword", "nobody", "--generate")


def test_a_password_is_generated_only_for_a_user_without_one() -> None:
    token_create_for(team_slug="demo", username="demo")
    first = user_password_ensure(username="demo")
    assert first and User.objects.get(username="demo").check_password(first)
    assert user_password_ensure(username="demo") is None
