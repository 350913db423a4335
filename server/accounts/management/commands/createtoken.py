from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from server.accounts.models import ApiToken, Membership
from server.accounts.services import token_create_for
from server.core.errors import SeedboardError


class Command(BaseCommand):
    help = "Create an API token for USER in TEAM (both created when missing); prints only the token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", required=True)
        parser.add_argument("--user", required=True)
        parser.add_argument("--name", default="", help="A label to recognise the token by.")
        parser.add_argument(
            "--role",
            choices=Membership.Role.values,
            default=Membership.Role.ADMIN,
            help="the user's role when this adds them to the team (an existing membership keeps its role)",
        )
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.WRITE)
        parser.add_argument("--expires-days", type=int, help="expire after this many days (default: never)")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["expires_days"]
        try:
            text = token_create_for(
                team_slug=options["team"],
                username=options["user"],
                name=options["name"],
                role=options["role"],
                scope=options["scope"],
                expires_at=timezone.now() + timedelta(days=days) if days is not None else None,
            )
        except SeedboardError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(text)
