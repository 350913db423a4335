"""Who may do what, on every endpoint and page: one table, walked against the URL configuration.

Each route of the URL configuration (and, for API views, each HTTP method it implements) has an
entry saying which rule guards it and how to build a request for a given caller. The callers:

    admin, member, viewer   of team acme, on acme's private project
    reader                  a user of team rival, on acme's *internal* project (may read, not write)
    outsider                the same rival user, on acme's *private* project (may not even see it)
    anonymous               no token, no session

A rule maps each caller to the expected outcome: "ok" (any 2xx or 3xx), or a status. API
refusals are 401/403/404; pages send anonymous visitors to the sign-in page (302) and answer
403/404 pages. A new route without an entry fails `test_every_route_has_an_entry`, so an
endpoint cannot be added without saying who may use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from server.accounts.models import Team
from server.accounts.services import member_add, token_create, token_create_for
from server.benchmarks import services as benchmark_services
from server.benchmarks.models import Benchmark
from server.stats.models import Comparison
from server.tracking import services as tracking_services
from server.tracking.models import Project, Run

CALLERS = ("admin", "member", "viewer", "reader", "outsider", "anonymous")
USERNAMES = {"admin": "alice", "member": "bob", "viewer": "vera", "reader": "mallory", "outsider": "mallory"}

# Rules: the expected outcome per caller, in CALLERS order.
PUBLIC = dict.fromkeys(CALLERS, "ok")
SIGNED_IN = {**PUBLIC, "anonymous": 401}
PROJECT_READ = {**SIGNED_IN, "outsider": 404}
PROJECT_WRITE = {**PROJECT_READ, "viewer": 403, "reader": 403}
PROJECT_ADMIN = {**PROJECT_WRITE, "member": 403}
# Team routes: the rival user is not a member, internal projects or not.
TEAM_READ = {**PROJECT_READ, "reader": 404}
TEAM_ADMIN = {**TEAM_READ, "member": 403, "viewer": 403}


def page(rule: dict[str, Any]) -> dict[str, Any]:
    """The same rule on a page: anonymous visitors are sent to sign in."""
    return {**rule, "anonymous": 302}


@dataclass
class World:
    """acme (alice admin, bob member, vera viewer) with a private and an internal project, each
    with a finished run and a comparison; rival (mallory); an API token per user."""

    private: Project
    internal: Project
    runs: dict[str, Run]
    comparisons: dict[str, Comparison]
    tokens: dict[str, str]

    def project(self, caller: str) -> Project:
        return self.internal if caller == "reader" else self.private

    def path(self, caller: str) -> str:
        project = self.project(caller)
        return f"{project.team.slug}/{project.slug}"

    def run_id(self, caller: str) -> str:
        return str(self.runs["internal" if caller == "reader" else "private"].uuid)

    def comparison_id(self, caller: str) -> str:
        return str(self.comparisons["internal" if caller == "reader" else "private"].uuid)

    def fresh_project(self, caller: str) -> str:
        """A new project to delete (internal for the reader): deletions must find one each time."""
        slug = f"doomed-{uuid.uuid4().hex[:8]}"
        visibility = "internal" if caller == "reader" else "private"
        tracking_services.project_create(team=self.private.team, slug=slug, visibility=visibility)
        return f"acme/{slug}"

    def fresh_member(self) -> str:
        username = f"temp-{uuid.uuid4().hex[:8]}"
        member_add(team=self.private.team, username=username, role="viewer", actor=None, create_user=True)
        return username

    def fresh_token_of(self, username: str) -> str:
        _, token = token_create(user=get_user_model().objects.get(username=username))
        return token.prefix


def _log_run(token: str, project: Project) -> Run:
    """A finished run with a point of `acc`, logged through the API as a client would."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"project": project.path, "model": "m", "seed": 0, "config": {"lr": 0.1}}
    run_id = client.post("/api/v1/runs/", body, format="json").json()["id"]
    assert client.post(f"/api/v1/runs/{run_id}/metrics/", _batch(), format="json").status_code == 200
    assert client.patch(f"/api/v1/runs/{run_id}/", {"status": "finished"}, format="json").status_code == 200
    return Run.objects.get(uuid=run_id)


