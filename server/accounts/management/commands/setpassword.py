from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.accounts.services import password_generate, user_set_password
from server.core.errors import SeedboardError


class Command(BaseCommand):
    help = (
        "Set or reset USER's password for signing in to the web UI: prompts for it, reads it from "
        "stdin (--password-stdin), or generates one and prints it (--generate)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        source.add_argument("--generate", action="store_true", help="generate a password and print it")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["user"]
        if options["generate"]:
            password = password_generate()
        elif options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"New password for {username}: ")
            if getpass.getpass("Again: ") != password:
                raise CommandError("The passwords differ; nothing changed.")
        if not options["generate"]:
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        try:
            user_set_password(username=username, password=password)
        except SeedboardError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(password if options["generate"] else f"password of {username} set")
