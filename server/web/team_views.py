"""Team pages: members and roles, the members' tokens and the audit log (for admins), a new team,
and a project's settings (visibility, deletion). Each POST calls one accounts or tracking service,
which records the audit event; refusals (the last admin, a taken name) are shown on the page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from server.accounts import selectors, services
from server.accounts.models import Membership, Team, Visibility
from server.core.errors import NotFound, PermissionDenied, SeedboardError
from server.stats import changes
from server.tracking import selectors as tracking_selectors
from server.tracking import services as tracking_services
from server.web.errors import error_page
from server.web.views import _page, _user


def _team(request: HttpRequest, slug: str, need: selectors.Need = "read") -> Team:
    try:
        return selectors.team_get_for(user=_user(request), slug=slug, need=need)
    except NotFound as exc:  # not a member: 404, as the API answers
        raise Http404(exc.message) from exc


def _refused(exc: PermissionDenied) -> HttpResponse:
    return error_page(status=403, title="Not allowed", message=exc.message)


def _team_page(request: HttpRequest, team: Team, status: int = 200, **extra: Any) -> HttpResponse:
    admin = team.role == Membership.Role.ADMIN  # type: ignore[attr-defined]
    members = list(selectors.member_list(team=team))
    admins = [m.user_id for m in members if m.role == Membership.Role.ADMIN]
    context = {
        "team": team,
        "is_admin": admin,
        "members": members,
        # The last admin cannot leave (the service answers 409): the page says so instead of offering it.
        "last_admin_id": admins[0] if len(admins) == 1 else None,
        "roles": Membership.Role.values,
        "tokens": selectors.token_list_for_team(team=team) if admin else [],
        "projects": tracking_selectors.projects_readable(user=_user(request)).filter(team=team).order_by("slug"),
        **extra,
    }
    return _page(request, "web/team.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def team(request: HttpRequest, team: str) -> HttpResponse:
    """GET: the team; POST (admins, and anyone leaving): add a member, change a role, remove a
    member, revoke a member's token, as `action` says."""
    user = _user(request)
    found = _team(request, team)
    if request.method == "GET":
        return _team_page(request, found)
    action = request.POST.get("action", "")
    username = request.POST.get("username", "").strip()[:150]
    leaving = action == "remove" and username == user.get_username()
    try:
        found = _team(request, team, need="read" if leaving else "admin")
        if action == "add":
            _, password = services.member_add(
                team=found,
                username=username,
                role=request.POST.get("role", Membership.Role.MEMBER),
                actor=user,
                create_user=request.POST.get("create_user") == "on",
                request=request,
            )
            # Rendered, not redirected: a new user's password is shown in this response only.
            return _team_page(request, found, added=username, new_password=password)
        if action == "role":
            services.member_role_set(
                team=found, username=username, role=request.POST.get("role", ""), actor=user, request=request
            )
        elif action == "remove":
            services.member_remove(team=found, username=username, actor=user, request=request)
            if leaving:
                return redirect("web:home")
        elif action == "revoke":
            services.token_revoke(prefix=request.POST.get("prefix", "")[:16], team=found, actor=user, request=request)
        else:
            return error_page(status=400, title="Bad request", message=f"Unknown action {action!r}.")
    except PermissionDenied as exc:
        return _refused(exc)
    except SeedboardError as exc:
        return _team_page(request, found, status=exc.status, error=exc.message)
    return redirect("web:team", team=found.slug)


@require_GET
@login_required
def team_audit(request: HttpRequest, team: str) -> HttpResponse:
    try:
        found = _team(request, team, need="admin")
    except PermissionDenied as exc:
        return _refused(exc)
    return _page(request, "web/team_audit.html", {"team": found, "events": selectors.audit_list(team=found)})


@require_POST
@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    try:
        created = services.team_create(
            slug=request.POST.get("slug", "").strip()[:63],
            name=request.POST.get("name", "").strip(),
            creator=_user(request),
            request=request,
        )
    except SeedboardError as exc:
        return error_page(status=exc.status, title="The team was not created", message=exc.message)
    return redirect("web:team", team=created.slug)


@require_http_methods(["GET", "POST"])
@login_required
def project_settings(request: HttpRequest, team: str, project: str) -> HttpResponse:
    """A project's settings, for its team's admins: visibility, and deletion (confirmed by typing its path)."""
    user = _user(request)
    try:
        found = tracking_selectors.project_get(user=user, team_slug=team, project_slug=project, admin=True)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        return _refused(exc)
    error = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "visibility":
                tracking_services.project_visibility_set(
                    project=found, visibility=request.POST.get("visibility", ""), actor=user, request=request
                )
                return redirect(reverse("web:project_settings", args=[team, project]))
            if action == "delete":
                if request.POST.get("confirm", "") != found.path:
                    error = f"Type {found.path} to confirm the deletion."
                else:
                    changes.project_delete(project=found, actor=user, request=request)
                    return redirect("web:team", team=team)
            else:
                error = f"Unknown action {action!r}."
        except SeedboardError as exc:
            error = exc.message
    context = {"project": found, "visibilities": Visibility.choices, "error": error, "tab": "settings"}
    return _page(request, "web/project_settings.html", context, status=400 if error else 200)
