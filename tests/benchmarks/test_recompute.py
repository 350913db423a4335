"""The leaderboard row on the stats recompute protocol: requeued when lost, quiet when gone,
and list endpoints whose query count does not grow with the number of rows."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from server.benchmarks import services
from server.benchmarks.models import Leaderboard
from server.stats import services as stats_services
from tests.benchmarks.conftest import URL, log_variant

GOOD = {"cifar10": [0.90, 0.91, 0.92], "svhn": [0.80, 0.81, 0.82]}


def test_the_requeue_sweep_sends_a_lost_leaderboard_recompute_again(
    acme, make_benchmark, acme_project, django_capture_on_commit_callbacks
):
    make_benchmark()
    variant = log_variant(acme_project, model="resnet18", scores=GOOD)
    acme.post(f"{URL}small/submissions/", {"project": "acme/study", "variant": variant}, format="json")
    long_ago = timezone.now() - timedelta(seconds=settings.SEEDBOARD_STATS_REQUEUE_AFTER + 1)
    Leaderboard.objects.update(marked_at=long_ago)  # its message was lost with the broker
    with django_capture_on_commit_callbacks() as queued:
        assert stats_services.stats_requeue() == 1
        assert stats_services.stats_requeue() == 0  # once per interval
    assert len(queued) == 1


def test_a_recompute_of_a_deleted_benchmark_returns_quietly(db):
    assert services.leaderboard_recompute(benchmark_id=10**9) == "gone"


def test_listing_benchmarks_and_submissions_costs_the_same_queries_for_few_or_many(acme, make_benchmark, acme_project):
    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert acme.get(url).status_code == 200
        return len(captured)

    make_benchmark(slug="first")
    first = log_variant(acme_project, model="resnet18", scores=GOOD)
    acme.post(f"{URL}first/submissions/", {"project": "acme/study", "variant": first}, format="json")
    few = (queries(URL), queries(f"{URL}first/submissions/"), queries(f"{URL}first/leaderboard/"))
    for slug in ("second", "third", "fourth"):
        make_benchmark(slug=slug)
    for model in ("vit", "convnext", "deit"):
        variant = log_variant(acme_project, model=model, scores=GOOD)
        acme.post(f"{URL}first/submissions/", {"project": "acme/study", "variant": variant}, format="json")
    assert (queries(URL), queries(f"{URL}first/submissions/"), queries(f"{URL}first/leaderboard/")) == few
