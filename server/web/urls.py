"""The web UI's pages, mounted at `/` (the API stays under `/api/`). Each page's state is in its URL."""

from django.contrib.auth import views as auth_views
from django.urls import path

from server.web import compare_views, project_views, run_views, team_views, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        views.SignInView.as_view(),
        name="login",
    ),
    # Django's LogoutView accepts POST only, so a link or a prefetch cannot sign anyone out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("search/", views.search, name="search"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<str:prefix>/revoke/", views.token_revoke, name="token_revoke"),
    path("teams/new/", team_views.team_create, name="team_create"),
    path("teams/<str:team>/", team_views.team, name="team"),
    path("teams/<str:team>/audit/", team_views.team_audit, name="team_audit"),
    path("compare/new/", compare_views.compare_new, name="compare_new"),
    path("compare/<str:comparison_id>/", compare_views.compare, name="compare"),
    path("compare/<str:comparison_id>/status.json", compare_views.compare_status, name="compare_status"),
    path("compare/<str:comparison_id>/pairs.csv", compare_views.compare_pairs_csv, name="compare_pairs_csv"),
    path("runs/<str:run_id>/", run_views.run, name="run"),
    path("runs/<str:run_id>/status.json", run_views.run_status, name="run_status"),
    path("<str:team>/<str:project>/runs.json", project_views.runs_live, name="project_runs_live"),
    path("<str:team>/<str:project>/variants/", project_views.variants, name="project_variants"),
    path("<str:team>/<str:project>/seeds/", project_views.seeds_page, name="project_seeds"),
    path("<str:team>/<str:project>/settings/", team_views.project_settings, name="project_settings"),
    path(
        "<str:team>/<str:project>/hyperparameters/",
        project_views.hyperparameters_page,
        name="project_hyperparameters",
    ),
    # Last: any other two-segment path is a team's project (slugs may contain '.', so <str>).
    path("<str:team>/<str:project>/", project_views.runs, name="project"),
]
