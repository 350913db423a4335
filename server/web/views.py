"""The UI's pages: each parses its URL, calls selectors or one service, and renders a template."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from server.accounts import selectors as account_selectors
from server.accounts import services as account_services
from server.accounts.models import ApiToken, AuditEvent
from server.core.errors import NotFound, SeedboardError
from server.core.throttling import address_throttle_wait
from server.web import selectors
from server.web.errors import error_page
from server.web.specs import runs_per_project_spec

# The expiry choices of the tokens page, in days (the API takes any date up to 10 years ahead).
TOKEN_LIFETIMES = {"30": "30 days", "90": "90 days", "365": "a year"}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # every page is login_required
    return request.user


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """Render a page inside the base layout, with what its top bar needs."""
    user = _user(request)
    nav = {
        "nav_projects": selectors.project_paths(user=user),
        "nav_teams": account_selectors.team_slugs_for(user=user),
        "nav_query": request.GET.get("q", ""),
    }
    return render(request, template, {**nav, **context}, status=status)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    overview = selectors.projects_overview(user=user)
    records = [{"project": p.path, "runs": p.run_count} for team in overview for p in team.projects]  # type: ignore[attr-defined]
    return _page(
        request,
        "web/home.html",
        {
            "teams": overview,
            "shared": selectors.projects_shared(user=user),
            "running": selectors.runs_running(user=user),
            "comparisons": selectors.comparisons_recent(user=user),
            "runs_chart": runs_per_project_spec(records) if records else None,
        },
    )


@require_GET
@login_required
def search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()[:250]
    runs = selectors.runs_search(user=_user(request), text=text)
    return _page(request, "web/search.html", {"query": text, "runs": runs, "limit": selectors.SEARCH_LIMIT})


@require_http_methods(["GET", "POST"])
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    new_token = None
    error = None
    if request.method == "POST":
        days = request.POST.get("expires_days", "")
        try:
            # Shown in this response only: the text is never stored, so it cannot be shown again.
            new_token, _ = account_services.token_create(
                user=user,
                name=request.POST.get("name", "").strip(),
                scope=request.POST.get("scope", ApiToken.Scope.WRITE),
                expires_at=timezone.now() + timedelta(days=int(days)) if days in TOKEN_LIFETIMES else None,
                request=request,
            )
        except SeedboardError as exc:
            error = exc.message
    context = {
        "tokens": account_selectors.token_list_for(user=user),
        "new_token": new_token,
        "error": error,
        "lifetimes": TOKEN_LIFETIMES,
        "activity": account_selectors.audit_list_for_user(user=user, limit=20),
    }
    return _page(request, "web/tokens.html", context, status=400 if error else 200)


@require_POST
@login_required
def token_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    try:
        account_services.token_revoke(prefix=prefix, user=_user(request), request=request)
    except NotFound as exc:  # another user's token or an unknown one
        raise Http404(exc.message) from exc
    return redirect("web:tokens")


class SignInView(auth_views.LoginView):
    """Django's sign-in, with sign-in attempts limited per client address (password guessing)."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = address_throttle_wait(request, scope="signin", rate=settings.SEEDBOARD_SIGNIN_THROTTLE_RATE)
        if wait is not None:
            response = error_page(
                status=429,
                title="Too many sign-in attempts",
                message=f"Too many sign-in attempts from this address; try again in {int(wait) + 1} seconds.",
            )
            response["Retry-After"] = str(int(wait) + 1)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        account_services.audit_record(action=AuditEvent.Action.SIGN_IN, actor=form.get_user(), request=self.request)
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        # The name tried, not a user: a failed attempt may name nobody who exists.
        tried = str(self.request.POST.get("username", ""))[:150]
        account_services.audit_record(
            action=AuditEvent.Action.SIGN_IN_FAILED, actor=None, detail={"username": tried}, request=self.request
        )
        return super().form_invalid(form)
