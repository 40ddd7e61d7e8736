"""``MlflowClient``'s logged-model methods (MLflow 3's names and arguments), embedded and
through a trackline server."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.models.conftest import backend  # noqa: F401 - fixture, used by name

import trackline as mlflow
from trackline.entities import LoggedModelOutput, LoggedModelStatus
from trackline.exceptions import MlflowException


@pytest.mark.parametrize("backend", ["sqlite", "server"], indirect=True)
def test_a_logged_model_from_creation_to_deletion(backend: str, tmp_path: Path) -> None:  # noqa: F811
    client = mlflow.MlflowClient()
    experiment_id = client.create_experiment("logged-models")
    run_id = client.create_run(experiment_id).info.run_id

    model = client.create_logged_model(
        experiment_id,
        name="clf",
        source_run_id=run_id,
        tags={"team": "ml"},
        params={"alpha": 0.5},
        model_type="classifier",
    )
    assert model.model_id.startswith("m-")
    assert (model.name, model.status, model.source_run_id) == (
        "clf",
        LoggedModelStatus.PENDING,
        run_id,
    )
    assert model.params == {"alpha": "0.5"}
    assert model.tags["team"] == "ml"
    assert model.model_type == "classifier"

    client.log_outputs(run_id, [LoggedModelOutput(model.model_id, 3)])
    assert client.get_run(run_id).outputs.model_outputs == [LoggedModelOutput(model.model_id, 3)]

    (tmp_path / "weights.txt").write_text("w")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    client.log_model_artifact(model.model_id, tmp_path / "weights.txt")
    client.log_model_artifacts(model.model_id, folder, "sub")
    assert {f.path for f in client.list_logged_model_artifacts(model.model_id)} == {
        "weights.txt",
        "sub",
    }
    assert [f.path for f in client.list_logged_model_artifacts(model.model_id, "sub")] == [
        "sub/MLmodel"
    ]

    ready = client.finalize_logged_model(model.model_id, "READY")
    assert ready.status == LoggedModelStatus.READY
    client.set_logged_model_tags(model.model_id, {"stage": 1})
    assert client.get_logged_model(model.model_id).tags["stage"] == "1"
    client.delete_logged_model_tag(model.model_id, "stage")
    assert "stage" not in client.get_logged_model(model.model_id).tags

    found = client.search_logged_models([experiment_id], filter_string="name = 'clf'")
    assert [m.model_id for m in found] == [model.model_id]
    assert [m.model_id for m in client.search_logged_models(experiment_id)] == [model.model_id]
    assert client.search_logged_models([experiment_id], filter_string="name = 'x'") == []

    client.delete_logged_model(model.model_id)
    with pytest.raises(MlflowException) as missing:
        client.get_logged_model(model.model_id)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_logged_model(model.model_id, allow_deleted=True).name == "clf"


def test_bad_arguments_get_invalid_parameter_value(sqlite_uri: str) -> None:
    client = mlflow.MlflowClient(sqlite_uri)
    model = client.create_logged_model("0")
    assert model.name  # a generated one
    for call in (
        lambda: client.finalize_logged_model(model.model_id, "DONE"),
        lambda: client.get_logged_model(""),
        lambda: client.set_logged_model_tags("  ", {"a": 1}),
    ):
        with pytest.raises(MlflowException) as bad:
            call()
        assert bad.value.error_code == "INVALID_PARAMETER_VALUE"
    failed = client.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED)
    assert failed.status == LoggedModelStatus.FAILED
