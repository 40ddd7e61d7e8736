"""``registered-models/*``, ``model-versions/*`` and trackline's ``registry/events`` on both
prefixes: MLflow's wire shapes, the 3.x client's conventions, and a 4xx for every malformed
request with nothing changed."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from .conftest import Api, check_error

INVALID = "INVALID_PARAMETER_VALUE"
MISSING = "RESOURCE_DOES_NOT_EXIST"
EXISTS = "RESOURCE_ALREADY_EXISTS"
PROMPT_CLAUSE = "tag.`mlflow.prompt.is_prompt` != 'true'"


def _events_url(prefix: str) -> str:
    return prefix.replace("/mlflow", "/trackline") + "/registry/events"


def _run_with_model(api: Api) -> tuple[str, str]:
    """A run and the source URI of a model folder inside its artifacts."""
    run_id = api.run()
    artifact_uri = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["info"]["artifact_uri"]
    return run_id, f"{artifact_uri}/model"


def _model(api: Api, name: str = "m", **fields: Any) -> dict[str, Any]:
    model: dict[str, Any] = api.ok("POST", "registered-models/create", {"name": name, **fields})[
        "registered_model"
    ]
    return model


def _version(api: Api, name: str, run_id: str, source: str, **fields: Any) -> dict[str, Any]:
    body = {"name": name, "source": source, "run_id": run_id, **fields}
    version: dict[str, Any] = api.ok("POST", "model-versions/create", body)["model_version"]
    return version


def _state(api: Api, name: str) -> tuple[Any, Any, Any]:
    """What a failed call must leave unchanged: the model, its versions, the audit trail."""
    model = api.ok("GET", "registered-models/get", {"name": name})
    versions = api.ok("GET", "model-versions/search", {"filter": f"name = '{name}'"})
    events = api.client.get(_events_url(api.prefix)).json()
    return model, versions, events


# -- shapes ----------------------------------------------------------------------------------


def test_registered_model_and_version_shapes(api: Api) -> None:
    run_id, source = _run_with_model(api)
    created = _model(api, tags=[{"key": "team", "value": "a"}], description="first")
    assert created["name"] == "m"
    assert created["description"] == "first"
    assert created["tags"] == [{"key": "team", "value": "a"}]
    assert isinstance(created["creation_timestamp"], int)
    assert "latest_versions" not in created
    assert "aliases" not in created

    version = _version(api, "m", run_id, source, tags=[{"key": "k", "value": "v"}])
    assert version["version"] == "1"  # a string of digits
    assert version["current_stage"] == "None"
    assert version["status"] == "READY"
    assert version["run_id"] == run_id
    assert version["source"] == source
    assert version["tags"] == [{"key": "k", "value": "v"}]
    assert isinstance(version["creation_timestamp"], int)
    assert "aliases" not in version

    api.ok("POST", "registered-models/alias", {"name": "m", "alias": "champion", "version": "1"})
    model = api.ok("GET", "registered-models/get", {"name": "m"})["registered_model"]
    assert model["aliases"] == [{"alias": "champion", "version": "1"}]
    assert [v["version"] for v in model["latest_versions"]] == ["1"]
    got = api.ok("GET", "model-versions/get", {"name": "m", "version": "1"})["model_version"]
    assert got["aliases"] == ["champion"]
    by_alias = api.ok("GET", "registered-models/alias", {"name": "m", "alias": "champion"})
    assert by_alias["model_version"]["version"] == "1"
    uri = api.ok("GET", "model-versions/get-download-uri", {"name": "m", "version": "1"})
    assert uri == {"artifact_uri": source}


def test_versions_accept_numbers_and_count_up(api: Api) -> None:
    run_id, source = _run_with_model(api)
    _model(api)
    assert [_version(api, "m", run_id, source)["version"] for _ in range(3)] == ["1", "2", "3"]
    got = api.ok("GET", "model-versions/get", {"name": "m", "version": 2})  # a JSON number
    assert got["model_version"]["version"] == "2"


def test_stages_latest_versions_get_and_post(api: Api) -> None:
    run_id, source = _run_with_model(api)
    _model(api)
    for _ in range(3):
        _version(api, "m", run_id, source)
    body = {"name": "m", "version": "1", "stage": "staging", "archive_existing_versions": False}
    moved = api.ok("POST", "model-versions/transition-stage", body)["model_version"]
    assert moved["current_stage"] == "Staging"
    body = {"name": "m", "version": "2", "stage": "Staging", "archive_existing_versions": True}
    api.ok("POST", "model-versions/transition-stage", body)
    body = {"name": "m", "version": "3", "stage": "Production", "archive_existing_versions": False}
    api.ok("POST", "model-versions/transition-stage", body)
    first = api.ok("GET", "model-versions/get", {"name": "m", "version": "1"})["model_version"]
    assert first["current_stage"] == "Archived"

    posted = api.ok("POST", "registered-models/get-latest-versions",
                    {"name": "m", "stages": ["Production"]})  # fmt: skip
    assert [v["version"] for v in posted["model_versions"]] == ["3"]
    got = api.request("GET", "registered-models/get-latest-versions",
                      [("name", "m"), ("stages", "staging"), ("stages", "Archived")])  # fmt: skip
    assert got.status_code == 200, got.text
    by_stage = {v["current_stage"]: v["version"] for v in got.json()["model_versions"]}
    assert by_stage == {"Staging": "2", "Archived": "1"}
    every = api.ok("POST", "registered-models/get-latest-versions", {"name": "m"})
    assert {v["version"] for v in every["model_versions"]} == {"1", "2", "3"}


def test_search_with_the_prompt_clause_and_paging(api: Api) -> None:
    for name in ("b", "a", "c"):
        _model(api, name)
    _model(api, "prompt", tags=[{"key": "mlflow.prompt.is_prompt", "value": "true"}])
    found = api.ok("GET", "registered-models/search",
                   {"filter": f"name LIKE '%' AND {PROMPT_CLAUSE}", "max_results": 2})  # fmt: skip
    assert [m["name"] for m in found["registered_models"]] == ["a", "b"]
    rest = api.ok("GET", "registered-models/search",
                  {"filter": f"name LIKE '%' AND {PROMPT_CLAUSE}", "max_results": 2,
                   "page_token": found["next_page_token"]})  # fmt: skip
    assert [m["name"] for m in rest["registered_models"]] == ["c"]
    assert "next_page_token" not in rest
    ordered = api.request("GET", "registered-models/search",
                          [("order_by", "name DESC"), ("filter", PROMPT_CLAUSE)])  # fmt: skip
    assert [m["name"] for m in ordered.json()["registered_models"]] == ["c", "b", "a"]
    assert api.ok("GET", "registered-models/search", {"filter": "name = 'zzz'"}) == {}


def test_search_model_versions(api: Api) -> None:
    run_id, source = _run_with_model(api)
    _model(api, "m")
    _model(api, "n")
    _version(api, "m", run_id, source)
    _version(api, "m", run_id, source)
    _version(api, "n", run_id, source)
    found = api.ok("GET", "model-versions/search",
                   {"filter": "name = 'm'", "order_by": "version_number DESC"})  # fmt: skip
    assert [v["version"] for v in found["model_versions"]] == ["2", "1"]
    by_run = api.ok("GET", "model-versions/search", {"filter": f"run_id = '{run_id}'"})
    assert len(by_run["model_versions"]) == 3


def test_tags_descriptions_rename_and_deletes(api: Api) -> None:
    run_id, source = _run_with_model(api)
    _model(api)
    _version(api, "m", run_id, source)
    api.ok("POST", "registered-models/set-tag", {"name": "m", "key": "k", "value": "v"})
    api.ok(
        "POST", "model-versions/set-tag", {"name": "m", "version": "1", "key": "a", "value": "b"}
    )
    updated = api.ok("PATCH", "registered-models/update", {"name": "m", "description": "d"})
    assert updated["registered_model"]["description"] == "d"
    described = api.ok("PATCH", "model-versions/update",
                       {"name": "m", "version": "1", "description": "v1"})  # fmt: skip
    assert described["model_version"]["description"] == "v1"
    api.ok("DELETE", "registered-models/delete-tag", {"name": "m", "key": "k"})
    api.ok("DELETE", "model-versions/delete-tag", {"name": "m", "version": "1", "key": "a"})
    model = api.ok("GET", "registered-models/get", {"name": "m"})["registered_model"]
    assert "tags" not in model
    renamed = api.ok("POST", "registered-models/rename", {"name": "m", "new_name": "m2"})
    assert renamed["registered_model"]["name"] == "m2"
    assert api.ok("GET", "model-versions/get", {"name": "m2", "version": "1"})
    api.fail("GET", "registered-models/get", {"name": "m"}, 404, MISSING)
    api.ok("POST", "registered-models/alias", {"name": "m2", "alias": "a1", "version": "1"})
    api.ok("DELETE", "registered-models/alias", {"name": "m2", "alias": "a1"})
    api.fail("GET", "registered-models/alias", {"name": "m2", "alias": "a1"}, 400, INVALID)
    api.ok("DELETE", "model-versions/delete", {"name": "m2", "version": "1"})
    api.fail("GET", "model-versions/get", {"name": "m2", "version": "1"}, 404, MISSING)
    api.ok("DELETE", "registered-models/delete", {"name": "m2"})
    api.fail("GET", "registered-models/get", {"name": "m2"}, 404, MISSING)


# -- the audit trail -------------------------------------------------------------------------


def test_audit_trail_records_who_and_what_in_order(api: Api) -> None:
    run_id, source = _run_with_model(api)
    alice = {"Authorization": "Basic " + base64.b64encode(b"alice:secret").decode()}
    api.ok("POST", "registered-models/create", {"name": "m"}, headers=alice)
    _version(api, "m", run_id, source)
    body = {"name": "m", "version": "1", "stage": "Production", "archive_existing_versions": False}
    api.ok("POST", "model-versions/transition-stage", body, headers=alice)
    api.ok("POST", "registered-models/alias", {"name": "m", "alias": "champion", "version": "1"},
           headers=alice)  # fmt: skip

    answer = api.client.get(_events_url(api.prefix), params={"name": "m"})
    assert answer.status_code == 200, answer.text
    events = answer.json()["events"]
    assert [e["action"] for e in events] == [
        "create_registered_model",
        "create_model_version",
        "transition_model_version_stage",
        "set_registered_model_alias",
    ]
    assert [e.get("user_id") for e in events] == ["alice", None, "alice", "alice"]
    stage = events[2]
    assert (stage["version"], stage["old_value"], stage["new_value"]) == ("1", "None", "Production")
    assert events[3]["key"] == "champion"
    assert events[3]["new_value"] == "1"
    ids = [e["event_id"] for e in events]
    assert ids == sorted(ids)
    assert all(isinstance(e["timestamp"], int) for e in events)

    one = api.client.get(_events_url(api.prefix), params={"name": "m", "version": "1"}).json()
    assert [e["action"] for e in one["events"]] == [
        "create_model_version",
        "transition_model_version_stage",
    ]
    page = api.client.get(_events_url(api.prefix), params={"name": "m", "max_results": 3}).json()
    assert len(page["events"]) == 3
    assert page["next_page_token"]
    empty = api.client.get(_events_url(api.prefix), params={"name": "nothing"}).json()
    assert empty == {"events": []}


def test_events_endpoint_is_in_the_openapi_document(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for prefix in ("/api/2.0/trackline", "/ajax-api/2.0/trackline"):
        operation = paths[f"{prefix}/registry/events"]["get"]
        assert {p["name"] for p in operation["parameters"]} >= {"name", "version", "max_results"}
    assert "post" in paths["/api/2.0/mlflow/registered-models/get-latest-versions"]
    assert set(paths["/api/2.0/mlflow/registered-models/alias"]) == {"get", "post", "delete"}


# -- sources ---------------------------------------------------------------------------------


def test_this_servers_artifact_urls_become_mlflow_artifacts_uris(
    sqlite_uri: str, tmp_path: Any
) -> None:
    from anyio.from_thread import start_blocking_portal
    from tests.asgi import SyncASGITransport

    from trackline.server import create_app

    app = create_app(sqlite_uri, artifacts_destination=str(tmp_path / "mlartifacts"))
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        transport = SyncASGITransport(app, portal)
        with lifespan, httpx.Client(transport=transport, base_url="http://127.0.0.1") as http:
            api = Api(http, "/api/2.0/mlflow")
            run_id = api.run()
            info = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["info"]
            assert info["artifact_uri"].startswith("mlflow-artifacts:/")
            path = info["artifact_uri"][len("mlflow-artifacts:") :]
            url = f"http://127.0.0.1/api/2.0/mlflow-artifacts/artifacts{path}/model"
            _model(api)
            version = _version(api, "m", run_id, url)
            assert version["source"] == f"{info['artifact_uri']}/model"
            other = f"http://169.254.169.254/api/2.0/mlflow-artifacts/artifacts{path}/model"
            body = {"name": "m", "source": other, "run_id": run_id}
            api.fail("POST", "model-versions/create", body, 400, INVALID)


@pytest.mark.parametrize(
    "source",
    [
        "file:///etc/passwd",
        "/etc/passwd",
        "http://169.254.169.254/latest/meta-data",
        "{root}/../../../etc",
        "{root}/%2e%2e/%2e%2e/secret",
        "{root}/model\x00.txt",
    ],
)
def test_sources_outside_the_artifact_stores_are_refused(api: Api, source: str) -> None:
    run_id, model_source = _run_with_model(api)
    _model(api)
    source = source.format(root=model_source.rsplit("/", 1)[0])
    before = _state(api, "m")
    body = {"name": "m", "source": source, "run_id": run_id}
    api.fail("POST", "model-versions/create", body, 400, INVALID)
    assert _state(api, "m") == before


# -- bad input: the right 4xx, nothing changed ----------------------------------------------


def test_bad_requests_get_the_right_code_and_change_nothing(api: Api) -> None:
    run_id, source = _run_with_model(api)
    _model(api)
    _version(api, "m", run_id, source)
    before = _state(api, "m")
    bad: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("POST", "registered-models/create", {"name": "m"}, 400, EXISTS),
        ("POST", "registered-models/create", {}, 400, INVALID),
        ("POST", "registered-models/create", {"name": "a/b"}, 400, INVALID),
        ("GET", "registered-models/get", {"name": "nope"}, 404, MISSING),
        ("GET", "registered-models/get", {}, 400, INVALID),
        ("POST", "registered-models/rename", {"name": "m"}, 400, INVALID),
        ("POST", "registered-models/rename", {"name": "nope", "new_name": "x"}, 404, MISSING),
        ("GET", "model-versions/get", {"name": "m", "version": "abc"}, 400, INVALID),
        ("GET", "model-versions/get", {"name": "m", "version": "99"}, 404, MISSING),
        ("GET", "model-versions/get", {"name": "m"}, 400, INVALID),
        ("POST", "model-versions/create", {"name": "nope", "source": source, "run_id": run_id},
         404, MISSING),
        ("POST", "model-versions/create", {"name": "m"}, 400, INVALID),
        ("POST", "model-versions/transition-stage",
         {"name": "m", "version": "1", "stage": "Prod", "archive_existing_versions": False},
         400, INVALID),
        ("POST", "model-versions/transition-stage",
         {"name": "m", "version": "1", "stage": "Archived", "archive_existing_versions": True},
         400, INVALID),
        ("POST", "model-versions/transition-stage",
         {"name": "m", "version": "1", "stage": "Staging"}, 400, INVALID),
        ("POST", "model-versions/transition-stage",
         {"name": "m", "version": "7", "stage": "Staging", "archive_existing_versions": False},
         404, MISSING),
        ("POST", "model-versions/transition-stage",
         {"name": "m", "version": "1", "stage": "Staging", "archive_existing_versions": "yes"},
         400, INVALID),
        ("POST", "registered-models/alias", {"name": "m", "alias": "a", "version": "9"},
         404, MISSING),
        ("POST", "registered-models/alias", {"name": "m", "alias": "latest", "version": "1"},
         400, INVALID),
        ("POST", "registered-models/alias", {"name": "m", "alias": "v3", "version": "1"},
         400, INVALID),
        ("POST", "registered-models/alias", {"name": "m", "alias": "a"}, 400, INVALID),
        ("GET", "registered-models/alias", {"name": "m", "alias": "nope"}, 400, INVALID),
        ("POST", "registered-models/get-latest-versions", {"name": "m", "stages": ["Prod"]},
         400, INVALID),
        ("POST", "registered-models/get-latest-versions", {"name": "nope"}, 404, MISSING),
        ("DELETE", "registered-models/delete-tag", {"name": "m", "key": "nope"}, 404, MISSING),
        ("DELETE", "model-versions/delete-tag", {"name": "m", "version": "1", "key": "nope"},
         404, MISSING),
        ("POST", "model-versions/set-tag", {"name": "m", "version": "x", "key": "k",
                                            "value": "v"}, 400, INVALID),
        ("DELETE", "model-versions/delete", {"name": "m", "version": "5"}, 404, MISSING),
        ("GET", "registered-models/search", {"max_results": 1001}, 400, INVALID),
        ("GET", "registered-models/search", {"filter": "name ==="}, 400, INVALID),
        ("GET", "registered-models/search", {"page_token": "garbage"}, 400, INVALID),
        ("GET", "model-versions/search", {"filter": "current_stage = 'x'"}, 400, INVALID),
        ("GET", "model-versions/search", {"order_by": "nope DESC"}, 400, INVALID),
    ]  # fmt: skip
    for method, path, body, status, code in bad:
        check_error(api.request(method, path, body), status, code)
    assert _state(api, "m") == before
    events = api.client.get(_events_url(api.prefix), params={"version": "x", "name": "m"})
    check_error(events, 400, INVALID)


def test_malformed_bodies_are_400(api: Api) -> None:
    url = f"{api.prefix}/registered-models/create"
    check_error(api.client.post(url, content=b"{"), 400, INVALID)
    no_type = api.client.post(url, content=b'{"name": "m"}', headers={"content-type": ""})
    check_error(no_type, 400, INVALID)
    check_error(api.client.post(url, json=["m"]), 400, INVALID)
    check_error(api.client.post(url, json={"name": 5.5}), 400, INVALID)
    api.fail("GET", "registered-models/get", {"name": "m"}, 404, MISSING)  # nothing created
