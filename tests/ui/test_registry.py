"""The registry's pages in process: their JSON twins, the Register model action, stages,
aliases, tags, descriptions, renames and deletes, each with the audit trail they leave; bad
input answers the right 4xx and changes nothing."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from tests.ui.seed import SCRIPT, Seeded

from trackline.artifacts.local import local_path_of

Client = tuple[httpx.Client, Seeded]
SAME = {"Origin": "http://127.0.0.1"}


def _post(client: httpx.Client, path: str, body: Any, **headers: str) -> httpx.Response:
    return client.post(f"/ui-api{path}", json=body, headers={**SAME, **headers})


def _ok(client: httpx.Client, path: str, body: Any, **headers: str) -> Any:
    response = _post(client, path, body, **headers)
    assert response.status_code == 200, response.text
    return response.json()


def _error(client: httpx.Client, path: str, body: Any, status: int, code: str) -> None:
    response = _post(client, path, body)
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code


def _twin(client: httpx.Client, path: str, **params: Any) -> Any:
    response = client.get(f"/ui-api{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _register(client: httpx.Client, run_id: str, name: str, new: bool, **target: str) -> Any:
    body = {"name": name, "new": new, **(target or {"path": "model"})}
    return _ok(client, f"/runs/{run_id}/register", body)


def _versions(client: httpx.Client, name: str) -> list[str]:
    return [v["version"] for v in _twin(client, f"/models/{name}")["versions"]]


def _actions(audit: dict[str, Any]) -> list[str]:
    return [e["action"] for e in audit["events"]]


# -- registering ---------------------------------------------------------------------------


def test_registering_twice_makes_version_one_then_two(ui_client: Client) -> None:
    client, seeded = ui_client
    run_id = seeded.artifact_run_id
    first = _register(client, run_id, "diabetes", new=True)
    assert (first["name"], first["version"]) == ("diabetes", "1")
    assert first["version_url"] == "/models/diabetes/versions/1"
    second = _register(client, run_id, "diabetes", new=False)
    assert second["version"] == "2"
    assert _versions(client, "diabetes") == ["2", "1"]
    version = _twin(client, "/models/diabetes/versions/1")["version"]
    run = client.get(f"/ui-api/runs/{run_id}").json()["run"]
    assert version["source"] == f"{run['artifact_uri'].rstrip('/')}/model"
    assert (version["run_id"], version["run_url"]) == (run_id, f"/runs/{run_id}")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "m", "new": True, "path": "data"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ({"name": "m", "new": True, "path": "../model"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"name": "m", "new": False, "path": "model"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ({"name": "", "new": True, "path": "model"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"name": "a/b", "new": True, "path": "model"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"name": "m", "new": "yes", "path": "model"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"name": "m", "new": True, "model_id": "m-nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ],
)
def test_bad_registrations_change_nothing(
    ui_client: Client, body: dict[str, Any], status: int, code: str
) -> None:
    client, seeded = ui_client
    _error(client, f"/runs/{seeded.artifact_run_id}/register", body, status, code)
    assert _twin(client, "/models")["models"] == []


def test_registering_into_a_taken_name_as_new_changes_nothing(ui_client: Client) -> None:
    client, seeded = ui_client
    _register(client, seeded.artifact_run_id, "taken", new=True)
    body = {"name": "taken", "new": True, "path": "model"}
    path = f"/runs/{seeded.artifact_run_id}/register"
    _error(client, path, body, 400, "RESOURCE_ALREADY_EXISTS")
    _error(client, "/runs/0123456789abcdef0123456789abcdef/register", body, 404,
           "RESOURCE_DOES_NOT_EXIST")  # fmt: skip
    assert _versions(client, "taken") == ["1"]


def test_a_cross_origin_registration_is_refused(ui_client: Client) -> None:
    client, seeded = ui_client
    body = {"name": "forged", "new": True, "path": "model"}
    path = f"/ui-api/runs/{seeded.artifact_run_id}/register"
    response = client.post(path, json=body, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert _twin(client, "/models")["models"] == []


def test_a_logged_model_of_the_run_is_registered_by_its_id(ui_client: Client) -> None:
    client, seeded = ui_client
    run = client.get(f"/ui-api/runs/{seeded.run_ids[0]}").json()["run"]
    created = client.post(
        "/api/2.0/mlflow/logged-models",
        json={"experiment_id": run["experiment_id"], "name": "net",
              "source_run_id": run["run_id"]},
    )  # fmt: skip
    assert created.status_code == 200, created.text
    model = created.json()["model"]["info"]
    model_id = model["model_id"]
    folder = local_path_of(model["artifact_uri"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
        'signature:\n  inputs: \'[{"type": "long", "name": "x"}]\'\n'
    )
    outputs = client.post(
        "/api/2.0/mlflow/runs/outputs",
        json={"run_id": run["run_id"], "models": [{"model_id": model_id, "step": 0}]},
    )
    assert outputs.status_code == 200, outputs.text
    listed = client.get(f"/ui-api/runs/{run['run_id']}").json()["logged_models"]
    assert [m["model_id"] for m in listed] == [model_id]
    answer = _register(client, run["run_id"], "net-model", new=True, model_id=model_id)
    assert answer["version"] == "1"
    page = _twin(client, "/models/net-model/versions/1")
    assert page["version"]["source"] == f"models:/{model_id}"
    assert page["version"]["model_id"] == model_id
    assert [r["name"] for r in page["signature"]["inputs"]] == ["x"]
    listed = client.get(f"/ui-api/runs/{run['run_id']}").json()["logged_models"]
    assert listed[0]["registered"] == [
        {"name": "net-model", "version": "1", "url": "/models/net-model/versions/1"}
    ]
    # The same model by its name under the run (runs:/<run>/net resolves to it) ...
    again = _register(client, run["run_id"], "net-model", new=False, path="net")
    assert again["version"] == "2"
    # ... but another run's logged model is not this run's to register.
    other = seeded.run_ids[1]
    body = {"name": "net-model", "new": False, "model_id": model_id}
    _error(client, f"/runs/{other}/register", body, 400, "INVALID_PARAMETER_VALUE")
    assert _versions(client, "net-model") == ["2", "1"]


# -- the pages -----------------------------------------------------------------------------


def test_the_models_list_searches_sorts_and_pages(ui_client: Client) -> None:
    client, seeded = ui_client
    for name in ("fraud-a", "fraud_b", "churn"):
        _ok(client, "/models/create", {"name": name, "description": f"About {name}"})
    _register(client, seeded.artifact_run_id, "churn", new=False)
    _ok(client, "/models/fraud-a/tags/set", {"key": "team", "value": "risk"})
    names = [m["name"] for m in _twin(client, "/models")["models"]]
    assert names == ["churn", "fraud-a", "fraud_b"]
    assert [m["name"] for m in _twin(client, "/models", q="FRAUD")["models"]] == [
        "fraud-a",
        "fraud_b",
    ]
    # A fragment's "_" is a character, not a wildcard.
    assert [m["name"] for m in _twin(client, "/models", q="d_b")["models"]] == ["fraud_b"]
    assert [m["name"] for m in _twin(client, "/models", q="tags.team = 'risk'")["models"]] == [
        "fraud-a"
    ]
    backwards = _twin(client, "/models", sort="name", dir="desc")["models"]
    assert [m["name"] for m in backwards] == ["fraud_b", "fraud-a", "churn"]
    newest = _twin(client, "/models", sort="last_updated_timestamp")["models"]
    assert sorted(m["name"] for m in newest) == ["churn", "fraud-a", "fraud_b"]
    churn = next(m for m in newest if m["name"] == "churn")
    assert churn["latest"] == [{"stage": "None", "version": "1",
                                "url": "/models/churn/versions/1"}]  # fmt: skip
    first = _twin(client, "/models", limit=2)
    assert len(first["models"]) == 2
    assert first["has_more"]
    assert first["links"]["next"] == "/models?limit=2&offset=2"
    second = client.get("/ui-api" + first["links"]["next"]).json()
    assert [m["name"] for m in second["models"]] == ["fraud_b"]
    assert not second["has_more"]
    bad = _twin(client, "/models", q="name = ")
    assert bad["models"] == []
    assert "position" in bad["error"]
    for params in ({"sort": "size"}, {"dir": "up"}):
        assert client.get("/ui-api/models", params=params).status_code == 400


def test_the_model_page_shows_versions_aliases_tags_and_its_history(ui_client: Client) -> None:
    client, seeded = ui_client
    for new in (True, False, False):
        _register(client, seeded.artifact_run_id, "diabetes", new=new)
    _ok(client, "/models/diabetes/description", {"text": f"Predicts {SCRIPT}"})
    _ok(client, "/models/diabetes/tags/set", {"key": "owner", "value": SCRIPT})
    _ok(client, "/models/diabetes/aliases/set", {"alias": "champion", "version": "2"})
    page = _twin(client, "/models/diabetes")
    model = page["model"]
    assert model["description"] == f"Predicts {SCRIPT}"
    assert model["tags"] == [{"key": "owner", "value": SCRIPT}]
    assert model["aliases"] == [
        {"alias": "champion", "version": "2", "url": "/models/diabetes/versions/2"}
    ]
    assert [(v["version"], v["aliases"]) for v in page["versions"]] == [
        ("3", []), ("2", ["champion"]), ("1", [])
    ]  # fmt: skip
    assert _actions(page["audit"])[:3] == [
        "set_registered_model_alias",
        "set_registered_model_tag",
        "update_registered_model",
    ]
    assert page["audit"]["total"] == 7  # the model, three versions, three changes
    html = client.get("/models/diabetes")
    assert html.status_code == 200
    assert SCRIPT not in html.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html.text
    assert client.get("/models/nope").status_code == 404
    assert client.get("/ui-api/models/nope").json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_the_version_page_shows_signature_snippets_and_run(ui_client: Client) -> None:
    client, seeded = ui_client
    _register(client, seeded.artifact_run_id, "diabetes", new=True)
    _ok(client, "/models/diabetes/aliases/set", {"alias": "prod", "version": "1"})
    page = _twin(client, "/models/diabetes/versions/1")
    assert page["version"]["stage"] == "None"
    assert page["stages"] == ["Staging", "Production", "Archived"]
    assert [r["name"] for r in page["signature"]["inputs"]] == ["age", "bmi"]
    assert page["load"]["uri"] == "models:/diabetes/1"
    assert page["load"]["alias_uris"] == ["models:/diabetes@prod"]
    code = "\n".join(s["code"] for s in page["load"]["snippets"])
    assert 'logged_model = "models:/diabetes/1"' in code
    assert "mlflow.sklearn.load_model" in code
    assert page["run"]["url"] == f"/runs/{seeded.artifact_run_id}"
    assert page["run"]["name"] == "with-artifacts"
    assert _actions(page["audit"]) == ["set_registered_model_alias", "create_model_version"]
    assert client.get("/models/diabetes/versions/1").status_code == 200
    for bad, status in (("9", 404), ("x", 400)):
        assert client.get(f"/ui-api/models/diabetes/versions/{bad}").status_code == status


# -- stages, aliases, descriptions, tags ---------------------------------------------------


def test_a_transition_with_archive_moves_the_others_and_is_in_the_trail(
    ui_client: Client,
) -> None:
    client, seeded = ui_client
    for new in (True, False):
        _register(client, seeded.artifact_run_id, "diabetes", new=new)
    base = "/models/diabetes/versions"
    _ok(client, f"{base}/1/stage", {"stage": "production"})
    answer = _ok(client, f"{base}/2/stage", {"stage": "Production", "archive_existing": True})
    assert answer == {"stage": "Production"}
    assert _twin(client, f"{base}/1")["version"]["stage"] == "Archived"
    page = _twin(client, f"{base}/2")
    assert page["version"]["stage"] == "Production"
    moves = [e for e in page["audit"]["events"] if e["action"] == "transition_model_version_stage"]
    assert [(e["old_value"], e["new_value"]) for e in moves] == [("None", "Production")]
    trail = _twin(client, "/models/diabetes")["audit"]["events"]
    archived = [e for e in trail if e["action"] == "transition_model_version_stage"]
    assert [(e["version"], e["old_value"], e["new_value"]) for e in archived] == [
        ("2", "None", "Production"),
        ("1", "Production", "Archived"),
        ("1", "None", "Production"),
    ]
    latest = _twin(client, "/models/diabetes")["model"]["latest"]
    assert [(v["stage"], v["version"]) for v in latest] == [("Production", "2"), ("Archived", "1")]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"stage": "Archived", "archive_existing": True}, 400),  # only Staging/Production
        ({"stage": "Shipped"}, 400),
        ({"stage": ""}, 400),
        ({"stage": "Staging", "archive_existing": "yes"}, 400),
    ],
)
def test_bad_transitions_change_nothing(
    ui_client: Client, body: dict[str, Any], status: int
) -> None:
    client, seeded = ui_client
    _register(client, seeded.artifact_run_id, "diabetes", new=True)
    response = _post(client, "/models/diabetes/versions/1/stage", body)
    assert response.status_code == status, response.text
    page = _twin(client, "/models/diabetes/versions/1")
    assert page["version"]["stage"] == "None"
    assert _actions(page["audit"]) == ["create_model_version"]


def test_aliases_are_set_moved_and_deleted(ui_client: Client) -> None:
    client, seeded = ui_client
    for new in (True, False):
        _register(client, seeded.artifact_run_id, "diabetes", new=new)
    _ok(client, "/models/diabetes/aliases/set", {"alias": "champion", "version": "1"})
    _ok(client, "/models/diabetes/aliases/set", {"alias": "champion", "version": "2"})
    assert _twin(client, "/models/diabetes/versions/1")["version"]["aliases"] == []
    assert _twin(client, "/models/diabetes/versions/2")["version"]["aliases"] == ["champion"]
    moved = [e for e in _twin(client, "/models/diabetes")["audit"]["events"]
             if e["action"] == "set_registered_model_alias"]  # fmt: skip
    assert [(e["key"], e["old_value"], e["new_value"]) for e in moved] == [
        ("champion", "1", "2"),
        ("champion", None, "1"),
    ]
    for body, status in (
        ({"alias": "latest", "version": "1"}, 400),
        ({"alias": "v3", "version": "1"}, 400),
        ({"alias": "bad alias", "version": "1"}, 400),
        ({"alias": "x", "version": "7"}, 404),
        ({"alias": "x"}, 400),
    ):
        assert _post(client, "/models/diabetes/aliases/set", body).status_code == status, body
    _ok(client, "/models/diabetes/aliases/delete", {"alias": "champion"})
    assert _twin(client, "/models/diabetes")["model"]["aliases"] == []


def test_descriptions_and_tags_of_a_version(ui_client: Client) -> None:
    client, seeded = ui_client
    _register(client, seeded.artifact_run_id, "diabetes", new=True)
    base = "/models/diabetes/versions/1"
    _ok(client, f"{base}/description", {"text": "First try"})
    _ok(client, f"{base}/tags/set", {"key": "validated", "value": "yes"})
    _ok(client, f"{base}/tags/set", {"key": "note", "value": SCRIPT})
    _ok(client, f"{base}/tags/delete", {"key": "validated"})
    version = _twin(client, base)["version"]
    assert version["description"] == "First try"
    assert version["tags"] == [{"key": "note", "value": SCRIPT}]
    assert _post(client, f"{base}/tags/delete", {"key": "absent"}).status_code == 404
    assert _post(client, f"{base}/tags/set", {"key": "", "value": "v"}).status_code == 400
    assert _post(client, f"{base}/description", {"text": 5}).status_code == 400
    _ok(client, f"{base}/description", {"text": ""})
    assert _twin(client, base)["version"]["description"] == ""
    html = client.get(base).text
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html


def test_renaming_and_deleting_a_model(ui_client: Client) -> None:
    client, seeded = ui_client
    _register(client, seeded.artifact_run_id, "diabetes", new=True)
    _ok(client, "/models/create", {"name": "other"})
    _error(client, "/models/diabetes/rename", {"new_name": "other"}, 400,
           "RESOURCE_ALREADY_EXISTS")  # fmt: skip
    renamed = _ok(client, "/models/diabetes/rename", {"new_name": "diabetes v2"})
    assert renamed["url"] == "/models/diabetes%20v2"
    assert _versions(client, "diabetes v2") == ["1"]
    assert next(e["action"] for e in _twin(client, "/models/diabetes v2")["audit"]["events"]) == (
        "rename_registered_model"
    )
    _error(client, "/models/diabetes v2/delete", {"confirm": "diabetes"}, 400,
           "INVALID_PARAMETER_VALUE")  # fmt: skip
    assert _versions(client, "diabetes v2") == ["1"]
    assert _ok(client, "/models/diabetes v2/delete", {"confirm": "diabetes v2"}) == {
        "url": "/models"
    }
    assert [m["name"] for m in _twin(client, "/models")["models"]] == ["other"]
    _error(client, "/models/create", {"name": "other"}, 400, "RESOURCE_ALREADY_EXISTS")


def test_deleting_a_version_needs_its_number(ui_client: Client) -> None:
    client, seeded = ui_client
    for new in (True, False):
        _register(client, seeded.artifact_run_id, "diabetes", new=new)
    base = "/models/diabetes/versions/1"
    _error(client, f"{base}/delete", {"confirm": "2"}, 400, "INVALID_PARAMETER_VALUE")
    assert _ok(client, f"{base}/delete", {"confirm": "1"}) == {"url": "/models/diabetes"}
    assert _versions(client, "diabetes") == ["2"]
    assert _register(client, seeded.artifact_run_id, "diabetes", new=False)["version"] == "3"


def test_the_author_of_a_change_is_the_basic_auth_user(ui_client: Client) -> None:
    client, seeded = ui_client
    _register(client, seeded.artifact_run_id, "diabetes", new=True)
    credentials = base64.b64encode(b"ana:secret").decode()
    _ok(client, "/models/diabetes/description", {"text": "by ana"},
        Authorization=f"Basic {credentials}")  # fmt: skip
    events = _twin(client, "/models/diabetes")["audit"]["events"]
    assert [(e["action"], e["user_id"]) for e in events][:2] == [
        ("update_registered_model", "ana"),
        ("create_model_version", None),
    ]


def test_the_nav_links_the_models(ui_client: Client) -> None:
    client, _ = ui_client
    html = client.get("/").text
    assert '<a href="/models"' in html
    assert 'class="active">Models' in client.get("/models").text