@pytest.fixture
def world(db: None) -> World:
    tokens = {
        "admin": token_create_for(team_slug="acme", username="alice", role="admin"),
        "member": token_create_for(team_slug="acme", username="bob", role="member"),
        "viewer": token_create_for(team_slug="acme", username="vera", role="viewer"),
    }
    tokens["reader"] = tokens["outsider"] = token_create_for(team_slug="rival", username="mallory")
    acme = Team.objects.get(slug="acme")
    private = tracking_services.project_create(team=acme, slug="private")
    internal = tracking_services.project_create(team=acme, slug="internal", visibility="internal")
    runs = {"private": _log_run(tokens["admin"], private), "internal": _log_run(tokens["admin"], internal)}
    comparisons = {}
    for name, project in [("private", private), ("internal", internal)]:
        comparison = Comparison.objects.create(team=acme, metric="acc")
        comparison.projects.set([project])
        comparisons[name] = comparison
    return World(private=private, internal=internal, runs=runs, comparisons=comparisons, tokens=tokens)


def _benchmark(world: World) -> str:
    """acme's benchmark on acc over the task '' with 2 seeds per submission (made on first use)."""
    if not Benchmark.objects.filter(slug="bench").exists():
        alice = get_user_model().objects.get(username="alice")
        benchmark_services.benchmark_create(
            user=alice, team="acme", slug="bench", name="Bench", tasks=[""], metric="acc", min_seeds=2
        )
    return "bench"


def _fresh_variant(world: World, caller: str) -> str:
    """A new variant with two finished seeds of acc in the caller's project; its fingerprint."""
    config = {"lr": uuid.uuid4().hex[:8]}
    for seed in (0, 1):
        run, _ = tracking_services.run_create(project=world.project(caller), model="m", config=config, seed=seed)
        tracking_services.run_update(run=run, status="finished", summary={"acc": 0.5 + seed / 10})
    return str(run.variant.fingerprint)


def _fresh_submission(world: World) -> int:
    """A new submission of acme (made by alice, from the private project) to withdraw."""
    submission = benchmark_services.submission_create(
        user=get_user_model().objects.get(username="alice"),
        benchmark=Benchmark.objects.get(slug=_benchmark(world)),
        project=world.private.path,
        variant=_fresh_variant(world, "admin"),
    )
    return submission.pk


def _batch() -> dict[str, Any]:
    return {"batch_id": str(uuid.uuid4()), "points": {"key": ["acc"], "step": [0], "value": [0.5]}}


Request = tuple[str, str, Any]  # method, path, body
Build = Callable[[World, str], Request]


@dataclass(frozen=True)
class Entry:
    rule: dict[str, Any]
    build: Build
    api: bool = True
    mlflow: bool = False  # errors in MLflow's shape, {"error_code", "message"} (server/mlflow_compat)


def api(method: str, path: Callable[[World, str], str], body: Callable[[World, str], Any] | None = None) -> Build:
    return lambda world, caller: (method, path(world, caller), body(world, caller) if body else None)


