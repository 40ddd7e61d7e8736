"""TracklineClient (MlflowClient) on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from trackline import MlflowClient, TracklineClient
from trackline.entities import FileInfo, Metric, Param, RunTag, ViewType
from trackline.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)


@pytest.fixture
def client(sqlite_uri: str) -> TracklineClient:
    return MlflowClient(tracking_uri=sqlite_uri)


@pytest.fixture
def experiment_id(client: TracklineClient) -> str:
    return client.create_experiment("exp")


@pytest.fixture
def run_id(client: TracklineClient, experiment_id: str) -> str:
    return client.create_run(experiment_id).info.run_id


def _code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return exc.value.error_code


def test_aliases_and_uris(sqlite_uri: str) -> None:
    import trackline
    from trackline.client import MlflowClient as FromClientModule
    from trackline.tracking import MlflowClient as FromTracking

    assert MlflowClient is TracklineClient is FromTracking is FromClientModule
    client = MlflowClient(sqlite_uri)
    assert client.tracking_uri == sqlite_uri
    assert client._registry_uri == sqlite_uri
    assert MlflowClient(sqlite_uri, registry_uri="sqlite:///r.db")._registry_uri == "sqlite:///r.db"
    assert sqlite_uri in repr(client)
    trackline.set_registry_uri("sqlite:///set.db")
    assert MlflowClient(sqlite_uri)._registry_uri == "sqlite:///set.db"


def test_default_tracking_uri_is_the_process_one(sqlite_uri: str) -> None:
    import trackline

    trackline.set_tracking_uri(sqlite_uri)
    assert MlflowClient().tracking_uri == sqlite_uri


# -- experiments ---------------------------------------------------------------------------
def test_experiment_lifecycle(client: TracklineClient) -> None:
    eid = client.create_experiment("my-cool-experiment", tags={"team": "a", "n": 1})
    experiment = client.get_experiment(eid)
    assert experiment.name == "my-cool-experiment"
    assert experiment.tags == {"team": "a", "n": "1"}
    assert client.get_experiment_by_name("my-cool-experiment") == experiment
    assert client.get_experiment_by_name("nope") is None
    assert {e.name for e in client.list_experiments()} == {"Default", "my-cool-experiment"}

    client.rename_experiment(eid, "renamed")
    client.set_experiment_tag(eid, "k", 2.5)
    client.delete_experiment_tag(eid, "team")
    assert client.get_experiment(eid).tags == {"n": "1", "k": "2.5"}

    client.delete_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "deleted"
    assert [e.name for e in client.list_experiments()] == ["Default"]
    assert [e.name for e in client.list_experiments(ViewType.DELETED_ONLY)] == ["renamed"]
    client.restore_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "active"


def test_duplicate_experiment_name(client: TracklineClient, experiment_id: str) -> None:
    with pytest.raises(MlflowException) as info:
        client.create_experiment("exp")
    assert _code(info) == RESOURCE_ALREADY_EXISTS
    assert [e.experiment_id for e in client.list_experiments() if e.name == "exp"] == [
        experiment_id
    ]


def test_list_and_search_experiments_page(client: TracklineClient) -> None:
    for i in range(5):
        client.create_experiment(f"e{i}")
    page = client.list_experiments(max_results=2)
    assert len(page) == 2
    assert page.token
    assert len(client.list_experiments(max_results=10, page_token=page.token)) == 4
    assert len(client.list_experiments()) == 6
    found = client.search_experiments(filter_string="name LIKE 'e%'", order_by=["name DESC"])
    assert [e.name for e in found] == ["e4", "e3", "e2", "e1", "e0"]


# -- runs ----------------------------------------------------------------------------------
def test_create_run_with_tags_and_name(client: TracklineClient, experiment_id: str) -> None:
    run = client.create_run(
        experiment_id, start_time=1234, tags={"mlflow.user": "ann", "k": 3}, run_name="r1"
    )
    assert run.info.user_id == "ann"
    assert run.info.start_time == 1234
    assert run.info.run_name == "r1"
    assert run.info.status == "RUNNING"
    stored = client.get_run(run.info.run_id)
    assert stored.data.tags["k"] == "3"
    assert stored.data.tags["mlflow.runName"] == "r1"
    assert "mlflow.source.name" not in stored.data.tags  # only start_run adds system tags
    assert client.create_run(experiment_id).info.user_id == "unknown"


def test_update_terminate_delete_restore(client: TracklineClient, run_id: str) -> None:
    client.update_run(run_id, name="new-name")
    assert client.get_run(run_id).info.run_name == "new-name"
    client.update_run(run_id)  # nothing to change
    client.set_terminated(run_id)
    info = client.get_run(run_id).info
    assert info.status == "FINISHED"
    assert info.end_time is not None
    assert info.end_time >= info.start_time
    client.update_run(run_id, status="KILLED")
    client.set_terminated(run_id, "FAILED", end_time=99)
    assert (client.get_run(run_id).info.status, client.get_run(run_id).info.end_time) == (
        "FAILED",
        99,
    )
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"


def test_unknown_run_id(client: TracklineClient) -> None:
    for call in (
        lambda: client.get_run("0" * 32),
        lambda: client.log_param("0" * 32, "a", 1),
        lambda: client.set_terminated("0" * 32),
    ):
        with pytest.raises(MlflowException) as info:
            call()
        assert _code(info) == RESOURCE_DOES_NOT_EXIST


def test_get_parent_run(client: TracklineClient, experiment_id: str, run_id: str) -> None:
    child = client.create_run(experiment_id, tags={"mlflow.parentRunId": run_id})
    parent = client.get_parent_run(child.info.run_id)
    assert parent is not None
    assert parent.info.run_id == run_id
    assert client.get_parent_run(run_id) is None


# -- logging -------------------------------------------------------------------------------
def test_log_param_metric_tag(client: TracklineClient, run_id: str) -> None:
    import numpy as np

    assert client.log_param(run_id, "alpha", 0.1) == 0.1
    assert client.log_param(run_id, "alpha", 0.1) == 0.1  # same value again is fine
    assert client.log_metric(run_id, "rmse", 7, timestamp=10, step=1) is None
    client.log_metric(run_id, "rmse", np.float32(6.5), timestamp=20, step=2)
    client.set_tag(run_id, "developer", "cristian")
    client.set_tag(run_id, "gone", "x")
    client.delete_tag(run_id, "gone")
    data = client.get_run(run_id).data
    assert data.params == {"alpha": "0.1"}
    assert data.metrics == {"rmse": 6.5}
    assert data.tags["developer"] == "cristian"
    assert "gone" not in data.tags
    history = client.get_metric_history(run_id, "rmse")
    assert [(m.value, m.step, m.timestamp) for m in history] == [(7.0, 1, 10), (6.5, 2, 20)]
    assert isinstance(history[0].value, float)


def test_changing_a_param_is_rejected(client: TracklineClient, run_id: str) -> None:
    client.log_param(run_id, "alpha", 0.1)
    with pytest.raises(MlflowException) as info:
        client.log_param(run_id, "alpha", 0.2)
    assert _code(info) == INVALID_PARAMETER_VALUE
    assert client.get_run(run_id).data.params == {"alpha": "0.1"}


def test_invalid_metric_values_are_rejected(client: TracklineClient, run_id: str) -> None:
    for bad in ("7.0", None, True):
        with pytest.raises(MlflowException) as info:
            client.log_metric(run_id, "m", bad)  # type: ignore[arg-type]
        assert _code(info) == INVALID_PARAMETER_VALUE
    assert client.get_run(run_id).data.metrics == {}


def test_log_batch_and_its_limits(client: TracklineClient, run_id: str) -> None:
    client.log_batch(
        run_id,
        metrics=[Metric("m", 1.0, 5, 0)],
        params=[Param("p", 3)],  # type: ignore[arg-type]
        tags=[RunTag("t", "v")],
    )
    data = client.get_run(run_id).data
    assert (data.metrics, data.params, data.tags["t"]) == ({"m": 1.0}, {"p": "3"}, "v")
    oversized = [Metric("big", float(i), i, i) for i in range(1001)]
    with pytest.raises(MlflowException) as info:
        client.log_batch(run_id, metrics=oversized, params=[Param("q", "1")])
    assert _code(info) == INVALID_PARAMETER_VALUE
    assert client.get_metric_history(run_id, "big") == []
    assert "q" not in client.get_run(run_id).data.params


def test_metric_history_reads_every_point(client: TracklineClient, run_id: str) -> None:
    for start in range(0, 30000, 1000):  # more than one of MLflow's 25,000-point pages
        points = [Metric("m", float(i), i, i) for i in range(start, start + 1000)]
        client.log_batch(run_id, metrics=points)
    assert [m.step for m in client.get_metric_history(run_id, "m")] == list(range(30000))


# -- search --------------------------------------------------------------------------------
def test_search_runs_accepts_a_single_id_string(
    client: TracklineClient, experiment_id: str
) -> None:
    ids = {}
    for rmse in (8.0, 5.0, 6.5, 3.0, 6.9, 6.0, 2.0):
        run = client.create_run(experiment_id)
        client.log_metric(run.info.run_id, "rmse", rmse)
        ids[rmse] = run.info.run_id
    runs = client.search_runs(
        experiment_ids=experiment_id,
        filter_string="metrics.rmse < 7",
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=5,
        order_by=["metrics.rmse ASC"],
    )
    assert [r.info.run_id for r in runs] == [ids[v] for v in (2.0, 3.0, 5.0, 6.0, 6.5)]
    assert runs.token is not None
    rest = client.search_runs(
        [experiment_id],
        "metrics.rmse < 7",
        max_results=5,
        order_by=["metrics.rmse ASC"],
        page_token=runs.token,
    )
    assert [r.info.run_id for r in rest] == [ids[6.9]]
    assert rest.token is None
    infos = client.list_run_infos(experiment_id, max_results=3)
    assert len(infos) == 3
    assert infos.token is not None
    assert all(i.experiment_id == experiment_id for i in infos)


def test_malformed_filter(client: TracklineClient, experiment_id: str) -> None:
    with pytest.raises(MlflowException) as info:
        client.search_runs(experiment_id, "metrics.rmse <<< 7 OR")
    assert _code(info) == INVALID_PARAMETER_VALUE


# -- artifacts -----------------------------------------------------------------------------
def test_log_list_download_artifacts(client: TracklineClient, run_id: str, tmp_path: Path) -> None:
    model = tmp_path / "models" / "lin_reg.bin"
    model.parent.mkdir()
    model.write_bytes(b"pickle")
    (tmp_path / "folder" / "inner").mkdir(parents=True)
    (tmp_path / "folder" / "inner" / "x.txt").write_text("x")
    client.log_artifact(run_id, model, artifact_path="models_pickle")
    client.log_artifact(run_id, tmp_path / "folder")  # a folder keeps its name
    client.log_artifacts(run_id, tmp_path / "folder", "copy")
    assert client.list_artifacts(run_id) == [
        FileInfo("copy", True, None),
        FileInfo("folder", True, None),
        FileInfo("models_pickle", True, None),
    ]
    assert client.list_artifacts(run_id, "models_pickle") == [
        FileInfo("models_pickle/lin_reg.bin", False, 6)
    ]
    dst = tmp_path / "dst"
    dst.mkdir()
    local = client.download_artifacts(run_id=run_id, path="models_pickle", dst_path=str(dst))
    assert Path(local) == dst / "models_pickle"
    assert (dst / "models_pickle" / "lin_reg.bin").read_bytes() == b"pickle"
    one = client.download_artifacts(run_id, "folder/inner/x.txt")
    assert Path(one).read_text() == "x"
    # MLflow 3's layout: a nested artifact lands under its own name in dst_path.
    nested = tmp_path / "nested"
    nested.mkdir()
    file_path = client.download_artifacts(run_id, "folder/inner/x.txt", str(nested))
    assert Path(file_path) == nested / "x.txt"
    folder_path = client.download_artifacts(run_id, "folder/inner", str(nested))
    assert Path(folder_path) == nested / "inner"
    assert (nested / "inner" / "x.txt").read_text() == "x"
    artifact_uri = client.get_run(run_id).info.artifact_uri
    assert artifact_uri is not None
    assert artifact_uri.startswith("file://")


def test_text_dict_figure_image(client: TracklineClient, run_id: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from PIL import Image

    client.log_text(run_id, "héllo", "notes/readme.txt")
    client.log_dict(run_id, {"a": [1, 2]}, "cfg/config.json")
    client.log_dict(run_id, {"a": [1, 2]}, "cfg/config.yaml")
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    client.log_figure(run_id, fig, "plots/line.png")
    plt.close(fig)
    client.log_image(run_id, np.zeros((4, 5, 3), dtype=np.uint8), "img/black.png")
    client.log_image(run_id, np.full((2, 2), 0.5), "img/gray.png")
    client.log_image(run_id, Image.new("RGB", (3, 2), "red"), "img/red.png")

    root = Path(client.download_artifacts(run_id, ""))
    assert (root / "notes" / "readme.txt").read_text(encoding="utf-8") == "héllo"
    assert json.loads((root / "cfg" / "config.json").read_text()) == {"a": [1, 2]}
    assert yaml.safe_load((root / "cfg" / "config.yaml").read_text()) == {"a": [1, 2]}
    assert (root / "plots" / "line.png").read_bytes().startswith(b"\x89PNG")
    with Image.open(root / "img" / "black.png") as black:
        assert black.size == (5, 4)
    with Image.open(root / "img" / "gray.png") as gray:
        assert gray.getpixel((0, 0)) == 128
    with Image.open(root / "img" / "red.png") as red:
        assert red.getpixel((0, 0)) == (255, 0, 0)


def test_bad_artifact_files(client: TracklineClient, run_id: str) -> None:
    import numpy as np

    for bad in ("", "../x.txt", "a/../../x.txt"):
        with pytest.raises(MlflowException) as info:
            client.log_text(run_id, "x", bad)
        assert _code(info) == INVALID_PARAMETER_VALUE
    with pytest.raises(MlflowException, match="Float image values"):
        client.log_image(run_id, np.full((2, 2), 2.0), "x.png")
    with pytest.raises(MlflowException, match="shape"):
        client.log_image(run_id, np.zeros((2, 2, 2)), "x.png")
    with pytest.raises(MlflowException, match="artifact_file"):
        client.log_image(run_id, np.zeros((2, 2)), key="k", step=1)
    with pytest.raises(MlflowException, match="figure"):
        client.log_figure(run_id, object(), "x.png")
    assert client.list_artifacts(run_id) == []


# -- asynchronous logging through the client ----------------------------------------------
def test_async_writes_are_visible_to_reads(client: TracklineClient, run_id: str) -> None:
    operations = [
        client.log_metric(run_id, "loss", float(i), timestamp=i, step=i, synchronous=False)
        for i in range(2500)
    ]
    assert all(op is not None for op in operations)
    # No explicit wait: a read through the client sees this process's queued writes.
    assert len(client.get_metric_history(run_id, "loss")) == 2500
    handle = client.log_param(run_id, "p", 1, synchronous=False)
    assert handle is not None
    handle.wait()
    assert client.get_run(run_id).data.params == {"p": "1"}


def test_async_errors_surface_at_wait_and_flush(client: TracklineClient, run_id: str) -> None:
    client.log_param(run_id, "p", "1")
    bad = client.log_param(run_id, "p", "2", synchronous=False)
    good = client.set_tag(run_id, "t", "v", synchronous=False)
    assert good is not None
    assert bad is not None
    good.wait()
    with pytest.raises(MlflowException) as info:
        bad.wait()
    assert _code(info) == INVALID_PARAMETER_VALUE
    client.flush()  # already reported by wait()

    client.log_param(run_id, "p", "3", synchronous=False)
    with pytest.raises(MlflowException):
        client.flush()
    client.flush()  # reported once
    assert client.get_run(run_id).data.tags["t"] == "v"


def test_async_checks_what_it_can_at_once(client: TracklineClient, run_id: str) -> None:
    with pytest.raises(MlflowException) as info:
        client.log_metric(run_id, "m", "not a number", synchronous=False)  # type: ignore[arg-type]
    assert _code(info) == INVALID_PARAMETER_VALUE


def test_environment_turns_on_async_logging(
    client: TracklineClient, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "true")
    handle = client.log_metric(run_id, "m", 1.0)
    assert handle is not None
    handle.wait()
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    assert client.log_metric(run_id, "m", 2.0) is None
    assert client.log_metric(run_id, "m", 3.0, synchronous=False) is not None
