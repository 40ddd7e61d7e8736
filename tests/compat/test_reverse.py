"""trackline's client against a real ``mlflow server`` (the pinned 3.x release).

``trackline_client`` is ``import trackline`` with its tracking URI set to the MLflow server;
every test writes through trackline's REST store and artifact client and reads the result
back the same way, so each field crosses MLflow's own handlers both ways.
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from trackline.entities import Metric, Param, RunTag, ViewType
from trackline.exceptions import MlflowException

from .conftest import ServerProcess


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_experiments(trackline_client: ModuleType) -> None:
    tl = trackline_client
    client = tl.MlflowClient()
    name = _name("exp")
    experiment_id = client.create_experiment(name, tags={"team": "a"})

    experiment = client.get_experiment(experiment_id)
    assert (experiment.name, experiment.lifecycle_stage) == (name, "active")
    assert experiment.tags["team"] == "a"
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment_id}"
    assert client.get_experiment_by_name(name).experiment_id == experiment_id
    assert client.get_experiment_by_name(_name("missing")) is None
    assert tl.set_experiment(name).experiment_id == experiment_id

    client.set_experiment_tag(experiment_id, "stage", "dev")
    renamed = _name("renamed")
    client.rename_experiment(experiment_id, renamed)
    found = client.search_experiments(filter_string=f"name = '{renamed}'")
    assert [(e.experiment_id, e.tags["stage"]) for e in found] == [(experiment_id, "dev")]
    with pytest.raises(MlflowException) as taken:
        client.create_experiment(renamed)
    assert taken.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_runs_params_metrics_tags_and_batch(trackline_client: ModuleType) -> None:
    tl = trackline_client
    experiment = tl.set_experiment(_name("logging"))
    with tl.start_run(run_name="parent") as parent:
        tl.set_tag("developer", "cristian")
        tl.log_param("alpha", 0.1)
        tl.log_params({"max_depth": 30, "objective": "reg:linear"})
        for step in range(3):
            tl.log_metric("rmse", 10.0 - step, step=step)
        tl.log_metric("nan_metric", float("nan"))
        tl.log_metrics({"mae": 1.5, "r2": 0.25})
        tl.MlflowClient().log_batch(
            parent.info.run_id,
            metrics=[Metric("batch_metric", 7.0, 1_700_000_000_000, 3)],
            params=[Param("batch_param", "b")],
            tags=[RunTag("batch_tag", "t")],
        )
        with tl.start_run(run_name="child", nested=True) as child:
            tl.log_param("inner", 1)

    client = tl.MlflowClient()
    run = client.get_run(parent.info.run_id)
    assert (run.info.status, run.info.run_name, run.info.lifecycle_stage) == (
        "FINISHED",
        "parent",
        "active",
    )
    assert run.info.experiment_id == experiment.experiment_id
    assert run.info.end_time is not None
    assert run.info.end_time >= run.info.start_time
    assert run.data.params == {
        "alpha": "0.1",
        "max_depth": "30",
        "objective": "reg:linear",
        "batch_param": "b",
    }
    assert run.data.metrics["rmse"] == 8.0
    assert math.isnan(run.data.metrics["nan_metric"])
    assert (run.data.metrics["mae"], run.data.metrics["r2"]) == (1.5, 0.25)
    assert run.data.metrics["batch_metric"] == 7.0
    assert run.data.tags["developer"] == "cristian"
    assert run.data.tags["batch_tag"] == "t"
    assert run.data.tags["mlflow.runName"] == "parent"
    assert run.data.tags["mlflow.user"]
    child_run = client.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child_run.data.params == {"inner": "1"}

    history = client.get_metric_history(parent.info.run_id, "rmse")
    assert [(m.step, m.value) for m in history] == [(0, 10.0), (1, 9.0), (2, 8.0)]
    [batch] = client.get_metric_history(parent.info.run_id, "batch_metric")
    assert (batch.value, batch.timestamp, batch.step) == (7.0, 1_700_000_000_000, 3)
    [nan_point] = client.get_metric_history(parent.info.run_id, "nan_metric")
    assert math.isnan(nan_point.value)

    with pytest.raises(MlflowException) as changed:
        client.log_param(parent.info.run_id, "alpha", 0.2)
    assert changed.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_runs_filter_order_and_paging(trackline_client: ModuleType) -> None:
    tl = trackline_client
    experiment = tl.set_experiment(_name("search"))
    ids = {}
    for i, rmse in enumerate([5.0, 3.0, 4.0, 1.0, 2.0]):
        with tl.start_run() as run:
            tl.log_param("model", "xgboost" if i % 2 == 0 else "lasso")
            tl.log_metric("rmse", rmse)
        ids[rmse] = run.info.run_id

    frame = tl.search_runs(
        [experiment.experiment_id],
        filter_string="metrics.rmse < 5 and params.model = 'xgboost'",
        order_by=["metrics.rmse DESC"],
    )
    assert list(frame["run_id"]) == [ids[4.0], ids[2.0]]
    assert list(frame["metrics.rmse"]) == [4.0, 2.0]

    client = tl.MlflowClient()
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = client.search_runs(
            [experiment.experiment_id],
            filter_string="metrics.rmse >= 1",
            order_by=["metrics.rmse ASC"],
            max_results=2,
            page_token=token,
        )
        seen += [r.info.run_id for r in page]
        pages += 1
        token = page.token
        if not token:
            break
    assert pages == 3
    assert seen == [ids[v] for v in (1.0, 2.0, 3.0, 4.0, 5.0)]


def test_failing_run_delete_and_restore(trackline_client: ModuleType) -> None:
    tl = trackline_client
    name = _name("lifecycle")
    experiment = tl.set_experiment(name)
    with pytest.raises(ZeroDivisionError), tl.start_run() as run:
        _ = 1 / 0
    client = tl.MlflowClient()
    assert client.get_run(run.info.run_id).info.status == "FAILED"
    run_id = run.info.run_id

    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([experiment.experiment_id]) == []
    deleted = client.search_runs([experiment.experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [run_id]
    client.restore_run(run_id)
    assert [r.info.run_id for r in client.search_runs([experiment.experiment_id])] == [run_id]

    client.delete_experiment(experiment.experiment_id)
    assert client.get_experiment(experiment.experiment_id).lifecycle_stage == "deleted"
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    gone = client.search_experiments(
        view_type=ViewType.DELETED_ONLY, filter_string=f"name = '{name}'"
    )
    assert [e.experiment_id for e in gone] == [experiment.experiment_id]
    client.restore_experiment(experiment.experiment_id)
    assert client.get_experiment(experiment.experiment_id).lifecycle_stage == "active"
    assert client.get_run(run_id).info.lifecycle_stage == "active"


def test_artifacts_through_mlflow_artifacts(
    trackline_client: ModuleType, mlflow_server: ServerProcess, tmp_path: Path
) -> None:
    tl = trackline_client
    experiment = tl.set_experiment(_name("artifacts"))
    source = tmp_path / "models"
    (source / "nested").mkdir(parents=True)
    (source / "lin_reg.bin").write_bytes(b"\x00pickled model\xff")
    (source / "nested" / "notes.txt").write_text("hello")
    with tl.start_run() as run:
        tl.log_artifact(str(source / "lin_reg.bin"), artifact_path="models_pickle")
        tl.log_artifacts(str(source / "nested"), artifact_path="extra")
        tl.log_text("some text", "texts/a.txt")

    run_id = run.info.run_id
    client = tl.MlflowClient()
    artifact_uri = client.get_run(run_id).info.artifact_uri
    assert artifact_uri == f"mlflow-artifacts:/{experiment.experiment_id}/{run_id}/artifacts"
    stored = mlflow_server.artifacts / experiment.experiment_id / run_id / "artifacts"
    assert (stored / "models_pickle" / "lin_reg.bin").read_bytes() == b"\x00pickled model\xff"
    assert (stored / "extra" / "notes.txt").read_text() == "hello"
    assert (stored / "texts" / "a.txt").read_text() == "some text"

    top = client.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in top] == [
        ("extra", True),
        ("models_pickle", True),
        ("texts", True),
    ]
    [inner] = client.list_artifacts(run_id, "models_pickle")
    assert (inner.path, inner.is_dir, inner.file_size) == ("models_pickle/lin_reg.bin", False, 15)

    dst = tmp_path / "download"
    dst.mkdir()
    folder = Path(client.download_artifacts(run_id, "models_pickle", str(dst)))
    assert (folder / "lin_reg.bin").read_bytes() == b"\x00pickled model\xff"
    single = Path(client.download_artifacts(run_id, "extra/notes.txt", str(dst)))
    assert single.read_text() == "hello"