ENTRIES: dict[tuple[str, str], Entry] = {
    # (route name, method) -> entry
    ("healthz", "GET"): Entry(PUBLIC, api("GET", lambda w, c: "/healthz")),
    ("schema", "GET"): Entry(PUBLIC, api("GET", lambda w, c: "/api/v1/schema/")),
    ("docs", "GET"): Entry(PUBLIC, api("GET", lambda w, c: "/api/v1/docs/")),
    ("whoami", "GET"): Entry(SIGNED_IN, api("GET", lambda w, c: "/api/v1/auth/whoami/")),
    ("tokens", "GET"): Entry(SIGNED_IN, api("GET", lambda w, c: "/api/v1/tokens/")),
    ("tokens", "POST"): Entry(SIGNED_IN, api("POST", lambda w, c: "/api/v1/tokens/", lambda w, c: {"name": "x"})),
    ("token-detail", "DELETE"): Entry(
        SIGNED_IN, api("DELETE", lambda w, c: f"/api/v1/tokens/{w.fresh_token_of(USERNAMES.get(c, 'alice'))}/")
    ),
    ("teams", "GET"): Entry(SIGNED_IN, api("GET", lambda w, c: "/api/v1/teams/")),
    ("teams", "POST"): Entry(
        SIGNED_IN, api("POST", lambda w, c: "/api/v1/teams/", lambda w, c: {"slug": f"t-{uuid.uuid4().hex[:8]}"})
    ),
    ("team-detail", "GET"): Entry(TEAM_READ, api("GET", lambda w, c: "/api/v1/teams/acme/")),
    ("team-members", "POST"): Entry(
        TEAM_ADMIN,
        api(
            "POST",
            lambda w, c: "/api/v1/teams/acme/members/",
            lambda w, c: {"username": f"new-{uuid.uuid4().hex[:8]}", "create_user": True},
        ),
    ),
    ("team-member-detail", "PATCH"): Entry(
        TEAM_ADMIN,
        api("PATCH", lambda w, c: f"/api/v1/teams/acme/members/{w.fresh_member()}/", lambda w, c: {"role": "member"}),
    ),
    ("team-member-detail", "DELETE"): Entry(
        TEAM_ADMIN, api("DELETE", lambda w, c: f"/api/v1/teams/acme/members/{w.fresh_member()}/")
    ),
    ("team-tokens", "GET"): Entry(TEAM_ADMIN, api("GET", lambda w, c: "/api/v1/teams/acme/tokens/")),
    ("team-token-detail", "DELETE"): Entry(
        TEAM_ADMIN, api("DELETE", lambda w, c: f"/api/v1/teams/acme/tokens/{w.fresh_token_of('vera')}/")
    ),
    ("team-audit", "GET"): Entry(TEAM_ADMIN, api("GET", lambda w, c: "/api/v1/teams/acme/audit/")),
    ("projects", "GET"): Entry(SIGNED_IN, api("GET", lambda w, c: "/api/v1/projects/")),
    ("projects", "POST"): Entry(
        TEAM_READ | {"viewer": 403},
        api("POST", lambda w, c: "/api/v1/projects/", lambda w, c: {"team": "acme", "slug": uuid.uuid4().hex[:8]}),
    ),
    ("project-detail", "GET"): Entry(PROJECT_READ, api("GET", lambda w, c: f"/api/v1/projects/{w.path(c)}/")),
    ("project-detail", "PATCH"): Entry(
        PROJECT_WRITE, api("PATCH", lambda w, c: f"/api/v1/projects/{w.path(c)}/", lambda w, c: {"description": c})
    ),
    ("project-detail", "DELETE"): Entry(
        PROJECT_ADMIN, api("DELETE", lambda w, c: f"/api/v1/projects/{w.fresh_project(c)}/")
    ),
    ("project-metrics", "GET"): Entry(
        PROJECT_READ, api("GET", lambda w, c: f"/api/v1/projects/{w.path(c)}/metrics/?key=acc")
    ),
    ("project-export", "GET"): Entry(
        PROJECT_READ, api("GET", lambda w, c: f"/api/v1/projects/{w.path(c)}/export/?format=csv")
    ),
    ("runs", "GET"): Entry(PROJECT_READ, api("GET", lambda w, c: f"/api/v1/runs/?project={w.path(c)}")),
    ("variants", "GET"): Entry(PROJECT_READ, api("GET", lambda w, c: f"/api/v1/variants/?project={w.path(c)}")),
    ("runs", "POST"): Entry(
        PROJECT_WRITE, api("POST", lambda w, c: "/api/v1/runs/", lambda w, c: {"project": w.path(c), "model": "m"})
    ),
    ("run-detail", "GET"): Entry(PROJECT_READ, api("GET", lambda w, c: f"/api/v1/runs/{w.run_id(c)}/")),
    ("run-detail", "PATCH"): Entry(
        PROJECT_WRITE, api("PATCH", lambda w, c: f"/api/v1/runs/{w.run_id(c)}/", lambda w, c: {"tags": [c]})
    ),
    ("run-resume", "POST"): Entry(
        PROJECT_WRITE,
        api(
            "POST",
            lambda w, c: f"/api/v1/runs/{w.run_id(c)}/resume/",
            lambda w, c: {"project": w.path(c), "model": "m", "seed": 0, "config": {"lr": 0.1}, "mode": "must"},
        ),
    ),
    ("run-metrics", "GET"): Entry(PROJECT_READ, api("GET", lambda w, c: f"/api/v1/runs/{w.run_id(c)}/metrics/")),
    ("run-metrics", "POST"): Entry(
        PROJECT_WRITE, api("POST", lambda w, c: f"/api/v1/runs/{w.run_id(c)}/metrics/", lambda w, c: _batch())
    ),
    ("metric-definitions", "GET"): Entry(
        PROJECT_READ, api("GET", lambda w, c: f"/api/v1/projects/{w.path(c)}/metric-definitions/")
    ),
    ("metric-definitions", "PUT"): Entry(
        PROJECT_WRITE,
        api(
            "PUT",
            lambda w, c: f"/api/v1/projects/{w.path(c)}/metric-definitions/",
            lambda w, c: {"key": "acc", "goal": "max"},
        ),
    ),
    ("variant-stats", "GET"): Entry(
        PROJECT_READ, api("GET", lambda w, c: f"/api/v1/projects/{w.path(c)}/variants/?metric=acc")
    ),
    ("curves", "GET"): Entry(PROJECT_READ, api("GET", lambda w, c: f"/api/v1/projects/{w.path(c)}/curves/?metric=acc")),
    ("tuning", "GET"): Entry(PROJECT_READ, api("GET", lambda w, c: f"/api/v1/projects/{w.path(c)}/tuning/?metric=acc")),
    ("comparisons", "GET"): Entry(PROJECT_READ, api("GET", lambda w, c: f"/api/v1/comparisons/?project={w.path(c)}")),
    ("comparisons", "POST"): Entry(
        PROJECT_WRITE,
        api("POST", lambda w, c: "/api/v1/comparisons/", lambda w, c: {"projects": [w.path(c)], "metric": "acc"}),
    ),
    ("comparison-detail", "GET"): Entry(
        PROJECT_READ, api("GET", lambda w, c: f"/api/v1/comparisons/{w.comparison_id(c)}/")
    ),
    ("comparison-export", "GET"): Entry(
        PROJECT_READ, api("GET", lambda w, c: f"/api/v1/comparisons/{w.comparison_id(c)}/export/?format=parquet")
    ),
    # Benchmarks: read by every signed-in user; created and edited by admins of the owner team
    # (acme); submitted to by members of the project's team; withdrawn by members of the
    # submitting team (others see the submission, so 403, not 404).
    ("benchmarks", "GET"): Entry(SIGNED_IN, api("GET", lambda w, c: "/api/v1/benchmarks/")),
    ("benchmarks", "POST"): Entry(
        TEAM_ADMIN,
        api(
            "POST",
            lambda w, c: "/api/v1/benchmarks/",
            lambda w, c: {"team": "acme", "slug": uuid.uuid4().hex[:8], "name": "B", "tasks": ["t"], "metric": "acc"},
        ),
    ),
    ("benchmark-detail", "GET"): Entry(SIGNED_IN, api("GET", lambda w, c: f"/api/v1/benchmarks/{_benchmark(w)}/")),
    ("benchmark-detail", "PATCH"): Entry(
        TEAM_ADMIN | {"reader": 403, "outsider": 403},
        api("PATCH", lambda w, c: f"/api/v1/benchmarks/{_benchmark(w)}/", lambda w, c: {"description": c}),
    ),
    ("benchmark-leaderboard", "GET"): Entry(
        SIGNED_IN, api("GET", lambda w, c: f"/api/v1/benchmarks/{_benchmark(w)}/leaderboard/")
    ),
    ("benchmark-submissions", "GET"): Entry(
        SIGNED_IN, api("GET", lambda w, c: f"/api/v1/benchmarks/{_benchmark(w)}/submissions/")
    ),
    ("benchmark-submissions", "POST"): Entry(
        PROJECT_WRITE,
        api(
            "POST",
            lambda w, c: f"/api/v1/benchmarks/{_benchmark(w)}/submissions/",
            lambda w, c: {"project": w.path(c), "variant": _fresh_variant(w, c)},
        ),
    ),
    ("benchmark-submission-detail", "DELETE"): Entry(
        TEAM_ADMIN | {"member": "ok", "reader": 403, "outsider": 403},
        api("DELETE", lambda w, c: f"/api/v1/benchmarks/{_benchmark(w)}/submissions/{_fresh_submission(w)}/"),
    ),
    # The pages, signed in with a session.
    ("web:home", "GET"): Entry(page(SIGNED_IN), api("GET", lambda w, c: "/"), api=False),
    ("web:login", "GET"): Entry(PUBLIC, api("GET", lambda w, c: "/login/"), api=False),
    ("web:logout", "POST"): Entry(PUBLIC, api("POST", lambda w, c: "/logout/"), api=False),
    ("web:search", "GET"): Entry(page(SIGNED_IN), api("GET", lambda w, c: "/search/?q=x"), api=False),
    ("web:tokens", "GET"): Entry(page(SIGNED_IN), api("GET", lambda w, c: "/tokens/"), api=False),
    ("web:token_revoke", "POST"): Entry(
        page(SIGNED_IN),
        api("POST", lambda w, c: f"/tokens/{w.fresh_token_of(USERNAMES.get(c, 'alice'))}/revoke/"),
        api=False,
    ),
    ("web:team_create", "POST"): Entry(
        page(SIGNED_IN),
        api("POST", lambda w, c: "/teams/new/", lambda w, c: {"slug": f"t-{uuid.uuid4().hex[:8]}"}),
        api=False,
    ),
    ("web:team", "GET"): Entry(page(TEAM_READ), api("GET", lambda w, c: "/teams/acme/"), api=False),
    ("web:team", "POST"): Entry(
        page(TEAM_ADMIN),
        api("POST", lambda w, c: "/teams/acme/", lambda w, c: {"action": "role", "username": "vera", "role": "viewer"}),
        api=False,
    ),
    ("web:team_audit", "GET"): Entry(page(TEAM_ADMIN), api("GET", lambda w, c: "/teams/acme/audit/"), api=False),
    ("web:compare_new", "GET"): Entry(
        page(PROJECT_READ), api("GET", lambda w, c: f"/compare/new/?project={w.path(c)}"), api=False
    ),
    ("web:compare_new", "POST"): Entry(
        page(PROJECT_WRITE),
        api("POST", lambda w, c: "/compare/new/", lambda w, c: {"project": w.path(c), "metric": "acc"}),
        api=False,
    ),
    ("web:compare", "GET"): Entry(
        page(PROJECT_READ), api("GET", lambda w, c: f"/compare/{w.comparison_id(c)}/"), api=False
    ),
    ("web:compare_status", "GET"): Entry(
        page(PROJECT_READ), api("GET", lambda w, c: f"/compare/{w.comparison_id(c)}/status.json"), api=False
    ),
    ("web:compare_pairs_csv", "GET"): Entry(
        page(PROJECT_READ), api("GET", lambda w, c: f"/compare/{w.comparison_id(c)}/pairs.csv"), api=False
    ),
    ("web:benchmarks", "GET"): Entry(page(SIGNED_IN), api("GET", lambda w, c: "/benchmarks/"), api=False),
    ("web:benchmark", "GET"): Entry(
        page(SIGNED_IN), api("GET", lambda w, c: f"/benchmarks/{_benchmark(w)}/"), api=False
    ),
    ("web:benchmark_status", "GET"): Entry(
        page(SIGNED_IN), api("GET", lambda w, c: f"/benchmarks/{_benchmark(w)}/status.json"), api=False
    ),
    ("web:benchmark_submit", "POST"): Entry(
        page(PROJECT_WRITE),
        api(
            "POST",
            lambda w, c: f"/benchmarks/{_benchmark(w)}/submit/",
            lambda w, c: {"entry": f"{w.path(c)}|{_fresh_variant(w, c)}"},
        ),
        api=False,
    ),
    ("web:benchmark_withdraw", "POST"): Entry(
        page(TEAM_ADMIN | {"member": "ok", "reader": 403, "outsider": 403}),
        api("POST", lambda w, c: f"/benchmarks/{_benchmark(w)}/submissions/{_fresh_submission(w)}/withdraw/"),
        api=False,
    ),
    ("web:run", "GET"): Entry(page(PROJECT_READ), api("GET", lambda w, c: f"/runs/{w.run_id(c)}/"), api=False),
    ("web:run_status", "GET"): Entry(
        page(PROJECT_READ), api("GET", lambda w, c: f"/runs/{w.run_id(c)}/status.json"), api=False
    ),
    ("web:project", "GET"): Entry(page(PROJECT_READ), api("GET", lambda w, c: f"/{w.path(c)}/"), api=False),
    ("web:project_runs_live", "GET"): Entry(
        page(PROJECT_READ), api("GET", lambda w, c: f"/{w.path(c)}/runs.json"), api=False
    ),
    ("web:project_variants", "GET"): Entry(
        page(PROJECT_READ), api("GET", lambda w, c: f"/{w.path(c)}/variants/"), api=False
    ),
    ("web:project_seeds", "GET"): Entry(page(PROJECT_READ), api("GET", lambda w, c: f"/{w.path(c)}/seeds/"), api=False),
    ("web:project_hyperparameters", "GET"): Entry(
        page(PROJECT_READ), api("GET", lambda w, c: f"/{w.path(c)}/hyperparameters/"), api=False
    ),
    ("web:project_settings", "GET"): Entry(
        page(PROJECT_ADMIN), api("GET", lambda w, c: f"/{w.path(c)}/settings/"), api=False
    ),
    ("web:project_settings", "POST"): Entry(
        page(PROJECT_ADMIN),
        api(
            "POST",
            lambda w, c: f"/{w.path(c)}/settings/",
            lambda w, c: {"action": "visibility", "visibility": "private" if c != "reader" else "internal"},
        ),
        api=False,
    ),
}


