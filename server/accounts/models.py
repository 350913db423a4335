from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

slug_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_.-]{0,62}$",
    "Use 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit.",
)


class Team(models.Model):
    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin"
        MEMBER = "member"
        VIEWER = "viewer"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")]


class ApiToken(models.Model):
    """A long-lived API key. Only a SHA-256 digest of the secret is stored.

    The token text is `sb_<prefix>_<secret>`; the prefix is public (shown in listings,
    used to find the row), the secret is never stored. SHA-256 rather than a slow password
    hash is enough because the secret is 256 random bits, not a human-chosen password.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Scope(models.TextChoices):
        READ = "read"  # safe methods only: a 403 on every write
        WRITE = "write"

    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.WRITE)
    expires_at = models.DateTimeField(null=True, blank=True)  # None: until revoked

    def __str__(self) -> str:
        return f"sb_{self.prefix}_…"


class Visibility(models.TextChoices):
    """Who may read a project (server/tracking/models.py); writing is always for its team's members."""

    PRIVATE = "private"  # the owning team
    INTERNAL = "internal"  # every signed-in user of the instance


class AuditEvent(models.Model):
    """Who did what to access and shared objects: an append-only record for team admins.

    `team` is the team the event concerns (None for events of a user alone, such as a sign-in);
    `target` names the object in words ("acme/vision", "alice", a token's prefix), so the record
    survives the object's deletion.
    """

    class Action(models.TextChoices):
        SIGN_IN = "sign_in", "signed in"
        SIGN_IN_FAILED = "sign_in_failed", "failed to sign in"
        TOKEN_CREATE = "token.create", "created a token"
        TOKEN_REVOKE = "token.revoke", "revoked a token"
        TEAM_CREATE = "team.create", "created the team"
        MEMBER_ADD = "member.add", "added a member"
        MEMBER_ROLE = "member.role", "changed a role"
        MEMBER_REMOVE = "member.remove", "removed a member"
        PROJECT_VISIBILITY = "project.visibility", "changed a project's visibility"
        PROJECT_DELETE = "project.delete", "deleted a project"
        BENCHMARK_CREATE = "benchmark.create", "created a benchmark"
        BENCHMARK_SUBMIT = "benchmark.submit", "submitted to a benchmark"
        BENCHMARK_WITHDRAW = "benchmark.withdraw", "withdrew a submission"

    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)  # kept when the user is deleted
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events")
    action = models.CharField(max_length=32, choices=Action.choices)
    target = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["team", "-created_at"], name="audit_team_created")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target}"
