from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.accounts.services import token_create_for
from server.core.errors import SeedboardError


class Command(BaseCommand):
    help = "Create an API token for USER in TEAM (both created when missing); prints only the token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", required=True)
        parser.add_argument("--user", required=True)
        parser.add_argument("--name", default="", help="A label to recognise the token by.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            text = token_create_for(team_slug=options["team"], username=options["user"], name=options["name"])
        except SeedboardError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(text)