def _mlflow(method: str, endpoint: str, body: Callable[[World, str], Any] | None = None, query: str = "") -> Build:
    """A request to the MLflow API (server/mlflow_compat); `query` and `body` may name {run}, {experiment}."""

    def build(world: World, caller: str) -> Request:
        fill = {"run": uuid.UUID(world.run_id(caller)).hex, "experiment": world.project(caller).pk,
                "path": world.path(caller)}  # fmt: skip
        path = f"/mlflow/api/2.0/mlflow/{endpoint}" + ("?" + query.format(**fill) if query else "")
        return method, path, body(world, caller) if body else None

    return build


def _mlflow_tagged(world: World, caller: str) -> dict[str, Any]:
    """A delete-tag body for a tag the caller's run has (set here, so each caller finds one)."""
    run = world.runs["internal" if caller == "reader" else "private"]
    run.refresh_from_db()
    run.metadata = {**run.metadata, "mlflow": {"params": {}, "tags": {"doomed": "1"}}}
    run.save(update_fields=["metadata"])
    return {"run_id": run.uuid.hex, "key": "doomed"}


def _run_body(**fields: Any) -> Callable[[World, str], Any]:
    return lambda w, c: {"run_id": uuid.UUID(w.run_id(c)).hex, **fields}


MLFLOW_ENTRIES: dict[tuple[str, str], Entry] = {
    (f"mlflow-{name}", method): Entry(rule, build, mlflow=True)
    for name, method, rule, build in [
        ("experiments-create", "POST", SIGNED_IN | {"viewer": 403},
         _mlflow("POST", "experiments/create", lambda w, c: {"name": f"e-{uuid.uuid4().hex[:8]}"})),
        ("experiments-get", "GET", PROJECT_READ, _mlflow("GET", "experiments/get", query="experiment_id={experiment}")),
        ("experiments-get-by-name", "GET", PROJECT_READ,
         _mlflow("GET", "experiments/get-by-name", query="experiment_name={path}")),
        ("experiments-search", "POST", SIGNED_IN, _mlflow("POST", "experiments/search", lambda w, c: {})),
        ("runs-create", "POST", PROJECT_WRITE,
         _mlflow("POST", "runs/create", lambda w, c: {"experiment_id": str(w.project(c).pk)})),
        ("runs-get", "GET", PROJECT_READ, _mlflow("GET", "runs/get", query="run_id={run}")),
        ("runs-update", "POST", PROJECT_WRITE, _mlflow("POST", "runs/update", _run_body(run_name="renamed"))),
        ("runs-delete", "POST", PROJECT_WRITE, _mlflow("POST", "runs/delete", _run_body())),
        ("runs-restore", "POST", PROJECT_WRITE, _mlflow("POST", "runs/restore", _run_body())),
        ("runs-search", "POST", PROJECT_READ,
         _mlflow("POST", "runs/search", lambda w, c: {"experiment_ids": [str(w.project(c).pk)]})),
        ("runs-log-metric", "POST", PROJECT_WRITE,
         _mlflow("POST", "runs/log-metric", _run_body(key="acc", value=0.5, timestamp=0, step=1))),
        ("runs-log-parameter", "POST", PROJECT_WRITE,
         _mlflow("POST", "runs/log-parameter", lambda w, c: _run_body(key=f"p-{c}", value="1")(w, c))),
        ("runs-log-batch", "POST", PROJECT_WRITE,
         _mlflow("POST", "runs/log-batch", _run_body(metrics=[{"key": "acc", "value": 0.5, "step": 2}]))),
        ("runs-set-tag", "POST", PROJECT_WRITE, _mlflow("POST", "runs/set-tag", _run_body(key="t", value="v"))),
        ("runs-delete-tag", "POST", PROJECT_WRITE, _mlflow("POST", "runs/delete-tag", _mlflow_tagged)),
        ("runs-log-inputs", "POST", PROJECT_WRITE, _mlflow("POST", "runs/log-inputs", _run_body(datasets=[]))),
        ("metrics-get-history", "GET", PROJECT_READ,
         _mlflow("GET", "metrics/get-history", query="run_id={run}&metric_key=acc")),
        # What Seedboard does not serve (artifacts, models, traces...): ENDPOINT_NOT_FOUND for anyone.
        ("not-found", "GET", dict.fromkeys(CALLERS, 404), _mlflow("GET", "artifacts/list", query="run_id={run}")),
    ]
}  # fmt: skip
ENTRIES.update(MLFLOW_ENTRIES)

