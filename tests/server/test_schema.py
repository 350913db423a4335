from __future__ import annotations

from django.core.management import call_command


def test_the_openapi_schema_is_valid_and_documents_every_api_endpoint(tmp_path):
    import json

    out = tmp_path / "schema.json"
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out))

    schema = json.loads(out.read_text())
    documented = set(schema["paths"])
    for path in [
        "/api/v1/runs/",
        "/api/v1/runs/{run_id}/",
        "/api/v1/runs/{run_id}/metrics/",
        "/api/v1/projects/",
        "/api/v1/projects/{team}/{project}/",
        "/api/v1/projects/{team}/{project}/metrics/",
        "/api/v1/auth/whoami/",
    ]:
        assert path in documented, path
    for path in ["/api/v1/projects/{team}/{project}/export/", "/api/v1/comparisons/{comparison_id}/export/"]:
        export = schema["paths"][path]["get"]
        assert set(export["responses"]["200"]["content"]) == {"text/csv", "application/vnd.apache.parquet"}
        assert {"400", "401", "404"} <= set(export["responses"])
        formats = next(p for p in export["parameters"] if p["name"] == "format")["schema"]["enum"]
        assert formats == ["csv", "parquet"]
    ingest = schema["paths"]["/api/v1/runs/{run_id}/metrics/"]["post"]
    assert {"200", "400", "401", "404", "413"} <= set(ingest["responses"])
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_schema_and_docs_are_served(api, client):
    assert api.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}
