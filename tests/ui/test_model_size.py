"""The runs table's *Model size* column, in process: runs that log real scikit-learn models
with trackline (MLflow 3's logged models), a run with MLflow 2's ``mlflow.log-model.history``
tag and model folder, and a run without a model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from tests.ui.seed import MLMODEL, Seeded

import trackline
from trackline.artifacts.local import local_path_of
from trackline.ui.model_size import HISTORY_TAG

Client = tuple[httpx.Client, Seeded]
COLUMN = "attributes.model_size"


@pytest.fixture
def tracking(ui_client: Client, sqlite_uri: str, log_to: Callable[[str], None]) -> Client:
    """The UI client, with trackline's fluent API logging to the same store."""
    log_to(sqlite_uri)
    return ui_client


def _recorded_size(model_id: str) -> int:
    """The ``model_size_bytes`` in the MLmodel file of a logged model, read from disk."""
    location = trackline.TracklineClient().get_logged_model(model_id).artifact_location
    text = (local_path_of(location) / "MLmodel").read_text()
    size: int = yaml.safe_load(text)["model_size_bytes"]
    return size


def _log_runs(tmp_path: Path) -> dict[str, Any]:
    """Four runs: one model, two models, MLflow 2's layout, no model."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=40)
    linear = LinearRegression().fit(x, y)
    forest = RandomForestRegressor(n_estimators=8, random_state=0).fit(x, y)
    out: dict[str, Any] = {"experiment_id": trackline.set_experiment("model-sizes").experiment_id}
    with trackline.start_run(run_name="one-model") as run:
        info = trackline.sklearn.log_model(linear, name="model")
        out["one"] = (run.info.run_id, _recorded_size(str(info.model_id)))
    with trackline.start_run(run_name="two-models") as run:
        small = trackline.sklearn.log_model(linear, name="linear")
        trusted = ["sklearn.tree._tree.Tree"]
        big = trackline.sklearn.log_model(forest, name="forest", skops_trusted_types=trusted)
        sizes = [_recorded_size(str(small.model_id)), _recorded_size(str(big.model_id))]
        out["two"] = (run.info.run_id, sizes)
    with trackline.start_run(run_name="mlflow-2") as run:
        folder = tmp_path / "model"
        folder.mkdir()
        (folder / "MLmodel").write_text(MLMODEL.format(run_id=run.info.run_id))  # 2048 bytes
        trackline.log_artifacts(str(folder), "model")
        history = [
            {"artifact_path": "model", "run_id": run.info.run_id, "flavors": {}},
            {"artifact_path": "old", "model_size_bytes": 4096},  # recorded by an older client
            {"artifact_path": "../../outside"},  # never read: not a path inside the run
        ]
        trackline.set_tag(HISTORY_TAG, json.dumps(history))
        out["mlflow2"] = run.info.run_id
    with trackline.start_run(run_name="no-model") as run:
        trackline.log_metric("rmse", 1.0)
        out["none"] = run.info.run_id
    return out


def test_the_model_size_column_shows_the_largest_model_of_each_run(
    tracking: Client, tmp_path: Path
) -> None:
    client, _ = tracking
    runs = _log_runs(tmp_path)
    path = f"/experiments/{runs['experiment_id']}"
    response = client.get(f"/ui-api{path}", params={"col": ["attributes.duration", COLUMN]})
    assert response.status_code == 200, response.text
    data = response.json()
    column = next(c for c in data["columns"] if c["id"] == COLUMN)
    assert column["label"] == "Model size"
    assert column["sortable"] is False
    assert COLUMN not in data["links"]["sort"]
    rows = {row["run_id"]: row for row in data["rows"]}

    one_id, one_size = runs["one"]
    assert one_size > 0
    assert rows[one_id]["model_size"] == one_size
    assert (rows[one_id]["model_count"], rows[one_id]["model_total"]) == (1, one_size)

    two_id, two_sizes = runs["two"]
    assert two_sizes[1] > two_sizes[0]  # the forest is the bigger model
    assert rows[two_id]["model_size"] == max(two_sizes)
    assert (rows[two_id]["model_count"], rows[two_id]["model_total"]) == (2, sum(two_sizes))

    old = rows[runs["mlflow2"]]
    assert (old["model_size"], old["model_count"], old["model_total"]) == (4096, 3, 2048 + 4096)

    none = rows[runs["none"]]
    assert (none["model_size"], none["model_count"], none["model_total"]) == (None, 0, None)

    page = client.get(path, params={"col": [COLUMN]}).text
    header = page[page.index(f'data-column="{COLUMN}"') :].split("</th>", 1)[0]
    assert "unsortable" in header
    assert "<a " not in header  # not a sort link
    assert "4.0 KiB" in page  # the MLflow 2 run's largest model


def test_the_model_size_column_is_read_only_when_shown(tracking: Client, tmp_path: Path) -> None:
    client, _ = tracking
    runs = _log_runs(tmp_path)
    path = f"/ui-api/experiments/{runs['experiment_id']}"
    default = client.get(path).json()
    assert COLUMN not in [c["id"] for c in default["columns"]]
    assert "model_size" not in default["rows"][0]
    assert "model_size" in [a["key"] for a in default["available"]["attributes"]]
    refused = client.get(path, params={"sort": COLUMN, "col": [COLUMN]}).json()
    assert refused["rows"] == []
    assert "cannot be sorted by Model size" in refused["error"]["message"]
