"""``/openapi.json`` describes every route of the app."""

from __future__ import annotations

import json
import re

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from trackline.server.routes import all_endpoints


def test_every_route_is_listed_with_its_methods(client: httpx.Client, app: Starlette) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    routes = [r for r in app.routes if isinstance(r, Route)]
    assert set(paths) == {_template(r.path) for r in routes}
    for route in routes:
        listed = set(paths[_template(route.path)])
        assert listed == {m.lower() for m in route.methods or () if m != "HEAD"}, route.path
    for endpoint in all_endpoints():
        for full_path in endpoint.full_paths():
            assert set(paths[_template(full_path)]) == {m.lower() for m in endpoint.methods}


def _template(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def test_path_templates_are_openapi_and_declare_their_parameters(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if ":" in p]  # no Starlette convertors like {path:path}
    tag = paths["/api/2.0/mlflow/logged-models/{model_id}/tags/{tag_key}"]["delete"]
    declared = {(p["name"], p["in"]) for p in tag["parameters"]}
    assert declared == {("model_id", "path"), ("tag_key", "path")}
    model = paths["/api/2.0/mlflow/logged-models/{model_id}"]["get"]
    assert ("model_id", "query") not in {(p["name"], p["in"]) for p in model["parameters"]}


def test_schemas_come_from_the_message_tables(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    create = document["paths"]["/api/2.0/mlflow/experiments/create"]["post"]
    body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    create_schema = schemas[body_ref.rsplit("/", 1)[-1]]
    assert create_schema["required"] == ["name"]
    assert create_schema["properties"]["tags"]["type"] == "array"
    get_run = document["paths"]["/api/2.0/mlflow/runs/get"]["get"]
    assert [p["name"] for p in get_run["parameters"]] == ["run_id"]
    assert get_run["parameters"][0]["required"] is True
    metric = schemas["Metric"]
    assert metric["properties"]["timestamp"] == {
        "type": "integer", "format": "int64", "description": "Epoch milliseconds."
    }  # fmt: skip
    assert "NaN" in str(metric["properties"]["value"])
    assert schemas["RunInfo"]["properties"]["status"]["enum"][0] == "RUNNING"
    health = document["paths"]["/health"]["get"]
    assert "Liveness" in health["summary"]
    # every $ref resolves to a filled-in schema
    refs = re.findall(r"#/components/schemas/(\w+)", json.dumps(document))
    assert refs
    for name in refs:
        assert schemas[name], name
