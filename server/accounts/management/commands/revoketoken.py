from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.accounts.services import token_revoke
from server.accounts.tokens import token_split
from server.core.errors import SeedboardError


class Command(BaseCommand):
    help = "Revoke an API token, given its prefix (the 12 hex characters after 'sb_') or the whole token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("token")

    def handle(self, *args: Any, **options: Any) -> None:
        prefix = token_split(options["token"]) or options["token"]
        try:
            token = token_revoke(prefix=prefix)
        except SeedboardError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"revoked token sb_{token.prefix}_… of {token.user}")
