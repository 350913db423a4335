from __future__ import annotations

import math
import threading
import uuid

import numpy as np
import pytest
from django.db import connection

from server.tracking.models import IngestBatch, MetricKey, MetricSummary

NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def new_run(api, project="acme/proj"):
    return api.post("/api/v1/runs/", {"project": project, "model": "m"}, format="json").json()["id"]


def post_batch(api, run_id, points, batch_id=None):
    body = {"batch_id": batch_id or str(uuid.uuid4()), "points": points}
    return api.post(f"/api/v1/runs/{run_id}/metrics/", body, format="json")


def from_wire(values):
    return [NON_FINITE[v] if isinstance(v, str) else v for v in values]


def stored_points() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tracking_metric_point")
        return cursor.fetchone()[0]


def test_100k_points_with_non_finite_values_and_huge_steps_round_trip_exactly(api):
    run_id = new_run(api)
    rng = np.random.default_rng(0)
    keys = ["train/loss", "val/acc", "lr", "grad/norm"]
    expected = {}
    for i, key in enumerate(keys):
        n = 25_000
        steps = np.sort(rng.choice(2**62, size=n, replace=False)).tolist() if i == 3 else list(range(n))
        values = rng.normal(size=n)
        values[::997] = np.nan
        values[5::1999] = np.inf
        values[7::2999] = -np.inf
        wire = [
            ("NaN" if v != v else "Infinity" if v > 0 else "-Infinity") if not math.isfinite(v) else v
            for v in values.tolist()
        ]
        times = (1.7e9 + np.arange(n) * 0.25).tolist()
        for lo in range(0, n, 12_500):
            sl = slice(lo, lo + 12_500)
            response = post_batch(
                api, run_id, {"key": [key] * 12_500, "step": steps[sl], "value": wire[sl], "time": times[sl]}
            )
            assert response.status_code == 200, response.json()
            assert response.json()["stored"] == 12_500
        expected[key] = (steps, values.tolist(), times)
    body = api.get(f"/api/v1/runs/{run_id}/metrics/").json()
    assert set(body["metrics"]) == set(keys)
    for key, (steps, values, times) in expected.items():
        got = body["metrics"][key]
        assert got["step"] == steps
        assert got["time"] == times
        np.testing.assert_array_equal(np.array(from_wire(got["value"])), np.array(values))  # NaN == NaN here
        assert got["count"] == 25_000 and got["downsampled"] is False


def test_summaries_track_count_first_last_min_max_across_batches(api):
    run_id = new_run(api)
    post_batch(api, run_id, {"key": ["a", "a", "a"], "step": [5, 3, 4], "value": [1.0, "NaN", -2.0]})
    post_batch(api, run_id, {"key": ["a", "a"], "step": [1, 9], "value": [7.5, 0.25]})
    post_batch(api, run_id, {"key": ["a"], "step": [2], "value": [100.0]})
    metrics = api.get(f"/api/v1/runs/{run_id}/").json()["metrics"]
    assert metrics["a"] == {"count": 6, "first_step": 1, "last_step": 9, "last_value": 0.25, "min": -2.0, "max": 100.0}


def test_a_key_logged_only_as_nan_has_no_min_or_max(api):
    run_id = new_run(api)
    post_batch(api, run_id, {"key": ["x", "x"], "step": [0, 1], "value": ["NaN", "NaN"]})
    summary = api.get(f"/api/v1/runs/{run_id}/").json()["metrics"]["x"]
    assert (summary["count"], summary["min"], summary["max"]) == (2, None, None)


def test_the_same_batch_sent_twice_is_stored_once(api):
    run_id = new_run(api)
    batch_id = str(uuid.uuid4())
    points = {"key": ["a", "b"], "step": [0, 0], "value": [1.0, 2.0]}
    first = post_batch(api, run_id, points, batch_id).json()
    second = post_batch(api, run_id, points, batch_id).json()
    assert (first["stored"], first["duplicate"]) == (2, False)
    assert (second["stored"], second["duplicate"]) == (0, True)
    assert stored_points() == 2
    assert MetricSummary.objects.get(key__name="a").count == 1


