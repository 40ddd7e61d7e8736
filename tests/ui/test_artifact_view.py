"""The artifact browser: previews of each kind, MLmodel directories, and no path escapes."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from tests.ui.seed import Seeded

from trackline.artifacts.local import local_path_of
from trackline.ui.artifact_view import MAX_TEXT_BYTES
from trackline.ui.mlmodel import describe_model, snippets

Client = tuple[httpx.Client, Seeded]


def _view(client: httpx.Client, run_id: str, path: str) -> httpx.Response:
    return client.get(f"/ui-api/runs/{run_id}/artifacts", params={"path": path})


def _root(client: httpx.Client, run_id: str) -> Path:
    uri = client.get(f"/ui-api/runs/{run_id}").json()["run"]["artifact_uri"]
    return local_path_of(uri)


def test_each_kind_of_file_has_its_preview(ui_client: Client) -> None:
    client, seeded = ui_client
    run_id = seeded.artifact_run_id
    table = _view(client, run_id, "data/sample.csv").json()["preview"]
    assert table["kind"] == "table"
    assert table["header"] == ["age", "bmi", "target"]
    assert len(table["rows"]) == 3
    config = _view(client, run_id, "config.json").json()["preview"]
    assert config["kind"] == "text"
    assert config["text"].startswith('{\n  "alpha": 0.1')
    assert _view(client, run_id, "params.yaml").json()["preview"]["language"] == "yaml"
    image = _view(client, run_id, "curve.png").json()["preview"]
    assert image == {"kind": "image", "url": f"/get-artifact?run_id={run_id}&path=curve.png"}
    assert client.get(image["url"]).content.startswith(b"\x89PNG")
    binary = _view(client, run_id, "model/model.pkl").json()["preview"]
    assert binary["kind"] == "binary"
    folder = _view(client, run_id, "data").json()
    assert folder["preview"] is None
    assert [f["name"] for f in folder["folder"]["files"]] == ["sample.csv"]
    assert folder["folder"]["parent_url"] == f"/runs/{run_id}/artifacts"


def test_a_large_text_file_is_cut(ui_client: Client) -> None:
    client, seeded = ui_client
    run_id = seeded.artifact_run_id
    (_root(client, run_id) / "big.log").write_text("é" * MAX_TEXT_BYTES)
    preview = _view(client, run_id, "big.log").json()["preview"]
    assert preview["kind"] == "text"
    assert preview["truncated"]
    assert len(preview["text"]) == MAX_TEXT_BYTES // 2


def test_a_model_directory_shows_signature_size_and_code(ui_client: Client) -> None:
    client, seeded = ui_client
    run_id = seeded.artifact_run_id
    model = _view(client, run_id, "model").json()["model"]
    assert model["uri"] == f"runs:/{run_id}/model"
    assert [f["name"] for f in model["flavors"]] == ["python_function", "sklearn"]
    assert model["size"] == 2048
    assert [i["name"] for i in model["inputs"]] == ["age", "bmi"]
    assert model["outputs"][0]["type"] == "tensor float64 [-1]"
    titles = [s["title"] for s in model["snippets"]]
    assert len(titles) == 3
    assert "Spark" in titles[-1]
    assert 'mlflow.set_tracking_uri("http://127.0.0.1")' in model["snippets"][0]["code"]
    # the MLmodel file itself shows the model too; another file of the folder does not
    assert _view(client, run_id, "model/MLmodel").json()["model"] is not None
    assert _view(client, run_id, "model/requirements.txt").json()["model"] is None


@pytest.mark.parametrize(
    "path",
    ["../../etc/passwd", "/etc/passwd", "%2e%2e/secret", "model/../../x", "a\\..\\b", "C:/x"],
)
def test_paths_cannot_escape_the_artifact_root(ui_client: Client, path: str) -> None:
    client, seeded = ui_client
    response = _view(client, seeded.artifact_run_id, path)
    assert response.status_code == 400, path
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    page = client.get(f"/runs/{seeded.artifact_run_id}/artifacts", params={"path": path})
    assert page.status_code == 400


def test_a_symlink_out_of_the_root_is_not_followed(ui_client: Client, tmp_path: Path) -> None:
    client, seeded = ui_client
    run_id = seeded.artifact_run_id
    secret = tmp_path / "secret.txt"
    secret.write_text("do not show")
    os.symlink(secret, _root(client, run_id) / "link.txt")
    names = [f["name"] for f in _view(client, run_id, "").json()["folder"]["files"]]
    assert "link.txt" not in names
    response = _view(client, run_id, "link.txt")
    assert response.status_code == 404
    assert "do not show" not in response.text


def test_a_missing_artifact_is_404(ui_client: Client) -> None:
    client, seeded = ui_client
    response = _view(client, seeded.artifact_run_id, "nope.txt")
    assert response.status_code == 404


def test_mlmodel_files_that_are_not_models() -> None:
    assert describe_model("a: [", None)["error"].startswith("The MLmodel file is not valid YAML")
    assert describe_model("- a list", None)["error"] == "The MLmodel file holds no mapping"
    bare = describe_model("flavors:\n  xgboost:\n    data: model.xgb\n", 99)
    assert bare["error"] is None
    assert bare["size"] == 99
    assert bare["inputs"] == []
    code = snippets(bare, "runs:/r/m", "http://h:5000")
    assert [s["title"] for s in code] == ["Load it in its own flavor (xgboost)"]  # no UDF
    assert "mlflow.xgboost.load_model(logged_model)" in code[0]["code"]
