"""The UI's state-changing calls: what they do, and that only the server's own pages may
send them (same origin, JSON)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.ui.seed import Seeded

Client = tuple[httpx.Client, Seeded]
SAME = {"Origin": "http://127.0.0.1"}


def _post(client: httpx.Client, path: str, body: Any, **headers: str) -> httpx.Response:
    return client.post(f"/ui-api{path}", json=body, headers={**SAME, **headers})


def _ok(client: httpx.Client, path: str, body: Any) -> Any:
    response = _post(client, path, body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},  # another site: refused by the server's check
        {"Origin": "http://localhost:9999"},  # a page on another local port: by the UI's
        {"Origin": "null"},  # a sandboxed frame or a file: page
        {"Origin": "https://127.0.0.1"},  # another scheme
    ],
)
def test_a_cross_origin_post_is_refused(ui_client: Client, headers: dict[str, str]) -> None:
    client, _ = ui_client
    body = {"name": "forged"}
    response = client.post("/ui-api/experiments/create", json=body, headers=headers)
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert client.get("/ui-api/", params={"q": "forged"}).json()["experiments"] == []


def test_a_post_without_origin_needs_a_same_origin_fetch(ui_client: Client) -> None:
    client, _ = ui_client
    bare = client.post("/ui-api/experiments/create", json={"name": "bare"})
    assert bare.status_code == 403
    fetched = client.post(
        "/ui-api/experiments/create", json={"name": "fetched"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )  # fmt: skip
    assert fetched.status_code == 200
    cross = client.post(
        "/ui-api/experiments/create", json={"name": "cross"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )  # fmt: skip
    assert cross.status_code == 403


def test_a_form_post_is_refused(ui_client: Client) -> None:
    client, _ = ui_client
    response = client.post("/ui-api/experiments/create", data={"name": "form"}, headers=SAME)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert client.get("/ui-api/experiments/create").status_code == 400  # no such experiment
    assert client.get("/ui-api/", params={"q": "form"}).json()["experiments"] == []


def test_experiments_are_created_renamed_deleted_and_restored(ui_client: Client) -> None:
    client, _ = ui_client
    created = _ok(client, "/experiments/create", {"name": "made-in-the-ui"})
    experiment_id = created["experiment_id"]
    assert created["url"] == f"/experiments/{experiment_id}"
    _ok(client, f"/experiments/{experiment_id}/rename", {"name": "renamed"})
    _ok(client, f"/experiments/{experiment_id}/description", {"text": "About <this>."})
    data = client.get(f"/ui-api/experiments/{experiment_id}").json()["experiment"]
    assert (data["name"], data["description"]) == ("renamed", "About <this>.")
    _ok(client, f"/experiments/{experiment_id}/delete", {})
    assert "renamed" not in [e["name"] for e in client.get("/ui-api/").json()["experiments"]]
    _ok(client, f"/experiments/{experiment_id}/restore", {})
    assert "renamed" in [e["name"] for e in client.get("/ui-api/").json()["experiments"]]
    taken = _post(client, "/experiments/create", {"name": "renamed"})
    assert taken.status_code == 400
    assert taken.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert _post(client, "/experiments/create", {"name": "  "}).status_code == 400


def test_tags_description_and_name_of_a_run(ui_client: Client) -> None:
    client, seeded = ui_client
    run_id = seeded.artifact_run_id
    _ok(client, f"/runs/{run_id}/tags/set", {"key": "stage", "value": "<i>candidate</i>"})
    _ok(client, f"/runs/{run_id}/description", {"text": "Trained on the diabetes data."})
    _ok(client, f"/runs/{run_id}/rename", {"name": "renamed-run"})
    data = client.get(f"/ui-api/runs/{run_id}").json()
    assert {"key": "stage", "value": "<i>candidate</i>"} in data["tags"]
    assert data["description"] == "Trained on the diabetes data."
    assert data["run"]["name"] == "renamed-run"
    page = client.get(f"/runs/{run_id}").text
    assert "&lt;i&gt;candidate&lt;/i&gt;" in page
    _ok(client, f"/runs/{run_id}/tags/delete", {"key": "stage"})
    _ok(client, f"/runs/{run_id}/description", {"text": ""})
    data = client.get(f"/ui-api/runs/{run_id}").json()
    assert "stage" not in [t["key"] for t in data["tags"]]
    assert data["description"] == ""
    missing = _post(client, f"/runs/{run_id}/tags/delete", {"key": "nope"})
    assert missing.status_code == 404


def test_runs_are_deleted_and_restored_in_bulk(ui_client: Client) -> None:
    client, seeded = ui_client
    path = f"/ui-api/experiments/{seeded.experiment_id}"
    chosen = seeded.run_ids[:3]
    assert _ok(client, "/runs/delete", {"run_ids": chosen}) == {"deleted": 3}
    assert client.get(path).json()["total"] == 48
    deleted = client.get(path, params={"view": "deleted"}).json()
    assert {r["run_id"] for r in deleted["rows"]} == set(chosen)
    assert {r["lifecycle_stage"] for r in deleted["rows"]} == {"deleted"}
    assert _ok(client, "/runs/restore", {"run_ids": chosen}) == {"restored": 3}
    assert client.get(path).json()["total"] == 51
    assert _post(client, "/runs/delete", {"run_ids": []}).status_code == 400