# Not Seedboard's to guard: Django's admin site (staff sign-in of its own).
SKIPPED_PREFIXES = ("admin/",)


def _routes() -> set[tuple[str, str]]:
    """(route name, method) of every URL pattern; API views list the methods they implement,
    function views the ones their table entries name (their decorators allow no others)."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith(SKIPPED_PREFIXES):
                    continue
                name = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), name)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}{pattern.name}"
                view_class = getattr(pattern.callback, "view_class", None)
                # A view may be limited to some of its methods by as_view(http_method_names=...).
                allowed = getattr(pattern.callback, "view_initkwargs", {}).get("http_method_names")
                methods = [
                    m
                    for m in ("get", "post", "put", "patch", "delete")
                    if view_class and hasattr(view_class, m) and (allowed is None or m in allowed)
                ]
                if view_class is None or not methods or name.startswith("web:"):
                    methods = [m.lower() for (n, m) in ENTRIES if n == name] or ["get"]
                found.update((name, method.upper()) for method in methods)

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_route_has_an_entry() -> None:
    routes = _routes()
    assert sorted(routes - set(ENTRIES)) == [], "routes without an access rule: add them to ENTRIES"
    assert sorted(set(ENTRIES) - routes) == [], "entries of routes that no longer exist"


def _client(world: World, caller: str, *, is_api: bool) -> Any:
    if caller == "anonymous":
        return APIClient() if is_api else Client()
    if is_api:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.tokens[caller]}")
        return client
    client = Client()
    client.force_login(get_user_model().objects.get(username=USERNAMES[caller]))
    return client


# Refused callers first: a refusal must change nothing, and the allowed ones then still find
# what they act on.
ORDER = ("anonymous", "outsider", "reader", "viewer", "member", "admin")


@pytest.mark.parametrize("route", sorted(ENTRIES), ids=lambda route: f"{route[1]} {route[0]}")
def test_each_caller_gets_what_the_rule_says(world: World, route: tuple[str, str]) -> None:
    entry = ENTRIES[route]
    for caller in ORDER:
        method, path, body = entry.build(world, caller)
        client = _client(world, caller, is_api=entry.api)
        kwargs = {"format": "json"} if entry.api and body is not None else {}
        response = (
            getattr(client, method.lower())(path, body, **kwargs)
            if body is not None
            else getattr(client, method.lower())(path)
        )
        expected = entry.rule[caller]
        if expected == "ok":
            assert response.status_code < 400, (caller, method, path, response.status_code, response.content[:300])
        else:
            assert response.status_code == expected, (caller, method, path, response.content[:300])
        if (
            entry.api
            and response.status_code >= 400
            and response.get("Content-Type", "").startswith("application/json")
        ):
            if entry.mlflow:
                assert set(response.json()) == {"error_code", "message"}
            else:
                assert set(response.json()["error"]) == {"code", "message", "field"}
