"""Statistics results display themselves in a notebook: the web UI's charts plus a table."""

from __future__ import annotations

import time
from typing import Any

import pytest
import seedboard
from IPython.core.formatters import DisplayFormatter

from tests.sdk.test_statistics import stats_worker  # noqa: F401  (a fixture)

METRIC = "val/acc"


@pytest.fixture
def small_study(server: Any, project: str, stats_worker: None) -> str:  # noqa: F811
    for model, level in (("resnet18", 0.9), ("vit", 0.8)):
        for seed in (0, 1, 2):
            with seedboard.init(project, model=model, config={"lr": 0.1}, seed=seed) as run:
                for step in range(5):
                    run.log({METRIC: level - 0.1 / (step + 1) + seed * 0.001}, step=step)
    return project


def _vegalite(bundle: dict[str, Any]) -> dict[str, Any]:
    kinds = [kind for kind in bundle if kind.startswith("application/vnd.vegalite.v")]
    assert len(kinds) == 1, sorted(bundle)
    spec = bundle[kinds[0]]
    major = spec["$schema"].split("/vega-lite/v")[1].split(".")[0]
    assert kinds[0] == f"application/vnd.vegalite.v{major}+json"
    return spec


def test_variants_curves_and_comparisons_display_charts_and_a_table(small_study: str) -> None:
    api = seedboard.Api()
    formatter = DisplayFormatter()
    deadline = time.monotonic() + 30
    while (variants := api.variants(small_study, METRIC)).status != "fresh" or len(variants) < 2:
        assert time.monotonic() < deadline, variants.meta
        time.sleep(0.2)

    bundle, _ = formatter.format(variants)
    spec = _vegalite(bundle)
    assert spec == variants.charts["final_scores"]
    assert "resnet18" in bundle["text/html"] and "<table>" in bundle["text/html"]
    assert "seedboard variants of &#x27;val/acc&#x27;" in bundle["text/html"]

    curves = api.curves(small_study, METRIC)
    bundle, _ = formatter.format(curves)
    assert _vegalite(bundle) == curves.charts["learning_curves"]
    assert bundle["text/html"].count("<tr>") == 1 + len(curves) == 3

    comparison = api.compare(small_study, METRIC, timeout=60)
    bundle, _ = formatter.format(comparison)
    assert set(comparison.charts) == {"ranking", "final_scores", "pairs"}
    assert _vegalite(bundle) == comparison.charts["ranking"]
    assert "vit" in bundle["text/html"]
    pairs, _ = formatter.format(comparison.chart("pairs"))
    assert _vegalite(pairs) == comparison.charts["pairs"]
    with pytest.raises(KeyError, match="no chart 'nope'"):
        comparison.chart("nope")


def test_include_is_checked(server: Any, small_study: str) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {server.token}"}
    url = f"{server.url}/api/v1/projects/{small_study}/variants/"
    response = httpx.get(url, params={"metric": METRIC, "include": "pictures"}, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "include"
    plain = httpx.get(url, params={"metric": METRIC}, headers=headers).json()
    assert "charts" not in plain
