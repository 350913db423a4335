from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.accounts import selectors, services
from server.accounts.models import Membership, Team
from server.core.errors import SeedboardError

ROLES = Membership.Role.values


class Command(BaseCommand):
    help = (
        "Manage teams from the command line (the web UI's team page and /api/v1/teams/ do the same): "
        "`team create SLUG`, `team add TEAM USER --role R [--create-user]`, `team role TEAM USER R`, "
        "`team remove TEAM USER`, `team members TEAM`. Changes are recorded in the team's audit log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        create = commands.add_parser("create", help="create a team")
        create.add_argument("slug")
        create.add_argument("--name", default="")
        create.add_argument("--admin", help="an existing user who becomes its first admin")
        add = commands.add_parser("add", help="add a user to a team")
        add.add_argument("team")
        add.add_argument("user")
        add.add_argument("--role", choices=ROLES, default=Membership.Role.MEMBER)
        add.add_argument(
            "--create-user", action="store_true", help="create the user when missing and print its password"
        )
        role = commands.add_parser("role", help="change a member's role")
        role.add_argument("team")
        role.add_argument("user")
        role.add_argument("role", choices=ROLES)
        remove = commands.add_parser("remove", help="remove a member (never the last admin)")
        remove.add_argument("team")
        remove.add_argument("user")
        members = commands.add_parser("members", help="list a team's members and roles")
        members.add_argument("team")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except SeedboardError as exc:
            raise CommandError(exc.message) from exc

    def _team(self, slug: str) -> Team:
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            raise CommandError(f"No team {slug!r}.")
        return team

    def _create(self, options: dict[str, Any]) -> None:
        admin = None
        if options["admin"]:
            admin = get_user_model().objects.filter(username=options["admin"]).first()
            if admin is None:
                raise CommandError(f"No user {options['admin']!r}.")
        team = services.team_create(slug=options["slug"], name=options["name"], creator=admin)
        self.stdout.write(f"team {team.slug} created" + (f", {admin.get_username()} is its admin" if admin else ""))

    def _add(self, options: dict[str, Any]) -> None:
        membership, password = services.member_add(
            team=self._team(options["team"]),
            username=options["user"],
            role=options["role"],
            actor=None,
            create_user=options["create_user"],
        )
        self.stdout.write(f"{options['user']} is {membership.role} of {options['team']}")
        if password is not None:
            self.stdout.write(f"new user {options['user']}: sign in with password {password}")

    def _role(self, options: dict[str, Any]) -> None:
        services.member_role_set(
            team=self._team(options["team"]), username=options["user"], role=options["role"], actor=None
        )
        self.stdout.write(f"{options['user']} is {options['role']} of {options['team']}")

    def _remove(self, options: dict[str, Any]) -> None:
        services.member_remove(team=self._team(options["team"]), username=options["user"], actor=None)
        self.stdout.write(f"{options['user']} removed from {options['team']}")

    def _members(self, options: dict[str, Any]) -> None:
        for membership in selectors.member_list(team=self._team(options["team"])):
            self.stdout.write(f"{membership.user.get_username()}\t{membership.role}")
