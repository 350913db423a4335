"""A recompute that kills its worker twice is marked failed, not handed to the next worker forever.

A SIGKILL (the kernel's out-of-memory killer) runs no except clause: the row keeps its claim,
status computing, and the broker re-delivers the task (acks_late). Here the computation raises
a BaseException the service does not catch, which leaves the row exactly so, and the service
is called again as the re-delivered task calls it.
"""

from __future__ import annotations

import pytest

from server.stats import compute, services
from server.stats.models import Comparison, Status
from tests.stats.test_comparisons_api import SCORES, URL, log_study


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so `_release` never records it."""


def _killed(*args: object, **kwargs: object) -> dict:
    raise WorkerKilled


def _inputs_changed(comparison: Comparison) -> None:
    """What a finished seed does to a comparison: stale, pending, a new fingerprint to compute."""
    Comparison.objects.filter(pk=comparison.pk).update(inputs_fingerprint="")
    project = comparison.projects.get()
    services.comparisons_mark_stale(project_id=project.pk, metric=comparison.metric)


@pytest.fixture
def comparison(db, api, project, eager_tasks, django_capture_on_commit_callbacks) -> Comparison:
    """A computed comparison of two variants."""
    log_study(project, models={m: SCORES[m] for m in ("resnet18", "resnet50")})
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, {"metric": "val/acc", "projects": ["acme/study"]}, format="json")
    saved = Comparison.objects.get(uuid=response.json()["id"])
    assert saved.status == Status.FRESH
    return saved


def test_a_comparison_stopped_twice_is_failed_with_a_readable_error(
    comparison, api, monkeypatch, django_capture_on_commit_callbacks
):
    computed = []
    monkeypatch.setattr(compute, "comparison_payload", lambda *a, **k: computed.append(1) or _killed())
    with django_capture_on_commit_callbacks(execute=False):
        _inputs_changed(comparison)
    task_id = str(comparison.uuid)
    for _ in range(2):  # delivered, killed; re-delivered, killed
        with pytest.raises(WorkerKilled):
            services.comparison_recompute(comparison_id=task_id)
    assert Comparison.objects.get(pk=comparison.pk).status == Status.COMPUTING

    assert services.comparison_recompute(comparison_id=task_id) == "failed"  # the third delivery
    assert len(computed) == 2
    body = api.get(f"{URL}{task_id}/").json()
    assert body["status"] == "failed"
    assert body["error"].startswith("the computation was stopped 2 times before it finished (out of memory or killed)")
    assert body["pairs"]  # the last results are still served
    # A duplicate message finds nothing to do; the requeue sweep leaves the row alone.
    assert services.comparison_recompute(comparison_id=task_id) == "nothing"
    assert services.stats_requeue() == 0


def test_a_failed_comparison_is_computed_again_when_its_inputs_change(
    comparison, api, monkeypatch, django_capture_on_commit_callbacks
):
    task_id = str(comparison.uuid)
    with monkeypatch.context() as patch:
        patch.setattr(compute, "comparison_payload", _killed)
        with django_capture_on_commit_callbacks(execute=False):
            _inputs_changed(comparison)
        for _ in range(2):
            with pytest.raises(WorkerKilled):
                services.comparison_recompute(comparison_id=task_id)
        assert services.comparison_recompute(comparison_id=task_id) == "failed"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        _inputs_changed(comparison)
    assert len(queued) == 1
    assert services.comparison_recompute(comparison_id=task_id) == "computed"
    body = api.get(f"{URL}{task_id}/").json()
    assert (body["status"], body["error"]) == ("fresh", None)


def test_a_change_between_two_kills_starts_the_count_again(comparison, monkeypatch, django_capture_on_commit_callbacks):
    """A claim after a change may run beside a live older one: only claims in a row count."""
    monkeypatch.setattr(compute, "comparison_payload", _killed)
    task_id = str(comparison.uuid)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=False):
            _inputs_changed(comparison)
        with pytest.raises(WorkerKilled):
            services.comparison_recompute(comparison_id=task_id)
        assert Comparison.objects.get(pk=comparison.pk).interrupted == 0
    with pytest.raises(WorkerKilled):  # re-delivered once: one interrupted claim, still computed
        services.comparison_recompute(comparison_id=task_id)
    assert Comparison.objects.get(pk=comparison.pk).interrupted == 1
