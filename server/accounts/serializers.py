"""Shapes of the accounts API: tokens, teams, members, audit events."""

from __future__ import annotations

from django.contrib.auth.validators import UnicodeUsernameValidator
from rest_framework import serializers

from server.accounts.models import ApiToken, Membership, slug_validator
from server.core.serializers import StrictSerializer


class TokenCreateInput(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices, default=ApiToken.Scope.WRITE)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="None: never.")


class TokenOutput(serializers.Serializer):  # type: ignore[type-arg]
    prefix = serializers.CharField(help_text="The public part: `sb_<prefix>_…`; the secret is never shown again.")
    name = serializers.CharField()
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices)
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class TeamTokenOutput(TokenOutput):
    user = serializers.CharField(source="user.username")


class TokenCreatedOutput(TokenOutput):
    token = serializers.CharField(help_text="The token's text, shown this once only.")


class TeamCreateInput(StrictSerializer):
    slug = serializers.CharField(max_length=63, validators=[slug_validator])
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TeamOutput(serializers.Serializer):  # type: ignore[type-arg]
    slug = serializers.CharField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.choices, help_text="The caller's role.")


class MemberOutput(serializers.Serializer):  # type: ignore[type-arg]
    username = serializers.CharField(source="user.username")
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    joined_at = serializers.DateTimeField(source="created_at")


class TeamDetailOutput(TeamOutput):
    members = MemberOutput(many=True)


class MemberAddInput(StrictSerializer):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    create_user = serializers.BooleanField(
        default=False, help_text="Create the user when missing; the answer then carries its generated password."
    )


class MemberAddedOutput(MemberOutput):
    password = serializers.CharField(allow_null=True, help_text="A new user's sign-in password, shown this once.")


class MemberUpdateInput(StrictSerializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class AuditEventOutput(serializers.Serializer):  # type: ignore[type-arg]
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name")
    action = serializers.CharField()
    target = serializers.CharField()
    detail = serializers.DictField()
    ip = serializers.CharField(allow_null=True)