def test_a_reused_batch_id_with_another_body_adds_no_key_names(api):
    run_id = new_run(api)
    batch_id = str(uuid.uuid4())
    assert post_batch(api, run_id, {"key": ["a"], "step": [0], "value": [1.0]}, batch_id).json()["stored"] == 1
    reused = post_batch(api, run_id, {"key": ["never/stored"], "step": [0], "value": [1.0]}, batch_id).json()
    assert (reused["stored"], reused["duplicate"]) == (0, True)
    assert not MetricKey.objects.filter(name="never/stored").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_of_one_batch_store_it_once(client_for):
    # A retry racing the original request (the response was lost, not the request).
    api = client_for()
    run_id = new_run(api)
    batch_id = str(uuid.uuid4())
    points = {"key": ["a"] * 5000, "step": list(range(5000)), "value": [0.5] * 5000}
    results = []

    def upload():
        try:
            results.append(post_batch(api, run_id, points, batch_id).json())
        finally:
            connection.close()

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["duplicate"] for r in results) == [False, True, True, True]
    assert stored_points() == 5000
    assert IngestBatch.objects.count() == 1
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tracking_metric_point")


def test_the_same_batch_id_in_two_runs_is_two_batches(api):
    batch_id = str(uuid.uuid4())
    for run_id in (new_run(api), new_run(api)):
        assert post_batch(api, run_id, {"key": ["a"], "step": [0], "value": [1]}, batch_id).json()["stored"] == 1


def test_history_can_select_keys_and_a_step_range(api):
    run_id = new_run(api)
    post_batch(api, run_id, {"key": ["a"] * 10 + ["b"] * 10, "step": list(range(10)) * 2, "value": list(range(20))})
    body = api.get(f"/api/v1/runs/{run_id}/metrics/?key=b&min_step=3&max_step=5").json()
    assert list(body["metrics"]) == ["b"]
    assert body["metrics"]["b"]["step"] == [3, 4, 5]
    assert body["metrics"]["b"]["value"] == [13.0, 14.0, 15.0]
    assert api.get(f"/api/v1/runs/{run_id}/metrics/?key=b&min_step=50").json()["metrics"]["b"]["step"] == []
    assert api.get(f"/api/v1/runs/{run_id}/metrics/?key=nope").json()["error"]["code"] == "unknown_metric"


def test_downsampled_history_keeps_spikes_and_exact_end_points(api):
    run_id = new_run(api)
    n = 20_000
    values = np.sin(np.arange(n) / 500.0)
    values[12_345] = 50.0  # a spike
    values[777] = -50.0  # a dip
    post_batch(api, run_id, {"key": ["loss"] * n, "step": list(range(n)), "value": values.tolist()})
    got = api.get(f"/api/v1/runs/{run_id}/metrics/?key=loss&max_points=200").json()["metrics"]["loss"]
    assert got["downsampled"] is True and got["count"] == n
    assert len(got["step"]) <= 200
    assert got["step"][0] == 0 and got["step"][-1] == n - 1
    assert got["value"][-1] == values[-1]
    assert 12_345 in got["step"] and 777 in got["step"]
    assert max(got["value"]) == 50.0 and min(got["value"]) == -50.0
    assert got["step"] == sorted(got["step"])


def test_project_history_returns_one_key_for_many_runs(api):
    run_ids = [new_run(api) for _ in range(3)]
    for i, run_id in enumerate(run_ids):
        post_batch(
            api, run_id, {"key": ["val/acc"] * 5, "step": list(range(5)), "value": [i + 0.1 * s for s in range(5)]}
        )
    other = new_run(api, "acme/elsewhere")
    url = f"/api/v1/projects/acme/proj/metrics/?key=val/acc&run={run_ids[0]}&run={run_ids[2]}&run={other}"
    body = api.get(url).json()
    assert [r["run"] for r in body["runs"]] == [run_ids[0], run_ids[2]]
    assert body["runs"][1]["value"] == [2.0, 2.1, 2.2, 2.3, 2.4]
    every = api.get("/api/v1/projects/acme/proj/metrics/?key=val/acc&max_points=2").json()["runs"]
    assert len(every) == 3 and all(len(r["step"]) == 2 and r["downsampled"] for r in every)
