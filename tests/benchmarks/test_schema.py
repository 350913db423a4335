from __future__ import annotations

import json

from django.core.management import call_command


def test_every_benchmark_endpoint_is_documented_with_its_errors(tmp_path):
    out = tmp_path / "schema.json"
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out))
    paths = json.loads(out.read_text())["paths"]
    expected = {
        "/api/v1/benchmarks/": {"get": "200", "post": "201"},
        "/api/v1/benchmarks/{slug}/": {"get": "200", "patch": "200"},
        "/api/v1/benchmarks/{slug}/leaderboard/": {"get": "200"},
        "/api/v1/benchmarks/{slug}/submissions/": {"get": "200", "post": "201"},
        "/api/v1/benchmarks/{slug}/submissions/{submission_id}/": {"delete": "200"},
    }
    for path, methods in expected.items():
        for method, ok in methods.items():
            responses = set(paths[path][method]["responses"])
            assert {ok, "400", "401", "404"} <= responses, (path, method, responses)
    assert "409" in paths["/api/v1/benchmarks/{slug}/submissions/"]["post"]["responses"]
